//! End-to-end: the Docker modes against a real engine — Debian's podman (docker-compatible CLI)
//! with runc, configured as `docker.binary`, and an image imported from a busybox-static root
//! file system (`tests/docker_support`). Command 4 launches a container as the user's uid:gid
//! with its work dir and log dir mounted, and its exit status reaches `.exitcode`; then
//! inspect, stop with a signal, and remove, the way the NodeManager drives them.
//!
//! Without root, podman or a working engine these tests print a SKIPPED banner (and fail when
//! CEXEC_E2E_REQUIRED is set).

mod common;
mod docker_support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use common::{read, Sandbox, ALICE};
use docker_support::{engine, engine_has, engine_rm, fresh_cid, skip, Node, IMAGE, PODMAN};

/// A node configured for the real engine, or None after the SKIPPED banner.
fn node(name: &str) -> Option<Node> {
    let node = Node::new(name)?;
    if let Err(why) = engine() {
        skip(name, &why);
        return None;
    }
    let rw: Vec<String> = node
        .locals
        .iter()
        .chain(node.logs.iter())
        .map(|p| p.display().to_string())
        .collect();
    node.docker_config(
        PODMAN,
        &format!(
            "docker.trusted.registries=localhost\ndocker.allowed.networks=host,none\ndocker.allowed.rw-mounts={}\n",
            rw.join(",")
        ),
    );
    Some(node)
}

/// The run command file the NodeManager writes for a non-entry-point launch (detached, the
/// script in the mounted work dir run by the image's shell), plus `extra` keys.
fn run_file(node: &Node, cid: &str, extra: &[(&str, &str)]) -> std::path::PathBuf {
    let alice = node.sb.users().alice.clone();
    let work = node.work_dir(ALICE, cid).display().to_string();
    let log = node.log_dir(cid).display().to_string();
    let user = format!("{}:{}", alice.uid, alice.gid);
    let mounts = format!("{work}:{work}:rw,{log}:{log}:rw");
    let script = format!("{work}/launch_container.sh");
    let mut entries: Vec<(&str, &str)> = vec![
        ("docker-command", "run"),
        ("name", cid),
        ("user", &user),
        ("image", IMAGE),
        ("net", "host"),
        ("workdir", &work),
        ("mounts", &mounts),
        ("cap-drop", "ALL"),
    ];
    let default_launch = format!("sh,{script}");
    let has = |k: &str| extra.iter().any(|(key, _)| *key == k);
    if !has("launch-command") {
        entries.push(("launch-command", &default_launch));
    }
    if !has("detach") {
        entries.push(("detach", "true"));
    }
    entries.extend_from_slice(extra);
    node.command_file(cid, &entries)
}

#[test]
fn a_launch_runs_as_the_user_with_its_dirs_mounted_and_reports_the_exit_status() {
    let Some(node) = node("docker-launch") else {
        return;
    };
    let cid = fresh_cid();
    let work = node.work_dir(ALICE, &cid);
    let log = node.log_dir(&cid);
    let script = format!(
        "#!/bin/sh\nid -u > {w}/ids\nid -g >> {w}/ids\npwd > {w}/pwd\necho from-container > {l}/app.log\nexit 7\n",
        w = work.display(),
        l = log.display()
    );
    let inputs = node.launch_inputs(&cid, &script);
    let file = run_file(&node, &cid, &[]);
    let out = node.run_nm(&node.launch_argv(ALICE, &cid, &inputs, &file));
    engine_rm(&cid);
    out.assert_code(7);
    let alice = node.sb.users().alice.clone();
    assert_eq!(
        read(&work.join("ids")),
        format!("{}\n{}\n", alice.uid, alice.gid),
        "{}",
        out.describe()
    );
    assert_eq!(read(&work.join("pwd")).trim(), work.display().to_string());
    assert_eq!(read(&log.join("app.log")), "from-container\n");
    // Files written in the container belong to the user on the host.
    assert_eq!(fs::metadata(work.join("ids")).unwrap().uid(), alice.uid);
    assert_eq!(read(&inputs.exit_code_file()), "7");
    // The pid file was written as the NM (the container may have exited before a pid was
    // seen, then there is none: Hadoop writes it only for a pid other than 0).
    if let Ok(m) = fs::metadata(&inputs.pid_file) {
        assert_eq!(m.uid(), node.nm_uid());
    }
    // stdout.txt / stderr.txt: user:NM group, 0640.
    for name in ["stdout.txt", "stderr.txt"] {
        let m = fs::metadata(log.join(name)).unwrap();
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & 0o7777),
            (alice.uid, node.nm_gid(), 0o640)
        );
    }
    // What the docker run looked like.
    out.assert_stdout_has("--user=")
        .assert_stdout_has("--cap-drop=ALL")
        .assert_stdout_has(&format!("--name={cid}"));
}

#[test]
fn an_entry_point_launch_writes_its_output_to_the_log_files_and_exit_0_is_seen_at_once() {
    let Some(node) = node("docker-entry-point") else {
        return;
    };
    let cid = fresh_cid();
    let inputs = node.launch_inputs(&cid, "#!/bin/sh\nexit 99\n");
    let file = run_file(
        &node,
        &cid,
        &[
            ("use-entry-point", "true"),
            ("detach", "false"),
            (
                "launch-command",
                "sh,-c,echo out-line; echo err-line >&2; exit 0",
            ),
        ],
    );
    let started = Instant::now();
    let out = node.run_nm(&node.launch_argv(ALICE, &cid, &inputs, &file));
    engine_rm(&cid);
    out.assert_code(0);
    assert_eq!(read(&inputs.exit_code_file()), "0");
    let log = node.log_dir(&cid);
    let stdout = read(&log.join("stdout.txt"));
    assert!(
        stdout.starts_with("Launching docker container...\nDocker run command: "),
        "{stdout}"
    );
    assert!(stdout.contains("out-line"), "{stdout}");
    assert!(read(&log.join("stderr.txt")).contains("err-line"));
    // Hadoop polls a 0 exit code for retries x 3 s; we stop at the first "exited".
    assert!(
        started.elapsed() < Duration::from_secs(14),
        "{:?}",
        started.elapsed()
    );
}

/// A command-4 launch running in the background as the NodeManager (it lasts as long as its
/// container). Killed on drop.
struct Launcher(std::process::Child);

impl Launcher {
    fn start(node: &Node, argv: &[String]) -> Launcher {
        let nm = node.sb.users().nm.clone();
        let child = std::process::Command::new("/usr/bin/setpriv")
            .arg(format!("--reuid={}", nm.uid))
            .arg(format!("--regid={}", nm.gid))
            .arg("--init-groups")
            .arg(node.sb.bin())
            .args(argv)
            .env_clear()
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the launch");
        Launcher(child)
    }

    fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn inspect_stop_with_a_signal_and_remove_a_running_container() {
    let Some(node) = node("docker-control") else {
        return;
    };
    let cid = fresh_cid();
    let inputs = node.launch_inputs(&cid, "#!/bin/sh\nexec sleep 300\n");
    let file = run_file(&node, &cid, &[]);
    let mut launcher = Launcher::start(&node, &node.launch_argv(ALICE, &cid, &inputs, &file));
    wait_until("the pid file", Duration::from_secs(60), || {
        inputs.pid_file.exists()
    });
    let pid: i32 = read(&inputs.pid_file).trim().parse().unwrap();
    assert!(pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists());

    // --inspect-docker-container, as DockerInspectCommand.get() calls it.
    node.sb
        .run_as_nm(&[
            "--inspect-docker-container",
            "--format={{.State.Status}}",
            &cid,
        ])
        .assert_code(0)
        .assert_stdout_has("running");
    // The Docker form of --exec-container (YARN UI2's terminal), on a real pseudo-terminal.
    node.docker_config(
        PODMAN,
        &format!(
            "docker.trusted.registries=localhost\ndocker.allowed.networks=host,none\ndocker.allowed.rw-mounts={}\n",
            node.locals.iter().chain(node.logs.iter()).map(|p| p.display().to_string()).collect::<Vec<_>>().join(",")
        ),
    );
    let cfg = fs::read_to_string(node.sb.config_path()).unwrap();
    node.sb
        .write_config(&format!("feature.terminal.enabled=true\n{cfg}"));
    let exec = node.command_file(
        &cid,
        &[
            ("docker-command", "exec"),
            ("name", &cid),
            ("launch-command", "/bin/sh,-c,echo in-$(id -u)-exec"),
            ("interactive", "true"),
            ("tty", "true"),
        ],
    );
    let alice_uid = node.sb.users().alice.uid;
    node.sb
        .run_as_nm(&["--exec-container", &exec.display().to_string()])
        .assert_code(0)
        .assert_stdout_has(&format!("in-{alice_uid}-exec"));
    // --run-docker inspect.
    let inspect = node.command_file(
        &cid,
        &[
            ("docker-command", "inspect"),
            ("format", "{{.State.Status}},{{.Config.StopSignal}}"),
            ("name", &cid),
        ],
    );
    node.sb
        .run_as_nm(&["--run-docker", &inspect.display().to_string()])
        .assert_code(0)
        .assert_stdout_has("running,");
    // Stop with a signal: kill KILL (the NM's signalContainer for KILL).
    let kill = node.command_file(
        &cid,
        &[
            ("docker-command", "kill"),
            ("name", &cid),
            ("signal", "KILL"),
        ],
    );
    node.sb
        .run_as_nm(&["--run-docker", &kill.display().to_string()])
        .assert_code(0);
    let status = launcher
        .wait_for_exit(Duration::from_secs(60))
        .expect("the launch ends with its container");
    assert_eq!(status.code(), Some(137), "launch status");
    assert_eq!(read(&inputs.exit_code_file()), "137");
    // Remove, with the cgroup hierarchy the NM names: the container's cgroup dir on a cgroup v1
    // mount goes too (the test makes one where the engine would).
    assert!(engine_has(&cid));
    let hierarchy = format!("cexec-e2e-{}", std::process::id());
    let cgroup = v1_cgroup_mount().map(|m| m.join(&hierarchy));
    if let Some(dir) = &cgroup {
        fs::create_dir_all(dir.join(&cid)).unwrap();
    }
    node.sb
        .run_as_nm(&["--remove-docker-container", &hierarchy, &cid])
        .assert_code(0);
    assert!(!engine_has(&cid), "container still known to the engine");
    if let Some(dir) = &cgroup {
        let gone = !dir.join(&cid).exists();
        let _ = fs::remove_dir(dir.join(&cid));
        let _ = fs::remove_dir(dir);
        assert!(gone, "cgroup dir of the container not removed");
    }
    // Inspect of a container that is gone: docker's own status passes through (exec in place).
    let gone = node
        .sb
        .run_as_nm(&["--run-docker", &inspect.display().to_string()]);
    let direct = std::process::Command::new(PODMAN)
        .args([
            "inspect",
            "--format={{.State.Status}},{{.Config.StopSignal}}",
            &cid,
        ])
        .output()
        .unwrap();
    assert_ne!(gone.code, 0, "{}", gone.describe());
    assert_eq!(Some(gone.code), direct.status.code(), "{}", gone.describe());
}

#[test]
fn stop_sends_the_stop_signal_then_kills() {
    let Some(node) = node("docker-stop") else {
        return;
    };
    let cid = fresh_cid();
    let inputs = node.launch_inputs(
        &cid,
        "#!/bin/sh\ntrap 'exit 42' TERM\nwhile :; do sleep 1; done\n",
    );
    let file = run_file(&node, &cid, &[]);
    let mut launcher = Launcher::start(&node, &node.launch_argv(ALICE, &cid, &inputs, &file));
    wait_until("the pid file", Duration::from_secs(60), || {
        inputs.pid_file.exists()
    });
    let stop = node.command_file(
        &cid,
        &[("docker-command", "stop"), ("name", &cid), ("time", "10")],
    );
    node.sb
        .run_as_nm(&["--run-docker", &stop.display().to_string()])
        .assert_code(0);
    let status = launcher
        .wait_for_exit(Duration::from_secs(60))
        .expect("launch ends");
    engine_rm(&cid);
    // The script traps TERM and exits 42: the status comes from the container.
    assert_eq!(status.code(), Some(42));
    assert_eq!(read(&inputs.exit_code_file()), "42");
}

/// A cgroup v1 mount (first field `cgroup` in /proc/mounts), if any.
fn v1_cgroup_mount() -> Option<std::path::PathBuf> {
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[0] == "cgroup" && f[2] == "cgroup")
        .map(|f| std::path::PathBuf::from(f[1]))
}

#[test]
fn a_relaunch_starts_the_same_container_again() {
    let Some(node) = node("docker-relaunch") else {
        return;
    };
    let cid = fresh_cid();
    let work = node.work_dir(ALICE, &cid);
    let script = format!("#!/bin/sh\necho ran >> {}/runs\nexit 5\n", work.display());
    let inputs = node.launch_inputs(&cid, &script);
    let file = run_file(&node, &cid, &[]);
    node.run_nm(&node.launch_argv(ALICE, &cid, &inputs, &file))
        .assert_code(5);
    // The NodeManager's ContainerRelaunch removes the previous copies and the exit code file,
    // then launches with a start command file.
    for name in ["launch_container.sh", "container_tokens"] {
        fs::remove_file(work.join(name)).unwrap();
    }
    fs::remove_file(inputs.exit_code_file()).unwrap();
    let inputs = node.launch_inputs(&cid, &script);
    let start = node.command_file(&cid, &[("docker-command", "start"), ("name", &cid)]);
    let out = node.run_nm(&node.launch_argv(ALICE, &cid, &inputs, &start));
    engine_rm(&cid);
    out.assert_code(5);
    assert_eq!(read(&work.join("runs")), "ran\nran\n");
    assert_eq!(read(&inputs.exit_code_file()), "5");
}

#[test]
fn docker_modes_are_32_while_disabled() {
    let Some(sb) = Sandbox::new("docker-disabled") else {
        return;
    };
    sb.run_as_nm(&["--run-docker", "/x"])
        .assert_code(32)
        .assert_stderr_has("Feature disabled: docker");
    sb.run_as_nm(&[
        "--inspect-docker-container",
        "--format={{.State.Status}}",
        "container_1_2_3_4",
    ])
    .assert_code(32);
    sb.run_as_nm(&["--remove-docker-container", "container_1_2_3_4"])
        .assert_code(32);
    sb.run_as_nm(&["a", "a", "4"]).assert_code(32);
}
