//! Hostile suite: where a container can be put and what it can reach through the process state
//! it is started with. A NodeManager-group member names cgroup task files outside YARN's
//! hierarchy (the root cgroup, a root service's cgroup, through a symlink or `/proc`), probes
//! paths under root-only directories with the operator `run`, fills the environment with
//! variables NSS modules and libraries read, keeps a secret in its session keyring, and asks
//! `--mount-cgroups` to mount outside the cgroup root (issue 20, issue 14 items 7, 8, 11).

mod common;
mod hostile_support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use common::{config_text, write_file, ALICE, NM_USER};
use hostile_support::*;

fn banner_skip(test: &str, why: &str) {
    let banner = "!".repeat(100);
    eprintln!("\n{banner}\n!!! SKIPPED {test}: {why} !!!\n{banner}");
    assert!(
        std::env::var_os(common::REQUIRE_ENV).is_none(),
        "{test} could not run here ({why}) but {} is set",
        common::REQUIRE_ENV
    );
}

// ---------------------------------------------------------------------------------------------
// cgroups=
// ---------------------------------------------------------------------------------------------

/// A YARN hierarchy `<base>/<hier>` with one cgroup `good` in it, and a root-owned cgroup beside
/// the hierarchy (a stand-in for a root service's cgroup), on one real cgroup mount below
/// /sys/fs/cgroup (v1 pids/memory, else the v2 one). Removed on drop.
struct Cgroups {
    /// The controller mount (`/sys/fs/cgroup/pids`, `/sys/fs/cgroup/unified` or the v2 root).
    base: PathBuf,
    hier: String,
    good: PathBuf,
    service: PathBuf,
}

impl Cgroups {
    fn new(tag: &str) -> Option<Cgroups> {
        let hier = format!("cexec-hostile-h-{tag}-{}", std::process::id());
        for ctl in ["pids", "memory", "unified", ""] {
            let base = Path::new("/sys/fs/cgroup").join(ctl);
            let base = if ctl.is_empty() {
                Path::new("/sys/fs/cgroup").to_path_buf()
            } else {
                base
            };
            if !base.is_dir() || base.is_symlink() || !base.join("cgroup.procs").exists() {
                continue;
            }
            let h = base.join(&hier);
            let good = h.join("good");
            let service = base.join(format!("cexec-hostile-svc-{tag}-{}", std::process::id()));
            for d in [&good, &h, &service] {
                let _ = fs::remove_dir(d);
            }
            if fs::create_dir(&h).is_ok()
                && fs::create_dir(&good).is_ok()
                && fs::create_dir(&service).is_ok()
                && good.join("cgroup.procs").exists()
            {
                return Some(Cgroups {
                    base,
                    hier,
                    good,
                    service,
                });
            }
            for d in [&good, &h, &service] {
                let _ = fs::remove_dir(d);
            }
        }
        None
    }

    fn procs(dir: &Path) -> String {
        fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default()
    }

    /// The configuration that confines launch to `<root>/<controller>/<hier>` (or, for a pure v2
    /// machine, `<root>/<hier>`).
    fn confine(&self, node: &Node) {
        let mut text = config_text(&[]);
        text.push_str(&format!(
            "[cgroups]\nroot=/sys/fs/cgroup\nyarn-hierarchy={}\n",
            self.hier
        ));
        node.sb.write_config(&text);
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for d in [
            self.good.clone(),
            self.base.join(&self.hier),
            self.service.clone(),
        ] {
            for _ in 0..100 {
                if fs::remove_dir(&d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

const RECORD_CGROUP: &str = "#!/bin/sh\ncat /proc/self/cgroup > cgroup.txt\necho ran > ran.txt\n";

/// Launch with `cgroups=<value>` and require: exit 27, no pid file, no exit-code file, the
/// script never ran, and the good cgroup got no process.
#[track_caller]
fn assert_refused_nothing_started(node: &Node, cg: &Cgroups, value: &str) {
    let c = Container::prepare(node, ALICE, RECORD_CGROUP);
    let mut argv = c.argv(node);
    argv[12] = format!("cgroups={value}");
    let out = node.run_nm(&argv);
    let shown = format!("cgroups={value}: {}", out.describe());
    out.assert_code(27);
    assert!(!c.pid_file.exists(), "pid file written for {shown}");
    assert!(
        !c.exit_code_file().exists(),
        "exit code file written for {shown}"
    );
    assert!(!c.work_dir.join("ran.txt").exists(), "script ran: {shown}");
    assert!(!c.work_dir.exists(), "container dir created: {shown}");
    assert_eq!(Cgroups::procs(&cg.good), "", "a process joined: {shown}");
    assert_eq!(
        Cgroups::procs(&cg.service),
        "",
        "a process joined the service cgroup: {shown}"
    );
}

#[test]
fn attack_cgroups_task_file_outside_the_yarn_hierarchy() {
    let Some(node) = Node::new("h_cg_outside") else {
        return;
    };
    let Some(cg) = Cgroups::new("out") else {
        banner_skip(
            "attack_cgroups_task_file_outside_the_yarn_hierarchy",
            "no writable cgroup filesystem",
        );
        return;
    };
    cg.confine(&node);
    let base = s(&cg.base);
    let hier = cg.base.join(&cg.hier);
    // NM-planted symlinks in its own local dir: to the root cgroup, to the service cgroup, and
    // to the good cgroup itself (the path then is not below the configured root).
    let to_root = node.locals[0].join("cg-root");
    let to_service = node.locals[0].join("cg-service");
    let to_good = node.locals[0].join("cg-good");
    for (at, to) in [
        (&to_root, &cg.base),
        (&to_service, &cg.service),
        (&to_good, &cg.good),
    ] {
        std::os::unix::fs::symlink(to, at).unwrap();
        node.own(at, NM_USER);
    }
    let good = s(&cg.good.join("cgroup.procs"));
    let mut targets = vec![
        // The root cgroup's task lists: out of every limit of the NM's slice.
        format!("{base}/cgroup.procs"),
        // A root-owned cgroup beside YARN's (a service, a login session).
        s(&cg.service.join("cgroup.procs")),
        // YARN's hierarchy itself (not strictly below it).
        s(&hier.join("cgroup.procs")),
        // Lexical escapes.
        format!("{}/../../cgroup.procs", s(&cg.good)),
        format!("{}/./cgroup.procs", s(&cg.good)),
        format!("{good}/"),
        // Through NM-planted symlinks.
        format!("{}/cgroup.procs", s(&to_root)),
        format!("{}/cgroup.procs", s(&to_service)),
        format!("{}/cgroup.procs", s(&to_good)),
        // Through /proc magic links, even to the good cgroup.
        format!("/proc/self/root{base}/cgroup.procs"),
        format!("/proc/1/root{}/cgroup.procs", s(&cg.service)),
        format!("/proc/thread-self/root{good}"),
        format!("/proc/self/cwd{base}/cgroup.procs"),
        // A control file of the good cgroup.
        s(&cg.good.join("cgroup.max.depth")),
        // One good and one bad file: nothing starts, the good one gets nothing.
        format!("{good}%{base}/cgroup.procs"),
    ];
    if cg.base.join("tasks").exists() {
        targets.push(format!("{base}/tasks"));
    }
    for target in &targets {
        assert_refused_nothing_started(&node, &cg, target);
    }
    // The accepted form works: the container runs in the good cgroup.
    let c = Container::prepare(&node, ALICE, RECORD_CGROUP);
    let mut argv = c.argv(&node);
    argv[12] = format!("cgroups=none%{good}");
    let out = node.run_nm(&argv);
    out.assert_code(0);
    let seen = c.probe("cgroup.txt");
    let want = format!("/{}/good", cg.hier);
    assert!(
        seen.lines().any(|l| l.ends_with(&want)),
        "container not in {} (want a line ending {want}):\n{seen}{}",
        cg.good.display(),
        out.describe()
    );
}

/// Run `argv` (the binary's arguments) as the NM inside a private mount namespace after `setup`
/// (shell commands run there as root first).
fn nm_in_mountns(node: &Node, setup: &str, args: &[String]) -> common::Outcome {
    let mut argv = as_user_prefix(NM_USER);
    argv.push(node.sb.bin().into_os_string());
    argv.extend(args.iter().map(OsString::from));
    let script = format!("set -e\n{setup}\nexec {}", sh_words(&argv));
    run_argv(
        &os(&[
            "/usr/bin/unshare",
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
        ]),
        &[],
    )
}

#[test]
fn attack_cgroups_across_a_mount_and_through_a_controller_symlink() {
    // The administrator's root may hold its controller as a symlink to a sibling (v1 `cpu` ->
    // `cpu,cpuacct`): followed once, to that sibling only. Below the controller nothing crosses
    // a mount: a bind mount of a root service's cgroup inside YARN's hierarchy (same device,
    // another mount) is refused.
    let Some(node) = Node::new("h_cg_mounts") else {
        return;
    };
    let Some(cg) = Cgroups::new("mnt") else {
        banner_skip(
            "attack_cgroups_across_a_mount_and_through_a_controller_symlink",
            "no writable cgroup filesystem",
        );
        return;
    };
    let cross = cg.base.join(&cg.hier).join("cross");
    fs::create_dir(&cross).unwrap();
    let cross_guard = CgroupDir(cross.clone());
    // A crossing inside the machine's own hierarchy.
    let mut text = config_text(&[]);
    text.push_str(&format!(
        "[cgroups]\nroot=/sys/fs/cgroup\nyarn-hierarchy={}\n",
        cg.hier
    ));
    node.sb.write_config(&text);
    let c = Container::prepare(&node, ALICE, RECORD_CGROUP);
    let mut argv = c.argv(&node);
    argv[12] = format!("cgroups={}", s(&cross.join("cgroup.procs")));
    let setup = format!("mount --bind {} {}", sq(&s(&cg.service)), sq(&s(&cross)));
    let out = nm_in_mountns(&node, &setup, &argv);
    out.assert_code(27)
        .assert_stderr_has("is another mount than its controller");
    assert!(!c.pid_file.exists(), "{}", out.describe());
    assert!(!c.work_dir.join("ran.txt").exists(), "{}", out.describe());
    assert_eq!(Cgroups::procs(&cg.service), "", "{}", out.describe());
    // A configured root whose controller entry is a symlink to its sibling mount point.
    let root = node.sb.prefix().join("cgroot");
    fs::create_dir_all(root.join("real")).unwrap();
    std::os::unix::fs::symlink("real", root.join("ctl")).unwrap();
    std::os::unix::fs::symlink(&cg.base, root.join("absolute")).unwrap();
    let mut text = config_text(&[]);
    text.push_str(&format!(
        "[cgroups]\nroot={}\nyarn-hierarchy={}\n",
        s(&root),
        cg.hier
    ));
    node.sb.write_config(&text);
    let setup = format!(
        "mount --bind {} {}",
        sq(&s(&cg.base)),
        sq(&s(&root.join("real")))
    );
    let good_via = |ctl: &str| {
        s(&root
            .join(ctl)
            .join(&cg.hier)
            .join("good")
            .join("cgroup.procs"))
    };
    // A symlink to anything but a sibling name is refused.
    let c = Container::prepare(&node, ALICE, RECORD_CGROUP);
    let mut argv = c.argv(&node);
    argv[12] = format!("cgroups={}", good_via("absolute"));
    let out = nm_in_mountns(&node, &setup, &argv);
    out.assert_code(27)
        .assert_stderr_has("Can't open the controller");
    assert!(!c.work_dir.join("ran.txt").exists(), "{}", out.describe());
    // The sibling symlink works: the container lands in the good cgroup.
    let c = Container::prepare(&node, ALICE, RECORD_CGROUP);
    let mut argv = c.argv(&node);
    argv[12] = format!("cgroups={}", good_via("ctl"));
    let out = nm_in_mountns(&node, &setup, &argv);
    out.assert_code(0);
    let seen = c.probe("cgroup.txt");
    let want = format!("/{}/good", cg.hier);
    assert!(
        seen.lines().any(|l| l.ends_with(&want)),
        "container not in the good cgroup (want a line ending {want}):\n{seen}{}",
        out.describe()
    );
    drop(cross_guard);
}

/// A cgroup directory removed (with retries) on drop, before its parent goes.
struct CgroupDir(PathBuf);

impl Drop for CgroupDir {
    fn drop(&mut self) {
        for _ in 0..100 {
            if fs::remove_dir(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn attack_cgroups_without_a_configured_hierarchy() {
    let Some(node) = Node::new("h_cg_unconf") else {
        return;
    };
    let Some(cg) = Cgroups::new("unconf") else {
        banner_skip(
            "attack_cgroups_without_a_configured_hierarchy",
            "no writable cgroup filesystem",
        );
        return;
    };
    // The default configuration has no [cgroups]: every file is refused, even YARN-shaped ones.
    for target in [
        s(&cg.good.join("cgroup.procs")),
        s(&cg.base.join("cgroup.procs")),
    ] {
        assert_refused_nothing_started(&node, &cg, &target);
    }
    // Half a configuration is none.
    let mut text = config_text(&[]);
    text.push_str("[cgroups]\nroot=/sys/fs/cgroup\n");
    node.sb.write_config(&text);
    assert_refused_nothing_started(&node, &cg, &s(&cg.good.join("cgroup.procs")));
    // cgroups=none still launches, and --checksetup --verbose says what launch accepts.
    node.sb.write_config(&config_text(&[]));
    let c = Container::prepare(&node, ALICE, RECORD_CGROUP);
    c.launch(&node).assert_code(0);
    assert_eq!(c.probe("ran.txt"), "ran\n");
    node.sb
        .run_as_nm(&["--checksetup", "--verbose"])
        .assert_stdout_has("launch cgroups= task files")
        .assert_stdout_has("refuses every cgroups= value but 'none'");
}

// ---------------------------------------------------------------------------------------------
// The operator `run` pre-check
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_operator_run_probes_paths_under_a_root_only_dir() {
    let Some(node) = Node::new("h_run_probe") else {
        return;
    };
    let secret = node.sb.prefix().join("root-only");
    fs::create_dir(&secret).unwrap();
    node.sb.chmod(&secret, 0o700);
    let probe = secret.join("probe");
    let script = node.sb.prefix().join("script.sh");
    write_file(&script, "#!/bin/sh\nexit 0\n", 0o755);
    let run = |what: &str| {
        let out = node.sb.run_as_nm(&[
            "run",
            "--user",
            ALICE,
            "--script",
            &s(&script),
            "--local-dir",
            &s(&probe),
            "--log-dir",
            &s(&node.logs[0]),
        ]);
        (what.to_string(), out)
    };
    let mut seen = Vec::new();
    // Nothing there.
    seen.push(run("absent"));
    // A file.
    write_file(&probe, "x", 0o600);
    seen.push(run("a root file"));
    fs::remove_file(&probe).unwrap();
    // A root directory.
    fs::create_dir(&probe).unwrap();
    seen.push(run("a root dir"));
    // A directory the NM owns (which root may see, the NM may not reach).
    node.nm_dir(&probe);
    seen.push(run("an NM dir"));
    let (first, reference) = &seen[0];
    for (what, out) in &seen[1..] {
        assert_eq!(
            (out.code, &out.stdout, &out.stderr),
            (reference.code, &reference.stdout, &reference.stderr),
            "run tells '{first}' from '{what}' under a root-only dir:\n{}\n--- vs ---\n{}",
            reference.describe(),
            out.describe()
        );
    }
    assert_ne!(reference.code, 0, "{}", reference.describe());
}

// ---------------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------------

/// An NSS module (built as `libnss_hesiod.so.2` and bind-mounted over the real one in a private
/// mount namespace, with an nsswitch.conf that consults it after `files`) that, each time the
/// binary looks up a user, a group or a group list, appends to the file named by
/// `CEXEC_NSS_PROBE` in its environment, and records to CALLED that it was consulted at all.
const NSS_PROBE_C: &str = r#"
#define _GNU_SOURCE
#include <nss.h>
#include <pwd.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void note(const char *path, const char *what) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) { if (write(fd, what, strlen(what)) < 0) {} close(fd); }
}
static void probe(const char *what) {
  const char *p = getenv("CEXEC_NSS_PROBE");
  char line[128];
  snprintf(line, sizeof line, "%s by %s ruid=%d euid=%d\n", what, program_invocation_short_name,
           (int)getuid(), (int)geteuid());
  note(CALLED, line);
  if (p) note(p, line);
}
enum nss_status _nss_hesiod_getpwnam_r(const char *n, struct passwd *r, char *b, size_t l, int *e) {
  probe("getpwnam"); *e = ENOENT; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_hesiod_getpwuid_r(uid_t u, struct passwd *r, char *b, size_t l, int *e) {
  probe("getpwuid"); *e = ENOENT; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_hesiod_getgrnam_r(const char *n, struct group *r, char *b, size_t l, int *e) {
  probe("getgrnam"); *e = ENOENT; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_hesiod_getgrgid_r(gid_t g, struct group *r, char *b, size_t l, int *e) {
  probe("getgrgid"); *e = ENOENT; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_hesiod_initgroups_dyn(const char *u, gid_t g, long *start, long *size,
    gid_t **groups, long limit, int *e) {
  probe("initgroups"); *e = ENOENT; return NSS_STATUS_NOTFOUND; }
"#;

/// The real libnss_hesiod.so.2 of this machine (libc6 ships it), if any.
fn hesiod_module() -> Option<PathBuf> {
    [
        "/lib/x86_64-linux-gnu/libnss_hesiod.so.2",
        "/usr/lib/x86_64-linux-gnu/libnss_hesiod.so.2",
        "/lib/aarch64-linux-gnu/libnss_hesiod.so.2",
        "/usr/lib/aarch64-linux-gnu/libnss_hesiod.so.2",
        "/lib64/libnss_hesiod.so.2",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .and_then(|p| fs::canonicalize(p).ok())
}

/// Variables NSS modules, the C library and systemd code read with plain `getenv`, pointed at
/// files under `dir`, plus locale variables.
fn nss_env(dir: &Path) -> Vec<(String, String)> {
    let at = |n: &str| s(&dir.join(n));
    let mut env: Vec<(String, String)> = vec![
        ("CEXEC_NSS_PROBE".into(), at("nss-probe")),
        ("SYSTEMD_LOG_TARGET".into(), "console".into()),
        ("SYSTEMD_LOG_LEVEL".into(), "debug".into()),
        ("SYSTEMD_LOG_LOCATION".into(), "1".into()),
        ("SYSTEMD_BYPASS_USERDB".into(), "cexec_alice".into()),
        ("SYSTEMD_NSS_BYPASS_BUS".into(), "1".into()),
        ("SYSTEMD_NSS_DYNAMIC_BYPASS".into(), "1".into()),
        (
            "SYSTEMD_ONLY_USERDB".into(),
            "io.systemd.Multiplexer".into(),
        ),
        ("SYSTEMD_USERDB_DIRS".into(), at("userdb")),
        ("NSS_WRAPPER_PASSWD".into(), at("passwd")),
        ("NSS_WRAPPER_GROUP".into(), at("group")),
        ("LANG".into(), "de_DE.UTF-8".into()),
        ("LANGUAGE".into(), "de".into()),
        ("LC_ALL".into(), "tr_TR.UTF-8".into()),
        ("LC_MESSAGES".into(), at("messages")),
        ("TZ".into(), at("zoneinfo")),
        ("HOME".into(), at("home")),
    ];
    env.push(("CEXEC_CALLER_ONLY".into(), "leak".into()));
    env
}

#[test]
fn attack_caller_environment_steers_nss_modules_run_as_root() {
    let Some(node) = Node::new("h_env_nss") else {
        return;
    };
    let Some(real) = hesiod_module() else {
        banner_skip(
            "attack_caller_environment_steers_nss_modules_run_as_root",
            "no libnss_hesiod.so.2 to stand in for",
        );
        return;
    };
    let dir = node.sb.prefix().join("nss");
    fs::create_dir(&dir).unwrap();
    node.sb.chmod(&dir, 0o777);
    let called = dir.join("called");
    let module = compile_c(
        &node.sb,
        "libnss_hesiod.so.2",
        NSS_PROBE_C,
        &["-shared", "-fPIC", &format!("-DCALLED=\"{}\"", s(&called))],
    );
    let nsswitch = dir.join("nsswitch.conf");
    let system = fs::read_to_string("/etc/nsswitch.conf").unwrap_or_default();
    let mut text = String::new();
    for line in system.lines() {
        let db = line.split(':').next().unwrap_or("").trim();
        if ["passwd", "group", "initgroups"].contains(&db) {
            text.push_str(&format!("{db}: files hesiod\n"));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    write_file(&nsswitch, &text, 0o644);
    let env = nss_env(&dir);
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\n/usr/bin/env > env.txt\n");
    let mut argv = as_user_env_prefix(
        NM_USER,
        &env.iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    argv.push(node.sb.bin().into_os_string());
    argv.extend(c.argv(&node).into_iter().map(OsString::from));
    let script = format!(
        "mount --bind {} {} && mount --bind {} /etc/nsswitch.conf && exec {}",
        sq(&s(&module)),
        sq(&s(&real)),
        sq(&s(&nsswitch)),
        sh_words(&argv)
    );
    let out = run_argv(
        &os(&[
            "/usr/bin/unshare",
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
        ]),
        &[],
    );
    out.assert_code(0);
    // The module was consulted (as root, by the binary): the test can see a leak.
    let consulted = fs::read_to_string(&called).unwrap_or_default();
    assert!(
        consulted.contains("initgroups by container-executor ruid=0 euid=0"),
        "the probe module was never consulted:\n{consulted}\n{}",
        out.describe()
    );
    let probe = dir.join("nss-probe");
    assert!(
        !probe.exists(),
        "an NSS module running as root read the caller's CEXEC_NSS_PROBE and wrote {}:\n{}",
        probe.display(),
        fs::read_to_string(&probe).unwrap_or_default()
    );
    for (k, _) in &env {
        if k != "CEXEC_NSS_PROBE" {
            assert!(!dir.join(k).exists(), "{k} left a file behind");
        }
    }
    for name in ["userdb", "passwd", "group", "messages", "zoneinfo", "home"] {
        assert!(!dir.join(name).exists(), "something wrote {name}");
    }
    assert!(
        !out.stderr.contains("systemd") && !out.stdout.contains("systemd"),
        "systemd code logged to the caller: {}",
        out.describe()
    );
    // The container saw none of it (item 7).
    let seen = c.probe("env.txt");
    for (k, _) in &env {
        assert!(
            !seen.lines().any(|l| l.starts_with(&format!("{k}="))),
            "the container inherited {k}:\n{seen}"
        );
    }
}

#[test]
fn attack_container_environment_is_only_what_the_script_sets() {
    let Some(node) = Node::new("h_env_empty") else {
        return;
    };
    let env = [
        ("CEXEC_CALLER_ONLY", "leak"),
        ("PATH", "/evil/bin"),
        ("HADOOP_TOKEN_FILE_LOCATION", "/etc/shadow"),
        ("JAVA_HOME", "/evil/java"),
        ("HOME", "/root"),
        ("LANG", "C.UTF-8"),
    ];
    let c = Container::prepare(
        &node,
        ALICE,
        "#!/bin/sh\nexport SET_BY_SCRIPT=yes\n/usr/bin/env > env.txt\n",
    );
    c.launch_env(&node, &env).assert_code(0);
    let seen = c.probe("env.txt");
    for (k, _) in env {
        assert!(
            !seen.lines().any(|l| l.starts_with(&format!("{k}="))),
            "the container inherited {k} from the caller:\n{seen}"
        );
    }
    assert!(seen.contains("SET_BY_SCRIPT=yes"), "{seen}");
    // The localizer keeps the NodeManager's environment (as Hadoop), with PATH for its search.
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(
        ALICE,
        &cid,
        &tokens,
        &["sh", "-c", "/usr/bin/env > localizer-env.txt"],
    );
    let a: Vec<&str> = argv.iter().map(String::as_str).collect();
    let nm_env = [("CEXEC_CALLER_ONLY", "kept"), ("PATH", "/usr/bin:/bin")];
    run_nm_env(&node.sb, &a, &nm_env).assert_code(0);
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    let loc = fs::read_to_string(app.join("localizer-env.txt")).unwrap();
    assert!(loc.contains("CEXEC_CALLER_ONLY=kept"), "{loc}");
    assert!(loc.contains("PATH=/usr/bin:/bin"), "{loc}");
}

// ---------------------------------------------------------------------------------------------
// The session keyring
// ---------------------------------------------------------------------------------------------

fn keyctl() -> Option<&'static str> {
    ["/usr/bin/keyctl", "/bin/keyctl"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Run the binary as the NM from a shell in a new session keyring holding a user key with
/// `secret`; the key's serial is written to `id_file`.
fn with_secret_in_session(
    node: &Node,
    keyctl: &str,
    secret: &str,
    id_file: &Path,
    args: &[String],
) -> common::Outcome {
    let mut bin = vec![node.sb.bin().into_os_string()];
    bin.extend(args.iter().map(OsString::from));
    let inner = format!(
        "{keyctl} add user cexec_secret {} @s > {} && exec {}",
        sq(secret),
        sq(&s(id_file)),
        sh_words(&bin)
    );
    let mut argv = as_user_prefix(NM_USER);
    argv.extend(os(&[keyctl, "session", "-", "/bin/sh", "-c", &inner]));
    run_argv(&argv, &[])
}

#[test]
fn attack_caller_session_keyring_reaches_container_and_localizer() {
    let Some(node) = Node::new("h_keyring") else {
        return;
    };
    let Some(keyctl) = keyctl() else {
        banner_skip(
            "attack_caller_session_keyring_reaches_container_and_localizer",
            "keyctl (keyutils) is not installed",
        );
        return;
    };
    let ids = node.sb.prefix().join("keyids");
    fs::create_dir(&ids).unwrap();
    node.sb.chmod(&ids, 0o777);
    // The trampoline itself can read the key (the test can see a leak).
    let control = run_argv(
        &{
            let mut v = as_user_prefix(NM_USER);
            v.extend(os(&[
                keyctl,
                "session",
                "-",
                "/bin/sh",
                "-c",
                &format!("{keyctl} add user cexec_secret TOPSECRET @s >/dev/null && {keyctl} print %user:cexec_secret"),
            ]));
            v
        },
        &[],
    );
    assert!(
        control.stdout.contains("TOPSECRET"),
        "keyrings do not work here: {}",
        control.describe()
    );
    let reader = format!(
        "{keyctl} print %user:cexec_secret > key.txt 2>&1; {keyctl} print $(cat {}) >> key.txt 2>&1; {keyctl} show @s > session.txt 2>&1; echo ran >> key.txt\n",
        sq(&s(&ids.join("launch")))
    );
    let c = Container::prepare(&node, ALICE, &format!("#!/bin/sh\n{reader}"));
    let out = with_secret_in_session(
        &node,
        keyctl,
        "TOPSECRET-launch",
        &ids.join("launch"),
        &c.argv(&node),
    );
    out.assert_code(0);
    let key = c.probe("key.txt");
    assert!(key.contains("ran"), "{key}");
    assert!(
        !key.contains("TOPSECRET"),
        "the container read the NodeManager's session key:\n{key}\n{}",
        c.probe("session.txt")
    );
    // The localizer.
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let loc_reader = format!(
        "{keyctl} print %user:cexec_secret > key.txt 2>&1; {keyctl} print $(cat {}) >> key.txt 2>&1; echo ran >> key.txt",
        sq(&s(&ids.join("init")))
    );
    let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/sh", "-c", &loc_reader]);
    let out = with_secret_in_session(&node, keyctl, "TOPSECRET-init", &ids.join("init"), &argv);
    out.assert_code(0);
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    let key = fs::read_to_string(app.join("key.txt")).unwrap();
    assert!(key.contains("ran"), "{key}");
    assert!(
        !key.contains("TOPSECRET"),
        "the localizer read the NodeManager's session key:\n{key}"
    );
}

// ---------------------------------------------------------------------------------------------
// --mount-cgroups
// ---------------------------------------------------------------------------------------------

#[test]
fn attack_mount_cgroups_outside_the_default_cgroup_root() {
    let Some(node) = Node::new("h_mcg_root") else {
        return;
    };
    node.sb
        .write_config_with(&[("feature.mount-cgroup.enabled", Some("true"))]);
    let empty = node.sb.prefix().join("empty-mp");
    fs::create_dir(&empty).unwrap();
    let hier = format!("cexec-hostile-mcg-{}", std::process::id());
    for pair in [
        format!("cgroup2={}", s(&empty)),
        format!("cpu={}", s(&empty)),
        "cgroup2=/tmp".to_string(),
    ] {
        let mut argv = as_user_prefix(NM_USER);
        argv.push(node.sb.bin().into_os_string());
        argv.extend(os(&["--mount-cgroups", &hier, &pair]));
        let target = pair.split('=').nth(1).unwrap().to_string();
        let script = format!(
            "{}; rc=$?; echo \"@@fstype=$(findmnt -n -o FSTYPE --mountpoint {} || echo none)\"; exit $rc",
            sh_words(&argv),
            sq(&target)
        );
        let out = run_argv(
            &os(&[
                "/usr/bin/unshare",
                "-m",
                "--propagation",
                "private",
                "/bin/sh",
                "-c",
                &script,
            ]),
            &[],
        );
        assert!(
            out.stdout.contains("@@fstype=none"),
            "{pair} was mounted outside /sys/fs/cgroup: {}",
            out.describe()
        );
        out.assert_code(3);
        assert!(
            out.stderr
                .contains("not below the cgroup root /sys/fs/cgroup")
                || out
                    .stdout
                    .contains("not below the cgroup root /sys/fs/cgroup"),
            "{}",
            out.describe()
        );
    }
    assert!(fs::read_dir(&empty).unwrap().next().is_none());
}
