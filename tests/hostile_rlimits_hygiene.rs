//! Hostile caller state (issue 4, part 1 and 2): the NodeManager account (or root) execs the
//! binary with lowered resource limits, closed or extra descriptors, ignored or blocked signals,
//! a strange umask or a poisoned environment. Each attack must end in a clean refusal with
//! nothing changed, or in the correct result, with the user's program seeing what Hadoop would
//! give it (the NodeManager's limits and environment, minus the dangerous part).

mod common;
mod hardening;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{is_file, read, ALICE};
use hardening::{initialize_argv, soft_limit, status_field, tagged, Caller, Container, Node};

/// A container script that reports its own view on stdout using only dash builtins (so it works
/// with NPROC 1 and FSIZE 0), then exits with 0.
const REPORT: &str = r#"#!/bin/sh
while IFS= read -r l; do echo "LIM:$l"; done < /proc/$$/limits
while IFS= read -r l; do echo "ST:$l"; done < /proc/$$/status
printf 'UMASK:'; umask
for fd in 0 1 2 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$fd ] && echo "FD:$fd"; done
echo "ENV-BEGIN"
export -p
exit 0
"#;

#[track_caller]
fn assert_nothing_created(node: &Node, c: &Container) {
    let user_dir = node.local.join("usercache").join(&c.user);
    assert!(!user_dir.exists(), "{} was created", user_dir.display());
    assert!(!c.pid_file.exists(), "pid file written");
    assert!(!c.exit_code_file().exists(), "exit code file written");
    assert!(
        fs::read_dir(&node.log).unwrap().next().is_none(),
        "something was created in the log dir"
    );
}

#[track_caller]
fn assert_launched(node: &Node, c: &Container, code: i32) {
    let pid = read(&c.pid_file);
    assert!(
        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()),
        "pid file holds {pid:?}"
    );
    assert_eq!(
        read(&c.exit_code_file()),
        code.to_string(),
        "exit code file"
    );
    let tokens = c.work_dir.join("container_tokens");
    assert_eq!(
        fs::read(&tokens).unwrap_or_default(),
        fs::read(&c.tokens).unwrap(),
        "token copy incomplete"
    );
    assert_eq!(
        fs::read(c.work_dir.join("launch_container.sh")).unwrap_or_default(),
        fs::read(&c.script).unwrap(),
        "script copy incomplete"
    );
    let _ = node;
}

// ------------------------------------------------------------------------------------------
// Resource limits
// ------------------------------------------------------------------------------------------

#[test]
fn attack_fsize_hard_limit_zero_is_refused_before_anything_changes() {
    let Some(node) = Node::new("hh_fsize0") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "ulimit -f 0",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(255).assert_stderr_has("RLIMIT_FSIZE");
    assert_nothing_created(&node, &c);
}

#[test]
fn attack_fsize_soft_limit_zero_still_completes_and_container_gets_it_back() {
    let Some(node) = Node::new("hh_fsize_soft") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "ulimit -S -f 0",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    assert_launched(&node, &c, 0);
    let limits = tagged(&out.stdout, "LIM:");
    assert_eq!(
        soft_limit(&limits, "Max file size"),
        "0",
        "{}",
        out.describe()
    );
}

#[test]
fn attack_nofile_hard_limit_tiny_is_refused_before_anything_changes() {
    let Some(node) = Node::new("hh_nofile4") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "ulimit -n 4",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(255).assert_stderr_has("RLIMIT_NOFILE");
    assert_nothing_created(&node, &c);
}

#[test]
fn attack_nofile_soft_limit_low_still_completes_and_container_gets_it_back() {
    let Some(node) = Node::new("hh_nofile_soft") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "ulimit -S -n 12",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    assert_launched(&node, &c, 0);
    let limits = tagged(&out.stdout, "LIM:");
    assert_eq!(
        soft_limit(&limits, "Max open files"),
        "12",
        "{}",
        out.describe()
    );
}

#[test]
fn attack_nproc_soft_limit_one_still_starts_the_container_with_that_limit() {
    let Some(node) = Node::new("hh_nproc") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "ulimit -S -u 1",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    assert_launched(&node, &c, 0);
    let limits = tagged(&out.stdout, "LIM:");
    assert_eq!(
        soft_limit(&limits, "Max processes"),
        "1",
        "{}",
        out.describe()
    );
    // And while we ran, no core of ours: the container gets the caller's core limit back.
    let caller_core = fs::read_to_string("/proc/self/limits").unwrap();
    assert_eq!(
        soft_limit(&limits, "Max core file size"),
        soft_limit(&caller_core, "Max core file size"),
        "core limit not restored"
    );
}

#[test]
fn attack_fsize_soft_zero_initialize_completes_and_localizer_gets_it() {
    let Some(node) = Node::new("hh_fsize_init") else {
        return;
    };
    let cid = hardening::fresh_cid();
    let tokens = node.private_dir(&cid).join(format!("{cid}.tokens"));
    node.nm_file(&tokens, "some tokens\n", 0o600);
    let probe = "while IFS= read -r l; do echo \"LIM:$l\"; done < /proc/$$/limits";
    let caller = Caller {
        prep: "ulimit -S -f 0",
        ..Default::default()
    };
    let out = node.run(
        &caller,
        &initialize_argv(&node, ALICE, &cid, &tokens, probe),
    );
    out.assert_code(0);
    let copy = node.app_dir(ALICE).join(format!("{cid}.tokens"));
    assert_eq!(read(&copy), "some tokens\n", "token copy");
    let limits = tagged(&out.stdout, "LIM:");
    assert_eq!(
        soft_limit(&limits, "Max file size"),
        "0",
        "{}",
        out.describe()
    );
}

// ------------------------------------------------------------------------------------------
// Descriptors
// ------------------------------------------------------------------------------------------

#[test]
fn attack_closed_std_fds_cannot_make_our_files_someones_stdout() {
    let Some(node) = Node::new("hh_closed_fds") else {
        return;
    };
    let script = r#"#!/bin/sh
for fd in 0 1 2; do echo "fd$fd=$(readlink /proc/$$/fd/$fd)" >> probe.txt; done
exit 0
"#;
    let c = Container::prepare(&node, ALICE, script);
    let caller = Caller {
        prep: "exec 0<&- 1>&- 2>&-",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    assert_eq!(out.code, 0, "{}", out.describe());
    // Our log lines went to /dev/null, not into the pid file or a copy.
    assert_launched(&node, &c, 0);
    let probe = read(&c.work_dir.join("probe.txt"));
    // Open on the null devices (glibc's secure mode puts /dev/full on a closed stdin of a
    // setuid program, /dev/null on the others; we fill any still closed with /dev/null), never
    // on one of our files.
    for fd in 0..3 {
        assert!(
            probe.contains(&format!("fd{fd}=/dev/null"))
                || probe.contains(&format!("fd{fd}=/dev/full")),
            "fd {fd} of the container is not a null device:\n{probe}"
        );
    }
}

#[test]
fn attack_inherited_descriptors_do_not_reach_the_container() {
    let Some(node) = Node::new("hh_extra_fds") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let secret = node.sb.prefix().join("nm-secret");
    fs::write(&secret, "nm secret").unwrap();
    node.sb
        .chown(&secret, Some(node.nm_uid()), Some(node.nm_gid()));
    node.sb.chmod(&secret, 0o600);
    let prep = format!(
        "exec 5<{s} 6<{s} 7<>{s} 9</etc/passwd",
        s = secret.display()
    );
    let caller = Caller {
        prep: &prep,
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    let fds = tagged(&out.stdout, "FD:");
    assert_eq!(fds, "0\n1\n2\n", "container fds{}", out.describe());
}

// ------------------------------------------------------------------------------------------
// Signals
// ------------------------------------------------------------------------------------------

#[test]
fn attack_sigchld_ignored_cannot_lose_the_exit_status() {
    let Some(node) = Node::new("hh_sigchld") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 3\n");
    let caller = Caller {
        prep: "trap '' CHLD",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    // With SIGCHLD ignored the kernel would reap the container itself and waitpid would fail:
    // Hadoop then reports an unknown status. We reset it first.
    out.assert_code(3);
    assert_launched(&node, &c, 3);
}

#[test]
fn attack_ignored_and_blocked_signals_do_not_survive_into_the_container() {
    let Some(node) = Node::new("hh_sigmask") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "trap '' HUP INT QUIT TERM USR1 USR2 CHLD ALRM 34 40 64",
        block: "TERM,USR1,INT,CHLD,HUP",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    let status = tagged(&out.stdout, "ST:");
    assert_eq!(
        status_field(&status, "SigBlk"),
        "0000000000000000",
        "{status}"
    );
    assert_eq!(
        status_field(&status, "SigIgn"),
        "0000000000000000",
        "{status}"
    );
}

#[test]
fn attack_blocked_signals_cannot_make_signal_fail_or_hang() {
    let Some(node) = Node::new("hh_sig_signal") else {
        return;
    };
    let mut sleeper = node.sb.spawn_sleeper(ALICE);
    let caller = Caller {
        prep: "trap '' TERM KILL",
        block: "TERM,CHLD,ALRM",
        ..Default::default()
    };
    let pid = sleeper.pid_arg();
    let args = [
        ALICE.to_string(),
        ALICE.into(),
        "2".into(),
        pid,
        "15".into(),
    ];
    node.run(&caller, &args).assert_code(0);
    assert!(
        sleeper
            .wait_for_exit(std::time::Duration::from_secs(10))
            .is_some(),
        "the container did not get SIGTERM"
    );
}

// ------------------------------------------------------------------------------------------
// umask
// ------------------------------------------------------------------------------------------

#[test]
fn attack_umask_0777_changes_no_mode_and_the_container_gets_0027() {
    let Some(node) = Node::new("hh_umask") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, REPORT);
    let caller = Caller {
        prep: "umask 0777",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    assert_launched(&node, &c, 0);
    let mode = |p: &Path| fs::symlink_metadata(p).unwrap().mode() & 0o7777;
    let user_dir = node.local.join("usercache").join(ALICE);
    assert_eq!(mode(&user_dir), 0o2750, "user dir");
    assert_eq!(mode(&node.app_dir(ALICE)) & 0o777, 0o750, "app dir");
    assert_eq!(mode(&c.work_dir) & 0o777, 0o710, "container dir");
    assert_eq!(
        mode(&c.work_dir.join("launch_container.sh")),
        0o700,
        "script"
    );
    assert_eq!(mode(&c.work_dir.join("container_tokens")), 0o600, "tokens");
    assert_eq!(mode(&node.log.join(hardening::APP)), 0o2750, "app log dir");
    // Hadoop: umask(0027) before exec'ing the script.
    assert!(out.stdout.contains("UMASK:0027"), "{}", out.describe());
}

#[test]
fn attack_umask_of_the_caller_reaches_only_the_localizer_as_in_hadoop() {
    let Some(node) = Node::new("hh_umask_init") else {
        return;
    };
    let cid = hardening::fresh_cid();
    let tokens = node.private_dir(&cid).join(format!("{cid}.tokens"));
    node.nm_file(&tokens, "t\n", 0o600);
    let caller = Caller {
        prep: "umask 0077",
        ..Default::default()
    };
    let out = node.run(
        &caller,
        &initialize_argv(&node, ALICE, &cid, &tokens, "printf 'UMASK:'; umask"),
    );
    out.assert_code(0);
    assert!(out.stdout.contains("UMASK:0077"), "{}", out.describe());
    let copy = node.app_dir(ALICE).join(format!("{cid}.tokens"));
    assert_eq!(
        fs::metadata(&copy).unwrap().mode() & 0o777,
        0o600,
        "token copy mode"
    );
    assert_eq!(
        fs::metadata(node.app_dir(ALICE)).unwrap().mode() & 0o777,
        0o750,
        "app dir mode"
    );
}

// ------------------------------------------------------------------------------------------
// Environment
// ------------------------------------------------------------------------------------------

const POISON: &[(&str, &str)] = &[
    ("LD_PRELOAD", "/nonexistent/evil.so"),
    ("LD_LIBRARY_PATH", "/tmp/evil"),
    ("LD_AUDIT", "/tmp/evil.so"),
    ("GLIBC_TUNABLES", "glibc.malloc.check=3"),
    ("MALLOC_CHECK_", "3"),
    ("GCONV_PATH", "/tmp/evil"),
    ("BASH_ENV", "/tmp/evil.sh"),
    ("ENV", "/tmp/evil.sh"),
    ("SHELLOPTS", "xtrace"),
    ("BASH_FUNC_ls%%", "() {  echo evil; }"),
    ("NLSPATH", "/tmp/%N"),
    ("TMPDIR", "/tmp/evil"),
    ("HADOOP_CONF_DIR", "/etc/hadoop-test"),
    ("JAVA_HOME", "/usr/lib/jvm/test"),
];

#[track_caller]
fn assert_env_filtered(env_dump: &str, context: &str) {
    for (k, _) in POISON.iter().take(12) {
        assert!(
            !env_dump.contains(&format!("{k}=")),
            "{k} reached the child:\n{env_dump}{context}"
        );
    }
    assert!(
        env_dump.contains("HADOOP_CONF_DIR=/etc/hadoop-test")
            && env_dump.contains("JAVA_HOME=/usr/lib/jvm/test"),
        "the NodeManager's ordinary variables must reach the child:\n{env_dump}{context}"
    );
}

fn localizer_env(root: bool, name: &str) {
    let Some(node) = Node::new(name) else {
        return;
    };
    let cid = hardening::fresh_cid();
    let tokens = node.private_dir(&cid).join(format!("{cid}.tokens"));
    node.nm_file(&tokens, "t\n", 0o600);
    if root {
        // Root as the caller is the "NodeManager": its local and log roots are root's.
        node.roots_owned_by(0);
    }
    let caller = Caller {
        env: POISON,
        root,
        ..Default::default()
    };
    let dump = "/usr/bin/env > env.txt";
    let out = node.run(&caller, &initialize_argv(&node, ALICE, &cid, &tokens, dump));
    out.assert_code(0);
    let env_file = node.app_dir(ALICE).join("env.txt");
    assert!(
        is_file(&env_file),
        "localizer did not run{}",
        out.describe()
    );
    assert_env_filtered(&read(&env_file), &out.describe());
}

#[test]
fn attack_poisoned_environment_does_not_reach_the_localizer() {
    localizer_env(false, "hh_env_init");
}

#[test]
fn attack_poisoned_environment_from_root_does_not_reach_the_localizer() {
    // A root caller gets no AT_SECURE from the kernel, so glibc strips nothing: we must.
    localizer_env(true, "hh_env_init_root");
}

#[test]
fn attack_poisoned_environment_does_not_reach_the_container() {
    let Some(node) = Node::new("hh_env_launch") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\n/usr/bin/env > env.txt\n");
    node.roots_owned_by(0);
    let caller = Caller {
        env: POISON,
        root: true,
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    out.assert_code(0);
    // The container gets none of the caller's environment, ordinary variables included (issue 14
    // item 7: what it sees is what its launch script sets); the localizer keeps them (above).
    let dump = read(&c.work_dir.join("env.txt"));
    for (k, _) in POISON {
        assert!(
            !dump.contains(&format!("{k}=")),
            "{k} reached the container:\n{dump}{}",
            out.describe()
        );
    }
}

#[test]
fn attack_nproc_hard_limit_with_user_at_the_limit_fails_only_the_final_exec() {
    let Some(node) = Node::new("hh_nproc_hard") else {
        return;
    };
    // alice already runs a process, and the caller's hard limit is 1. Whether the kernel then
    // refuses the exec of the script after the drop depends on its RLIMIT_NPROC accounting
    // (PF_NPROC_EXCEEDED is only set when setuid runs without CAP_SYS_RESOURCE/CAP_SYS_ADMIN on
    // some kernels, so the outcome varies between runs and kernels). Either way the safe outcome
    // is the same: all privileged work is complete before the exec, and the result is reported
    // as Hadoop does: refused exec -> 7 with the script not run; exec allowed -> 0 and it ran.
    // Both with the pid and exit-code files written and no .tmp left.
    let sleeper = node.sb.spawn_sleeper(ALICE);
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho ran > ran.txt\n");
    let caller = Caller {
        prep: "ulimit -u 1",
        ..Default::default()
    };
    let out = node.run(&caller, &c.argv(&node));
    drop(sleeper);
    let ran = c.work_dir.join("ran.txt").exists();
    if out.code == 7 {
        out.assert_stderr_has("Couldn't execute the container launch file");
        assert!(!ran, "exit 7 but the script ran{}", out.describe());
    } else {
        out.assert_code(0);
        assert!(ran, "exit 0 but the script did not run{}", out.describe());
    }
    assert_launched(&node, &c, out.code);
    assert!(
        !Path::new(&format!("{}.tmp", c.pid_file.display())).exists(),
        "pid .tmp left behind"
    );
}
