//! End-to-end: whole container lifecycles played the way YARN's NodeManager plays them
//! (`docs/layout.md` §2–§8, `docs/nodemanager.md` §3.2–3.7): initialize (0) with a localizer, launch (1),
//! signal (2), list (5) and delete (3), against the real setuid binary in a private sandbox with
//! two NM local dirs and two NM log dirs.
//!
//! The NodeManager prepares `<L1>/nmPrivate/<app>/<cid>/` (cexec_nm, 0700) holding the script and
//! tokens (cexec_nm, 0700/0600) and the pid file location; the binary must copy them into the
//! container's work dir as the user.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{is_file, read, write_file, Outcome, Sandbox, ALICE, BOB};

const APP: &str = "application_1700000000000_0001";

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh container id (unique within this test process).
fn fresh_cid() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst) + 2;
    format!("container_1700000000000_0001_01_{n:06}")
}

/// One sandbox with two NM local dirs and two NM log dirs.
struct Node {
    sb: Sandbox,
    locals: Vec<PathBuf>,
    logs: Vec<PathBuf>,
}

impl Node {
    fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let locals = sb.nm_local_dirs(2);
        let logs = sb.nm_log_dirs(2);
        Some(Node { sb, locals, logs })
    }

    fn local_arg(&self) -> String {
        Sandbox::join_dirs(&self.locals)
    }

    fn log_arg(&self) -> String {
        Sandbox::join_dirs(&self.logs)
    }

    fn nm_uid(&self) -> u32 {
        self.sb.users().nm.uid
    }

    fn nm_gid(&self) -> u32 {
        self.sb.users().nm_gid
    }

    fn uid_of(&self, user: &str) -> u32 {
        self.sb.users().get(user).expect("known user").uid
    }

    fn gid_of(&self, user: &str) -> u32 {
        self.sb.users().get(user).expect("known user").gid
    }

    /// `<L>/usercache/<user>/appcache/<app>`.
    fn app_dir(&self, local: &Path, user: &str, app: &str) -> PathBuf {
        local
            .join("usercache")
            .join(user)
            .join("appcache")
            .join(app)
    }

    /// The container work dir on the first local dir.
    fn work_dir(&self, user: &str, app: &str, cid: &str) -> PathBuf {
        self.app_dir(&self.locals[0], user, app).join(cid)
    }

    /// A directory owned by the NM (0700), as the NodeManager makes it.
    fn nm_dir(&self, dir: &Path) {
        if !dir.exists() {
            fs::create_dir(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        }
        self.sb.chown(dir, Some(self.nm_uid()), Some(self.nm_gid()));
        self.sb.chmod(dir, 0o700);
    }

    /// A file owned by the NM with the given mode.
    fn nm_file(&self, path: &Path, content: &str, mode: u32) {
        let _ = fs::remove_file(path);
        write_file(path, content, mode);
        self.sb
            .chown(path, Some(self.nm_uid()), Some(self.nm_gid()));
        self.sb.chmod(path, mode);
    }

    /// `<L1>/nmPrivate/<app>/<cid>`, cexec_nm 0700.
    fn private_dir(&self, app: &str, cid: &str) -> PathBuf {
        let app_dir = self.locals[0].join("nmPrivate").join(app);
        self.nm_dir(&app_dir);
        let dir = app_dir.join(cid);
        self.nm_dir(&dir);
        dir
    }
}

/// What the NodeManager hands one launch.
struct Container {
    user: String,
    app: String,
    cid: String,
    work_dir: PathBuf,
    script: PathBuf,
    tokens: PathBuf,
    pid_file: PathBuf,
}

impl Container {
    /// Prepare nmPrivate files for a launch of `script_text` as `user`.
    fn prepare(node: &Node, user: &str, app: &str, script_text: &str) -> Container {
        let cid = fresh_cid();
        let private = node.private_dir(app, &cid);
        let script = private.join("launch_container.sh");
        node.nm_file(&script, script_text, 0o700);
        let tokens = private.join(format!("{cid}.tokens"));
        node.nm_file(&tokens, &format!("tokens-of-{cid}\n"), 0o600);
        let pid_file = private.join(format!("{cid}.pid"));
        Container {
            user: user.to_string(),
            app: app.to_string(),
            work_dir: node.work_dir(user, app, &cid),
            cid,
            script,
            tokens,
            pid_file,
        }
    }

    fn exit_code_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.exitcode", self.pid_file.display()))
    }

    /// The NodeManager's launch argv (13 words after the program name).
    fn argv(&self, node: &Node, resources: &str) -> Vec<String> {
        vec![
            self.user.clone(),
            self.user.clone(),
            "1".into(),
            self.app.clone(),
            self.cid.clone(),
            self.work_dir.display().to_string(),
            self.script.display().to_string(),
            self.tokens.display().to_string(),
            "--http".into(),
            self.pid_file.display().to_string(),
            node.local_arg(),
            node.log_arg(),
            resources.into(),
        ]
    }

    fn launch(&self, node: &Node) -> Outcome {
        self.launch_with(node, "cgroups=none")
    }

    fn launch_with(&self, node: &Node, resources: &str) -> Outcome {
        let argv = self.argv(node, resources);
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        node.sb.run_as_nm(&args)
    }

    /// Wait for the pid file to appear with a pid in it.
    fn wait_for_pid(&self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(text) = fs::read_to_string(&self.pid_file) {
                if let Ok(pid) = text.parse::<i32>() {
                    return Some(pid);
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn args<'a>(v: &'a [&'a str]) -> Vec<&'a str> {
    v.to_vec()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .mode()
        & 0o7777
}

fn owner(path: &Path) -> (u32, u32) {
    let m = fs::symlink_metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    (m.uid(), m.gid())
}

#[track_caller]
fn assert_dir(path: &Path, uid: u32, gid: u32, expected_mode: u32, what: &str) {
    let m = fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{what}: stat {}: {e}", path.display()));
    assert!(m.is_dir(), "{what}: {} is not a directory", path.display());
    assert_eq!(
        (m.uid(), m.gid()),
        (uid, gid),
        "{what}: owner of {}",
        path.display()
    );
    assert_eq!(
        m.mode() & 0o7777,
        expected_mode,
        "{what}: mode of {} is {:o}, expected {:o}",
        path.display(),
        m.mode() & 0o7777,
        expected_mode
    );
}

/// `key=value` lines of a probe file.
fn probe_value<'a>(probe: &'a str, key: &str) -> &'a str {
    probe
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("probe lacks {key}=…:\n{probe}"))
}

// ------------------------------------------------------------------------------------------
// 1. initialize
// ------------------------------------------------------------------------------------------

#[test]
fn initialize_builds_the_tree_and_runs_the_localizer_as_the_user() {
    let Some(node) = Node::new("life_init") else {
        return;
    };
    let cid = fresh_cid();
    let private = node.private_dir(APP, &cid);
    let tokens = private.join(format!("{cid}.tokens"));
    let token_bytes = "secret-tokens\x01\x02 with bytes\n";
    node.nm_file(&tokens, token_bytes, 0o600);
    let script = format!(
        "PATH=/usr/bin:/bin; {{ echo uid=$(id -u); echo groups=$(id -G); echo cwd=$(pwd); \
         echo umask=$(umask); echo tokens=$(cat {cid}.tokens | head -c 13); }} > localizer.probe"
    );
    let out = node.sb.run_as_nm(&args(&[
        ALICE,
        ALICE,
        "0",
        APP,
        &cid,
        &tokens.display().to_string(),
        &node.local_arg(),
        &node.log_arg(),
        "/bin/sh",
        "-c",
        &script,
    ]));
    out.assert_code(0);

    let alice = node.uid_of(ALICE);
    let hadoop = node.nm_gid();
    for local in &node.locals {
        assert_dir(
            &local.join("usercache").join(ALICE),
            alice,
            hadoop,
            0o2750,
            "user dir",
        );
    }
    for log in &node.logs {
        assert_dir(&log.join(APP), alice, hadoop, 0o2750, "app log dir");
        assert_dir(
            &log.join(APP).join(&cid),
            alice,
            hadoop,
            0o2750,
            "container log dir",
        );
    }
    let app_dir = node.app_dir(&node.locals[0], ALICE, APP);
    let m = mode(&app_dir);
    assert_eq!(m & 0o777, 0o750, "app dir mode {m:o}");
    assert!(m & 0o2000 != 0, "app dir lacks setgid: {m:o}");
    assert_eq!(owner(&app_dir).0, alice, "app dir owner");

    let copy = app_dir.join(format!("{cid}.tokens"));
    assert!(is_file(&copy), "token copy missing{}", out.describe());
    assert_eq!(mode(&copy), 0o600, "token copy mode");
    assert_eq!(owner(&copy).0, alice, "token copy owner");
    assert_eq!(
        fs::read(&copy).unwrap(),
        token_bytes.as_bytes(),
        "token copy bytes"
    );

    let probe_path = app_dir.join("localizer.probe");
    assert!(
        is_file(&probe_path),
        "the localizer did not run in the primary app dir{}",
        out.describe()
    );
    let probe = read(&probe_path);
    assert_eq!(probe_value(&probe, "uid"), alice.to_string(), "{probe}");
    assert_eq!(
        probe_value(&probe, "groups"),
        node.gid_of(ALICE).to_string(),
        "{probe}"
    );
    assert_eq!(
        probe_value(&probe, "cwd"),
        app_dir.display().to_string(),
        "{probe}"
    );
    assert_eq!(probe_value(&probe, "tokens"), "secret-tokens", "{probe}");
}

// ------------------------------------------------------------------------------------------
// 2. launch: the container's view of itself
// ------------------------------------------------------------------------------------------

const PROBE_SCRIPT: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
echo "uid=$(id -u)" > probe.txt
echo "gid=$(id -g)" >> probe.txt
echo "groups=$(id -G)" >> probe.txt
echo "umask=$(umask)" >> probe.txt
echo "cwd=$(pwd)" >> probe.txt
echo "pid=$$" >> probe.txt
cat /proc/$$/stat > stat.txt
grep -E '^(Cap|Uid|Gid|Groups|NoNewPrivs)' /proc/$$/status > status.txt
ls -l /proc/self/fd > fds.txt
exit 42
"#;

#[test]
fn launch_runs_the_script_confined_as_the_user() {
    let Some(node) = Node::new("life_launch") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, APP, PROBE_SCRIPT);
    let out = c.launch(&node);
    out.assert_code(42);

    let exit_text = read(&c.exit_code_file());
    assert_eq!(exit_text, "42", "exit code file");
    let pid_text = read(&c.pid_file);
    assert!(!pid_text.contains('\n'), "pid file has a newline");
    let pid: i32 = pid_text.parse().expect("pid file holds a number");
    // The NodeManager reads and later deletes both files: they are its own.
    for f in [&c.pid_file, &c.exit_code_file()] {
        assert_eq!(
            owner(f).0,
            node.nm_uid(),
            "{} not owned by the NM",
            f.display()
        );
    }
    assert!(
        !PathBuf::from(format!("{}.tmp", c.pid_file.display())).exists(),
        "pid .tmp left behind"
    );

    let wd = &c.work_dir;
    let probe = read(&wd.join("probe.txt"));
    let alice = node.uid_of(ALICE);
    let alice_gid = node.gid_of(ALICE);
    assert_eq!(probe_value(&probe, "pid"), pid.to_string(), "{probe}");
    assert_eq!(probe_value(&probe, "uid"), alice.to_string(), "{probe}");
    assert_eq!(probe_value(&probe, "gid"), alice_gid.to_string(), "{probe}");
    assert_eq!(
        probe_value(&probe, "groups"),
        alice_gid.to_string(),
        "{probe}"
    );
    assert_eq!(probe_value(&probe, "umask"), "0027", "{probe}");
    assert_eq!(
        probe_value(&probe, "cwd"),
        wd.display().to_string(),
        "{probe}"
    );

    // /proc/<pid>/stat: "pid (comm) state ppid pgrp session ..."
    let stat = read(&wd.join("stat.txt"));
    let rest = &stat[stat.rfind(')').expect("stat has comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!(fields[2], pid.to_string(), "pgid != pid: {stat}");
    assert_eq!(fields[3], pid.to_string(), "sid != pid: {stat}");

    let status = read(&wd.join("status.txt"));
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{cap}:")))
            .unwrap_or_else(|| panic!("no {cap} in {status}"));
        let value = line.split_whitespace().nth(1).unwrap();
        assert!(
            value.chars().all(|c| c == '0'),
            "{cap} not empty: {line}\n{status}"
        );
    }
    let ids = |key: &str| -> Vec<String> {
        status
            .lines()
            .find(|l| l.starts_with(&format!("{key}:")))
            .unwrap_or_else(|| panic!("no {key} in {status}"))
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(ids("Uid"), vec![alice.to_string(); 4], "{status}");
    assert_eq!(ids("Gid"), vec![alice_gid.to_string(); 4], "{status}");
    assert_eq!(ids("Groups"), vec![alice_gid.to_string()], "{status}");

    // Only 0, 1, 2 and the directory `ls` itself has open.
    let fds = read(&wd.join("fds.txt"));
    for line in fds.lines().filter(|l| l.contains("->")) {
        let mut parts = line.split_whitespace().rev();
        let target = parts.next().unwrap();
        let _arrow = parts.next();
        let fd: u32 = parts.next().unwrap().parse().unwrap();
        assert!(
            fd <= 2 || target.ends_with("/fd"),
            "unexpected fd {fd} -> {target} leaked into the container:\n{fds}"
        );
    }

    let hadoop = node.nm_gid();
    let wm = mode(wd);
    assert_eq!(wm & 0o777, 0o710, "work dir mode {wm:o}");
    assert!(wm & 0o2000 != 0, "work dir lacks setgid: {wm:o}");
    assert_eq!(owner(wd), (alice, hadoop), "work dir owner");
    assert_dir(&wd.join("tmp"), alice, hadoop, 0o2710, "tmp");
    assert_dir(
        &wd.join("private_slash_tmp"),
        alice,
        hadoop,
        0o710,
        "private_slash_tmp",
    );
    assert_dir(
        &wd.join("private_var_slash_tmp"),
        alice,
        hadoop,
        0o710,
        "private_var_slash_tmp",
    );
    let script = wd.join("launch_container.sh");
    assert_eq!(mode(&script), 0o700, "launch_container.sh mode");
    assert_eq!(owner(&script).0, alice, "launch_container.sh owner");
    assert_eq!(read(&script), PROBE_SCRIPT, "script copy");
    let tokens = wd.join("container_tokens");
    assert_eq!(mode(&tokens), 0o600, "container_tokens mode");
    assert_eq!(owner(&tokens).0, alice, "container_tokens owner");
    assert_eq!(read(&tokens), read(&c.tokens), "token copy");
    for log in &node.logs {
        assert!(
            log.join(APP).join(&c.cid).is_dir(),
            "container log dir missing under {}",
            log.display()
        );
    }
}

// ------------------------------------------------------------------------------------------
// 3. exit codes
// ------------------------------------------------------------------------------------------

#[test]
fn exit_codes_pass_through() {
    let Some(node) = Node::new("life_exit") else {
        return;
    };
    let cases = [
        ("exit 0", 0),
        ("exit 1", 1),
        ("exit 42", 42),
        ("kill -9 $$", 137),
        ("kill -15 $$", 143),
    ];
    for (body, expected) in cases {
        let c = Container::prepare(&node, ALICE, APP, &format!("#!/bin/sh\n{body}\n"));
        let out = c.launch(&node);
        out.assert_code(expected);
        assert_eq!(
            read(&c.exit_code_file()),
            expected.to_string(),
            "exit code file for {body:?}{}",
            out.describe()
        );
    }
}

// ------------------------------------------------------------------------------------------
// 4. two users, whole lifecycle
// ------------------------------------------------------------------------------------------

fn lifecycle(node: &Node, user: &str, app: &str) {
    let c = Container::prepare(
        node,
        user,
        app,
        "#!/bin/sh\nPATH=/usr/bin:/bin\necho started > started\nexec sleep 60\n",
    );
    let launched = std::thread::scope(|s| {
        let launcher = s.spawn(|| c.launch(node));
        let pid = c.wait_for_pid(Duration::from_secs(20));
        let Some(pid) = pid else {
            let out = launcher.join().unwrap();
            panic!("{user}: no pid file{}", out.describe());
        };
        let pid = pid.to_string();
        let sig = |s: &str| node.sb.run_as_nm(&[user, user, "2", &pid, s]);
        // Signal only once the script runs (the pid file is written before the setup), and
        // `exec sleep` so that no grandchild outlives the script as a zombie awaiting init.
        let started = c.work_dir.join("started");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !started.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(started.exists(), "{user}: the script did not start");
        sig("0").assert_code(0);
        let term = sig("15");
        term.assert_code(0);
        let out = launcher.join().unwrap();
        out.assert_code(143);
        assert_eq!(read(&c.exit_code_file()), "143", "{user}: exit code file");
        sig("0").assert_code(9);
        out
    });
    drop(launched);

    let wd = c.work_dir.display().to_string();
    let list = node.sb.run_as_nm(&[user, user, "5", &wd]);
    list.assert_code(0);
    let lines: Vec<&str> = list.stdout.lines().collect();
    let main_lines = lines.iter().filter(|l| l.starts_with("main :")).count();
    assert_eq!(main_lines, 3, "{user}: main lines{}", list.describe());
    let mut names: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with("main :"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "container_tokens",
            "launch_container.sh",
            "private_slash_tmp",
            "private_var_slash_tmp",
            "started",
            "tmp"
        ],
        "{user}: listing{}",
        list.describe()
    );

    for local in &node.locals {
        let app_dir = node.app_dir(local, user, app);
        let shown = app_dir.display().to_string();
        let out = node.sb.run_as_nm(&[user, user, "3", &shown]);
        out.assert_code(0);
        assert!(
            !app_dir.exists(),
            "{user}: {shown} survived{}",
            out.describe()
        );
    }
    let bases: Vec<String> = node
        .logs
        .iter()
        .map(|g| g.join(app).display().to_string())
        .collect();
    let mut argv = vec![user, user, "3", ""];
    argv.extend(bases.iter().map(String::as_str));
    let out = node.sb.run_as_nm(&argv);
    out.assert_code(0);
    for b in &bases {
        assert!(
            !Path::new(b).exists(),
            "{user}: log dir {b} survived{}",
            out.describe()
        );
    }
}

#[test]
fn two_users_full_lifecycle_in_parallel() {
    let Some(node) = Node::new("life_two_users") else {
        return;
    };
    std::thread::scope(|s| {
        let a = s.spawn(|| lifecycle(&node, ALICE, "application_1700000000000_0011"));
        let b = s.spawn(|| lifecycle(&node, BOB, "application_1700000000000_0012"));
        let ra = a.join();
        let rb = b.join();
        if let Err(e) = ra {
            std::panic::resume_unwind(e);
        }
        if let Err(e) = rb {
            std::panic::resume_unwind(e);
        }
    });
}

// ------------------------------------------------------------------------------------------
// 5. cgroups
// ------------------------------------------------------------------------------------------

/// A test cgroup `<controller>/<hierarchy>/<name>` below /sys/fs/cgroup (v1 cpu, pids or
/// memory; else v2 unified): (hierarchy dir, cgroup dir, controller name as /proc/<pid>/cgroup
/// shows it, hierarchy name). Launch accepts only task files below `[cgroups] root` and
/// `yarn-hierarchy`, which [`confine_to`] configures.
fn make_cgroup(tag: &str) -> Option<(PathBuf, PathBuf, String, String)> {
    let hier = format!("cexec-e2e-h-{tag}-{}", std::process::id());
    let name = format!("cexec-e2e-{tag}-{}", std::process::id());
    for controller in ["cpu", "pids", "memory", "unified"] {
        let base = Path::new("/sys/fs/cgroup").join(controller);
        if !base.is_dir() || base.is_symlink() {
            continue;
        }
        let hdir = base.join(&hier);
        let dir = hdir.join(&name);
        let _ = fs::remove_dir(&dir);
        let _ = fs::remove_dir(&hdir);
        if fs::create_dir(&hdir).is_ok() && fs::create_dir(&dir).is_ok() {
            let procs = dir.join("cgroup.procs");
            if procs.exists() {
                return Some((hdir, dir, controller.to_string(), hier));
            }
        }
        let _ = fs::remove_dir(&dir);
        let _ = fs::remove_dir(&hdir);
    }
    None
}

/// `[cgroups] root=/sys/fs/cgroup` and `yarn-hierarchy=<hier>` in the node's configuration.
fn confine_to(node: &Node, hier: &str) {
    let mut text = common::config_text(&[]);
    text.push_str(&format!(
        "[cgroups]\nroot=/sys/fs/cgroup\nyarn-hierarchy={hier}\n"
    ));
    node.sb.write_config(&text);
}

fn remove_cgroup(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while fs::remove_dir(dir).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn launch_joins_the_cgroup() {
    let Some(node) = Node::new("life_cgroup") else {
        return;
    };
    let Some((hdir, cg, controller, hier)) = make_cgroup("join") else {
        let banner = "!".repeat(100);
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n{banner}\n!!! SKIPPED launch_joins_the_cgroup: no writable cgroup filesystem !!!\n{banner}"
        );
        return;
    };
    let name = cg.file_name().unwrap().to_string_lossy().into_owned();
    let c = Container::prepare(
        &node,
        ALICE,
        APP,
        "#!/bin/sh\ncat /proc/$$/cgroup > cgroup.txt\nexit 0\n",
    );
    confine_to(&node, &hier);
    let procs = cg.join("cgroup.procs");
    let out = c.launch_with(&node, &format!("cgroups={}", procs.display()));
    let seen = fs::read_to_string(c.work_dir.join("cgroup.txt")).unwrap_or_default();
    remove_cgroup(&cg);
    remove_cgroup(&hdir);
    out.assert_code(0);
    let want = if controller == "unified" {
        format!("0::/{hier}/{name}")
    } else {
        format!(":/{hier}/{name}")
    };
    assert!(
        seen.lines()
            .any(|l| l.ends_with(&want)
                && (controller == "unified" || l.contains(controller.as_str()))),
        "container not in cgroup {} (want a line ending {want:?}):\n{seen}{}",
        cg.display(),
        out.describe()
    );
    assert!(!cg.exists(), "cgroup {} not cleaned up", cg.display());
}

#[test]
fn a_regular_file_as_cgroup_file_is_refused() {
    let Some(node) = Node::new("life_cgroup_file") else {
        return;
    };
    let fake = node.sb.prefix().join("not-a-cgroup");
    write_file(&fake, "", 0o644);
    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\necho ran > ran.txt\n");
    let out = c.launch_with(&node, &format!("cgroups={}", fake.display()));
    out.assert_code(27);
    assert!(!c.work_dir.join("ran.txt").exists(), "the script ran");
    assert_eq!(read(&fake), "", "the pid was written into a regular file");
}

// ------------------------------------------------------------------------------------------
// 6. bad input
// ------------------------------------------------------------------------------------------

#[test]
fn missing_script_is_5_without_exit_code_file() {
    let Some(node) = Node::new("life_missing_script") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\nexit 0\n");
    fs::remove_file(&c.script).unwrap();
    let out = c.launch(&node);
    out.assert_code(5);
    assert!(!c.exit_code_file().exists(), "exit code file written");
    assert!(!c.work_dir.exists(), "work dir created");
}

#[test]
fn dotdot_app_id_is_refused_and_creates_nothing_outside() {
    let Some(node) = Node::new("life_dotdot_app") else {
        return;
    };
    let escape = format!("cexec_escape_{}", std::process::id());
    let app = format!("../../../{escape}");
    // <L>/usercache/<u>/appcache/../../../E = <L>/E; <G>/../../../E = /opt/E (parent of prefix).
    let suspects: Vec<PathBuf> = node
        .locals
        .iter()
        .map(|l| l.join(&escape))
        .chain(node.logs.iter().map(|g| g.join(&app)))
        .chain([node.sb.prefix().join(&escape)])
        .collect();

    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\nexit 0\n");
    let c = Container {
        app: app.clone(),
        work_dir: node.locals[0]
            .join("usercache")
            .join(ALICE)
            .join("appcache")
            .join(&app)
            .join(&c.cid),
        ..c
    };
    let out = c.launch(&node);
    assert_ne!(out.code, 0, "launch accepted {app}{}", out.describe());

    let cid = fresh_cid();
    let private = node.private_dir(APP, &cid);
    let tokens = private.join("t.tokens");
    node.nm_file(&tokens, "t", 0o600);
    let init = node.sb.run_as_nm(&args(&[
        ALICE,
        ALICE,
        "0",
        &app,
        &cid,
        &tokens.display().to_string(),
        &node.local_arg(),
        &node.log_arg(),
        "/bin/true",
    ]));
    assert_ne!(init.code, 0, "initialize accepted {app}{}", init.describe());
    for s in &suspects {
        assert!(
            fs::symlink_metadata(s).is_err(),
            "{} was created{}{}",
            s.display(),
            out.describe(),
            init.describe()
        );
    }
    for log in &node.logs {
        assert_eq!(
            fs::read_dir(log).unwrap().count(),
            0,
            "something was created in {}",
            log.display()
        );
    }
}

#[test]
fn initialize_with_a_bad_container_id_is_43() {
    let Some(node) = Node::new("life_bad_cid") else {
        return;
    };
    let cid = fresh_cid();
    let private = node.private_dir(APP, &cid);
    let tokens = private.join("t.tokens");
    node.nm_file(&tokens, "t", 0o600);
    let out = node.sb.run_as_nm(&args(&[
        ALICE,
        ALICE,
        "0",
        APP,
        "container_1_2_../x",
        &tokens.display().to_string(),
        &node.local_arg(),
        &node.log_arg(),
        "/bin/true",
    ]));
    out.assert_code(43);
    for local in &node.locals {
        assert!(
            !local.join("usercache").join(ALICE).exists(),
            "user dir created{}",
            out.describe()
        );
    }
}

#[test]
fn wrong_argument_counts_are_1() {
    let Some(node) = Node::new("life_argc") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\necho ran > ran.txt\n");
    // argc 13 (12 words after the program): the resources word is missing.
    let mut argv = c.argv(&node, "cgroups=none");
    argv.pop();
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    node.sb.run_as_nm(&words).assert_code(1);
    assert!(!c.work_dir.exists(), "work dir created");
    assert!(!c.pid_file.exists(), "pid file written");

    let pid = std::process::id().to_string();
    // argc 5: the signal is missing; argc 7: one word too many.
    node.sb.run_as_nm(&[ALICE, ALICE, "2", &pid]).assert_code(1);
    node.sb
        .run_as_nm(&[ALICE, ALICE, "2", &pid, "0", "x"])
        .assert_code(1);
}

#[test]
fn relaunch_without_cleanup_is_33() {
    let Some(node) = Node::new("life_relaunch") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\necho ran >> ran.txt\n");
    c.launch(&node).assert_code(0);
    assert_eq!(read(&c.work_dir.join("ran.txt")), "ran\n");
    let out = c.launch(&node);
    out.assert_code(33);
    assert_eq!(
        read(&c.work_dir.join("ran.txt")),
        "ran\n",
        "the script ran again"
    );
}

#[test]
fn leftover_pid_tmp_is_26() {
    let Some(node) = Node::new("life_pid_tmp") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\necho ran > ran.txt\n");
    let tmp = PathBuf::from(format!("{}.tmp", c.pid_file.display()));
    node.nm_file(&tmp, "leftover", 0o600);
    let out = c.launch(&node);
    out.assert_code(26);
    assert_eq!(read(&tmp), "leftover", "leftover tmp changed");
    assert!(!c.pid_file.exists(), "pid file written");
    assert!(!c.work_dir.join("ran.txt").exists(), "the script ran");
}

#[test]
fn work_dir_outside_the_container_dir_is_35() {
    let Some(node) = Node::new("life_foreign_wd") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, APP, "#!/bin/sh\necho ran > ran.txt\n");
    let foreign = PathBuf::from(format!(
        "/tmp/cexec-e2e-foreign-wd-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&foreign);
    fs::create_dir(&foreign).unwrap();
    fs::set_permissions(&foreign, fs::Permissions::from_mode(0o777)).unwrap();
    let c = Container {
        work_dir: foreign.clone(),
        ..c
    };
    let out = c.launch(&node);
    let entries: Vec<_> = fs::read_dir(&foreign)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let _ = fs::remove_dir_all(&foreign);
    out.assert_code(35);
    assert!(
        entries.is_empty(),
        "files created in the foreign work dir: {entries:?}{}",
        out.describe()
    );
}

#[test]
fn signal_pid_1_is_9() {
    let Some(node) = Node::new("life_pid1") else {
        return;
    };
    node.sb
        .run_as_nm(&[ALICE, ALICE, "2", "1", "0"])
        .assert_code(9);
    // (Only probes: a binary that let pid 1 through would signal every process of the user.)
}
