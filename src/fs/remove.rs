//! Hadoop's recursive delete (docs/layout.md §7), walked over directory descriptors.
//!
//! Per entry: the type `readdir` reported decides (`fstatat(AT_SYMLINK_NOFOLLOW)` only when it
//! reported none); a non-directory (symlinks included) is unlinked -- and if that fails with EISDIR
//! (a directory was swapped in since `readdir`) it is walked as a directory; a directory is opened `O_RDONLY|O_DIRECTORY|O_NOFOLLOW` relative to its parent's descriptor
//! (on EACCES it is chmod-ed 0700 without following a symlink, and opened again), `fstat`ed, given
//! owner rwx if it lacked any, emptied, and removed with `unlinkat(AT_REMOVEDIR)`. ENOENT at any
//! step is success. The first error is kept and returned at the end; the walk goes on.
//!
//! Differences from Hadoop's `recursive_unlink_helper`, all in the safe direction:
//! * no recursion: an explicit stack, so tree depth cannot overflow the call stack;
//! * at most [`FD_WINDOW`] directory descriptors are held; an ancestor whose descriptor was let go
//!   is reopened through ".." of its child, and accepted only if device and inode match what was
//!   recorded when it was first opened (else it is reopened name by name from the nearest held
//!   ancestor, with the same check); a mismatch is an error (ESTALE), never a different tree;
//! * chmod is `fchmod` on the opened descriptor, or `fchmodat(AT_SYMLINK_NOFOLLOW)` before the
//!   directory can be opened — Hadoop's `fchmodat(…, 0)` / `chmod` follow a swapped-in symlink;
//! * `O_DIRECTORY`, so a directory swapped for a FIFO can neither block the walk nor be opened;
//!   an entry swapped for a non-directory between `fstatat` and open is unlinked, as Hadoop does
//!   when its `fstat` finds a non-directory;
//! * a directory's names are read completely before its entries are removed;
//! * the file type comes from `readdir` (as `rm -rf` does), saving one `fstatat` per entry; it is
//!   only a hint: removal never follows a symlink and the opened directory is `fstat`ed anyway.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fchmod, fchmodat, fstat, fstatat, FchmodatFlags, Mode};
use nix::unistd::{unlinkat, UnlinkatFlags};

use super::{dir_read_flags, join_display, open_at, DirFd, Stat};

/// Most directory descriptors held open at once during a walk.
const FD_WINDOW: usize = 64;

/// The owner bits a directory needs for its entries to be listed and removed.
const OWNER_RWX: u32 = 0o700;

/// What `readdir` said an entry is. Only a hint: the entry may change before we act on it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hint {
    Dir,
    NotDir,
    Unknown,
}

/// An entry still to remove.
struct Entry {
    name: OsString,
    hint: Hint,
}

/// A directory being emptied.
struct Frame {
    /// Open while the directory is among the deepest [`FD_WINDOW`] of the walk.
    fd: Option<OwnedFd>,
    /// Its name in its parent.
    name: OsString,
    /// Identity recorded when it was first opened, to recognise it when reopening.
    dev: u64,
    ino: u64,
    /// Entries still to remove, last first (so `pop` yields readdir order).
    pending: Vec<Entry>,
}

struct Walk<'a, 'b> {
    top: &'a DirFd,
    top_pending: Vec<Entry>,
    frames: Vec<Frame>,
    first_error: Option<io::Error>,
    on_error: &'b mut dyn FnMut(&Path, &io::Error),
    /// [`FD_WINDOW`]; smaller in tests to exercise the reopening.
    window: usize,
    /// Whether to get an ancestor back through ".." before trying names (tests turn it off).
    use_dotdot: bool,
}

/// Empty `dir` (which stays). Like Hadoop's top level, `dir` itself first gets owner rwx if it
/// lacked any.
pub(super) fn remove_contents(
    dir: &DirFd,
    on_error: &mut dyn FnMut(&Path, &io::Error),
) -> io::Result<()> {
    let report = |on_error: &mut dyn FnMut(&Path, &io::Error), e: Errno| {
        let e = io::Error::from(e);
        on_error(dir.path(), &e);
        Err(e)
    };
    let st = match fstat(dir.raw_fd().as_raw_fd()) {
        Ok(st) => Stat::from(st),
        Err(e) => return report(on_error, e),
    };
    if st.mode & OWNER_RWX != OWNER_RWX {
        if let Err(e) = fchmod(
            dir.raw_fd().as_raw_fd(),
            Mode::from_bits_truncate(OWNER_RWX),
        ) {
            return report(on_error, e);
        }
    }
    let names = match read_entries(dir.raw_fd()) {
        Ok(names) => names,
        // The directory was removed under us.
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return report(on_error, e),
    };
    Walk::new(dir, names, on_error).run()
}

/// `remove_contents` with a given descriptor window and ".." use, to test the reopening paths.
#[cfg(test)]
pub(super) fn remove_contents_tuned(
    dir: &DirFd,
    window: usize,
    use_dotdot: bool,
) -> io::Result<()> {
    let names = read_entries(dir.raw_fd())?;
    let mut ignore = |_: &Path, _: &io::Error| {};
    let mut walk = Walk::new(dir, names, &mut ignore);
    walk.window = window.max(1);
    walk.use_dotdot = use_dotdot;
    walk.run()
}

/// Remove the entry `name` of `dir`, whatever it is.
pub(super) fn remove_entry(
    dir: &DirFd,
    name: &OsStr,
    on_error: &mut dyn FnMut(&Path, &io::Error),
) -> io::Result<()> {
    let entry = Entry {
        name: name.to_os_string(),
        hint: Hint::Unknown,
    };
    Walk::new(dir, vec![entry], on_error).run()
}

impl<'a, 'b> Walk<'a, 'b> {
    fn new(
        top: &'a DirFd,
        mut names: Vec<Entry>,
        on_error: &'b mut dyn FnMut(&Path, &io::Error),
    ) -> Walk<'a, 'b> {
        names.reverse();
        Walk {
            top,
            top_pending: names,
            frames: Vec::new(),
            first_error: None,
            on_error,
            window: FD_WINDOW,
            use_dotdot: true,
        }
    }

    fn run(mut self) -> io::Result<()> {
        loop {
            self.ensure_top_open();
            let next = match self.frames.last_mut() {
                Some(frame) => frame.pending.pop(),
                None => self.top_pending.pop(),
            };
            match next {
                Some(entry) => self.visit(entry),
                None if self.frames.is_empty() => break,
                None => self.leave(),
            }
        }
        match self.first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The descriptor of the directory whose entries are being removed. Only called after
    /// `ensure_top_open`, so the deepest frame has its descriptor.
    fn current(&self) -> Option<RawFd> {
        match self.frames.last() {
            Some(frame) => frame.fd.as_ref().map(|fd| fd.as_raw_fd()),
            None => Some(self.top.raw_fd().as_raw_fd()),
        }
    }

    /// Remove one entry of the current directory.
    fn visit(&mut self, entry: Entry) {
        let Entry { name, hint } = entry;
        let Some(parent) = self.current() else {
            return self.fail(&name, Errno::EBADF);
        };
        match hint {
            Hint::NotDir => {
                match unlinkat(Some(parent), name.as_os_str(), UnlinkatFlags::NoRemoveDir) {
                    Ok(()) | Err(Errno::ENOENT) => return,
                    // A directory took its place since readdir: walk it.
                    Err(Errno::EISDIR) => {}
                    Err(e) => return self.fail(&name, e),
                }
            }
            // Opened below with O_NOFOLLOW|O_DIRECTORY: anything else swapped in is unlinked.
            Hint::Dir => {}
            Hint::Unknown => {
                match fstatat(Some(parent), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                    Ok(st) if !Stat::from(st).is_dir() => return self.unlink(parent, &name),
                    Ok(_) => {}
                    Err(Errno::ENOENT) => return,
                    Err(e) => return self.fail(&name, e),
                }
            }
        }
        let Some(fd) = self.open_child(parent, &name) else {
            return;
        };
        let st = match fstat(fd.as_raw_fd()) {
            Ok(st) => Stat::from(st),
            Err(Errno::ENOENT) => return,
            Err(e) => return self.fail(&name, e),
        };
        if !st.is_dir() {
            return self.unlink(parent, &name);
        }
        if st.mode & OWNER_RWX != OWNER_RWX {
            if let Err(e) = fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(OWNER_RWX)) {
                return self.fail(&name, e);
            }
        }
        let mut pending = match read_entries(fd.as_fd()) {
            Ok(names) => names,
            Err(Errno::ENOENT) => return,
            Err(e) => return self.fail(&name, e),
        };
        pending.reverse();
        self.frames.push(Frame {
            fd: Some(fd),
            name,
            dev: st.dev,
            ino: st.ino,
            pending,
        });
        self.trim_window();
    }

    /// Open a child directory `O_NOFOLLOW`, with Hadoop's chmod-0700-and-retry on EACCES.
    /// `None` when there is nothing (more) to do with it here.
    fn open_child(&mut self, parent: RawFd, name: &OsStr) -> Option<OwnedFd> {
        let mut chmodded = false;
        loop {
            match open_at(parent, name, dir_read_flags(), Mode::empty()) {
                Ok(fd) => return Some(fd),
                Err(Errno::ENOENT) => return None,
                Err(Errno::EACCES) if !chmodded => {
                    chmodded = true;
                    let mode = Mode::from_bits_truncate(OWNER_RWX);
                    match fchmodat(Some(parent), name, mode, FchmodatFlags::NoFollowSymlink) {
                        Ok(()) => continue,
                        Err(Errno::ENOENT) => return None,
                        Err(e) => {
                            self.maybe_replaced(parent, name, e);
                            return None;
                        }
                    }
                }
                Err(e) => {
                    self.maybe_replaced(parent, name, e);
                    return None;
                }
            }
        }
    }

    /// An operation meant for a directory failed with `e`. If the name now holds a non-directory
    /// (swapped in since our `fstatat`), unlink that instead; otherwise `e` is the failure.
    fn maybe_replaced(&mut self, parent: RawFd, name: &OsStr, e: Errno) {
        match fstatat(Some(parent), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) if !Stat::from(st).is_dir() => self.unlink(parent, name),
            Err(Errno::ENOENT) => {}
            Ok(_) | Err(_) => self.fail(name, e),
        }
    }

    fn unlink(&mut self, parent: RawFd, name: &OsStr) {
        match unlinkat(Some(parent), name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => self.fail(name, e),
        }
    }

    /// The deepest directory is empty (as far as we could empty it): let go of it and remove it
    /// from its parent.
    fn leave(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        // Get the parent back through ".." while the child is still open: one openat, checked.
        if let (Some(parent), Some(child)) = (self.frames.last_mut(), frame.fd.as_ref()) {
            if parent.fd.is_none() && self.use_dotdot {
                parent.fd = reopen_via_dotdot(child, parent.dev, parent.ino);
            }
        }
        drop(frame.fd);
        let depth = self.frames.len();
        self.ensure_top_open();
        if self.frames.len() != depth {
            // Our parent had to be abandoned; there is no descriptor to remove us from.
            return;
        }
        let Some(parent) = self.current() else {
            return;
        };
        match unlinkat(
            Some(parent),
            frame.name.as_os_str(),
            UnlinkatFlags::RemoveDir,
        ) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => self.fail(&frame.name, e),
        }
    }

    /// Make sure the deepest frame has a descriptor, reopening it name by name from the nearest
    /// held ancestor (checking each level's identity). Frames that cannot be reached again are
    /// abandoned: silently if they are gone (ENOENT), as a failure otherwise.
    fn ensure_top_open(&mut self) {
        while matches!(self.frames.last(), Some(frame) if frame.fd.is_none()) {
            if let Err((level, e)) = self.reopen_top_by_names() {
                let lost: Vec<OsString> = self.frames.drain(level..).map(|f| f.name).collect();
                if e != Errno::ENOENT {
                    let path = self.path_of(lost.get(..1).unwrap_or(&[]));
                    self.record(&path, e);
                }
            }
        }
    }

    /// Reopen every closed frame from the nearest held ancestor down to the deepest frame,
    /// keeping the deepest [`FD_WINDOW`] descriptors. On failure, the level that failed.
    fn reopen_top_by_names(&mut self) -> Result<(), (usize, Errno)> {
        let target = self.frames.len().saturating_sub(1);
        let start = self
            .frames
            .iter()
            .rposition(|f| f.fd.is_some())
            .map_or(0, |held| held + 1);
        let mut base = match start.checked_sub(1).and_then(|i| self.frames.get(i)) {
            Some(frame) => frame.fd.as_ref().map(|fd| fd.as_raw_fd()),
            None => Some(self.top.raw_fd().as_raw_fd()),
        }
        .ok_or((start, Errno::EBADF))?;
        let mut passing: Option<OwnedFd> = None;
        for level in start..=target {
            let Some(frame) = self.frames.get_mut(level) else {
                return Err((level, Errno::EINVAL));
            };
            let fd = open_at(base, &frame.name, dir_read_flags(), Mode::empty())
                .map_err(|e| (level, e))?;
            let st = fstat(fd.as_raw_fd()).map_err(|e| (level, e))?;
            let st = Stat::from(st);
            if st.dev != frame.dev || st.ino != frame.ino {
                return Err((level, Errno::ESTALE));
            }
            base = fd.as_raw_fd();
            if level + self.window > target {
                frame.fd = Some(fd);
            } else {
                // Dropping the previous pass-through descriptor: `base` no longer refers to it.
                passing = Some(fd);
            }
        }
        drop(passing);
        Ok(())
    }

    /// Keep at most [`FD_WINDOW`] descriptors: the held ones are always the deepest frames.
    fn trim_window(&mut self) {
        let held = self
            .frames
            .iter()
            .rev()
            .take_while(|f| f.fd.is_some())
            .count();
        if held > self.window {
            let shallowest = self.frames.len() - held;
            if let Some(frame) = self.frames.get_mut(shallowest) {
                frame.fd = None;
            }
        }
    }

    /// The path of `names` below the current frames, for messages.
    fn path_of(&self, names: &[OsString]) -> PathBuf {
        let mut path = self.top.path().to_path_buf();
        for frame in &self.frames {
            path = join_display(&path, &frame.name);
        }
        for name in names {
            path = join_display(&path, name);
        }
        path
    }

    fn fail(&mut self, name: &OsStr, e: Errno) {
        let path = self.path_of(&[name.to_os_string()]);
        self.record(&path, e);
    }

    fn record(&mut self, path: &Path, e: Errno) {
        let e = io::Error::from(e);
        (self.on_error)(path, &e);
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }
}

/// Open ".." of `child` and accept it only if it is the directory recorded as the parent.
fn reopen_via_dotdot(child: &OwnedFd, dev: u64, ino: u64) -> Option<OwnedFd> {
    let fd = open_at(
        child.as_raw_fd(),
        OsStr::new(".."),
        dir_read_flags(),
        Mode::empty(),
    )
    .ok()?;
    let st = Stat::from(fstat(fd.as_raw_fd()).ok()?);
    (st.dev == dev && st.ino == ino).then_some(fd)
}

/// The entries of a directory with the type `readdir` reported, "." and ".." left out.
fn read_entries(fd: std::os::fd::BorrowedFd<'_>) -> Result<Vec<Entry>, Errno> {
    use nix::dir::Type;
    use std::os::unix::ffi::OsStrExt;
    let dup = fd
        .try_clone_to_owned()
        .map_err(|e| e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))?;
    nix::unistd::lseek(dup.as_raw_fd(), 0, nix::unistd::Whence::SeekSet)?;
    let mut dir = nix::dir::Dir::from(dup)?;
    let mut entries = Vec::new();
    for entry in dir.iter() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let hint = match entry.file_type() {
            Some(Type::Directory) => Hint::Dir,
            Some(_) => Hint::NotDir,
            None => Hint::Unknown,
        };
        entries.push(Entry {
            name: OsStr::from_bytes(name).to_os_string(),
            hint,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod stale_hints {
    //! The type `readdir` reported may be stale by the time an entry is removed; every wrong hint
    //! must still end in the entry removed and nothing outside touched.
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn walk_with(dir: &DirFd, entries: Vec<(&str, Hint)>) -> io::Result<()> {
        let entries = entries
            .into_iter()
            .map(|(name, hint)| Entry {
                name: OsString::from(name),
                hint,
            })
            .collect();
        let mut ignore = |_: &Path, _: &io::Error| {};
        Walk::new(dir, entries, &mut ignore).run()
    }

    #[test]
    fn wrong_hints_still_remove_the_entry_and_follow_no_symlink() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("keep"), b"keep").unwrap();
        let top = t.path();
        // A directory that readdir called a file (swapped in after readdir).
        fs::create_dir_all(top.join("was_file/sub")).unwrap();
        fs::write(top.join("was_file/sub/f"), b"x").unwrap();
        // A symlink to a directory outside, and a file, that readdir called directories.
        symlink(outside.path(), top.join("was_dir_link")).unwrap();
        fs::write(top.join("was_dir_file"), b"x").unwrap();
        // No type at all (as on filesystems without d_type).
        fs::create_dir(top.join("unknown_dir")).unwrap();
        fs::write(top.join("unknown_dir/f"), b"x").unwrap();
        fs::write(top.join("unknown_file"), b"x").unwrap();
        let dir = DirFd::open_root(top).unwrap();
        walk_with(
            &dir,
            vec![
                ("was_file", Hint::NotDir),
                ("was_dir_link", Hint::Dir),
                ("was_dir_file", Hint::Dir),
                ("unknown_dir", Hint::Unknown),
                ("unknown_file", Hint::Unknown),
                ("gone", Hint::NotDir),
                ("gone_dir", Hint::Dir),
            ],
        )
        .unwrap();
        assert_eq!(fs::read_dir(top).unwrap().count(), 0);
        assert_eq!(fs::read(outside.path().join("keep")).unwrap(), b"keep");
    }
}
