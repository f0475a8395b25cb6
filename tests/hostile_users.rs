//! Hostile suite: the run-as-user policy. The NodeManager (assumed compromised) names the user
//! to become; root under any name, banned users, system users, unknown users and names crafted
//! to confuse a lookup or a log line must all be refused before anything is created.

mod common;
mod hostile_support;

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::process::Command;

use common::{account, Outcome, ALICE, NM_USER, SYS_USER};
use hostile_support::*;
use nix::fcntl::{Flock, FlockArg};

/// An initialize of `user` (raw bytes allowed) on a fresh node; returns the outcome after
/// checking that nothing below the NM dirs changed.
fn init_as(node: &Node, user: OsString) -> Outcome {
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let mut argv = vec![user.clone(), user, "0".into()];
    argv.extend(os(&[
        APP,
        &cid,
        &s(&tokens),
        &node.local_arg(),
        &node.log_arg(),
        "/bin/sh",
        "-c",
        "touch /tmp/cexec-hostile-localizer-ran",
    ]));
    let (local, log) = node.freeze_nm_dirs();
    let out = run_as_os(&node.sb, NM_USER, &argv, &[]);
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
    out
}

#[track_caller]
fn refused(out: &Outcome, why: &str) {
    out.assert_code(255).assert_stdout_has(why);
}

/// Refused as a user that cannot exist: either by the name grammar before any lookup
/// ("Invalid user name") or by the lookup itself ("not found"), -1 either way as Hadoop.
fn refused_name(out: &Outcome) {
    out.assert_code(255);
    assert!(
        out.stdout.contains("Invalid user name") || out.stdout.contains("not found"),
        "neither refused by the name grammar nor by the lookup{}",
        out.describe()
    );
}

#[test]
fn attack_run_as_root() {
    let Some(node) = Node::new("h_user_root") else {
        return;
    };
    refused(
        &init_as(&node, "root".into()),
        "Running as root is not allowed",
    );
}

/// A uid-0 account under another name, created for one test (useradd -o -u 0).
struct RootAlias(String);

impl RootAlias {
    fn create() -> RootAlias {
        let name = format!("cexec_r{}_{}", std::process::id(), seq());
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/run/cexec-e2e.lock")
            .unwrap();
        let _guard = Flock::lock(lock, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .unwrap();
        let out = common::output(Command::new("useradd").args([
            "-o",
            "-u",
            "0",
            "-g",
            "0",
            "-M",
            "-N",
            "-d",
            "/nonexistent",
            "-s",
            "/bin/sh",
            &name,
        ]))
        .unwrap();
        assert!(out.status.success(), "useradd -o -u 0: {out:?}");
        RootAlias(name)
    }
}

impl Drop for RootAlias {
    fn drop(&mut self) {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/run/cexec-e2e.lock")
            .unwrap();
        let _guard = Flock::lock(lock, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .unwrap();
        // -f: uid 0 always "has processes running". The home is /nonexistent (nothing to
        // remove) and the primary group is root's (not removed with the user).
        let _ = common::output(Command::new("userdel").args(["-f", &self.0]));
    }
}

#[test]
fn attack_run_as_a_uid_0_alias_even_when_whitelisted() {
    let Some(node) = Node::new("h_user_alias") else {
        return;
    };
    let alias = RootAlias::create();
    assert_eq!(account(&alias.0).uid, 0);
    // The most permissive configuration an admin could write: the alias whitelisted, no
    // minimum, nobody banned.
    node.sb.write_config_with(&[
        ("min.user.id", Some("0")),
        ("banned.users", Some("")),
        ("allowed.system.users", Some(&alias.0)),
    ]);
    refused(
        &init_as(&node, alias.0.clone().into()),
        "Running as root is not allowed",
    );
}

#[test]
fn attack_run_as_a_banned_user() {
    let Some(node) = Node::new("h_user_banned") else {
        return;
    };
    node.sb
        .write_config_with(&[("banned.users", Some(&format!("yarn,{ALICE},hdfs")))]);
    refused(&init_as(&node, ALICE.into()), "is banned");
}

#[test]
fn attack_run_as_a_user_below_min_user_id() {
    let Some(node) = Node::new("h_user_minuid") else {
        return;
    };
    refused(
        &init_as(&node, SYS_USER.into()),
        "below the minimum allowed 1000",
    );
}

#[test]
fn attack_run_as_a_system_user_not_in_the_allowed_list() {
    let Some(node) = Node::new("h_user_notallowed") else {
        return;
    };
    node.sb.write_config_with(&[(
        "allowed.system.users",
        Some(&format!("nobody,{SYS_USER}x,x{SYS_USER}")),
    )]);
    refused(&init_as(&node, SYS_USER.into()), "is not whitelisted");
}

#[test]
fn attack_run_as_a_nonexistent_user() {
    let Some(node) = Node::new("h_user_unknown") else {
        return;
    };
    refused(
        &init_as(&node, "cexec_nobody_here".into()),
        "User cexec_nobody_here not found",
    );
    refused(&init_as(&node, "".into()), "not found");
}

#[test]
fn attack_user_name_with_slash() {
    let Some(node) = Node::new("h_user_slash") else {
        return;
    };
    for name in [
        format!("{ALICE}/../{ALICE}"),
        format!("../{ALICE}"),
        format!("/{ALICE}"),
        format!("{ALICE}/"),
    ] {
        refused_name(&init_as(&node, name.into()));
    }
}

#[test]
fn attack_user_name_dot_and_dotdot() {
    let Some(node) = Node::new("h_user_dots") else {
        return;
    };
    for name in ["..", ".", "../..", "./root"] {
        refused_name(&init_as(&node, name.into()));
    }
}

#[test]
fn attack_user_name_with_newline_forges_a_log_line() {
    let Some(node) = Node::new("h_user_newline") else {
        return;
    };
    let name = format!("{ALICE}\nmain : run as user is root\nroot");
    let out = init_as(&node, name.into());
    out.assert_code(255);
    for line in out.stdout.lines() {
        assert!(
            line != "root" && line != "main : run as user is root",
            "a forged line reached the NodeManager's log: {line:?}{}",
            out.describe()
        );
    }
}

#[test]
fn attack_user_name_very_long() {
    let Some(node) = Node::new("h_user_long") else {
        return;
    };
    // Over the 96 KiB per-argument bound: refused with 1 before the name is looked at.
    let out = init_as(&node, "a".repeat(100_000).into());
    out.assert_code(1)
        .assert_stderr_has("too long")
        .assert_stderr_lacks("panicked");
    // Long but within the bound (and beyond any real name): refused as a user.
    refused_name(&init_as(&node, "a".repeat(5_000).into()));
}

#[test]
fn attack_numeric_user_name() {
    // A name is a name: "0" or alice's uid as text must not be taken for a uid.
    let Some(node) = Node::new("h_user_numeric") else {
        return;
    };
    let alice_uid = account(ALICE).uid.to_string();
    for name in ["0", "00", "+0", alice_uid.as_str(), "-1", "4294967295"] {
        refused_name(&init_as(&node, name.into()));
    }
}

#[test]
fn attack_user_name_not_utf8() {
    let Some(node) = Node::new("h_user_bytes") else {
        return;
    };
    let out = init_as(&node, raw(b"cexec_al\xffice"));
    out.assert_code(255).assert_stdout_has("not found");
}
