//! The run-as-user policy (`docs/checks.md` §4): who the NodeManager may ask us to become.
//!
//! A [`ValidatedUser`] can only be made by [`check_run_as_user`], so a command cannot be handed
//! a user that skipped the policy.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;

pub use nix::unistd::Gid;
use nix::unistd::{Uid, User};

use crate::config::Config;
use crate::error::{Error, Result};

/// A user that passed the policy: never root, known to the system, not banned (by name or by
/// uid), at or above `min.user.id` unless allowed as a system user, and with a primary group
/// that is neither root's nor the NodeManager's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedUser {
    name: String,
    uid: Uid,
    gid: Gid,
    /// The NodeManager group: never among the groups code run as this user gets.
    nm_gid: Gid,
}

impl ValidatedUser {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn uid(&self) -> Uid {
        self.uid
    }
    /// The user's primary group, from the passwd entry.
    pub fn gid(&self) -> Gid {
        self.gid
    }
    /// Whether `gid` may be a supplementary group of code run as this user: never gid 0 and
    /// never the NodeManager group (either would let user code run the 6050 binary as a
    /// NodeManager, or read what only root's group may).
    pub fn may_hold_group(&self, gid: Gid) -> bool {
        gid.as_raw() != 0 && gid != self.nm_gid
    }
    pub fn c_name(&self) -> CString {
        // The name came from a passwd lookup by a C string, so it holds no NUL.
        CString::new(self.name.as_bytes()).unwrap_or_default()
    }
}

/// A user as the passwd database knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Look a user up by name (NSS, so LDAP/sssd users work).
pub fn lookup_user(name: &str) -> std::result::Result<Option<PasswdEntry>, String> {
    if name.is_empty() || name.contains('\0') {
        return Ok(None);
    }
    match User::from_name(name) {
        Ok(Some(u)) => Ok(Some(PasswdEntry {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        })),
        Ok(None) => Ok(None),
        Err(e) => Err(e.desc().to_string()),
    }
}

/// Apply the policy to `argv[1]` of a run-as-user command, in Hadoop's order and with its words.
/// `nm_gid` is the configured NodeManager group.
pub fn check_run_as_user(name: &OsStr, config: &Config, nm_gid: Gid) -> Result<ValidatedUser> {
    check_with(name, config, nm_gid, lookup_user)
}

/// The policy with the passwd lookup passed in, so it can be tested without real users.
pub fn check_with(
    name: &OsStr,
    config: &Config,
    nm_gid: Gid,
    lookup: impl Fn(&str) -> std::result::Result<Option<PasswdEntry>, String>,
) -> Result<ValidatedUser> {
    // Names are echoed escaped: one message must stay one line on the NodeManager's streams.
    let shown = crate::out::escape_controls(&String::from_utf8_lossy(name.as_bytes())).into_owned();
    if name.as_bytes() == b"root" {
        return Err(Error::UserRejected("Running as root is not allowed".into()));
    }
    // Beyond Hadoop: a name that no account database should hold is refused before it is looked
    // up (NSS back ends such as LDAP receive it).
    // (An empty name keeps Hadoop's "not found".)
    if !name.is_empty() && !plausible_user_name(name.as_bytes()) {
        return Err(Error::UserRejected(format!("Invalid user name {shown}")));
    }
    let min_uid = config.min_user_id().map_err(|raw| {
        Error::UserRejected(format!(
            "Illegal value of {raw} for min.user.id in configuration"
        ))
    })?;
    let not_found = || Error::UserRejected(format!("User {shown} not found"));
    let Some(name) = name.to_str() else {
        return Err(not_found());
    };
    let entry = match lookup(name) {
        Ok(Some(entry)) => entry,
        Ok(None) => return Err(not_found()),
        Err(why) => {
            return Err(Error::UserRejected(format!(
                "Can't get user information {shown} - {why}\nUser {shown} not found"
            )))
        }
    };
    // Beyond Hadoop: uid 0 under any name is root (Hadoop lets a whitelisted uid-0 alias through).
    if entry.uid == 0 {
        return Err(Error::UserRejected("Running as root is not allowed".into()));
    }
    // Hadoop compares unsigned, so a negative min.user.id refuses every non-whitelisted user.
    if entry.uid < min_uid as u32 && !config.allowed_system_users().iter().any(|a| a == name) {
        return Err(Error::UserRejected(format!(
            "Requested user {shown} is not whitelisted and has id {},which is below the minimum allowed {min_uid}",
            entry.uid
        )));
    }
    // Both spellings: a case-insensitive NSS back end may answer "YARN" with the entry of "yarn".
    // Beyond Hadoop, the ban is on the account, not the spelling: every banned name is looked up
    // and any name with the same uid (an alias such as `yarn2:x:<yarn's uid>`) is banned too. A
    // banned name that cannot be looked up refuses (we cannot tell it is not this account).
    for banned in config.banned_users() {
        let same = if banned == name || *banned == entry.name {
            true
        } else {
            match lookup(&banned) {
                Ok(Some(b)) => b.uid == entry.uid,
                Ok(None) => false,
                Err(why) => {
                    return Err(Error::UserRejected(format!(
                        "Can't get user information {} (banned.users) - {why}",
                        crate::out::escape_controls(&banned)
                    )))
                }
            }
        };
        if same {
            return Err(Error::UserRejected(format!(
                "Requested user {shown} is banned"
            )));
        }
    }
    // Beyond Hadoop: a user whose primary group is root's or the NodeManager's would run its code
    // with that group, and a member of the NodeManager group may run this binary as a
    // NodeManager. Supplementary memberships are stripped instead (identity::user_groups).
    if entry.gid == 0 || entry.gid == nm_gid.as_raw() {
        let which = if entry.gid == 0 {
            "root's group"
        } else {
            "the NodeManager group"
        };
        return Err(Error::UserRejected(format!(
            "Requested user {shown} has primary group {} ({which}), which is not allowed",
            entry.gid
        )));
    }
    Ok(ValidatedUser {
        name: entry.name,
        uid: Uid::from_raw(entry.uid),
        gid: Gid::from_raw(entry.gid),
        nm_gid,
    })
}

/// A user name we are willing to look up: 1-256 bytes, no control characters, whitespace,
/// `/`, `:` or `,` (path, passwd and list separators), not `.`/`..`, not starting with `-`.
pub fn plausible_user_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name != b"."
        && name != b".."
        && !name.starts_with(b"-")
        && !name
            .iter()
            .any(|&b| b.is_ascii_control() || b.is_ascii_whitespace() || b"/:,".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn config(text: &str) -> Config {
        Config::parse(text.as_bytes(), "test.cfg").unwrap()
    }

    fn fake(name: &str) -> std::result::Result<Option<PasswdEntry>, String> {
        let entry = |uid, gid| {
            Some(PasswdEntry {
                name: name.to_string(),
                uid,
                gid,
            })
        };
        Ok(match name {
            "alice" => entry(1001, 1001),
            "yarn" => entry(1500, 1500),
            "daemon" => entry(1, 1),
            "toor" => entry(0, 0),
            "yarn2" => entry(1500, 1501),
            "wheelie" => entry(1600, 0),
            "nmmate" => entry(1601, 1234),
            "broken" => return Err("Input/output error".into()),
            _ => None,
        })
    }

    const NM_GID: Gid = Gid::from_raw(1234);

    fn check(name: &str, cfg: &str) -> Result<ValidatedUser> {
        check_with(&OsString::from(name), &config(cfg), NM_GID, fake)
    }

    fn rejected(name: &str, cfg: &str) -> String {
        match check(name, cfg) {
            Err(Error::UserRejected(msg)) => msg,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    const BASE: &str = "yarn.nodemanager.linux-container-executor.group=hadoop\n";

    #[test]
    fn ordinary_user_passes() {
        let user = check("alice", BASE).unwrap();
        assert_eq!(
            (user.name(), user.uid().as_raw(), user.gid().as_raw()),
            ("alice", 1001, 1001)
        );
    }

    #[test]
    fn root_is_refused_by_name_first() {
        let cfg = format!("{BASE}min.user.id=abc\n");
        assert_eq!(rejected("root", &cfg), "Running as root is not allowed");
    }

    #[test]
    fn uid_zero_alias_is_refused_even_when_whitelisted() {
        let cfg = format!("{BASE}allowed.system.users=toor\n");
        assert_eq!(rejected("toor", &cfg), "Running as root is not allowed");
    }

    #[test]
    fn illegal_min_user_id_refuses_everyone() {
        let cfg = format!("{BASE}min.user.id=abc\n");
        assert_eq!(
            rejected("alice", &cfg),
            "Illegal value of abc for min.user.id in configuration"
        );
    }

    #[test]
    fn unknown_and_unreadable_users() {
        assert_eq!(rejected("nobody-here", BASE), "User nobody-here not found");
        assert_eq!(rejected("", BASE), "User  not found");
        assert!(rejected("broken", BASE)
            .contains("Can't get user information broken - Input/output error"));
    }

    #[test]
    fn low_uid_needs_whitelist() {
        assert_eq!(
            rejected("daemon", BASE),
            "Requested user daemon is not whitelisted and has id 1,which is below the minimum allowed 1000"
        );
        let cfg = format!("{BASE}allowed.system.users=allowedUser,daemon\nmin.user.id=500\n");
        assert!(check("daemon", &cfg).is_ok());
    }

    #[test]
    fn negative_min_user_id_refuses_all_but_whitelisted() {
        let cfg = format!("{BASE}min.user.id=-1\n");
        assert!(rejected("alice", &cfg).contains("below the minimum allowed -1"));
    }

    #[test]
    fn default_banned_list_and_configured_list() {
        assert_eq!(rejected("yarn", BASE), "Requested user yarn is banned");
        let cfg = format!("{BASE}banned.users=alice\n");
        assert_eq!(rejected("alice", &cfg), "Requested user alice is banned");
        // A configured list replaces the default one.
        assert!(check("yarn", &cfg).is_ok());
    }

    #[test]
    fn banned_wins_over_whitelist() {
        let cfg = format!("{BASE}allowed.system.users=daemon\nbanned.users=daemon\n");
        assert_eq!(rejected("daemon", &cfg), "Requested user daemon is banned");
    }

    #[test]
    fn rejection_is_status_255() {
        assert_eq!(check("root", BASE).unwrap_err().code().number(), -1);
    }

    #[test]
    fn implausible_names_are_refused_before_lookup() {
        for bad in [
            "a/b",
            "..",
            ".",
            "-rf",
            "a b",
            "a\nb",
            "a:b",
            "a,b",
            &"x".repeat(257),
        ] {
            let why = rejected(bad, BASE);
            assert!(why.starts_with("Invalid user name"), "{bad:?}: {why}");
            assert!(!why.contains('\n'), "{why}");
        }
        assert!(plausible_user_name(b"alice.o'neil@EXAMPLE$"));
    }

    #[test]
    fn banned_applies_to_the_name_the_database_answers_with() {
        // A case-insensitive NSS back end answers "YARN" with the entry of "yarn".
        let lookup = |name: &str| -> std::result::Result<Option<PasswdEntry>, String> {
            Ok((name.eq_ignore_ascii_case("yarn")).then(|| PasswdEntry {
                name: "yarn".into(),
                uid: 1500,
                gid: 1500,
            }))
        };
        let e = check_with(&OsString::from("YARN"), &config(BASE), NM_GID, lookup).unwrap_err();
        assert!(e.to_string().contains("banned"), "{e}");
    }

    #[test]
    fn banned_applies_to_every_name_of_the_uid() {
        // yarn2 is another name for yarn's uid 1500 (default banned.users has yarn).
        assert_eq!(rejected("yarn2", BASE), "Requested user yarn2 is banned");
        let cfg = format!("{BASE}banned.users=yarn2\n");
        assert_eq!(rejected("yarn", &cfg), "Requested user yarn is banned");
        // A banned name that does not exist bans nobody else.
        let cfg = format!("{BASE}banned.users=ghost\n");
        assert!(check("alice", &cfg).is_ok());
        // A banned name the database cannot answer for refuses (fail closed).
        let cfg = format!("{BASE}banned.users=broken\n");
        assert!(rejected("alice", &cfg).contains("Can't get user information broken"));
    }

    #[test]
    fn primary_group_root_or_nm_is_refused() {
        assert!(rejected("wheelie", BASE).contains("primary group 0 (root's group)"));
        assert!(rejected("nmmate", BASE).contains("primary group 1234 (the NodeManager group)"));
        assert_eq!(check("nmmate", BASE).unwrap_err().code().number(), -1);
        let alice = check("alice", BASE).unwrap();
        assert!(alice.may_hold_group(Gid::from_raw(1001)));
        assert!(!alice.may_hold_group(Gid::from_raw(0)));
        assert!(!alice.may_hold_group(NM_GID));
    }
}
