//! Shared pieces of the Docker tests (`tests/e2e_docker.rs`, `tests/hostile_docker.rs`): a node
//! with NM local/log dirs, docker command files written the way the NodeManager writes them
//! (`<L1>/nmPrivate/<app>/<cid>/docker.<cid>.cmd`, cexec_nm, 0644), the command-4 argv, a real
//! engine (Debian's podman with runc, the image imported from a busybox-static root file
//! system this module builds: no registry is needed), and a recording stand-in for the docker
//! binary that logs its argv and runs nothing.
//!
//! Used as `mod common; mod docker_support;`.
#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::common::{self, write_file, Outcome, Sandbox};

pub const APP: &str = "application_1700000000000_0001";
/// The engine the tests drive (never the PATH's `docker`: this machine may have a Docker
/// client without a daemon in /usr/local/bin).
pub const PODMAN: &str = "/usr/bin/podman";
/// The image, imported locally; `localhost` is the trusted registry of the test configs.
pub const IMAGE: &str = "localhost/cexec-busybox:e2e";
pub const BUSYBOX: &str = "/bin/busybox";

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh container id, unique across test processes running at once (the engine is shared).
pub fn fresh_cid() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    // The application sequence number as YARN writes it: no leading zero beyond 4 digits.
    let seq = 1_000_000 + std::process::id() % 1_000_000;
    format!("container_1700000000000_{seq}_01_{:06}", n + 2)
}

/// Loud banner; a failure when CEXEC_E2E_REQUIRED is set (CI must have the engine).
pub fn skip(name: &str, why: &str) {
    let required = std::env::var(common::REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
    if required {
        panic!(
            "{name}: {why}, but {} is set: the Docker tests must run here",
            common::REQUIRE_ENV
        );
    }
    let banner = "!".repeat(100);
    let _ = writeln!(
        std::io::stderr(),
        "\n{banner}\n!!! SKIPPED {name}: {why} !!!\n{banner}"
    );
}

fn podman(args: &[&str]) -> std::io::Result<std::process::Output> {
    common::output(
        Command::new(PODMAN)
            .args(args)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
    )
}

/// The image exists and a container runs on this machine; Err says why not. Built once per
/// test process: a root fs of busybox-static with applet links, imported with `podman import`.
pub fn engine() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            if !Path::new(PODMAN).is_file() {
                return Err(format!(
                    "{PODMAN} is not installed (apt-get install podman runc)"
                ));
            }
            if !Path::new(BUSYBOX).is_file() {
                return Err(format!(
                    "{BUSYBOX} is not installed (apt-get install busybox-static)"
                ));
            }
            let exists = podman(&["image", "exists", IMAGE]).map_err(|e| e.to_string())?;
            if !exists.status.success() {
                build_image()?;
            }
            let probe = podman(&["run", "--rm", "--net=host", IMAGE, "/bin/true"])
                .map_err(|e| e.to_string())?;
            if !probe.status.success() {
                return Err(format!(
                    "podman cannot run a container here: {}",
                    String::from_utf8_lossy(&probe.stderr).trim()
                ));
            }
            Ok(())
        })
        .clone()
}

fn build_image() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().join("root");
    for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "root"] {
        fs::create_dir_all(root.join(d)).map_err(|e| e.to_string())?;
    }
    fs::copy(BUSYBOX, root.join("bin/busybox")).map_err(|e| e.to_string())?;
    let list = common::output(Command::new(BUSYBOX).arg("--list")).map_err(|e| e.to_string())?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() {
            let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
        }
    }
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
        .map_err(|e| e.to_string())?;
    fs::write(root.join("etc/group"), "root:x:0:\n").map_err(|e| e.to_string())?;
    let tar = dir.path().join("root.tar");
    let tarred = common::output(
        Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg("."),
    )
    .map_err(|e| e.to_string())?;
    if !tarred.status.success() {
        return Err("tar of the image root failed".into());
    }
    let imported = podman(&["import", &tar.to_string_lossy(), IMAGE]).map_err(|e| e.to_string())?;
    if !imported.status.success() {
        return Err(format!(
            "podman import failed: {}",
            String::from_utf8_lossy(&imported.stderr).trim()
        ));
    }
    Ok(())
}

/// Remove a container the engine may still hold (best effort, for cleanup).
pub fn engine_rm(cid: &str) {
    let _ = podman(&["rm", "-f", cid]);
}

/// Whether the engine knows the container.
pub fn engine_has(cid: &str) -> bool {
    podman(&["container", "exists", cid]).is_ok_and(|o| o.status.success())
}

/// One sandbox with NM local dirs and log dirs.
pub struct Node {
    pub sb: Sandbox,
    pub locals: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
}

impl Node {
    pub fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let locals = sb.nm_local_dirs(2);
        let logs = sb.nm_log_dirs(1);
        Some(Node { sb, locals, logs })
    }

    pub fn nm_uid(&self) -> u32 {
        self.sb.users().nm.uid
    }

    pub fn nm_gid(&self) -> u32 {
        self.sb.users().nm_gid
    }

    /// The configuration with a `[docker]` section: `binary` as docker.binary, then `extra`
    /// lines of that section.
    pub fn docker_config(&self, binary: &str, extra: &str) {
        let text = format!(
            "{}[docker]\nmodule.enabled=true\ndocker.binary={binary}\ndocker.inspect.max.retries=5\n{extra}",
            common::config_text(&[])
        );
        self.sb.write_config(&text);
    }

    /// A directory owned by the NM, 0700.
    pub fn nm_dir(&self, dir: &Path) {
        if !dir.exists() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        }
        self.sb.chown(dir, Some(self.nm_uid()), Some(self.nm_gid()));
        self.sb.chmod(dir, 0o700);
    }

    /// A file owned by the NM.
    pub fn nm_file(&self, path: &Path, content: &str, mode: u32) {
        let _ = fs::remove_file(path);
        write_file(path, content, mode);
        self.sb
            .chown(path, Some(self.nm_uid()), Some(self.nm_gid()));
        self.sb.chmod(path, mode);
    }

    /// `<L1>/nmPrivate/<app>/<cid>` (NM, 0700).
    pub fn private_dir(&self, cid: &str) -> PathBuf {
        let app = self.locals[0].join("nmPrivate").join(APP);
        self.nm_dir(&app);
        let dir = app.join(cid);
        self.nm_dir(&dir);
        dir
    }

    /// A docker command file as the NodeManager writes it, for `cid`: the header, then
    /// `  key=value` lines. Returns its path.
    pub fn command_file(&self, cid: &str, entries: &[(&str, &str)]) -> PathBuf {
        let mut text = String::from("[docker-command-execution]\n");
        for (k, v) in entries {
            text.push_str(&format!("  {k}={v}\n"));
        }
        self.raw_command_file(cid, &text)
    }

    pub fn raw_command_file(&self, cid: &str, text: &str) -> PathBuf {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let path = self.private_dir(cid).join(format!("docker.{cid}{n}.cmd"));
        self.nm_file(&path, text, 0o644);
        path
    }

    /// The container work dir on L1.
    pub fn work_dir(&self, user: &str, cid: &str) -> PathBuf {
        self.locals[0]
            .join("usercache")
            .join(user)
            .join("appcache")
            .join(APP)
            .join(cid)
    }

    /// The container log dir.
    pub fn log_dir(&self, cid: &str) -> PathBuf {
        self.logs[0].join(APP).join(cid)
    }

    /// What the NodeManager hands command 4 for `cid`: script, tokens, pid file in nmPrivate.
    pub fn launch_inputs(&self, cid: &str, script: &str) -> LaunchInputs {
        let private = self.private_dir(cid);
        let script_path = private.join("launch_container.sh");
        self.nm_file(&script_path, script, 0o700);
        let tokens = private.join(format!("{cid}.tokens"));
        self.nm_file(&tokens, "tokens\n", 0o600);
        LaunchInputs {
            script: script_path,
            tokens,
            pid_file: private.join(format!("{cid}.pid")),
        }
    }

    /// The command-4 argv (14 words after the program: `--http`, no tc file).
    pub fn launch_argv(
        &self,
        user: &str,
        cid: &str,
        inputs: &LaunchInputs,
        command_file: &Path,
    ) -> Vec<String> {
        vec![
            user.into(),
            user.into(),
            "4".into(),
            APP.into(),
            cid.into(),
            self.work_dir(user, cid).display().to_string(),
            inputs.script.display().to_string(),
            inputs.tokens.display().to_string(),
            "--http".into(),
            inputs.pid_file.display().to_string(),
            Sandbox::join_dirs(&self.locals),
            Sandbox::join_dirs(&self.logs),
            command_file.display().to_string(),
        ]
    }

    pub fn run_nm(&self, argv: &[String]) -> Outcome {
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.sb.run_as_nm(&args)
    }

    /// A stand-in docker binary (root, 0755) that appends its argv, one item per line and a
    /// `--` after each run, to `<prefix>/docker.log`, and runs nothing. Its answers: `inspect`
    /// for the pid prints 0, for the status and exit code `exited 0`; anything else prints
    /// nothing. Exits 0.
    pub fn recording_docker(&self) -> (PathBuf, PathBuf) {
        let bin = self.sb.prefix().join("bin").join("recording-docker");
        let log = self.sb.prefix().join("docker.log");
        let script = format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '{log}'\necho -- >> '{log}'\ncase \"$*\" in\n  *'{{{{.State.Pid}}}}'*) echo 0 ;;\n  *'{{{{.State.ExitCode}}}}'*) echo 'exited 0' ;;\nesac\nexit 0\n",
            log = log.display()
        );
        write_file(&bin, &script, 0o755);
        self.sb.chown(&bin, Some(0), Some(0));
        self.sb.chmod(&bin, 0o755);
        (bin, log)
    }
}

pub struct LaunchInputs {
    pub script: PathBuf,
    pub tokens: PathBuf,
    pub pid_file: PathBuf,
}

impl LaunchInputs {
    pub fn exit_code_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.exitcode", self.pid_file.display()))
    }
}

/// The runs a recording docker logged: each run's argv.
pub fn recorded(log: &Path) -> Vec<Vec<String>> {
    let Ok(text) = fs::read_to_string(log) else {
        return Vec::new();
    };
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for line in text.lines() {
        if line == "--" {
            runs.push(std::mem::take(&mut cur));
        } else {
            cur.push(line.to_string());
        }
    }
    runs
}
