//! The failures of `mkdirs`, whose Hadoop messages name the path (docs/layout.md §1.3).

use std::io;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

/// Why `DirFd::mkdirs` failed. It travels inside the returned `io::Error` (get it back with
/// [`MkdirsError::of`]); its `Display` is Hadoop's log line.
#[derive(Debug, thiserror::Error)]
pub enum MkdirsError {
    /// A component exists and is not a directory.
    #[error("Path {} is file not dir", path.display())]
    FileNotDir { path: PathBuf },
    /// A component is a symlink. Hadoop follows it; we refuse.
    #[error("Path {} is a symbolic link; refusing to follow it", path.display())]
    Symlink { path: PathBuf },
    /// The final directory already existed with other `rwxrwxrwx` bits.
    #[error("Path {} has permission {actual:o} but needs permission {needed:o}.", path.display())]
    WrongPermission {
        path: PathBuf,
        actual: u32,
        needed: u32,
    },
    /// `mkdirat` failed.
    #[error("Can't create directory {} - {}", path.display(), errno.desc())]
    Create { path: PathBuf, errno: Errno },
    /// Opening (or `fstat`ing) a component failed.
    #[error("Can't open directory {} - {}", path.display(), errno.desc())]
    Open { path: PathBuf, errno: Errno },
}

impl MkdirsError {
    pub(super) fn open(path: &Path, errno: Errno) -> MkdirsError {
        MkdirsError::Open {
            path: path.to_path_buf(),
            errno,
        }
    }

    /// The `MkdirsError` inside an `io::Error` returned by `mkdirs`, if there is one (argument
    /// validation failures are plain EINVAL).
    pub fn of(e: &io::Error) -> Option<&MkdirsError> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<MkdirsError>())
    }

    /// The system error behind the failure, if it came from a system call.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            MkdirsError::Create { errno, .. } | MkdirsError::Open { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The path the message names.
    pub fn path(&self) -> &Path {
        match self {
            MkdirsError::FileNotDir { path }
            | MkdirsError::Symlink { path }
            | MkdirsError::WrongPermission { path, .. }
            | MkdirsError::Create { path, .. }
            | MkdirsError::Open { path, .. } => path,
        }
    }
}

impl From<MkdirsError> for io::Error {
    fn from(e: MkdirsError) -> io::Error {
        let kind = match e.errno() {
            Some(errno) => io::Error::from(errno).kind(),
            None => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}
