//! Directory-descriptor based filesystem operations for every command.
//!
//! The rule this module enforces: a privileged step never resolves a name that the NodeManager
//! user or an application user could have replaced with a symlink. Work starts from a directory
//! descriptor (an administrator-given root, or a path walked component by component with
//! `O_NOFOLLOW`), and every later step is an `*at` call relative to an open descriptor:
//! `openat(O_NOFOLLOW)`, `mkdirat`, `fstatat(AT_SYMLINK_NOFOLLOW)`, `unlinkat`, `renameat`, and
//! `fchown`/`fchmod` on the opened object itself. Checks are made with `fstat` on what was opened,
//! never on a name (SECURITY.md, "Files opened while privileged").
//!
//! Failures are plain `std::io::Error`s carrying the errno, so each command can map them to
//! Hadoop's exit codes and messages; `mkdirs` wraps its failures in [`MkdirsError`] because
//! Hadoop's messages for it name the path (docs/layout.md §1.3).
//!
//! Identity is not this module's business: callers switch to NM / user / root around the calls.

mod error;
mod remove;
pub mod resolve;

#[cfg(test)]
mod tests;

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, FcntlArg, OFlag};
use nix::sys::stat::{fchmod, fchmodat, fstat, fstatat, mkdirat, FchmodatFlags, FileStat, Mode};
use nix::unistd::{fchown, fchownat, unlinkat, Gid, Uid, UnlinkatFlags};

pub use error::MkdirsError;

/// Buffer size of the file copies (Hadoop's `copy_file` uses 128 KiB).
const COPY_BUFFER: usize = 128 * 1024;

/// An open directory. Every operation on it is relative to the descriptor; the path is kept only
/// to write messages and is never used to reach the filesystem.
#[derive(Debug)]
pub struct DirFd {
    fd: OwnedFd,
    path: PathBuf,
    /// Set below an NM root: every directory opened from this one must stay on this mount
    /// (see `resolve.rs`); inherited by the directories opened from it.
    pin: Option<resolve::Pin>,
}

/// The fields of `struct stat` the commands look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub uid: u32,
    pub gid: u32,
    /// The full `st_mode`, file type included.
    pub mode: u32,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

impl Stat {
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }

    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }

    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    pub fn perm(&self) -> u32 {
        self.mode & 0o7777
    }
}

// st_nlink is u64 on x86_64 but u32 on some other Linux targets, hence the allow.
#[allow(clippy::unnecessary_cast)]
impl From<FileStat> for Stat {
    fn from(st: FileStat) -> Stat {
        Stat {
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode,
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            nlink: st.st_nlink as u64,
        }
    }
}

/// Flags for a directory we will read, chmod or chown.
fn dir_read_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// Flags for a directory we only pass through: `O_PATH` needs search permission on the parent but
/// no permission on the directory itself, exactly like path resolution in Hadoop's by-name calls.
fn dir_pass_flags() -> OFlag {
    OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// openat that returns an owned descriptor.
fn open_at(dirfd: RawFd, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd, Errno> {
    openat(Some(dirfd), name, flags, mode).map(crate::sys::own_fd)
}

/// Refuse anything that is not exactly one path component.
fn check_name(name: &OsStr) -> io::Result<()> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(Errno::EINVAL.into());
    }
    Ok(())
}

/// `base` + "/" + `name` for messages (no doubled slash when `base` already ends in one).
fn join_display(base: &Path, name: &OsStr) -> PathBuf {
    let mut bytes = base.as_os_str().as_bytes().to_vec();
    if !bytes.ends_with(b"/") {
        bytes.push(b'/');
    }
    bytes.extend_from_slice(name.as_bytes());
    PathBuf::from(OsString::from_vec(bytes))
}

/// The components of an absolute path: leading and repeated slashes skipped, a trailing slash
/// allowed; relative paths and "." / ".." components refused (EINVAL). `Path::components` is
/// not used because it silently drops "." components.
fn absolute_components(path: &Path) -> io::Result<Vec<&OsStr>> {
    let b = path.as_os_str().as_bytes();
    if !b.starts_with(b"/") || b.contains(&0) {
        return Err(Errno::EINVAL.into());
    }
    let mut out = Vec::new();
    for part in b.split(|c| *c == b'/').filter(|p| !p.is_empty()) {
        if part == b"." || part == b".." {
            return Err(Errno::EINVAL.into());
        }
        out.push(OsStr::from_bytes(part));
    }
    Ok(out)
}

impl AsFd for DirFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl DirFd {
    /// Open a caller-given absolute directory path (an NM local/log root, a cgroup directory,
    /// the parent of a pid file). Plain symlinks in the path are followed (Hadoop follows them
    /// for roots) and the path may cross mounts, but never a magic link (`/proc/<pid>/root`,
    /// `/proc/self/cwd`, `/dev/fd/N`…: ELOOP; see `resolve.rs`). Relative paths are refused
    /// (EINVAL).
    pub fn open_root(path: &Path) -> io::Result<DirFd> {
        let fd = resolve::open_without_magic_links(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
        Ok(DirFd {
            fd,
            path: path.to_path_buf(),
            pin: None,
        })
    }

    /// Confine everything opened below this directory to its mount: each directory opened
    /// from it (and from those, and so on) must be on the same device and mount and not be a
    /// mount point (EXDEV otherwise). For NM roots, which may themselves be mounts.
    pub fn pinned(mut self) -> io::Result<DirFd> {
        self.pin = Some(resolve::Pin::of(self.fd.as_fd())?);
        Ok(self)
    }

    /// Whether this directory's mount belongs to our own mount namespace.
    pub fn in_own_mount_namespace(&self) -> io::Result<bool> {
        resolve::in_own_mount_namespace(self.fd.as_fd())
    }

    /// openat below self, through the mount pin when there is one.
    fn open_child(&self, parent: RawFd, name: &OsStr, flags: OFlag) -> Result<OwnedFd, Errno> {
        match &self.pin {
            Some(pin) => resolve::open_pinned(parent, name, flags, pin),
            None => open_at(parent, name, flags, Mode::empty()),
        }
    }

    /// Open an absolute path walking from "/" one component at a time with `O_NOFOLLOW`: any
    /// symlink component fails (ELOOP or ENOTDIR). "." and ".." components are refused (EINVAL);
    /// empty components (repeated slashes) are skipped.
    ///
    /// Intermediate directories are opened `O_PATH`, so — as with Hadoop's by-name calls — only
    /// search permission is needed on them; the final directory is opened for reading.
    pub fn open_nofollow(path: &Path) -> io::Result<DirFd> {
        let components = absolute_components(path)?;
        let root_flags = match components.is_empty() {
            true => OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            false => OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        };
        let mut fd = nix::fcntl::open("/", root_flags, Mode::empty()).map(crate::sys::own_fd)?;
        let last = components.len().saturating_sub(1);
        for (i, name) in components.iter().enumerate() {
            let flags = if i == last {
                dir_read_flags()
            } else {
                dir_pass_flags()
            };
            fd = open_at(fd.as_raw_fd(), name, flags, Mode::empty())?;
        }
        Ok(DirFd {
            fd,
            path: path.to_path_buf(),
            pin: None,
        })
    }

    /// One path component beneath self, opened `O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC`.
    /// A symlink fails with ELOOP, any other non-directory with ENOTDIR (a FIFO never blocks).
    pub fn open_dir(&self, name: &OsStr) -> io::Result<DirFd> {
        check_name(name)?;
        let fd = self.open_child(self.fd.as_raw_fd(), name, dir_read_flags())?;
        Ok(DirFd {
            fd,
            path: join_display(&self.path, name),
            pin: self.pin,
        })
    }

    /// A regular file beneath self for reading. Opened `O_NONBLOCK` so a FIFO cannot block us and
    /// `O_NOCTTY` so a terminal cannot become ours; anything but a regular file is refused
    /// (EINVAL) after `fstat`; `O_NONBLOCK` is cleared before the file is handed back.
    pub fn open_file(&self, name: &OsStr) -> io::Result<File> {
        self.open_regular(name, OFlag::O_RDONLY)
    }

    /// Open an existing regular file beneath self with `access` plus `O_NOFOLLOW|O_CLOEXEC|
    /// O_NONBLOCK|O_NOCTTY`, refuse anything else after `fstat`, then clear `O_NONBLOCK`.
    fn open_regular(&self, name: &OsStr, access: OFlag) -> io::Result<File> {
        check_name(name)?;
        let flags =
            access | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
        let fd = open_at(self.fd.as_raw_fd(), name, flags, Mode::empty())?;
        if !Stat::from(fstat(fd.as_raw_fd())?).is_file() {
            return Err(Errno::EINVAL.into());
        }
        let current =
            OFlag::from_bits_truncate(nix::fcntl::fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
        nix::fcntl::fcntl(
            fd.as_raw_fd(),
            FcntlArg::F_SETFL(current & !OFlag::O_NONBLOCK),
        )?;
        Ok(File::from(fd))
    }

    /// An existing file beneath self opened `O_WRONLY|O_APPEND|O_NOFOLLOW` (never created), for
    /// cgroup task files and device deny lists. Must be a regular file or, as cgroup control files
    /// are, on a cgroup filesystem; anything else (FIFO, device, socket) is refused with EINVAL.
    pub fn open_append(&self, name: &OsStr) -> io::Result<File> {
        self.open_regular(name, OFlag::O_WRONLY | OFlag::O_APPEND)
    }

    /// Create a new file beneath self with `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC` and the
    /// given creation mode (the umask applies). An existing name of any kind — a dangling symlink
    /// included — fails with EEXIST.
    pub fn create_file(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        check_name(name)?;
        let flags = OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_EXCL
            | OFlag::O_NOFOLLOW
            | OFlag::O_CLOEXEC
            | OFlag::O_NOCTTY;
        let fd = open_at(
            self.fd.as_raw_fd(),
            name,
            flags,
            Mode::from_bits_truncate(mode & 0o7777),
        )?;
        Ok(File::from(fd))
    }

    /// The path this directory was opened by (plus the names walked since), for messages only.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `fstat` of the directory itself.
    pub fn stat(&self) -> io::Result<Stat> {
        Ok(fstat(self.fd.as_raw_fd())?.into())
    }

    /// `fstatat(name, AT_SYMLINK_NOFOLLOW)`: a symlink is described, not followed.
    pub fn stat_at(&self, name: &OsStr) -> io::Result<Stat> {
        check_name(name)?;
        Ok(fstatat(
            Some(self.fd.as_raw_fd()),
            name,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )?
        .into())
    }

    /// `fchown` of the directory itself.
    pub fn chown(&self, uid: u32, gid: u32) -> io::Result<()> {
        fchown(
            self.fd.as_raw_fd(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
        )?;
        Ok(())
    }

    /// `fchmod` of the directory itself (`mode & 0o7777`).
    pub fn chmod(&self, mode: u32) -> io::Result<()> {
        fchmod(self.fd.as_raw_fd(), Mode::from_bits_truncate(mode & 0o7777))?;
        Ok(())
    }

    /// `fchownat(name, AT_SYMLINK_NOFOLLOW)`: a symlink itself is re-owned, its target never.
    pub fn chown_at(&self, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
        check_name(name)?;
        fchownat(
            Some(self.fd.as_raw_fd()),
            name,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
        Ok(())
    }

    /// `fchmodat(name, AT_SYMLINK_NOFOLLOW)`: changes the named object without following a
    /// symlink; a symlink fails (EOPNOTSUPP from the C library), its target is never touched.
    pub fn chmod_at_nofollow(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        check_name(name)?;
        fchmodat(
            Some(self.fd.as_raw_fd()),
            name,
            Mode::from_bits_truncate(mode & 0o7777),
            FchmodatFlags::NoFollowSymlink,
        )?;
        Ok(())
    }

    /// `mkdirat(name, mode)` (the umask applies): `Ok(true)` if created, `Ok(false)` if the name
    /// already existed, whatever it is.
    pub fn mkdir(&self, name: &OsStr, mode: u32) -> io::Result<bool> {
        check_name(name)?;
        match mkdirat(
            Some(self.fd.as_raw_fd()),
            name,
            Mode::from_bits_truncate(mode & 0o7777),
        ) {
            Ok(()) => Ok(true),
            Err(Errno::EEXIST) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Hadoop's `mkdirs` relative to self (docs/layout.md §1.3).
    ///
    /// Missing components are created with `mode` (the umask applies, as in Hadoop). An existing
    /// intermediate only has to be a directory; it is opened `O_PATH|O_NOFOLLOW`, so a symlink is
    /// refused (Hadoop follows it). If the final component already existed it must be a
    /// directory — not a symlink — whose `rwxrwxrwx` bits are exactly `mode & 0o777`; special bits
    /// are ignored. A freshly created final component is not re-checked. Returns the final
    /// directory opened for reading.
    ///
    /// Errors are [`MkdirsError`]s inside the `io::Error`; their text is Hadoop's message.
    pub fn mkdirs(&self, components: &[&OsStr], mode: u32) -> io::Result<DirFd> {
        if components.is_empty() {
            return Err(Errno::EINVAL.into());
        }
        for name in components {
            check_name(name)?;
        }
        let mut path = self.path.clone();
        let mut current: Option<OwnedFd> = None;
        let last = components.len() - 1;
        for (i, name) in components.iter().enumerate() {
            let parent = current
                .as_ref()
                .map_or(self.fd.as_raw_fd(), |f| f.as_raw_fd());
            path = join_display(&path, name);
            let is_final = i == last;
            let flags = if is_final {
                dir_read_flags()
            } else {
                dir_pass_flags()
            };
            let (fd, existed) = mkdirs_step(self, parent, name, flags, mode, &path)?;
            if existed && is_final {
                let st =
                    Stat::from(fstat(fd.as_raw_fd()).map_err(|e| MkdirsError::open(&path, e))?);
                let actual = st.mode & 0o777;
                let needed = mode & 0o777;
                if actual != needed {
                    return Err(MkdirsError::WrongPermission {
                        path,
                        actual,
                        needed,
                    }
                    .into());
                }
            }
            current = Some(fd);
        }
        match current {
            Some(fd) => Ok(DirFd {
                fd,
                path,
                pin: self.pin,
            }),
            None => Err(Errno::EINVAL.into()),
        }
    }

    /// Create `name` (`O_CREAT|O_EXCL|O_NOFOLLOW`, so neither an existing file nor a dangling
    /// symlink is accepted), copy all of `src` into it, then `fchmod` it to exactly `mode`. On a
    /// failure after creation the partial file is unlinked (if the name still refers to it).
    pub fn copy_new_file(&self, src: &mut File, name: &OsStr, mode: u32) -> io::Result<()> {
        let mut out = self.create_file(name, mode & 0o777)?;
        let ours = fstat(out.as_raw_fd())?;
        let copied = copy_all(src, &mut out).and_then(|()| {
            fchmod(out.as_raw_fd(), Mode::from_bits_truncate(mode & 0o7777))
                .map_err(io::Error::from)
        });
        // close(2) can report a failed write-back: then the copy cannot be trusted either.
        let result = copied.and(close_checked(out));
        if result.is_err() {
            self.unlink_if_same(name, &ours);
        }
        result
    }

    /// Hadoop's pid-file / exit-code-file write: create `<name>.tmp` with
    /// `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0700 (umask applies; a leftover `.tmp` makes this
    /// fail with EEXIST), write `contents`, close, then `renameat` it over `name`. On a failure
    /// after the `.tmp` was created it is unlinked.
    pub fn write_file_atomically(&self, name: &OsStr, contents: &[u8]) -> io::Result<()> {
        check_name(name)?;
        let mut tmp = name.to_os_string();
        tmp.push(".tmp");
        let mut file = self.create_file(&tmp, 0o700)?;
        let ours = fstat(file.as_raw_fd())?;
        let written = write_all(&mut file, contents).and(close_checked(file));
        if let Err(e) = written {
            self.unlink_if_same(&tmp, &ours);
            return Err(e);
        }
        let dir = self.fd.as_raw_fd();
        if let Err(e) = renameat(Some(dir), tmp.as_os_str(), Some(dir), name) {
            self.unlink_if_same(&tmp, &ours);
            return Err(e.into());
        }
        Ok(())
    }

    /// `unlinkat(name, 0)`; a missing name is success.
    pub fn unlink(&self, name: &OsStr) -> io::Result<()> {
        check_name(name)?;
        match unlinkat(Some(self.fd.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `unlinkat(name, AT_REMOVEDIR)`; a missing name is success.
    pub fn rmdir(&self, name: &OsStr) -> io::Result<()> {
        check_name(name)?;
        match unlinkat(Some(self.fd.as_raw_fd()), name, UnlinkatFlags::RemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Entry names in readdir order, without "." and "..".
    pub fn list(&self) -> io::Result<Vec<OsString>> {
        Ok(read_names(self.fd.as_fd())?)
    }

    /// The names of [`DirFd::list`], handed to `each` one at a time as they are read.
    pub fn for_each_name(&self, each: &mut dyn FnMut(&OsStr)) -> io::Result<()> {
        Ok(for_each_name(self.fd.as_fd(), each)?)
    }

    /// Remove everything below this directory (not the directory itself) with Hadoop's algorithm
    /// (docs/layout.md §7); see `remove.rs`. The first error is returned after everything that
    /// could be removed was removed.
    pub fn remove_contents(&self) -> io::Result<()> {
        remove::remove_contents(self, &mut |_, _| {})
    }

    /// [`DirFd::remove_contents`], reporting every failure (with the path for messages) to
    /// `on_error` as it happens, the way Hadoop logs each one.
    pub fn remove_contents_reporting(
        &self,
        on_error: &mut dyn FnMut(&Path, &io::Error),
    ) -> io::Result<()> {
        remove::remove_contents(self, on_error)
    }

    /// Remove one entry of self: a non-directory (symlinks included) is unlinked; a directory is
    /// opened `O_NOFOLLOW` (chmod 0700 and retry on EACCES), emptied and removed. Missing is
    /// success.
    pub fn remove_entry(&self, name: &OsStr) -> io::Result<()> {
        check_name(name)?;
        remove::remove_entry(self, name, &mut |_, _| {})
    }

    /// [`DirFd::remove_entry`], reporting every failure to `on_error` as it happens.
    pub fn remove_entry_reporting(
        &self,
        name: &OsStr,
        on_error: &mut dyn FnMut(&Path, &io::Error),
    ) -> io::Result<()> {
        check_name(name)?;
        remove::remove_entry(self, name, on_error)
    }

    /// The descriptor, borrowed.
    /// The target of the symlink `name` beneath self (readlinkat; nothing is followed).
    pub fn read_link_at(&self, name: &OsStr) -> io::Result<OsString> {
        check_name(name)?;
        Ok(nix::fcntl::readlinkat(Some(self.fd.as_raw_fd()), name)?)
    }

    pub fn raw_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Unlink `name` only if it still names the file we created (identified by `ours`, its
    /// `fstat`), so a concurrent replacement is left alone. Best effort: used on failure paths.
    fn unlink_if_same(&self, name: &OsStr, ours: &FileStat) {
        let dir = self.fd.as_raw_fd();
        if let Ok(now) = fstatat(Some(dir), name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            if now.st_dev == ours.st_dev && now.st_ino == ours.st_ino {
                let _ = unlinkat(Some(dir), name, UnlinkatFlags::NoRemoveDir);
            }
        }
    }
}

/// One component of `mkdirs`: open it if it exists, else create and open it. Returns the open
/// directory and whether it already existed.
fn mkdirs_step(
    top: &DirFd,
    parent: RawFd,
    name: &OsStr,
    flags: OFlag,
    mode: u32,
    path: &Path,
) -> io::Result<(OwnedFd, bool)> {
    match top.open_child(parent, name, flags) {
        Ok(fd) => return Ok((fd, true)),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(classify_open_failure(parent, name, e, path)),
    }
    let existed = match mkdirat(Some(parent), name, Mode::from_bits_truncate(mode & 0o7777)) {
        Ok(()) => false,
        // Created by someone else since our open: it is checked like any existing one.
        Err(Errno::EEXIST) => true,
        Err(e) => {
            return Err(MkdirsError::Create {
                path: path.to_path_buf(),
                errno: e,
            }
            .into())
        }
    };
    match top.open_child(parent, name, flags) {
        Ok(fd) => Ok((fd, existed)),
        Err(e) => Err(classify_open_failure(parent, name, e, path)),
    }
}

/// Turn an `O_NOFOLLOW|O_DIRECTORY` open failure into Hadoop's message where one applies.
fn classify_open_failure(parent: RawFd, name: &OsStr, e: Errno, path: &Path) -> io::Error {
    if e == Errno::ENOTDIR || e == Errno::ELOOP {
        if let Ok(st) = fstatat(Some(parent), name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            let st = Stat::from(st);
            if st.is_symlink() {
                return MkdirsError::Symlink {
                    path: path.to_path_buf(),
                }
                .into();
            }
            if !st.is_dir() {
                return MkdirsError::FileNotDir {
                    path: path.to_path_buf(),
                }
                .into();
            }
        }
    }
    MkdirsError::open(path, e).into()
}

/// Copy everything from `src` to `out`, retrying interrupted calls and short writes.
fn copy_all(src: &mut File, out: &mut File) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        write_all(out, buf.get(..n).unwrap_or(&[]))?;
    }
}

/// `write_all` that also surfaces a zero-length write as an error instead of looping.
fn write_all(out: &mut File, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match out.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = data.get(n..).unwrap_or(&[]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Close a file we wrote and report the error `close(2)` may return (dropping ignores it).
fn close_checked(file: File) -> io::Result<()> {
    let raw = file.into_raw_fd();
    match nix::unistd::close(raw) {
        // EINTR on Linux means the descriptor is closed already; nothing was lost.
        Ok(()) | Err(Errno::EINTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// All entry names of the directory open as `fd`, in readdir order, without "." and "..".
/// Reads through a duplicate descriptor rewound to the start, so `fd` needs no further permission
/// and may be listed again.
fn read_names(fd: BorrowedFd<'_>) -> Result<Vec<OsString>, Errno> {
    let mut names = Vec::new();
    for_each_name(fd, &mut |name| names.push(name.to_os_string()))?;
    Ok(names)
}

/// Every entry name but `.` and `..`, handed to `each` as read (nothing collected: a listing of
/// a huge directory costs no memory per entry).
fn for_each_name(fd: BorrowedFd<'_>, each: &mut dyn FnMut(&OsStr)) -> Result<(), Errno> {
    let dup = fd
        .try_clone_to_owned()
        .map_err(|e| e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))?;
    nix::unistd::lseek(dup.as_raw_fd(), 0, nix::unistd::Whence::SeekSet)?;
    let mut dir = nix::dir::Dir::from(dup)?;
    for entry in dir.iter() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        each(OsStr::from_bytes(name));
    }
    Ok(())
}

/// `fstatfs` on any descriptor: true iff it is on a cgroup v1 or cgroup v2 filesystem.
pub fn is_on_cgroup_fs(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let fs = nix::sys::statfs::fstatfs(fd)?;
    let kind = fs.filesystem_type();
    Ok(kind == nix::sys::statfs::CGROUP_SUPER_MAGIC
        || kind == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// Split an absolute path into (parent directory path, final component). Refuses relative paths,
/// paths ending in "/", "." or ".." components anywhere, and "/" itself (EINVAL). Repeated
/// slashes are allowed (Hadoop builds paths by plain concatenation).
pub fn split_parent(path: &Path) -> io::Result<(PathBuf, OsString)> {
    let b = path.as_os_str().as_bytes();
    if b.ends_with(b"/") {
        return Err(Errno::EINVAL.into());
    }
    let components = absolute_components(path)?;
    let Some(name) = components.last() else {
        return Err(Errno::EINVAL.into());
    };
    let cut = b.len() - name.len();
    let parent = b.get(..cut).unwrap_or(b"/");
    // Drop the slashes between the parent and the name, but keep "/" for a top-level entry.
    let mut end = parent.len();
    while end > 1 && parent.get(end - 1) == Some(&b'/') {
        end -= 1;
    }
    let parent = parent.get(..end).unwrap_or(b"/");
    Ok((
        PathBuf::from(OsStr::from_bytes(parent)),
        name.to_os_string(),
    ))
}

/// True if the path contains ".." anywhere as a substring (Hadoop's check on built paths: an id
/// such as `app..1` is refused too).
pub fn contains_dotdot(path: &OsStr) -> bool {
    path.as_bytes().windows(2).any(|w| w == b"..")
}
