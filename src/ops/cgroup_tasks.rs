//! Launch's `cgroups=<file>%<file>...`: which cgroup task files root may add a container to.
//!
//! The NodeManager names `<controller path>/<yarn-hierarchy>/<container id>/cgroup.procs` for
//! each controller (`CGroupsHandlerImpl`: the controller path is the v1 controller's mount point,
//! or for cgroup v2 the unified mount itself). Beyond Hadoop, which appends the pid as root to
//! any file on a cgroup filesystem, a task file is accepted only when it lies strictly below the
//! configured hierarchy:
//!
//! - v1 (the `[cgroups] root` directory is not itself a cgroup filesystem, e.g. a tmpfs holding
//!   one mount per controller): `<root>/<controller>/<yarn-hierarchy>/<cgroup>.../<task file>`;
//! - v2 (`[cgroups] root` is the cgroup2 mount): `<root>/<yarn-hierarchy>/<cgroup>.../<task file>`;
//!
//! with at least one cgroup between the hierarchy and the file, and the file named `tasks` or
//! `cgroup.procs`. The configured root is the administrator's and is opened as given; the
//! controller entry in it may be one symlink to a sibling name (`cpu -> cpu,cpuacct`), read and
//! checked, never followed anywhere else. Everything below the controller is reached with
//! `O_NOFOLLOW` one component at a time (so no symlink and no `/proc` magic link is followed),
//! must stay on the controller's mount (same mount id and device), and the file must be on a
//! cgroup filesystem. All files are opened before anything is started: a refusal leaves nothing
//! behind (no pid file, no directory, no container). Without `[cgroups] root` and
//! `yarn-hierarchy` only `cgroups=none` is accepted.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::fs::{self, DirFd};
use crate::identity;

use super::modules::{CGROUPS_ROOT_KEY, CGROUPS_SECTION, CGROUPS_YARN_HIERARCHY_KEY};

/// The only cgroup files a pid is written to: the task lists of cgroup v1 (`tasks`) and of both
/// versions (`cgroup.procs`, what the NodeManager passes). A control file (`pids.max`,
/// `notify_on_release`, `cgroup.subtree_control`...) would take the pid as a setting.
pub(super) const CGROUP_TASK_FILES: [&str; 2] = ["tasks", "cgroup.procs"];

/// The value that stands for "no cgroup".
const NONE: &[u8] = b"none";

/// One task file opened (as root) and checked; the pid is written into it later.
pub struct TaskFile {
    file: File,
    shown: PathBuf,
}

/// The configured confinement: (root, hierarchy components), or why there is none.
pub fn configured(config: &Config) -> std::result::Result<(String, Vec<String>), String> {
    let get = |key: &str| {
        config
            .get(CGROUPS_SECTION, key)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (Some(root), Some(hierarchy)) = (get(CGROUPS_ROOT_KEY), get(CGROUPS_YARN_HIERARCHY_KEY))
    else {
        return Err(format!(
            "[{CGROUPS_SECTION}] {CGROUPS_ROOT_KEY} and {CGROUPS_YARN_HIERARCHY_KEY} are not both set"
        ));
    };
    if components(OsStr::new(&root)).is_none() {
        return Err(format!(
            "[{CGROUPS_SECTION}] {CGROUPS_ROOT_KEY}={root} is not an absolute path without '.' or '..'"
        ));
    }
    let parts: Vec<String> = hierarchy
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if parts.is_empty() || parts.iter().any(|p| p == "." || p == "..") {
        return Err(format!(
            "[{CGROUPS_SECTION}] {CGROUPS_YARN_HIERARCHY_KEY}={hierarchy} must name a cgroup without '.' or '..'"
        ));
    }
    Ok((root, parts))
}

/// Open every task file of a `cgroups=` value list (`none` entries skipped) before the launch
/// starts anything; the first refusal is the cgroup error (27).
pub fn open_task_files(config: &Config, values: &[OsString]) -> Result<Vec<TaskFile>> {
    let wanted: Vec<&OsString> = values.iter().filter(|v| v.as_bytes() != NONE).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let (root, hierarchy) = configured(config).map_err(|why| {
        refuse(format!(
            "cgroups={} refused: {why}; only cgroups=none is accepted",
            wanted[0].to_string_lossy()
        ))
    })?;
    identity::as_root(|| {
        wanted
            .iter()
            .map(|v| open_one(&root, &hierarchy, Path::new(v)))
            .collect::<Result<Vec<_>>>()
    })?
}

/// Append `pid` to each opened task file (as root, as Hadoop writes them).
pub fn write_pid(files: &mut [TaskFile], pid: Pid) -> Result<()> {
    if files.is_empty() {
        // cgroups=none: nothing to write, so no switch to root and back.
        return Ok(());
    }
    identity::as_root(|| -> Result<()> {
        for task in files.iter_mut() {
            task.file
                .write_all(pid.to_string().as_bytes())
                .map_err(|e| {
                    Error::Cgroup(format!("Can't write pid to {} - {e}", task.shown.display()))
                })?;
        }
        Ok(())
    })?
}

fn refuse(why: String) -> Error {
    Error::Cgroup(why)
}

/// Non-empty components of an absolute path; `None` for a relative path, a trailing slash, a
/// NUL, or a "." / ".." component.
fn components(path: &OsStr) -> Option<Vec<&OsStr>> {
    let b = path.as_bytes();
    if !b.starts_with(b"/") || b.ends_with(b"/") || b.contains(&0) {
        return None;
    }
    let parts: Vec<&OsStr> = b
        .split(|&c| c == b'/')
        .filter(|p| !p.is_empty())
        .map(OsStr::from_bytes)
        .collect();
    if parts
        .iter()
        .any(|p| p.as_bytes() == b"." || p.as_bytes() == b"..")
    {
        return None;
    }
    Some(parts)
}

/// Where an opened directory is: (mount id when the kernel tells, device).
fn place(dir: &DirFd) -> std::io::Result<(Option<u64>, u64)> {
    let mnt = crate::sys::mount_id(dir.raw_fd()).ok();
    Ok((mnt, dir.stat()?.dev))
}

fn open_one(root: &str, hierarchy: &[String], path: &Path) -> Result<TaskFile> {
    let shown = path.display();
    let expected = || {
        format!(
            "{root}/<controller>/{}/<cgroup>/cgroup.procs (or, with cgroup v2 at {root}, {root}/{}/<cgroup>/cgroup.procs)",
            hierarchy.join("/"),
            hierarchy.join("/")
        )
    };
    let outside = || {
        refuse(format!(
            "cgroup task file {shown} is not below the configured hierarchy: expected {}",
            expected()
        ))
    };
    let parts = components(path.as_os_str()).ok_or_else(outside)?;
    let root_parts = components(OsStr::new(root)).ok_or_else(outside)?;
    let Some(rest) = parts.strip_prefix(root_parts.as_slice()) else {
        return Err(outside());
    };
    let Some((name, dirs)) = rest.split_last() else {
        return Err(outside());
    };
    if !CGROUP_TASK_FILES
        .iter()
        .any(|t| name.as_bytes() == t.as_bytes())
    {
        return Err(refuse(format!(
            "{shown} is not a cgroup task file (tasks or cgroup.procs)"
        )));
    }
    let cant = |what: &str, e: std::io::Error| {
        let hint = match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::ENOTDIR) => " (symlinks are not followed)",
            _ => "",
        };
        refuse(format!("Can't open {what} of {shown} - {e}{hint}"))
    };
    let root_dir = DirFd::open_root(Path::new(root))
        .map_err(|e| cant(&format!("[{CGROUPS_SECTION}] {CGROUPS_ROOT_KEY} {root}"), e))?;
    let on_cgroup = |d: &DirFd| fs::is_on_cgroup_fs(d.raw_fd()).unwrap_or(false);
    // cgroup v2 mounted at the root itself, or one v1 (or hybrid v2) mount per entry.
    let (controller, below) = if on_cgroup(&root_dir) {
        (root_dir, dirs)
    } else {
        let Some((first, below)) = dirs.split_first() else {
            return Err(outside());
        };
        let dir = open_controller(&root_dir, first).map_err(|e| cant("the controller", e))?;
        if !on_cgroup(&dir) {
            return Err(refuse(format!(
                "{} is not a cgroup filesystem (for {shown})",
                dir.path().display()
            )));
        }
        (dir, below)
    };
    let hier: Vec<&OsStr> = hierarchy.iter().map(OsStr::new).collect();
    match below.strip_prefix(hier.as_slice()) {
        Some(cgroup) if !cgroup.is_empty() => {}
        _ => return Err(outside()),
    }
    let home = place(&controller).map_err(|e| cant("the controller", e))?;
    let same_mount = |d: &DirFd| -> std::io::Result<bool> {
        let here = place(d)?;
        Ok(here.1 == home.1 && (here.0.is_none() || home.0.is_none() || here.0 == home.0))
    };
    let mut dir = controller;
    for part in below {
        dir = dir.open_dir(part).map_err(|e| cant("a directory", e))?;
        if !same_mount(&dir).map_err(|e| cant("a directory", e))? {
            return Err(refuse(format!(
                "{} is another mount than its controller (for {shown})",
                dir.path().display()
            )));
        }
    }
    let file = dir
        .open_append(name)
        .map_err(|e| refuse(format!("Can't open file {shown} as root - {e}")))?;
    let file_mnt = crate::sys::mount_id(file.as_fd()).ok();
    if !fs::is_on_cgroup_fs(file.as_fd()).unwrap_or(false)
        || (file_mnt.is_some() && home.0.is_some() && file_mnt != home.0)
    {
        return Err(refuse(format!(
            "{shown} is not a task file on the controller's cgroup filesystem"
        )));
    }
    Ok(TaskFile {
        file,
        shown: path.to_path_buf(),
    })
}

/// The controller entry of the configured root: a directory, or one symlink to a sibling entry
/// (`cpu -> cpu,cpuacct`), which is then opened without following anything.
fn open_controller(root: &DirFd, name: &OsStr) -> std::io::Result<DirFd> {
    match root.open_dir(name) {
        // O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR (or ELOOP): look at what it is.
        Err(e)
            if matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENOTDIR))
                && root.stat_at(name).is_ok_and(|st| st.is_symlink()) =>
        {
            let target = root.read_link_at(name)?;
            let t = target.as_bytes();
            if t.is_empty() || t.contains(&b'/') || t == b"." || t == b".." {
                return Err(Errno::ELOOP.into());
            }
            root.open_dir(&target)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn cfg(text: &str) -> Config {
        Config::parse(
            format!("yarn.nodemanager.linux-container-executor.group=g\n{text}").as_bytes(),
            "t.cfg",
        )
        .unwrap()
    }

    #[test]
    fn confinement_needs_root_and_hierarchy() {
        assert!(configured(&cfg("")).is_err());
        assert!(configured(&cfg("[cgroups]\nroot=/sys/fs/cgroup\n")).is_err());
        assert!(configured(&cfg("[cgroups]\nyarn-hierarchy=hadoop-yarn\n")).is_err());
        assert!(configured(&cfg("[cgroups]\nroot=rel\nyarn-hierarchy=y\n")).is_err());
        assert!(configured(&cfg("[cgroups]\nroot=/r\nyarn-hierarchy=a/../b\n")).is_err());
        assert!(configured(&cfg("[cgroups]\nroot=/r\nyarn-hierarchy=/\n")).is_err());
        assert_eq!(
            configured(&cfg(
                "[cgroups]\nroot=/sys/fs/cgroup\nyarn-hierarchy=/a/b/\n"
            ))
            .unwrap(),
            ("/sys/fs/cgroup".into(), vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn none_needs_no_configuration() {
        let values = vec![OsString::from("none")];
        assert!(open_task_files(&cfg(""), &values).unwrap().is_empty());
        let values = vec![OsString::from("/sys/fs/cgroup/cpu/y/c/cgroup.procs")];
        let err = open_task_files(&cfg(""), &values).err().unwrap();
        assert_eq!(err.code().number(), 27);
    }

    #[test]
    fn controller_symlink_only_to_a_sibling() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir(root.join("cpu,cpuacct")).unwrap();
        std::fs::write(root.join("cpu,cpuacct").join("marker"), "").unwrap();
        std::os::unix::fs::symlink("cpu,cpuacct", root.join("cpu")).unwrap();
        std::os::unix::fs::symlink(root.join("cpu,cpuacct"), root.join("absolute")).unwrap();
        std::os::unix::fs::symlink("../elsewhere", root.join("up")).unwrap();
        std::os::unix::fs::symlink("cpu", root.join("twice")).unwrap();
        std::os::unix::fs::symlink("/proc/self/cwd", root.join("magic")).unwrap();
        let dir = DirFd::open_root(root).unwrap();
        let cpu = open_controller(&dir, OsStr::new("cpu")).unwrap();
        assert_eq!(cpu.list().unwrap(), vec![OsString::from("marker")]);
        assert!(open_controller(&dir, OsStr::new("cpu,cpuacct")).is_ok());
        for bad in ["absolute", "up", "twice", "magic", "missing"] {
            assert!(open_controller(&dir, OsStr::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn lexical_shape() {
        assert!(components(OsStr::new("rel/x")).is_none());
        assert!(components(OsStr::new("/a/../b")).is_none());
        assert!(components(OsStr::new("/a/./b")).is_none());
        assert!(components(OsStr::new("/a/b/")).is_none());
        assert_eq!(
            components(OsStr::new("//a//b")).unwrap(),
            vec![OsStr::new("a"), OsStr::new("b")]
        );
    }
}
