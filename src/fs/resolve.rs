//! Resolving caller-given paths without magic links and without crossing mounts (issue 19).
//!
//! The rule: root never follows a magic link or crosses a mount from a caller-given path.
//!
//! - A root path (an NM local/log dir, a cgroup file's directory, the parent of a pid file …)
//!   is resolved with `openat2(RESOLVE_NO_MAGICLINKS)`: plain symlinks are followed (Hadoop
//!   follows them for roots, and administrators use them), and a root may itself be a mount
//!   (a disk mounted at `/data/1/yarn/local`), but `/proc/<pid>/root`, `/proc/<pid>/cwd`,
//!   `/proc/<pid>/fd/N`, `/proc/self/…` and `/dev/fd/N` — the links that enter another
//!   process's mount namespace or an inherited descriptor — are refused (ELOOP). Without
//!   `openat2` (ENOSYS before Linux 5.6, ENOSYS or EPERM from a seccomp filter) the path is
//!   walked here one component at a time, following plain symlinks by their text and refusing
//!   any step onto a procfs (the only home of magic links).
//! - Below an NM root, every directory is pinned to the root's mount: opened with
//!   `openat2(RESOLVE_NO_XDEV|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_SYMLINKS)` where available, and
//!   then checked on its descriptor: same device, same mount id (`statx` `STATX_MNT_ID`) as the
//!   root, and not the root of a mount (`STATX_ATTR_MOUNT_ROOT`). A crossing is EXDEV.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, Mode};

use crate::sys;

/// Most plain symlinks one root path may go through (the kernel's own limit).
const MAX_SYMLINKS: usize = 40;

/// The mount a tree of directories is confined to: that of an NM root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    dev: u64,
    mnt_id: Option<u64>,
}

impl Pin {
    /// The mount of the (root) directory open as `fd`.
    pub fn of(fd: BorrowedFd<'_>) -> io::Result<Pin> {
        #[allow(clippy::unnecessary_cast)]
        let dev = fstat(fd.as_raw_fd())?.st_dev as u64;
        let mnt_id = facts(fd).and_then(|f| f.mnt_id);
        Ok(Pin { dev, mnt_id })
    }

    /// `fd` (a directory opened below the pinned root) is on the same mount and is not itself
    /// the root of another mount; EXDEV if not.
    pub fn check(&self, fd: BorrowedFd<'_>) -> Result<(), Errno> {
        #[allow(clippy::unnecessary_cast)]
        let dev = fstat(fd.as_raw_fd())?.st_dev as u64;
        if dev != self.dev {
            return Err(Errno::EXDEV);
        }
        if let Some(f) = facts(fd) {
            if let (Some(ours), Some(theirs)) = (self.mnt_id, f.mnt_id) {
                if ours != theirs {
                    return Err(Errno::EXDEV);
                }
            }
            if f.mount_root == Some(true) {
                return Err(Errno::EXDEV);
            }
        }
        Ok(())
    }
}

/// statx mount facts, or None where the kernel has no statx.
fn facts(fd: BorrowedFd<'_>) -> Option<sys::MountFacts> {
    sys::mount_facts(fd).ok()
}

fn cstring(bytes: &[u8]) -> Result<CString, Errno> {
    CString::new(bytes).map_err(|_| Errno::EINVAL)
}

/// Open an absolute path without following a magic link (see the module text). `flags` are the
/// open flags of the final object (`O_CLOEXEC` is added).
pub fn open_without_magic_links(path: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    let bytes = path.as_os_str().as_bytes();
    if !bytes.starts_with(b"/") {
        return Err(Errno::EINVAL);
    }
    let c = cstring(bytes)?;
    let flags = flags | OFlag::O_CLOEXEC;
    match sys::openat2(
        libc::AT_FDCWD,
        &c,
        flags.bits(),
        libc::RESOLVE_NO_MAGICLINKS,
    ) {
        // ENOSYS: no openat2; EPERM: a seccomp filter (older container runtimes) refusing it.
        Err(Errno::ENOSYS | Errno::EPERM) => walk_without_magic_links(bytes, flags),
        other => other,
    }
}

/// The fallback of [`open_without_magic_links`]: our own walk from "/", one component at a
/// time with `O_PATH|O_NOFOLLOW`; a plain symlink is read and its text walked instead (from
/// "/" if absolute); ".." is resolved by the kernel from the open directory; no step may land
/// on a procfs. The final object is then reopened with `flags` through ".".
pub fn walk_without_magic_links(path: &[u8], flags: OFlag) -> Result<OwnedFd, Errno> {
    let pass = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let root = || nix::fcntl::open("/", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty());
    let mut fd: OwnedFd = root().map(sys::own_fd)?;
    // Components still to walk, in reverse order (so symlink text is pushed on the end).
    let mut todo: Vec<Vec<u8>> = split(path);
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == b"." {
            continue;
        }
        let c = cstring(&name)?;
        let next = sys::own_fd(openat(
            Some(fd.as_raw_fd()),
            c.as_c_str(),
            pass,
            Mode::empty(),
        )?);
        let st = fstat(next.as_raw_fd())?;
        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            let target = readlinkat(Some(fd.as_raw_fd()), c.as_c_str())?;
            let target = target.as_bytes();
            if target.starts_with(b"/") {
                fd = root().map(sys::own_fd)?;
            }
            todo.extend(split(target));
            continue;
        }
        if on_procfs(next.as_fd())? {
            return Err(Errno::ELOOP);
        }
        if !todo.is_empty() && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        fd = next;
    }
    if on_procfs(fd.as_fd())? {
        return Err(Errno::ELOOP);
    }
    reopen(fd.as_raw_fd(), flags)
}

/// Reopen what `fd` (O_PATH) refers to with `flags`: a directory through ".", anything else is
/// refused (the roots we resolve are directories).
fn reopen(fd: RawFd, flags: OFlag) -> Result<OwnedFd, Errno> {
    let st = fstat(fd)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    openat(Some(fd), ".", flags | OFlag::O_NOFOLLOW, Mode::empty()).map(sys::own_fd)
}

/// Path components in reverse order, empty ones dropped.
fn split(path: &[u8]) -> Vec<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = path
        .split(|c| *c == b'/')
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    parts.reverse();
    parts
}

fn on_procfs(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    let fs = nix::sys::statfs::fstatfs(fd)?;
    Ok(fs.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
}

/// One name below a pinned directory: `openat2` with `RESOLVE_NO_XDEV|RESOLVE_NO_MAGICLINKS|
/// RESOLVE_NO_SYMLINKS` (plain `openat` where the kernel lacks it), then [`Pin::check`] on the
/// opened descriptor.
pub fn open_pinned(parent: RawFd, name: &OsStr, flags: OFlag, pin: &Pin) -> Result<OwnedFd, Errno> {
    let c = cstring(name.as_bytes())?;
    let resolve = libc::RESOLVE_NO_XDEV | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS;
    let fd = match sys::openat2(parent, &c, flags.bits(), resolve) {
        Err(Errno::ENOSYS | Errno::EPERM) => {
            sys::own_fd(openat(Some(parent), c.as_c_str(), flags, Mode::empty())?)
        }
        other => other?,
    };
    pin.check(fd.as_fd())?;
    Ok(fd)
}

/// Whether the mount of `fd` is one of our own mount namespace (listed in
/// `/proc/self/mountinfo`). True where the kernel gives no mount id (nothing to compare).
pub fn in_own_mount_namespace(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let Some(id) = facts(fd).and_then(|f| f.mnt_id) else {
        return Ok(true);
    };
    let text = std::fs::read("/proc/self/mountinfo")?;
    let wanted = id.to_string();
    Ok(text
        .split(|c| *c == b'\n')
        .filter_map(|line| line.split(|c| *c == b' ').next())
        .any(|first| first == wanted.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_flags() -> OFlag {
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC
    }

    fn ino(fd: &OwnedFd) -> (u64, u64) {
        let st = fstat(fd.as_raw_fd()).unwrap();
        #[allow(clippy::unnecessary_cast)]
        (st.st_dev as u64, st.st_ino as u64)
    }

    fn ino_of(path: &Path) -> (u64, u64) {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).unwrap();
        (m.dev(), m.ino())
    }

    const MAGIC: [&str; 6] = [
        "/proc/self/root/tmp",
        "/proc/self/cwd",
        "/proc/1/root",
        "/proc/thread-self/root",
        "/dev/fd/0",
        "/proc/self/fd/0",
    ];

    #[test]
    fn openat2_refuses_magic_links_and_follows_plain_symlinks() {
        for path in MAGIC {
            let got = open_without_magic_links(Path::new(path), dir_flags());
            // ELOOP where the magic link is reached (EACCES first where ptrace rules forbid).
            assert!(got.is_err(), "{path}: {got:?}");
        }
        let got = open_without_magic_links(Path::new("/proc/self/root/tmp"), dir_flags());
        assert_eq!(got.unwrap_err(), Errno::ELOOP);
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&target, tmp.path().join("abs")).unwrap();
        let fd = open_without_magic_links(&tmp.path().join("abs"), dir_flags()).unwrap();
        assert_eq!(ino(&fd), ino_of(&target));
    }

    #[test]
    fn fallback_walk_refuses_procfs_and_follows_plain_symlinks() {
        for path in MAGIC
            .iter()
            .chain(["/proc", "/proc/self", "/dev/fd"].iter())
        {
            let got = walk_without_magic_links(path.as_bytes(), dir_flags());
            assert!(matches!(got, Err(Errno::ELOOP)), "{path}: {got:?}");
        }
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("a").join("target");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::create_dir(tmp.path().join("b")).unwrap();
        std::os::unix::fs::symlink(&target, tmp.path().join("abs")).unwrap();
        std::os::unix::fs::symlink("../a/target", tmp.path().join("b").join("rel")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root", tmp.path().join("toproc")).unwrap();
        std::os::unix::fs::symlink("loop", tmp.path().join("loop")).unwrap();
        let walk = |p: &Path| walk_without_magic_links(p.as_os_str().as_bytes(), dir_flags());
        for p in [
            tmp.path().join("abs"),
            tmp.path().join("b/rel"),
            tmp.path().join("b/../abs/"),
            tmp.path().join("./a//target"),
        ] {
            let fd = walk(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(ino(&fd), ino_of(&target), "{}", p.display());
        }
        assert_eq!(
            walk(&tmp.path().join("toproc/tmp")).unwrap_err(),
            Errno::ELOOP
        );
        assert_eq!(walk(&tmp.path().join("loop")).unwrap_err(), Errno::ELOOP);
        assert_eq!(
            walk(&tmp.path().join("missing")).unwrap_err(),
            Errno::ENOENT
        );
        std::fs::write(tmp.path().join("file"), b"x").unwrap();
        assert_eq!(walk(&tmp.path().join("file")).unwrap_err(), Errno::ENOTDIR);
        assert_eq!(
            walk(&tmp.path().join("file/x")).unwrap_err(),
            Errno::ENOTDIR
        );
    }

    #[test]
    fn pin_refuses_another_mount_and_accepts_the_same_one() {
        let root = sys::own_fd(
            nix::fcntl::open("/", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap(),
        );
        let pin = Pin::of(root.as_fd()).unwrap();
        // /proc is a mount of its own below "/".
        let proc = open_pinned(root.as_raw_fd(), OsStr::new("proc"), OFlag::O_PATH, &pin);
        assert_eq!(proc.unwrap_err(), Errno::EXDEV);
        let plain = sys::own_fd(
            nix::fcntl::open("/proc", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap(),
        );
        assert_eq!(pin.check(plain.as_fd()), Err(Errno::EXDEV));
        // A directory on the same mount as its parent passes.
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("child")).unwrap();
        let top = open_without_magic_links(tmp.path(), dir_flags()).unwrap();
        let pin = Pin::of(top.as_fd()).unwrap();
        let child = open_pinned(top.as_raw_fd(), OsStr::new("child"), dir_flags(), &pin);
        assert!(child.is_ok(), "{child:?}");
        assert!(in_own_mount_namespace(top.as_fd()).unwrap());
        std::os::unix::fs::symlink("child", tmp.path().join("link")).unwrap();
        let link = open_pinned(
            top.as_raw_fd(),
            OsStr::new("link"),
            dir_flags() | OFlag::O_NOFOLLOW,
            &pin,
        );
        assert!(
            matches!(link, Err(Errno::ELOOP) | Err(Errno::ENOTDIR)),
            "{link:?}"
        );
    }
}
