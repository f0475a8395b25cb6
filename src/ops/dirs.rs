//! Directory steps shared by initialize and launch (`docs/layout.md` §3–4), each done through
//! directory descriptors: nothing here builds a path string that is then opened.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::identity;
use crate::layout::{self, open_nm_root, NmRoot};
use crate::out;

use super::Ctx;

/// Validated names of one request's directories.
pub struct Names<'a> {
    pub yarn_user: &'a str,
    pub app_id: &'a str,
}

/// Step "user dirs" (Hadoop's `initialize_user`): `<L>/usercache/<Y>` on every local dir, owned
/// by the user, group the NM group, mode 02750, made as root through fds. An L not owned by the
/// NM stops the step; a failure on one L is remembered while the others are still done.
/// As in Hadoop, the failures are told on LOG as they happen; the error itself prints nothing.
pub fn create_user_dirs(ctx: &Ctx, names: &Names, local_dirs: &[OsString]) -> Result<()> {
    let mut failed = false;
    for local in local_dirs {
        let root = open_user_dir_root(ctx, names, local)?;
        let shown = layout::shown(&root.path, &[layout::USERCACHE, names.yarn_user]);
        let made = match open_usercache(ctx, &root) {
            Ok(usercache) => make_user_owned_dir(ctx, &usercache, names.yarn_user, &shown)?,
            Err(why) => Err(why),
        };
        if let Err(why) = made {
            out::log(&why);
            failed = true;
        }
    }
    if failed {
        return Err(Error::UserDirs(String::new()));
    }
    Ok(())
}

/// `<L>/usercache`, opened as root below the (mount-pinned) local root: the NodeManager's own
/// directory (it makes it at start), on the root's mount. Anything else is refused before root
/// creates or chowns in it.
fn open_usercache(ctx: &Ctx, root: &NmRoot) -> std::result::Result<DirFd, String> {
    let shown = layout::shown(&root.path, &[layout::USERCACHE]);
    let usercache = root
        .dir
        .open_dir(OsStr::new(layout::USERCACHE))
        .map_err(|e| {
            format!(
                "Can't open {} - {why}",
                shown.display(),
                why = crate::out::os_text(&e)
            )
        })?;
    let owner = usercache
        .stat()
        .map_err(|e| {
            format!(
                "Can't examine {} - {why}",
                shown.display(),
                why = crate::out::os_text(&e)
            )
        })?
        .uid;
    // A root caller (uid 0 as the NM identity) is trusted with any owner, as with the roots.
    if owner != ctx.nm.uid.as_raw() && !ctx.nm.uid.is_root() {
        return Err(format!(
            "Directory {} is owned by uid {owner}, not by the NodeManager (uid {})",
            shown.display(),
            ctx.nm.uid
        ));
    }
    Ok(usercache)
}

/// Validation only, nothing is created: every local dir opens as an NM root, as
/// [`create_user_dirs`] will require, with its messages and code (20) when one does not. Lets a
/// command check what depends on the local dirs (the credentials' location) before it creates
/// anything, while a bad local dir still gets Hadoop's code.
pub fn check_local_roots(ctx: &Ctx, names: &Names, local_dirs: &[OsString]) -> Result<()> {
    for local in local_dirs {
        open_user_dir_root(ctx, names, local)?;
    }
    Ok(())
}

/// A local dir opened as an NM root for the user-dir step, failing as Hadoop's
/// `initialize_user` does: its reason and "Couldn't get userdir directory" on LOG, then 20.
fn open_user_dir_root(ctx: &Ctx, names: &Names, local: &OsString) -> Result<NmRoot> {
    open_nm_root(local, ctx.nm.uid).map_err(|why| {
        out::log(&why);
        out::log(&format!(
            "Couldn't get userdir directory for {}.",
            names.yarn_user
        ));
        Error::UserDirs(String::new())
    })
}

/// Step "app log dirs" (Hadoop's `create_log_dirs`): `<G>/<app>` 02750 as root on every NM-owned
/// log dir; a creation failure ends the step at once; at least one must exist afterwards.
/// Returns the opened app log dirs with their log roots.
pub fn create_app_log_dirs(
    ctx: &Ctx,
    names: &Names,
    log_dirs: &[OsString],
) -> Result<Vec<(NmRoot, DirFd)>> {
    let mut made = Vec::new();
    for log in log_dirs {
        let root = match open_nm_root(log, ctx.nm.uid) {
            Ok(root) => root,
            Err(why) => {
                out::log(&why);
                continue;
            }
        };
        let shown = layout::shown(&root.path, &[names.app_id]);
        let app_log =
            make_user_owned_dir(ctx, &root.dir, names.app_id, &shown)?.map_err(|why| {
                out::log(&why);
                Error::Logged
            })?;
        made.push((root, app_log));
    }
    if made.is_empty() {
        out::log("Did not create any app-log directories");
        return Err(Error::Logged);
    }
    Ok(made)
}

/// Hadoop's `create_directory_for_user` as root with egid = the NM group: `name` below
/// `parent`, owned by the user and the NM group, mode 02750. The outer error is an identity
/// failure; the inner one the message of a filesystem failure.
pub fn make_user_owned_dir(
    ctx: &Ctx,
    parent: &DirFd,
    name: &str,
    shown: &std::path::Path,
) -> Result<std::result::Result<DirFd, String>> {
    identity::as_root_in_nm_group(ctx.nm, || {
        layout::create_directory_for_user(
            parent,
            OsStr::new(name),
            shown,
            ctx.user.uid(),
            ctx.nm.gid,
        )
    })
}

/// Step "app dirs" (Hadoop's `create_app_dirs`), run as the user after the drop:
/// `mkdirs(<L>/usercache/<Y>/appcache/<app>, 0750)` on every local dir; the first one made is
/// the primary. Beyond Hadoop, local dirs not owned by the NM are skipped here too.
pub fn create_app_dirs(ctx: &Ctx, names: &Names, local_dirs: &[OsString]) -> Vec<(PathBuf, DirFd)> {
    let mut made = Vec::new();
    for local in local_dirs {
        let root = match open_nm_root(local, ctx.nm.uid) {
            Ok(root) => root,
            Err(why) => {
                out::log(&why);
                continue;
            }
        };
        let parts = layout::app_dir_components(names.yarn_user, names.app_id);
        let shown = layout::shown(
            &root.path,
            &[
                layout::USERCACHE,
                names.yarn_user,
                layout::APPCACHE,
                names.app_id,
            ],
        );
        match root.dir.mkdirs(&parts, layout::APP_DIR_MODE) {
            Ok(dir) => made.push((shown, dir)),
            Err(e) => out::log(&format!(
                "Can't create directory {} - {why}",
                shown.display(),
                why = crate::out::os_text(&e)
            )),
        }
    }
    if made.is_empty() {
        out::log("Did not create any app directories");
    }
    made
}

/// Open an input the NodeManager prepared (tokens, script, stores), with the NodeManager's own
/// identity, so the kernel decides what it may read: never root's view of a caller's path.
pub fn open_as_nm(
    nm: identity::NmIdentity,
    path: &std::path::Path,
) -> Result<Option<std::fs::File>> {
    identity::as_nm(nm, || {
        let (parent, name) = crate::fs::split_parent(path)?;
        DirFd::open_root(&parent)?.open_file(&name)
    })
    .map(|opened| match opened {
        Ok(file) => Some(file),
        Err(e) => {
            out::log(&format!(
                "Can't open file {} as node manager - {why}",
                path.display(),
                why = crate::out::os_text(&e)
            ));
            None
        }
    })
}

/// Open a credentials file the NodeManager wrote, as the NodeManager, from its local dir `root`
/// down through `rel` (`nmPrivate/...`, from `layout::token_file_location`): every directory
/// opened `O_NOFOLLOW` below the previous one, the file `O_NOFOLLOW` and only if it is a regular
/// file. A symlink anywhere below the local dir refuses it.
pub fn open_token_file(
    nm: identity::NmIdentity,
    root: &OsStr,
    rel: &[OsString],
    shown: &std::path::Path,
) -> Result<Option<std::fs::File>> {
    identity::as_nm(nm, || {
        let (name, dirs) = rel.split_last().ok_or(std::io::ErrorKind::InvalidInput)?;
        let mut dir = DirFd::open_root(std::path::Path::new(root))?;
        for d in dirs {
            dir = dir.open_dir(d)?;
        }
        dir.open_file(name)
    })
    .map(|opened| match opened {
        Ok(file) => Some(file),
        Err(e) => {
            out::log(&format!(
                "Can't open file {} as node manager - {why}",
                shown.display(),
                why = crate::out::os_text(&e)
            ));
            None
        }
    })
}

/// A command file that root acts on for the NodeManager (tc, exec-container): owned by the
/// NodeManager and writable by no one else, checked on the opened file's own metadata.
pub fn written_only_by_nm(meta: &std::fs::Metadata, nm: identity::NmIdentity) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.uid() == nm.uid.as_raw() && meta.mode() & 0o022 == 0
}
