//! End-to-end: the setup checks every invocation runs first (docs/checks.md §1–2, docs/config.md §1), seen
//! the way the NodeManager sees them: it calls `container-executor --checksetup` at start-up and
//! reads the exit code (0 fine, 24 configuration, 22 binary permissions) and the two streams.
//!
//! Every case installs a real setuid-root binary in its own root-owned prefix (see
//! `tests/common/mod.rs`). Without root the tests are skipped with a loud banner.

mod common;

use common::{Sandbox, CONFIG_CANDIDATE, NM_GROUP, NM_USER, OUTSIDER};

const INVALID_BINARY: &str = "Invalid permissions on container-executor binary.";
const NO_GROUP_KEY: &str =
    "Can't get configured value for yarn.nodemanager.linux-container-executor.group.";

fn checksetup_as_nm(sb: &Sandbox) -> common::Outcome {
    sb.run_as_nm(&["--checksetup"])
}

// ---------------------------------------------------------------------------------------------
// A good installation
// ---------------------------------------------------------------------------------------------

#[test]
fn good_install_checksetup_succeeds_silently() {
    let Some(sb) = Sandbox::new("good_install") else {
        return;
    };
    checksetup_as_nm(&sb).assert_silent_success();
}

#[test]
fn root_caller_passes_checksetup() {
    let Some(sb) = Sandbox::new("root_caller") else {
        return;
    };
    sb.run_as_root(&["--checksetup"]).assert_silent_success();
}

#[test]
fn checksetup_ignores_extra_arguments() {
    let Some(sb) = Sandbox::new("checksetup_extra") else {
        return;
    };
    sb.run_as_nm(&["--checksetup", "extra", "args"])
        .assert_silent_success();
}

#[test]
fn others_may_read_the_binary() {
    // Hadoop does not check the "others read" bit; 6054 is accepted.
    let Some(sb) = Sandbox::new("bin_mode_6054") else {
        return;
    };
    sb.set_binary_mode(0o6054);
    checksetup_as_nm(&sb).assert_silent_success();
}

#[test]
fn nm_group_membership_by_supplementary_group_is_enough() {
    // A caller whose primary group is its own but who has the NM group as a supplementary
    // group (the NodeManager account on many sites) may use the binary.
    let Some(sb) = Sandbox::new("supplementary_member") else {
        return;
    };
    let alice = &sb.users().alice;
    sb.run_with_credentials(
        &[
            &format!("--reuid={}", alice.uid),
            &format!("--regid={}", alice.gid),
            &format!("--groups={}", sb.users().nm_gid),
        ],
        &["--checksetup"],
    )
    .assert_silent_success();
}

// ---------------------------------------------------------------------------------------------
// The configuration file and its directories (exit 24, message on stderr)
// ---------------------------------------------------------------------------------------------

#[test]
fn config_group_writable_is_refused() {
    let Some(sb) = Sandbox::new("cfg_group_writable") else {
        return;
    };
    sb.chmod(&sb.config_path(), 0o420);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must not be world or group writable, but is 420",
            sb.config_path().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn config_world_writable_is_refused() {
    let Some(sb) = Sandbox::new("cfg_world_writable") else {
        return;
    };
    sb.chmod(&sb.config_path(), 0o402);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must not be world or group writable, but is 402",
            sb.config_path().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn config_not_owned_by_root_is_refused() {
    let Some(sb) = Sandbox::new("cfg_not_root") else {
        return;
    };
    let nm_uid = sb.users().nm.uid;
    sb.chown(&sb.config_path(), Some(nm_uid), None);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must be owned by root, but is owned by {nm_uid}",
            sb.config_path().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn config_dir_group_writable_is_refused() {
    let Some(sb) = Sandbox::new("confdir_group_writable") else {
        return;
    };
    sb.chmod(&sb.conf_dir(), 0o775);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must not be world or group writable, but is 775",
            sb.conf_dir().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn config_dir_mode_is_shown_with_special_bits() {
    // `%03lo` of the permission and special bits: a setgid directory shows as 2775.
    let Some(sb) = Sandbox::new("confdir_setgid_writable") else {
        return;
    };
    sb.chmod(&sb.conf_dir(), 0o2775);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must not be world or group writable, but is 2775",
            sb.conf_dir().display()
        ));
}

#[test]
fn etc_dir_world_writable_is_refused() {
    let Some(sb) = Sandbox::new("etc_world_writable") else {
        return;
    };
    sb.chmod(&sb.etc_dir(), 0o757);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must not be world or group writable, but is 757",
            sb.etc_dir().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn config_dir_not_owned_by_root_is_refused() {
    let Some(sb) = Sandbox::new("confdir_not_root") else {
        return;
    };
    let nm_uid = sb.users().nm.uid;
    sb.chown(&sb.conf_dir(), Some(nm_uid), None);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must be owned by root, but is owned by {nm_uid}",
            sb.conf_dir().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn every_ancestor_up_to_root_is_checked() {
    // The install prefix is an ancestor of the configuration too (only `/` is exempt).
    let Some(sb) = Sandbox::new("prefix_group_writable") else {
        return;
    };
    sb.chmod(&sb.prefix(), 0o775);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!(
            "File {} must not be world or group writable, but is 775",
            sb.prefix().display()
        ))
        .assert_stdout_empty();
}

#[test]
fn missing_config_is_refused() {
    let Some(sb) = Sandbox::new("cfg_missing") else {
        return;
    };
    sb.remove_config();
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&format!("Configuration file {CONFIG_CANDIDATE} not found."))
        .assert_stdout_empty();
}

#[test]
fn empty_config_is_refused() {
    let Some(sb) = Sandbox::new("cfg_empty") else {
        return;
    };
    sb.write_config("");
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has("Empty configuration file provided")
        .assert_stdout_empty();
}

#[test]
fn config_of_only_comments_and_blank_lines_is_empty() {
    let Some(sb) = Sandbox::new("cfg_comments_only") else {
        return;
    };
    sb.write_config("# nothing here\n\n#yarn.nodemanager.linux-container-executor.group=x\n");
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has("Empty configuration file provided");
}

#[test]
fn config_without_nm_group_is_refused() {
    let Some(sb) = Sandbox::new("cfg_no_group") else {
        return;
    };
    sb.write_config_with(&[("yarn.nodemanager.linux-container-executor.group", None)]);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(NO_GROUP_KEY)
        .assert_stdout_empty();
}

#[test]
fn nm_group_inside_a_section_is_not_seen() {
    // Top-level keys are only looked up in the unnamed default section.
    let Some(sb) = Sandbox::new("cfg_group_in_section") else {
        return;
    };
    sb.write_config(&format!(
        "min.user.id=1000\n[docker]\nyarn.nodemanager.linux-container-executor.group={NM_GROUP}\n"
    ));
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(NO_GROUP_KEY);
}

#[test]
fn unknown_nm_group_is_refused() {
    let Some(sb) = Sandbox::new("cfg_unknown_group") else {
        return;
    };
    sb.write_config_with(&[(
        "yarn.nodemanager.linux-container-executor.group",
        Some("cexec_no_such_group"),
    )]);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has("Can't get group information for cexec_no_such_group")
        .assert_stdout_empty();
}

#[test]
fn empty_section_name_is_a_parse_error() {
    let Some(sb) = Sandbox::new("cfg_empty_section") else {
        return;
    };
    sb.write_config(&format!(
        "yarn.nodemanager.linux-container-executor.group={NM_GROUP}\n[]\nmin.user.id=1000\n"
    ));
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has("Empty section name")
        .assert_stdout_empty();
}

// ---------------------------------------------------------------------------------------------
// The binary's owner, group and mode (exit 22: reason on stdout, verdict on stderr)
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_bad_binary(out: &common::Outcome, reason: &str) {
    out.assert_code(22)
        .assert_stdout_has(reason)
        .assert_stderr_has(INVALID_BINARY)
        // Setup failures end the process at once, without the generic final line.
        .assert_stderr_lacks("Nonzero exit code");
}

#[test]
fn binary_group_differs_from_configured_nm_group() {
    // The site configured another group than the one owning the binary. The NM (in the
    // binary's group) can still exec it; the binary must refuse.
    let Some(sb) = Sandbox::new("bin_group_mismatch") else {
        return;
    };
    let alice = sb.users().alice.clone();
    sb.write_config_with(&[(
        "yarn.nodemanager.linux-container-executor.group",
        Some(&alice.group),
    )]);
    assert_bad_binary(
        &checksetup_as_nm(&sb),
        &format!(
            "The configured nodemanager group {} is different from the group of the executable {}",
            alice.gid,
            sb.users().nm_gid
        ),
    );
}

#[test]
fn binary_group_root_is_refused() {
    let Some(sb) = Sandbox::new("bin_group_root") else {
        return;
    };
    sb.set_binary_owner(0, 0);
    assert_eq!(sb.mode_of(&sb.bin()), 0o6050, "chown must keep the mode");
    assert_bad_binary(
        &sb.run_as_root(&["--checksetup"]),
        &format!(
            "The configured nodemanager group {} is different from the group of the executable 0",
            sb.users().nm_gid
        ),
    );
}

#[test]
fn binary_not_owned_by_root_is_refused() {
    // Owned by another user (bob) but still in the NM group, so the NM can exec it; it then
    // runs with bob's euid and cannot become root. The config is made world-readable so the
    // unprivileged process gets as far as the binary check (with root's 0400 config it would
    // stop at 24, see `binary_without_setuid_and_private_config_is_24`).
    let Some(sb) = Sandbox::new("bin_owner_bob") else {
        return;
    };
    let users = sb.users();
    sb.set_binary_owner(users.bob.uid, users.nm_gid);
    sb.chmod(&sb.config_path(), 0o444);
    assert_bad_binary(
        &checksetup_as_nm(&sb),
        "The container-executor binary should be user-owned by root.",
    );
}

#[test]
fn binary_executable_by_others_is_refused() {
    let Some(sb) = Sandbox::new("bin_mode_6051") else {
        return;
    };
    sb.set_binary_mode(0o6051);
    assert_bad_binary(
        &checksetup_as_nm(&sb),
        "The container-executor binary should not have write or execute for others.",
    );
}

#[test]
fn binary_writable_by_others_is_refused() {
    let Some(sb) = Sandbox::new("bin_mode_6052") else {
        return;
    };
    sb.set_binary_mode(0o6052);
    assert_bad_binary(
        &checksetup_as_nm(&sb),
        "The container-executor binary should not have write or execute for others.",
    );
}

#[test]
fn binary_writable_by_group_is_refused() {
    // Stricter than Hadoop (which accepts 6070): the NM group must not be able to replace a
    // setuid-root program. The reason line is this project's own wording.
    let Some(sb) = Sandbox::new("bin_mode_6070") else {
        return;
    };
    sb.set_binary_mode(0o6070);
    assert_bad_binary(&checksetup_as_nm(&sb), "group-writable");
}

#[test]
fn binary_without_setuid_is_refused() {
    // Without setuid the binary runs as the NM; the config is made world-readable (still a
    // valid config: only write bits are refused) so it gets as far as the binary check.
    let Some(sb) = Sandbox::new("bin_mode_2050") else {
        return;
    };
    sb.set_binary_mode(0o2050);
    sb.chmod(&sb.config_path(), 0o444);
    assert_bad_binary(
        &checksetup_as_nm(&sb),
        "The container-executor binary should be set setuid.",
    );
}

#[test]
fn binary_without_setuid_run_by_root_is_refused() {
    let Some(sb) = Sandbox::new("bin_mode_2050_root") else {
        return;
    };
    sb.set_binary_mode(0o2050);
    assert_bad_binary(
        &sb.run_as_root(&["--checksetup"]),
        "The container-executor binary should be set setuid.",
    );
}

#[test]
fn binary_without_setuid_and_private_config_is_24() {
    // As in Hadoop, a binary that did not become root cannot read root's 0400 configuration,
    // so the failure is reported as a configuration error before the binary check runs.
    let Some(sb) = Sandbox::new("bin_mode_2050_cfg_0400") else {
        return;
    };
    sb.set_binary_mode(0o2050);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&sb.config_path().display().to_string())
        .assert_stderr_lacks(INVALID_BINARY)
        .assert_stdout_empty();
}

#[test]
fn binary_without_setgid_is_refused() {
    // Stricter than Hadoop (which accepts 4050): the documented mode 6050 is required whole.
    let Some(sb) = Sandbox::new("bin_mode_4050") else {
        return;
    };
    sb.set_binary_mode(0o4050);
    assert_bad_binary(&checksetup_as_nm(&sb), "setgid");
}

// ---------------------------------------------------------------------------------------------
// Who may call
// ---------------------------------------------------------------------------------------------

#[test]
fn caller_outside_nm_group_cannot_exec_the_binary() {
    // With mode 6050 the kernel itself refuses a non-member (env reports exec failure: 126).
    let Some(sb) = Sandbox::new("outsider_exec") else {
        return;
    };
    let out = sb.run_as(OUTSIDER, &["--checksetup"]);
    out.assert_code(126)
        .assert_stderr_has("Permission denied")
        .assert_stdout_empty();
}

#[test]
fn caller_outside_nm_group_cannot_signal_anything() {
    // Nothing runs for a non-member: alice's "container" survives a SIGKILL request.
    let Some(sb) = Sandbox::new("outsider_signal") else {
        return;
    };
    let alice = &sb.users().alice.name;
    let mut victim = sb.spawn_sleeper(alice);
    let out = sb.run_as(OUTSIDER, &[alice, alice, "2", &victim.pid_arg(), "9"]);
    out.assert_code(126).assert_stdout_empty();
    assert!(
        victim.is_running(),
        "alice's process was killed{}",
        out.describe()
    );
}

#[test]
fn caller_outside_nm_group_with_dac_override_is_refused_by_the_binary() {
    // A non-member that can exec the file anyway (it holds CAP_DAC_OVERRIDE) reaches the
    // binary's own caller check, which must refuse with 22 and do nothing.
    let Some(sb) = Sandbox::new("outsider_dac_override") else {
        return;
    };
    let users = sb.users();
    let alice = users.alice.name.clone();
    let mut victim = sb.spawn_sleeper(&alice);
    let creds = [
        format!("--reuid={}", users.out.uid),
        format!("--regid={}", users.out.gid),
        "--init-groups".to_string(),
        "--inh-caps=+dac_override".to_string(),
        "--ambient-caps=+dac_override".to_string(),
    ];
    let creds: Vec<&str> = creds.iter().map(String::as_str).collect();

    sb.run_with_credentials(&creds, &["--checksetup"])
        .assert_code(22)
        .assert_stderr_has(&format!(
            "is neither root nor a member of the NodeManager group {NM_GROUP}"
        ))
        .assert_stdout_empty();

    let out = sb.run_with_credentials(&creds, &[&alice, &alice, "2", &victim.pid_arg(), "9"]);
    out.assert_code(22)
        .assert_stdout_lacks("main :")
        .assert_stdout_lacks("Killing process group");
    assert!(
        victim.is_running(),
        "alice's process was killed{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// Ordering: 24 before 22, and usage only on a valid installation
// ---------------------------------------------------------------------------------------------

#[test]
fn config_error_beats_binary_error() {
    let Some(sb) = Sandbox::new("order_24_before_22") else {
        return;
    };
    sb.chmod(&sb.config_path(), 0o420);
    sb.set_binary_mode(0o6051);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has("must not be world or group writable, but is 420")
        .assert_stderr_lacks(INVALID_BINARY)
        .assert_stdout_empty();
}

#[test]
fn no_arguments_on_valid_install_prints_usage() {
    let Some(sb) = Sandbox::new("usage_valid") else {
        return;
    };
    let out = sb.run_as_nm(&[]);
    out.assert_code(1)
        .assert_stderr_has("Nonzero exit code=1, error message='Invalid argument number'")
        .assert_stdout_has("container-executor <user> <yarn-user> <command> <command-args>");
    assert!(
        out.stdout
            .starts_with("Usage: container-executor --checksetup\n"),
        "usage text must start stdout{}",
        out.describe()
    );
}

#[test]
fn no_arguments_on_missing_config_is_24_not_usage() {
    let Some(sb) = Sandbox::new("usage_bad_config") else {
        return;
    };
    sb.remove_config();
    sb.run_as_nm(&[])
        .assert_code(24)
        .assert_stderr_has(&format!("Configuration file {CONFIG_CANDIDATE} not found."))
        .assert_stdout_lacks("Usage")
        .assert_stdout_empty();
}

#[test]
fn no_arguments_on_bad_binary_is_22_not_usage() {
    let Some(sb) = Sandbox::new("usage_bad_binary") else {
        return;
    };
    sb.set_binary_mode(0o6051);
    let out = sb.run_as_nm(&[]);
    assert_bad_binary(
        &out,
        "The container-executor binary should not have write or execute for others.",
    );
    out.assert_stdout_lacks("Usage");
}

#[test]
fn nm_user_is_the_caller_of_every_check() {
    // Sanity of the harness itself: the NM really runs as cexec_nm in cexec_hadoop, so a
    // broken install is not masked by running as root.
    let Some(sb) = Sandbox::new("harness_identity") else {
        return;
    };
    let users = sb.users();
    assert_eq!(users.nm.name, NM_USER);
    assert_eq!(users.nm.gid, users.nm_gid);
    assert_eq!(sb.owner_of(&sb.bin()), (0, users.nm_gid));
    assert_eq!(sb.mode_of(&sb.bin()), 0o6050);
    assert_eq!(sb.owner_of(&sb.config_path()), (0, 0));
    assert_eq!(sb.mode_of(&sb.config_path()), 0o400);
    // A non-setuid copy run by the NM is unprivileged: it cannot even read root's 0400
    // configuration. Proves run_as_nm does not run with root's powers.
    sb.set_binary_mode(0o0050);
    checksetup_as_nm(&sb)
        .assert_code(24)
        .assert_stderr_has(&sb.config_path().display().to_string());
}

#[test]
fn harness_nm_directories_have_the_nodemanager_layout() {
    // Sanity of the harness for later tests: the NM's local and log roots as a NodeManager
    // creates them, while the install itself stays valid.
    let Some(sb) = Sandbox::new("harness_nm_dirs") else {
        return;
    };
    let users = sb.users();
    let nm = (users.nm.uid, users.nm_gid);
    let locals = sb.nm_local_dirs(2);
    let logs = sb.nm_log_dirs(1);
    assert_eq!(
        locals,
        sb.nm_local_dirs(2),
        "nm_local_dirs must be idempotent"
    );
    assert_eq!(locals.len(), 2);
    for d in &locals {
        assert_eq!(
            (sb.owner_of(d), sb.mode_of(d)),
            (nm, 0o755),
            "{}",
            d.display()
        );
        let uc = d.join("usercache");
        assert_eq!((sb.owner_of(&uc), sb.mode_of(&uc)), (nm, 0o755));
        let private = d.join("nmPrivate");
        assert_eq!((sb.owner_of(&private), sb.mode_of(&private)), (nm, 0o700));
    }
    assert_eq!((sb.owner_of(&logs[0]), sb.mode_of(&logs[0])), (nm, 0o755));
    assert_eq!(
        (sb.owner_of(&sb.prefix()), sb.mode_of(&sb.prefix())),
        ((0, 0), 0o755)
    );
    assert_eq!(
        Sandbox::join_dirs(&locals),
        format!("{}%{}", locals[0].display(), locals[1].display())
    );
    checksetup_as_nm(&sb).assert_silent_success();
}
