//! Command 3: delete as the user (`docs/layout.md` §7).
//!
//! Confinement (beyond Hadoop, which deletes any path the user may delete, following symlinks
//! in the path): every target is absolute, is reached from `/` one component at a time without
//! following any symlink, and must lie below a directory owned by the NodeManager (its local
//! and log roots are). The walk and the deletion run as the user; only the final `rmdir` of a
//! base directory, when no sub-path is given, runs as the NodeManager, as in Hadoop. Beyond
//! Hadoop, each of those runs in its own process that holds that identity alone, with no root
//! in a saved id (`delete_worker.rs`).

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::out;

use super::Ctx;

pub fn delete_as_user(ctx: &Ctx, path: Option<OsString>, base_dirs: Vec<OsString>) -> Result<i32> {
    crate::process::set_no_new_privs()?;
    // Everything below runs in a worker that is fully the user (delete_worker.rs).
    super::delete_worker::run_as_user_worker(ctx, || delete_all(ctx, path, base_dirs))
}

fn delete_all(ctx: &Ctx, path: Option<OsString>, base_dirs: Vec<OsString>) -> Result<i32> {
    if base_dirs.is_empty() {
        // Hadoop reads the environment as base dirs when argv[4] is missing; we never do.
        let Some(path) = path else {
            return Err(Error::PathToDeleteIsNull);
        };
        if path.is_empty() {
            return Ok(0);
        }
        return delete_path(ctx, Path::new(&path), false).map(|()| 0);
    }
    let sub = path.unwrap_or_default();
    // Every path's spelling is checked before anything is deleted: a bad last base must not
    // leave the first ones half-done.
    for base in &base_dirs {
        let base = Path::new(base);
        if let Err(why) = target_names(base) {
            let e = refusal(base, why);
            out::log(&format!(
                "Could not stat {} - {}",
                base.display(),
                out::strerror(&e)
            ));
            return Err(Error::Logged);
        }
        if !sub.is_empty() {
            let full = below(base, &sub);
            if let Err(why) = target_names(&full) {
                return Err(error_while_deleting(&full, &refusal(&full, why)));
            }
        }
    }
    let mut result = Ok(0);
    for base in &base_dirs {
        let base = Path::new(base);
        // A base dir that does not exist is skipped wherever it is (as in Hadoop). With a
        // sub-path, the base is only the anchor: the confinement is checked on the walk to
        // `<base>/<sub>`, where an NM-owned base (a local or log root) counts.
        let target = match Target::resolve(ctx, base, sub.is_empty()) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                out::log(&format!(
                    "Could not stat {} - {}",
                    base.display(),
                    out::strerror(&e)
                ));
                return Err(Error::Logged);
            }
        };
        let outcome = if !target.is_dir {
            if !sub.is_empty() {
                out::log(&format!(
                    "baseDir \"{}\" is a file and cannot contain subdir \"{}\".",
                    base.display(),
                    sub.to_string_lossy()
                ));
                return Err(Error::Logged);
            }
            delete_target(ctx, &target, false)
        } else if sub.is_empty() {
            delete_target(ctx, &target, true)
        } else {
            delete_path(ctx, &below(base, &sub), false)
        };
        if let Err(e) = outcome {
            result = Err(e);
        }
    }
    result
}

/// `<base>/<sub>` as Hadoop concatenates it: a sub-path starting with `/` stays below the base
/// (`Path::join` would replace the base).
fn below(base: &Path, sub: &OsStr) -> PathBuf {
    let mut full = base.as_os_str().to_os_string();
    full.push("/");
    full.push(sub);
    PathBuf::from(full)
}

/// Our refusal of a path's spelling, as an error naming the path.
fn refusal(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{why}: {}", path.display()),
    )
}

/// A path's final entry, reached without symlinks: its parent directory (opened) and name.
struct Target {
    shown: PathBuf,
    parent: DirFd,
    name: OsString,
    is_dir: bool,
}

impl Target {
    /// Walk `path` from `/` as the user, never following a symlink, noting whether a directory
    /// owned by the NodeManager was passed. `Ok(None)` when the path does not exist (checked
    /// before the confinement, so a missing path is success wherever it would be). With
    /// `confine`, an existing entry not below an NM-owned directory is refused.
    fn resolve(ctx: &Ctx, path: &Path, confine: bool) -> io::Result<Option<Target>> {
        let invalid = |why: &str| refusal(path, why);
        let (last, parents) = target_names(path).map_err(invalid)?;
        let mut dir = DirFd::open_root(Path::new("/"))?;
        let mut under_nm = dir.stat()?.uid == ctx.nm.uid.as_raw();
        for name in parents {
            dir = match dir.open_dir(name) {
                Ok(d) => d,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
                Err(e) => return Err(e),
            };
            under_nm |= dir.stat()?.uid == ctx.nm.uid.as_raw();
        }
        let st = match dir.stat_at(last) {
            Ok(st) => st,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        if confine && !under_nm {
            return Err(invalid(
                "refusing a path outside the NodeManager's directories",
            ));
        }
        Ok(Some(Target {
            shown: path.to_path_buf(),
            parent: dir,
            name: last.to_os_string(),
            is_dir: st.is_dir(),
        }))
    }
}

/// The names a delete target is reached by from `/`: its parent directories and its final
/// entry. Refuses a relative path, any `..`, and `/` itself (the reason is the error).
/// Public (hidden) only for the fuzz targets.
#[doc(hidden)]
pub fn target_names(path: &Path) -> std::result::Result<(&OsStr, Vec<&OsStr>), &'static str> {
    if !path.is_absolute() {
        return Err("refusing a relative path");
    }
    let mut names: Vec<&OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => names.push(n),
            Component::ParentDir | Component::Prefix(_) => return Err("refusing '..' in"),
        }
    }
    let last = names.pop().ok_or("refusing to delete")?;
    Ok((last, names))
}

/// Hadoop's `delete_path` on an absolute path; a missing path is success.
fn delete_path(ctx: &Ctx, path: &Path, rmdir_as_nm: bool) -> Result<()> {
    match Target::resolve(ctx, path, true) {
        Ok(Some(target)) => delete_target(ctx, &target, rmdir_as_nm),
        Ok(None) => Ok(()),
        Err(e) => Err(error_while_deleting(path, &e)),
    }
}

/// Hadoop's line for a failed recursive delete: `Error while deleting <path>: <errno> (<text>)`.
fn error_while_deleting(path: &Path, e: &io::Error) -> Error {
    out::log(&format!(
        "Error while deleting {}: {} ({})",
        path.display(),
        e.raw_os_error().unwrap_or(0),
        out::strerror(e)
    ));
    Error::Logged
}

/// Remove the target: a non-directory is unlinked; a directory is emptied as the user and then
/// removed, as the NodeManager when `rmdir_as_nm` (so a base in an NM-owned parent can go).
fn delete_target(_ctx: &Ctx, target: &Target, rmdir_as_nm: bool) -> Result<()> {
    let failed = |e: io::Error| error_while_deleting(&target.shown, &e);
    if !target.is_dir {
        return target.parent.unlink(&target.name).map_err(|e| {
            out::log(&format!(
                "failed to unlink {}: {}",
                target.shown.display(),
                out::strerror(&e)
            ));
            failed(e)
        });
    }
    match open_for_delete(&target.parent, &target.name) {
        Ok(Some(dir)) => dir.remove_contents().map_err(failed)?,
        Ok(None) => return Ok(()),
        Err(e) => return Err(failed(e)),
    }
    let removed = if rmdir_as_nm {
        super::delete_worker::rmdir_as_nm(&target.parent, &target.name)?
    } else {
        target.parent.rmdir(&target.name)
    };
    removed.map_err(|e| {
        // Hadoop's two wordings: the NodeManager's rmdir of a base, the user's of a path.
        let text = out::strerror(&e);
        let shown = target.shown.display();
        out::log(&match rmdir_as_nm {
            true => format!("rmdir of {shown} failed - {text}"),
            false => format!("Couldn't delete directory {shown} - {text}"),
        });
        Error::Logged
    })
}

/// Open the top directory to empty it, as Hadoop's helper does: on EACCES make it 0700 and
/// retry; make sure the owner can read, write and search it. `None` if it vanished.
fn open_for_delete(parent: &DirFd, name: &OsStr) -> io::Result<Option<DirFd>> {
    let dir = match parent.open_dir(name) {
        Ok(dir) => dir,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
            chmod_entry(parent, name)?;
            match parent.open_dir(name) {
                Ok(dir) => dir,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    if dir.stat()?.mode & 0o700 != 0o700 {
        dir.chmod(0o700)?;
    }
    Ok(Some(dir))
}

/// chmod 0700 an entry we cannot open (so it cannot be opened first), never through a symlink.
fn chmod_entry(parent: &DirFd, name: &OsStr) -> io::Result<()> {
    parent.chmod_at_nofollow(name, 0o700)
}
