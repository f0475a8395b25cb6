//! Command 6: copy the NodeManager's `app.json` into the application's localized `sysfs`
//! directory (`docs/layout.md` §10), behind `feature.yarn.sysfs.enabled`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use crate::config::Feature;
use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::layout::{self, open_nm_root, valid_app_id, valid_yarn_user};
use crate::out;

use super::{dirs, Ctx};

/// How deep the search for `sysfs.tar/sysfs` goes below the app dir.
const MAX_SEARCH_DEPTH: usize = 32;

pub fn sync_yarn_sysfs(
    ctx: &Ctx,
    yarn_user: &OsStr,
    app_id: &OsStr,
    local_dirs: &[OsString],
) -> Result<i32> {
    // Hadoop checks the gate only after switching to the user, and prints nothing.
    if !ctx.setup.config.feature_enabled(Feature::YarnSysfs) {
        return Err(Error::FeatureDisabledSilently);
    }
    let not_found = || Error::OutOfMemory("Could not sync the yarn sysfs".into());
    let (Some(yarn_user), Some(app_id)) = (valid_yarn_user(yarn_user), valid_app_id(app_id)) else {
        return Err(not_found());
    };
    let app_dir_parts = layout::app_dir_components(yarn_user, app_id).map(OsStr::as_bytes);
    layout::check_built_paths(local_dirs, &app_dir_parts).map_err(|why| {
        out::log(&why);
        not_found()
    })?;
    for local in local_dirs {
        // As in Hadoop, a local dir without a localized sysfs.tar ends the command at once.
        let root = open_nm_root(local, ctx.nm.uid).map_err(|why| {
            out::log(&why);
            not_found()
        })?;
        let app_dir = layout::app_dir_components(yarn_user, app_id)
            .iter()
            .try_fold(None::<DirFd>, |dir, name| match dir {
                None => root.dir.open_dir(name).map(Some),
                Some(d) => d.open_dir(name).map(Some),
            })
            .ok()
            .flatten()
            .ok_or_else(not_found)?;
        let sysfs = find_sysfs_dir(&app_dir, None, 0).ok_or_else(not_found)?;
        let source = root
            .path
            .join(layout::NM_PRIVATE)
            .join(app_id)
            .join("sysfs")
            .join("app.json");
        let Some(mut spec) = dirs::open_as_nm(ctx.nm, &source)? else {
            continue;
        };
        let name = OsStr::new("app.json");
        let _ = sysfs.remove_entry(name);
        match sysfs.copy_new_file(&mut spec, name, 0o750) {
            Ok(()) => return Ok(0),
            Err(e) => out::log(&format!(
                "Can't copy {} - {why}",
                source.display(),
                why = crate::out::os_text(&e)
            )),
        }
    }
    Err(not_found())
}

/// Depth-first, in directory order, never following symlinks: the first directory named
/// `sysfs` whose parent is named `sysfs.tar`.
fn find_sysfs_dir(dir: &DirFd, dir_name: Option<&OsStr>, depth: usize) -> Option<DirFd> {
    if depth > MAX_SEARCH_DEPTH {
        return None;
    }
    for name in dir.list().ok()? {
        if !dir.stat_at(&name).map(|s| s.is_dir()).unwrap_or(false) {
            continue;
        }
        let Ok(child) = dir.open_dir(&name) else {
            continue;
        };
        if name == "sysfs" && dir_name == Some(OsStr::new("sysfs.tar")) {
            return Some(child);
        }
        if let Some(found) = find_sysfs_dir(&child, Some(&name), depth + 1) {
            return Some(found);
        }
    }
    None
}
