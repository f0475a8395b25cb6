//! Hostile suite: magic links and mount crossings (issue 19). An application user (or any
//! process) with its own mount namespace can bind-mount a root-owned directory onto an
//! NM-owned mount point in *its* view of the tree; a path through `/proc/<pid>/root`,
//! `/proc/<pid>/cwd`, `/proc/self/...` or `/dev/fd/N` would let root resolve NM dirs in that
//! view and chown the root-owned directory. Every such argument must be refused before anything
//! changes: the victim, the real NM dirs and the helper's view all come out unchanged.
//!
//! The user-namespace attacks need unprivileged user namespaces; without them the tests print a
//! loud SKIPPED banner (and fail under CEXEC_E2E_REQUIRED=1).

mod common;
mod hostile_support;

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{config_text, output, Outcome, Spawned, ALICE, NM_GROUP, NM_USER, REQUIRE_ENV};
use hostile_support::*;

/// Unprivileged user namespaces work for the application user (checked by doing it).
fn userns_available(name: &str) -> bool {
    let a = common::account(ALICE);
    let ok = Command::new("setpriv")
        .arg(format!("--reuid={}", a.uid))
        .arg(format!("--regid={}", a.gid))
        .args(["--init-groups", "unshare", "-Urm", "/bin/true"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let why =
            "unprivileged user namespaces are not available (unshare -Urm as the user failed)";
        let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(!required, "{name}: {why}, but {REQUIRE_ENV} is set");
        let banner = "!".repeat(100);
        let _ = writeln!(
            std::io::stderr(),
            "\n{banner}\n!!! SKIPPED {name}: {why} !!!\n{banner}"
        );
    }
    ok
}

/// A process of `user` in a new user+mount namespace (`unshare -Urm`) that ran `setup` there
/// (bind mounts) and then sleeps; returned once `setup` finished.
fn namespaced_helper(node: &Node, user: &str, setup: &str) -> Spawned {
    // The ready flag goes into a directory the user owns, written in its own view.
    let a = common::account(user);
    let flag_dir = node.sb.prefix().join(format!("ns-flag-{}", seq()));
    fs::create_dir(&flag_dir).unwrap();
    std::os::unix::fs::chown(&flag_dir, Some(a.uid), Some(a.gid)).unwrap();
    let ready = flag_dir.join("ready");
    let script = format!(
        "set -e\n{setup}\necho ok > {}\nexec /bin/sleep 120\n",
        sq(&s(&ready))
    );
    let helper = node.sb.spawn_as(
        user,
        &["/usr/bin/unshare", "-Urm", "/bin/sh", "-c", script.as_str()],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(
            Instant::now() < deadline,
            "the namespaced helper did not get ready: {script}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    helper
}

/// `/proc/<pid>/root` + the path, as one NM dir argument.
fn through_root(pid: u32, dir: &Path) -> String {
    format!("/proc/{pid}/root{}", dir.display())
}

/// An initialize with these dir arguments; the NM dirs' state is frozen after the NodeManager's
/// own files (the tokens) were written, just before the binary runs.
fn init_with(node: &Node, locals: &str, logs: &str) -> (Outcome, (Frozen, Frozen)) {
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let mut argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
    argv[6] = locals.to_string();
    argv[7] = logs.to_string();
    let frozen = node.freeze_nm_dirs();
    (node.run_nm(&argv), frozen)
}

/// A launch with these dir arguments, frozen like [`init_with`].
fn launch_with(node: &Node, locals: &str, logs: &str) -> (Container, Outcome, (Frozen, Frozen)) {
    let c = Container::prepare(node, ALICE, "#!/bin/sh\necho ran > ran.txt\n");
    let mut argv = c.argv(node);
    argv[10] = locals.to_string();
    argv[11] = logs.to_string();
    // The attacker spells the work dir under the first local dir it gives, as the launch's
    // spelling check wants, so that what refuses it is the resolution of that local dir.
    let first = locals
        .split('%')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    argv[5] = format!("{first}/usercache/{ALICE}/appcache/{}/{}", argv[3], argv[4]);
    // The credentials too: they must lie below <given local dir>/nmPrivate/<app>/.
    let real_first = node.locals[0].display().to_string();
    if let Some(rest) = argv[7].strip_prefix(&real_first) {
        argv[7] = format!("{first}{rest}");
    }
    let frozen = node.freeze_nm_dirs();
    let out = node.run_nm(&argv);
    // The pid and exit-code files are the NodeManager's, written with its identity in its
    // nmPrivate dir (as Hadoop does); nothing else may appear.
    let _ = fs::remove_file(&c.pid_file);
    let _ = fs::remove_file(c.exit_code_file());
    (c, out, frozen)
}

/// Nothing that names alice appeared below the real NM dirs, and the victim is intact.
#[track_caller]
fn assert_untouched(node: &Node, victim: &Victim, frozen: &(Frozen, Frozen), out: &Outcome) {
    victim.assert_intact(&out.describe());
    frozen.0.assert_unchanged(&out.describe());
    frozen.1.assert_unchanged(&out.describe());
    let meta = fs::metadata(&victim.dir).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o755));
    let _ = node;
}

#[test]
fn attack_initialize_through_proc_pid_root_with_a_root_dir_bound_on_usercache() {
    let name = "h_ml_init_root";
    let Some(node) = Node::new(name) else {
        return;
    };
    if !userns_available(name) {
        return;
    }
    let victim = Victim::new(&node.sb, "ml-usercache");
    let setup: String = node
        .locals
        .iter()
        .map(|l| {
            format!(
                "mount --bind {} {}\n",
                sq(&s(&victim.dir)),
                sq(&s(&l.join("usercache")))
            )
        })
        .collect();
    let helper = namespaced_helper(&node, ALICE, &setup);
    let pid = helper.pid();
    let locals: Vec<String> = node.locals.iter().map(|l| through_root(pid, l)).collect();
    let (out, frozen) = init_with(&node, &locals.join("%"), &node.log_arg());
    // Every local dir refused: "Could not create user dir" (INITIALIZE_USER_FAILED).
    out.assert_code(20);
    assert_untouched(&node, &victim, &frozen, &out);
}

#[test]
fn attack_initialize_through_proc_pid_root_with_a_root_dir_bound_on_the_app_log_dir() {
    let name = "h_ml_init_log";
    let Some(node) = Node::new(name) else {
        return;
    };
    if !userns_available(name) {
        return;
    }
    let victim = Victim::new(&node.sb, "ml-applog");
    // <G>/<app> exists from an earlier container of alice's (a mount point she can use).
    for log in &node.logs {
        node.user_dir(&log.join(APP), ALICE, 0o2750);
    }
    let setup: String = node
        .logs
        .iter()
        .map(|g| {
            format!(
                "mount --bind {} {}\n",
                sq(&s(&victim.dir)),
                sq(&s(&g.join(APP)))
            )
        })
        .collect();
    let helper = namespaced_helper(&node, ALICE, &setup);
    let pid = helper.pid();
    let logs: Vec<String> = node.logs.iter().map(|g| through_root(pid, g)).collect();
    let (out, frozen) = init_with(&node, &node.local_arg(), &logs.join("%"));
    // No log dir usable: "Could not create log dirs" (-1).
    out.assert_code(255);
    victim.assert_intact(&out.describe());
    frozen.1.assert_unchanged(&out.describe());
}

#[test]
fn attack_launch_through_proc_pid_root_with_root_dirs_bound_on_nm_mount_points() {
    let name = "h_ml_launch_root";
    let Some(node) = Node::new(name) else {
        return;
    };
    if !userns_available(name) {
        return;
    }
    let victim = Victim::new(&node.sb, "ml-launch");
    let log_victim = Victim::new(&node.sb, "ml-launch-log");
    for log in &node.logs {
        node.user_dir(&log.join(APP), ALICE, 0o2750);
    }
    let mut setup = String::new();
    for l in &node.locals {
        setup.push_str(&format!(
            "mount --bind {} {}\n",
            sq(&s(&victim.dir)),
            sq(&s(&l.join("usercache")))
        ));
    }
    for g in &node.logs {
        setup.push_str(&format!(
            "mount --bind {} {}\n",
            sq(&s(&log_victim.dir)),
            sq(&s(&g.join(APP)))
        ));
    }
    let helper = namespaced_helper(&node, ALICE, &setup);
    let pid = helper.pid();
    let locals: Vec<String> = node.locals.iter().map(|l| through_root(pid, l)).collect();
    let logs: Vec<String> = node.logs.iter().map(|g| through_root(pid, g)).collect();
    // Local dirs only, then log dirs only, then both.
    for (l, g) in [
        (locals.join("%"), node.log_arg()),
        (node.local_arg(), logs.join("%")),
        (locals.join("%"), logs.join("%")),
    ] {
        let (c, out, frozen) = launch_with(&node, &l, &g);
        assert_ne!(out.code, 0, "{}", out.describe());
        victim.assert_intact(&out.describe());
        log_victim.assert_intact(&out.describe());
        assert!(!c.work_dir.join("ran.txt").exists(), "{}", out.describe());
        if l != node.local_arg() {
            // Refused at the credentials, opened as the NM from the hostile local dir before
            // anything starts (5), nothing made anywhere.
            out.assert_code(5);
            frozen.0.assert_unchanged(&out.describe());
        }
    }
}

#[test]
fn attack_nm_dirs_through_proc_self_and_proc_pid_cwd() {
    let name = "h_ml_self_cwd";
    let Some(node) = Node::new(name) else {
        return;
    };
    if !userns_available(name) {
        return;
    }
    let victim = Victim::new(&node.sb, "ml-cwd");
    // The helper stands in the first local dir of its own view, where usercache is the victim.
    let l0 = &node.locals[0];
    let setup = format!(
        "mount --bind {} {}\ncd {}\n",
        sq(&s(&victim.dir)),
        sq(&s(&l0.join("usercache"))),
        sq(&s(l0))
    );
    let helper = namespaced_helper(&node, ALICE, &setup);
    let pid = helper.pid();
    let cases = [
        format!("/proc/{pid}/cwd"),
        format!("/proc/{pid}/cwd/"),
        format!("/proc/self/root{}", l0.display()),
        format!("/proc/thread-self/root{}", l0.display()),
        format!("/proc/1/root{}", l0.display()),
        format!("/proc/self/cwd{}", l0.display()),
    ];
    for local in &cases {
        let (out, frozen) = init_with(&node, local, &node.log_arg());
        out.assert_code(20);
        assert_untouched(&node, &victim, &frozen, &out);
        let (_, out, frozen) = launch_with(&node, local, &node.log_arg());
        out.assert_code(5);
        assert_untouched(&node, &victim, &frozen, &out);
    }
}

#[test]
fn attack_nm_dirs_through_dev_fd_of_an_inherited_descriptor() {
    let name = "h_ml_devfd";
    let Some(node) = Node::new(name) else {
        return;
    };
    if !userns_available(name) {
        return;
    }
    let victim = Victim::new(&node.sb, "ml-devfd");
    let l0 = &node.locals[0];
    let setup = format!(
        "mount --bind {} {}\n",
        sq(&s(&victim.dir)),
        sq(&s(&l0.join("usercache")))
    );
    let helper = namespaced_helper(&node, ALICE, &setup);
    let pid = helper.pid();
    // The caller holds descriptor 7 on the local dir as the helper's namespace sees it and
    // hands the binary /dev/fd/7 (and /proc/self/fd/7).
    for local in ["/dev/fd/7", "/proc/self/fd/7", "/dev/fd/7/"] {
        let cid = fresh_cid();
        let tokens = node.tokens(&cid);
        let mut argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        argv[6] = local.to_string();
        let mut words = as_user_prefix(NM_USER);
        words.push(node.sb.bin().into_os_string());
        words.extend(argv.iter().map(Into::into));
        let script = format!(
            "exec 7< {} && exec {}",
            sq(&through_root(pid, l0)),
            sh_words(&words)
        );
        let frozen = node.freeze_nm_dirs();
        let out = root_sh(&script);
        out.assert_code(20);
        assert_untouched(&node, &victim, &frozen, &out);
    }
}

/// Run `argv` (the binary's arguments) as the NodeManager inside a private mount namespace made
/// by root, after `mounts` (shell lines run as root in that namespace).
fn run_nm_in_private_mounts(node: &Node, mounts: &str, argv: &[String]) -> Outcome {
    let mut words = as_user_prefix(NM_USER);
    words.push(node.sb.bin().into_os_string());
    words.extend(argv.iter().map(Into::into));
    let inner = format!("set -e\n{mounts}\nexec {}", sh_words(&words));
    root_sh(&format!(
        "exec /usr/bin/unshare -m --propagation private /bin/sh -c {}",
        sq(&inner)
    ))
}

/// Defence in depth: even in our own namespace (a mount only root can make), nothing below an
/// NM root is followed onto another mount.
#[test]
fn attack_mounts_below_nm_roots_are_not_crossed() {
    let Some(node) = Node::new("h_ml_xdev") else {
        return;
    };
    let victim = Victim::new(&node.sb, "ml-xdev");
    for local in &node.locals {
        node.user_dir(&local.join("usercache").join(ALICE), ALICE, 0o2750);
    }
    for log in &node.logs {
        node.user_dir(&log.join(APP), ALICE, 0o2750);
    }
    let bind = |on: &Path| format!("/bin/mount --bind {} {}\n", sq(&s(&victim.dir)), sq(&s(on)));
    let cases: Vec<(String, i32)> = vec![
        (
            node.locals
                .iter()
                .map(|l| bind(&l.join("usercache").join(ALICE)))
                .collect(),
            20,
        ),
        (
            node.locals
                .iter()
                .map(|l| bind(&l.join("usercache")))
                .collect(),
            20,
        ),
        (node.logs.iter().map(|g| bind(&g.join(APP))).collect(), 255),
    ];
    for (mounts, code) in cases {
        let cid = fresh_cid();
        let tokens = node.tokens(&cid);
        let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        let frozen = node.freeze_nm_dirs();
        let out = run_nm_in_private_mounts(&node, &mounts, &argv);
        out.assert_code(code);
        victim.assert_intact(&out.describe());
        if code == 20 {
            frozen.0.assert_unchanged(&out.describe());
        }
        frozen.1.assert_unchanged(&out.describe());
    }
}

/// The legitimate case the rule must keep: an NM local or log dir that is itself a mount point
/// (a disk mounted at /data/N/yarn/local) works as before.
#[test]
fn nm_roots_that_are_mount_points_still_work() {
    let Some(node) = Node::new("h_ml_rootmount") else {
        return;
    };
    let mut mounts = String::new();
    for d in node.locals.iter().chain(node.logs.iter()) {
        mounts.push_str(&format!("/bin/mount --bind {} {}\n", sq(&s(d)), sq(&s(d))));
    }
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
    let out = run_nm_in_private_mounts(&node, &mounts, &argv);
    out.assert_code(0);
    for local in &node.locals {
        let dir = node.app_dir(local, ALICE, APP);
        assert!(dir.is_dir(), "{}: {}", dir.display(), out.describe());
        let user_dir = local.join("usercache").join(ALICE);
        let meta = fs::metadata(&user_dir).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (node.uid(ALICE), node.nm_gid(), 0o2750)
        );
    }
    for log in &node.logs {
        assert!(log.join(APP).join(&cid).is_dir(), "{}", out.describe());
    }
    // And a launch through the same mounts.
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho ran > ran.txt\n");
    let out = run_nm_in_private_mounts(&node, &mounts, &c.argv(&node));
    out.assert_code(0);
    assert_eq!(c.probe("ran.txt"), "ran\n");
}

/// A root "service" in its own mount namespace (systemd's PrivateTmp, say) has a root-owned
/// directory mounted on the container's `tmp`; a work dir through `/proc/<its pid>/root` must
/// not put the user's program into that view.
#[test]
fn attack_exec_container_work_dir_through_proc_pid_root_of_a_private_mount_namespace() {
    let name = "h_ml_exec";
    let Some(node) = Node::new(name) else {
        return;
    };
    node.sb
        .write_config(&config_text(&[("feature.terminal.enabled", Some("true"))]));
    let victim = Victim::new(&node.sb, "ml-exec");
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    c.launch(&node).assert_code(0);
    let tmp = c.work_dir.join("tmp");
    assert!(tmp.is_dir());
    let ready = node.sb.prefix().join(format!("svc-ready-{}", seq()));
    let script = format!(
        "mount --make-rprivate / && mount --bind {} {} && echo ok > {} && exec sleep 120",
        sq(&s(&victim.dir)),
        sq(&s(&tmp)),
        sq(&s(&ready))
    );
    let mut service = common::spawn(
        Command::new("unshare")
            .args(["-m", "/bin/sh", "-c", &script])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("spawn service");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "the service did not get ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = service.id();
    let work = through_root(pid, &c.work_dir);
    let file = c
        .script
        .parent()
        .unwrap()
        .join(format!("exec-{}.cmd", seq()));
    node.nm_file(
        &file,
        &format!(
            "[command-execution]\n  command=exec\n  user={ALICE}\n  launch-command=/bin/sh,-c,cat tmp/passwd; echo RAN\n  workdir={work}\n"
        ),
        0o644,
    );
    let out = exec_container(&node, &file);
    let _ = service.kill();
    let _ = service.wait();
    assert_eq!(out.code, 255, "{}", out.describe());
    assert!(!out.stdout.contains("RAN"), "{}", out.describe());
    assert!(
        !out.stdout.contains(PUBLIC_TEXT.trim()),
        "{}",
        out.describe()
    );
    victim.assert_intact(&out.describe());
}

/// `--exec-container <file>` as the NodeManager with stdin at end of input.
fn exec_container(node: &Node, file: &Path) -> Outcome {
    let mut argv = as_user_prefix(NM_USER);
    argv.push(node.sb.bin().into_os_string());
    argv.push("--exec-container".into());
    argv.push(file.into());
    let _ = NM_GROUP;
    run_argv(&argv, &[])
}

// ------------------------------------------------------------------------------------------
// Audit lines: spaces and '=' in every field
// ------------------------------------------------------------------------------------------

/// Run the binary as the NM in a private mount namespace whose `/dev/log` is a bind mount of
/// `socket` (the machine's `/dev/log` is never touched).
fn run_with_private_log(node: &Node, socket: &Path, args: &[String]) -> Outcome {
    let script = r#"set -e
touch /dev/log 2>/dev/null || true
if [ -S /dev/log ] || [ -e /dev/log ]; then mount --bind "$SOCK" /dev/log; else
  echo "no /dev/log to bind over" >&2; exit 99; fi
exec "$@"
"#;
    let a = common::account(NM_USER);
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
        "sh",
    ])
    .arg("setpriv")
    .arg(format!("--reuid={}", a.uid))
    .arg(format!("--regid={}", a.gid))
    .args(["--init-groups", "/usr/bin/env", "-i"])
    .arg(node.sb.bin())
    .args(args)
    .env_clear()
    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    .env("SOCK", socket)
    .current_dir("/")
    .stdin(Stdio::null());
    let out = output(&mut cmd).expect("run in a private mount namespace");
    Outcome {
        command: format!("(private /dev/log) {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn datagrams(socket: &UnixDatagram, wait: Duration) -> Vec<String> {
    let mut lines = Vec::new();
    let deadline = Instant::now() + wait;
    let mut buf = vec![0u8; 65536];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left)).unwrap();
        match socket.recv(&mut buf) {
            Ok(n) => lines.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => break,
        }
    }
    lines
}

/// The `key=value` fields of an audit line after the tag, split on spaces outside quotes.
fn fields(line: &str) -> Vec<(String, String)> {
    let body = line.split_once("]: ").map_or(line, |(_, b)| b);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in body.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                cur.push(ch);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|f| match f.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (f, String::new()),
        })
        .collect()
}

#[test]
fn attack_audit_fields_forged_with_spaces_and_equals_signs() {
    let Some(node) = Node::new("h_ml_audit") else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("cexec-ml-audit")
        .tempdir_in("/tmp")
        .expect("tempdir");
    let sock_path = dir.path().join("log.sock");
    let socket = UnixDatagram::bind(&sock_path).expect("bind");
    let forged = "x outcome=0 command=delete user=root caller=0";
    let cases: Vec<Vec<String>> = vec![
        // run-as user, yarn user, command number and every argument forged.
        vec![
            format!("bob {forged}"),
            format!("yarn {forged}"),
            format!("2 {forged}"),
            format!("1 {forged}"),
            format!("15 {forged}"),
        ],
        vec![
            ALICE.into(),
            format!("y u=v {forged}"),
            "3".into(),
            format!("/a b=c {forged}"),
        ],
        // An operator subcommand (the parsed request, not positional argv).
        vec![
            "signal".into(),
            format!("--user={ALICE} {forged}"),
            "--pid".into(),
            "1".into(),
            "--signal".into(),
            "0".into(),
        ],
        vec![format!("--mount-cgroups {forged}"), format!("a=b {forged}")],
    ];
    for args in &cases {
        let out = run_with_private_log(&node, &sock_path, args);
        assert_ne!(out.code, 99, "{}", out.describe());
        let lines = datagrams(&socket, Duration::from_millis(700));
        assert_eq!(lines.len(), 1, "{args:?}: {lines:#?}\n{}", out.describe());
        let line = &lines[0];
        let f = fields(line);
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        for key in ["caller", "user", "yarn_user", "command", "outcome", "args"] {
            let n = keys.iter().filter(|k| **k == key).count();
            assert_eq!(n, 1, "{key} appears {n} times in {line:?} ({keys:?})");
        }
        assert_eq!(f.len(), 6, "extra fields in {line:?}: {keys:?}");
        let value = |k: &str| f.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(value("caller"), node.nm_uid().to_string(), "{line}");
        assert_eq!(value("outcome"), out.code.to_string(), "{line}");
    }
    // The operator request is logged by its meaning: command signal, user alice.
    let out = run_with_private_log(
        &node,
        &sock_path,
        &[
            "signal".into(),
            format!("--user={ALICE}"),
            "--pid".into(),
            "1".into(),
            "--signal".into(),
            "0".into(),
        ],
    );
    let lines = datagrams(&socket, Duration::from_millis(700));
    assert_eq!(lines.len(), 1, "{lines:#?}\n{}", out.describe());
    let f = fields(&lines[0]);
    let value = |k: &str| f.iter().find(|(key, _)| key == k).map(|x| x.1.clone());
    assert_eq!(value("command").as_deref(), Some("signal"), "{}", lines[0]);
    assert_eq!(value("user").as_deref(), Some(ALICE), "{}", lines[0]);
    // The NodeManager's form names the yarn user.
    let out = run_with_private_log(
        &node,
        &sock_path,
        &[
            ALICE.into(),
            "cexec_bob".into(),
            "2".into(),
            "1".into(),
            "0".into(),
        ],
    );
    let lines = datagrams(&socket, Duration::from_millis(700));
    assert_eq!(lines.len(), 1, "{lines:#?}\n{}", out.describe());
    let f = fields(&lines[0]);
    let value = |k: &str| f.iter().find(|(key, _)| key == k).map(|x| x.1.clone());
    assert_eq!(value("user").as_deref(), Some(ALICE), "{}", lines[0]);
    assert_eq!(
        value("yarn_user").as_deref(),
        Some("cexec_bob"),
        "{}",
        lines[0]
    );
    assert_eq!(value("command").as_deref(), Some("signal"), "{}", lines[0]);
}
