//! Hostile suite: caller authorization. Only root and members of the NodeManager group may make
//! the binary do anything, and only with its privileges intact (no tracer, no no_new_privs,
//! setuid bit present); a group member who is not the NM account cannot use the NM's dirs.

mod common;
mod hostile_support;

use common::{Sandbox, ALICE, BOB, NM_USER, OUTSIDER};
use hostile_support::*;

/// An initialize of `user` into the node's (NM-owned) dirs, as the NodeManager would send it.
fn init_words(node: &Node, user: &str) -> Vec<String> {
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    node.init_argv(user, &cid, &tokens, &["/bin/true"])
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn attack_non_member_runs_initialize() {
    let Some(node) = Node::new("h_nonmember") else {
        return;
    };
    let words = init_words(&node, BOB);
    let (local, log) = node.freeze_nm_dirs();
    // The kernel refuses the exec (mode 6050, not in the group): env reports 126.
    let out = node.sb.run_as(OUTSIDER, &strs(&words));
    out.assert_code(126).assert_stdout_empty();
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}

#[test]
fn attack_non_member_with_dac_override_runs_initialize() {
    let Some(node) = Node::new("h_nonmember_dac") else {
        return;
    };
    let words = init_words(&node, BOB);
    let (local, log) = node.freeze_nm_dirs();
    let users = node.sb.users();
    let out = node.sb.run_with_credentials(
        &[
            &format!("--reuid={}", users.out.uid),
            &format!("--regid={}", users.out.gid),
            "--init-groups",
            "--inh-caps=+dac_override",
            "--ambient-caps=+dac_override",
        ],
        &strs(&words),
    );
    out.assert_code(22)
        .assert_stdout_lacks("main :")
        .assert_stderr_has("neither root nor a member");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}

#[test]
fn attack_supplementary_member_uses_the_nm_dirs() {
    // alice holds the NM group only as a supplementary group: she may run the binary, but she is
    // not the NodeManager, so the NM's local and log dirs (owned by cexec_nm) are not hers to
    // have the binary write in.
    let Some(node) = Node::new("h_suppl") else {
        return;
    };
    let words = init_words(&node, BOB);
    let (local, log) = node.freeze_nm_dirs();
    let users = node.sb.users();
    let out = node.sb.run_with_credentials(
        &[
            &format!("--reuid={}", users.alice.uid),
            &format!("--regid={}", users.alice.gid),
            &format!("--groups={}", users.nm_gid),
        ],
        &strs(&words),
    );
    out.assert_code(20).assert_stdout_has("Permission mismatch");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}

#[test]
fn attack_nm_group_as_egid_without_membership() {
    // A process whose effective gid is the NM group though the group database does not list it:
    // it has the group's rights (the kernel let it exec the binary), but it is not the NM.
    let Some(node) = Node::new("h_egid_only") else {
        return;
    };
    let words = init_words(&node, BOB);
    let (local, log) = node.freeze_nm_dirs();
    let users = node.sb.users();
    let out = node.sb.run_with_credentials(
        &[
            &format!("--reuid={}", users.out.uid),
            &format!("--regid={}", users.nm_gid),
            "--clear-groups",
        ],
        &strs(&words),
    );
    out.assert_code(20).assert_stdout_has("Permission mismatch");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
    // And it cannot signal a process of another user by pid 1 tricks either.
    let mut sleeper = node.sb.spawn_sleeper(ALICE);
    let out = node.sb.run_with_credentials(
        &[
            &format!("--reuid={}", users.out.uid),
            &format!("--regid={}", users.nm_gid),
            "--clear-groups",
        ],
        &[ALICE, ALICE, "2", "1", "9"],
    );
    out.assert_code(9);
    assert!(
        sleeper.is_running(),
        "alice's process died{}",
        out.describe()
    );
}

#[test]
fn attack_root_caller_asks_for_root_and_for_the_nm_dirs() {
    let Some(node) = Node::new("h_root_caller") else {
        return;
    };
    let (local, log) = node.freeze_nm_dirs();
    let mut words = init_words(&node, BOB);
    words[0] = "root".into();
    words[1] = "root".into();
    let out = node.sb.run_as_root(&strs(&words));
    out.assert_code(255)
        .assert_stdout_has("Running as root is not allowed");
    // Root as caller is the "NM" uid 0: the NM's dirs (owned by cexec_nm) do not match it.
    let words = init_words(&node, BOB);
    let (local2, log2) = node.freeze_nm_dirs();
    let out2 = node.sb.run_as_root(&strs(&words));
    out2.assert_code(20)
        .assert_stdout_has("Permission mismatch");
    local2.assert_unchanged(&out2.describe());
    log2.assert_unchanged(&out2.describe());
    // (the first freeze predates the token files written for the second call)
    drop((local, log));
}

#[test]
fn attack_setuid_bit_stripped() {
    let Some(node) = Node::new("h_nosuid_bit") else {
        return;
    };
    node.sb.set_binary_mode(0o2050);
    // With the usual 0400 config an unprivileged run stops at 24 (cannot read it); a readable
    // config takes the attack further, to the binary's own root check.
    node.sb.chmod(&node.sb.config_path(), 0o444);
    let words = init_words(&node, ALICE);
    let (local, log) = node.freeze_nm_dirs();
    let out = node.sb.run_as_nm(&strs(&words));
    out.assert_code(22).assert_stdout_lacks("main :");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}

#[test]
fn attack_exec_under_a_tracer() {
    // A traced exec does not get the setuid bit's privileges (else the tracer could poke root's
    // memory); the binary must notice it is not root and do nothing.
    let Some(node) = Node::new("h_tracer") else {
        return;
    };
    let tracer = compile_c(&node.sb, "tracer", TRACER_C, &[]);
    // Control: ptrace works here at all (a seccomp profile may forbid it).
    let mut control = as_user_prefix(NM_USER);
    control.extend([tracer.clone().into_os_string(), "/bin/true".into()]);
    if run_argv(&control, &[]).code != 0 {
        let banner = "!".repeat(100);
        eprintln!("\n{banner}\n!!! SKIPPED attack_exec_under_a_tracer: ptrace is not permitted here !!!\n{banner}");
        return;
    }
    node.sb.chmod(&node.sb.config_path(), 0o444);
    let words = init_words(&node, ALICE);
    let (local, log) = node.freeze_nm_dirs();
    let mut argv = as_user_prefix(NM_USER);
    argv.push(tracer.clone().into_os_string());
    argv.push(node.sb.bin().into_os_string());
    argv.extend(os(&strs(&words)));
    let out = run_argv(&argv, &[]);
    out.assert_code(22)
        .assert_stdout_has("not running with root privileges")
        .assert_stdout_lacks("main :");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());

    let mut sleeper = node.sb.spawn_sleeper(BOB);
    let mut argv = as_user_prefix(NM_USER);
    argv.push(tracer.into_os_string());
    argv.push(node.sb.bin().into_os_string());
    argv.extend(os(&[BOB, BOB, "2", &sleeper.pid_arg(), "9"]));
    let out = run_argv(&argv, &[]);
    out.assert_code(22);
    assert!(sleeper.is_running(), "bob's process died{}", out.describe());
}

#[test]
fn attack_exec_with_no_new_privs() {
    let Some(node) = Node::new("h_nnp") else {
        return;
    };
    node.sb.chmod(&node.sb.config_path(), 0o444);
    let words = init_words(&node, ALICE);
    let (local, log) = node.freeze_nm_dirs();
    let mut argv = vec![std::ffi::OsString::from(SETPRIV), "--no-new-privs".into()];
    argv.extend(creds(NM_USER));
    argv.extend(os(&[ENV, "--"]));
    argv.push(node.sb.bin().into_os_string());
    argv.extend(os(&strs(&words)));
    let out = run_argv(&argv, &[]);
    out.assert_code(22)
        .assert_stdout_has("no_new_privs is set")
        .assert_stdout_lacks("main :");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}

#[test]
fn attack_exec_from_a_nosuid_copy_made_by_a_member() {
    // The NM copies the binary into a directory it owns and sets the bits itself: the copy is
    // the NM's, not root's, so it neither gets root nor passes the binary check.
    let Some(node) = Node::new("h_copy") else {
        return;
    };
    let sb: &Sandbox = &node.sb;
    let bin2 = sb.prefix().join("bin2");
    node.user_dir(&bin2, NM_USER, 0o755);
    let copy = bin2.join("container-executor");
    let cp = root_sh(&format!(
        "exec {SETPRIV} {} {ENV} -- /bin/sh -c {}",
        creds(NM_USER)
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        sq(&format!(
            "cp {} {} && chmod 6755 {}",
            s(&sb.bin()),
            s(&copy),
            s(&copy)
        ))
    ));
    cp.assert_code(0);
    node.sb.chmod(&node.sb.config_path(), 0o444);
    let words = init_words(&node, ALICE);
    let (local, log) = node.freeze_nm_dirs();
    let mut argv = as_user_prefix(NM_USER);
    argv.push(copy.into_os_string());
    argv.extend(os(&strs(&words)));
    let out = run_argv(&argv, &[]);
    // <bin2>/../etc/hadoop is the real, valid config; the binary check then fails.
    out.assert_code(22).assert_stdout_lacks("main :");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}
