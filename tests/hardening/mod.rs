//! Helpers for the hardening tests (`hostile_rlimits_hygiene.rs`, `e2e_hardening.rs`): a node
//! with one NM local and log dir, containers prepared the NodeManager's way, and a runner that
//! lets the caller (the NM account, or root) arrive in a hostile state: shell preparation
//! (ulimit, umask, closed or extra fds, ignored signals), a blocked signal mask (perl) and an
//! arbitrary environment.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{output, write_file, Outcome, Sandbox, NM_USER};

pub const APP: &str = "application_1700000000000_0042";

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub fn fresh_cid() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst) + 2;
    format!("container_1700000000000_0042_01_{n:06}")
}

pub struct Node {
    pub sb: Sandbox,
    pub local: PathBuf,
    pub log: PathBuf,
}

/// How the caller arrives.
#[derive(Default)]
pub struct Caller<'a> {
    /// Shell lines run (as the caller) just before exec'ing the binary: `ulimit`, `umask`,
    /// `exec 7</etc/passwd`, `trap '' CHLD`...
    pub prep: &'a str,
    /// Signals to block (perl's sigprocmask) across the exec of the binary, e.g. "TERM,USR1".
    pub block: &'a str,
    /// The environment the binary gets (nothing else).
    pub env: &'a [(&'a str, &'a str)],
    /// Run as root instead of the NM account.
    pub root: bool,
}

impl Node {
    pub fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let local = sb.nm_local_dirs(1).remove(0);
        let log = sb.nm_log_dirs(1).remove(0);
        Some(Node { sb, local, log })
    }

    pub fn nm_uid(&self) -> u32 {
        self.sb.users().nm.uid
    }

    pub fn nm_gid(&self) -> u32 {
        self.sb.users().nm_gid
    }

    pub fn uid_of(&self, user: &str) -> u32 {
        self.sb.users().get(user).expect("known user").uid
    }

    /// Hand the local and log roots to another "NodeManager" (root, when root is the caller).
    pub fn roots_owned_by(&self, uid: u32) {
        self.sb.chown(&self.local, Some(uid), None);
        self.sb.chown(&self.log, Some(uid), None);
    }

    pub fn app_dir(&self, user: &str) -> PathBuf {
        self.local
            .join("usercache")
            .join(user)
            .join("appcache")
            .join(APP)
    }

    /// A file owned by the NM with the given mode.
    pub fn nm_file(&self, path: &Path, content: &str, mode: u32) {
        let _ = fs::remove_file(path);
        write_file(path, content, mode);
        self.sb
            .chown(path, Some(self.nm_uid()), Some(self.nm_gid()));
        self.sb.chmod(path, mode);
    }

    /// `<L>/nmPrivate/<app>/<cid>`, the NM's 0700.
    pub fn private_dir(&self, cid: &str) -> PathBuf {
        let app = self.local.join("nmPrivate").join(APP);
        for d in [&app, &app.join(cid)] {
            if !d.exists() {
                fs::create_dir(d).expect("mkdir nmPrivate");
            }
            self.sb.chown(d, Some(self.nm_uid()), Some(self.nm_gid()));
            self.sb.chmod(d, 0o700);
        }
        app.join(cid)
    }

    /// Run the binary with `args` as a caller in the given state.
    pub fn run(&self, caller: &Caller, args: &[String]) -> Outcome {
        let nm = &self.sb.users().nm;
        let mut cmd = Command::new("setpriv");
        if caller.root {
            cmd.args(["--reuid=0", "--regid=0", "--clear-groups"]);
        } else {
            cmd.arg(format!("--reuid={}", nm.uid))
                .arg(format!("--regid={}", nm.gid))
                .arg("--init-groups");
        }
        cmd.arg("/usr/bin/env").arg("-i");
        for (k, v) in caller.env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.arg("/bin/bash").arg("-c");
        let exec = if caller.block.is_empty() {
            "exec \"$@\"".to_string()
        } else {
            let sigs: Vec<String> = caller
                .block
                .split(',')
                .map(|s| format!("POSIX::SIG{s}()"))
                .collect();
            format!(
                "exec /usr/bin/perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new({})) or die; exec {{$ARGV[0]}} @ARGV or die' -- \"$@\"",
                sigs.join(",")
            )
        };
        cmd.arg(format!("{}\n{exec}", caller.prep))
            .arg("bash")
            .arg(self.sb.bin())
            .args(args);
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir("/")
            .stdin(Stdio::null());
        let shown = format!(
            "[{}; block {}; env {:?}; root {}] {} {}",
            caller.prep,
            caller.block,
            caller.env,
            caller.root,
            self.sb.bin().display(),
            args.join(" ")
        );
        let out = output(&mut cmd).unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        Outcome {
            command: shown,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn as_nm(&self) -> &str {
        NM_USER
    }
}

/// One launch the NodeManager prepared.
pub struct Container {
    pub user: String,
    pub cid: String,
    pub script: PathBuf,
    pub tokens: PathBuf,
    pub pid_file: PathBuf,
    pub work_dir: PathBuf,
}

impl Container {
    pub fn prepare(node: &Node, user: &str, script_text: &str) -> Container {
        let cid = fresh_cid();
        let private = node.private_dir(&cid);
        let script = private.join("launch_container.sh");
        node.nm_file(&script, script_text, 0o700);
        let tokens = private.join(format!("{cid}.tokens"));
        node.nm_file(&tokens, &format!("tokens-of-{cid}\n"), 0o600);
        Container {
            user: user.into(),
            work_dir: node.app_dir(user).join(&cid),
            pid_file: private.join(format!("{cid}.pid")),
            cid,
            script,
            tokens,
        }
    }

    pub fn argv(&self, node: &Node) -> Vec<String> {
        vec![
            self.user.clone(),
            self.user.clone(),
            "1".into(),
            APP.into(),
            self.cid.clone(),
            self.work_dir.display().to_string(),
            self.script.display().to_string(),
            self.tokens.display().to_string(),
            "--http".into(),
            self.pid_file.display().to_string(),
            node.local.display().to_string(),
            node.log.display().to_string(),
            "cgroups=none".into(),
        ]
    }

    pub fn exit_code_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.exitcode", self.pid_file.display()))
    }
}

/// The initialize argv running `script` with /bin/sh as the localizer.
pub fn initialize_argv(
    node: &Node,
    user: &str,
    cid: &str,
    tokens: &Path,
    script: &str,
) -> Vec<String> {
    vec![
        user.into(),
        user.into(),
        "0".into(),
        APP.into(),
        cid.into(),
        tokens.display().to_string(),
        node.local.display().to_string(),
        node.log.display().to_string(),
        "/bin/sh".into(),
        "-c".into(),
        script.into(),
    ]
}

/// The value of `Key:` in a /proc status dump (first field after the colon).
pub fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key}: in\n{status}"))
}

/// The soft limit column of a /proc limits line, e.g. "Max open files".
pub fn soft_limit<'a>(limits: &'a str, name: &str) -> &'a str {
    limits
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {name} in\n{limits}"))
}

/// Lines of `text` starting with `prefix`, prefix removed.
pub fn tagged(text: &str, prefix: &str) -> String {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}
