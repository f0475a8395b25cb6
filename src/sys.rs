//! The only `unsafe` in the crate: thin wrappers for the few calls `nix` does not make safe.
//! Each wrapper states why the call is sound. Everything else uses `nix`'s safe API.
#![warn(clippy::undocumented_unsafe_blocks)]

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, Signal};

/// Mark every inherited descriptor above 2 close-on-exec, so nothing the NodeManager (or an
/// attacker) left open can reach a container, a localizer or any other program we exec.
pub fn cloexec_inherited_fds() -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags in this process; it takes plain integers
    // and touches no memory of ours.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: walk /proc/self/fd instead.
    for fd in open_fds_above_2()? {
        // The descriptor of the directory walk is already closed; EBADF for it is harmless.
        let _ = nix::fcntl::fcntl(
            fd,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
    }
    Ok(())
}

/// Close every inherited descriptor above 2 (run first thing at start, before we open
/// anything): an inherited descriptor can then never be reached as `/dev/fd/N` or
/// `/proc/self/fd/N`, nor passed on. The NodeManager (Java's process builder) passes only 0-2.
pub fn close_inherited_fds() -> Result<(), Errno> {
    // SAFETY: close_range with no flags closes descriptors of this process only; it takes plain
    // integers and touches no memory. Nothing above 2 is owned by Rust code yet (this runs
    // before anything is opened), so no `OwnedFd` is left dangling.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            0,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // Kernels before 5.9 lack close_range: close what /proc/self/fd lists.
    for fd in open_fds_above_2()? {
        // The descriptor of the directory walk is already closed; EBADF for it is harmless.
        let _ = nix::unistd::close(fd);
    }
    Ok(())
}

fn open_fds_above_2() -> Result<Vec<i32>, Errno> {
    Ok(std::fs::read_dir("/proc/self/fd")
        .map_err(|_| Errno::last())?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect())
}

/// `openat2(2)` (Linux 5.6+) with `RESOLVE_*` flags: `flags` are the usual `O_*` flags (never
/// `O_CREAT`, so no mode), `resolve` the `RESOLVE_*` bits. ENOSYS on older kernels (and where a
/// seccomp filter hides the call): the caller falls back.
pub fn openat2(
    dirfd: std::os::fd::RawFd,
    path: &std::ffi::CStr,
    flags: libc::c_int,
    resolve: u64,
) -> Result<std::os::fd::OwnedFd, Errno> {
    if flags & libc::O_CREAT != 0 {
        return Err(Errno::EINVAL);
    }
    // SAFETY: `open_how` is plain old data; all-zero is a valid value (the kernel requires the
    // fields we do not set to be zero).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = resolve;
    // SAFETY: `path` is a live NUL-terminated string and `how` a live local of the size we pass;
    // the kernel only reads both. On success the return value is a new descriptor nothing else
    // owns.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirfd,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if rc < 0 {
        return Err(Errno::last());
    }
    Ok(own_fd(rc as std::os::fd::RawFd))
}

/// What `statx(2)` says about the mount an open object is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountFacts {
    /// The mount id (`STATX_MNT_ID`, Linux 5.8+), unique across all mount namespaces.
    pub mnt_id: Option<u64>,
    /// The object is the root of a mount (`STATX_ATTR_MOUNT_ROOT`), where the kernel says.
    pub mount_root: Option<bool>,
}

/// `statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID)`: the mount facts of an open descriptor. ENOSYS
/// on kernels without statx.
pub fn mount_facts(fd: std::os::fd::BorrowedFd<'_>) -> Result<MountFacts, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: `statx` is plain old data; all-zero is a valid value for the kernel to overwrite.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: the path is a static empty C string, `buf` a live local the kernel writes one
    // `struct statx` into; the descriptor is borrowed, so open for the whole call.
    let rc = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_MNT_ID,
            &mut buf,
        )
    };
    if rc != 0 {
        return Err(Errno::last());
    }
    let root_bit = libc::STATX_ATTR_MOUNT_ROOT as u64;
    Ok(MountFacts {
        mnt_id: (buf.stx_mask & libc::STATX_MNT_ID != 0).then_some(buf.stx_mnt_id),
        mount_root: (buf.stx_attributes_mask & root_bit != 0)
            .then_some(buf.stx_attributes & root_bit != 0),
    })
}

/// Set one signal's disposition.
pub fn set_signal_disposition(signal: Signal, handler: SigHandler) -> Result<(), Errno> {
    if !matches!(handler, SigHandler::SigDfl | SigHandler::SigIgn) {
        return Err(Errno::EINVAL);
    }
    // SAFETY: we only install SIG_DFL or SIG_IGN (checked above), never a Rust function, so no
    // handler can run in signal context and touch our state.
    unsafe { nix::sys::signal::signal(signal, handler) }.map(|_| ())
}

/// Every signal, real-time ones included, back to its default disposition. This goes to the
/// kernel directly: `nix`'s `Signal` cannot name real-time signals, and the C library refuses
/// to touch the two it reserves for itself (32 and 33), which a caller can still leave ignored
/// for us to pass on. SIGKILL and SIGSTOP cannot be changed and are skipped.
pub fn reset_all_signal_dispositions() {
    // The kernel's `struct sigaction` with handler SIG_DFL (0), no flags, no restorer and an
    // empty mask is all zeros on every Linux architecture; 32 zero bytes cover the largest
    // layout (x86_64: handler, flags, restorer, 64-bit mask).
    let default_action = [0u64; 4];
    const KERNEL_SIGSET_BYTES: libc::size_t = 8; // _NSIG / 8 for 64 signals
    for signum in 1..=64 {
        if signum == libc::SIGKILL || signum == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction reads the zeroed action (SIG_DFL, which runs no code of ours)
        // from a live local array large enough for the kernel's struct, and writes nothing
        // back (old action pointer is null).
        let _ = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signum as libc::c_long,
                default_action.as_ptr(),
                std::ptr::null_mut::<libc::c_void>(),
                KERNEL_SIGSET_BYTES,
            )
        };
    }
}

/// fork(2). The child must only do async-signal-safe work or exec; our callers are single-threaded.
pub enum Forked {
    Parent(nix::unistd::Pid),
    Child,
}

pub fn fork() -> Result<Forked, Errno> {
    // SAFETY: container-executor is single-threaded (no thread is ever spawned in the binary), so
    // the child inherits a consistent heap and no lock held by another thread.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Take ownership of a descriptor that `nix` 0.29 returned as a raw integer from a successful
/// `open`/`openat`, or that arrived in an `SCM_RIGHTS` message of `recvmsg`, so that it is
/// closed when dropped.
pub fn own_fd(fd: std::os::fd::RawFd) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: callers pass only a descriptor just returned by a successful open/openat, or one
    // the kernel just installed for an SCM_RIGHTS message, which nothing else owns or will close.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// kill(2) with a raw signal number: the NodeManager may send any number (0 for the liveness
/// probe), and `nix`'s `Signal` enum cannot carry real-time signals.
pub fn kill_raw(pid: i32, signal: i32) -> Result<(), Errno> {
    // SAFETY: kill takes two integers and touches no memory; the kernel checks permission.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// Make the terminal open on `fd` the calling process's controlling terminal (`TIOCSCTTY`).
/// The caller must be a session leader without one (just after `setsid`).
pub fn set_controlling_tty(fd: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal a terminal another session
    // owns), not a pointer; the descriptor is borrowed, so it is open for the whole call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0 as libc::c_int) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// Empty the process environment (`clearenv`), so that nothing a caller put there can reach a
/// C library or NSS module that reads it with plain `getenv` while we hold root. Call only while
/// the process is single-threaded, after the values still needed were copied out.
pub fn clear_environment() {
    // SAFETY: the binary never spawns a thread, so no other thread can be reading `environ`
    // concurrently; std keeps no borrowed pointers into the environment (its getters copy), and
    // clearenv only drops glibc's array of pointers.
    let _ = unsafe { libc::clearenv() };
}

/// `keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)`: replace this process's session keyring with a
/// new, anonymous one (owned by the current uid), so that keys in the caller's session keyring
/// are no longer possessed by us or by anything we exec. Returns the new keyring's serial.
pub fn join_new_session_keyring() -> Result<i64, Errno> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: a null name asks the kernel for an anonymous keyring; the call reads no memory of
    // ours and changes only this process's keyring credentials.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(rc)
    }
}

/// The id of the mount an open descriptor lies on (`statx` `STATX_MNT_ID`), to tell a mount
/// crossing that device numbers alone cannot (a bind mount keeps the device).
pub fn mount_id(fd: std::os::fd::BorrowedFd<'_>) -> Result<u64, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: statx is all-integer plain data, so all-zero is a valid value.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: the empty C string literal lives for the whole call and AT_EMPTY_PATH makes the
    // kernel use the borrowed (open) descriptor itself; it writes at most one `struct statx`
    // into our live, writable local.
    let rc = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    if rc != 0 {
        return Err(Errno::last());
    }
    if stx.stx_mask & libc::STATX_MNT_ID == 0 {
        return Err(Errno::ENOSYS);
    }
    Ok(stx.stx_mnt_id)
}

/// `prctl(PR_CAPBSET_DROP, cap)`: remove one capability from this thread's bounding set. The
/// kernel answers `EINVAL` exactly for a number above its last capability, `EPERM` without
/// `CAP_SETPCAP`; success means the capability is not in the bounding set (already absent or
/// just removed), and nothing can ever put it back.
pub fn capbset_drop(cap: u32) -> Result<(), Errno> {
    // SAFETY: prctl with PR_CAPBSET_DROP takes only integers and touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)`: empty this thread's ambient set.
pub fn cap_ambient_clear_all() -> Result<(), Errno> {
    // SAFETY: the ambient-clear prctl takes only integers and touches no memory of ours.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// This thread's effective, permitted and inheritable capability sets, one bit per capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// capget(2) for this thread (version 3: 64 capabilities in two 32-bit words per set).
pub fn capget() -> Result<CapSets, Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: the header and the two-element data array are live, writable locals laid out as
    // the kernel's `__user_cap_header_struct` and `__user_cap_data_struct[2]` (version 3); the
    // kernel writes at most those 2 elements.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(Errno::last());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// capset(2) for this thread (version 3).
pub fn capset(sets: CapSets) -> Result<(), Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let word = |set: u64, i: usize| (set >> (32 * i)) as u32;
    let data: [CapData; 2] = std::array::from_fn(|i| CapData {
        effective: word(sets.effective, i),
        permitted: word(sets.permitted, i),
        inheritable: word(sets.inheritable, i),
    });
    // SAFETY: the header and data array are live locals laid out as the kernel's structs
    // (version 3, two data elements); the kernel only reads the data (and may write the
    // header's version back, which is writable).
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// getgroups(2) without asking `sysconf(_SC_NGROUPS_MAX)` first (glibc reads
/// /proc/sys/kernel/ngroups_max for it on every call, which is what `nix` does): one call with
/// room for 64 groups, and only if that is too small, ask the kernel for the count and retry.
pub fn getgroups() -> Result<Vec<nix::unistd::Gid>, Errno> {
    let mut buf: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let room = libc::c_int::try_from(buf.len()).map_err(|_| Errno::EINVAL)?;
        // SAFETY: the kernel writes at most `room` gids into the live buffer of that length.
        let n = unsafe { libc::getgroups(room, buf.as_mut_ptr()) };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(buf.into_iter().map(nix::unistd::Gid::from_raw).collect());
        }
        let e = Errno::last();
        if e != Errno::EINVAL {
            return Err(e);
        }
        // Too small: the count alone (size 0 writes nothing), and room for it.
        // SAFETY: with size 0 the kernel writes nothing through the (null) pointer.
        let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
        if count < 0 {
            return Err(Errno::last());
        }
        buf = vec![0; count as usize + 1];
    }
}

/// getgrouplist(3): the groups the group database gives `name` (with `gid` among them), without
/// `nix`'s `sysconf(_SC_NGROUPS_MAX)` read: room for 64 first, then exactly what the C library
/// says it needs.
pub fn getgrouplist(
    name: &std::ffi::CStr,
    gid: nix::unistd::Gid,
) -> Result<Vec<nix::unistd::Gid>, Errno> {
    const NGROUPS_MAX: libc::c_int = 65536;
    let mut room: libc::c_int = 64;
    loop {
        let mut buf: Vec<libc::gid_t> = vec![0; room as usize];
        let mut n = room;
        let (user, list) = (name.as_ptr(), buf.as_mut_ptr());
        // SAFETY: `user` points into `name`, a valid C string alive for the call; glibc writes at
        // most `n` gids into `list` (the live buffer of that length) and stores the number it
        // found (or needs) in `n`.
        let rc = unsafe { libc::getgrouplist(user, gid.as_raw(), list, &mut n) };
        if rc >= 0 {
            buf.truncate(n.clamp(0, room) as usize);
            return Ok(buf.into_iter().map(nix::unistd::Gid::from_raw).collect());
        }
        // -1: the list did not fit; `n` is how many it has (glibc), or unchanged (other libcs).
        if room >= NGROUPS_MAX {
            return Err(Errno::EINVAL);
        }
        room = if n > room {
            n.min(NGROUPS_MAX)
        } else {
            (room * 2).min(NGROUPS_MAX)
        };
    }
}
