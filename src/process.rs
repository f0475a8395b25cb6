//! Process hygiene: what a setuid program must fix about the state it inherits before it does
//! anything else, and what it must reset before it execs anyone else's code.

use std::sync::OnceLock;

use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::{umask, Mode};

use crate::sys;

/// The umask for everything we create ourselves. Hadoop inherits the NodeManager's (normally
/// 022 or 027, which give the same modes for every directory it makes); a fixed one makes our
/// results independent of the caller. Explicit modes are applied with fchmod where Hadoop chmods.
pub const OWN_UMASK: u32 = 0o027;

static CALLER_UMASK: OnceLock<u32> = OnceLock::new();
/// The caller's working directory (getcwd, not `$PWD`), for the operator CLI's relative paths.
static CALLER_CWD: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();

/// The limits we adjust at start, with the caller's values as we found them, so that programs
/// we exec as the user (container, localizer) get exactly what the NodeManager had, as with
/// Hadoop. `RLIMIT_CORE`: 0 while we run (no core of a privileged process). `NOFILE`, `FSIZE`,
/// `NPROC`: soft raised to the hard limit while we run, so a caller cannot lower a soft limit
/// to make our privileged work stop half-way (root here has no `CAP_SYS_RESOURCE`, so hard
/// limits are never raised; [`check_limits`] refuses up front when a hard limit is too low).
const ADJUSTED_LIMITS: [Resource; 4] = [
    Resource::RLIMIT_CORE,
    Resource::RLIMIT_NOFILE,
    Resource::RLIMIT_FSIZE,
    Resource::RLIMIT_NPROC,
];

static CALLER_LIMITS: OnceLock<Vec<(Resource, u64, u64)>> = OnceLock::new();

/// The environment the caller gave us, copied out before it was cleared (see
/// [`capture_and_clear_environment`]); only the localizer ever gets (the allowed part of) it.
static CALLER_ENV: OnceLock<Vec<(std::ffi::OsString, std::ffi::OsString)>> = OnceLock::new();

/// Fewest descriptors we need: a handful per operation (directory walks hold at most two or
/// three at once), with a wide margin.
pub const MIN_NOFILE: u64 = 64;

/// Largest file we must be able to write: the copies of the NodeManager's tokens, script and
/// stores, and the pid and exit-code files. A hard `RLIMIT_FSIZE` below this is refused.
pub const MIN_FSIZE: u64 = 16 << 20;

/// Run first thing in `main`. Failures here are not fatal by themselves (each is a hardening
/// step whose absence leaves Hadoop's behaviour), except that we never run without fds 0-2 and
/// never continue dumpable.
pub fn harden_at_start() {
    // fds 0-2 open before anything else opens a file, so nothing we open becomes someone's
    // stdout. (Rust's runtime does the same before main; this does not rely on it.)
    ensure_std_fds_open();
    // Before the first NSS lookup (getpwnam, getgrnam, getgrouplist, initgroups): an NSS
    // module may read variables glibc's secure mode leaves in place.
    capture_and_clear_environment();
    // Nothing inherited above fd 2 survives: not reachable as /dev/fd/N or /proc/self/fd/N by
    // a path we resolve, not passed to a program we exec. Closed, not only marked close-on-exec
    // (if closing fails, close-on-exec is the fallback). Nothing of ours is open yet.
    if sys::close_inherited_fds().is_err() {
        let _ = sys::cloexec_inherited_fds();
    }
    // Known signal state: every disposition default (an ignored SIGCHLD would make the kernel
    // reap our children before we read their status), nothing blocked; then SIGPIPE and SIGXFSZ
    // ignored while we run, so a vanished reader or a file-size limit gives an error we report
    // (EPIPE, EFBIG), not a kill half-way (Hadoop ignores SIGPIPE too).
    reset_all_signals();
    for signal in IGNORED_WHILE_RUNNING {
        let _ = sys::set_signal_disposition(signal, SigHandler::SigIgn);
    }
    // Core limit 0 and soft NOFILE/FSIZE/NPROC up to the hard limits (the caller's saved for
    // the programs we exec); then not dumpable: no core dump and no ptrace attach while we hold
    // root's ids.
    adjust_limits();
    if nix::sys::prctl::set_dumpable(false).is_err() {
        std::process::abort();
    }
    // Relative paths must not depend on where the caller stood (only the operator CLI resolves
    // its own relative arguments against the directory remembered here, opening them as the
    // caller).
    let _ = CALLER_CWD.set(nix::unistd::getcwd().ok());
    let _ = nix::unistd::chdir("/");
    let old = umask(Mode::from_bits_truncate(OWN_UMASK));
    let _ = CALLER_UMASK.set(old.bits());
}

/// Open /dev/null on whichever of fds 0, 1, 2 is closed. Without them we cannot run safely
/// (the next file we open could receive our output), so failure aborts.
fn ensure_std_fds_open() {
    use nix::fcntl::{fcntl, open, FcntlArg, OFlag};
    for fd in 0..3 {
        if fcntl(fd, FcntlArg::F_GETFD) != Err(nix::errno::Errno::EBADF) {
            continue;
        }
        // The lowest free descriptor is taken, so this lands on `fd` (0-2 below it are open).
        match open("/dev/null", OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty()) {
            Ok(got) if got == fd => {}
            Ok(got) => {
                let _ = nix::unistd::dup2(got, fd);
                let _ = nix::unistd::close(got);
            }
            Err(_) => std::process::abort(),
        }
    }
}

fn adjust_limits() {
    let mut caller = Vec::new();
    for resource in ADJUSTED_LIMITS {
        let Ok((soft, hard)) = getrlimit(resource) else {
            continue;
        };
        caller.push((resource, soft, hard));
        let ours = if resource == Resource::RLIMIT_CORE {
            0
        } else {
            hard
        };
        let _ = setrlimit(resource, ours, hard);
    }
    let _ = CALLER_LIMITS.set(caller);
}

/// The caller's soft limits back (hard limits were never changed), for a program we exec as
/// the user: the container and the localizer see the NodeManager's limits, as with Hadoop.
pub fn restore_caller_limits() {
    // The hard limits are the caller's: adjust_limits kept them and nothing else sets limits,
    // so no getrlimit is needed to learn them again.
    for &(resource, soft, hard) in CALLER_LIMITS.get().map(Vec::as_slice).unwrap_or(&[]) {
        let _ = setrlimit(resource, soft.min(hard), hard);
    }
}

/// Pre-flight, before any change: refuse when a hard limit the caller set is too low for our
/// privileged work to finish (soft limits were already raised to the hard ones).
/// `RLIMIT_NPROC` needs no check: our forks run with real uid 0, which the kernel exempts, and a
/// user over the limit makes only the final exec of the user's program fail, after all
/// privileged work is complete (as with Hadoop).
pub fn check_limits() -> Result<(), String> {
    let too_low = |resource: Resource, min: u64| -> Option<u64> {
        match getrlimit(resource) {
            Ok((_, hard)) if hard != RLIM_INFINITY && hard < min => Some(hard),
            _ => None,
        }
    };
    if let Some(hard) = too_low(Resource::RLIMIT_NOFILE, MIN_NOFILE) {
        return Err(format!(
            "Refusing to run: the open-files limit (RLIMIT_NOFILE) is {hard}, at least {MIN_NOFILE} is needed"
        ));
    }
    if let Some(hard) = too_low(Resource::RLIMIT_FSIZE, MIN_FSIZE) {
        return Err(format!(
            "Refusing to run: the file-size limit (RLIMIT_FSIZE) is {hard} bytes, at least {MIN_FSIZE} is needed"
        ));
    }
    Ok(())
}

/// The umask the caller gave us (the NodeManager's), which the localizer inherits in Hadoop.
pub fn caller_umask() -> u32 {
    CALLER_UMASK.get().copied().unwrap_or(0o022)
}

/// Where the caller stood when it started us, if the kernel could tell.
pub fn caller_cwd() -> Option<&'static std::path::Path> {
    CALLER_CWD.get().and_then(|p| p.as_deref())
}

/// The only dispositions this program changes after [`harden_at_start`]'s reset (ignored
/// there while we run). Whoever adds a `set_signal_disposition` call adds its signal here, so
/// [`reset_signals_for_exec`] puts it back.
const IGNORED_WHILE_RUNNING: [Signal; 2] = [Signal::SIGPIPE, Signal::SIGXFSZ];

/// Every signal back to its default disposition and nothing blocked: the known state at start,
/// whatever the caller left ignored (real-time signals included).
fn reset_all_signals() {
    sys::reset_all_signal_dispositions();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Before exec'ing anyone else's code: no ignored or blocked signal of ours may survive into
/// it. Only an *ignored* disposition survives an exec (the kernel resets caught ones), and after
/// the full reset at start the only ones ever set to ignore are [`IGNORED_WHILE_RUNNING`]; so
/// those go back to default (not all 64 again), and the mask is emptied (a library may have
/// blocked signals for a while: nss-systemd does).
pub fn reset_signals_for_exec() {
    for signal in IGNORED_WHILE_RUNNING {
        let _ = sys::set_signal_disposition(signal, SigHandler::SigDfl);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Variables that change how the dynamic loader, the C library or a shell behaves. glibc removes
/// its list (`unsecvars.h`: `GCONV_PATH`, `GETCONF_DIR`, `GLIBC_TUNABLES`, `HOSTALIASES`,
/// `LD_*` loader variables, `LOCALDOMAIN`, `LOCPATH`, `MALLOC_TRACE`, `NIS_PATH`, `NLSPATH`,
/// `RESOLV_HOST_CONF`, `RES_OPTIONS`, `TMPDIR`, `TZDIR`) from a setuid program's environment;
/// Hadoop relies on that (docs/checks.md §5). We strip them ourselves, so a root caller (no
/// AT_SECURE) gets the same result, and go further: every `LD_*` and `MALLOC_*` name (future
/// loader and allocator knobs included), and the shell start-up hooks.
const DANGEROUS_ENV: &[&str] = &[
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "LOCPATH",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
    "BASH_ENV",
    "ENV",
    "IFS",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "CDPATH",
    "GLOBIGNORE",
];

/// Name prefixes removed whatever follows (`BASH_FUNC_` is how bash exports functions).
const DANGEROUS_ENV_PREFIXES: &[&str] = &["LD_", "MALLOC_", "BASH_FUNC_"];

/// Whether one `name=value` pair may reach a program we exec as the application user.
pub fn env_pair_allowed(name: &[u8], value: &[u8]) -> bool {
    let dangerous = DANGEROUS_ENV.iter().any(|d| d.as_bytes() == name)
        || DANGEROUS_ENV_PREFIXES
            .iter()
            .any(|p| name.starts_with(p.as_bytes()))
        // An exported bash function under any name (pre-Shellshock-fix bash imports these).
        || value.starts_with(b"() {");
    !dangerous && !name.is_empty() && !name.contains(&b'=')
}

/// Copy the caller's environment out, then empty the process environment. Nothing we do as
/// root reads a variable after this, and no C library or NSS code (systemd's modules read
/// `SYSTEMD_*` with plain `getenv`) can be steered by one. Called once, first thing in `main`.
pub fn capture_and_clear_environment() {
    let _ = CALLER_ENV.set(std::env::vars_os().collect());
    sys::clear_environment();
}

fn caller_environment() -> impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)> {
    CALLER_ENV.get().cloned().unwrap_or_default().into_iter()
}

/// The localizer's environment: the NodeManager's (as Hadoop passes it on) minus what
/// [`env_pair_allowed`] refuses. Nothing we decide depends on it; it is only passed on.
pub fn localizer_environment() -> Vec<std::ffi::CString> {
    filter_environment(caller_environment())
}

/// The caller's `PATH`, for the localizer's program search (done only as the user, just before
/// the exec: the search reads the process environment, which was cleared).
pub fn caller_path() -> Option<std::ffi::OsString> {
    caller_environment()
        .find(|(k, _)| k.as_encoded_bytes() == b"PATH")
        .map(|(_, v)| v)
}

/// The container's environment: empty. What a container sees is what its launch script sets
/// (the NodeManager writes every variable into it and clears its own environment for launch);
/// nothing of the caller's reaches it. Hadoop passes its own environment through.
pub fn container_environment() -> Vec<std::ffi::CString> {
    Vec::new()
}

fn filter_environment(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Vec<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    vars.filter(|(k, v)| env_pair_allowed(k.as_bytes(), v.as_bytes()))
        .filter_map(|(k, v)| {
            let mut pair = k.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(v.as_bytes());
            std::ffi::CString::new(pair).ok()
        })
        .collect()
}

/// A new, empty session keyring for the localizer or the container, joined after the permanent
/// drop (so the user owns it): keys in the caller's (the NodeManager's) session keyring are no
/// longer possessed, so they are out of reach. A kernel without keyrings (ENOSYS) has nothing to
/// share; any other failure refuses, since the caller's keyring would stay joined.
pub fn join_new_session_keyring() -> crate::error::Result<()> {
    match sys::join_new_session_keyring() {
        Ok(_) | Err(nix::errno::Errno::ENOSYS) => Ok(()),
        Err(e) => Err(crate::error::Error::Failed(format!(
            "Can't start a new session keyring - {}",
            e.desc()
        ))),
    }
}

/// Last steps before exec'ing user code: the audit line for the start, the caller's limits,
/// signals to default, every descriptor above 2 close-on-exec, and the umask the program
/// should see.
pub fn prepare_exec(umask_bits: u32) {
    crate::audit::exec_started();
    restore_caller_limits();
    reset_signals_for_exec();
    let _ = sys::cloexec_inherited_fds();
    umask(Mode::from_bits_truncate(umask_bits));
}

/// Point fd 0 at /dev/null (where Hadoop closes stdin before exec'ing the localizer).
pub fn replace_stdin_with_dev_null() -> nix::Result<()> {
    use std::os::fd::AsRawFd;
    let null = std::fs::File::open("/dev/null").map_err(|_| nix::errno::Errno::last())?;
    nix::unistd::dup2(null.as_raw_fd(), 0).map(|_| ())
}

/// Config key (beyond Hadoop): `true` (or `1`, any case, as the `feature.*` keys) sets
/// `no_new_privs` on the programs we exec as the user, the localizer and the container. Off by
/// default for compatibility: setuid programs inside containers (sudo, ping, su) stop working.
/// Delete, list and signal always set it (they exec nothing).
pub const NO_NEW_PRIVS_KEY: &str = "no-new-privileges";

/// Whether the config asks for `no_new_privs` on the localizer and containers.
pub fn no_new_privs_configured(config: &crate::config::Config) -> bool {
    config
        .get("", NO_NEW_PRIVS_KEY)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Set `no_new_privs` on this process (inherited by everything it execs and forks). A failure
/// is an error: when it was asked for, nothing may run without it.
pub fn set_no_new_privs() -> crate::error::Result<()> {
    nix::sys::prctl::set_no_new_privs()
        .map_err(|e| crate::error::Error::Failed(format!("Can't set no_new_privs - {}", e.desc())))
}

/// Wait for `child` (through EINTR and stops): its exit status, or 128 + the signal that ended
/// it, as a shell reports it. The one wait loop of the crate.
pub fn wait_exit_status(child: nix::unistd::Pid) -> nix::Result<i32> {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(pairs: &[(&str, &str)]) -> Vec<String> {
        filter_environment(pairs.iter().map(|(k, v)| (k.into(), v.into())))
            .into_iter()
            .map(|c| c.into_string().unwrap())
            .collect()
    }

    #[test]
    fn dangerous_variables_never_reach_children() {
        let kept = filtered(&[
            ("PATH", "/usr/bin:/bin"),
            ("HADOOP_CONF_DIR", "/etc/hadoop"),
            ("JAVA_HOME", "/usr/lib/jvm/x"),
            ("LD_PRELOAD", "/tmp/evil.so"),
            ("LD_LIBRARY_PATH", "/tmp"),
            ("LD_FUTURE_KNOB", "1"),
            ("MALLOC_CHECK_", "3"),
            ("GLIBC_TUNABLES", "glibc.malloc.check=3"),
            ("GCONV_PATH", "/tmp"),
            ("BASH_ENV", "/tmp/x"),
            ("BASH_FUNC_ls%%", "() { evil; }"),
            ("innocent", "() { evil; }"),
            ("IFS", "/"),
            ("TMPDIR", "/tmp/x"),
            ("NLSPATH", "/tmp/%N"),
        ]);
        assert_eq!(
            kept,
            [
                "PATH=/usr/bin:/bin",
                "HADOOP_CONF_DIR=/etc/hadoop",
                "JAVA_HOME=/usr/lib/jvm/x"
            ]
        );
    }

    #[test]
    fn malformed_pairs_are_dropped() {
        assert!(!env_pair_allowed(b"", b"x"));
        assert!(!env_pair_allowed(b"A=B", b"x"));
        let with_nul = filter_environment(
            [(
                std::ffi::OsString::from("A"),
                std::ffi::OsString::from("x\0y"),
            )]
            .into_iter(),
        );
        assert!(with_nul.is_empty());
    }
}
