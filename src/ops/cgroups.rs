//! `--mount-cgroups <hierarchy> <controller=path>...` behind `feature.mount-cgroup.enabled`
//! (`docs/layout.md` §9, `docs/nodemanager.md` §3.9).
//!
//! For each pair, in order, until one fails: mount the cgroup controller(s) `controller` (the
//! mount data, e.g. `cpu,cpuacct`) on the empty directory `path`, then create
//! `<path>/<hierarchy>` (0750) and give it and its entries to the NodeManager.
//!
//! Beyond Hadoop, which mounts wherever it is told by name:
//! - the mount point must lie strictly below `[cgroups] root` (`/sys/fs/cgroup` when that is not
//!   set) and is reached from that root without following any symlink; it is opened with `O_NOFOLLOW`,
//!   checked empty on that descriptor, and mounted through `/proc/self/fd/<n>`, so the directory
//!   checked is the directory mounted on;
//! - the hierarchy is created, checked and chowned through descriptors on the new mount, which
//!   must be a cgroup filesystem;
//! - mounts are `nosuid,nodev,noexec`;
//! - the controller key `cgroup2` mounts the unified (v2) hierarchy (`cgroup2` filesystem, no
//!   options). Hadoop's NodeManager never asks for this (its v2 handler refuses to mount), so
//!   it is for administrators; with Hadoop's binary the same argv fails (`cgroup` rejects the
//!   option).

use std::ffi::{OsStr, OsString};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;

use crate::error::{Error, Result};
use crate::fs::{self, DirFd};
use crate::identity::NmIdentity;
use crate::out;

use super::modules::{CGROUPS_ROOT_KEY, CGROUPS_SECTION};

/// Hadoop's path limit for `<path>/<hierarchy>`.
const EXECUTOR_PATH_MAX: usize = 4096;
/// The hierarchy directory's mode (Hadoop: 0750).
const HIERARCHY_MODE: u32 = 0o750;
/// The cgroup root mounts must lie below when `[cgroups] root` is not set.
pub const DEFAULT_CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The controller key that asks for the unified hierarchy.
pub const CGROUP2_KEY: &str = "cgroup2";

pub fn mount_cgroups(
    config: &crate::config::Config,
    nm: NmIdentity,
    hierarchy: &OsStr,
    pairs: &[OsString],
) -> Result<i32> {
    let root = config
        .get(CGROUPS_SECTION, CGROUPS_ROOT_KEY)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_CGROUP_ROOT);
    // Every pair's spelling is checked before the first mount (Hadoop finds a bad pair only
    // after mounting the ones before it).
    for pair in pairs {
        check_pair(hierarchy, pair)?;
    }
    for pair in pairs {
        mount_one(root, nm, hierarchy, pair)?;
    }
    Ok(0)
}

fn invalid(why: String) -> Error {
    out::log(&why);
    Error::InvalidCommand(String::new())
}

/// What argv alone can refuse in one `controller=path` pair: the controller and the path.
fn check_pair<'a>(hierarchy: &OsStr, pair: &'a OsStr) -> Result<(&'a OsStr, &'a Path)> {
    if fs::contains_dotdot(hierarchy) {
        return Err(invalid(
            "Unsupported cgroup hierarchy path detected.".into(),
        ));
    }
    let bytes = pair.as_bytes();
    let split = bytes.iter().position(|&b| b == b'=');
    let (controller, path) = match split {
        Some(eq) if eq > 0 && eq + 1 < bytes.len() => (
            OsStr::from_bytes(&bytes[..eq]),
            Path::new(OsStr::from_bytes(&bytes[eq + 1..])),
        ),
        _ => {
            out::log(&format!(
                "Failed to mount cgroup controller; invalid option: {}",
                pair.to_string_lossy()
            ));
            return Err(Error::Failed(String::new()));
        }
    };
    let shown = path.display();
    if fs::contains_dotdot(path.as_os_str()) {
        return Err(invalid(format!(
            "Unsupported cgroup mount path detected. {shown}"
        )));
    }
    if !path.as_os_str().as_bytes().starts_with(b"/") {
        return Err(invalid(format!(
            "cgroup mount path must be absolute. {shown}"
        )));
    }
    if path.as_os_str().len() + hierarchy.len() + 2 > EXECUTOR_PATH_MAX {
        return Err(invalid("cgroup hierarchy path is too long.".into()));
    }
    Ok((controller, path))
}

fn mount_one(root: &str, nm: NmIdentity, hierarchy: &OsStr, pair: &OsStr) -> Result<()> {
    let (controller, path) = check_pair(hierarchy, pair)?;
    let shown = path.display();
    let (parent, name) = open_mount_parent(root, path)?;
    let mount_point = parent.open_dir(&name).map_err(|e| {
        invalid(format!(
            "Could not open directory {shown} - {why}\ncgroup mount path is not empty. {shown}",
            why = crate::out::os_text(&e)
        ))
    })?;
    match mount_point.list() {
        Ok(entries) if entries.is_empty() => {}
        Ok(_) => {
            return Err(invalid(format!(
                "Directory is not empty {shown}\ncgroup mount path is not empty. {shown}"
            )))
        }
        Err(e) => {
            return Err(invalid(format!(
                "Could not open directory {shown} - {why}\ncgroup mount path is not empty. {shown}",
                why = crate::out::os_text(&e)
            )))
        }
    }

    let target = format!("/proc/self/fd/{}", mount_point.raw_fd().as_raw_fd());
    let (fstype, data) = if controller.as_bytes() == CGROUP2_KEY.as_bytes() {
        ("cgroup2", None)
    } else {
        ("cgroup", Some(controller))
    };
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if let Err(e) = nix::mount::mount(Some("none"), target.as_str(), Some(fstype), flags, data) {
        out::log(&format!(
            "Failed to mount cgroup controller {} at {shown} - {}",
            controller.to_string_lossy(),
            e.desc()
        ));
        // Already mounted: not a failure for this pair, but the hierarchy step is skipped.
        return match e {
            Errno::EBUSY => Ok(()),
            _ => Err(Error::Failed(String::new())),
        };
    }
    drop(mount_point);

    // The name now leads to the new mount's root; it must be a cgroup filesystem.
    let mounted = parent
        .open_dir(&name)
        .ok()
        .filter(|d| fs::is_on_cgroup_fs(d.raw_fd()).unwrap_or(false))
        .ok_or_else(|| {
            out::log(&format!(
                "No cgroup filesystem found at {shown} after mounting"
            ));
            Error::Failed(String::new())
        })?;
    create_hierarchy(&mounted, nm, hierarchy, path)
}

/// The mount point's parent directory, reached with `O_NOFOLLOW` at every step from the cgroup
/// root (configured, else `/sys/fs/cgroup`), which the mount point must lie strictly below.
fn open_mount_parent(root: &str, path: &Path) -> Result<(DirFd, OsString)> {
    let shown = path.display();
    let parts = components(path.as_os_str());
    let Some((name, above)) = parts.split_last() else {
        return Err(invalid(format!("Invalid cgroup mount path {shown}")));
    };
    let root_parts = components(OsStr::new(root));
    let inside = root.starts_with('/')
        && parts.len() > root_parts.len()
        && parts[..root_parts.len()] == root_parts[..];
    if !inside {
        return Err(invalid(format!(
            "cgroup mount path {shown} is not below the cgroup root {root} ([{CGROUPS_SECTION}] {CGROUPS_ROOT_KEY}, default {DEFAULT_CGROUP_ROOT})"
        )));
    }
    let mut dir = DirFd::open_root(Path::new(root)).map_err(|e| {
        invalid(format!(
            "Can't open the cgroup root {root} - {why}",
            why = crate::out::os_text(&e)
        ))
    })?;
    let below = above
        .get(root_parts.len()..)
        .ok_or_else(|| invalid(format!("cgroup mount path {shown} is not below {root}")))?;
    for part in below {
        dir = dir.open_dir(part).map_err(|e| {
            invalid(format!(
                "Could not open directory {shown} - {why} (symlinks are not followed)\ncgroup mount path is not empty. {shown}", why = crate::out::os_text(&e)))
        })?;
    }
    Ok((dir, name.to_os_string()))
}

/// Non-empty components of an absolute path ("." and ".." were refused before).
fn components(path: &OsStr) -> Vec<&OsStr> {
    path.as_bytes()
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty() && *p != b".")
        .map(OsStr::from_bytes)
        .collect()
}

/// `<mount>/<hierarchy>`: refused if it exists owned by anyone but the NodeManager; made 0750
/// (missing parents too), then it and its direct entries are given to the NodeManager. As in
/// Hadoop, a failure to create or chown is logged and does not change the result.
fn create_hierarchy(mounted: &DirFd, nm: NmIdentity, hierarchy: &OsStr, path: &Path) -> Result<()> {
    let shown = Path::new(path).join(hierarchy);
    let parts = components(hierarchy);
    let owned_by_nm = |d: &DirFd| {
        d.stat()
            .map(|st| (st.uid, st.gid) == (nm.uid.as_raw(), nm.gid.as_raw()))
            .unwrap_or(false)
    };
    if parts.is_empty() {
        // Hadoop then looks at the mount root itself, which root owns.
        return Err(invalid(format!(
            "cgroup hierarchy {} already owned by another user 0",
            shown.display()
        )));
    }
    let mut existing = Some(mounted.open_dir(parts[0]));
    for part in &parts[1..] {
        existing = match existing {
            Some(Ok(dir)) => Some(dir.open_dir(part)),
            other => other,
        };
    }
    if let Some(Ok(dir)) = &existing {
        if !owned_by_nm(dir) {
            let uid = dir.stat().map(|st| st.uid).unwrap_or(0);
            return Err(invalid(format!(
                "cgroup hierarchy {} already owned by another user {uid}",
                shown.display()
            )));
        }
    }
    let made = match mounted.mkdirs(&parts, HIERARCHY_MODE) {
        Ok(dir) => dir,
        Err(e) => {
            out::log(&format!(
                "Can't create {} - {why}",
                shown.display(),
                why = crate::out::os_text(&e)
            ));
            return Ok(());
        }
    };
    let (uid, gid) = (nm.uid.as_raw(), nm.gid.as_raw());
    if let Err(e) = made.chown(uid, gid) {
        out::log(&format!(
            "Can't chown {} - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
        ));
        return Ok(());
    }
    match made.list() {
        Ok(entries) => {
            for entry in entries
                .iter()
                .filter(|n| !fs::contains_dotdot(n.as_os_str()))
            {
                if let Err(e) = made.chown_at(entry, uid, gid) {
                    out::log(&format!(
                        "Can't chown {} - {why}",
                        shown.join(entry).display(),
                        why = crate::out::os_text(&e)
                    ));
                }
            }
        }
        Err(e) => out::log(&format!(
            "Can't list {} - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
        )),
    }
    Ok(())
}
