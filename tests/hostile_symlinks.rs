//! Hostile suite: symlinks, hard links and races on every directory and file the binary
//! creates, chowns or writes. Links are planted where the NodeManager or the application user
//! can write, pointing at a root-owned victim (an /etc look-alike inside the sandbox), and
//! swapped in and out (RENAME_EXCHANGE) while the binary works. The victim's every entry —
//! owner, mode, content — must come out unchanged.

mod common;
mod hostile_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::{renameat2, RenameFlags};

use common::{Outcome, ALICE, NM_USER};
use hostile_support::*;

fn init(node: &Node, cid: &str) -> Outcome {
    let tokens = node.tokens(cid);
    node.run_nm(&node.init_argv(ALICE, cid, &tokens, &["/bin/true"]))
}

/// A symlink at `at` to `to`, owned (lchown) by `owner`.
fn plant_link(node: &Node, at: &Path, to: &Path, owner: &str) {
    let _ = fs::remove_dir_all(at);
    let _ = fs::remove_file(at);
    symlink(to, at).unwrap_or_else(|e| panic!("symlink {}: {e}", at.display()));
    node.own(at, owner);
}

#[test]
fn attack_usercache_user_dir_is_a_symlink_to_a_root_dir() {
    let Some(node) = Node::new("h_sl_userdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "userdir");
    for local in &node.locals {
        plant_link(
            &node,
            &local.join("usercache").join(ALICE),
            &victim.dir,
            NM_USER,
        );
    }
    let out = init(&node, &fresh_cid());
    out.assert_code(20);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_usercache_is_a_symlink_to_a_root_dir() {
    let Some(node) = Node::new("h_sl_usercache") else {
        return;
    };
    let victim = Victim::new(&node.sb, "usercache");
    // The NM has a directory "usercache" in the victim's place: alice's dir would go there.
    for local in &node.locals {
        plant_link(&node, &local.join("usercache"), &victim.dir, NM_USER);
    }
    let out = init(&node, &fresh_cid());
    out.assert_code(20);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_app_log_dir_is_a_symlink_to_a_root_dir() {
    let Some(node) = Node::new("h_sl_applog") else {
        return;
    };
    let victim = Victim::new(&node.sb, "applog");
    for log in &node.logs {
        plant_link(&node, &log.join(APP), &victim.dir, NM_USER);
    }
    let out = init(&node, &fresh_cid());
    out.assert_code(255);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_container_log_dir_is_a_symlink_planted_by_the_user() {
    // After a first container, alice owns <G>/<app>; she plants <G>/<app>/<next cid> -> victim
    // before the NM initializes her next container (which chowns that dir as root).
    let Some(node) = Node::new("h_sl_ctrlog") else {
        return;
    };
    let victim = Victim::new(&node.sb, "ctrlog");
    init(&node, &fresh_cid()).assert_code(0);
    let cid = fresh_cid();
    for log in &node.logs {
        plant_link(&node, &log.join(APP).join(&cid), &victim.dir, ALICE);
    }
    let out = init(&node, &cid);
    out.assert_code(255);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_hard_links_to_root_files_where_dirs_are_chowned() {
    // A hard link to a root-owned file under a name the binary mkdirs and chowns as root (the
    // user dir, the app log dir, the container log dir). protected_hardlinks may stop the
    // attacker from making one; the binary must not depend on it (root plants them here).
    let Some(node) = Node::new("h_hl_chown") else {
        return;
    };
    let victim = Victim::new(&node.sb, "hardlink");
    let cid = fresh_cid();
    fs::hard_link(&victim.public, node.locals[0].join("usercache").join(ALICE)).unwrap();
    let out = init(&node, &cid);
    out.assert_code(20);
    victim.assert_intact(&out.describe());
    fs::remove_file(node.locals[0].join("usercache").join(ALICE)).unwrap();

    fs::hard_link(&victim.secret, node.logs[0].join(APP)).unwrap();
    let out = init(&node, &fresh_cid());
    out.assert_code(255);
    victim.assert_intact(&out.describe());
    fs::remove_file(node.logs[0].join(APP)).unwrap();

    init(&node, &fresh_cid()).assert_code(0);
    let cid = fresh_cid();
    fs::hard_link(&victim.secret, node.logs[1].join(APP).join(&cid)).unwrap();
    let out = init(&node, &cid);
    out.assert_code(255);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_app_dir_is_a_symlink_planted_by_the_user() {
    let Some(node) = Node::new("h_sl_appdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "appdir");
    init(&node, &fresh_cid()).assert_code(0); // alice's user dirs exist now
    for local in &node.locals {
        let app = node.app_dir(local, ALICE, APP);
        plant_link(&node, &app, &victim.dir, ALICE);
    }
    let out = init(&node, &fresh_cid());
    assert_ne!(out.code, 0, "{}", out.describe());
    victim.assert_intact(&out.describe());
    // The same for a launch, and for appcache itself.
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho pwned > pwned\n");
    let out = c.launch(&node);
    assert_ne!(out.code, 0, "{}", out.describe());
    for local in &node.locals {
        plant_link(
            &node,
            &local.join("usercache").join(ALICE).join("appcache"),
            &victim.dir,
            ALICE,
        );
    }
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho pwned > pwned\n");
    let out2 = c.launch(&node);
    assert_ne!(out2.code, 0, "{}", out2.describe());
    victim.assert_intact(&format!("{}{}", out.describe(), out2.describe()));
}

#[test]
fn attack_container_dir_is_a_symlink_planted_by_the_user() {
    let Some(node) = Node::new("h_sl_ctrdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "ctrdir");
    init(&node, &fresh_cid()).assert_code(0);
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho pwned > pwned\nexit 0\n");
    for local in &node.locals {
        plant_link(
            &node,
            &node.app_dir(local, ALICE, APP).join(&c.cid),
            &victim.dir,
            ALICE,
        );
    }
    let out = c.launch(&node);
    out.assert_code(35);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_work_dir_argument_points_outside() {
    // The NM names the work dir; it must be the container dir the binary just made.
    let Some(node) = Node::new("h_workdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "workdir");
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho pwned > pwned\nexit 0\n");
    let link = node.locals[0].join("wd-link");
    plant_link(&node, &link, &victim.dir, NM_USER);
    let alice_home = node.sb.prefix().join("alice-home");
    node.user_dir(&alice_home, ALICE, 0o755);
    let home = Frozen::new(&alice_home);
    for wd in [
        s(&victim.dir),
        s(&link),
        s(&alice_home),
        "relative/dir".into(),
    ] {
        let mut argv = c.argv(&node);
        argv[5] = wd;
        let out = node.run_nm(&argv);
        out.assert_code(35);
        victim.assert_intact(&out.describe());
        home.assert_unchanged(&out.describe());
    }
}

/// Make alice's container work dir for `c` in advance (as she can, owning appcache) and plant
/// `name` in it as a symlink to `target` (or a hard link when `hard`).
fn plant_in_work_dir(node: &Node, c: &Container, name: &str, target: &Path, hard: bool) {
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    fs::create_dir_all(&c.work_dir).unwrap();
    for d in [&app, &c.work_dir] {
        node.own(d, ALICE);
    }
    node.sb.chmod(&c.work_dir, 0o710);
    let at = c.work_dir.join(name);
    if hard {
        fs::hard_link(target, &at).unwrap();
    } else {
        plant_link(node, &at, target, ALICE);
    }
}

#[test]
fn attack_copy_targets_are_symlinks_to_root_files() {
    let Some(node) = Node::new("h_sl_copies") else {
        return;
    };
    let victim = Victim::new(&node.sb, "copies");
    init(&node, &fresh_cid()).assert_code(0);
    for (name, code) in [("launch_container.sh", 33), ("container_tokens", 34)] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        plant_in_work_dir(&node, &c, name, &victim.public, false);
        let out = c.launch(&node);
        out.assert_code(code);
        victim.assert_intact(&out.describe());
    }
}

#[test]
fn attack_copy_targets_are_hard_links_to_root_files() {
    let Some(node) = Node::new("h_hl_copies") else {
        return;
    };
    let victim = Victim::new(&node.sb, "hlcopies");
    init(&node, &fresh_cid()).assert_code(0);
    for (name, code) in [("launch_container.sh", 33), ("container_tokens", 34)] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        plant_in_work_dir(&node, &c, name, &victim.public, true);
        let out = c.launch(&node);
        out.assert_code(code);
        victim.assert_intact(&out.describe());
    }
}

#[test]
fn attack_keystore_targets_are_links_to_root_files() {
    let Some(node) = Node::new("h_sl_stores") else {
        return;
    };
    let victim = Victim::new(&node.sb, "stores");
    init(&node, &fresh_cid()).assert_code(0);
    for (name, code, hard) in [
        ("yarn_provided.keystore", 45, false),
        ("yarn_provided.truststore", 46, false),
        ("yarn_provided.keystore", 45, true),
    ] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        let private = c.script.parent().unwrap().to_path_buf();
        let ks = private.join("keystore");
        let ts = private.join("truststore");
        node.nm_file(&ks, "KEYSTORE", 0o600);
        node.nm_file(&ts, "TRUSTSTORE", 0o600);
        plant_in_work_dir(&node, &c, name, &victim.public, hard);
        let mut argv = c.argv(&node);
        argv[8] = "--https".into();
        argv.insert(9, s(&ks));
        argv.insert(10, s(&ts));
        let out = node.run_nm(&argv);
        out.assert_code(code);
        victim.assert_intact(&out.describe());
    }
}

#[test]
fn attack_initialize_token_copy_name_planted() {
    // initialize copies the tokens under their own file name into the app dir, as the user.
    let Some(node) = Node::new("h_sl_tokcopy") else {
        return;
    };
    let victim = Victim::new(&node.sb, "tokcopy");
    init(&node, &fresh_cid()).assert_code(0);
    let cid = fresh_cid();
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    plant_link(
        &node,
        &app.join(format!("{cid}.tokens")),
        &victim.public,
        ALICE,
    );
    let out = init(&node, &cid);
    out.assert_code(255);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_nm_inputs_are_root_only_files() {
    // The NM names /etc/shadow-like files as tokens, script and stores: they are opened with the
    // NM's identity, so root's right to read them never helps, and no copy appears anywhere.
    let Some(node) = Node::new("h_inputs_secret") else {
        return;
    };
    let victim = Victim::new(&node.sb, "inputs");
    let link = node.locals[0].join("nmPrivate").join("shadow-link");
    plant_link(&node, &link, &victim.secret, NM_USER);
    // Outside nmPrivate: refused by its path (issue 14); the link below nmPrivate: by the
    // O_NOFOLLOW open as the NM.
    for (tokens, why) in [
        (&victim.secret, "is not below <local dir>/nmPrivate/"),
        (&link, "as node manager"),
    ] {
        let argv = node.init_argv(ALICE, &fresh_cid(), tokens, &["/bin/true"]);
        let out = node.run_nm(&argv);
        assert_ne!(out.code, 0, "{}", out.describe());
        out.assert_stdout_has(why);
    }
    for idx in [6, 7] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        let mut argv = c.argv(&node);
        argv[idx] = s(&link);
        node.run_nm(&argv).assert_code(5);
    }
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    let mut argv = c.argv(&node);
    argv[8] = "--https".into();
    argv.insert(9, s(&victim.secret));
    argv.insert(10, s(&victim.secret));
    node.run_nm(&argv).assert_code(5);
    victim.assert_intact("");
    for (path, st) in snapshot(&node.sb.prefix().join("nm-local"))
        .into_iter()
        .chain(snapshot(&node.sb.prefix().join("nm-log")))
    {
        assert!(
            !String::from_utf8_lossy(&st.content).contains(SECRET_TEXT.trim()),
            "the secret was copied to {}",
            path.display()
        );
    }
}

#[test]
fn attack_pid_and_exitcode_files_are_symlinks_to_root_files() {
    let Some(node) = Node::new("h_sl_pidfile") else {
        return;
    };
    let victim = Victim::new(&node.sb, "pidfile");
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 7\n");
    plant_link(&node, &c.pid_file, &victim.public, NM_USER);
    plant_link(&node, &c.exit_code_file(), &victim.secret, NM_USER);
    let out = c.launch(&node);
    out.assert_code(7);
    victim.assert_intact(&out.describe());
    // The links were replaced by the NM's own files, not written through.
    for f in [&c.pid_file, &c.exit_code_file()] {
        let m = fs::symlink_metadata(f).unwrap();
        assert!(m.is_file(), "{} is not a regular file", f.display());
        assert_eq!(
            std::os::unix::fs::MetadataExt::uid(&m),
            node.nm_uid(),
            "{} owner",
            f.display()
        );
    }
    // A planted "<pid>.tmp" link makes the pid write fail (26) without writing through it.
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    let tmp = PathBuf::from(format!("{}.tmp", s(&c.pid_file)));
    plant_link(&node, &tmp, &victim.public, NM_USER);
    let out = c.launch(&node);
    out.assert_code(26);
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_pid_file_in_a_root_dir() {
    let Some(node) = Node::new("h_pid_rootdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "piddir");
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    let mut argv = c.argv(&node);
    argv[9] = s(&victim.dir.join("x.pid"));
    // The child fails with 26, then the exit code file cannot be written either: -1 (255),
    // as in Hadoop's wait_and_write_exit_code.
    let out = node.run_nm(&argv);
    out.assert_code(255)
        .assert_stderr_has("Can't write pid file");
    victim.assert_intact(&out.describe());
    // Over an existing root file of the victim dir, too.
    argv[9] = s(&victim.public);
    let out = node.run_nm(&argv);
    out.assert_code(255)
        .assert_stderr_has("Can't write pid file");
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_cgroup_task_file_is_a_root_file() {
    // The pid is appended as root; the target must be a file on a cgroup filesystem.
    let Some(node) = Node::new("h_cgroup_file") else {
        return;
    };
    let victim = Victim::new(&node.sb, "cgroup");
    let link = node.locals[0].join("tasks-link");
    plant_link(&node, &link, &victim.public, NM_USER);
    // Files with the task lists' names, but on an ordinary filesystem.
    let named = node.sb.prefix().join(format!("fake-cgroup-{}", seq()));
    fs::create_dir(&named).unwrap();
    for n in ["tasks", "cgroup.procs"] {
        common::write_file(&named.join(n), "", 0o644);
    }
    let fake = Frozen::new(&named);
    let procs_link = node.locals[0].join("cgroup.procs");
    plant_link(&node, &procs_link, &victim.public, NM_USER);
    for target in [
        s(&victim.public),
        s(&link),
        s(&victim.dir),
        s(&named.join("tasks")),
        s(&named.join("cgroup.procs")),
        s(&procs_link),
    ] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        let mut argv = c.argv(&node);
        argv[12] = format!("cgroups={target}");
        let out = node.run_nm(&argv);
        out.assert_code(27);
        victim.assert_intact(&out.describe());
        fake.assert_unchanged(&out.describe());
    }
}

#[test]
fn attack_symlink_loops_in_the_nm_dirs() {
    let Some(node) = Node::new("h_sl_loop") else {
        return;
    };
    for local in &node.locals {
        let a = local.join("usercache").join(ALICE);
        let b = local.join("usercache").join("loop-b");
        plant_link(&node, &a, &b, NM_USER);
        plant_link(&node, &b, &a, NM_USER);
    }
    let (_, log) = node.freeze_nm_dirs();
    let out = init(&node, &fresh_cid());
    out.assert_code(20);
    log.assert_unchanged(&out.describe());
    let loop_root = node.locals[0].join("loop-root");
    plant_link(&node, &loop_root, &loop_root, NM_USER);
    let mut argv = node.init_argv(
        ALICE,
        &fresh_cid(),
        &node.tokens(&fresh_cid()),
        &["/bin/true"],
    );
    argv[6] = s(&loop_root);
    node.run_nm(&argv).assert_code(20);
}

// ---------------------------------------------------------------------------------------------
// Races: swap a directory for a symlink to the victim while the binary works on it.
// ---------------------------------------------------------------------------------------------

/// Run `work` while another thread keeps exchanging each `(real, link)` pair (RENAME_EXCHANGE).
fn while_swapping<T>(pairs: &[(PathBuf, PathBuf)], work: impl FnOnce() -> T) -> T {
    let stop = AtomicBool::new(false);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                for (a, b) in pairs {
                    let _ = renameat2(None, a, None, b, RenameFlags::RENAME_EXCHANGE);
                }
            }
        });
        let r = work();
        stop.store(true, Ordering::SeqCst);
        r
    })
}

const RACE_ROUNDS: usize = 25;

#[test]
fn attack_race_user_dir_swapped_with_a_symlink() {
    let Some(node) = Node::new("h_race_userdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "raceuser");
    let mut pairs = Vec::new();
    for local in &node.locals {
        let real = local.join("usercache").join(ALICE);
        node.user_dir(&real, NM_USER, 0o755);
        let link = local.join("usercache").join("swap");
        plant_link(&node, &link, &victim.dir, NM_USER);
        pairs.push((real, link));
    }
    for _ in 0..RACE_ROUNDS {
        let cid = fresh_cid();
        let tokens = node.tokens(&cid);
        let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        let out = while_swapping(&pairs, || node.run_nm(&argv));
        victim.assert_intact(&out.describe());
    }
}

#[test]
fn attack_race_log_dirs_swapped_with_symlinks() {
    let Some(node) = Node::new("h_race_logdir") else {
        return;
    };
    let victim = Victim::new(&node.sb, "racelog");
    init(&node, &fresh_cid()).assert_code(0);
    let mut pairs = Vec::new();
    for log in &node.logs {
        // The NM swaps <G>/<app>; alice swaps <G>/<app>/<cid> (planted before each run).
        let link = log.join("swap-app");
        plant_link(&node, &link, &victim.dir, NM_USER);
        pairs.push((log.join(APP), link));
    }
    for _ in 0..RACE_ROUNDS {
        let cid = fresh_cid();
        let tokens = node.tokens(&cid);
        let mut round = pairs.clone();
        for log in &node.logs {
            let app = log.join(APP);
            if fs::symlink_metadata(&app)
                .map(|m| m.is_dir())
                .unwrap_or(false)
            {
                let real = app.join(&cid);
                node.user_dir(&real, ALICE, 0o750);
                let link = app.join(format!("swap-{cid}"));
                plant_link(&node, &link, &victim.dir, ALICE);
                round.push((real, link));
            }
        }
        let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        let out = while_swapping(&round, || node.run_nm(&argv));
        victim.assert_intact(&out.describe());
    }
}

#[test]
fn attack_race_container_dirs_swapped_during_launch() {
    let Some(node) = Node::new("h_race_launch") else {
        return;
    };
    let victim = Victim::new(&node.sb, "racelaunch");
    init(&node, &fresh_cid()).assert_code(0);
    for _ in 0..RACE_ROUNDS / 2 {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\necho x > pwned\nexit 0\n");
        let mut pairs = Vec::new();
        for local in &node.locals {
            let app = node.app_dir(local, ALICE, APP);
            fs::create_dir_all(app.join(&c.cid)).unwrap();
            for d in [app.clone(), app.join(&c.cid)] {
                node.own(&d, ALICE);
            }
            let link = app.join(format!("swap-{}", c.cid));
            plant_link(&node, &link, &victim.dir, ALICE);
            pairs.push((app.join(&c.cid), link));
        }
        let out = while_swapping(&pairs, || c.launch(&node));
        victim.assert_intact(&out.describe());
    }
}

/// A private cgroup (v1 pids or memory hierarchy, else v2) for one test, removed on drop.
struct TestCgroup {
    dir: PathBuf,
}

impl TestCgroup {
    fn new(tag: &str) -> Option<TestCgroup> {
        let name = format!("cexec-hostile-{tag}-{}", std::process::id());
        // v1 hierarchies, the v2 one beside them (hybrid), or a pure v2 mount.
        for base in ["pids", "memory", "unified", ""] {
            let base = Path::new("/sys/fs/cgroup").join(base);
            if !base.is_dir() || base.is_symlink() {
                continue;
            }
            let dir = base.join(&name);
            let _ = fs::remove_dir(&dir);
            if fs::create_dir(&dir).is_ok() && dir.join("cgroup.procs").exists() {
                return Some(TestCgroup { dir });
            }
            let _ = fs::remove_dir(&dir);
        }
        None
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..100 {
            if fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn attack_cgroup_control_file_instead_of_the_task_list() {
    // The pid is written as root to a cgroup file the NM names. A control file (pids.max,
    // memory.limit_in_bytes, cgroup.subtree_control, release_agent…) of any cgroup, e.g. the
    // node's system services, would take the number as a new limit: only the task lists
    // (`tasks`, `cgroup.procs`) may be written.
    let Some(node) = Node::new("h_cgroup_ctl") else {
        return;
    };
    let Some(cg) = TestCgroup::new("ctl") else {
        let banner = "!".repeat(100);
        eprintln!("\n{banner}\n!!! SKIPPED attack_cgroup_control_file_instead_of_the_task_list: no writable cgroup filesystem !!!\n{banner}");
        return;
    };
    let controls: Vec<PathBuf> = fs::read_dir(&cg.dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            [
                "pids.max",
                "memory.limit_in_bytes",
                "memory.max",
                "notify_on_release",
                "cgroup.max.depth",
                "cgroup.max.descendants",
            ]
            .contains(&n.as_ref())
        })
        .collect();
    assert!(
        !controls.is_empty(),
        "no control file in {}",
        cg.dir.display()
    );
    for control in controls {
        let before = fs::read_to_string(&control).unwrap();
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        let mut argv = c.argv(&node);
        argv[12] = format!("cgroups={}", s(&control));
        let out = node.run_nm(&argv);
        let after = fs::read_to_string(&control).unwrap();
        assert_eq!(
            before,
            after,
            "{} was rewritten as root{}",
            control.display(),
            out.describe()
        );
        out.assert_code(27);
    }
}

#[test]
fn attack_tc_command_file_is_a_root_or_shared_file() {
    // tc reads its batch file as root; the NM may only hand it a file of its own that nobody
    // else can write. Every refusal happens before tc runs (no /sbin/tc needed).
    let Some(node) = Node::new("h_tc_file") else {
        return;
    };
    node.sb
        .write_config_with(&[("feature.tc.enabled", Some("true"))]);
    let victim = Victim::new(&node.sb, "tc");
    let link = node.locals[0].join("tc-link");
    plant_link(&node, &link, &victim.public, NM_USER);
    let shared = node.locals[0].join("shared.tc");
    node.nm_file(&shared, "qdisc show dev lo\n", 0o666);
    let fifo = node.locals[0].join("tc.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    node.own(&fifo, NM_USER);
    for file in [
        s(&victim.secret),
        s(&victim.public),
        s(&link),
        s(&shared),
        s(&fifo),
        "relative.tc".into(),
    ] {
        for mode in ["--tc-modify-state", "--tc-read-state", "--tc-read-stats"] {
            let out = node.sb.run_as_nm(&[mode, &file]);
            out.assert_code(28);
            victim.assert_intact(&out.describe());
        }
    }
}

#[test]
fn attack_container_tmp_dirs_planted_as_symlinks() {
    // tmp, private_slash_tmp and private_var_slash_tmp are made (and chmodded) in the work dir;
    // alice plants them in advance as links to a root dir.
    let Some(node) = Node::new("h_sl_tmpdirs") else {
        return;
    };
    let victim = Victim::new(&node.sb, "tmpdirs");
    init(&node, &fresh_cid()).assert_code(0);
    for name in ["tmp", "private_slash_tmp", "private_var_slash_tmp"] {
        let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
        plant_in_work_dir(&node, &c, name, &victim.dir, false);
        let out = c.launch(&node);
        out.assert_code(37);
        victim.assert_intact(&out.describe());
    }
}

#[test]
fn attack_device_module_deny_file_outside_a_cgroup() {
    // The device modules append deny rules as root to
    // <[cgroups] root>/devices/<yarn-hierarchy>/<container id>/devices.deny. A container id
    // that climbs out, and a "cgroup" tree that is an ordinary root-owned directory, must both
    // leave every file unwritten.
    let Some(node) = Node::new("h_devices") else {
        return;
    };
    let victim = Victim::new(&node.sb, "devices");
    let cid = fresh_cid();
    let leaf = victim.dir.join("devices/hadoop-yarn").join(&cid);
    fs::create_dir_all(&leaf).unwrap();
    common::write_file(&leaf.join("devices.deny"), "", 0o644);
    common::write_file(&victim.dir.join("devices/devices.deny"), "", 0o644);
    let tree = Frozen::new(&victim.dir);
    node.sb.write_config(&format!(
        "{}[gpu]\nmodule.enabled=true\n[devices]\nmodule.enabled=true\n[cgroups]\nroot={}\nyarn-hierarchy=hadoop-yarn\n",
        common::config_text(&[]),
        s(&victim.dir)
    ));
    for id in [
        cid.as_str(),
        "..",
        "../..",
        "container_1_2_3_4/../..",
        "/etc",
    ] {
        for args in [
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "0,1",
                "--container_id",
                id,
            ],
            vec![
                "--module-devices",
                "--excluded_devices",
                "c-1:3-rwm",
                "--container_id",
                id,
            ],
        ] {
            let out = node.sb.run_as_nm(&args);
            assert_ne!(out.code, 0, "{}", out.describe());
            if id == cid {
                // The valid id gets as far as the file, which is not on a cgroup filesystem.
                out.assert_stderr_has("is not on a cgroup filesystem");
            }
            tree.assert_unchanged(&out.describe());
        }
    }
}

#[test]
fn attack_exec_container_command_file_is_root_only() {
    // The terminal's command file is read with the NM's identity: root-only files, links to
    // them and FIFOs are refused and nothing of them is echoed.
    let Some(node) = Node::new("h_exec_file") else {
        return;
    };
    node.sb
        .write_config_with(&[("feature.terminal.enabled", Some("true"))]);
    let victim = Victim::new(&node.sb, "exec");
    let link = node.locals[0].join("exec-link");
    plant_link(&node, &link, &victim.secret, NM_USER);
    let fifo = node.locals[0].join("exec.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    node.own(&fifo, NM_USER);
    for file in [s(&victim.secret), s(&link), s(&fifo), "relative".into()] {
        let out = node.sb.run_as_nm(&["--exec-container", &file]);
        assert_ne!(out.code, 0, "{}", out.describe());
        out.assert_stdout_lacks(SECRET_TEXT.trim())
            .assert_stderr_lacks(SECRET_TEXT.trim());
        victim.assert_intact(&out.describe());
    }
}
