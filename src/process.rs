//! Process hygiene: what a setuid program must fix about the state it inherits before it does
//! anything else, and what it must reset before it execs anyone else's code.

use std::sync::OnceLock;

use nix::sys::resource::{setrlimit, Resource};
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

/// Run first thing in `main`. Failures here are not fatal by themselves (each is a hardening
/// step whose absence leaves Hadoop's behaviour), except that we never continue dumpable.
pub fn harden_at_start() {
    // Nothing inherited above fd 2 may reach a program we exec. (fds 0-2 are guaranteed open by
    // Rust's runtime, which reopens /dev/null for a closed one before main.)
    let _ = sys::cloexec_inherited_fds();
    // A vanished reader must give EPIPE, not kill us half-way (Hadoop does the same).
    let _ = sys::set_signal_disposition(Signal::SIGPIPE, SigHandler::SigIgn);
    // No core dump and no ptrace attach while we hold root's ids.
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = nix::sys::prctl::set_dumpable(false);
    // Relative paths must not depend on where the caller stood (only the operator CLI resolves
    // its own relative arguments against the directory remembered here, opening them as the
    // caller).
    let _ = CALLER_CWD.set(nix::unistd::getcwd().ok());
    let _ = nix::unistd::chdir("/");
    let old = umask(Mode::from_bits_truncate(OWN_UMASK));
    let _ = CALLER_UMASK.set(old.bits());
}

/// The umask the caller gave us (the NodeManager's), which the localizer inherits in Hadoop.
pub fn caller_umask() -> u32 {
    CALLER_UMASK.get().copied().unwrap_or(0o022)
}

/// Where the caller stood when it started us, if the kernel could tell.
pub fn caller_cwd() -> Option<&'static std::path::Path> {
    CALLER_CWD.get().and_then(|p| p.as_deref())
}

/// Before exec'ing user code: every signal back to its default disposition and nothing blocked,
/// so an attacker-chosen ignored or blocked signal cannot survive into the container.
pub fn reset_signals_for_exec() {
    for signal in Signal::iterator() {
        if matches!(signal, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        let _ = sys::set_signal_disposition(signal, SigHandler::SigDfl);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Variables glibc removes from a setuid program's environment (its `UNSECURE_ENVVARS`), plus
/// others that change how a shell or the dynamic loader behaves. Hadoop relies on glibc's
/// stripping (checks.md §5); we strip them ourselves too, so a root caller (no AT_SECURE) gets
/// the same result.
const DANGEROUS_ENV: &[&str] = &[
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LD_AUDIT",
    "LD_DEBUG",
    "LD_DEBUG_OUTPUT",
    "LD_DYNAMIC_WEAK",
    "LD_HWCAP_MASK",
    "LD_LIBRARY_PATH",
    "LD_ORIGIN_PATH",
    "LD_PRELOAD",
    "LD_PROFILE",
    "LD_SHOW_AUXV",
    "LD_USE_LOAD_BIAS",
    "LD_BIND_NOW",
    "LD_BIND_NOT",
    "LD_PROFILE_OUTPUT",
    "LD_ASSUME_KERNEL",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
    "MALLOC_CHECK_",
    "MALLOC_ARENA_MAX",
    "MALLOC_ARENA_TEST",
    "MALLOC_PERTURB_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_MAX_",
    "BASH_ENV",
    "ENV",
    "IFS",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
];

/// The environment handed to a program we exec as the application user: what the NodeManager
/// gave us (empty for launch, its own for the localizer) minus [`DANGEROUS_ENV`] and bash's
/// exported functions (`BASH_FUNC_*`, values starting with `() {`).
pub fn child_environment() -> Vec<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::env::vars_os()
        .filter(|(k, v)| {
            let key = k.as_bytes();
            let dangerous = DANGEROUS_ENV.iter().any(|d| d.as_bytes() == key)
                || key.starts_with(b"BASH_FUNC_")
                || v.as_bytes().starts_with(b"() {");
            !dangerous && !key.is_empty() && !key.contains(&b'=')
        })
        .filter_map(|(k, v)| {
            let mut pair = k.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(v.as_bytes());
            std::ffi::CString::new(pair).ok()
        })
        .collect()
}

/// Last steps before exec'ing user code: signals to default, every descriptor above 2
/// close-on-exec, and the umask the program should see.
pub fn prepare_exec(umask_bits: u32) {
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
