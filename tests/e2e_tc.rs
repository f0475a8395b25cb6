//! End-to-end: traffic control against real `tc`, inside a private network namespace the test
//! makes (`unshare -n`), so the machine's own interfaces are never touched.

mod common;

use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{write_file, Sandbox, ALICE, NM_GROUP, NM_USER};

/// The device the tests create in each fresh network namespace.
const DEV: &str = "cexec0";

/// Shell prelude run as root inside the new namespace: make `cexec0` (a dummy device, or one end
/// of a veth pair where the kernel has no dummy driver) and bring it up; 97 if impossible.
fn netns_prelude() -> String {
    format!(
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n\
         {{ ip link add {DEV} type dummy || ip link add {DEV} type veth peer name {DEV}p; }} >/dev/null 2>&1 || exit 97\n\
         ip link set {DEV} up || exit 97\n"
    )
}

/// Run the binary as the NM user inside a fresh network namespace that has only `lo` and the
/// test's own `cexec0`; (code, stdout, stderr).
fn in_netns(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let script = format!(
        "{}exec setpriv --reuid={NM_USER} --regid={NM_GROUP} --init-groups /usr/bin/env -i \"$@\"\n",
        netns_prelude()
    );
    let out = common::output(
        Command::new("unshare")
            .args(["-n", "--", "sh", "-c", &script, "sh"])
            .arg(sb.bin())
            .args(args)
            .current_dir("/"),
    )
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
            .args(["-n", "sh", "-c", &netns_prelude()])
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
        eprintln!("!!! SKIPPED tc_modify_read_state_and_stats_round_trip: no /sbin/tc, no unshare -n or no device for the namespace !!!");
        return;
    }
    sb.write_config_with(&[("feature.tc.enabled", Some("true"))]);
    // One namespace per invocation, so each file carries the whole sequence it needs, in the
    // forms YARN's TrafficController writes (the only ones accepted).
    let modify = command_file(
        &sb,
        "m.cmds",
        "qdisc add dev cexec0 root handle 42: htb default 2\n",
        0o644,
    );
    let (code, _, err) = in_netns(&sb, &["--tc-modify-state", &modify]);
    assert_eq!(code, 0, "{err}");
    let read = command_file(
        &sb,
        "r.cmds",
        "qdisc add dev cexec0 root handle 42: htb default 2\nclass add dev cexec0 parent 42:0 classid 42:1 htb rate 1000mbit ceil 1000mbit\nclass add dev cexec0 parent 42:1 classid 42:3 htb rate 700mbit ceil 1000mbit\nqdisc show dev cexec0\n",
        0o644,
    );
    let (code, out, err) = in_netns(&sb, &["--tc-read-state", &read]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("qdisc htb 42: root"), "{out}");
    let stats = command_file(
        &sb,
        "s.cmds",
        "qdisc add dev cexec0 root handle 42: htb default 2\nclass add dev cexec0 parent 42:0 classid 42:1 htb rate 1000mbit ceil 1000mbit\nclass add dev cexec0 parent 42:1 classid 42:3 htb rate 700mbit ceil 1000mbit\nclass show dev cexec0\n",
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
            "!!! SKIPPED unsafe_or_failing_command_files_are_28: no /sbin/tc, no unshare -n or no device for the namespace !!!"
        );
        return;
    }
    sb.write_config_with(&[("feature.tc.enabled", Some("true"))]);
    let good = command_file(&sb, "good.cmds", "qdisc show dev cexec0\n", 0o644);
    let writable = command_file(&sb, "gw.cmds", "qdisc show dev cexec0\n", 0o664);
    let link = sb.prefix().join("tc/link.cmds");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let rootowned = sb.prefix().join("tc/root.cmds");
    write_file(&rootowned, "qdisc show dev cexec0\n", 0o644);
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

/// A container launch (command 1) with the optional tc file, the whole invocation inside a fresh
/// network namespace. Returns (code, stdout, stderr, work dir).
fn launch_with_tc(sb: &Sandbox, tc_file: &str, cid: &str) -> (i32, String, String, PathBuf) {
    const APP: &str = "application_1700000000000_0001";
    let local = sb.nm_local_dirs(1).remove(0);
    let log = sb.nm_log_dirs(1).remove(0);
    let nm = sb.users().nm.uid;
    let private = local.join("nmPrivate").join(APP).join(cid);
    std::fs::create_dir_all(&private).unwrap();
    for d in [private.parent().unwrap(), private.as_path()] {
        chown(d, Some(nm), None).unwrap();
    }
    let script = private.join("launch_container.sh");
    // The container records what tc state it found (it runs as the user, in the namespace).
    write_file(
        &script,
        "#!/bin/sh\n/sbin/tc qdisc show dev cexec0 > qdisc.txt\n",
        0o700,
    );
    let tokens = private.join("c.tokens");
    write_file(&tokens, "t\n", 0o600);
    for f in [&script, &tokens] {
        chown(f, Some(nm), None).unwrap();
    }
    let work = local
        .join("usercache")
        .join(ALICE)
        .join("appcache")
        .join(APP)
        .join(cid);
    let argv = [
        ALICE,
        ALICE,
        "1",
        APP,
        cid,
        &work.display().to_string(),
        &script.display().to_string(),
        &tokens.display().to_string(),
        "--http",
        &private.join("c.pid").display().to_string(),
        &local.display().to_string(),
        &log.display().to_string(),
        "cgroups=none",
        tc_file,
    ]
    .map(|s| s.to_string());
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (code, out, err) = in_netns(sb, &args);
    (code, out, err, work)
}

#[test]
fn launch_applies_its_tc_file_first_and_refuses_an_unsafe_one() {
    let Some(sb) = Sandbox::new("tc-launch") else {
        return;
    };
    if !tc_available() {
        eprintln!("!!! SKIPPED launch_applies_its_tc_file_first...: no /sbin/tc, no unshare -n or no device for the namespace !!!");
        return;
    }
    // Disabled: the tc argument is refused with 32 before anything happens.
    let good = command_file(
        &sb,
        "launch.cmds",
        "qdisc add dev cexec0 root handle 42: htb default 2\n",
        0o644,
    );
    let (code, _, err, work) = launch_with_tc(&sb, &good, "container_1700000000000_0001_01_000002");
    assert_eq!(code, 32, "{err}");
    assert!(!work.exists());
    sb.write_config_with(&[("feature.tc.enabled", Some("true"))]);
    // Group-writable: 28, and the container is never started (no work dir).
    let unsafe_file = command_file(
        &sb,
        "bad-mode.cmds",
        "qdisc add dev cexec0 root handle 42: htb default 2\n",
        0o664,
    );
    let (code, out, err, work) =
        launch_with_tc(&sb, &unsafe_file, "container_1700000000000_0001_01_000003");
    assert_eq!(code, 28, "{out} {err}");
    assert!(!work.exists(), "container started after a refused tc file");
    // A good file: tc runs before the container, which sees the qdisc in its namespace.
    let (code, out, err, work) =
        launch_with_tc(&sb, &good, "container_1700000000000_0001_01_000004");
    assert_eq!(code, 0, "{out} {err}");
    let seen = common::read(&work.join("qdisc.txt"));
    assert!(seen.contains("qdisc htb 42: root"), "{seen}");
}
