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
    // Relative paths must not depend on where the caller stood.
    let _ = nix::unistd::chdir("/");
    let old = umask(Mode::from_bits_truncate(OWN_UMASK));
    let _ = CALLER_UMASK.set(old.bits());
}

/// The umask the caller gave us (the NodeManager's), which the localizer inherits in Hadoop.
pub fn caller_umask() -> u32 {
    CALLER_UMASK.get().copied().unwrap_or(0o022)
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
