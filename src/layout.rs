//! The NodeManager's directory layout (`docs/layout.md` §2): names, the grammar of the ids that
//! become path components, and the checked opening of the NM's local and log roots.
//!
//! Every id is validated as one path component before any path is built, so `..`, `/` and
//! empty names never reach the filesystem.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid};

use crate::fs::DirFd;
use crate::ids;

pub const USERCACHE: &str = "usercache";
pub const APPCACHE: &str = "appcache";
pub const NM_PRIVATE: &str = "nmPrivate";
pub const CONTAINER_SCRIPT: &str = "launch_container.sh";
pub const CREDENTIALS_FILE: &str = "container_tokens";
pub const KEYSTORE_FILE: &str = "yarn_provided.keystore";
pub const TRUSTSTORE_FILE: &str = "yarn_provided.truststore";
pub const TMP_DIR: &str = "tmp";
pub const PRIVATE_TMP_DIR: &str = "private_slash_tmp";
pub const PRIVATE_VAR_TMP_DIR: &str = "private_var_slash_tmp";

/// `usercache/<Y>` and `<G>/<app>`: owned by the user, group the NM group, setgid (02750).
pub const USER_DIR_MODE: u32 = 0o2750;
/// App dirs and container log dirs made with mkdirs.
pub const APP_DIR_MODE: u32 = 0o750;
/// Container work dirs and their tmp dirs (since YARN-9442).
pub const CONTAINER_DIR_MODE: u32 = 0o710;

/// The application owner's name as a path component: the NodeManager's own user-name pattern
/// (`[_.A-Za-z0-9][-@_.A-Za-z0-9]{0,255}[$]?`), and never `.`/`..`. Hadoop accepts anything
/// without `/../`, including an empty name that re-owns the NM's `usercache` directory.
pub fn valid_yarn_user(name: &OsStr) -> Option<&str> {
    let s = name.to_str()?;
    let body = s.strip_suffix('$').unwrap_or(s);
    let mut chars = body.chars();
    let first = chars.next()?;
    let ok_first = first.is_ascii_alphanumeric() || first == '_' || first == '.';
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || "-@_.".contains(c));
    (ok_first && ok_rest && body.len() <= 256 && !s.contains("..") && s != ".").then_some(s)
}

/// `application_<cluster timestamp>_<sequence>`, as `ApplicationId.toString()` writes it (the
/// sequence is zero-padded to at least 4 digits).
pub fn valid_app_id(id: &OsStr) -> Option<&str> {
    let s = id.to_str()?;
    let mut parts = s.split('_');
    let ok = parts.next() == Some("application")
        && parts.next().is_some_and(all_digits)
        && parts
            .next()
            .is_some_and(|seq| all_digits(seq) && seq.len() >= 4)
        && parts.next().is_none();
    ok.then_some(s)
}

/// Hadoop's container-id grammar, which also makes it a safe path component.
pub fn valid_container_id(id: &OsStr) -> Option<&str> {
    id.to_str().filter(|s| ids::is_valid_container_id(s))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An NM local or log root, opened and found to be owned by the NodeManager.
pub struct NmRoot {
    pub path: PathBuf,
    pub dir: DirFd,
}

/// Open an NM root and check it is owned by the NM uid (Hadoop's `check_nm_local_dir`; the
/// group is not checked). The message says what was wrong, in Hadoop's words.
pub fn open_nm_root(path: &OsStr, nm_uid: Uid) -> Result<NmRoot, String> {
    let path = PathBuf::from(path);
    let dir = DirFd::open_root(&path)
        .map_err(|e| format!("Error checking file stats for {} -1 {}.", path.display(), e))?;
    let stat = dir
        .stat()
        .map_err(|e| format!("Error checking file stats for {} -1 {}.", path.display(), e))?;
    if stat.uid != nm_uid.as_raw() {
        return Err(format!(
            "Permission mismatch for {} for caller uid: {}, owner uid: {}.",
            path.display(),
            nm_uid,
            stat.uid
        ));
    }
    Ok(NmRoot { path, dir })
}

/// Hadoop's `create_directory_for_user` on an opened parent: mkdir `name` 02750 if missing, then
/// (on the opened directory, never by name) chown to `user:nm_gid` and chmod 02750. Run as root.
pub fn create_directory_for_user(
    parent: &DirFd,
    name: &OsStr,
    shown: &Path,
    user: Uid,
    nm_gid: Gid,
) -> Result<DirFd, String> {
    parent
        .mkdir(name, USER_DIR_MODE)
        .map_err(|e| format!("Failed to create directory {} - {e}", shown.display()))?;
    let dir = parent
        .open_dir(name)
        .map_err(|e| format!("Failed to open directory {} - {e}", shown.display()))?;
    dir.chown(user.as_raw(), nm_gid.as_raw()).map_err(|e| {
        format!(
            "Failed to chown {} to {}:{}: {e}",
            shown.display(),
            user,
            nm_gid
        )
    })?;
    dir.chmod(USER_DIR_MODE).map_err(|e| {
        format!(
            "Can't chmod {} to add the setgid bit - {e}",
            shown.display()
        )
    })?;
    Ok(dir)
}

/// `<L>/usercache/<Y>/appcache/<app>` as path components below the local root.
pub fn app_dir_components<'a>(yarn_user: &'a str, app_id: &'a str) -> [&'a OsStr; 4] {
    [
        OsStr::new(USERCACHE),
        OsStr::new(yarn_user),
        OsStr::new(APPCACHE),
        OsStr::new(app_id),
    ]
}

/// Join for messages only; no path built here is ever opened by name.
pub fn shown(root: &Path, parts: &[&str]) -> PathBuf {
    let mut p = root.to_path_buf();
    for part in parts {
        p.push(part);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_user_grammar() {
        for ok in ["alice", "a.b", "_svc", "host$", "bob-1", "x@REALM"] {
            assert!(valid_yarn_user(OsStr::new(ok)).is_some(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a..b", "-x", "a b", "a\nb", "$", "é"] {
            assert!(valid_yarn_user(OsStr::new(bad)).is_none(), "{bad:?}");
        }
        assert!(valid_yarn_user(OsStr::new(&"a".repeat(257))).is_none());
    }

    #[test]
    fn app_id_grammar() {
        assert!(valid_app_id(OsStr::new("application_1700000000000_0001")).is_some());
        for bad in [
            "",
            "application_1",
            "application_1_2_3",
            "application_1_001",
            "app_1_2",
            "application_1_../x",
            "application__1",
            "application_1_0002/",
        ] {
            assert!(valid_app_id(OsStr::new(bad)).is_none(), "{bad}");
        }
    }

    #[test]
    fn container_id_grammar() {
        assert!(
            valid_container_id(OsStr::new("container_e17_1410901177871_0001_01_000005")).is_some()
        );
        assert!(valid_container_id(OsStr::new("container_1_2_3_../4")).is_none());
    }
}
