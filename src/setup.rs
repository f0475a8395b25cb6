//! Setup checks, run at the start of every invocation in Hadoop's order (`docs/checks.md` §2):
//! find our own executable through the kernel, find and vet the configuration, parse it, look up
//! the NodeManager group, become root, vet the binary itself, and (beyond Hadoop) vet the caller.
//!
//! Every ownership and mode check is made on an opened file descriptor (`fstat`), never on a
//! name that could be swapped between the check and the use.

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::{fstat, Mode};
use nix::unistd::{Gid, Group, Uid};

use crate::config::{Config, CONFIG_FILE_NAME, MAX_CONFIG_BYTES, NM_GROUP_KEY};
use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::identity;
use crate::out;

/// The configuration directory fixed at build time (Hadoop's `container-executor.conf.dir`).
/// Relative values are resolved against the directory of the running executable.
pub const CONF_DIR: &str = env!("CE_CONF_DIR");

/// Hadoop's bound for the resolved executable path (`PATH_MAX`).
const EXECUTABLE_PATH_MAX: usize = 4096;

/// Who called us, captured before any id changes.
#[derive(Debug, Clone)]
pub struct Caller {
    pub uid: Uid,
    pub gid: Gid,
    pub groups: Vec<Gid>,
}

/// The outcome of a successful setup: a vetted configuration and the NodeManager's identity.
#[derive(Debug)]
pub struct Setup {
    pub config: Config,
    pub config_path: PathBuf,
    pub executable: PathBuf,
    /// The NodeManager account: the caller's real uid (Hadoop's `nm_uid`).
    pub nm_uid: Uid,
    /// The configured NodeManager group (Hadoop's `nm_gid`).
    pub nm_gid: Gid,
    pub nm_group: String,
    pub caller: Caller,
}

/// The whole setup sequence. On success the process runs as root with gid = the NM group.
pub fn run_setup_checks() -> Result<Setup> {
    let caller = capture_caller();
    let executable = find_own_executable()?;
    check_single_link(&executable)?;
    let config_path = locate_config(&executable)?;
    let bytes = open_and_read_config(&config_path)?;
    let config = Config::parse(&bytes, &config_path.to_string_lossy())?;
    let (nm_group, nm_gid) = lookup_nm_group(&config)?;
    // Hadoop ignores failures here so that an unprivileged test run goes on; the binary check
    // below and the privilege check after it make sure nothing privileged runs without them.
    let _ = identity::become_root(nm_gid);
    check_binary(nm_gid)?;
    check_running_as_root(&caller)?;
    check_caller(&caller, &nm_group, nm_gid)?;
    let pinned = pinned_nm_user(&config, &nm_group, nm_gid)?;
    check_pinned_caller(&caller, pinned.as_ref())?;
    Ok(Setup {
        config,
        config_path,
        executable,
        nm_uid: caller.uid,
        nm_gid,
        nm_group,
        caller,
    })
}

pub fn capture_caller() -> Caller {
    Caller {
        uid: Uid::current(),
        gid: Gid::current(),
        groups: crate::sys::getgroups().unwrap_or_default(),
    }
}

/// Our own path, from `/proc/self/exe` only: never argv[0], never the environment.
pub fn find_own_executable() -> Result<PathBuf> {
    let path = std::fs::read_link("/proc/self/exe").map_err(|e| {
        Error::ExecutablePath(format!(
            "Cannot get executable name from /proc/self/exe - {}",
            errno_text(&e)
        ))
    })?;
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= EXECUTABLE_PATH_MAX {
        return Err(Error::ExecutablePathTooLong(format!(
            "Resolved path for /proc/self/exe [{}] is longer than {} characters.",
            path.display(),
            EXECUTABLE_PATH_MAX
        )));
    }
    if bytes.is_empty() {
        return Err(Error::Config("realpath of executable: unknown".into()));
    }
    Ok(path)
}

/// The configuration's compiled-in location, as Hadoop spells it in messages.
pub fn config_candidate() -> String {
    format!("{CONF_DIR}/{CONFIG_FILE_NAME}")
}

/// Hadoop's location rule (`docs/config.md` §1.1): an absolute conf dir is used as is; a relative one
/// is taken from the directory holding the executable. The result is canonicalised.
pub fn locate_config(executable: &Path) -> Result<PathBuf> {
    let candidate = config_candidate();
    let unresolved = if candidate.starts_with('/') {
        PathBuf::from(&candidate)
    } else {
        let dir = executable.parent().unwrap_or(Path::new("/"));
        dir.join(&candidate)
    };
    std::fs::canonicalize(&unresolved)
        .map_err(|_| Error::Config(format!("Configuration file {candidate} not found.")))
}

/// Open the canonical config path one component at a time from `/` with `O_NOFOLLOW`, check the
/// file and every ancestor except `/` on the opened descriptors (root-owned, not group- or
/// world-writable), and read the file from the same descriptor.
pub fn open_and_read_config(path: &Path) -> Result<Vec<u8>> {
    let not_found = || {
        Error::Config(format!(
            "Configuration file {} not found.",
            config_candidate()
        ))
    };
    let names: Vec<&OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let (Some((file_name, dir_names)), true) = (names.split_last(), path.is_absolute()) else {
        return Err(not_found());
    };
    let open_failed = |p: &Path, e: std::io::Error| {
        Error::Config(format!(
            "Can't open file {} - {}",
            p.display(),
            crate::out::strerror(&e)
        ))
    };
    let stat_failed = |p: &Path, e: std::io::Error| {
        Error::Config(format!(
            "Can't stat file {} - {}",
            p.display(),
            crate::out::strerror(&e)
        ))
    };
    let mut dir = DirFd::open_root(Path::new("/")).map_err(|_| not_found())?;
    let mut so_far = PathBuf::from("/");
    let mut ancestors = Vec::with_capacity(dir_names.len());
    for name in dir_names {
        so_far.push(name);
        dir = dir.open_dir(name).map_err(|e| open_failed(&so_far, e))?;
        ancestors.push((
            so_far.clone(),
            dir.stat().map_err(|e| stat_failed(&so_far, e))?,
        ));
    }
    // open_file refuses anything but a regular file (a FIFO cannot block us) and never follows
    // a symlink.
    let file = dir
        .open_file(file_name)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EINVAL) => Error::Config(format!(
                "Configuration file {} is not a regular file.",
                path.display()
            )),
            _ => open_failed(path, e),
        })?;
    let meta = file.metadata().map_err(|e| stat_failed(path, e))?;
    // Hadoop reports the file first, then each parent going up.
    check_config_object(path, meta.uid(), meta.mode())?;
    for (shown, stat) in ancestors.iter().rev() {
        check_config_object(shown, stat.uid, stat.mode)?;
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Error::Config(format!(
                "Invalid conf file provided, unable to read file : {} - {}",
                path.display(),
                errno_text(&e)
            ))
        })?;
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(Error::Config(format!(
            "Configuration file {} is larger than {MAX_CONFIG_BYTES} bytes.",
            path.display()
        )));
    }
    Ok(bytes)
}

fn check_config_object(path: &Path, uid: u32, mode: u32) -> Result<()> {
    if uid != 0 {
        return Err(Error::Config(format!(
            "File {} must be owned by root, but is owned by {uid}",
            path.display()
        )));
    }
    if mode & 0o022 != 0 {
        return Err(Error::Config(format!(
            "File {} must not be world or group writable, but is {:03o}",
            path.display(),
            mode & 0o7777
        )));
    }
    Ok(())
}

fn lookup_nm_group(config: &Config) -> Result<(String, Gid)> {
    let name = config
        .nm_group()
        .ok_or_else(|| Error::Config(format!("Can't get configured value for {NM_GROUP_KEY}.")))?;
    match Group::from_name(name) {
        Ok(Some(group)) => Ok((name.to_string(), group.gid)),
        Ok(None) => Err(Error::Config(format!(
            "Can't get group information for {name} - unknown."
        ))),
        Err(e) => Err(Error::Config(format!(
            "Can't get group information for {name} - {}.",
            e.desc()
        ))),
    }
}

/// The binary we are running (the kernel's `/proc/self/exe`, opened, so a renamed or replaced
/// path cannot fool us) must be owned by root, group-owned by the NM group, setuid and setgid,
/// not writable by group or others and not executable by others. Hadoop checks only owner,
/// group, setuid and others' write/execute; the rest is our stricter rule (SECURITY.md).
pub fn check_binary(nm_gid: Gid) -> Result<()> {
    let fail = |why: String| {
        out::log(&why);
        Error::BinaryPermissions("Invalid permissions on container-executor binary.".into())
    };
    let fd = nix::fcntl::open(
        "/proc/self/exe",
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(owned)
    .map_err(|e| fail(format!("Could not open the executable : {}!.", e.desc())))?;
    let stat = fstat(fd.as_fd().as_raw_fd())
        .map_err(|e| fail(format!("Could not stat the executable : {}!.", e.desc())))?;
    if let Some(why) = binary_mode_problem(stat.st_uid, stat.st_gid, stat.st_mode, nm_gid.as_raw())
    {
        return Err(fail(why));
    }
    Ok(())
}

/// Beyond Hadoop: one binary, one install. The executable (the opened `/proc/self/exe`) must have
/// exactly one name: a second hard link is the same setuid file under a path whose neighbourhood
/// decides which configuration is read (`../etc/hadoop` of a relative conf dir), and it
/// survives the upgrade that replaces the real name. Checked before any configuration is
/// looked for; exit 22, with the command that finds the other names.
pub fn check_single_link(executable: &Path) -> Result<()> {
    let fail = |why: String| Error::BinaryPermissions(why);
    let fd = nix::fcntl::open(
        "/proc/self/exe",
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(owned)
    .map_err(|e| fail(format!("Could not open the executable : {}!.", e.desc())))?;
    let stat = fstat(fd.as_fd().as_raw_fd())
        .map_err(|e| fail(format!("Could not stat the executable : {}!.", e.desc())))?;
    let links = link_count(&stat);
    if links > 1 {
        return Err(fail(format!(
            "The container-executor binary {0} has {links} hard links; refusing to run: a binary \
             with more than one name can read another configuration. Find the other names with \
             `find / -xdev -samefile {0}` and remove every one except {0}.",
            executable.display()
        )));
    }
    Ok(())
}

/// `st_nlink` (u64 on x86_64, u32 on some other Linux targets).
#[allow(clippy::unnecessary_cast)]
pub fn link_count(stat: &nix::sys::stat::FileStat) -> u64 {
    stat.st_nlink as u64
}

/// The first problem with the binary's owner, group and mode, in Hadoop's order, with its words.
pub fn binary_mode_problem(uid: u32, gid: u32, mode: u32, nm_gid: u32) -> Option<String> {
    if uid != 0 {
        return Some("The container-executor binary should be user-owned by root.".into());
    }
    if gid != nm_gid {
        return Some(format!(
            "The configured nodemanager group {nm_gid} is different from the group of the executable {gid}"
        ));
    }
    if mode & 0o003 != 0 {
        return Some(
            "The container-executor binary should not have write or execute for others.".into(),
        );
    }
    if mode & 0o020 != 0 {
        return Some("The container-executor binary should not be group-writable.".into());
    }
    if mode & 0o4000 == 0 {
        return Some("The container-executor binary should be set setuid.".into());
    }
    if mode & 0o2000 == 0 {
        return Some("The container-executor binary should be set setgid.".into());
    }
    None
}

/// A correct binary on a `nosuid` mount, or run under `no_new_privs` or a tracer, starts without
/// root. Hadoop would go on and fail later in odd ways; we say why and stop.
fn check_running_as_root(caller: &Caller) -> Result<()> {
    if identity::is_fully_root() {
        return Ok(());
    }
    let why = if caller.uid.is_root() {
        "could not take root's ids".to_string()
    } else if identity::no_new_privs() {
        "no_new_privs is set on the calling process, so the setuid bit was ignored".to_string()
    } else {
        "the setuid bit was not honoured (nosuid mount, or the process is traced)".to_string()
    };
    out::log(&format!(
        "container-executor is not running with root privileges: {why}."
    ));
    Err(Error::BinaryPermissions(
        "Invalid permissions on container-executor binary.".into(),
    ))
}

/// Beyond Hadoop: only root or a member of the NodeManager group may use the binary. The file
/// mode already keeps others out; this holds even if the mode is later loosened. Exit 22, like
/// every other "you may not execute this" failure, which the NodeManager reports as a
/// configuration error.
pub fn check_caller(caller: &Caller, nm_group: &str, nm_gid: Gid) -> Result<()> {
    if caller.uid.is_root() || caller.gid == nm_gid || caller.groups.contains(&nm_gid) {
        return Ok(());
    }
    Err(Error::CallerNotAllowed(format!(
        "Caller uid {} is neither root nor a member of the NodeManager group {nm_group}; refusing to run.",
        caller.uid
    )))
}

/// Beyond Hadoop: the optional top-level key that pins the one account allowed to call us.
pub const NM_USER_KEY: &str = "yarn.nodemanager.linux-container-executor.nm-user";

/// The account named by [`NM_USER_KEY`], if the key is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedUser {
    pub name: String,
    pub uid: Uid,
}

/// Read and vet [`NM_USER_KEY`]: unset is `None`; set, it must name an existing account that is
/// in the NodeManager group (primary or supplementary), or the configuration is invalid (24) for
/// every caller, root included: a pin that nobody can satisfy is a broken install, not a lock.
pub fn pinned_nm_user(config: &Config, nm_group: &str, nm_gid: Gid) -> Result<Option<PinnedUser>> {
    let Some(name) = config.get("", NM_USER_KEY) else {
        return Ok(None);
    };
    let bad = |why: String| Error::Config(format!("Invalid value for {NM_USER_KEY}: {why}."));
    let entry = match crate::users::lookup_user(name) {
        Ok(Some(entry)) => entry,
        Ok(None) => return Err(bad(format!("user '{name}' does not exist"))),
        Err(e) => return Err(bad(format!("cannot look up user '{name}' - {e}"))),
    };
    let in_group = entry.gid == nm_gid.as_raw()
        || std::ffi::CString::new(name)
            .ok()
            .and_then(|c| crate::sys::getgrouplist(&c, Gid::from_raw(entry.gid)).ok())
            .is_some_and(|groups| groups.contains(&nm_gid));
    if !in_group {
        return Err(bad(format!(
            "user '{name}' is not a member of the NodeManager group {nm_group}"
        )));
    }
    Ok(Some(PinnedUser {
        name: entry.name,
        uid: Uid::from_raw(entry.uid),
    }))
}

/// Beyond Hadoop: with [`NM_USER_KEY`] set, only that account (and root) may call us; any other
/// member of the NodeManager group is refused before anything happens (22, like
/// [`check_caller`]).
pub fn check_pinned_caller(caller: &Caller, pinned: Option<&PinnedUser>) -> Result<()> {
    match pinned {
        Some(pin) if !caller.uid.is_root() && caller.uid != pin.uid => {
            Err(Error::CallerNotAllowed(format!(
                "Caller uid {} is not the NodeManager user {} ({NM_USER_KEY}); refusing to run.",
                caller.uid, pin.name
            )))
        }
        _ => Ok(()),
    }
}

/// nix 0.29 returns raw descriptors from open/openat; own them at once so they are closed.
fn owned(fd: std::os::fd::RawFd) -> OwnedFd {
    crate::sys::own_fd(fd)
}

fn errno_text(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map(|n| nix::errno::Errno::from_raw(n).desc().to_string())
        .unwrap_or_else(|| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_mode_rules() {
        let g = 1234;
        assert_eq!(binary_mode_problem(0, g, 0o106050, g), None);
        assert!(binary_mode_problem(1, g, 0o106050, g)
            .unwrap()
            .contains("user-owned by root"));
        assert!(binary_mode_problem(0, 99, 0o106050, g)
            .unwrap()
            .contains("different from the group"));
        assert!(binary_mode_problem(0, g, 0o106051, g)
            .unwrap()
            .contains("write or execute for others"));
        assert!(binary_mode_problem(0, g, 0o106052, g)
            .unwrap()
            .contains("write or execute for others"));
        assert!(binary_mode_problem(0, g, 0o106070, g)
            .unwrap()
            .contains("group-writable"));
        assert!(binary_mode_problem(0, g, 0o102050, g)
            .unwrap()
            .contains("setuid"));
        assert!(binary_mode_problem(0, g, 0o104050, g)
            .unwrap()
            .contains("setgid"));
        // 6054 (others may read) is allowed, as in Hadoop.
        assert_eq!(binary_mode_problem(0, g, 0o106054, g), None);
    }

    #[test]
    fn caller_rule() {
        let c = |uid, gid, groups: Vec<u32>| Caller {
            uid: Uid::from_raw(uid),
            gid: Gid::from_raw(gid),
            groups: groups.into_iter().map(Gid::from_raw).collect(),
        };
        let nm = Gid::from_raw(500);
        assert!(check_caller(&c(0, 0, vec![]), "hadoop", nm).is_ok());
        assert!(check_caller(&c(1001, 500, vec![]), "hadoop", nm).is_ok());
        assert!(check_caller(&c(1001, 100, vec![7, 500]), "hadoop", nm).is_ok());
        let err = check_caller(&c(1001, 100, vec![7]), "hadoop", nm).unwrap_err();
        assert_eq!(err.code().number(), 22);
        assert!(err.exits_at_once());
    }

    #[test]
    fn pinned_caller_rule() {
        let c = |uid| Caller {
            uid: Uid::from_raw(uid),
            gid: Gid::from_raw(500),
            groups: vec![],
        };
        let pin = PinnedUser {
            name: "yarn".into(),
            uid: Uid::from_raw(1001),
        };
        assert!(check_pinned_caller(&c(1001), Some(&pin)).is_ok());
        assert!(check_pinned_caller(&c(0), Some(&pin)).is_ok());
        assert!(check_pinned_caller(&c(1002), None).is_ok());
        let err = check_pinned_caller(&c(1002), Some(&pin)).unwrap_err();
        assert_eq!(err.code().number(), 22);
        assert!(err.exits_at_once());
        assert!(err.to_string().contains("not the NodeManager user yarn"));
    }

    #[test]
    fn pin_naming_unknown_user_is_invalid_config() {
        let cfg = Config::parse(
            format!("{NM_USER_KEY}=no_such_user_cexec_x\n").as_bytes(),
            "test.cfg",
        )
        .unwrap();
        let err = pinned_nm_user(&cfg, "hadoop", Gid::from_raw(4242)).unwrap_err();
        assert_eq!(err.code().number(), 24);
        assert!(err.to_string().contains("does not exist"));
        // root exists but is (normally) not in a group with gid 4242.
        let cfg = Config::parse(format!("{NM_USER_KEY}=root\n").as_bytes(), "t").unwrap();
        let err = pinned_nm_user(&cfg, "hadoop", Gid::from_raw(4242)).unwrap_err();
        assert!(err
            .to_string()
            .contains("not a member of the NodeManager group hadoop"));
        let pin = pinned_nm_user(&cfg, "root", Gid::from_raw(0))
            .unwrap()
            .unwrap();
        assert_eq!(pin.uid, Uid::from_raw(0));
        let cfg = Config::parse(b"a=b\n", "t").unwrap();
        assert_eq!(
            pinned_nm_user(&cfg, "hadoop", Gid::from_raw(0)).unwrap(),
            None
        );
    }

    #[test]
    fn config_candidate_uses_compiled_dir() {
        assert!(config_candidate().ends_with("/container-executor.cfg"));
        assert!(config_candidate().starts_with(CONF_DIR));
    }
}
