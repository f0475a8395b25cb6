//! Who runs delete (command 3): the process structure around `delete.rs` (beyond Hadoop, which
//! deletes in the setuid process with the user's ids only effective, keeping root saved).
//!
//! - The **worker**, a forked child, drops to the user for good (real, effective and saved uid
//!   and gid, the user's groups, no capabilities: `identity::drop_to_user_permanently`) before
//!   it resolves or removes anything, then does all of delete's work and prints its messages.
//! - The final `rmdir` of a base directory as the NodeManager is asked of the parent over a
//!   socket (the worker passes the opened parent directory and the name); the parent forks a
//!   second child that becomes the NodeManager for good (`identity::drop_to_nm_permanently`)
//!   and does only that `rmdir`, through the passed descriptor.
//! - The parent itself touches no file: it forks, passes descriptors and waits, then returns
//!   the worker's status, which the NodeManager sees exactly as before.

use std::ffi::OsStr;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType, UnixAddr,
};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::identity::{self, NmIdentity};
use crate::process;
use crate::sys::{self, Forked};

use super::Ctx;

/// The worker's end of the socket to the parent (set only in the worker).
static TO_PARENT: OnceLock<OwnedFd> = OnceLock::new();

/// Message tags, worker to parent.
const RMDIR: u8 = b'R';
const DONE: u8 = b'D';
/// Reply to an rmdir request when the NodeManager child could not take the NM's identity.
const NM_DROP_FAILED: i32 = -1;

/// Run `work` (all of delete) in a worker that is fully the user; serve its rmdir-as-NM
/// requests; return its status.
pub fn run_as_user_worker(ctx: &Ctx, work: impl FnOnce() -> Result<i32>) -> Result<i32> {
    let setup_failed =
        |what: &str, e: Errno| Error::Failed(format!("{what} failed - {}", e.desc()));
    let (parent_end, worker_end) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| setup_failed("socketpair", e))?;
    match sys::fork().map_err(|e| setup_failed("fork", e))? {
        Forked::Child => {
            drop(parent_end);
            let status = match identity::drop_to_user_permanently(&ctx.user).and_then(|()| {
                let _ = TO_PARENT.set(worker_end);
                work()
            }) {
                Ok(status) => status,
                Err(e) => {
                    crate::print_error_lines(&e);
                    e.code().number()
                }
            };
            if let Some(sock) = TO_PARENT.get() {
                let mut msg = vec![DONE];
                msg.extend_from_slice(&status.to_le_bytes());
                let _ = send(sock.as_raw_fd(), &msg, None);
            }
            std::process::exit(0)
        }
        Forked::Parent(worker) => {
            drop(worker_end);
            let served = serve(ctx.nm, &parent_end);
            drop(parent_end);
            let ended = process::wait_exit_status(worker);
            match (served, ended) {
                (Ok(Some(status)), _) => Ok(status),
                (Ok(None), ended) => Err(Error::Failed(format!(
                    "The delete worker ended without a result ({})",
                    ended.map_or_else(|e| e.desc().to_string(), |s| format!("status {s}"))
                ))),
                (Err(e), _) => Err(Error::Failed(format!(
                    "Talking to the delete worker failed - {}",
                    e.desc()
                ))),
            }
        }
    }
}

/// In the worker: `rmdir` of `name` in `parent` by a process that is fully the NodeManager.
/// The outer error means the NodeManager's identity could not be taken (exit 6, as before).
pub fn rmdir_as_nm(parent: &DirFd, name: &OsStr) -> Result<io::Result<()>> {
    let lost = |why: String| {
        Error::SetuidFailed(format!(
            "Can't remove a directory as the NodeManager - {why}"
        ))
    };
    let sock = TO_PARENT
        .get()
        .ok_or_else(|| lost("not in the delete worker".into()))?;
    let mut msg = vec![RMDIR];
    msg.extend_from_slice(name.as_bytes());
    send(sock.as_raw_fd(), &msg, Some(parent.raw_fd())).map_err(|e| lost(e.desc().to_string()))?;
    let mut reply = [0u8; 4];
    let got = recv(sock.as_raw_fd(), &mut reply).map_err(|e| lost(e.desc().to_string()))?;
    if got.0 != 4 {
        return Err(lost("no answer".into()));
    }
    match i32::from_le_bytes(reply) {
        0 => Ok(Ok(())),
        NM_DROP_FAILED => Err(lost("the privilege drop failed".into())),
        errno => Ok(Err(io::Error::from_raw_os_error(errno))),
    }
}

/// The parent's loop: answer rmdir requests until the worker's result (or its end).
fn serve(nm: NmIdentity, sock: &OwnedFd) -> nix::Result<Option<i32>> {
    let mut status = None;
    loop {
        let mut buf = [0u8; 512];
        let (len, fd) = recv(sock.as_raw_fd(), &mut buf)?;
        let msg = &buf[..len];
        match (msg.split_first(), fd) {
            (None, _) => return Ok(status), // the worker closed its end
            (Some((&RMDIR, name)), Some(dir)) => {
                let answer = rmdir_in_nm_child(nm, &dir, OsStr::from_bytes(name));
                send(sock.as_raw_fd(), &answer.to_le_bytes(), None)?;
            }
            (Some((&DONE, code)), None) if code.len() == 4 => {
                let mut bytes = [0u8; 4];
                bytes.copy_from_slice(code);
                status = Some(i32::from_le_bytes(bytes));
            }
            _ => return Err(Errno::EPROTO),
        }
    }
}

/// Fork a child that becomes the NodeManager for good and removes `name` in `dir`: 0, an errno,
/// or [`NM_DROP_FAILED`]. A vanished entry is success, as `DirFd::rmdir` has it.
fn rmdir_in_nm_child(nm: NmIdentity, dir: &OwnedFd, name: &OsStr) -> i32 {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes == b"." || bytes == b".." || bytes.contains(&b'/') {
        return Errno::EINVAL as i32;
    }
    let Ok(forked) = sys::fork() else {
        return Errno::EAGAIN as i32;
    };
    match forked {
        Forked::Child => {
            let code = match identity::drop_to_nm_permanently(nm) {
                Err(e) => {
                    crate::print_error_lines(&e);
                    255
                }
                Ok(()) => match unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::RemoveDir) {
                    Ok(()) | Err(Errno::ENOENT) => 0,
                    Err(e) => (e as i32).clamp(1, 127),
                },
            };
            std::process::exit(code)
        }
        Forked::Parent(child) => match process::wait_exit_status(child) {
            Ok(0) => 0,
            Ok(errno @ 1..=127) => errno,
            _ => NM_DROP_FAILED,
        },
    }
}

/// One message, with at most one descriptor passed along.
fn send(sock: RawFd, msg: &[u8], fd: Option<BorrowedFd<'_>>) -> nix::Result<()> {
    let fds = fd.map(|f| [f.as_raw_fd()]);
    let cmsgs: Vec<ControlMessage> = fds
        .as_ref()
        .map(|f| ControlMessage::ScmRights(f))
        .into_iter()
        .collect();
    loop {
        match sendmsg::<UnixAddr>(
            sock,
            &[IoSlice::new(msg)],
            &cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(n) if n == msg.len() => return Ok(()),
            Ok(_) => return Err(Errno::EMSGSIZE),
        }
    }
}

/// One message: its length (0 when the peer closed) and the descriptor passed with it.
fn recv(sock: RawFd, buf: &mut [u8]) -> nix::Result<(usize, Option<OwnedFd>)> {
    let mut space = nix::cmsg_space!([RawFd; 1]);
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        {
            Err(Errno::EINTR) => continue,
            other => other?,
        };
        let mut passed = None;
        for cmsg in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                for fd in fds {
                    let owned = sys::own_fd(fd);
                    if passed.is_none() {
                        passed = Some(owned);
                    } // any extra descriptor is closed as `owned` drops
                }
            }
        }
        if msg.flags.contains(MsgFlags::MSG_TRUNC) {
            return Err(Errno::EMSGSIZE);
        }
        return Ok((msg.bytes, passed));
    }
}
