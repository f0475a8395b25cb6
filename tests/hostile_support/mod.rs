//! Shared pieces of the hostile suite (`tests/hostile_*.rs`): a NodeManager node in a sandbox,
//! root-owned victims whose every byte, owner and mode is checked after an attack, raw ways to
//! start the binary (any argv[0], any environment, any trampoline, with a timeout), and tiny C
//! helpers compiled on the spot with `cc` (always present: cargo links with it).
//!
//! Used as `mod common; mod hostile_support;` from each hostile test file.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{self, account, write_file, Outcome, Sandbox, NM_USER};

pub const APP: &str = "application_1700000000000_0001";
pub const SETPRIV: &str = "/usr/bin/setpriv";
pub const ENV: &str = "/usr/bin/env";
/// Every attack gets this long before it is killed (a hang is a failure, not a stuck suite).
pub const TIMEOUT_SECS: u32 = 60;

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub fn seq() -> usize {
    SEQ.fetch_add(1, Ordering::SeqCst)
}

/// A fresh container id (unique within this test process).
pub fn fresh_cid() -> String {
    format!("container_1700000000000_0001_01_{:06}", seq() + 2)
}

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

pub fn os(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

// ------------------------------------------------------------------------------------------
// Running the binary (or anything) with full control over argv, env and trampolines
// ------------------------------------------------------------------------------------------

/// Run `argv` (argv[0] is the program path) as root with exactly `env`, cwd `/`, stdin
/// /dev/null, killed after [`TIMEOUT_SECS`].
pub fn run_argv(argv: &[OsString], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new("/usr/bin/timeout");
    cmd.args(["-s", "KILL", &TIMEOUT_SECS.to_string()])
        .args(argv)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .current_dir("/")
        .stdin(Stdio::null());
    let shown = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let started = Instant::now();
    let out = common::output(&mut cmd).unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    use std::os::unix::process::ExitStatusExt;
    let code = match (out.status.code(), out.status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => -1,
    };
    assert!(
        started.elapsed() < Duration::from_secs(u64::from(TIMEOUT_SECS)),
        "{shown}: timed out (hang)"
    );
    Outcome {
        command: shown,
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `setpriv` options that make a process `user` (its primary and supplementary groups).
pub fn creds(user: &str) -> Vec<OsString> {
    let a = account(user);
    os(&[
        &format!("--reuid={}", a.uid),
        &format!("--regid={}", a.gid),
        "--init-groups",
    ])
}

/// `setpriv <creds> /usr/bin/env --`: the trampoline that drops root's capabilities before the
/// program is exec'd (see tests/common/mod.rs).
pub fn as_user_prefix(user: &str) -> Vec<OsString> {
    let mut v = vec![OsString::from(SETPRIV)];
    v.extend(creds(user));
    v.extend(os(&[ENV, "--"]));
    v
}

/// `setpriv <creds> /usr/bin/env K=V…`: like [`as_user_prefix`], with `env` set only for the
/// program exec'd last (not for the root-run timeout/setpriv before it). The program path that
/// follows must be absolute.
pub fn as_user_env_prefix(user: &str, env: &[(&str, &str)]) -> Vec<OsString> {
    let mut v = vec![OsString::from(SETPRIV)];
    v.extend(creds(user));
    v.push(ENV.into());
    v.extend(
        env.iter()
            .map(|(k, val)| OsString::from(format!("{k}={val}"))),
    );
    v
}

/// Run the sandbox's binary as `user` with raw (possibly non-UTF-8) arguments and `env` (given
/// to the binary only).
pub fn run_as_os(sb: &Sandbox, user: &str, args: &[OsString], env: &[(&str, &str)]) -> Outcome {
    let mut argv = as_user_env_prefix(user, env);
    argv.push(sb.bin().into_os_string());
    argv.extend(args.iter().cloned());
    run_argv(&argv, &[])
}

/// Run the sandbox's binary as the NodeManager with `env` in its environment.
pub fn run_nm_env(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    run_as_os(sb, NM_USER, &os(args), env)
}

/// `sh -c script` as root with an empty environment (for trampolines that set up hostile state
/// before exec'ing setpriv).
pub fn root_sh(script: &str) -> Outcome {
    run_argv(&os(&["/bin/sh", "-c", script]), &[])
}

/// Single-quote a word for `sh`.
pub fn sq(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

// ------------------------------------------------------------------------------------------
// Compiled helpers
// ------------------------------------------------------------------------------------------

/// Compile C `source` into `<prefix>/tools/<name>` (root:root 0755, usable by every user).
/// `extra` adds compiler flags (e.g. `-shared -fPIC`).
pub fn compile_c(sb: &Sandbox, name: &str, source: &str, extra: &[&str]) -> PathBuf {
    let dir = sb.prefix().join("tools");
    if !dir.exists() {
        fs::create_dir(&dir).expect("mkdir tools");
        sb.chmod(&dir, 0o755);
    }
    let src = dir.join(format!("{name}.c"));
    write_file(&src, source, 0o644);
    let out_path = dir.join(name);
    let out = common::output(
        Command::new("cc")
            .args(extra)
            .arg("-O1")
            .arg("-o")
            .arg(&out_path)
            .arg(&src),
    )
    .expect("cc (needed by cargo itself) is missing");
    assert!(
        out.status.success(),
        "cc {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.chmod(&out_path, 0o755);
    out_path
}

/// `tryroot`: tries every way back to root and prints `name=ok` or `name=<errno>` per line.
pub const TRYROOT_C: &str = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <grp.h>
#include <fcntl.h>
static void r(const char *what, int rc) { printf("%s=%s\n", what, rc == 0 ? "ok" : strerror(errno)); }
int main(int argc, char **argv) {
  gid_t none[1] = {0};
  r("setuid0", setuid(0));
  r("seteuid0", seteuid(0));
  r("setresuid0", setresuid(0, 0, 0));
  r("setreuid0", setreuid(0, 0));
  r("setgid0", setgid(0));
  r("setresgid0", setresgid(0, 0, 0));
  r("setgroups0", setgroups(1, none));
  r("setgroups_empty", setgroups(0, NULL));
  r("chroot", chroot("/"));
  for (int i = 1; i + 1 < argc; i += 2) {
    /* argv pairs: r <path> opens for reading, w <path> opens for writing (no create) */
    int fd = open(argv[i + 1], argv[i][0] == 'w' ? (O_WRONLY | O_APPEND) : O_RDONLY);
    printf("open_%s_%s=%s\n", argv[i], argv[i + 1], fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
  }
  return 0;
}
"#;

/// `tracer prog args…`: runs prog under ptrace (PTRACE_TRACEME), forwarding signals, and exits
/// with its status. The kernel must not honour the setuid bit of a traced exec.
pub const TRACER_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
  pid_t pid = fork();
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) { perror("ptrace"); _exit(100); }
    execv(argv[1], argv + 1);
    perror("execv");
    _exit(101);
  }
  int status, sig = 0;
  for (;;) {
    if (waitpid(pid, &status, 0) < 0) return 102;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
    if (sig == SIGTRAP) sig = 0;
    ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
  }
}
"#;

/// `spoof <argv0> <program> args…`: exec program with a chosen argv[0].
pub const SPOOF_C: &str = r#"
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 3) return 100;
  char *prog = argv[2];
  argv[2] = argv[1];
  execv(prog, argv + 2);
  perror("execv");
  return 101;
}
"#;

/// A preload library whose constructor creates `MARKER` (given with -DMARKER=…) and appends the
/// process's real and effective uid, pid and executable to it.
pub fn preload_source() -> &'static str {
    r#"
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
  char exe[512] = {0};
  if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) exe[0] = '?';
  FILE *f = fopen(MARKER, "a");
  if (f) { fprintf(f, "ruid=%d euid=%d pid=%d exe=%s\n", (int)getuid(), (int)geteuid(), (int)getpid(), exe); fclose(f); }
}
"#
}

// ------------------------------------------------------------------------------------------
// Victims: root-owned things an attacker would love to change
// ------------------------------------------------------------------------------------------

/// Everything about one filesystem entry that an attack could change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryState {
    pub kind: &'static str,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// Snapshot of a tree (not following symlinks), keyed by relative path.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, EntryState> {
    let mut map = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, map: &mut BTreeMap<PathBuf, EntryState>) {
        let Ok(meta) = fs::symlink_metadata(dir) else {
            return;
        };
        let ft = meta.file_type();
        let (kind, content) = if ft.is_symlink() {
            (
                "symlink",
                fs::read_link(dir)
                    .map(|t| t.into_os_string().into_vec())
                    .unwrap_or_default(),
            )
        } else if ft.is_dir() {
            ("dir", Vec::new())
        } else if ft.is_file() {
            ("file", fs::read(dir).unwrap_or_default())
        } else {
            ("other", Vec::new())
        };
        map.insert(
            dir.strip_prefix(base).unwrap_or(dir).to_path_buf(),
            EntryState {
                kind,
                uid: meta.uid(),
                gid: meta.gid(),
                mode: meta.mode() & 0o7777,
                content,
            },
        );
        if ft.is_dir() {
            let mut names: Vec<_> = fs::read_dir(dir)
                .map(|r| r.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            names.sort();
            for p in names {
                walk(base, &p, map);
            }
        }
    }
    walk(root, root, &mut map);
    map
}

/// A root-owned directory (0755, like /etc) holding a root-only secret (0600), a public file
/// (0644) and a subdirectory (0755) with a file. Its full state is recorded at creation;
/// [`Victim::assert_intact`] proves an attack changed nothing in it.
pub struct Victim {
    pub dir: PathBuf,
    pub secret: PathBuf,
    pub public: PathBuf,
    pub subdir: PathBuf,
    before: BTreeMap<PathBuf, EntryState>,
}

pub const SECRET_TEXT: &str = "root-only-secret-0xC0FFEE\n";
pub const PUBLIC_TEXT: &str = "root-owned public file\n";

impl Victim {
    pub fn new(sb: &Sandbox, tag: &str) -> Victim {
        let dir = sb.prefix().join(format!("victim-{tag}-{}", seq()));
        fs::create_dir(&dir).expect("mkdir victim");
        sb.chown(&dir, Some(0), Some(0));
        sb.chmod(&dir, 0o755);
        let secret = dir.join("shadow");
        write_file(&secret, SECRET_TEXT, 0o600);
        let public = dir.join("passwd");
        write_file(&public, PUBLIC_TEXT, 0o644);
        let subdir = dir.join("sub");
        fs::create_dir(&subdir).expect("mkdir victim sub");
        sb.chmod(&subdir, 0o755);
        write_file(&subdir.join("inner"), "inner\n", 0o644);
        for p in [&secret, &public, &subdir] {
            std::os::unix::fs::lchown(p, Some(0), Some(0)).unwrap();
        }
        let before = snapshot(&dir);
        Victim {
            dir,
            secret,
            public,
            subdir,
            before,
        }
    }

    /// Nothing in the victim changed: no entry created, removed, chowned, chmodded or written.
    #[track_caller]
    pub fn assert_intact(&self, context: &str) {
        let now = snapshot(&self.dir);
        assert_eq!(
            now,
            self.before,
            "victim {} changed: {context}",
            self.dir.display()
        );
    }
}

/// A tree's state, to prove later that nothing in it changed.
pub struct Frozen {
    root: PathBuf,
    before: BTreeMap<PathBuf, EntryState>,
}

impl Frozen {
    pub fn new(root: &Path) -> Frozen {
        Frozen {
            root: root.to_path_buf(),
            before: snapshot(root),
        }
    }

    #[track_caller]
    pub fn assert_unchanged(&self, context: &str) {
        let now = snapshot(&self.root);
        if now != self.before {
            let mut diff = String::new();
            for (k, v) in &now {
                match self.before.get(k) {
                    None => diff.push_str(&format!("  + {} {v:?}\n", k.display())),
                    Some(b) if b != v => {
                        diff.push_str(&format!("  ~ {} {b:?} -> {v:?}\n", k.display()))
                    }
                    _ => {}
                }
            }
            for k in self.before.keys().filter(|k| !now.contains_key(*k)) {
                diff.push_str(&format!("  - {}\n", k.display()));
            }
            panic!("{} changed: {context}\n{diff}", self.root.display());
        }
    }
}

// ------------------------------------------------------------------------------------------
// A NodeManager node
// ------------------------------------------------------------------------------------------

/// One sandbox with two NM local dirs and two NM log dirs.
pub struct Node {
    pub sb: Sandbox,
    pub locals: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
}

impl Node {
    pub fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let locals = sb.nm_local_dirs(2);
        let logs = sb.nm_log_dirs(2);
        Some(Node { sb, locals, logs })
    }

    pub fn local_arg(&self) -> String {
        Sandbox::join_dirs(&self.locals)
    }

    pub fn log_arg(&self) -> String {
        Sandbox::join_dirs(&self.logs)
    }

    pub fn nm_uid(&self) -> u32 {
        self.sb.users().nm.uid
    }

    pub fn nm_gid(&self) -> u32 {
        self.sb.users().nm_gid
    }

    pub fn uid(&self, user: &str) -> u32 {
        account(user).uid
    }

    pub fn gid(&self, user: &str) -> u32 {
        account(user).gid
    }

    /// The state of everything below the sandbox's NM local and log dirs.
    pub fn freeze_nm_dirs(&self) -> (Frozen, Frozen) {
        (
            Frozen::new(&self.sb.prefix().join("nm-local")),
            Frozen::new(&self.sb.prefix().join("nm-log")),
        )
    }

    /// `<L>/usercache/<user>/appcache/<app>`.
    pub fn app_dir(&self, local: &Path, user: &str, app: &str) -> PathBuf {
        local
            .join("usercache")
            .join(user)
            .join("appcache")
            .join(app)
    }

    /// The container work dir on the first local dir.
    pub fn work_dir(&self, user: &str, app: &str, cid: &str) -> PathBuf {
        self.app_dir(&self.locals[0], user, app).join(cid)
    }

    /// lchown to `user`'s uid and primary group.
    pub fn own(&self, path: &Path, user: &str) {
        std::os::unix::fs::lchown(path, Some(self.uid(user)), Some(self.gid(user)))
            .unwrap_or_else(|e| panic!("lchown {}: {e}", path.display()));
    }

    /// A directory owned by `user` with `mode` (created if missing, parents not).
    pub fn user_dir(&self, dir: &Path, user: &str, mode: u32) {
        if !dir.exists() {
            fs::create_dir(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        }
        self.own(dir, user);
        self.sb.chmod(dir, mode);
    }

    /// A directory owned by the NM (0700), as the NodeManager makes it.
    pub fn nm_dir(&self, dir: &Path) {
        self.user_dir(dir, NM_USER, 0o700);
    }

    /// A file owned by the NM with the given mode.
    pub fn nm_file(&self, path: &Path, content: &str, mode: u32) {
        let _ = fs::remove_file(path);
        write_file(path, content, mode);
        self.sb
            .chown(path, Some(self.nm_uid()), Some(self.nm_gid()));
        self.sb.chmod(path, mode);
    }

    /// `<L1>/nmPrivate/<app>/<cid>`, cexec_nm 0700.
    pub fn private_dir(&self, app: &str, cid: &str) -> PathBuf {
        let app_dir = self.locals[0].join("nmPrivate").join(app);
        self.nm_dir(&app_dir);
        let dir = app_dir.join(cid);
        self.nm_dir(&dir);
        dir
    }

    /// An NM-owned tokens file for `cid`.
    pub fn tokens(&self, cid: &str) -> PathBuf {
        let tokens = self.private_dir(APP, cid).join(format!("{cid}.tokens"));
        self.nm_file(&tokens, &format!("tokens-of-{cid}\n"), 0o600);
        tokens
    }

    /// The initialize argv as the NodeManager sends it.
    pub fn init_argv(
        &self,
        user: &str,
        cid: &str,
        tokens: &Path,
        localizer: &[&str],
    ) -> Vec<String> {
        let mut v = vec![
            user.to_string(),
            user.to_string(),
            "0".into(),
            APP.into(),
            cid.to_string(),
            s(tokens),
            self.local_arg(),
            self.log_arg(),
        ];
        v.extend(localizer.iter().map(|w| w.to_string()));
        v
    }

    pub fn run_nm(&self, argv: &[String]) -> Outcome {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.sb.run_as_nm(&a)
    }
}

/// What the NodeManager hands one launch.
pub struct Container {
    pub user: String,
    pub app: String,
    pub cid: String,
    pub work_dir: PathBuf,
    pub script: PathBuf,
    pub tokens: PathBuf,
    pub pid_file: PathBuf,
}

impl Container {
    /// Prepare nmPrivate files for a launch of `script_text` as `user`.
    pub fn prepare(node: &Node, user: &str, script_text: &str) -> Container {
        let cid = fresh_cid();
        let private = node.private_dir(APP, &cid);
        let script = private.join("launch_container.sh");
        node.nm_file(&script, script_text, 0o700);
        let tokens = private.join(format!("{cid}.tokens"));
        node.nm_file(&tokens, &format!("tokens-of-{cid}\n"), 0o600);
        let pid_file = private.join(format!("{cid}.pid"));
        Container {
            user: user.to_string(),
            app: APP.to_string(),
            work_dir: node.work_dir(user, APP, &cid),
            cid,
            script,
            tokens,
            pid_file,
        }
    }

    pub fn exit_code_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.exitcode", self.pid_file.display()))
    }

    /// The NodeManager's launch argv (13 words after the program name).
    pub fn argv(&self, node: &Node) -> Vec<String> {
        vec![
            self.user.clone(),
            self.user.clone(),
            "1".into(),
            self.app.clone(),
            self.cid.clone(),
            s(&self.work_dir),
            s(&self.script),
            s(&self.tokens),
            "--http".into(),
            s(&self.pid_file),
            node.local_arg(),
            node.log_arg(),
            "cgroups=none".into(),
        ]
    }

    pub fn launch(&self, node: &Node) -> Outcome {
        node.run_nm(&self.argv(node))
    }

    pub fn launch_env(&self, node: &Node, env: &[(&str, &str)]) -> Outcome {
        let argv = self.argv(node);
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        run_nm_env(&node.sb, &a, env)
    }

    /// Read a file the container wrote into its work dir.
    pub fn probe(&self, name: &str) -> String {
        let p = self.work_dir.join(name);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("container probe {}: {e}", p.display()))
    }
}

/// `key=value` lines.
pub fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
}

/// `/proc/<pid>/status` field values (after the colon, whitespace-split).
pub fn status_field(status: &str, key: &str) -> Vec<String> {
    status
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in status:\n{status}"))
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// No entry anywhere below `dir` has a name equal to `name`.
pub fn nowhere_below(dir: &Path, name: &str) -> bool {
    snapshot(dir)
        .keys()
        .all(|k| k.file_name() != Some(OsStr::new(name)))
}

/// Bytes → OsString (for non-UTF-8 arguments).
pub fn raw(bytes: &[u8]) -> OsString {
    OsStr::from_bytes(bytes).to_os_string()
}

/// Mode bits of a path (not following symlinks).
pub fn lmode(p: &Path) -> u32 {
    fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("lstat {}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Whether a process is alive (not a zombie).
pub fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let rest = &s[s.rfind(')').map_or(0, |i| i + 2)..];
            !rest.starts_with('Z') && !rest.starts_with('X')
        })
        .unwrap_or(false)
}

/// A shell command line: every word single-quoted.
pub fn sh_words(words: &[OsString]) -> String {
    words
        .iter()
        .map(|w| sq(&w.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `sh -c '<setup>; exec setpriv … env -- <bin> <args>'` as root: the NM's call with hostile
/// process state prepared by `setup` (open fds, umask, closed stdio…).
pub fn nm_call_after(sb: &Sandbox, setup: &str, args: &[String]) -> Outcome {
    let mut argv = as_user_prefix(NM_USER);
    argv.push(sb.bin().into_os_string());
    argv.extend(args.iter().map(OsString::from));
    root_sh(&format!("{setup}\nexec {}", sh_words(&argv)))
}

/// `sigstate`: ignore SIGTERM/SIGINT/SIGHUP/SIGUSR2, block SIGTERM/SIGUSR1/SIGCHLD, then exec argv[1..].
pub const SIGSTATE_C: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  signal(SIGTERM, SIG_IGN); signal(SIGINT, SIG_IGN); signal(SIGHUP, SIG_IGN); signal(SIGUSR2, SIG_IGN);
  sigset_t set; sigemptyset(&set);
  sigaddset(&set, SIGTERM); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  execv(argv[1], argv + 1);
  perror("execv");
  return 100;
}
"#;
