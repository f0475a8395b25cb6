//! The end-to-end sandbox shared by every `tests/e2e_*.rs` file.
//!
//! A [`Sandbox`] is a real, root-owned installation of the freshly built binary, laid out the way
//! a Hadoop node has it:
//!
//! ```text
//! /opt/cexec-e2e/<name>-<pid>-<n>/                 root:root     0755
//!     bin/container-executor                       root:cexec_hadoop 6050
//!     etc/hadoop/container-executor.cfg            root:root     0400
//!     nm-local/<i>/{usercache,nmPrivate}           cexec_nm      (on request)
//!     nm-log/<i>                                   cexec_nm      (on request)
//! ```
//!
//! The binary finds its configuration at `<dir of the executable>/../etc/hadoop/…` (the
//! compile-time default), so no rebuild is needed. The prefix is outside `/tmp` on purpose: every
//! ancestor of the configuration must be root-owned and not group/world-writable.
//!
//! Shared accounts (created once, idempotently, under a cross-process lock, and left in place):
//! * `cexec_hadoop` — the NodeManager group;
//! * `cexec_nm` — the NodeManager user, primary group `cexec_hadoop`;
//! * `cexec_alice`, `cexec_bob` — application users (uid >= 1000, own primary groups, not in
//!   the NM group);
//! * `cexec_sys` — a system user (uid < 1000);
//! * `cexec_out` — an ordinary user outside the NM group (a caller that must be refused).
//!
//! Tests never change these accounts. A test that needs a special account creates a uniquely
//! named one with [`TempUser`], which is deleted again on drop.
//!
//! How callers are simulated: `setpriv --reuid=U --regid=G --init-groups /usr/bin/env -- <bin> …`
//! with an empty environment and cwd `/` (what the NodeManager does). The `/usr/bin/env`
//! trampoline matters: setpriv keeps root's capabilities until its own `execve`, so exec'ing the
//! binary straight from setpriv would bypass the file's permission bits (CAP_DAC_OVERRIDE).
//! Through `env`, the kernel checks the caller's real credentials, as it does for a NodeManager.
#![allow(dead_code)] // each test binary uses a different subset

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Group, User};

/// The NodeManager group.
pub const NM_GROUP: &str = "cexec_hadoop";
/// The NodeManager user (primary group [`NM_GROUP`]).
pub const NM_USER: &str = "cexec_nm";
pub const ALICE: &str = "cexec_alice";
pub const BOB: &str = "cexec_bob";
/// A system account (uid below 1000).
pub const SYS_USER: &str = "cexec_sys";
/// An ordinary account outside the NodeManager group.
pub const OUTSIDER: &str = "cexec_out";

/// Installs live below this root-owned directory (never under /tmp).
pub const SANDBOX_ROOT: &str = "/opt/cexec-e2e";
/// Serialises account creation across test threads and test processes.
const LOCK_FILE: &str = "/run/cexec-e2e.lock";
/// Set (to anything but "0") to turn "skipped: not root" into a failure, so CI cannot go green
/// by silently skipping everything.
pub const REQUIRE_ENV: &str = "CEXEC_E2E_REQUIRED";

/// The binary under test, built by cargo for this test run.
pub const BUILT_BINARY: &str = env!("CARGO_BIN_EXE_container-executor");

/// The config path as the binary spells it when it is missing (the compiled-in candidate).
pub const CONFIG_CANDIDATE: &str = "../etc/hadoop/container-executor.cfg";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Guards against ETXTBSY. While a thread copies a binary into a sandbox, the destination is
/// open for writing; a child forked meanwhile by another test thread inherits that descriptor
/// until it execs, and exec'ing the new binary then fails with "Text file busy". So every
/// spawn in this process holds the read side until the child has exec'd (`Command::spawn`
/// returns only then), and copying a binary holds the write side.
static EXEC_LOCK: RwLock<()> = RwLock::new(());

/// Start a child (see [`EXEC_LOCK`]). Every process the tests start goes through here.
pub fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    let _guard = EXEC_LOCK.read().unwrap_or_else(|e| e.into_inner());
    cmd.spawn()
}

/// Run a child to completion, capturing both streams.
pub fn output(cmd: &mut Command) -> std::io::Result<std::process::Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn(cmd)?.wait_with_output()
}

/// Copy an executable (see [`EXEC_LOCK`]).
fn copy_executable(from: &Path, to: &Path) -> std::io::Result<u64> {
    let _guard = EXEC_LOCK.write().unwrap_or_else(|e| e.into_inner());
    fs::copy(from, to)
}

// ------------------------------------------------------------------------------------------
// Accounts
// ------------------------------------------------------------------------------------------

/// One Unix account as the passwd database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Primary group name.
    pub group: String,
}

/// The shared accounts of every sandbox.
#[derive(Debug, Clone)]
pub struct Users {
    pub nm: Account,
    pub nm_gid: u32,
    pub alice: Account,
    pub bob: Account,
    pub sys: Account,
    pub out: Account,
}

impl Users {
    pub fn get(&self, name: &str) -> Option<&Account> {
        [&self.nm, &self.alice, &self.bob, &self.sys, &self.out]
            .into_iter()
            .find(|a| a.name == name)
    }
}

/// Hold the cross-process lock while `f` runs (useradd/userdel fail on a locked /etc/passwd).
fn with_lock<T>(f: impl FnOnce() -> T) -> T {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(LOCK_FILE)
        .unwrap_or_else(|e| panic!("cannot open lock file {LOCK_FILE}: {e}"));
    let _guard = Flock::lock(file, FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("cannot lock {LOCK_FILE}: {e}"));
    f()
}

/// Run an account-management tool; retried a few times because a foreign process (not using
/// our lock) may hold /etc/passwd's lock for a moment.
fn admin(program: &str, args: &[&str]) {
    let mut last = String::new();
    for attempt in 0..10 {
        let out = output(Command::new(program).args(args))
            .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
        if out.status.success() {
            return;
        }
        last = format!(
            "{program} {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200 * (attempt + 1)));
    }
    panic!("{last}");
}

fn lookup_group(name: &str) -> Option<Group> {
    Group::from_name(name).unwrap_or_else(|e| panic!("getgrnam({name}): {e}"))
}

pub fn lookup_user(name: &str) -> Option<User> {
    User::from_name(name).unwrap_or_else(|e| panic!("getpwnam({name}): {e}"))
}

/// The account `name`, which must exist.
pub fn account(name: &str) -> Account {
    let user = lookup_user(name).unwrap_or_else(|| panic!("user {name} does not exist"));
    let group = Group::from_gid(user.gid)
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_else(|| user.gid.to_string());
    Account {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        group,
    }
}

/// Whether `user` is in `group` by primary gid or by the group's member list.
fn is_member(user: &Account, group: &Group) -> bool {
    user.gid == group.gid.as_raw() || group.mem.iter().any(|m| m == &user.name)
}

/// Create (if needed) and verify the shared accounts. Runs once per test process, under the
/// cross-process lock.
pub fn shared_users() -> &'static Users {
    static USERS: OnceLock<Users> = OnceLock::new();
    USERS.get_or_init(|| with_lock(create_shared_users))
}

fn create_shared_users() -> Users {
    if lookup_group(NM_GROUP).is_none() {
        admin("groupadd", &[NM_GROUP]);
    }
    if lookup_user(NM_USER).is_none() {
        admin(
            "useradd",
            &["-M", "-N", "-g", NM_GROUP, "-s", "/bin/sh", NM_USER],
        );
    }
    for name in [ALICE, BOB, OUTSIDER] {
        ensure_user(name, false);
    }
    ensure_user(SYS_USER, true);

    let hadoop = lookup_group(NM_GROUP).expect("NM group vanished");
    let users = Users {
        nm: account(NM_USER),
        nm_gid: hadoop.gid.as_raw(),
        alice: account(ALICE),
        bob: account(BOB),
        sys: account(SYS_USER),
        out: account(OUTSIDER),
    };
    // The tests rely on these facts; a host where they do not hold would make them lie.
    assert_eq!(
        users.nm.gid, users.nm_gid,
        "{NM_USER}'s primary group must be {NM_GROUP}"
    );
    for a in [&users.alice, &users.bob, &users.out] {
        assert!(
            a.uid >= 1000,
            "{} must have uid >= 1000, has {}",
            a.name,
            a.uid
        );
        assert!(
            !is_member(a, &hadoop),
            "{} must not be a member of {NM_GROUP}",
            a.name
        );
    }
    assert!(
        users.sys.uid < 1000 && users.sys.uid != 0,
        "{SYS_USER} must be a system account (0 < uid < 1000), has {}",
        users.sys.uid
    );
    assert!(
        !is_member(&users.sys, &hadoop),
        "{SYS_USER} is in {NM_GROUP}"
    );
    users
}

fn ensure_user(name: &str, system: bool) {
    if lookup_user(name).is_some() {
        return;
    }
    let mut args = vec!["-M", "-s", "/bin/sh"];
    if system {
        args.push("-r");
    }
    // -U fails when a group of that name already exists (e.g. a half-finished earlier run).
    if lookup_group(name).is_some() {
        args.extend(["-g", name]);
    } else {
        args.push("-U");
    }
    args.push(name);
    admin("useradd", &args);
}

/// A uniquely named account for one test, deleted (with its private group) on drop.
pub struct TempUser {
    pub account: Account,
}

impl TempUser {
    /// `system`: uid below 1000 (`useradd -r`). `groups`: supplementary groups.
    pub fn create(system: bool, groups: &[&str]) -> TempUser {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("cexec_t{}_{n}", std::process::id());
        let joined = groups.join(",");
        with_lock(|| {
            let mut args = vec!["-M", "-U", "-s", "/bin/sh"];
            if system {
                args.push("-r");
            }
            if !groups.is_empty() {
                args.extend(["-G", joined.as_str()]);
            }
            args.push(&name);
            admin("useradd", &args);
        });
        TempUser {
            account: account(&name),
        }
    }

    /// A uniquely named account made with `useradd -M -s /bin/sh <args> <name>` (no `-U`), for
    /// accounts the other constructor cannot make: a chosen primary group (`-g root`), a
    /// second name for an existing uid (`-o -u <uid> -g <gid>`).
    pub fn create_with(args: &[&str]) -> TempUser {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("cexec_t{}_{n}", std::process::id());
        with_lock(|| {
            let mut all = vec!["-M", "-s", "/bin/sh"];
            all.extend_from_slice(args);
            all.push(&name);
            admin("useradd", &all);
        });
        TempUser {
            account: account(&name),
        }
    }

    pub fn name(&self) -> &str {
        &self.account.name
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let name = self.account.name.clone();
        with_lock(|| {
            let _ = output(Command::new("userdel").arg(&name));
            // userdel removes the private group with USERGROUPS_ENAB; make sure anyway.
            if lookup_group(&name).is_some() {
                let _ = output(Command::new("groupdel").arg(&name));
            }
        });
    }
}

// ------------------------------------------------------------------------------------------
// Results
// ------------------------------------------------------------------------------------------

/// What one invocation did, as the NodeManager observes it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// Exit status; death by signal n is reported as 128 + n (like a shell).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn from_output(command: String, out: std::process::Output) -> Outcome {
        let code = match (out.status.code(), out.status.signal()) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => -1,
        };
        Outcome {
            command,
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Everything observable, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "\n  command: {}\n  exit code: {}\n  --- stdout ---\n{}\n  --- stderr ---\n{}\n  --------------",
            self.command, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code{}", self.describe());
        self
    }

    #[track_caller]
    pub fn assert_stdout_has(&self, fragment: &str) -> &Self {
        assert!(
            self.stdout.contains(fragment),
            "stdout lacks {fragment:?}{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_has(&self, fragment: &str) -> &Self {
        assert!(
            self.stderr.contains(fragment),
            "stderr lacks {fragment:?}{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_lacks(&self, fragment: &str) -> &Self {
        assert!(
            !self.stdout.contains(fragment),
            "stdout unexpectedly has {fragment:?}{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_lacks(&self, fragment: &str) -> &Self {
        assert!(
            !self.stderr.contains(fragment),
            "stderr unexpectedly has {fragment:?}{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_empty(&self) -> &Self {
        assert!(
            self.stdout.is_empty(),
            "stdout not empty{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_empty(&self) -> &Self {
        assert!(
            self.stderr.is_empty(),
            "stderr not empty{}",
            self.describe()
        );
        self
    }

    /// Exit 0 and not a byte on either stream.
    #[track_caller]
    pub fn assert_silent_success(&self) -> &Self {
        self.assert_code(0)
            .assert_stdout_empty()
            .assert_stderr_empty()
    }
}

// ------------------------------------------------------------------------------------------
// Processes owned by test users
// ------------------------------------------------------------------------------------------

/// A process running as some user, leader of its own process group (pgid == pid), as a
/// container's process group is. Killed and reaped on drop.
pub struct Spawned {
    child: Child,
    pub user: String,
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn pid_arg(&self) -> String {
        self.pid().to_string()
    }

    /// Still running (not exited, not a zombie: we reap it here).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Wait up to `timeout` for the process to end; its status, if it ended.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------------------
// The sandbox
// ------------------------------------------------------------------------------------------

fn find_tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn skip(name: &str, why: &str) -> Option<Sandbox> {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
    if required {
        panic!("{name}: {why}, but {REQUIRE_ENV} is set: end-to-end tests must run here");
    }
    // Written to the real stderr (not eprintln!, which libtest captures), so it shows.
    let banner = "!".repeat(100);
    let _ = writeln!(
        std::io::stderr(),
        "\n{banner}\n!!! SKIPPED {name}: {why} !!!\n{banner}"
    );
    None
}

/// One private installation of the binary. See the module documentation.
pub struct Sandbox {
    pub name: String,
    prefix: PathBuf,
    users: &'static Users,
    setpriv: PathBuf,
    env: PathBuf,
}

/// Default configuration keys, in file order. The binary takes the *first* occurrence of a key,
/// so overrides replace values here instead of appending lines.
pub fn default_config_entries() -> Vec<(String, String)> {
    [
        ("yarn.nodemanager.linux-container-executor.group", NM_GROUP),
        ("banned.users", "yarn,mapred,hdfs,bin"),
        ("min.user.id", "1000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The default configuration with some keys replaced (`Some`) or removed (`None`); keys not in
/// the default are appended in the order given.
pub fn config_text(overrides: &[(&str, Option<&str>)]) -> String {
    let mut entries = default_config_entries();
    for (key, value) in overrides {
        match (entries.iter().position(|(k, _)| k == key), value) {
            (Some(i), Some(v)) => entries[i].1 = v.to_string(),
            (Some(i), None) => {
                entries.remove(i);
            }
            (None, Some(v)) => entries.push((key.to_string(), v.to_string())),
            (None, None) => {}
        }
    }
    let mut text = String::from("# written by the end-to-end tests\n");
    for (k, v) in entries {
        text.push_str(&format!("{k}={v}\n"));
    }
    text
}

impl Sandbox {
    /// A fresh installation, or `None` (after a loud banner) when the tests cannot run here.
    pub fn new(name: &str) -> Option<Sandbox> {
        if !nix::unistd::geteuid().is_root() {
            return skip(
                name,
                "end-to-end tests need root (they install a setuid binary and create users)",
            );
        }
        let Some(setpriv) = find_tool("setpriv") else {
            return skip(name, "setpriv (util-linux) is not installed");
        };
        let Some(env) = find_tool("env") else {
            return skip(name, "env (coreutils) is not installed");
        };
        let users = shared_users();

        let root = Path::new(SANDBOX_ROOT);
        ensure_root_dir(root);
        sweep_stale_sandboxes_once(root);
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = root.join(format!("{safe}-{}-{n}", std::process::id()));
        if prefix.exists() {
            fs::remove_dir_all(&prefix).expect("remove stale sandbox");
        }
        let sb = Sandbox {
            name: name.to_string(),
            prefix,
            users,
            setpriv,
            env,
        };
        for dir in [sb.prefix(), sb.bin_dir(), sb.etc_dir(), sb.conf_dir()] {
            fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
            sb.chown(&dir, Some(0), Some(0));
            sb.chmod(&dir, 0o755);
        }
        copy_executable(Path::new(BUILT_BINARY), &sb.bin())
            .unwrap_or_else(|e| panic!("copy {BUILT_BINARY} -> {}: {e}", sb.bin().display()));
        sb.chown(&sb.bin(), Some(0), Some(users.nm_gid));
        sb.chmod(&sb.bin(), 0o6050);
        sb.write_config(&config_text(&[]));
        Some(sb)
    }

    pub fn users(&self) -> &'static Users {
        self.users
    }

    pub fn prefix(&self) -> PathBuf {
        self.prefix.clone()
    }
    pub fn bin_dir(&self) -> PathBuf {
        self.prefix.join("bin")
    }
    /// The installed binary.
    pub fn bin(&self) -> PathBuf {
        self.bin_dir().join("container-executor")
    }
    pub fn etc_dir(&self) -> PathBuf {
        self.prefix.join("etc")
    }
    /// `etc/hadoop`, the directory holding the configuration.
    pub fn conf_dir(&self) -> PathBuf {
        self.etc_dir().join("hadoop")
    }
    pub fn config_path(&self) -> PathBuf {
        self.conf_dir().join("container-executor.cfg")
    }

    // -- configuration ----------------------------------------------------------------------

    /// Replace the configuration with `text`, root:root 0400 (whatever it was before).
    pub fn write_config(&self, text: &str) {
        let path = self.config_path();
        let _ = fs::remove_file(&path);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&path)
            .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        f.write_all(text.as_bytes()).expect("write config");
        drop(f);
        self.chown(&path, Some(0), Some(0));
        self.chmod(&path, 0o400);
    }

    /// The default configuration with keys replaced or removed (see [`config_text`]).
    pub fn write_config_with(&self, overrides: &[(&str, Option<&str>)]) {
        self.write_config(&config_text(overrides));
    }

    pub fn remove_config(&self) {
        fs::remove_file(self.config_path()).expect("remove config");
    }

    // -- ownership and modes (for broken installs) ------------------------------------------

    /// chmod; `mode` includes the special bits (e.g. 0o6050).
    pub fn chmod(&self, path: &Path, mode: u32) {
        fs::set_permissions(path, Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
    }

    /// chown, keeping the permission bits as they were: the kernel clears setuid/setgid on a
    /// chown, which would silently turn an ownership test into a mode test.
    pub fn chown(&self, path: &Path, uid: Option<u32>, gid: Option<u32>) {
        let mode = self.mode_of(path);
        std::os::unix::fs::chown(path, uid, gid)
            .unwrap_or_else(|e| panic!("chown {uid:?}:{gid:?} {}: {e}", path.display()));
        self.chmod(path, mode);
    }

    /// Permission and special bits (`st_mode & 07777`).
    pub fn mode_of(&self, path: &Path) -> u32 {
        fs::metadata(path)
            .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
            .mode()
            & 0o7777
    }

    /// (uid, gid) owning `path`.
    pub fn owner_of(&self, path: &Path) -> (u32, u32) {
        let m = fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        (m.uid(), m.gid())
    }

    pub fn set_binary_mode(&self, mode: u32) {
        self.chmod(&self.bin(), mode);
    }

    pub fn set_binary_owner(&self, uid: u32, gid: u32) {
        self.chown(&self.bin(), Some(uid), Some(gid));
    }

    // -- NodeManager directories ------------------------------------------------------------

    /// `n` NM local dirs `<prefix>/nm-local/<i>` (i = 1..=n), owned cexec_nm:cexec_hadoop 0755,
    /// each with `usercache` (0755) and `nmPrivate` (0700) owned by the NM user. Idempotent.
    pub fn nm_local_dirs(&self, n: usize) -> Vec<PathBuf> {
        let dirs = self.nm_dirs("nm-local", n);
        for d in &dirs {
            self.nm_dir(&d.join("usercache"), 0o755);
            self.nm_dir(&d.join("nmPrivate"), 0o700);
        }
        dirs
    }

    /// `n` NM log dirs `<prefix>/nm-log/<i>`, owned cexec_nm:cexec_hadoop 0755. Idempotent.
    pub fn nm_log_dirs(&self, n: usize) -> Vec<PathBuf> {
        self.nm_dirs("nm-log", n)
    }

    fn nm_dirs(&self, kind: &str, n: usize) -> Vec<PathBuf> {
        let parent = self.prefix.join(kind);
        if !parent.exists() {
            fs::create_dir(&parent).expect("mkdir nm dir parent");
            self.chmod(&parent, 0o755);
        }
        (1..=n)
            .map(|i| {
                let d = parent.join(i.to_string());
                self.nm_dir(&d, 0o755);
                d
            })
            .collect()
    }

    fn nm_dir(&self, dir: &Path, mode: u32) {
        if !dir.exists() {
            fs::create_dir(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        }
        self.chown(dir, Some(self.users.nm.uid), Some(self.users.nm_gid));
        self.chmod(dir, mode);
    }

    /// The NodeManager's `%`-separated directory list argument.
    pub fn join_dirs(dirs: &[PathBuf]) -> String {
        dirs.iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("%")
    }

    // -- running the binary ------------------------------------------------------------------

    /// Run the binary as the NodeManager does: user cexec_nm with its groups, empty
    /// environment, cwd `/`.
    pub fn run_as_nm(&self, args: &[&str]) -> Outcome {
        self.run_as(NM_USER, args)
    }

    /// Run the binary as `user` (real and effective ids, primary group, and the user's
    /// supplementary groups from the group database).
    pub fn run_as(&self, user: &str, args: &[&str]) -> Outcome {
        let acct = account(user);
        self.run_with_credentials(
            &[
                &format!("--reuid={}", acct.uid),
                &format!("--regid={}", acct.gid),
                "--init-groups",
            ],
            args,
        )
    }

    /// Run the binary with arbitrary setpriv credential options (e.g. `--groups=…`,
    /// `--clear-groups`, `--inh-caps=…`), through the `env` trampoline so the kernel checks the
    /// resulting credentials when it execs the binary.
    pub fn run_with_credentials(&self, setpriv_opts: &[&str], args: &[&str]) -> Outcome {
        let mut cmd = Command::new(&self.setpriv);
        cmd.args(setpriv_opts)
            .arg(&self.env)
            .arg("--")
            .arg(self.bin());
        cmd.args(args);
        let shown = format!(
            "setpriv {} env -- {} {}",
            setpriv_opts.join(" "),
            self.bin().display(),
            shell_words(args)
        );
        self.finish(cmd, shown)
    }

    /// Run the binary as root (uid 0, root's groups), empty environment, cwd `/`.
    pub fn run_as_root(&self, args: &[&str]) -> Outcome {
        let mut cmd = Command::new(self.bin());
        cmd.args(args);
        let shown = format!("(root) {} {}", self.bin().display(), shell_words(args));
        self.finish(cmd, shown)
    }

    fn finish(&self, mut cmd: Command, shown: String) -> Outcome {
        cmd.env_clear().current_dir("/").stdin(Stdio::null());
        let out = output(&mut cmd).unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        Outcome::from_output(shown, out)
    }

    /// Start `argv` as `user` (with the user's primary and supplementary groups), as the leader
    /// of a new process group, with an empty environment and cwd `/`.
    pub fn spawn_as(&self, user: &str, argv: &[&str]) -> Spawned {
        let acct = account(user);
        let child = spawn(
            Command::new(&self.setpriv)
                .arg(format!("--reuid={}", acct.uid))
                .arg(format!("--regid={}", acct.gid))
                .arg("--init-groups")
                .args(argv)
                .env_clear()
                .current_dir("/")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0),
        )
        .unwrap_or_else(|e| panic!("cannot spawn {argv:?} as {user}: {e}"));
        let mut spawned = Spawned {
            child,
            user: user.to_string(),
        };
        // Wait until setpriv has exec'd the program as the user, so a test never races it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = spawned.pid();
        loop {
            let owner = fs::metadata(format!("/proc/{pid}")).map(|m| m.uid()).ok();
            if owner == Some(acct.uid) {
                break;
            }
            assert!(
                spawned.is_running() && Instant::now() < deadline,
                "{argv:?} as {user} did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        spawned
    }

    /// A `sleep` owned by `user`, in its own process group (a stand-in for a container).
    pub fn spawn_sleeper(&self, user: &str) -> Spawned {
        self.spawn_as(user, &["/bin/sleep", "120"])
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.prefix);
    }
}

/// /opt/cexec-e2e: root:root 0755, and every ancestor root-owned and not group/other-writable
/// (the binary refuses a configuration below anything else).
fn ensure_root_dir(root: &Path) {
    if !root.exists() {
        // Concurrent creation by another test is fine.
        let _ = fs::create_dir(root);
    }
    std::os::unix::fs::chown(root, Some(0), Some(0)).expect("chown sandbox root");
    fs::set_permissions(root, Permissions::from_mode(0o755)).expect("chmod sandbox root");
    let mut p = root.parent();
    while let Some(dir) = p {
        if dir == Path::new("/") {
            break;
        }
        let m = fs::metadata(dir).expect("stat ancestor of sandbox root");
        assert!(
            m.uid() == 0 && m.mode() & 0o022 == 0,
            "{} must be root-owned and not group/world-writable for the e2e sandbox",
            dir.display()
        );
        p = dir.parent();
    }
}

/// Remove prefixes left behind by test processes that died without dropping their sandbox
/// (named `<name>-<pid>-<n>`; removed when no process `<pid>` exists). Once per process.
fn sweep_stale_sandboxes_once(root: &Path) {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        let Ok(entries) = fs::read_dir(root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
    });
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=%:,".contains(c))
            {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a file exists and is a regular file (convenience for later tests).
pub fn is_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Read a file as text, panicking with its path on failure.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Create a file with the given content and mode (owner: whoever runs the tests, i.e. root).
pub fn write_file(path: &Path, content: &str, mode: u32) {
    let mut f = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    f.write_all(content.as_bytes()).expect("write");
    fs::set_permissions(path, Permissions::from_mode(mode)).expect("chmod");
}
