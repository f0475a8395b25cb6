//! End-to-end: the audit trail (syslog, facility authpriv), `no_new_privs` for the programs run
//! as the user, and the argv size bounds (issue 4, parts 4-6).
//!
//! The audit tests run the binary in a private mount namespace whose `/dev` is a fresh tmpfs
//! holding the usual null devices and, at `/dev/log`, a bind mount of a datagram socket this
//! test owns and reads: the real machine's `/dev` is never touched.

mod common;
mod hardening;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{output, read, Outcome, ALICE};
use hardening::{initialize_argv, status_field, Caller, Container, Node};

/// Where `/dev/log` points in the private namespace.
enum SyslogSocket<'a> {
    /// No `/dev/log` at all.
    Absent,
    /// A bind mount of this socket file.
    Bound(&'a Path),
}

/// Run the binary as `user` (setpriv, empty environment) inside a private mount namespace with
/// a private `/dev`.
fn run_with_private_dev(
    node: &Node,
    scratch: &Path,
    socket: SyslogSocket,
    user: &str,
    args: &[String],
) -> Outcome {
    let acct = common::account(user);
    let script = r#"set -e
D=$1; shift
mkdir -p "$D/olddev"
mount --rbind /dev "$D/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full urandom random; do
  touch "/dev/$n"; mount --bind "$D/olddev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
if [ -n "$SOCK" ]; then touch /dev/log; mount --bind "$SOCK" /dev/log; fi
exec "$@"
"#;
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "/bin/bash",
        "-c",
        script,
        "bash",
    ])
    .arg(scratch)
    .arg("setpriv")
    .arg(format!("--reuid={}", acct.uid))
    .arg(format!("--regid={}", acct.gid))
    .arg("--init-groups")
    .args(["/usr/bin/env", "-i"])
    .arg(node.sb.bin())
    .args(args)
    .env_clear()
    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    .current_dir("/")
    .stdin(Stdio::null());
    if let SyslogSocket::Bound(path) = socket {
        cmd.env("SOCK", path);
    }
    let shown = format!("(private /dev, as {user}) {}", args.join(" "));
    let out = output(&mut cmd).unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    Outcome {
        command: shown,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A syslog stand-in: a datagram socket in a fresh directory.
struct Listener {
    dir: tempfile::TempDir,
    socket: UnixDatagram,
}

impl Listener {
    fn new() -> Listener {
        let dir = tempfile::Builder::new()
            .prefix("cexec-audit")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let socket = UnixDatagram::bind(dir.path().join("log.sock")).expect("bind");
        Listener { dir, socket }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("log.sock")
    }

    /// Every datagram that arrives within `wait`.
    fn lines(&self, wait: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        let deadline = Instant::now() + wait;
        let mut buf = vec![0u8; 65536];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            self.socket.set_read_timeout(Some(left)).unwrap();
            match self.socket.recv(&mut buf) {
                Ok(n) => lines.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                Err(_) => break,
            }
        }
        lines
    }
}

/// Facility and severity of an RFC 3164 line.
fn pri(line: &str) -> (u32, u32) {
    let end = line
        .find('>')
        .unwrap_or_else(|| panic!("no PRI in {line:?}"));
    assert!(line.starts_with('<'), "no PRI in {line:?}");
    let pri: u32 = line[1..end].parse().expect("numeric PRI");
    (pri / 8, pri % 8)
}

fn the_line<'a>(lines: &'a [String], fragment: &str) -> &'a String {
    let found: Vec<&String> = lines.iter().filter(|l| l.contains(fragment)).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one line with {fragment:?}, got:\n{lines:#?}"
    );
    found[0]
}

#[test]
fn audit_signal_sends_one_authpriv_line_with_caller_user_ids_and_outcome() {
    let Some(node) = Node::new("hard_audit_signal") else {
        return;
    };
    let listener = Listener::new();
    let mut sleeper = node.sb.spawn_sleeper(ALICE);
    let args = vec![
        ALICE.to_string(),
        ALICE.into(),
        "2".into(),
        sleeper.pid_arg(),
        "15".into(),
    ];
    let out = run_with_private_dev(
        &node,
        listener.dir.path(),
        SyslogSocket::Bound(&listener.path()),
        common::NM_USER,
        &args,
    );
    out.assert_code(0);
    assert!(sleeper.wait_for_exit(Duration::from_secs(10)).is_some());
    let lines = listener.lines(Duration::from_millis(500));
    assert_eq!(lines.len(), 1, "one line per action: {lines:#?}");
    let line = &lines[0];
    assert_eq!(pri(line), (10, 5), "authpriv.notice: {line}");
    assert!(line.contains(" container-executor["), "{line}");
    let expected = format!(
        "caller={} user={ALICE} yarn_user={ALICE} command=signal outcome=0 args=\"{} 15\"",
        node.nm_uid(),
        sleeper.pid_arg()
    );
    assert!(line.ends_with(&expected), "{line}\nexpected …{expected}");
}

#[test]
fn audit_refused_user_is_logged_with_the_exit_status() {
    let Some(node) = Node::new("hard_audit_refused") else {
        return;
    };
    let listener = Listener::new();
    // root is never a run-as user: refused by the user checks (Hadoop's -1, status 255).
    let args: Vec<String> = ["root", "root", "5", "/"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = run_with_private_dev(
        &node,
        listener.dir.path(),
        SyslogSocket::Bound(&listener.path()),
        common::NM_USER,
        &args,
    );
    out.assert_code(255);
    let lines = listener.lines(Duration::from_millis(500));
    let line = the_line(&lines, "command=list");
    assert_eq!(pri(line), (10, 4), "authpriv.warning: {line}");
    assert!(
        line.ends_with(&format!(
            "caller={} user=root yarn_user=root command=list outcome=255 args=\"/\"",
            node.nm_uid()
        )),
        "{line}"
    );
}

#[test]
fn audit_launch_logs_the_start_and_the_container_status() {
    let Some(node) = Node::new("hard_audit_launch") else {
        return;
    };
    let listener = Listener::new();
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 5\n");
    let out = run_with_private_dev(
        &node,
        listener.dir.path(),
        SyslogSocket::Bound(&listener.path()),
        common::NM_USER,
        &c.argv(&node),
    );
    out.assert_code(5);
    let lines = listener.lines(Duration::from_millis(500));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let started = the_line(&lines, "outcome=exec");
    let ended = the_line(&lines, "outcome=5");
    let pid = read(&c.pid_file);
    assert!(
        started.contains(&format!("container-executor[{pid}]:")),
        "start line comes from the container's process {pid}: {started}"
    );
    for line in [started, ended] {
        assert!(
            line.contains(&format!("user={ALICE} command=launch"))
                && line.contains(&c.cid)
                && line.contains(hardening::APP),
            "{line}"
        );
        assert_eq!(pri(line).0, 10, "{line}");
    }
}

#[test]
fn audit_caller_text_cannot_forge_a_second_line() {
    let Some(node) = Node::new("hard_audit_forge") else {
        return;
    };
    let listener = Listener::new();
    let args: Vec<String> = [
        "no\n<85>Dec  1 00:00:00 container-executor[1]: caller=0 user=root",
        ALICE,
        "5",
        "/",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run_with_private_dev(
        &node,
        listener.dir.path(),
        SyslogSocket::Bound(&listener.path()),
        common::NM_USER,
        &args,
    );
    assert_ne!(out.code, 0, "{}", out.describe());
    let lines = listener.lines(Duration::from_millis(500));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(!lines[0].contains('\n'), "{:?}", lines[0]);
    assert!(lines[0].contains("user=no\\x0a<85>"), "{:?}", lines[0]);
}

#[test]
fn audit_without_a_listener_the_operation_still_succeeds() {
    let Some(node) = Node::new("hard_audit_absent") else {
        return;
    };
    let scratch = tempfile::Builder::new()
        .prefix("cexec-audit")
        .tempdir_in("/tmp")
        .unwrap();
    // 1. no /dev/log at all; 2. a stale socket nobody listens on (connection refused).
    let stale = scratch.path().join("stale.sock");
    drop(UnixDatagram::bind(&stale).unwrap());
    for socket in [SyslogSocket::Absent, SyslogSocket::Bound(&stale)] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho ran > ran.txt\n");
        let started = Instant::now();
        let out = run_with_private_dev(
            &node,
            scratch.path(),
            socket,
            common::NM_USER,
            &c.argv(&node),
        );
        out.assert_code(0);
        assert_eq!(read(&c.work_dir.join("ran.txt")), "ran\n");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "slow without syslog"
        );
    }
}

#[test]
fn audit_a_listener_that_never_reads_cannot_block_us() {
    let Some(node) = Node::new("hard_audit_full") else {
        return;
    };
    let listener = Listener::new();
    // Fill the listener's queue until the kernel refuses more.
    let filler = UnixDatagram::unbound().unwrap();
    filler.connect(listener.path()).unwrap();
    filler.set_nonblocking(true).unwrap();
    let mut queued = 0;
    while filler.send(b"<13>filler").is_ok() {
        queued += 1;
        assert!(queued < 100_000, "queue never filled");
    }
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    let started = Instant::now();
    let out = run_with_private_dev(
        &node,
        listener.dir.path(),
        SyslogSocket::Bound(&listener.path()),
        common::NM_USER,
        &c.argv(&node),
    );
    out.assert_code(0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "blocked on a full syslog queue"
    );
    // Only the filler's datagrams are there: ours were dropped, not waited for.
    let lines = listener.lines(Duration::from_millis(300));
    assert_eq!(lines.len(), queued, "{lines:#?}");
}

// ------------------------------------------------------------------------------------------
// no_new_privs
// ------------------------------------------------------------------------------------------

const STATUS_SCRIPT: &str =
    "#!/bin/sh\nwhile IFS= read -r l; do echo \"ST:$l\"; done < /proc/$$/status\n";

fn no_new_privs_seen(node: &Node) -> (String, String) {
    let c = Container::prepare(node, ALICE, STATUS_SCRIPT);
    let out = node.run(&Caller::default(), &c.argv(node));
    out.assert_code(0);
    let launch = hardening::tagged(&out.stdout, "ST:");

    let cid = hardening::fresh_cid();
    let tokens = node.private_dir(&cid).join(format!("{cid}.tokens"));
    node.nm_file(&tokens, "t\n", 0o600);
    let probe = "while IFS= read -r l; do echo \"ST:$l\"; done < /proc/$$/status";
    let out = node.run(
        &Caller::default(),
        &initialize_argv(node, ALICE, &cid, &tokens, probe),
    );
    out.assert_code(0);
    let localizer = hardening::tagged(&out.stdout, "ST:");
    (
        status_field(&launch, "NoNewPrivs").to_string(),
        status_field(&localizer, "NoNewPrivs").to_string(),
    )
}

#[test]
fn no_new_privs_is_off_by_default_for_container_and_localizer() {
    let Some(node) = Node::new("hard_nnp_off") else {
        return;
    };
    assert_eq!(no_new_privs_seen(&node), ("0".into(), "0".into()));
    node.sb
        .write_config_with(&[("no-new-privileges", Some("false"))]);
    assert_eq!(no_new_privs_seen(&node), ("0".into(), "0".into()));
}

#[test]
fn no_new_privs_key_sets_it_for_container_and_localizer() {
    let Some(node) = Node::new("hard_nnp_on") else {
        return;
    };
    for value in ["true", "TRUE", "1"] {
        node.sb
            .write_config_with(&[("no-new-privileges", Some(value))]);
        assert_eq!(
            no_new_privs_seen(&node),
            ("1".into(), "1".into()),
            "no-new-privileges={value}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// argv bounds
// ------------------------------------------------------------------------------------------

#[test]
fn oversized_argv_is_refused_with_code_1_before_anything_changes() {
    let Some(node) = Node::new("hard_argv") else {
        return;
    };
    let cid = hardening::fresh_cid();
    let tokens = node.private_dir(&cid).join(format!("{cid}.tokens"));
    node.nm_file(&tokens, "t\n", 0o600);
    let mut long_arg = initialize_argv(&node, ALICE, &cid, &tokens, "true");
    long_arg.push("x".repeat(100 * 1024));
    let mut many = initialize_argv(&node, ALICE, &cid, &tokens, "true");
    many.extend(std::iter::repeat("x".to_string()).take(1100));
    let mut total = initialize_argv(&node, ALICE, &cid, &tokens, "true");
    total.extend(std::iter::repeat("y".repeat(90 * 1024)).take(12));
    for (args, why) in [
        (long_arg, "is too long"),
        (many, "Too many arguments"),
        (total, "in all"),
    ] {
        let out = node.run(&Caller::default(), &args);
        out.assert_code(1).assert_stderr_has(why);
        assert!(
            !node.local.join("usercache").join(ALICE).exists(),
            "the user dir was created{}",
            out.describe()
        );
    }
}

#[test]
fn oversized_tc_command_file_is_refused_with_28() {
    let Some(node) = Node::new("hard_tc_size") else {
        return;
    };
    node.sb
        .write_config_with(&[("feature.tc.enabled", Some("true"))]);
    let dir = node.private_dir("tc");
    let file = dir.join("big.tc");
    node.nm_file(&file, &"# padding\n".repeat(120 * 1024), 0o600);
    let out = node.run(
        &Caller::default(),
        &["--tc-modify-state".to_string(), file.display().to_string()],
    );
    out.assert_code(28)
        .assert_stderr_has("larger than 1048576 bytes");
}

#[test]
fn audit_setup_refusal_is_logged_with_its_exit_code() {
    let Some(node) = Node::new("hard_audit_setup") else {
        return;
    };
    // The configured group no longer matches the binary's group (and the caller is not in
    // it): setup refuses with 22.
    let other = common::TempUser::create(false, &[]);
    node.sb.write_config_with(&[(
        "yarn.nodemanager.linux-container-executor.group",
        Some(other.name()),
    )]);
    let listener = Listener::new();
    let args = vec!["--checksetup".to_string()];
    let out = run_with_private_dev(
        &node,
        listener.dir.path(),
        SyslogSocket::Bound(&listener.path()),
        common::NM_USER,
        &args,
    );
    out.assert_code(22);
    let lines = listener.lines(Duration::from_millis(500));
    let line = the_line(&lines, "command=--checksetup");
    assert_eq!(pri(line), (10, 4), "{line}");
    assert!(
        line.contains(&format!(
            "caller={} user=- yarn_user=- command=--checksetup outcome={}",
            node.nm_uid(),
            out.code
        )),
        "{line}"
    );
}
