//! Hostile suite, hardening round two (issue 14, items 9, 10, 12, 13, 14): who delete runs as,
//! what tc may be told to do, output the NodeManager parses, a binary with a second name, and
//! a configuration that says two things.

mod common;
mod hostile_support;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{account, config_text, write_file, Sandbox, ALICE, NM_GROUP, NM_USER};
use hostile_support::*;

// ------------------------------------------------------------------------------------------
// Item 9: delete runs fully as the user
// ------------------------------------------------------------------------------------------

/// The ids a process holds: (uid real/effective/saved/fs, gid real/effective/saved/fs).
fn ids_of(pid: u32) -> Option<(Vec<u32>, Vec<u32>)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<Vec<u32>> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(
            line[name.len()..]
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect(),
        )
    };
    Some((field("Uid:")?, field("Gid:")?))
}

/// Processes running `bin` that hold a descriptor on `tree` or below it.
fn processes_inside(bin: &Path, tree: &Path) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if fs::read_link(format!("/proc/{pid}/exe")).ok().as_deref() != Some(bin) {
            continue;
        }
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let inside = fds
            .flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(tree)));
        if inside {
            found.push(pid);
        }
    }
    found
}

/// A tree big enough that deleting it takes a while: `dirs` directories of `files` files.
fn big_tree(node: &Node, top: &Path, dirs: usize, files: usize) {
    node.user_dir(top, ALICE, 0o750);
    for d in 0..dirs {
        let dir = top.join(format!("d{d:04}"));
        fs::create_dir(&dir).unwrap();
        for f in 0..files {
            fs::write(dir.join(format!("f{f:05}")), b"").unwrap();
        }
    }
    let uid = node.uid(ALICE);
    let gid = node.gid(ALICE);
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{gid}")])
        .arg(top)
        .status()
        .unwrap();
    assert!(status.success());
}

/// `<L1>/usercache/alice/appcache/<app>` as initialize leaves it.
fn alice_app_dir(node: &Node) -> PathBuf {
    let user = node.locals[0].join("usercache").join(ALICE);
    node.user_dir(&user, ALICE, 0o2750);
    node.user_dir(&user.join("appcache"), ALICE, 0o750);
    let app = user.join("appcache").join(APP);
    node.user_dir(&app, ALICE, 0o750);
    app
}

#[test]
fn attack_delete_keeps_root_saved_while_it_walks_the_users_tree() {
    // The process that walks and removes the user's files must hold only the user's ids: with
    // root in the saved uid, a bug (or a hostile file system) during the walk is one
    // setresuid away from root.
    let Some(node) = Node::new("r2_delete_ids") else {
        return;
    };
    let app = alice_app_dir(&node);
    let tree = app.join("big");
    big_tree(&node, &tree, 150, 200);
    let nm = account(NM_USER);
    let mut child = Command::new(SETPRIV)
        .arg(format!("--reuid={}", nm.uid))
        .arg(format!("--regid={}", nm.gid))
        .arg("--init-groups")
        .arg(node.sb.bin())
        .args([ALICE, ALICE, "3"])
        .arg(&tree)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (alice_uid, alice_gid) = (node.uid(ALICE), node.gid(ALICE));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = BTreeSet::new();
    let mut samples = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "delete did not finish");
        for pid in processes_inside(&node.sb.bin(), &tree) {
            if let Some((uids, gids)) = ids_of(pid) {
                samples += 1;
                seen.insert((pid, uids, gids));
            }
        }
    };
    assert!(status.success(), "delete failed: {status}");
    assert!(!tree.exists(), "the tree was not deleted");
    assert!(
        samples > 0,
        "never caught the deleting process at work (the tree was deleted too fast to sample)"
    );
    for (pid, uids, gids) in &seen {
        assert!(
            uids.iter().all(|u| *u == alice_uid) && gids.iter().all(|g| *g == alice_gid),
            "pid {pid} walked the user's tree with uids {uids:?} and gids {gids:?}; \
             every id must be the user's ({alice_uid}/{alice_gid})"
        );
    }
}

#[test]
fn control_base_dir_is_still_removed_as_the_nodemanager() {
    // Not an attack (passes before and after): the base-dir form still removes the emptied
    // base dir from its NM-owned parent, which the user cannot write, through the NM child.
    let Some(node) = Node::new("r2_delete_base") else {
        return;
    };
    let parent = node.locals[0].join("nm-owned-parent");
    node.user_dir(&parent, NM_USER, 0o755);
    let base = parent.join("base");
    node.user_dir(&base, ALICE, 0o750);
    write_file(&base.join("f"), "x", 0o640);
    node.own(&base.join("f"), ALICE);
    let out = node.sb.run_as_nm(&[ALICE, ALICE, "3", "", &s(&base)]);
    out.assert_code(0);
    assert!(!base.exists(), "base dir left behind{}", out.describe());
    // Refused as the user (no write permission on the parent) it would fail: check the
    // failure path keeps Hadoop's output too.
    let other = node.locals[0].join("user-owned-parent");
    node.user_dir(&other, NM_USER, 0o755);
    let kept = other.join("kept");
    node.user_dir(&kept, ALICE, 0o750);
    node.sb.chmod(&other, 0o555);
    let out = node.sb.run_as_nm(&[ALICE, ALICE, "3", "", &s(&kept)]);
    node.sb.chmod(&other, 0o755);
    out.assert_code(255)
        .assert_stdout_has("rmdir of")
        .assert_stderr_has("Nonzero exit code=-1");
    assert!(kept.exists());
}

// ------------------------------------------------------------------------------------------
// Item 10: tc does only what YARN asks
// ------------------------------------------------------------------------------------------

const DEV: &str = "cexec0";

/// In a fresh network namespace with `lo` and `cexec0`: run the binary as the NM on `file`
/// (`--tc-modify-state`), then show what tc state the namespace holds. None when the machine
/// cannot make such a namespace (a loud skip).
fn tc_in_netns(node: &Node, file: &Path) -> Option<TcRun> {
    if !Path::new("/sbin/tc").exists() {
        return None;
    }
    let nm = account(NM_USER);
    let script = format!(
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n\
         {{ ip link add {DEV} type dummy || ip link add {DEV} type veth peer name {DEV}p; }} >/dev/null 2>&1 || exit 97\n\
         ip link set {DEV} up || exit 97\n\
         ip link set lo up || exit 97\n\
         {SETPRIV} --reuid={} --regid={} --init-groups /usr/bin/env -i {} --tc-modify-state {}\n\
         echo \"rc=$?\"\n\
         tc qdisc show\n\
         tc filter show dev {DEV}\n",
        nm.uid,
        nm.gid,
        sq(&s(&node.sb.bin())),
        sq(&s(file)),
    );
    let out = run_argv(
        &os(&["/usr/bin/unshare", "-n", "--", "/bin/sh", "-c", &script]),
        &[],
    );
    if out.code == 97 {
        return None;
    }
    let stdout = format!("\n{}", out.stdout);
    let (said, state) = stdout.split_once("\nrc=").unwrap_or(("", ""));
    let (rc, state) = state.split_once('\n').unwrap_or((state, ""));
    Some(TcRun {
        rc: rc.trim().parse().unwrap_or(-1),
        state: state.to_string(),
        said: format!("{said}\n{}", out.stderr),
    })
}

/// What [`tc_in_netns`] saw: the binary's status, the namespace's tc state afterwards, and what
/// the binary printed.
struct TcRun {
    rc: i32,
    state: String,
    said: String,
}

fn skipped(what: &str) {
    let banner = "!".repeat(100);
    eprintln!("\n{banner}\n!!! SKIPPED {what}: no /sbin/tc or no network namespace with a device !!!\n{banner}");
    assert!(
        std::env::var(common::REQUIRE_ENV).is_err(),
        "{what} skipped while {} is set",
        common::REQUIRE_ENV
    );
}

#[test]
fn attack_tc_file_with_commands_yarn_never_writes() {
    // A member of the NM group writes the tc file: it may not turn root's tc into a tool for
    // anything YARN does not do (a bpf classifier, a second device, other parameters).
    let Some(node) = Node::new("r2_tc") else {
        return;
    };
    node.sb
        .write_config_with(&[("feature.tc.enabled", Some("true"))]);
    let dir = node.sb.prefix().join("tc");
    node.user_dir(&dir, NM_USER, 0o755);
    let root_qdisc = format!("qdisc add dev {DEV} root handle 42: htb default 2\n");
    let attacks = [
        (
            "bpf",
            format!(
                "{root_qdisc}filter add dev {DEV} parent 42: protocol ip prio 10 bpf bytecode '1,6 0 0 0,' classid 42:2\n"
            ),
        ),
        (
            "second-device",
            format!("{root_qdisc}qdisc add dev lo root handle 42: htb default 2\n"),
        ),
        (
            "other-default",
            format!("qdisc add dev {DEV} root handle 42: htb default 9\n"),
        ),
        (
            "replace-verb",
            format!("{root_qdisc}qdisc replace dev {DEV} root handle 42: htb default 3\n"),
        ),
        ("netem", format!("qdisc add dev {DEV} root netem delay 100ms loss 50%\n")),
    ];
    for (name, text) in attacks {
        let file = dir.join(format!("{name}.cmds"));
        node.nm_file(&file, &text, 0o644);
        let Some(run) = tc_in_netns(&node, &file) else {
            return skipped("attack_tc_file_with_commands_yarn_never_writes");
        };
        assert_eq!(run.rc, 28, "{name}: accepted:\n{}\n{}", run.said, run.state);
        assert!(run.said.contains("never writes"), "{name}: {}", run.said);
        assert!(
            !run.state.contains("htb")
                && !run.state.contains("bpf")
                && !run.state.contains("netem"),
            "{name}: tc ran although the file was refused:\n{}",
            run.state
        );
    }
    // Control: YARN's own bootstrap batch is applied (without its cgroup filter, whose
    // classifier this kernel may lack; the unit tests cover that line).
    let file = dir.join("yarn.cmds");
    node.nm_file(
        &file,
        &format!(
            "{root_qdisc}class add dev {DEV} parent 42:0 classid 42:1 htb rate 1000mbit ceil 1000mbit\n\
             class add dev {DEV} parent 42:1 classid 42:2 htb rate 300mbit ceil 1000mbit\n\
             class add dev {DEV} parent 42:1 classid 42:3 htb rate 700mbit ceil 700mbit\n"
        ),
        0o644,
    );
    let Some(run) = tc_in_netns(&node, &file) else {
        return skipped("attack_tc_file_with_commands_yarn_never_writes");
    };
    assert_eq!(run.rc, 0, "YARN's own batch refused:\n{}", run.said);
    assert!(
        run.state.contains(&format!("qdisc htb 42: dev {DEV} root")),
        "{}",
        run.state
    );
}

// ------------------------------------------------------------------------------------------
// Item 12: output the NodeManager parses cannot be forged
// ------------------------------------------------------------------------------------------

#[test]
fn attack_list_names_that_forge_or_garble_lines() {
    // The application user names files so that the NM's parse of list-as-user (one name per
    // line, `main :` lines skipped) or its logs are garbled.
    let Some(node) = Node::new("r2_list_names") else {
        return;
    };
    let app = alice_app_dir(&node);
    let dir = app.join("listed");
    node.user_dir(&dir, ALICE, 0o750);
    let hostile: [&[u8]; 6] = [
        b"tab\tmarker1",
        b"cr\rmarker2",
        b"esc\x1b[2Jmarker3",
        b"nl\n..",
        b"main : marker5",
        b"nel\xc2\x85marker6",
    ];
    for name in hostile {
        let path = dir.join(std::ffi::OsStr::from_bytes(name));
        write_file(&path, "", 0o640);
        node.own(&path, ALICE);
    }
    write_file(&dir.join("honest"), "", 0o640);
    let out = node.sb.run_as_nm(&[ALICE, ALICE, "5", &s(&dir)]);
    out.assert_code(0);
    let listed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("main : command provided"))
        .filter(|l| !l.starts_with("main : run as user is"))
        .filter(|l| !l.starts_with("main : requested yarn user is"))
        .collect();
    assert_eq!(listed, ["honest"], "{}", out.describe());
    for marker in ["marker1", "marker2", "marker3", "marker5", "marker6"] {
        out.assert_stderr_has(marker);
    }
    out.assert_stderr_has("Left out of the listing");
}

#[test]
fn attack_yarn_user_argument_with_control_bytes_or_slashes() {
    // `<yarn-user>` is carried by signal, delete and list without use; it still has to be a
    // user name, not a second line or a path.
    let Some(node) = Node::new("r2_yarn_user") else {
        return;
    };
    let app = alice_app_dir(&node);
    let victim = app.join("victim");
    node.user_dir(&victim, ALICE, 0o750);
    for yarn_user in ["x\nmain : forged", "../../etc", "a b", "-rf", "tab\tx"] {
        let out = node.sb.run_as_nm(&[ALICE, yarn_user, "3", &s(&victim)]);
        out.assert_code(255)
            .assert_stdout_has("Invalid yarn user name");
        assert!(victim.exists(), "delete ran for yarn user {yarn_user:?}");
        let out = node.sb.run_as_nm(&[ALICE, yarn_user, "5", &s(&app)]);
        out.assert_code(255)
            .assert_stdout_has("Invalid yarn user name")
            .assert_stdout_lacks("victim");
        assert!(
            !out.stdout.lines().any(|l| l == "main : forged"),
            "forged line{}",
            out.describe()
        );
    }
}

// ------------------------------------------------------------------------------------------
// Item 13: one binary, one install
// ------------------------------------------------------------------------------------------

#[test]
fn attack_second_hard_link_of_the_binary() {
    // A second name of the setuid binary (left by a careless upgrade, or made by anyone who can
    // write on the same file system) survives the real one's replacement and reads the
    // configuration next to itself.
    let Some(sb) = Sandbox::new("r2_hardlink") else {
        return;
    };
    let link = sb.bin_dir().join("container-executor.old");
    fs::hard_link(sb.bin(), &link).unwrap();
    let out = sb.run_as_nm(&["--checksetup"]);
    out.assert_code(22)
        .assert_stderr_has("has 2 hard links")
        .assert_stderr_has(&format!("find / -xdev -samefile {}", sb.bin().display()));
    let out = sb.run_as_nm(&[ALICE, ALICE, "5", "/"]);
    out.assert_code(22)
        .assert_stdout_lacks("main :")
        .assert_stderr_has("refusing to run");
    let out = sb.run_as_nm(&["--checksetup", "--verbose"]);
    out.assert_code(22)
        .assert_stdout_has("[FAIL] hard links of the binary")
        .assert_stdout_has(&format!("-xdev -samefile {}", sb.bin().display()));
    fs::remove_file(&link).unwrap();
    sb.run_as_nm(&["--checksetup"]).assert_code(0);
}

// ------------------------------------------------------------------------------------------
// Item 14: no ambiguous configuration
// ------------------------------------------------------------------------------------------

#[test]
fn attack_security_keys_given_twice() {
    // The first value wins in Hadoop; a reviewer (or a script) reading the last one sees a
    // different policy. Every such file is refused, naming the key and both lines.
    let Some(sb) = Sandbox::new("r2_dup_keys") else {
        return;
    };
    let base = config_text(&[]);
    let base_lines = base.lines().count();
    let cases: Vec<(&str, String)> = vec![
        ("min.user.id", "min.user.id=0\n".into()),
        ("banned.users", "banned.users=\n banned.users = nobody\n".into()),
        (
            "yarn.nodemanager.linux-container-executor.group",
            format!("yarn.nodemanager.linux-container-executor.group={NM_GROUP}\n"),
        ),
        (
            "allowed.system.users",
            "allowed.system.users=cexec_sys\nallowed.system.users=bin\n".into(),
        ),
        (
            "feature.tc.enabled",
            "feature.tc.enabled=false\nfeature.tc.enabled=true\n".into(),
        ),
        (
            "yarn.nodemanager.linux-container-executor.nm-user",
            format!(
                "yarn.nodemanager.linux-container-executor.nm-user={NM_USER}\n\
                 yarn.nodemanager.linux-container-executor.nm-user={NM_USER}\n"
            ),
        ),
        (
            "gpu.allowed-device-minor-numbers",
            "[gpu]\nmodule.enabled=true\ngpu.allowed-device-minor-numbers=0\n[devices]\n[gpu]\ngpu.allowed-device-minor-numbers=0,1,2\n".into(),
        ),
        (
            "module.enabled",
            "[devices]\nmodule.enabled=false\nmodule.enabled=true\n".into(),
        ),
        ("root", "[cgroups]\nroot=/sys/fs/cgroup\nroot=/tmp\n".into()),
        (
            "yarn-hierarchy",
            "[cgroups]\nyarn-hierarchy=hadoop-yarn\nyarn-hierarchy=..\n".into(),
        ),
    ];
    for (key, extra) in cases {
        let text = format!("{base}{extra}");
        sb.write_config(&text);
        let out = sb.run_as_nm(&["--checksetup"]);
        out.assert_code(24)
            .assert_stderr_has(&format!("duplicate key '{key}'"))
            .assert_stderr_has("and again on line");
        // Both line numbers are the real ones.
        let lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.split('=').next().map(str::trim) == Some(key))
            .map(|(i, _)| i + 1)
            .filter(|n| {
                // `banned.users=` stores nothing and does not count.
                !(key == "banned.users" && *n == base_lines + 1)
            })
            .collect();
        assert!(lines.len() >= 2, "{key}: {lines:?}");
        out.assert_stderr_has(&format!(
            "set on line {} and again on line {}",
            lines[0], lines[1]
        ));
    }
    // Control: the same key in two sections, or a harmless key twice, is fine.
    sb.write_config(&format!("{base}k=1\nk=2\n[x]\nmin.user.id=7\n"));
    sb.run_as_nm(&["--checksetup"]).assert_code(0);
}
