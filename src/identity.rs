//! The only place uids, gids, supplementary groups and capabilities change.
//!
//! States a request passes through (`docs/layout.md` §1):
//! - after setup: real/effective/saved uid 0, all gids = the NM group, no supplementary groups;
//! - "as the NM" / "as the user": a temporary *effective* switch, undone when the closure ends
//!   (the real and saved uid stay 0, so the process can come back);
//! - the permanent drop: groups → gid → uid for real, effective and saved ids, then proof that
//!   none of it can be undone.

use std::cell::RefCell;

use nix::errno::Errno;
use nix::unistd::{getresgid, getresuid, setgroups, setresgid, setresuid, Gid, Uid};

use crate::sys::{self, getgroups, CapSets};

use crate::error::{Error, Result};
use crate::users::ValidatedUser;

/// The NodeManager's identity: the caller's real uid and the configured group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NmIdentity {
    pub uid: Uid,
    pub gid: Gid,
}

/// Take root's ids for real, effective and saved uid, the NM group for every gid, and no
/// supplementary groups (Hadoop keeps the caller's; we have no use for them).
pub fn become_root(nm_gid: Gid) -> std::result::Result<(), Errno> {
    setresgid(nm_gid, nm_gid, nm_gid)?;
    setgroups(&[])?;
    setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
}

/// For the container engine's CLI (docker, podman), which Hadoop runs as root: real, effective
/// and saved uid and gid 0, no supplementary groups. Works from any effective identity while the
/// real uid is still root (uid first, so the gid change is privileged).
pub fn become_root_for_engine() -> std::result::Result<(), Errno> {
    let root = Uid::from_raw(0);
    let root_g = Gid::from_raw(0);
    setresuid(root, root, root)?;
    setgroups(&[])?;
    setresgid(root_g, root_g, root_g)
}

pub fn is_fully_root() -> bool {
    matches!(getresuid(), Ok(r) if r.real.is_root() && r.effective.is_root() && r.saved.is_root())
}

/// Whether the calling process set `no_new_privs` (then the kernel ignored our setuid bit).
pub fn no_new_privs() -> bool {
    nix::sys::prctl::get_no_new_privs().unwrap_or(false)
}

/// The effective identity in force, to come back to after a temporary switch.
struct Effective {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
}

fn current_effective() -> std::result::Result<Effective, Errno> {
    Ok(Effective {
        uid: getresuid()?.effective,
        gid: getresgid()?.effective,
        groups: getgroups()?,
    })
}

/// Switch the effective ids (and supplementary groups) to `uid:gid` + `groups`. Real and saved
/// uid stay root, so [`restore`] can return.
fn switch_effective(uid: Uid, gid: Gid, groups: &[Gid]) -> std::result::Result<(), Errno> {
    let keep = Uid::from_raw(u32::MAX); // -1: leave unchanged
    let keep_g = Gid::from_raw(u32::MAX);
    setresuid(keep, Uid::from_raw(0), keep)?;
    setgroups(groups)?;
    setresgid(keep_g, gid, keep_g)?;
    setresuid(keep, uid, keep)
}

fn restore(saved: &Effective) -> std::result::Result<(), Errno> {
    switch_effective(saved.uid, saved.gid, &saved.groups)
}

/// Run `work` with a temporary effective identity, then come back. If coming back fails the
/// process cannot be trusted to continue: that is reported as a setuid failure.
fn with_effective<T>(uid: Uid, gid: Gid, groups: &[Gid], work: impl FnOnce() -> T) -> Result<T> {
    let saved = current_effective()
        .map_err(|e| Error::SetuidFailed(format!("Can't read current ids - {}", e.desc())))?;
    switch_effective(uid, gid, groups).map_err(|e| {
        let _ = restore(&saved);
        Error::SetuidFailed(format!(
            "Failed to set effective user id {uid} - {}",
            e.desc()
        ))
    })?;
    let result = work();
    restore(&saved).map_err(|e| {
        Error::SetuidFailed(format!("Failed to restore effective ids - {}", e.desc()))
    })?;
    Ok(result)
}

/// Run `work` as the NodeManager user (euid = NM uid, egid = NM group, no other groups).
pub fn as_nm<T>(nm: NmIdentity, work: impl FnOnce() -> T) -> Result<T> {
    with_effective(nm.uid, nm.gid, &[], work)
}

/// Run `work` as root with egid 0 (Hadoop writes cgroup task files this way).
pub fn as_root<T>(work: impl FnOnce() -> T) -> Result<T> {
    with_effective(Uid::from_raw(0), Gid::from_raw(0), &[], work)
}

/// Run `work` as root with egid = the NM group (Hadoop's `create_directory_for_user`, so that
/// fresh user and log directories are born in the NM group).
pub fn as_root_in_nm_group<T>(nm: NmIdentity, work: impl FnOnce() -> T) -> Result<T> {
    with_effective(Uid::from_raw(0), nm.gid, &[], work)
}

thread_local! {
    // The one group-database answer of this run (the binary is single-threaded and acts for one
    // user per run; a forked child inherits it). Keyed by the whole user, so another user can
    // never be given these groups.
    static USER_GROUPS: RefCell<Option<(ValidatedUser, Vec<Gid>)>> = const { RefCell::new(None) };
}

/// The user's supplementary groups as the group database lists them (initgroups' answer),
/// minus gid 0 and the NodeManager group (beyond Hadoop: code run as the user never holds
/// them, so it cannot run this binary as a NodeManager; see `ValidatedUser::may_hold_group`).
/// Looked up once per run: every switch to the user (effective or permanent) then uses the same
/// list, and the NSS lookup (nss-systemd walks its userdb directories each time) is paid once.
pub fn user_groups(user: &ValidatedUser) -> std::result::Result<Vec<Gid>, Errno> {
    let cached = USER_GROUPS.with(|c| match c.borrow().as_ref() {
        Some((who, groups)) if who == user => Some(groups.clone()),
        _ => None,
    });
    if let Some(groups) = cached {
        return Ok(groups);
    }
    let mut groups = sys::getgrouplist(&user.c_name(), user.gid())?;
    groups.retain(|g| user.may_hold_group(*g));
    USER_GROUPS.with(|c| *c.borrow_mut() = Some((user.clone(), groups.clone())));
    Ok(groups)
}

/// Hadoop's `set_user`: become the user effectively (its groups, its primary gid, its uid), while
/// the real uid stays root so later "as NM"/"as root" steps remain possible.
pub fn assume_user(user: &ValidatedUser) -> Result<()> {
    let groups = user_groups(user).map_err(|e| {
        Error::UserRejected(format!(
            "Error setting supplementary groups for user {} - {}",
            user.name(),
            e.desc()
        ))
    })?;
    switch_effective(user.uid(), user.gid(), &groups).map_err(|e| {
        Error::UserRejected(format!(
            "Failed to set effective user id {} - {}",
            user.uid(),
            e.desc()
        ))
    })
}

/// Run `work` as the user (effective switch), then come back.
pub fn as_user<T>(user: &ValidatedUser, work: impl FnOnce() -> T) -> Result<T> {
    let groups = user_groups(user).map_err(|e| {
        Error::SetuidFailed(format!(
            "Can't get groups of {} - {}",
            user.name(),
            e.desc()
        ))
    })?;
    with_effective(user.uid(), user.gid(), &groups, work)
}

/// The permanent drop: clear the capability bounding, inheritable and ambient sets while still
/// root, set the user's groups, then gid, then uid (real, effective, saved), and prove it.
/// Any failure is `SetuidFailed` (exit 6), before any user code or data is touched.
pub fn drop_to_user_permanently(user: &ValidatedUser) -> Result<()> {
    let fail = |what: &str, e: Errno| {
        Error::SetuidFailed(format!(
            "{what} for user {} failed - {}",
            user.name(),
            e.desc()
        ))
    };
    let groups = user_groups(user).map_err(|e| fail("Getting the group list", e))?;
    // Back to full root first: setgroups and the bounding-set drop need it.
    setresuid(
        Uid::from_raw(u32::MAX),
        Uid::from_raw(0),
        Uid::from_raw(u32::MAX),
    )
    .map_err(|e| fail("Regaining root", e))?;
    clear_capability_sets()
        .map_err(|e| Error::SetuidFailed(format!("Clearing capabilities failed - {e}")))?;
    setgroups(&groups).map_err(|e| fail("Setting supplementary groups", e))?;
    setresgid(user.gid(), user.gid(), user.gid()).map_err(|e| fail("Setting the group id", e))?;
    setresuid(user.uid(), user.uid(), user.uid()).map_err(|e| fail("Setting the user id", e))?;
    prove_dropped(user, &groups)
}

/// Become the NodeManager for good (real, effective and saved ids; no supplementary groups):
/// for a process that has no further use for root, such as exec-container's relay.
pub fn drop_to_nm_permanently(nm: NmIdentity) -> Result<()> {
    let fail = |what: &str, e: Errno| Error::SetuidFailed(format!("{what} failed - {}", e.desc()));
    setresuid(
        Uid::from_raw(u32::MAX),
        Uid::from_raw(0),
        Uid::from_raw(u32::MAX),
    )
    .map_err(|e| fail("Regaining root", e))?;
    setgroups(&[]).map_err(|e| fail("Clearing supplementary groups", e))?;
    setresgid(nm.gid, nm.gid, nm.gid).map_err(|e| fail("Setting the group id", e))?;
    setresuid(nm.uid, nm.uid, nm.uid).map_err(|e| fail("Setting the user id", e))?;
    let u = getresuid().map_err(|e| fail("Reading the user ids", e))?;
    if [u.real, u.effective, u.saved] != [nm.uid; 3]
        || (!nm.uid.is_root()
            && setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0)).is_ok())
    {
        return Err(Error::SetuidFailed(
            "Privilege drop to the NodeManager not complete".into(),
        ));
    }
    Ok(())
}

/// Empty the bounding, ambient and inheritable sets (while still root; effective and permitted
/// stay until the uid change clears them). Its success is the proof for the bounding set (see
/// [`drop_bounding_set`]); [`prove_dropped`] checks the other sets.
fn clear_capability_sets() -> std::result::Result<(), String> {
    drop_bounding_set(sys::capbset_drop).map_err(|(cap, e)| {
        format!(
            "dropping capability {cap} from the bounding set: {}",
            e.desc()
        )
    })?;
    sys::cap_ambient_clear_all().map_err(|e| format!("clearing the ambient set: {}", e.desc()))?;
    let held = sys::capget().map_err(|e| format!("reading capabilities: {}", e.desc()))?;
    sys::capset(CapSets {
        inheritable: 0,
        ..held
    })
    .map_err(|e| format!("clearing the inheritable set: {}", e.desc()))
}

/// Drop every capability from the bounding set, 0 upwards, until the kernel answers `EINVAL`
/// (the first number past its last capability; capabilities are numbered without gaps). Returns
/// that last capability, or the capability and error of the first drop that failed otherwise.
///
/// Why the drops' own results are the proof that the bounding set is empty, with no read-back:
/// `PR_CAPBSET_DROP` succeeds only once the capability is out of the set, `EINVAL` comes only
/// for a number the kernel does not have, and nothing can add a capability to a bounding set
/// again. So "every drop from 0 to `last` succeeded, `last + 1` is invalid" covers every
/// capability there is; reading each one back (41 more calls) could only repeat it.
pub fn drop_bounding_set(
    mut drop: impl FnMut(u32) -> std::result::Result<(), Errno>,
) -> std::result::Result<u32, (u32, Errno)> {
    // The capability ABI has 64 bits per set; a kernel valid past that cannot be proven here.
    for cap in 0..64u32 {
        match drop(cap) {
            Ok(()) => {}
            Err(Errno::EINVAL) if cap > 0 => return Ok(cap - 1),
            Err(e) => return Err((cap, e)),
        }
    }
    Err((64, Errno::E2BIG))
}

/// The proof for the effective, permitted, inheritable and ambient sets, from one `capget`:
/// effective, permitted and inheritable must be empty. The ambient set needs no read of its
/// own: the kernel keeps every ambient capability both permitted and inheritable (it removes
/// one from the ambient set whenever it leaves either, capabilities(7)), so with those two
/// empty the ambient set is empty too (and `PR_CAP_AMBIENT_CLEAR_ALL` emptied it anyway).
pub fn capabilities_remaining(held: CapSets) -> Option<String> {
    if held == CapSets::default() {
        return None;
    }
    Some(format!(
        "capabilities remain: effective {:#x}, permitted {:#x}, inheritable {:#x}",
        held.effective, held.permitted, held.inheritable
    ))
}

/// After the drop: every uid and gid is the user's, the groups are exactly the user's, root
/// cannot be regained, and every capability set is empty (the bounding set by the drop loop of
/// [`clear_capability_sets`], which must have succeeded to get here; the others by one
/// `capget`: see [`capabilities_remaining`]).
pub fn prove_dropped(user: &ValidatedUser, groups: &[Gid]) -> Result<()> {
    let bad = |why: String| {
        Error::SetuidFailed(format!(
            "Privilege drop to {} not complete: {why}",
            user.name()
        ))
    };
    let u = getresuid().map_err(|e| bad(e.desc().into()))?;
    let g = getresgid().map_err(|e| bad(e.desc().into()))?;
    if [u.real, u.effective, u.saved] != [user.uid(); 3] {
        return Err(bad(format!(
            "uids are {}/{}/{}",
            u.real, u.effective, u.saved
        )));
    }
    if [g.real, g.effective, g.saved] != [user.gid(); 3] {
        return Err(bad(format!(
            "gids are {}/{}/{}",
            g.real, g.effective, g.saved
        )));
    }
    let mut have: Vec<u32> = getgroups()
        .map_err(|e| bad(e.desc().into()))?
        .iter()
        .map(|g| g.as_raw())
        .collect();
    let mut want: Vec<u32> = groups.iter().map(|g| g.as_raw()).collect();
    have.sort();
    have.dedup();
    want.sort();
    want.dedup();
    if have != want {
        return Err(bad(format!(
            "supplementary groups are {have:?}, expected {want:?}"
        )));
    }
    if setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0)).is_ok()
        || nix::unistd::setuid(Uid::from_raw(0)).is_ok()
    {
        return Err(bad("root could be regained".into()));
    }
    if user.gid().as_raw() != 0 && nix::unistd::setgid(Gid::from_raw(0)).is_ok() {
        return Err(bad("gid 0 could be regained".into()));
    }
    let held = sys::capget().map_err(|e| bad(e.desc().into()))?;
    if let Some(why) = capabilities_remaining(held) {
        return Err(bad(why));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_drop_walks_every_capability_up_to_the_kernels_last() {
        let mut dropped = Vec::new();
        let last = drop_bounding_set(|cap| {
            if cap > 40 {
                return Err(Errno::EINVAL);
            }
            dropped.push(cap);
            Ok(())
        });
        assert_eq!(last, Ok(40));
        assert_eq!(dropped, (0..=40).collect::<Vec<_>>());
    }

    #[test]
    fn bounding_drop_fails_on_any_other_error() {
        let mut tried = Vec::new();
        let got = drop_bounding_set(|cap| {
            tried.push(cap);
            if cap == 7 {
                Err(Errno::EPERM)
            } else {
                Ok(())
            }
        });
        assert_eq!(got, Err((7, Errno::EPERM)));
        assert_eq!(
            tried,
            (0..=7).collect::<Vec<_>>(),
            "stops at the first failure"
        );
    }

    #[test]
    fn bounding_drop_refuses_a_kernel_without_capabilities_or_past_the_abi() {
        assert_eq!(
            drop_bounding_set(|_| Err(Errno::EINVAL)),
            Err((0, Errno::EINVAL))
        );
        assert_eq!(drop_bounding_set(|_| Ok(())), Err((64, Errno::E2BIG)));
    }

    #[test]
    fn group_lookups_without_sysconf_agree_with_nix() {
        assert_eq!(sys::getgroups(), nix::unistd::getgroups());
        let root = std::ffi::CString::new("root").unwrap();
        let ours = sys::getgrouplist(&root, Gid::from_raw(0)).unwrap();
        assert!(ours.contains(&Gid::from_raw(0)));
        assert_eq!(Ok(ours), nix::unistd::getgrouplist(&root, Gid::from_raw(0)));
    }

    #[test]
    fn any_remaining_capability_bit_is_reported() {
        assert_eq!(capabilities_remaining(CapSets::default()), None);
        for held in [
            CapSets {
                effective: 1 << 21,
                ..Default::default()
            },
            CapSets {
                permitted: 1 << 40,
                ..Default::default()
            },
            CapSets {
                inheritable: 1,
                ..Default::default()
            },
            CapSets {
                inheritable: 1 << 63,
                ..Default::default()
            },
        ] {
            assert!(capabilities_remaining(held).is_some(), "{held:?}");
        }
    }
}
