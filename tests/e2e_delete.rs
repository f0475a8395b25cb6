//! End-to-end: DELETE_AS_USER (3) as the NodeManager invokes it,
//! `container-executor <user> <user> 3 <path> [base…]` (`docs/layout.md` §7), on trees below the
//! sandbox's NM local dir: the deletion must stay inside the requested tree, never follow a
//! symlink, never touch another user's files, and refuse paths outside the NM's directories.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use nix::fcntl::{renameat2, RenameFlags};

use common::{write_file, Outcome, Sandbox, ALICE, BOB};

static SEQ: AtomicUsize = AtomicUsize::new(0);

struct Node {
    sb: Sandbox,
    local: PathBuf,
    logs: Vec<PathBuf>,
}

impl Node {
    fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let local = sb.nm_local_dirs(1).remove(0);
        let logs = sb.nm_log_dirs(2);
        let node = Node { sb, local, logs };
        // <L>/usercache/alice (alice, 02750) and its appcache, as initialize leaves them.
        let user_dir = node.user_dir();
        fs::create_dir(&user_dir).unwrap();
        node.own(&user_dir, ALICE);
        node.sb.chmod(&user_dir, 0o2750);
        node.mkdir(&user_dir.join("appcache"), ALICE, 0o750);
        Some(node)
    }

    fn user_dir(&self) -> PathBuf {
        self.local.join("usercache").join(ALICE)
    }

    fn appcache(&self) -> PathBuf {
        self.user_dir().join("appcache")
    }

    fn uid(&self, user: &str) -> u32 {
        self.sb.users().get(user).unwrap().uid
    }

    fn gid(&self, user: &str) -> u32 {
        self.sb.users().get(user).unwrap().gid
    }

    /// lchown to `user`'s uid and primary group (no mode fix-up: works on symlinks too).
    fn own(&self, path: &Path, user: &str) {
        std::os::unix::fs::lchown(path, Some(self.uid(user)), Some(self.gid(user)))
            .unwrap_or_else(|e| panic!("lchown {}: {e}", path.display()));
    }

    fn mkdir(&self, path: &Path, user: &str, mode: u32) {
        fs::create_dir(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        self.own(path, user);
        self.sb.chmod(path, mode);
    }

    fn file(&self, path: &Path, user: &str, content: &str) {
        write_file(path, content, 0o640);
        self.own(path, user);
    }

    /// A small tree owned by `user`: dir/{f1, sub/{f2, deeper/f3}}.
    fn tree(&self, dir: &Path, user: &str) {
        self.mkdir(dir, user, 0o750);
        self.file(&dir.join("f1"), user, "1");
        self.mkdir(&dir.join("sub"), user, 0o750);
        self.file(&dir.join("sub/f2"), user, "2");
        self.mkdir(&dir.join("sub/deeper"), user, 0o750);
        self.file(&dir.join("sub/deeper/f3"), user, "3");
    }

    /// A directory outside the NM's dirs (in the sandbox prefix), owned by `user`, with files.
    fn outside(&self, user: &str) -> PathBuf {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let dir = self.sb.prefix().join(format!("outside-{n}"));
        self.mkdir(&dir, user, 0o755);
        self.file(&dir.join("precious"), user, "keep me");
        self.mkdir(&dir.join("inner"), user, 0o755);
        self.file(&dir.join("inner/precious2"), user, "keep me too");
        dir
    }

    fn delete(&self, user: &str, words: &[&str]) -> Outcome {
        let mut argv = vec![user, user, "3"];
        argv.extend_from_slice(words);
        self.sb.run_as_nm(&argv)
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[track_caller]
fn assert_outside_intact(dir: &Path, what: &str) {
    assert_eq!(
        fs::read_to_string(dir.join("precious")).ok().as_deref(),
        Some("keep me"),
        "{what}: {}/precious lost",
        dir.display()
    );
    assert_eq!(
        fs::read_to_string(dir.join("inner/precious2"))
            .ok()
            .as_deref(),
        Some("keep me too"),
        "{what}: {}/inner/precious2 lost",
        dir.display()
    );
}

#[test]
fn nested_tree_with_unreadable_dirs_is_deleted() {
    let Some(node) = Node::new("del_nested") else {
        return;
    };
    let app = node.appcache().join("application_1700000000000_0001");
    node.tree(&app, ALICE);
    let ro = app.join("sub/readonly");
    node.mkdir(&ro, ALICE, 0o755);
    node.file(&ro.join("f"), ALICE, "ro");
    node.mkdir(&ro.join("d"), ALICE, 0o755);
    node.file(&ro.join("d/g"), ALICE, "ro2");
    node.sb.chmod(&ro, 0o500);
    let none = app.join("none");
    node.mkdir(&none, ALICE, 0o755);
    node.file(&none.join("f"), ALICE, "none");
    node.mkdir(&none.join("d"), ALICE, 0o755);
    node.sb.chmod(&none.join("d"), 0o000);
    node.sb.chmod(&none, 0o000);

    let out = node.delete(ALICE, &[&s(&app)]);
    out.assert_code(0);
    assert!(
        fs::symlink_metadata(&app).is_err(),
        "{} survived{}",
        app.display(),
        out.describe()
    );
    assert!(node.appcache().is_dir(), "the parent went too");
}

#[test]
fn symlink_inside_the_tree_is_removed_not_followed() {
    let Some(node) = Node::new("del_inner_link") else {
        return;
    };
    let outside = node.outside(ALICE);
    let app = node.appcache().join("application_1700000000000_0001");
    node.tree(&app, ALICE);
    let link = app.join("sub/link");
    symlink(&outside, &link).unwrap();
    node.own(&link, ALICE);
    let link_file = app.join("file-link");
    symlink(outside.join("precious"), &link_file).unwrap();
    node.own(&link_file, ALICE);

    let out = node.delete(ALICE, &[&s(&app)]);
    out.assert_code(0);
    assert!(fs::symlink_metadata(&app).is_err(), "tree survived");
    assert_outside_intact(&outside, "symlink inside the tree");
}

#[test]
fn symlink_in_the_middle_of_the_path_is_refused() {
    let Some(node) = Node::new("del_mid_link") else {
        return;
    };
    let outside = node.outside(ALICE);
    let link = node.appcache().join("application_1700000000000_0001");
    symlink(&outside, &link).unwrap();
    node.own(&link, ALICE);

    // Through the link to a directory with files, and to a single file.
    let out = node.delete(ALICE, &[&s(&link.join("inner"))]);
    assert_ne!(
        out.code,
        0,
        "accepted a path through a symlink{}",
        out.describe()
    );
    let out2 = node.delete(ALICE, &[&s(&link.join("precious"))]);
    assert_ne!(
        out2.code,
        0,
        "accepted a path through a symlink{}",
        out2.describe()
    );
    // And as a base dir with a sub-path.
    let out3 = node.delete(ALICE, &["inner", &s(&link)]);
    assert_outside_intact(
        &outside,
        &format!("{}{}{}", out.describe(), out2.describe(), out3.describe()),
    );
    assert!(fs::symlink_metadata(&link).is_ok(), "the link itself went");
}

/// Subdirectories per round that the racer keeps swapping with a symlink to the outside dir.
const RACED_DIRS: usize = 64;

#[test]
fn racing_symlink_swaps_never_reach_outside() {
    let Some(node) = Node::new("del_race") else {
        return;
    };
    let outside = node.outside(ALICE);
    let (uid, gid) = (node.uid(ALICE), node.gid(ALICE));
    for round in 0..20 {
        let app = node
            .appcache()
            .join(format!("application_1700000000000_{:04}", round + 1));
        node.tree(&app, ALICE);
        for i in 0..RACED_DIRS {
            let d = app.join(format!("s{i}"));
            node.mkdir(&d, ALICE, 0o750);
            for j in 0..2 {
                node.file(&d.join(format!("x{j}")), ALICE, "x");
            }
        }
        let stop = AtomicBool::new(false);
        let started = AtomicBool::new(false);
        let out = std::thread::scope(|sc| {
            sc.spawn(|| {
                // Atomically exchange each s<i> (and sub) with a symlink to the outside dir
                // (renameat2 RENAME_EXCHANGE), again and again, while the delete walks the tree.
                let names: Vec<String> = (0..RACED_DIRS)
                    .map(|i| format!("s{i}"))
                    .chain(["sub".to_string()])
                    .collect();
                for name in &names {
                    let l = app.join(format!("link-{name}"));
                    symlink(&outside, &l).unwrap();
                    let _ = std::os::unix::fs::lchown(&l, Some(uid), Some(gid));
                }
                started.store(true, Ordering::SeqCst);
                while !stop.load(Ordering::SeqCst) {
                    for name in &names {
                        let _ = renameat2(
                            None,
                            &app.join(name),
                            None,
                            &app.join(format!("link-{name}")),
                            RenameFlags::RENAME_EXCHANGE,
                        );
                    }
                }
            });
            while !started.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let out = node.delete(ALICE, &[&s(&app)]);
            stop.store(true, Ordering::SeqCst);
            out
        });
        assert_outside_intact(&outside, &format!("round {round}{}", out.describe()));
        let _ = fs::remove_dir_all(&app);
    }
}

#[test]
fn dotdot_in_the_path_is_refused() {
    let Some(node) = Node::new("del_dotdot") else {
        return;
    };
    let app = node.appcache().join("application_1700000000000_0001");
    node.tree(&app, ALICE);
    let victim = node.appcache().join("application_1700000000000_0002");
    node.tree(&victim, ALICE);
    let path = format!("{}/../application_1700000000000_0002", s(&app));
    let out = node.delete(ALICE, &[&path]);
    assert_ne!(out.code, 0, "accepted {path}{}", out.describe());
    let out2 = node.delete(ALICE, &["../application_1700000000000_0002", &s(&app)]);
    assert_ne!(out2.code, 0, "accepted a '..' sub-path{}", out2.describe());
    for d in [&app, &victim] {
        assert!(
            d.join("sub/deeper/f3").exists(),
            "{} lost files{}{}",
            d.display(),
            out.describe(),
            out2.describe()
        );
    }
}

#[test]
fn another_users_files_survive() {
    let Some(node) = Node::new("del_bob") else {
        return;
    };
    let app = node.appcache().join("application_1700000000000_0001");
    node.tree(&app, ALICE);
    node.sb.chmod(&app, 0o777);
    let bobs = app.join("bobs");
    node.mkdir(&bobs, BOB, 0o755);
    node.file(&bobs.join("b1"), BOB, "bob1");
    node.mkdir(&bobs.join("d"), BOB, 0o755);
    node.file(&bobs.join("d/b2"), BOB, "bob2");
    let bobs_locked = app.join("bobs_locked");
    node.mkdir(&bobs_locked, BOB, 0o755);
    node.file(&bobs_locked.join("b3"), BOB, "bob3");
    node.sb.chmod(&bobs_locked, 0o000);

    let out = node.delete(ALICE, &[&s(&app)]);
    for (f, want) in [
        (bobs.join("b1"), "bob1"),
        (bobs.join("d/b2"), "bob2"),
        (bobs_locked.join("b3"), "bob3"),
    ] {
        assert_eq!(
            fs::read_to_string(&f).ok().as_deref(),
            Some(want),
            "{} lost{}",
            f.display(),
            out.describe()
        );
    }
    assert_eq!(
        node.sb.mode_of(&bobs_locked),
        0o000,
        "bob's dir was chmod'ed"
    );

    // Alice asking for bob's own application dir (in bob's user dir, NM group 02750).
    let bob_user = node.local.join("usercache").join(BOB);
    node.mkdir(&bob_user, BOB, 0o750);
    std::os::unix::fs::chown(&bob_user, None, Some(node.sb.users().nm_gid)).unwrap();
    node.sb.chmod(&bob_user, 0o2750);
    node.mkdir(&bob_user.join("appcache"), BOB, 0o750);
    let bob_app = bob_user.join("appcache/application_1700000000000_0009");
    node.tree(&bob_app, BOB);
    let out2 = node.delete(ALICE, &[&s(&bob_app)]);
    let out3 = node.delete(ALICE, &["", &s(&bob_app)]);
    assert!(
        bob_app.join("sub/deeper/f3").exists() && bob_app.join("f1").exists(),
        "bob's application dir lost files{}{}",
        out2.describe(),
        out3.describe()
    );
}

#[test]
fn missing_path_is_success() {
    let Some(node) = Node::new("del_missing") else {
        return;
    };
    let path = node.appcache().join("application_1700000000000_0404");
    node.delete(ALICE, &[&s(&path)]).assert_code(0);
    node.delete(ALICE, &[&s(&path.join("deeper/still"))])
        .assert_code(0);
}

#[test]
fn empty_sub_removes_every_base_in_nm_owned_dirs() {
    let Some(node) = Node::new("del_bases") else {
        return;
    };
    let bases: Vec<PathBuf> = node
        .logs
        .iter()
        .map(|g| g.join("application_1700000000000_0001"))
        .collect();
    for b in &bases {
        node.tree(b, ALICE);
    }
    let shown: Vec<String> = bases.iter().map(|b| s(b)).collect();
    let out = node.delete(ALICE, &["", &shown[0], &shown[1]]);
    out.assert_code(0);
    for b in &bases {
        assert!(
            fs::symlink_metadata(b).is_err(),
            "{} survived{}",
            b.display(),
            out.describe()
        );
    }
    for g in &node.logs {
        assert!(g.is_dir(), "the log root {} went", g.display());
    }
}

#[test]
fn relative_sub_under_a_base_removes_only_the_sub() {
    let Some(node) = Node::new("del_sub") else {
        return;
    };
    let base = node.appcache().join("application_1700000000000_0001");
    node.tree(&base, ALICE);
    let out = node.delete(ALICE, &["sub", &s(&base)]);
    out.assert_code(0);
    assert!(
        fs::symlink_metadata(base.join("sub")).is_err(),
        "sub survived{}",
        out.describe()
    );
    assert!(base.is_dir(), "the base went{}", out.describe());
    assert!(base.join("f1").exists(), "the base's files went");
}

#[test]
fn path_outside_the_nm_dirs_is_refused() {
    let Some(node) = Node::new("del_outside") else {
        return;
    };
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(format!("/var/tmp/cexec-e2e-del-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    node.tree(&dir, ALICE);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();

    let out = node.delete(ALICE, &[&s(&dir.join("sub"))]);
    let out2 = node.delete(ALICE, &["", &s(&dir)]);
    let out3 = node.delete(ALICE, &["sub", &s(&dir)]);
    let survived = dir.join("sub/deeper/f3").exists() && dir.join("f1").exists();
    let _ = fs::remove_dir_all(&dir);
    assert!(
        survived,
        "files outside the NM dirs were deleted{}{}{}",
        out.describe(),
        out2.describe(),
        out3.describe()
    );
    assert_ne!(out.code, 0, "accepted{}", out.describe());
    assert_ne!(out2.code, 0, "accepted{}", out2.describe());
    assert_ne!(out3.code, 0, "accepted{}", out3.describe());
}
