//! Command 2: signal a container's process group, or probe that it is alive (`docs/layout.md` §6).

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::identity;
use crate::out;
use crate::sys;
use crate::users::ValidatedUser;

pub fn signal_container(user: &ValidatedUser, pid: i32, signal: i32) -> Result<i32> {
    // Hadoop lets pid 1 through, which becomes kill(-1): every process the user may signal.
    if pid <= 1 {
        return Err(Error::NoSuchProcessGroup(format!(
            "Refusing to signal process group {pid}: not a container pid"
        )));
    }
    identity::drop_to_user_permanently(user)?;
    crate::process::set_no_new_privs()?;
    if sys::kill_raw(-pid, 0).is_err() {
        return Err(Error::NoSuchProcessGroup(format!(
            "Error signalling not exist process group {pid} with signal {signal}"
        )));
    }
    match sys::kill_raw(-pid, signal) {
        Ok(()) => {
            out::log(&format!("Killing process group {pid} with {signal}"));
            Ok(0)
        }
        Err(Errno::ESRCH) => Err(Error::NoSuchProcessGroup(format!(
            "Error signalling process group -{pid} with signal {signal} - {}",
            Errno::ESRCH.desc()
        ))),
        Err(e) => Err(Error::SignalFailed(format!(
            "Error signalling process group -{pid} with signal {signal} - {}",
            e.desc()
        ))),
    }
}
