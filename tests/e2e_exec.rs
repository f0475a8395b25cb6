//! End-to-end: `--exec-container` (YARN UI2's terminal, non-Docker form). A container is really
//! launched first (command 1), then the NodeManager's command file asks for a shell as the
//! container's user in its work dir. The test talks to the binary through pipes (it has no
//! terminal); the shell gets the binary's pseudo-terminal.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{config_text, write_file, Sandbox, ALICE, BOB, NM_GROUP, NM_USER};

const APP: &str = "application_1700000000000_0001";
const OTHER_APP: &str = "application_1700000000000_0002";
static SEQ: AtomicUsize = AtomicUsize::new(0);

fn fresh_cid() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst) + 2;
    format!("container_1700000000000_0001_01_{n:06}")
}

struct Node {
    sb: Sandbox,
    local: PathBuf,
    log: PathBuf,
}

impl Node {
    fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let local = sb.nm_local_dirs(1).remove(0);
        let log = sb.nm_log_dirs(1).remove(0);
        sb.write_config(&config_text(&[("feature.terminal.enabled", Some("true"))]));
        Some(Node { sb, local, log })
    }

    fn nm_owned(&self, path: &Path, mode: u32) {
        let u = self.sb.users();
        self.sb.chown(path, Some(u.nm.uid), Some(u.nm_gid));
        self.sb.chmod(path, mode);
    }

    fn private_dir(&self, app: &str, cid: &str) -> PathBuf {
        let app = self.local.join("nmPrivate").join(app);
        let dir = app.join(cid);
        fs::create_dir_all(&dir).unwrap();
        self.nm_owned(&app, 0o700);
        self.nm_owned(&dir, 0o700);
        dir
    }

    /// Launch a container that exits at once; returns (container id, its work dir).
    fn launch(&self, user: &str) -> (String, PathBuf) {
        // One application belongs to one user: its log dir is that user's (a second user's
        // launch under the same id is refused since issue 19).
        let app = if user == ALICE { APP } else { OTHER_APP };
        let cid = fresh_cid();
        let private = self.private_dir(app, &cid);
        let script = private.join("launch_container.sh");
        write_file(&script, "#!/bin/sh\nexit 0\n", 0o700);
        self.nm_owned(&script, 0o700);
        let tokens = private.join("c.tokens");
        write_file(&tokens, "tokens\n", 0o600);
        self.nm_owned(&tokens, 0o600);
        let work = self
            .local
            .join("usercache")
            .join(user)
            .join("appcache")
            .join(app)
            .join(&cid);
        let pid = private.join("c.pid");
        let argv = [
            user,
            user,
            "1",
            app,
            &cid,
            &work.display().to_string(),
            &script.display().to_string(),
            &tokens.display().to_string(),
            "--http",
            &pid.display().to_string(),
            &self.local.display().to_string(),
            &self.log.display().to_string(),
            "cgroups=none",
        ]
        .map(|s| s.to_string());
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.sb.run_as_nm(&args).assert_code(0);
        assert!(work.is_dir());
        (cid, work)
    }

    /// The NodeManager's command file (`DefaultLinuxContainerRuntime.writeCommandToTempFile`).
    fn command_file(&self, cid: &str, user: &str, launch: &str, workdir: &Path) -> PathBuf {
        let path = self
            .private_dir(APP, cid)
            .join(format!("yarn.{cid}{}.cmd", fresh_cid()));
        let text = format!(
            "[command-execution]\n  command=exec\n  user={user}\n  launch-command={launch}\n  workdir={}\n",
            workdir.display()
        );
        write_file(&path, &text, 0o644);
        self.nm_owned(&path, 0o644);
        path
    }
}

/// Run `--exec-container <file>` as the NM with `input` on stdin (then end of input);
/// (exit code, stdout, stderr). Fails the test after 30 s.
fn exec(node: &Node, file: &Path, input: &str) -> (i32, String, String) {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={NM_USER}"))
        .arg(format!("--regid={NM_GROUP}"))
        .args(["--init-groups", "/usr/bin/env", "-i"])
        .arg(node.sb.bin())
        .arg("--exec-container")
        .arg(file)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = common::spawn(&mut cmd).expect("spawn");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("--exec-container did not finish within 30 s");
        }
    };
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exec_container_is_refused_with_32_while_disabled() {
    let Some(sb) = Sandbox::new("exec-disabled") else {
        return;
    };
    sb.run_as_nm(&["--exec-container", "/nonexistent"])
        .assert_code(32)
        .assert_stderr_has("Feature disabled: feature.terminal.enabled");
}

#[test]
fn opens_a_shell_as_the_user_in_the_work_dir() {
    let Some(node) = Node::new("exec-shell") else {
        return;
    };
    let (cid, work) = node.launch(ALICE);
    let file = node.command_file(&cid, ALICE, "/bin/bash,-ir", &work);
    let (code, out, err) = exec(
        &node,
        &file,
        "pwd; echo X$((6*7)); id -un; tty; echo $TERM; exit 7\n",
    );
    let all = format!("exit {code}\n--- stdout ---\n{out}\n--- stderr ---\n{err}");
    assert_eq!(code, 7, "{all}");
    assert!(out.contains(&work.display().to_string()), "{all}");
    assert!(out.contains("X42"), "{all}");
    assert!(
        out.contains(&format!("\n{ALICE}"))
            || out.contains(&format!("\r{ALICE}"))
            || out.contains(&format!("{ALICE}\n")),
        "{all}"
    );
    assert!(out.contains("/dev/pts/"), "{all}");
    assert!(out.contains("xterm-256color"), "{all}");
    assert!(err.contains("Remote Connection Closed."), "{all}");
    assert!(!err.contains("Nonzero exit code"), "{all}");
    // A plain command as the program, status 0.
    let file = node.command_file(&cid, ALICE, "/bin/sh,-c,id -u; echo done-$PWD", &work);
    let (code, out, err) = exec(&node, &file, "");
    assert_eq!(code, 0, "{out} {err}");
    let alice_uid = node.sb.users().alice.uid;
    assert!(out.contains(&alice_uid.to_string()), "{out}");
    assert!(out.contains(&format!("done-{}", work.display())), "{out}");
}

#[test]
fn refuses_unsafe_command_files_with_53() {
    let Some(node) = Node::new("exec-files") else {
        return;
    };
    let (cid, work) = node.launch(ALICE);
    let good = node.command_file(&cid, ALICE, "/bin/sh,-c,echo RAN", &work);
    let private = good.parent().unwrap().to_path_buf();
    let writable = node.command_file(&cid, ALICE, "/bin/sh,-c,echo RAN", &work);
    node.sb.chmod(&writable, 0o664);
    let root_owned = private.join("root.cmd");
    fs::copy(&good, &root_owned).unwrap();
    let link = private.join("link.cmd");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let fifo = private.join("fifo.cmd");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    node.nm_owned(&fifo, 0o644);
    for file in [
        writable,
        root_owned,
        link,
        fifo,
        private.join("missing.cmd"),
    ] {
        let (code, out, err) = exec(&node, &file, "");
        assert_eq!(code, 53, "{}: {out} {err}", file.display());
        assert!(!out.contains("RAN"), "{out}");
        assert!(err.contains("Invalid conf file provided"), "{err}");
    }
    let (code, out, _) = exec(&node, &good, "");
    assert_eq!(code, 0);
    assert!(out.contains("RAN"));
}

#[test]
fn refuses_bad_users_work_dirs_and_requests() {
    let Some(node) = Node::new("exec-refuse") else {
        return;
    };
    let (cid, work) = node.launch(ALICE);
    let (bob_cid, bob_work) = node.launch(BOB);
    let outside = node.sb.prefix().join("elsewhere");
    fs::create_dir(&outside).unwrap();
    let fake = node
        .local
        .join("usercache")
        .join(ALICE)
        .join("appcache")
        .join(APP)
        .join(fresh_cid());
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        ("root", work.clone(), "root user"),
        (NM_USER, work.clone(), ""),
        (BOB, work.clone(), ""),
        (ALICE, bob_work.clone(), ""),
        (ALICE, outside.clone(), ""),
        (ALICE, fake, ""),
        (
            ALICE,
            PathBuf::from(format!("{}/../{cid}", work.display())),
            "",
        ),
    ];
    for (user, dir, _) in &cases {
        let file = node.command_file(&bob_cid, user, "/bin/sh,-c,echo RAN", dir);
        let (code, out, err) = exec(&node, &file, "");
        assert_eq!(code, 255, "{user} {}: {out} {err}", dir.display());
        assert!(!out.contains("RAN"), "{out}");
    }
    // A directory at the right place that the user does not own (made by root).
    let foreign = work.parent().unwrap().join(fresh_cid());
    fs::create_dir(&foreign).unwrap();
    let file = node.command_file(&cid, ALICE, "/bin/sh,-c,echo RAN", &foreign);
    let (code, out, err) = exec(&node, &file, "");
    assert_eq!(code, 255, "{out} {err}");
    assert!(err.contains("it is owned by uid 0"), "{err}");
    assert!(!out.contains("RAN"));
    // A symlink where the container directory should be.
    let linked = fresh_cid();
    let link = work.parent().unwrap().join(&linked);
    std::os::unix::fs::symlink(&work, &link).unwrap();
    let file = node.command_file(&cid, ALICE, "/bin/sh,-c,echo RAN", &link);
    let (code, out, _) = exec(&node, &file, "");
    assert_eq!(code, 255, "{out}");
    assert!(!out.contains("RAN"));
    // Not an exec request, missing keys, relative program, docker exec.
    let private = node.private_dir(APP, &cid);
    for (i, text) in [
        "[command-execution]\n  command=run\n  user=U\n  launch-command=/bin/sh\n  workdir=W\n",
        "[command-execution]\n  command=exec\n  user=U\n  workdir=W\n",
        "[command-execution]\n  command=exec\n  launch-command=/bin/sh\n  workdir=W\n",
        "[command-execution]\n  command=exec\n  user=U\n  launch-command=/bin/sh\n",
        "[command-execution]\n  command=exec\n  user=U\n  launch-command=sh\n  workdir=W\n",
    ]
    .iter()
    .enumerate()
    {
        let path = private.join(format!("bad{i}.cmd"));
        let text = text
            .replace("=U\n", &format!("={ALICE}\n"))
            .replace("=W\n", &format!("={}\n", work.display()));
        write_file(&path, &text, 0o644);
        node.nm_owned(&path, 0o644);
        let (code, out, err) = exec(&node, &path, "");
        assert_eq!(code, 255, "{text}: {out} {err}");
    }
    // The Docker form needs the docker gate too (tests/e2e_docker.rs runs it).
    let path = private.join("docker-exec.cmd");
    write_file(
        &path,
        "[docker-command-execution]\n  docker-command=exec\n  name=container_1_2_3_4\n  launch-command=/bin/sh\n",
        0o644,
    );
    node.nm_owned(&path, 0o644);
    let (code, out, err) = exec(&node, &path, "");
    assert_eq!(code, 32, "{out} {err}");
    assert!(err.contains("Feature disabled: docker"), "{err}");
    // A program that cannot be executed: the child reports it through the terminal, 44.
    let file = node.command_file(&cid, ALICE, "/nonexistent/shell", &work);
    let (code, out, _) = exec(&node, &file, "");
    assert_eq!(code, 44, "{out}");
    assert!(out.contains("exec failed"), "{out}");
}
