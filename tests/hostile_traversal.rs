//! Hostile suite: ids and paths that try to leave the NodeManager's directories. App ids,
//! container ids and the yarn user become path components; local and log dir lists name the
//! roots the binary writes in as root; delete and list take whole paths. Nothing outside the
//! NM's dirs (and the user's own files within them) may be created, chowned, listed or removed.

mod common;
mod hostile_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{Outcome, ALICE, NM_USER};
use hostile_support::*;

/// Run `argv` as the NM and prove nothing in the whole sandbox changed.
fn unchanged_after(node: &Node, argv: &[String]) -> Outcome {
    let all = Frozen::new(&node.sb.prefix());
    let out = node.run_nm(argv);
    all.assert_unchanged(&out.describe());
    out
}

fn init_words(node: &Node, cid: &str) -> Vec<String> {
    let tokens = node.tokens(cid);
    node.init_argv(
        ALICE,
        cid,
        &tokens,
        &["/bin/sh", "-c", "mkdir localizer-ran"],
    )
}

const BAD_IDS: &[&str] = &[
    "..",
    "../../../victim",
    "/opt/cexec-e2e",
    "application_1700000000000_0001/../../..",
    "application_1700000000000_0001/x",
    "application_1700000000000_0001x",
    "application_1700000000000_0001\n",
    "application_1700000000000_0001 ",
    "",
    ".",
];

#[test]
fn attack_app_id_traversal_in_initialize() {
    let Some(node) = Node::new("h_appid_init") else {
        return;
    };
    for bad in BAD_IDS {
        let mut argv = init_words(&node, &fresh_cid());
        argv[3] = bad.to_string();
        unchanged_after(&node, &argv).assert_code(255);
    }
}

#[test]
fn attack_app_id_traversal_in_launch() {
    let Some(node) = Node::new("h_appid_launch") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nmkdir /tmp/never\n");
    for bad in BAD_IDS {
        let mut argv = c.argv(&node);
        argv[3] = bad.to_string();
        unchanged_after(&node, &argv).assert_code(35);
    }
}

const BAD_CIDS: &[&str] = &[
    "..",
    "../../x",
    "/etc",
    "container_1700000000000_0001_01_000002/..",
    "container_1700000000000_0001_01_000002/../../..",
    "container_1700000000000_0001_01_000002x",
    "container_1700000000000_0001_01_000002\n",
    "container_1_2_3",
    "",
];

#[test]
fn attack_container_id_traversal_in_initialize() {
    let Some(node) = Node::new("h_cid_init") else {
        return;
    };
    for bad in BAD_CIDS {
        let mut argv = init_words(&node, &fresh_cid());
        argv[4] = bad.to_string();
        unchanged_after(&node, &argv).assert_code(43);
    }
}

#[test]
fn attack_container_id_traversal_in_launch() {
    let Some(node) = Node::new("h_cid_launch") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    for bad in BAD_CIDS {
        let mut argv = c.argv(&node);
        argv[4] = bad.to_string();
        unchanged_after(&node, &argv).assert_code(35);
    }
}

#[test]
fn attack_yarn_user_traversal() {
    // argv[2] (the application owner) names usercache/<Y>: as root, with chown.
    let Some(node) = Node::new("h_yarnuser") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, "#!/bin/sh\nexit 0\n");
    for bad in ["..", ".", "", "../../nm-log", "a/b", "/etc", "x\ny"] {
        let mut argv = init_words(&node, &fresh_cid());
        argv[1] = bad.to_string();
        unchanged_after(&node, &argv).assert_code(20);
        let mut argv = c.argv(&node);
        argv[1] = bad.to_string();
        unchanged_after(&node, &argv).assert_code(20);
    }
}

/// initialize with the given local and log dir lists; nothing in the sandbox may change.
fn init_with_dirs(node: &Node, locals: &str, logs: &str) -> Outcome {
    let mut argv = init_words(node, &fresh_cid());
    argv[6] = locals.to_string();
    argv[7] = logs.to_string();
    unchanged_after(node, &argv)
}

#[test]
fn attack_relative_local_and_log_dirs() {
    let Some(node) = Node::new("h_dirs_relative") else {
        return;
    };
    // cwd is "/" for the binary: relative names would land in the real NM dirs or anywhere.
    let rel = |p: &Path| s(p).trim_start_matches('/').to_string();
    let locals = format!("{}%{}", rel(&node.locals[0]), rel(&node.locals[1]));
    let logs = format!("{}%{}", rel(&node.logs[0]), rel(&node.logs[1]));
    // Refused while argv is read (issue 14: canonical dir lists), before anything happens.
    init_with_dirs(&node, &locals, &node.log_arg()).assert_code(5);
    let out = init_with_dirs(&node, "nm-local", "nm-log");
    assert_ne!(out.code, 0, "{}", out.describe());
    // Good local dirs, relative log dirs: the user dirs in the NM's local dirs are made (as in
    // Hadoop), but no log dir anywhere.
    // Since issue 14 the relative log dirs are refused with 5 before anything is made.
    let log_tree = Frozen::new(&node.sb.prefix().join("nm-log"));
    let mut argv = init_words(&node, &fresh_cid());
    argv[7] = logs;
    let out = unchanged_after(&node, &argv);
    out.assert_code(5).assert_stderr_has("Invalid log dir list");
    log_tree.assert_unchanged(&out.describe());
    assert!(!Path::new("/opt").join(APP).exists() && !Path::new("/").join(APP).exists());
}

#[test]
fn attack_local_dirs_with_dotdot_to_a_root_dir() {
    let Some(node) = Node::new("h_dirs_dotdot") else {
        return;
    };
    let victim = Victim::new(&node.sb, "dotdot");
    let name = victim
        .dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let sneaky = format!("{}/../../{name}", s(&node.locals[0]));
    // A `..` component is refused while argv is read (issue 14: canonical dir lists).
    init_with_dirs(&node, &sneaky, &node.log_arg()).assert_code(5);
    let sneaky_log = format!("{}/../../{name}", s(&node.logs[0]));
    // Local dirs fine, log dirs all outside: no app log dir anywhere (255).
    let mut argv = init_words(&node, &fresh_cid());
    argv[7] = sneaky_log;
    let out = node.run_nm(&argv);
    assert_ne!(out.code, 0, "{}", out.describe());
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_local_and_log_dirs_not_owned_by_the_nm() {
    let Some(node) = Node::new("h_dirs_notnm") else {
        return;
    };
    let victim = Victim::new(&node.sb, "notnm");
    let v = s(&victim.dir);
    init_with_dirs(&node, &v, &node.log_arg()).assert_code(20);
    // A list mixing a good and a root-owned dir: the root-owned one is never written.
    let mut argv = init_words(&node, &fresh_cid());
    argv[6] = format!("{}%{v}", s(&node.locals[0]));
    argv[7] = v.clone();
    let out = node.run_nm(&argv);
    assert_ne!(out.code, 0, "{}", out.describe());
    victim.assert_intact(&out.describe());
    // An alice-owned dir is not the NM's either.
    let alice_dir = node.sb.prefix().join("alice-owned");
    node.user_dir(&alice_dir, ALICE, 0o755);
    init_with_dirs(&node, &s(&alice_dir), &node.log_arg()).assert_code(20);
    victim.assert_intact("");
}

#[test]
fn attack_local_and_log_dirs_in_etc() {
    let Some(node) = Node::new("h_dirs_etc") else {
        return;
    };
    let etc = Frozen::new(Path::new("/etc/usercache"));
    let app = Path::new("/etc").join(APP);
    init_with_dirs(&node, "/etc%/", &node.log_arg()).assert_code(20);
    let mut argv = init_words(&node, &fresh_cid());
    argv[7] = "/etc%/".into();
    let out = node.run_nm(&argv);
    assert_ne!(out.code, 0, "{}", out.describe());
    etc.assert_unchanged(&out.describe());
    assert!(!Path::new("/etc/usercache").exists() && !app.exists());
    assert!(!Path::new("/").join(APP).exists() && !Path::new("/usercache").exists());
}

#[test]
fn attack_local_dir_is_an_nm_symlink_to_a_root_dir() {
    let Some(node) = Node::new("h_dirs_symlink") else {
        return;
    };
    let victim = Victim::new(&node.sb, "rootlink");
    let link = node.locals[0].join("link-to-root");
    symlink(&victim.dir, &link).unwrap();
    node.own(&link, NM_USER);
    init_with_dirs(&node, &s(&link), &node.log_arg()).assert_code(20);
    let mut argv = init_words(&node, &fresh_cid());
    argv[7] = s(&link);
    let out = node.run_nm(&argv);
    assert_ne!(out.code, 0);
    victim.assert_intact(&out.describe());
}

// ---------------------------------------------------------------------------------------------
// delete-as-user (3) and list-as-user (5)
// ---------------------------------------------------------------------------------------------

/// alice's own files outside the NM dirs (her "home"): the NM must not be able to have them
/// deleted, although alice herself could delete them.
fn alice_home(node: &Node) -> (PathBuf, Frozen) {
    let home = node.sb.prefix().join(format!("home-alice-{}", seq()));
    node.user_dir(&home, ALICE, 0o755);
    for name in ["precious", "more"] {
        let f = home.join(name);
        common::write_file(&f, "keep me\n", 0o644);
        node.own(&f, ALICE);
    }
    let frozen = Frozen::new(&home);
    (home, frozen)
}

/// `<L1>/usercache/alice/appcache` as initialize leaves it.
fn alice_appcache(node: &Node) -> PathBuf {
    let user = node.locals[0].join("usercache").join(ALICE);
    node.user_dir(&user, ALICE, 0o2750);
    let appcache = user.join("appcache");
    node.user_dir(&appcache, ALICE, 0o750);
    appcache
}

fn delete(node: &Node, words: &[&str]) -> Outcome {
    let mut argv = vec![ALICE, ALICE, "3"];
    argv.extend_from_slice(words);
    node.sb.run_as_nm(&argv)
}

#[test]
fn attack_delete_outside_the_nm_dirs() {
    let Some(node) = Node::new("h_del_outside") else {
        return;
    };
    let (home, frozen) = alice_home(&node);
    for target in [s(&home), s(&home.join("precious"))] {
        let out = delete(&node, &[&target]);
        out.assert_code(255);
        frozen.assert_unchanged(&out.describe());
    }
}

#[test]
fn attack_delete_root_and_slash_forms() {
    let Some(node) = Node::new("h_del_slash") else {
        return;
    };
    let (_home, frozen) = alice_home(&node);
    let all = Frozen::new(&node.sb.prefix());
    for target in ["/", "//", "/.", "/./"] {
        let out = delete(&node, &[target]);
        out.assert_code(255);
        frozen.assert_unchanged(&out.describe());
    }
    // "/" as a base dir, with and without a sub path.
    let out = delete(&node, &["", "/"]);
    assert_ne!(out.code, 0, "{}", out.describe());
    let out = delete(&node, &["opt", "/"]);
    assert_ne!(out.code, 0, "{}", out.describe());
    all.assert_unchanged(&out.describe());
}

#[test]
fn attack_delete_with_dotdot() {
    let Some(node) = Node::new("h_del_dotdot") else {
        return;
    };
    let (home, frozen) = alice_home(&node);
    let appcache = alice_appcache(&node);
    let name = home.file_name().unwrap().to_string_lossy().into_owned();
    let up = format!("{}/../../../../../{name}", s(&appcache));
    let out = delete(&node, &[&up]);
    out.assert_code(255);
    // ".." in the sub path under a good base.
    let out2 = delete(&node, &[&format!("../../../../../{name}"), &s(&appcache)]);
    assert_ne!(out2.code, 0, "{}", out2.describe());
    frozen.assert_unchanged(&format!("{}{}", out.describe(), out2.describe()));
}

#[test]
fn attack_delete_through_symlinks() {
    let Some(node) = Node::new("h_del_symlink") else {
        return;
    };
    let (home, frozen) = alice_home(&node);
    let appcache = alice_appcache(&node);
    let link = appcache.join("link");
    symlink(&home, &link).unwrap();
    node.own(&link, ALICE);
    // Through the link as a path component, as a base dir, and as the final component of a base.
    let o1 = delete(&node, &[&s(&link.join("precious"))]);
    let o2 = delete(&node, &["precious", &s(&link)]);
    let o3 = delete(&node, &["", &s(&link)]);
    for o in [&o1, &o2] {
        assert_ne!(o.code, 0, "{}", o.describe());
    }
    frozen.assert_unchanged(&format!(
        "{}{}{}",
        o1.describe(),
        o2.describe(),
        o3.describe()
    ));
    // A symlink loop neither hangs nor escapes.
    let a = appcache.join("loop-a");
    let b = appcache.join("loop-b");
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    let o4 = delete(&node, &[&s(&a.join("x"))]);
    assert_ne!(o4.code, 0, "{}", o4.describe());
    frozen.assert_unchanged(&o4.describe());
}

#[test]
fn attack_delete_base_dirs_outside() {
    let Some(node) = Node::new("h_del_bases") else {
        return;
    };
    let (home, frozen) = alice_home(&node);
    let out = delete(&node, &["precious", &s(&home), &s(&node.locals[0])]);
    assert_ne!(out.code, 0, "{}", out.describe());
    let out2 = delete(&node, &["", &s(&home)]);
    assert_ne!(out2.code, 0, "{}", out2.describe());
    frozen.assert_unchanged(&format!("{}{}", out.describe(), out2.describe()));
}

#[test]
fn attack_list_root_only_directories() {
    let Some(node) = Node::new("h_list_root") else {
        return;
    };
    let victim = Victim::new(&node.sb, "list");
    let private = victim.dir.join("sub");
    node.sb.chmod(&private, 0o700);
    let hidden = fs::read_dir("/root")
        .map(|r| r.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
        .unwrap_or_default();
    for target in ["/root".to_string(), s(&private)] {
        let out = node.sb.run_as_nm(&[ALICE, ALICE, "5", &target]);
        out.assert_code(255);
        for line in out.stdout.lines().filter(|l| !l.starts_with("main :")) {
            assert!(
                line.starts_with("Could not"),
                "listing leaked {line:?}{}",
                out.describe()
            );
        }
        if target == "/root" {
            for name in &hidden {
                let n = name.to_string_lossy();
                assert!(
                    !out.stdout.lines().any(|l| l == n),
                    "/root entry {n} leaked{}",
                    out.describe()
                );
            }
        } else {
            out.assert_stdout_lacks("inner");
        }
    }
}

#[test]
fn attack_list_a_root_only_file() {
    // /etc/shadow and a 0600 root file: at most the name comes back (as in Hadoop), never a
    // byte of the content.
    let Some(node) = Node::new("h_list_shadow") else {
        return;
    };
    let victim = Victim::new(&node.sb, "listfile");
    for target in ["/etc/shadow".to_string(), s(&victim.secret)] {
        let out = node.sb.run_as_nm(&[ALICE, ALICE, "5", &target]);
        out.assert_stdout_lacks("root:")
            .assert_stdout_lacks(SECRET_TEXT.trim());
        for line in out.stdout.lines().filter(|l| !l.starts_with("main :")) {
            assert_eq!(line, target, "unexpected output{}", out.describe());
        }
    }
    // A relative path is refused outright.
    node.sb
        .run_as_nm(&[ALICE, ALICE, "5", "etc/shadow"])
        .assert_code(255)
        .assert_stdout_lacks("root:");
}

// ---------------------------------------------------------------------------------------------
// sync-yarn-sysfs (6)
// ---------------------------------------------------------------------------------------------

/// Alice's app dir with an unpacked `sysfs.tar/sysfs`, and the NM's `app.json`, on local dir 1.
fn sysfs_prepared(node: &Node) -> PathBuf {
    node.sb
        .write_config_with(&[("feature.yarn.sysfs.enabled", Some("true"))]);
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    let sysfs = app.join("filecache/10/sysfs.tar/sysfs");
    fs::create_dir_all(&sysfs).unwrap();
    let mut d = sysfs.clone();
    while d != node.locals[0].join("usercache") {
        node.user_dir(&d, ALICE, 0o750);
        d = d.parent().unwrap().to_path_buf();
    }
    let private = node.locals[0].join("nmPrivate").join(APP).join("sysfs");
    fs::create_dir_all(&private).unwrap();
    node.nm_dir(&private);
    node.nm_dir(private.parent().unwrap());
    node.nm_file(&private.join("app.json"), "{\"app\":1}", 0o600);
    sysfs
}

#[test]
fn attack_sysfs_ids_and_dirs_traversal() {
    let Some(node) = Node::new("h_sysfs_ids") else {
        return;
    };
    let _sysfs = sysfs_prepared(&node);
    let victim = Victim::new(&node.sb, "sysfs");
    let local = s(&node.locals[0]);
    // A relative local dir is refused while argv is read (5, issue 14: canonical dir lists).
    for (yarn, app, dirs, code) in [
        (ALICE, "../../../..", local.clone(), 18),
        (
            ALICE,
            "application_1700000000000_0001/../..",
            local.clone(),
            18,
        ),
        ("..", APP, local.clone(), 18),
        (ALICE, APP, s(&victim.dir), 18),
        (ALICE, APP, "relative".to_string(), 5),
    ] {
        let out = unchanged_after(
            &node,
            &[ALICE.into(), yarn.into(), "6".into(), app.into(), dirs],
        );
        out.assert_code(code);
    }
    victim.assert_intact("");
}

#[test]
fn attack_sysfs_target_planted_as_links() {
    // app.json in alice's sysfs dir is replaced (removed, then created new) as alice: a link
    // planted there must be removed, never written through.
    let Some(node) = Node::new("h_sysfs_links") else {
        return;
    };
    let sysfs = sysfs_prepared(&node);
    let victim = Victim::new(&node.sb, "sysfslink");
    let local = s(&node.locals[0]);
    for hard in [false, true] {
        let target = sysfs.join("app.json");
        let _ = fs::remove_file(&target);
        if hard {
            fs::hard_link(&victim.public, &target).unwrap();
        } else {
            symlink(&victim.secret, &target).unwrap();
            node.own(&target, ALICE);
        }
        let out = node.sb.run_as_nm(&[ALICE, ALICE, "6", APP, &local]);
        out.assert_code(0);
        victim.assert_intact(&out.describe());
        let m = fs::symlink_metadata(&target).unwrap();
        assert!(m.is_file(), "app.json is not a fresh file");
        assert_eq!(fs::read_to_string(&target).unwrap(), "{\"app\":1}");
    }
    // The sysfs.tar/sysfs dir itself a symlink to the victim: not followed.
    let dir = sysfs.parent().unwrap().join("sysfs");
    fs::remove_dir_all(&dir).unwrap();
    symlink(&victim.dir, &dir).unwrap();
    node.own(&dir, ALICE);
    let out = node.sb.run_as_nm(&[ALICE, ALICE, "6", APP, &local]);
    out.assert_code(18);
    victim.assert_intact(&out.describe());
}
