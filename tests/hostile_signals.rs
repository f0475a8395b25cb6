//! Hostile suite: pid and signal abuse through signal-container (2). The NodeManager may only
//! make the binary signal a process group the run-as user could signal itself; pid 1, 0, -1,
//! negative pgids, root's and other users' processes, numbers that overflow into a real pid and
//! out-of-range signal numbers must all leave every process alive.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::{Sandbox, Spawned, ALICE, BOB};

struct Victims {
    alice: Spawned,
    bob: Spawned,
}

fn victims(sb: &Sandbox) -> Victims {
    Victims {
        alice: sb.spawn_sleeper(ALICE),
        bob: sb.spawn_sleeper(BOB),
    }
}

impl Victims {
    #[track_caller]
    fn assert_alive(&mut self, context: &str) {
        assert!(self.alice.is_running(), "alice's process died: {context}");
        assert!(self.bob.is_running(), "bob's process died: {context}");
    }
}

fn signal(sb: &Sandbox, user: &str, pid: &str, sig: &str) -> common::Outcome {
    sb.run_as_nm(&[user, user, "2", pid, sig])
}

#[test]
fn attack_signal_pid_1() {
    // kill(-1, 9) as alice would kill every process alice owns.
    let Some(sb) = Sandbox::new("h_sig_pid1") else {
        return;
    };
    let mut v = victims(&sb);
    let out = signal(&sb, ALICE, "1", "9");
    out.assert_code(9);
    v.assert_alive(&out.describe());
}

#[test]
fn attack_signal_pid_0() {
    // kill(0, …) is the caller's own process group.
    let Some(sb) = Sandbox::new("h_sig_pid0") else {
        return;
    };
    let mut v = victims(&sb);
    let out = signal(&sb, ALICE, "0", "9");
    out.assert_code(9);
    v.assert_alive(&out.describe());
    // Not canonical decimal (issue 14): refused while argv is read.
    for pid in ["+0", "-0", "00"] {
        let out = signal(&sb, ALICE, pid, "9");
        out.assert_code(1);
        v.assert_alive(&out.describe());
    }
}

#[test]
fn attack_signal_pid_minus_1() {
    let Some(sb) = Sandbox::new("h_sig_minus1") else {
        return;
    };
    let mut v = victims(&sb);
    // A sign is not canonical decimal (issue 14): 1 while argv is read (was 9, pid <= 1).
    let out = signal(&sb, ALICE, "-1", "9");
    out.assert_code(1);
    v.assert_alive(&out.describe());
}

#[test]
fn attack_signal_negative_pgid() {
    // "-<pgid>" would become kill(+pgid): a single process instead of a group, or (for the
    // binary's own negation) a different target than the NM asked for.
    let Some(sb) = Sandbox::new("h_sig_negpgid") else {
        return;
    };
    let mut v = victims(&sb);
    let target = format!("-{}", v.alice.pid());
    let out = signal(&sb, ALICE, &target, "9");
    // A sign is not canonical decimal (issue 14): 1 while argv is read.
    out.assert_code(1);
    v.assert_alive(&out.describe());
}

#[test]
fn attack_signal_a_root_process_group() {
    let Some(sb) = Sandbox::new("h_sig_root") else {
        return;
    };
    let mut root = common::spawn(
        Command::new("/bin/sleep")
            .arg("120")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0),
    )
    .unwrap();
    let pid = root.id().to_string();
    let out = signal(&sb, ALICE, &pid, "9");
    let alive = matches!(root.try_wait(), Ok(None));
    let _ = root.kill();
    let _ = root.wait();
    // kill(-pgid, 0) as alice fails (EPERM): "no such group" for her, as in Hadoop.
    out.assert_code(9);
    assert!(alive, "root's process was killed{}", out.describe());
}

#[test]
fn attack_signal_another_users_process_group() {
    let Some(sb) = Sandbox::new("h_sig_other") else {
        return;
    };
    let mut v = victims(&sb);
    let out = signal(&sb, ALICE, &v.bob.pid_arg(), "9");
    out.assert_code(9);
    v.assert_alive(&out.describe());
    // Also the NM's own processes are not alice's to signal.
    let mut nm = sb.spawn_sleeper(common::NM_USER);
    let out = signal(&sb, ALICE, &nm.pid_arg(), "9");
    out.assert_code(9);
    assert!(nm.is_running(), "the NM's process died{}", out.describe());
}

#[test]
fn attack_signal_pid_that_overflows_into_a_real_pid() {
    // atoi/strtol-to-int truncation would turn 2^32 + pid into pid.
    let Some(sb) = Sandbox::new("h_sig_overflow") else {
        return;
    };
    let mut v = victims(&sb);
    let pid = u64::from(v.alice.pid());
    for word in [
        (pid + (1u64 << 32)).to_string(),
        (pid + (1u64 << 33)).to_string(),
        format!("{pid}abc"),
        format!("{pid} "),
        format!("{pid}\n"),
        format!("0x{pid:x}"),
        format!("{pid}.0"),
        "99999999999999999999999999".to_string(),
        "-2147483649".to_string(),
        "".to_string(),
        "pid".to_string(),
    ] {
        let out = signal(&sb, ALICE, &word, "9");
        out.assert_code(1).assert_stdout_lacks("Killing");
        v.assert_alive(&out.describe());
    }
}

#[test]
fn attack_signal_numbers_out_of_range() {
    // The user's own container group, with signal numbers the kernel rejects or that wrap.
    let Some(sb) = Sandbox::new("h_sig_numbers") else {
        return;
    };
    let mut v = victims(&sb);
    let pid = v.alice.pid_arg();
    // Canonical numbers the kernel rejects: 8, as in Hadoop; a sign is refused while argv is
    // read (issue 14: canonical decimal).
    for (sig, code) in [
        ("65", 8),
        ("1000", 8),
        ("-9", 1),
        ("-1", 1),
        ("2147483647", 8),
    ] {
        let out = signal(&sb, ALICE, &pid, sig);
        out.assert_code(code);
        v.assert_alive(&out.describe());
    }
    let wraps_to_kill = ((1u64 << 32) + 9).to_string();
    for sig in [
        wraps_to_kill.as_str(),
        "9x",
        "",
        "SIGKILL",
        "KILL",
        "0x9",
        "9.0",
        "99999999999999999999",
    ] {
        let out = signal(&sb, ALICE, &pid, sig);
        out.assert_code(1).assert_stdout_lacks("Killing");
        v.assert_alive(&out.describe());
    }
    // The control: the same group with a real signal is signalled.
    let out = signal(&sb, ALICE, &pid, "9");
    out.assert_code(0);
    assert!(
        v.alice
            .wait_for_exit(std::time::Duration::from_secs(10))
            .is_some(),
        "control: alice's group was not killed{}",
        out.describe()
    );
    assert!(v.bob.is_running());
}
