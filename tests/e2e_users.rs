//! End-to-end: the run-as-user policy (docs/checks.md §4), driven through the cheapest run-as-user
//! command, SIGNAL_CONTAINER (2): the NodeManager (`cexec_nm`) runs
//! `container-executor <user> <user> 2 <pid> <signal>`.
//!
//! Every rejection must be exit 255 (Hadoop's -1) with the reason on stdout (LOG), and must
//! leave the target alone: where the user can own a process, the test asks for SIGKILL of a
//! live process of that user and checks it survived.

mod common;

use common::{Outcome, Sandbox, Spawned, TempUser, ALICE, BOB, SYS_USER};

const GROUP_KEY: &str = "yarn.nodemanager.linux-container-executor.group";

/// The NodeManager's signal request: `<user> <user> 2 <pid> <signal>`.
fn signal(sb: &Sandbox, user: &str, pid: &str, sig: &str) -> Outcome {
    sb.run_as_nm(&[user, user, "2", pid, sig])
}

/// The lines every run-as-user command logs first (docs/protocol.md §4).
#[track_caller]
fn assert_preamble(out: &Outcome, user: &str) {
    out.assert_stdout_has("main : command provided 2\n")
        .assert_stdout_has(&format!("main : run as user is {user}\n"))
        .assert_stdout_has(&format!("main : requested yarn user is {user}\n"));
}

#[track_caller]
fn assert_rejected(out: &Outcome, user: &str, reason: &str) {
    assert_preamble(out, user);
    out.assert_code(255)
        .assert_stdout_has(reason)
        .assert_stdout_lacks("Killing process group")
        .assert_stderr_has("Nonzero exit code=-1, error message='Unknown error code'");
}

/// SIGKILL asked for `victim`'s process group as `user`: must be refused and the victim alive.
#[track_caller]
fn assert_kill_refused(sb: &Sandbox, user: &str, victim: &mut Spawned, reason: &str) {
    let out = signal(sb, user, &victim.pid_arg(), "9");
    assert_rejected(&out, user, reason);
    assert!(
        victim.is_running(),
        "the process of {user} was killed although the user was rejected{}",
        out.describe()
    );
}

/// The policy passed and the liveness probe (signal 0) succeeded.
#[track_caller]
fn assert_probe_ok(out: &Outcome, user: &str, pid: u32) {
    assert_preamble(out, user);
    out.assert_code(0)
        .assert_stdout_has(&format!("Killing process group {pid} with 0"))
        .assert_stdout_lacks("not allowed")
        .assert_stdout_lacks("not found")
        .assert_stdout_lacks("is banned")
        .assert_stdout_lacks("not whitelisted")
        .assert_stdout_lacks("Illegal value")
        .assert_stderr_empty();
}

fn below_min(name: &str, uid: u32, min: u32) -> String {
    format!(
        "Requested user {name} is not whitelisted and has id {uid},which is below the minimum allowed {min}"
    )
}

#[test]
fn ordinary_user_passes_and_is_probed() {
    // The control case: without it every rejection test below could pass for a wrong reason.
    let Some(sb) = Sandbox::new("users_ordinary") else {
        return;
    };
    let mut container = sb.spawn_sleeper(ALICE);
    let out = signal(&sb, ALICE, &container.pid_arg(), "0");
    assert_probe_ok(&out, ALICE, container.pid());
    assert!(
        container.is_running(),
        "signal 0 must not kill{}",
        out.describe()
    );
}

#[test]
fn root_is_refused() {
    let Some(sb) = Sandbox::new("users_root") else {
        return;
    };
    let mut victim = sb.spawn_sleeper("root");
    assert_kill_refused(&sb, "root", &mut victim, "Running as root is not allowed");
}

#[test]
fn unknown_user_is_refused() {
    let Some(sb) = Sandbox::new("users_unknown") else {
        return;
    };
    let pid = std::process::id().to_string();
    let out = signal(&sb, "cexec_no_such_user", &pid, "0");
    assert_rejected(
        &out,
        "cexec_no_such_user",
        "User cexec_no_such_user not found",
    );
}

#[test]
fn empty_user_name_is_unknown() {
    let Some(sb) = Sandbox::new("users_empty_name") else {
        return;
    };
    let pid = std::process::id().to_string();
    let out = signal(&sb, "", &pid, "0");
    assert_rejected(&out, "", "User  not found");
}

#[test]
fn configured_banned_user_is_refused() {
    let Some(sb) = Sandbox::new("users_banned") else {
        return;
    };
    sb.write_config_with(&[("banned.users", Some(ALICE))]);
    let mut victim = sb.spawn_sleeper(ALICE);
    assert_kill_refused(
        &sb,
        ALICE,
        &mut victim,
        &format!("Requested user {ALICE} is banned"),
    );
    // Same configuration, a user not on the list: passes.
    let bobs = sb.spawn_sleeper(BOB);
    assert_probe_ok(&signal(&sb, BOB, &bobs.pid_arg(), "0"), BOB, bobs.pid());
}

#[test]
fn banned_list_matches_exact_names_only() {
    let Some(sb) = Sandbox::new("users_banned_exact") else {
        return;
    };
    // List items are not trimmed (docs/config.md §2: `a, b` gives `a` and ` b`) and compared
    // case-sensitively: none of these items is "cexec_alice".
    sb.write_config_with(&[(
        "banned.users",
        Some("cexec_bob, cexec_alice,CEXEC_ALICE,cexec_alic,cexec_alice2"),
    )]);
    let alices = sb.spawn_sleeper(ALICE);
    assert_probe_ok(
        &signal(&sb, ALICE, &alices.pid_arg(), "0"),
        ALICE,
        alices.pid(),
    );
    // The list is in force: its first item (the value's surrounding blanks are trimmed) is.
    let mut bobs = sb.spawn_sleeper(BOB);
    assert_kill_refused(
        &sb,
        BOB,
        &mut bobs,
        &format!("Requested user {BOB} is banned"),
    );
}

#[test]
fn min_user_id_is_checked_before_the_default_banned_list() {
    // banned.users absent: the default list yarn,mapred,hdfs,bin applies; but `bin` (a system
    // account) fails the min.user.id check first, with that message.
    let Some(sb) = Sandbox::new("users_bin_low_uid") else {
        return;
    };
    sb.write_config_with(&[("banned.users", None)]);
    let bin = common::account("bin");
    let out = signal(&sb, "bin", &std::process::id().to_string(), "0");
    assert_rejected(&out, "bin", &below_min("bin", bin.uid, 1000));
    out.assert_stdout_lacks("is banned");
}

#[test]
fn default_banned_list_applies_when_key_is_absent() {
    // Whitelisting `bin` gets it past min.user.id; the default banned list then refuses it.
    let Some(sb) = Sandbox::new("users_bin_default_banned") else {
        return;
    };
    sb.write_config_with(&[
        ("banned.users", None),
        ("allowed.system.users", Some("bin")),
    ]);
    let mut victim = sb.spawn_sleeper("bin");
    assert_kill_refused(&sb, "bin", &mut victim, "Requested user bin is banned");
}

#[test]
fn configured_banned_list_replaces_the_default() {
    // banned.users=cexec_bob: `bin` is no longer banned (the list replaces the default one).
    let Some(sb) = Sandbox::new("users_bin_not_banned") else {
        return;
    };
    sb.write_config_with(&[
        ("banned.users", Some(BOB)),
        ("allowed.system.users", Some("bin")),
    ]);
    let bins = sb.spawn_sleeper("bin");
    assert_probe_ok(&signal(&sb, "bin", &bins.pid_arg(), "0"), "bin", bins.pid());
}

#[test]
fn low_uid_user_is_refused() {
    let Some(sb) = Sandbox::new("users_low_uid") else {
        return;
    };
    let sys = sb.users().sys.clone();
    let mut victim = sb.spawn_sleeper(SYS_USER);
    assert_kill_refused(
        &sb,
        SYS_USER,
        &mut victim,
        &below_min(SYS_USER, sys.uid, 1000),
    );
}

#[test]
fn min_user_id_is_configurable() {
    // Lowering min.user.id below the system user's uid lets it through without a whitelist.
    let Some(sb) = Sandbox::new("users_min_uid_lowered") else {
        return;
    };
    let sys = sb.users().sys.clone();
    sb.write_config_with(&[("min.user.id", Some(&sys.uid.to_string()))]);
    let sleeper = sb.spawn_sleeper(SYS_USER);
    assert_probe_ok(
        &signal(&sb, SYS_USER, &sleeper.pid_arg(), "0"),
        SYS_USER,
        sleeper.pid(),
    );
    // And raising it above alice's uid refuses her.
    let alice = sb.users().alice.clone();
    let min = alice.uid + 1;
    sb.write_config_with(&[("min.user.id", Some(&min.to_string()))]);
    let mut victim = sb.spawn_sleeper(ALICE);
    assert_kill_refused(&sb, ALICE, &mut victim, &below_min(ALICE, alice.uid, min));
}

#[test]
fn whitelisted_low_uid_user_passes() {
    let Some(sb) = Sandbox::new("users_whitelisted") else {
        return;
    };
    sb.write_config_with(&[("allowed.system.users", Some(&format!("someone,{SYS_USER}")))]);
    let mut container = sb.spawn_sleeper(SYS_USER);
    let out = signal(&sb, SYS_USER, &container.pid_arg(), "0");
    assert_probe_ok(&out, SYS_USER, container.pid());
    assert!(
        container.is_running(),
        "signal 0 must not kill{}",
        out.describe()
    );
}

#[test]
fn banned_wins_over_whitelist() {
    let Some(sb) = Sandbox::new("users_banned_and_whitelisted") else {
        return;
    };
    sb.write_config_with(&[
        ("allowed.system.users", Some(SYS_USER)),
        ("banned.users", Some(SYS_USER)),
    ]);
    let mut victim = sb.spawn_sleeper(SYS_USER);
    assert_kill_refused(
        &sb,
        SYS_USER,
        &mut victim,
        &format!("Requested user {SYS_USER} is banned"),
    );
}

#[test]
fn illegal_min_user_id_refuses_everyone() {
    let Some(sb) = Sandbox::new("users_illegal_min_uid") else {
        return;
    };
    sb.write_config_with(&[("min.user.id", Some("abc"))]);
    let mut victim = sb.spawn_sleeper(ALICE);
    assert_kill_refused(
        &sb,
        ALICE,
        &mut victim,
        "Illegal value of abc for min.user.id in configuration",
    );
}

#[test]
fn root_is_refused_before_anything_else() {
    // `root` is refused by name even when min.user.id is unparsable and root is whitelisted.
    let Some(sb) = Sandbox::new("users_root_first") else {
        return;
    };
    sb.write_config_with(&[
        ("min.user.id", Some("abc")),
        ("allowed.system.users", Some("root")),
        ("banned.users", Some(BOB)),
    ]);
    let out = signal(&sb, "root", &std::process::id().to_string(), "0");
    assert_rejected(&out, "root", "Running as root is not allowed");
    out.assert_stdout_lacks("Illegal value");
}

#[test]
fn config_group_key_is_still_required_for_run_as_commands() {
    // The setup checks run before any command: no NM group, no policy evaluation at all.
    let Some(sb) = Sandbox::new("users_setup_first") else {
        return;
    };
    sb.write_config_with(&[(GROUP_KEY, None)]);
    let out = signal(&sb, ALICE, &std::process::id().to_string(), "0");
    out.assert_code(24)
        .assert_stderr_has(&format!("Can't get configured value for {GROUP_KEY}."))
        .assert_stdout_lacks("main :");
}

#[test]
fn numeric_uid_is_not_a_user_name() {
    // Users are looked up by name only: alice's uid as a string is an unknown user.
    let Some(sb) = Sandbox::new("users_numeric") else {
        return;
    };
    let uid = sb.users().alice.uid.to_string();
    let out = signal(&sb, &uid, &std::process::id().to_string(), "0");
    assert_rejected(&out, &uid, &format!("User {uid} not found"));
}

#[test]
fn users_are_looked_up_at_every_call() {
    // A user created after installation is known at once, and gone once deleted.
    let Some(sb) = Sandbox::new("users_fresh_account") else {
        return;
    };
    let name = {
        let fresh = TempUser::create(false, &[]);
        let name = fresh.name().to_string();
        // Dropped (killed) before `fresh`: userdel refuses a user with running processes.
        let container = sb.spawn_sleeper(&name);
        let out = signal(&sb, &name, &container.pid_arg(), "0");
        assert_probe_ok(&out, &name, container.pid());
        name
    };
    assert!(
        common::lookup_user(&name).is_none(),
        "{name} was not deleted"
    );
    let out = signal(&sb, &name, &std::process::id().to_string(), "0");
    assert_rejected(&out, &name, &format!("User {name} not found"));
}
