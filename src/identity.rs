//! The only place uids, gids, supplementary groups and capabilities change.
//!
//! States a request passes through (`docs/layout.md` §1):
//! - after setup: real/effective/saved uid 0, all gids = the NM group, no supplementary groups;
//! - "as the NM" / "as the user": a temporary *effective* switch, undone when the closure ends
//!   (the real and saved uid stay 0, so the process can come back);
//! - the permanent drop: groups → gid → uid for real, effective and saved ids, then proof that
//!   none of it can be undone.

use caps::CapSet;
use nix::errno::Errno;
use nix::unistd::{getgroups, getresgid, getresuid, setgroups, setresgid, setresuid, Gid, Uid};

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

/// The user's supplementary groups as the group database lists them (initgroups' answer),
/// minus gid 0 and the NodeManager group (beyond Hadoop: code run as the user never holds
/// them, so it cannot run this binary as a NodeManager; see `ValidatedUser::may_hold_group`).
pub fn user_groups(user: &ValidatedUser) -> std::result::Result<Vec<Gid>, Errno> {
    let mut groups = nix::unistd::getgrouplist(&user.c_name(), user.gid())?;
    groups.retain(|g| user.may_hold_group(*g));
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

fn clear_capability_sets() -> std::result::Result<(), caps::errors::CapsError> {
    caps::clear(None, CapSet::Ambient)?;
    for cap in caps::read(None, CapSet::Bounding)? {
        caps::drop(None, CapSet::Bounding, cap)?;
    }
    caps::clear(None, CapSet::Inheritable)
}

/// After the drop: every uid and gid is the user's, the groups are exactly the user's, root
/// cannot be regained, and every capability set is empty.
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
    for set in [
        CapSet::Effective,
        CapSet::Permitted,
        CapSet::Inheritable,
        CapSet::Ambient,
        CapSet::Bounding,
    ] {
        let held = caps::read(None, set).map_err(|e| bad(e.to_string()))?;
        if !held.is_empty() {
            return Err(bad(format!("{set:?} capabilities remain: {held:?}")));
        }
    }
    Ok(())
}
