//! Hostile suite: completeness of the privilege drop, observed from inside the code the binary
//! runs as the user (the container and the localizer): every uid and gid, the supplementary
//! groups, all five capability sets; every way back to root fails; root-only files stay
//! unreadable, the NM's files unwritable, and the privileged parent out of reach.

mod common;
mod hostile_support;

use std::fs;
use std::path::{Path, PathBuf};

use common::{TempUser, ALICE, BOB};
use hostile_support::*;

/// A probe that records /proc status, tries to regain root (tryroot), to read a root-only file
/// and to write an NM-owned file, and to reach its parent.
fn probe_script(tryroot: &Path, secret: &Path, nm_file: &Path) -> String {
    format!(
        "PATH=/usr/bin:/bin\n\
         grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/$$/status > status.txt\n\
         {} r {} w {} > tryroot.txt 2>&1\n\
         cat {} > stolen.txt 2>/dev/null\n\
         echo pwned 2>/dev/null >> {}\n\
         P=$PPID\n\
         if kill -0 $P 2>/dev/null; then echo parent_kill=ok; else echo parent_kill=denied; fi > parent.txt\n\
         if cat /proc/$P/environ >/dev/null 2>&1; then echo parent_environ=ok; else echo parent_environ=denied; fi >> parent.txt\n\
         if ls /proc/$P/fd >/dev/null 2>&1; then echo parent_fd=ok; else echo parent_fd=denied; fi >> parent.txt\n\
         true\n",
        sq(&s(tryroot)),
        sq(&s(secret)),
        sq(&s(nm_file)),
        sq(&s(secret)),
        sq(&s(nm_file)),
    )
}

struct Setup {
    node: Node,
    victim: Victim,
    tryroot: PathBuf,
    nm_file: PathBuf,
}

fn setup(name: &str) -> Option<Setup> {
    let node = Node::new(name)?;
    let victim = Victim::new(&node.sb, "drop");
    let tryroot = compile_c(&node.sb, "tryroot", TRYROOT_C, &[]);
    // An NM-owned file the user can reach (and read) but must not write.
    let nm_file = node.locals[0].join("nm-state");
    node.nm_file(&nm_file, "nm state\n", 0o644);
    Some(Setup {
        node,
        victim,
        tryroot,
        nm_file,
    })
}

/// Check everything the probe recorded in `dir` for a process that must be exactly `user`
/// with exactly `groups`.
#[track_caller]
fn assert_fully_dropped(st: &Setup, dir: &Path, user: &str, groups: &[u32]) {
    let read = |n: &str| {
        fs::read_to_string(dir.join(n)).unwrap_or_else(|e| panic!("{}/{n}: {e}", dir.display()))
    };
    let status = read("status.txt");
    let acct = common::account(user);
    assert_eq!(
        status_field(&status, "Uid"),
        vec![acct.uid.to_string(); 4],
        "{status}"
    );
    assert_eq!(
        status_field(&status, "Gid"),
        vec![acct.gid.to_string(); 4],
        "{status}"
    );
    let mut have: Vec<u32> = status_field(&status, "Groups")
        .iter()
        .map(|g| g.parse().unwrap())
        .collect();
    have.sort();
    let mut want = groups.to_vec();
    want.sort();
    assert_eq!(have, want, "supplementary groups:\n{status}");
    assert!(
        !have.contains(&st.node.nm_gid()) && !have.contains(&0),
        "the NM group or root's group leaked:\n{status}"
    );
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        let v = &status_field(&status, cap)[0];
        assert!(v.chars().all(|c| c == '0'), "{cap} = {v}:\n{status}");
    }
    let tries = read("tryroot.txt");
    let mut checked = 0;
    for line in tries.lines() {
        let (k, v) = line.split_once('=').unwrap();
        if k.starts_with("open_") {
            assert_eq!(v, "Permission denied", "{k}:\n{tries}");
        } else {
            assert_ne!(v, "ok", "{k} succeeded:\n{tries}");
        }
        checked += 1;
    }
    assert_eq!(checked, 11, "tryroot output incomplete:\n{tries}");
    let stolen = fs::read_to_string(dir.join("stolen.txt")).unwrap_or_default();
    assert!(
        !stolen.contains(SECRET_TEXT.trim()),
        "root-only file read: {stolen}"
    );
    assert_eq!(
        fs::read_to_string(&st.nm_file).unwrap(),
        "nm state\n",
        "NM file written"
    );
    st.victim.assert_intact("");
}

#[test]
fn attack_container_tries_to_regain_privileges() {
    let Some(st) = setup("h_drop_launch") else {
        return;
    };
    let script = probe_script(&st.tryroot, &st.victim.secret, &st.nm_file);
    let c = Container::prepare(&st.node, ALICE, &format!("#!/bin/sh\n{script}"));
    let out = c.launch(&st.node);
    out.assert_code(0);
    assert_fully_dropped(&st, &c.work_dir, ALICE, &[st.node.gid(ALICE)]);
    // The waiting parent runs with root's real and saved uid: the container cannot signal it,
    // read its environment or its descriptors.
    let parent = c.probe("parent.txt");
    for key in ["parent_kill", "parent_environ", "parent_fd"] {
        assert_eq!(value_of(&parent, key), Some("denied"), "{parent}");
    }
}

#[test]
fn attack_localizer_tries_to_regain_privileges() {
    let Some(st) = setup("h_drop_init") else {
        return;
    };
    let script = probe_script(&st.tryroot, &st.victim.secret, &st.nm_file);
    let cid = fresh_cid();
    let tokens = st.node.tokens(&cid);
    let argv = st
        .node
        .init_argv(ALICE, &cid, &tokens, &["/bin/sh", "-c", &script]);
    let out = st.node.run_nm(&argv);
    out.assert_code(0);
    let app = st.node.app_dir(&st.node.locals[0], ALICE, APP);
    assert_fully_dropped(&st, &app, ALICE, &[st.node.gid(ALICE)]);
}

#[test]
fn attack_container_keeps_groups_it_should_not_have() {
    // A user with a supplementary group: the container gets exactly the user's groups from the
    // group database — not root's, not the NM group the binary ran with, not the caller's.
    let Some(st) = setup("h_drop_groups") else {
        return;
    };
    let bob_group = common::account(BOB).group;
    let user = TempUser::create(false, &[bob_group.as_str()]);
    let script = probe_script(&st.tryroot, &st.victim.secret, &st.nm_file);
    let c = Container::prepare(&st.node, user.name(), &format!("#!/bin/sh\n{script}"));
    let out = c.launch(&st.node);
    out.assert_code(0);
    assert_fully_dropped(
        &st,
        &c.work_dir,
        user.name(),
        &[user.account.gid, common::account(BOB).gid],
    );
}

#[test]
fn attack_list_and_delete_used_for_roots_rights() {
    // list and delete run as the user: a root-only directory cannot be listed, a root-owned
    // file inside a user-deletable place cannot be removed through them.
    let Some(st) = setup("h_drop_listdel") else {
        return;
    };
    let node = &st.node;
    let out = node
        .sb
        .run_as_nm(&[ALICE, ALICE, "5", &s(&st.victim.dir.join("sub"))]);
    out.assert_code(0); // 0755: alice may list it herself
    node.sb.chmod(&st.victim.subdir, 0o700);
    let out = node
        .sb
        .run_as_nm(&[ALICE, ALICE, "5", &s(&st.victim.subdir)]);
    out.assert_code(255).assert_stdout_lacks("inner");
    node.sb.chmod(&st.victim.subdir, 0o755);
    // A root-owned file in an NM dir alice can write to (her app dir): unlink would work for
    // her (the dir is hers), but a root-owned subdirectory's contents must survive.
    let user = st.node.locals[0].join("usercache").join(ALICE);
    st.node.user_dir(&user, ALICE, 0o2750);
    let app = user.join("appcache");
    st.node.user_dir(&app, ALICE, 0o750);
    let rootdir = app.join("rootdir");
    fs::create_dir(&rootdir).unwrap();
    node.sb.chmod(&rootdir, 0o755);
    common::write_file(&rootdir.join("keep"), "root's\n", 0o644);
    let out = node.sb.run_as_nm(&[ALICE, ALICE, "3", &s(&rootdir)]);
    assert_ne!(out.code, 0, "{}", out.describe());
    assert_eq!(
        fs::read_to_string(rootdir.join("keep")).unwrap(),
        "root's\n"
    );
}

#[test]
fn attack_caller_reaches_into_the_running_binary() {
    // While a launch waits for its container, the binary is a root process started by the NM:
    // the NM must not be able to signal it, read its environment or memory, or use its fds.
    let Some(st) = setup("h_drop_parent") else {
        return;
    };
    let c = Container::prepare(
        &st.node,
        ALICE,
        "#!/bin/sh\necho $PPID > parent.pid\nsleep 3\nexit 0\n",
    );
    std::thread::scope(|sc| {
        let launched = sc.spawn(|| c.launch(&st.node));
        let pid_file = c.work_dir.join("parent.pid");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let ppid = loop {
            if let Some(p) = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            {
                break p;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "container did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let probe = format!(
            "P={ppid}\n\
             if kill -0 $P 2>/dev/null; then echo kill=ok; else echo kill=denied; fi\n\
             if kill -STOP $P 2>/dev/null; then echo stop=ok; kill -CONT $P; else echo stop=denied; fi\n\
             if cat /proc/$P/environ >/dev/null 2>&1; then echo environ=ok; else echo environ=denied; fi\n\
             if head -c1 /proc/$P/mem >/dev/null 2>&1; then echo mem=ok; else echo mem=denied; fi\n\
             if ls /proc/$P/fd >/dev/null 2>&1; then echo fd=ok; else echo fd=denied; fi\n"
        );
        let mut argv = as_user_prefix(common::NM_USER);
        argv.extend(os(&["/bin/sh", "-c", &probe]));
        let out = run_argv(&argv, &[]);
        for key in ["kill", "stop", "environ", "mem", "fd"] {
            assert_eq!(
                value_of(&out.stdout, key),
                Some("denied"),
                "the NM reached into the running binary ({key}){}",
                out.describe()
            );
        }
        launched.join().unwrap().assert_code(0);
    });
}
