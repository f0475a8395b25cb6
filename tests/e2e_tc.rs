//! End-to-end: traffic control against real `tc`, inside a private network namespace the test
//! makes (`unshare -n`), so the machine's own interfaces are never touched.

mod common;

use std::os::unix::fs::chown;
use std::path::Path;
use std::process::Command;

use common::{write_file, Sandbox, NM_GROUP, NM_USER};

/// Run the binary as the NM user inside a fresh network namespace; (code, stdout, stderr).
fn in_netns(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let bin = sb.bin();
    let out = Command::new("unshare")
        .args(["-n", "--", "setpriv"])
        .arg(format!("--reuid={NM_USER}"))
        .arg(format!("--regid={NM_GROUP}"))
        .args(["--init-groups", "/usr/bin/env", "-i"])
        .arg(&bin)
        .args(args)
        .current_dir("/")
        .output()
        .expect("run unshare");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tc_available() -> bool {
    Path::new("/sbin/tc").exists()
        && Command::new("unshare")
            .args(["-n", "true"])
            .status()
            .is_ok_and(|s| s.success())
}

fn command_file(sb: &Sandbox, name: &str, text: &str, mode: u32) -> String {
    let dir = sb.prefix().join("tc");
    std::fs::create_dir_all(&dir).unwrap();
    let nm = sb.users().nm.uid;
    chown(&dir, Some(nm), None).unwrap();
    let path = dir.join(name);
    write_file(&path, text, mode);
    chown(&path, Some(nm), None).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn tc_is_refused_with_32_while_disabled() {
    let Some(sb) = Sandbox::new("tc-disabled") else {
        return;
    };
    for mode in ["--tc-modify-state", "--tc-read-state", "--tc-read-stats"] {
        sb.run_as_nm(&[mode, "/nonexistent"])
            .assert_code(32)
            .assert_stderr_has("Feature disabled: traffic control");
    }
}

#[test]
fn tc_modify_read_state_and_stats_round_trip() {
    let Some(sb) = Sandbox::new("tc-roundtrip") else {
        return;
    };
    if !tc_available() {
        eprintln!("!!! SKIPPED tc_modify_read_state_and_stats_round_trip: no /sbin/tc or no unshare -n !!!");
        return;
    }
    sb.write_config_with(&[("feature.tc.enabled", Some("true"))]);
    // One namespace per invocation, so each file carries the whole sequence it needs.
    let modify = command_file(
        &sb,
        "m.cmds",
        "qdisc add dev lo root handle 42: htb default 2\n",
        0o644,
    );
    let (code, _, err) = in_netns(&sb, &["--tc-modify-state", &modify]);
    assert_eq!(code, 0, "{err}");
    let read = command_file(
        &sb,
        "r.cmds",
        "qdisc add dev lo root handle 42: htb default 2\nclass add dev lo parent 42: classid 42:3 htb rate 300mbit\nqdisc show dev lo\n",
        0o644,
    );
    let (code, out, err) = in_netns(&sb, &["--tc-read-state", &read]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("qdisc htb 42: root"), "{out}");
    let stats = command_file(
        &sb,
        "s.cmds",
        "qdisc add dev lo root handle 42: htb default 2\nclass add dev lo parent 42: classid 42:3 htb rate 300mbit\nclass show dev lo\n",
        0o644,
    );
    let (code, out, err) = in_netns(&sb, &["--tc-read-stats", &stats]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("class htb 42:3") && out.contains("Sent "),
        "{out}"
    );
}

#[test]
fn unsafe_or_failing_command_files_are_28() {
    let Some(sb) = Sandbox::new("tc-refused") else {
        return;
    };
    if !tc_available() {
        eprintln!(
            "!!! SKIPPED unsafe_or_failing_command_files_are_28: no /sbin/tc or no unshare -n !!!"
        );
        return;
    }
    sb.write_config_with(&[("feature.tc.enabled", Some("true"))]);
    let good = command_file(&sb, "good.cmds", "qdisc show dev lo\n", 0o644);
    let writable = command_file(&sb, "gw.cmds", "qdisc show dev lo\n", 0o664);
    let link = sb.prefix().join("tc/link.cmds");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let rootowned = sb.prefix().join("tc/root.cmds");
    write_file(&rootowned, "qdisc show dev lo\n", 0o644);
    let fifo = sb.prefix().join("tc/fifo.cmds");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    chown(&fifo, Some(sb.users().nm.uid), None).unwrap();
    let failing = command_file(&sb, "bad.cmds", "bogus command\n", 0o644);
    for file in [
        writable,
        link.to_string_lossy().into_owned(),
        rootowned.to_string_lossy().into_owned(),
        fifo.to_string_lossy().into_owned(),
        failing,
        "/nonexistent/x.cmds".to_string(),
    ] {
        let (code, out, err) = in_netns(&sb, &["--tc-modify-state", &file]);
        assert_eq!(code, 28, "{file}: {out} {err}");
        assert!(
            out.contains("failed to execute tc command!"),
            "{file}: {out}"
        );
    }
    let (code, _, err) = in_netns(&sb, &["--tc-read-state", &good]);
    assert_eq!(code, 0, "{err}");
}
