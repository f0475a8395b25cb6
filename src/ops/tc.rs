//! Traffic control: `--tc-modify-state|--tc-read-state|--tc-read-stats <file>` and the optional
//! tc file of a launch (`docs/protocol.md` §3, `docs/layout.md` §11), behind `feature.tc.enabled`.
//!
//! Hadoop hands `/sbin/tc` the caller's path and lets it open it as root. We open the command
//! file with the NodeManager's identity, check it on the descriptor (a regular file owned by the
//! NodeManager, not writable by group or others), and give tc that descriptor (`/dev/fd/N`), so
//! root never reads a path the caller chose. tc runs by absolute path with a fixed environment.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::Path;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};

use crate::cli::TcAction;
use crate::error::{Error, Result};
use crate::identity::NmIdentity;
use crate::out;
use crate::process;
use crate::sys::{self, Forked};

pub const TC_BINARY: &str = "/sbin/tc";
const TC_ENV: &str = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

/// Largest tc command file handed to tc as root (beyond Hadoop; real ones are a few KiB).
pub const MAX_TC_COMMAND_BYTES: u64 = 1 << 20;

pub fn run_traffic_control(nm: NmIdentity, action: TcAction, command_file: &Path) -> Result<i32> {
    let fail = |why: String| {
        out::log("failed to execute tc command!");
        Error::TrafficControl(why)
    };
    let file = super::dirs::open_as_nm(nm, command_file)?.ok_or_else(|| {
        fail(format!(
            "Can't open tc command file {}",
            command_file.display()
        ))
    })?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("Can't stat {} - {e}", command_file.display())))?;
    if !super::dirs::written_only_by_nm(&meta, nm) {
        return Err(fail(format!(
            "tc command file {} must be owned by the NodeManager and not group- or world-writable",
            command_file.display()
        )));
    }
    if meta.len() > MAX_TC_COMMAND_BYTES {
        return Err(fail(format!(
            "tc command file {} is larger than {MAX_TC_COMMAND_BYTES} bytes",
            command_file.display()
        )));
    }
    let fd_path = format!("/dev/fd/{}", file.as_raw_fd());
    let mut argv = vec![TC_BINARY];
    if action == TcAction::ReadStats {
        argv.push("-s");
    }
    argv.extend(["-b", fd_path.as_str()]);
    let argv: Vec<CString> = argv.iter().filter_map(|a| CString::new(*a).ok()).collect();
    let env = [CString::new(TC_ENV).unwrap_or_default()];
    match sys::fork().map_err(|e| fail(format!("fork failed - {}", e.desc())))? {
        Forked::Child => {
            process::reset_signals_for_exec();
            let _ = sys::cloexec_inherited_fds();
            let _ = fcntl(file.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()));
            let Err(e) = nix::unistd::execve(&argv[0], &argv, &env);
            out::log(&format!(
                "failed to execute tc command! error: {}",
                e.desc()
            ));
            std::process::exit(28)
        }
        Forked::Parent(child) => match process::wait_exit_status(child) {
            Ok(0) => Ok(0),
            Ok(_) => Err(fail("tc exited with an error".into())),
            Err(e) => Err(fail(format!("waiting for tc failed - {}", e.desc()))),
        },
    }
}
