//! End-to-end: the drop-in details of issue 13, where a side-by-side run against Hadoop's binary
//! showed a difference. Each test asserts the exact exit code, the exact lines on stdout and
//! stderr (as the NodeManager reads them) and the resulting tree.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{write_file, Outcome, Sandbox, ALICE};

const APP: &str = "application_1700000000000_0001";

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn fresh_cid() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst) + 2;
    format!("container_1700000000000_0001_01_{n:06}")
}

/// One sandbox with one NM local root and one NM log root (both NM-owned, in a root-owned
/// parent), and `<L>/usercache/alice/appcache` as initialize leaves it.
struct Node {
    sb: Sandbox,
    local: PathBuf,
    log: PathBuf,
}

impl Node {
    fn new(name: &str) -> Option<Node> {
        let sb = Sandbox::new(name)?;
        let local = sb.nm_local_dirs(1).remove(0);
        let log = sb.nm_log_dirs(1).remove(0);
        let node = Node { sb, local, log };
        let user_dir = node.local.join("usercache").join(ALICE);
        node.mkdir(&user_dir, ALICE, 0o2750);
        node.mkdir(&user_dir.join("appcache"), ALICE, 0o750);
        Some(node)
    }

    fn appcache(&self) -> PathBuf {
        self.local.join("usercache").join(ALICE).join("appcache")
    }

    fn ids(&self, user: &str) -> (u32, u32) {
        let a = self.sb.users().get(user).expect("known user");
        (a.uid, a.gid)
    }

    fn mkdir(&self, path: &Path, user: &str, mode: u32) {
        fs::create_dir(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        let (uid, gid) = self.ids(user);
        self.sb.chown(path, Some(uid), Some(gid));
        self.sb.chmod(path, mode);
    }

    fn file(&self, path: &Path, user: &str) {
        write_file(path, "data", 0o640);
        let (uid, gid) = self.ids(user);
        self.sb.chown(path, Some(uid), Some(gid));
    }

    /// dir/{f1, sub/{f2}} owned by `user`.
    fn tree(&self, dir: &Path, user: &str) {
        self.mkdir(dir, user, 0o750);
        self.file(&dir.join("f1"), user);
        self.mkdir(&dir.join("sub"), user, 0o750);
        self.file(&dir.join("sub/f2"), user);
    }

    fn run(&self, user: &str, command: &str, words: &[&str]) -> Outcome {
        let mut argv = vec![user, user, command];
        argv.extend_from_slice(words);
        self.sb.run_as_nm(&argv)
    }

    fn nm_file(&self, path: &Path, content: &str) {
        write_file(path, content, 0o600);
        let users = self.sb.users();
        self.sb.chown(path, Some(users.nm.uid), Some(users.nm_gid));
    }

    /// `<L>/nmPrivate/<app>/<cid>/t.tokens`, as the NodeManager writes it.
    fn tokens(&self, cid: &str) -> PathBuf {
        let users = self.sb.users();
        let mut dir = self.local.join("nmPrivate");
        for part in [APP, cid] {
            dir = dir.join(part);
            fs::create_dir_all(&dir).unwrap();
            self.sb.chown(&dir, Some(users.nm.uid), Some(users.nm_gid));
            self.sb.chmod(&dir, 0o700);
        }
        let tokens = dir.join("t.tokens");
        self.nm_file(&tokens, "tokens");
        tokens
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The three lines every run-as-user command prints first.
fn main_lines(command: i64, user: &str) -> Vec<String> {
    vec![
        format!("main : command provided {command}"),
        format!("main : run as user is {user}"),
        format!("main : requested yarn user is {user}"),
    ]
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

#[track_caller]
fn assert_stdout(out: &Outcome, expected: &[String]) {
    assert_eq!(lines(&out.stdout), expected, "stdout{}", out.describe());
}

#[track_caller]
fn assert_stderr(out: &Outcome, expected: &[String]) {
    assert_eq!(lines(&out.stderr), expected, "stderr{}", out.describe());
}

fn final_line(code: i32, text: &str) -> String {
    format!("Nonzero exit code={code}, error message='{text}'")
}

fn with(mut v: Vec<String>, more: &[String]) -> Vec<String> {
    v.extend_from_slice(more);
    v
}

/// Every path below `dir` (relative), sorted: the tree as a value.
fn tree_of(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, acc: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            acc.push(p.strip_prefix(base).unwrap().display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(base, &p, acc);
            }
        }
    }
    let mut acc = Vec::new();
    walk(dir, dir, &mut acc);
    acc.sort();
    acc
}

// ------------------------------------------------------------------------------------------
// 2. delete with base dirs: `3 <relative sub-path> <base>...`
// ------------------------------------------------------------------------------------------

#[test]
fn delete_relative_sub_path_below_nm_roots() {
    let Some(node) = Node::new("dropin_del_base") else {
        return;
    };
    let gone = node.appcache().join(APP);
    node.tree(&gone, ALICE);
    let other = node.appcache().join("application_1700000000000_0002");
    node.tree(&other, ALICE);
    let sub = format!("usercache/{ALICE}/appcache/{APP}");

    // The base is the NM local root itself (NM-owned, its parent root-owned).
    let out = node.run(ALICE, "3", &[&sub, &s(&node.local)]);
    out.assert_code(0);
    assert_stdout(&out, &main_lines(3, ALICE));
    assert_stderr(&out, &[]);
    assert!(fs::symlink_metadata(&gone).is_err(), "{sub} survived");
    assert_eq!(
        tree_of(&other),
        ["f1", "sub", "sub/f2"],
        "the sibling app was touched"
    );
    assert!(node.appcache().is_dir(), "the parent went too");

    // A sub-path starting with `/` stays below the base, as Hadoop's `<base>/<sub>` does.
    node.tree(&gone, ALICE);
    let out = node.run(ALICE, "3", &[&format!("/{sub}"), &s(&node.local)]);
    out.assert_code(0);
    assert_stdout(&out, &main_lines(3, ALICE));
    assert_stderr(&out, &[]);
    assert!(fs::symlink_metadata(&gone).is_err(), "/{sub} survived");

    // A sub-path that does not exist under an existing base is success.
    let out = node.run(ALICE, "3", &[&sub, &s(&node.local), &s(&node.log)]);
    out.assert_code(0);
    assert_stdout(&out, &main_lines(3, ALICE));
    assert_stderr(&out, &[]);
    assert_eq!(tree_of(&other), ["f1", "sub", "sub/f2"]);
}

#[test]
fn delete_skips_missing_base_dirs_whatever_their_parent() {
    let Some(node) = Node::new("dropin_del_missing") else {
        return;
    };
    let gone = node.appcache().join(APP);
    node.tree(&gone, ALICE);
    let sub = format!("usercache/{ALICE}/appcache/{APP}");
    // Missing below a root-owned dir, below a missing dir, and below the NM root.
    let missing = [
        node.sb.prefix().join("no-such-root"),
        PathBuf::from("/nonexistent-cexec-dir/deeper/root"),
        node.local.join("no-such-subdir"),
    ];
    let mut words = vec![sub.clone()];
    words.extend(missing.iter().map(|p| s(p)));
    words.push(s(&node.local));
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let out = node.run(ALICE, "3", &words);
    out.assert_code(0);
    assert_stdout(&out, &main_lines(3, ALICE));
    assert_stderr(&out, &[]);
    assert!(fs::symlink_metadata(&gone).is_err(), "{sub} survived");
    for m in &missing {
        assert!(fs::symlink_metadata(m).is_err(), "{} created", m.display());
    }

    // Only missing bases: nothing to do, success, and no base (empty sub-path) is needed.
    let out = node.run(ALICE, "3", &["", &s(&missing[0])]);
    out.assert_code(0);
    assert_stdout(&out, &main_lines(3, ALICE));
    assert_stderr(&out, &[]);
}

#[test]
fn delete_keeps_its_confinement_with_base_dirs() {
    let Some(node) = Node::new("dropin_del_confined") else {
        return;
    };
    // A base outside the NM's directories (owned by the user, in the root-owned prefix).
    let outside = node.sb.prefix().join("outside");
    node.tree(&outside, ALICE);
    let out = node.run(ALICE, "3", &["sub", &s(&outside)]);
    out.assert_code(255);
    let target = format!("{}/sub", s(&outside));
    assert_stdout(
        &out,
        &with(
            main_lines(3, ALICE),
            &[format!(
                "Error while deleting {target}: 0 (refusing a path outside the NodeManager's \
                 directories: {target})"
            )],
        ),
    );
    assert_stderr(&out, &[final_line(-1, "Unknown error code")]);
    assert_eq!(tree_of(&outside), ["f1", "sub", "sub/f2"]);

    // `..` in the sub-path is refused, nothing changes.
    let app = node.appcache().join(APP);
    node.tree(&app, ALICE);
    let before = tree_of(&node.local);
    let sneaky = format!("usercache/{ALICE}/appcache/{APP}/../{APP}");
    let out = node.run(ALICE, "3", &[&sneaky, &s(&node.local)]);
    out.assert_code(255);
    assert_stdout(
        &out,
        &with(
            main_lines(3, ALICE),
            &[format!(
                "Error while deleting {}/{sneaky}: 0 (refusing '..' in: {}/{sneaky})",
                s(&node.local),
                s(&node.local)
            )],
        ),
    );
    assert_stderr(&out, &[final_line(-1, "Unknown error code")]);
    assert_eq!(tree_of(&node.local), before);

    // The NM root itself (empty sub-path) is not below an NM-owned directory: refused.
    let out = node.run(ALICE, "3", &["", &s(&node.local)]);
    out.assert_code(255);
    assert_stdout(
        &out,
        &with(
            main_lines(3, ALICE),
            &[format!(
                "Could not stat {} - refusing a path outside the NodeManager's directories: {}",
                s(&node.local),
                s(&node.local)
            )],
        ),
    );
    assert_stderr(&out, &[final_line(-1, "Unknown error code")]);
    assert_eq!(tree_of(&node.local), before);

    // A base that is a file cannot hold a sub-path (Hadoop's words).
    let file = node.appcache().join("plain");
    node.file(&file, ALICE);
    let out = node.run(ALICE, "3", &["x", &s(&file)]);
    out.assert_code(255);
    assert_stdout(
        &out,
        &with(
            main_lines(3, ALICE),
            &[format!(
                "baseDir \"{}\" is a file and cannot contain subdir \"x\".",
                s(&file)
            )],
        ),
    );
    assert_stderr(&out, &[final_line(-1, "Unknown error code")]);
    assert!(file.exists());
}
