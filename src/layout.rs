//! The NodeManager's directory layout (`docs/layout.md` §2): names, the grammar of the ids that
//! become path components, and the checked opening of the NM's local and log roots.
//!
//! Every id is validated as one path component before any path is built, so `..`, `/` and
//! empty names never reach the filesystem.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
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
    // Beyond the pattern: it becomes one path component, so it must fit NAME_MAX.
    let fits = s.len() <= ids::NAME_MAX;
    (ok_first && ok_rest && fits && !s.contains("..") && s != ".").then_some(s)
}

/// `application_<cluster timestamp>_<sequence>`, exactly as `ApplicationId.toString()` writes
/// it (`ids::is_valid_app_id`).
pub fn valid_app_id(id: &OsStr) -> Option<&str> {
    id.to_str().filter(|s| ids::is_valid_app_id(s))
}

/// A container id exactly as `ContainerId.toString()` writes it, which also makes it a safe
/// path component.
pub fn valid_container_id(id: &OsStr) -> Option<&str> {
    id.to_str().filter(|s| ids::is_valid_container_id(s))
}

/// Whether an NM directory (or a file below one) is spelled canonically: absolute, no empty
/// component (`//`), no `.` or `..` component; one trailing `/` is allowed. The NodeManager
/// passes its dirs normalized by Hadoop's `Path`, which never produces anything else.
pub fn is_canonical_abs_path(path: &[u8]) -> bool {
    let Some(rest) = path.strip_prefix(b"/") else {
        return false;
    };
    let rest = rest.strip_suffix(b"/").unwrap_or(rest);
    rest.is_empty()
        || rest
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// A `%`-separated list of NM local or log dirs, each canonical ([`is_canonical_abs_path`]) and
/// none empty: no empty list, no doubled or trailing `%`. Beyond Hadoop, whose `strtok` split
/// skips empty entries and uses each entry as it is. The NodeManager joins its normalized dirs
/// with `%`, so a list it sends always passes.
pub fn nm_dir_list(what: &str, raw: &OsStr) -> Result<Vec<OsString>, String> {
    let shown = || crate::out::escape_controls(&raw.to_string_lossy()).into_owned();
    let mut dirs = Vec::new();
    for entry in raw.as_bytes().split(|&b| b == b'%') {
        if entry.is_empty() {
            return Err(format!("Invalid {what} dir list {}: empty entry", shown()));
        }
        if !is_canonical_abs_path(entry) {
            return Err(format!(
                "Invalid {what} dir list {}: {} is not a canonical absolute path",
                shown(),
                crate::out::escape_controls(&String::from_utf8_lossy(entry))
            ));
        }
        dirs.push(OsStr::from_bytes(entry).to_os_string());
    }
    Ok(dirs)
}

/// The longest fixed name put below a container work dir (`yarn_provided.truststore`).
pub const LONGEST_WORK_DIR_ENTRY: usize = TRUSTSTORE_FILE.len();

/// Check, before anything is created, that every path built as `<root>/<parts...>` fits: each
/// part NAME_MAX, the whole PATH_MAX. `parts` is the deepest path a command builds below each
/// root (its last element may be a length-only placeholder).
pub fn check_built_paths(roots: &[OsString], parts: &[&[u8]]) -> Result<(), String> {
    if let Some(long) = parts.iter().find(|p| p.len() > ids::NAME_MAX) {
        return Err(format!(
            "Name too long: {}... ({} bytes, at most {})",
            crate::out::escape_controls(&String::from_utf8_lossy(&long[..32])),
            long.len(),
            ids::NAME_MAX
        ));
    }
    let below: usize = parts.iter().map(|p| p.len() + 1).sum();
    for root in roots {
        let total = root.len() + below;
        if total > ids::PATH_MAX {
            return Err(format!(
                "Path too long below {}: {total} bytes (at most {})",
                crate::out::escape_controls(&root.to_string_lossy()),
                ids::PATH_MAX
            ));
        }
    }
    Ok(())
}

/// Where the NodeManager writes a credentials file: below `<L>/nmPrivate/` of one of the given
/// local dirs L (the localizer's `nmPrivate/<localizer>.tokens`, a container's
/// `nmPrivate/<app>/<cid>/<cid>.tokens`). With `app_id`, the file must be below
/// `<L>/nmPrivate/<app_id>/`. Returns L and the components below it, to be opened one by one
/// with `O_NOFOLLOW` from L; anything else (a keytab, `/etc/shadow`, a path with `..`) is refused.
pub fn token_file_location<'a>(
    tokens: &Path,
    local_dirs: &'a [OsString],
    app_id: Option<&str>,
) -> Result<(&'a OsString, Vec<OsString>), String> {
    let bytes = tokens.as_os_str().as_bytes();
    let refuse = |why: &str| {
        format!(
            "Credentials file {} {why}",
            crate::out::escape_controls(&tokens.to_string_lossy())
        )
    };
    if !is_canonical_abs_path(bytes) || bytes.ends_with(b"/") {
        return Err(refuse("is not a canonical absolute path"));
    }
    fn components(b: &[u8]) -> Vec<&[u8]> {
        b.split(|&c| c == b'/').filter(|c| !c.is_empty()).collect()
    }
    let file = components(bytes);
    for local in local_dirs {
        let root = components(local.as_bytes());
        let Some(below) = file.strip_prefix(root.as_slice()) else {
            continue;
        };
        let min = if app_id.is_some() { 3 } else { 2 };
        let in_private = below.len() >= min
            && below[0] == NM_PRIVATE.as_bytes()
            && app_id.map_or(true, |app| below[1] == app.as_bytes());
        if in_private {
            let rel = below
                .iter()
                .map(|c| OsStr::from_bytes(c).to_os_string())
                .collect();
            return Ok((local, rel));
        }
    }
    Err(refuse(&match app_id {
        Some(app) => format!("is not below <local dir>/{NM_PRIVATE}/{app}/ of a given local dir"),
        None => format!("is not below <local dir>/{NM_PRIVATE}/ of a given local dir"),
    }))
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
    // No magic link on the way (resolve.rs), and everything below the root stays on its mount.
    let dir = DirFd::open_root(&path)
        .and_then(DirFd::pinned)
        .map_err(|e| {
            format!(
                "Error checking file stats for {} -1 {}.",
                path.display(),
                crate::out::strerror(&e)
            )
        })?;
    let stat = dir.stat().map_err(|e| {
        format!(
            "Error checking file stats for {} -1 {}.",
            path.display(),
            crate::out::strerror(&e)
        )
    })?;
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
    let created = parent.mkdir(name, USER_DIR_MODE).map_err(|e| {
        format!(
            "Failed to create directory {} - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
        )
    })?;
    let dir = parent.open_dir(name).map_err(|e| {
        format!(
            "Failed to open directory {} - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
        )
    })?;
    // Beyond Hadoop (which chowns whatever is there): a directory we did not just make must
    // already be the user's, so root never re-owns anything else it finds at this name.
    let owner = dir
        .stat()
        .map_err(|e| {
            format!(
                "Failed to examine directory {} - {why}",
                shown.display(),
                why = crate::out::os_text(&e)
            )
        })?
        .uid;
    if !created && owner != user.as_raw() {
        return Err(format!(
            "Directory {} is owned by uid {owner}, not by the user (uid {user}); not changing it",
            shown.display()
        ));
    }
    dir.chown(user.as_raw(), nm_gid.as_raw()).map_err(|e| {
        format!(
            "Failed to chown {} to {}:{}: {why}",
            shown.display(),
            user,
            nm_gid,
            why = crate::out::os_text(&e)
        )
    })?;
    dir.chmod(USER_DIR_MODE).map_err(|e| {
        format!(
            "Can't chmod {} to add the setgid bit - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
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
    fn yarn_user_fits_name_max() {
        assert!(valid_yarn_user(OsStr::new(&"a".repeat(255))).is_some());
        assert!(valid_yarn_user(OsStr::new(&"a".repeat(256))).is_none());
        assert!(valid_yarn_user(OsStr::new(&format!("{}$", "a".repeat(255)))).is_none());
    }

    #[test]
    fn dir_lists_are_canonical() {
        let ok = nm_dir_list("local", OsStr::new("/L1%/data/2/yarn/local%/d/")).unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(
            nm_dir_list("log", OsStr::new("/")).unwrap(),
            vec![OsString::from("/")]
        );
        for bad in [
            "", "%", "/a%", "%/a", "/a%%/b", "a", "./a", "/a/./b", "/a/../b", "/a/..", "/a//b",
            "//a", "/a/.", "/a//",
        ] {
            assert!(nm_dir_list("local", OsStr::new(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn built_paths_fit_path_max() {
        let roots = [OsString::from("/L1")];
        assert!(check_built_paths(&roots, &[b"usercache", b"alice"]).is_ok());
        let long = vec![b'a'; 256];
        assert!(check_built_paths(&roots, &[&long]).is_err());
        let part = vec![b'a'; 255];
        let parts: Vec<&[u8]> = (0..16).map(|_| part.as_slice()).collect();
        assert!(check_built_paths(&roots, &parts).is_err());
        assert!(check_built_paths(&roots, &parts[..15]).is_ok());
    }

    #[test]
    fn token_files_only_below_nm_private() {
        let locals = [OsString::from("/L1"), OsString::from("/L2/")];
        let app = "application_1_0001";
        let ok = |p: &str, app: Option<&str>| token_file_location(Path::new(p), &locals, app);
        let (root, rel) = ok("/L2/nmPrivate/application_1_0001/c/c.tokens", Some(app)).unwrap();
        assert_eq!(root, &locals[1]);
        assert_eq!(rel.len(), 4);
        assert!(ok("/L1/nmPrivate/loc.tokens", None).is_ok());
        for bad in [
            "/etc/security/keytabs/nm.keytab",
            "/L1/nmPrivate",
            "/L1/nmPrivate/",
            "/L1/nmPrivate/../../etc/shadow",
            "/L1/./nmPrivate/x",
            "/L1//nmPrivate/x",
            "/L1/usercache/x.tokens",
            "/L3/nmPrivate/x.tokens",
            "/L11/nmPrivate/x.tokens",
            "L1/nmPrivate/x.tokens",
        ] {
            assert!(ok(bad, None).is_err(), "{bad}");
        }
        assert!(ok("/L1/nmPrivate/loc.tokens", Some(app)).is_err());
        assert!(ok("/L1/nmPrivate/application_1_0002/c/c.tokens", Some(app)).is_err());
        assert!(ok("/L1/nmPrivate/application_1_0001", Some(app)).is_err());
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
