//! `realpath` done through descriptors: walk from `/` one component at a time with
//! `O_PATH|O_NOFOLLOW`, read each symlink met with `readlinkat` on its parent's descriptor and
//! continue with its target, keep the canonical path so far as a stack (`..` pops it). The
//! answer is the path the kernel would reach now; nothing is opened by a path string twice.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

/// Linux's own limit on symlinks followed in one resolution.
const MAX_SYMLINKS: usize = 40;
const MAX_PATH: usize = 4096;

fn open_path(dir: &OwnedFd, name: &OsStr) -> Result<OwnedFd, Errno> {
    openat(
        Some(dir.as_raw_fd()),
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(crate::sys::own_fd)
}

fn open_root() -> Result<OwnedFd, Errno> {
    nix::fcntl::open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(crate::sys::own_fd)
}

/// The canonical absolute path of `path` and whether it is a directory. Every component must
/// exist. Runs with the caller's current identity (the kernel checks search permission).
pub fn resolve(path: &str) -> Result<(String, bool), String> {
    if !path.starts_with('/') || path.len() > MAX_PATH || path.contains('\0') {
        return Err(format!("'{path}' is not an absolute path"));
    }
    let err = |what: &str, e: Errno| format!("{what}: {}", e.desc());
    // Components still to walk, last first (so pop() gives the next one).
    let mut todo: Vec<OsString> = components(path.as_bytes());
    todo.reverse();
    // The canonical path so far and a descriptor for each level (index 0 = "/").
    let mut names: Vec<OsString> = Vec::new();
    let mut fds: Vec<OwnedFd> = vec![open_root().map_err(|e| err("/", e))?];
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == "." {
            continue;
        }
        if name == ".." {
            if !names.is_empty() {
                names.pop();
                fds.pop();
            }
            continue;
        }
        let parent = fds.last().ok_or("lost the root")?;
        let shown = || format!("/{}", join(&names, &name));
        let st = fstatat(
            Some(parent.as_raw_fd()),
            name.as_os_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| err(&shown(), e))?;
        if SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT) == SFlag::S_IFLNK {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(err(&shown(), Errno::ELOOP));
            }
            let target = readlinkat(Some(parent.as_raw_fd()), name.as_os_str())
                .map_err(|e| err(&shown(), e))?;
            let target = target.as_bytes();
            let mut parts = components(target);
            parts.reverse();
            todo.extend(parts);
            if target.starts_with(b"/") {
                names.clear();
                fds.truncate(1);
            }
            continue;
        }
        let fd = open_path(parent, &name).map_err(|e| err(&shown(), e))?;
        names.push(name);
        fds.push(fd);
    }
    let last = fds.last().ok_or("lost the root")?;
    let st = nix::sys::stat::fstat(last.as_raw_fd()).map_err(|e| err(path, e))?;
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    let canonical = format!("/{}", join(&names, OsStr::new("")));
    let canonical = canonical.trim_end_matches('/');
    let canonical = if canonical.is_empty() { "/" } else { canonical };
    Ok((canonical.to_string(), is_dir))
}

fn components(path: &[u8]) -> Vec<OsString> {
    path.split(|b| *b == b'/')
        .filter(|p| !p.is_empty())
        .map(|p| OsString::from_vec(p.to_vec()))
        .collect()
}

fn join(names: &[OsString], last: &OsStr) -> String {
    let mut parts: Vec<String> = names
        .iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    if !last.is_empty() {
        parts.push(last.to_string_lossy().into_owned());
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_realpath() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let b = base.to_str().unwrap();
        std::fs::create_dir_all(base.join("a/b")).unwrap();
        std::fs::write(base.join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("a/b", base.join("rel")).unwrap();
        std::os::unix::fs::symlink(base.join("a"), base.join("abs")).unwrap();
        std::os::unix::fs::symlink("../a/./b/f", base.join("a/up")).unwrap();
        std::os::unix::fs::symlink("loop", base.join("loop")).unwrap();
        assert_eq!(
            resolve(&format!("{b}/a/b")).unwrap(),
            (format!("{b}/a/b"), true)
        );
        assert_eq!(
            resolve(&format!("{b}/rel/f")).unwrap(),
            (format!("{b}/a/b/f"), false)
        );
        assert_eq!(
            resolve(&format!("{b}/abs/b/")).unwrap(),
            (format!("{b}/a/b"), true)
        );
        assert_eq!(
            resolve(&format!("{b}/a/up")).unwrap(),
            (format!("{b}/a/b/f"), false)
        );
        assert_eq!(
            resolve(&format!("{b}/a/../a//b/./f")).unwrap().0,
            format!("{b}/a/b/f")
        );
        assert_eq!(resolve("/").unwrap(), ("/".to_string(), true));
        assert!(resolve(&format!("{b}/loop"))
            .unwrap_err()
            .contains("symbolic links"));
        assert!(resolve(&format!("{b}/missing")).is_err());
        assert!(resolve("relative").is_err());
        for p in [
            format!("{b}/a/b"),
            format!("{b}/rel/f"),
            format!("{b}/a/up"),
        ] {
            let real = std::fs::canonicalize(&p).unwrap();
            assert_eq!(resolve(&p).unwrap().0, real.to_str().unwrap());
        }
    }
}
