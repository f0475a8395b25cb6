//! End-to-end: the drop-in details of issue 13, where a side-by-side run against Hadoop's binary
//! showed a difference. Each test asserts the exact exit code, the exact lines on stdout and
//! stderr (as the NodeManager reads them) and the resulting tree.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
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

// ------------------------------------------------------------------------------------------
// 1. the localizer's stdin
// ------------------------------------------------------------------------------------------

/// Run the binary as the NodeManager with `input` waiting on its stdin (a pipe kept full, as
/// the NM's never-written stdin would be if it held data).
fn run_as_nm_with_stdin(sb: &Sandbox, args: &[&str], input: &[u8]) -> Outcome {
    let nm = &sb.users().nm;
    let mut child = Command::new("/usr/bin/setpriv")
        .arg(format!("--reuid={}", nm.uid))
        .arg(format!("--regid={}", nm.gid))
        .arg("--init-groups")
        .arg("/usr/bin/env")
        .arg("--")
        .arg(sb.bin())
        .args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Outcome {
        command: format!("(stdin piped) {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn the_localizer_never_reads_the_nodemanagers_stdin() {
    let Some(node) = Node::new("dropin_stdin") else {
        return;
    };
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    // The localizer records what its fd 0 is and everything it can read from it.
    let script = "PATH=/usr/bin:/bin; { readlink /proc/self/fd/0 || echo closed; } > stdin.probe; \
                  cat >> stdin.probe 2>/dev/null; echo end >> stdin.probe";
    let args = [
        ALICE,
        ALICE,
        "0",
        APP,
        &cid,
        &s(&tokens),
        &s(&node.local),
        &s(&node.log),
        "/bin/sh",
        "-c",
        script,
    ];
    let out = run_as_nm_with_stdin(&node.sb, &args, b"NM-SECRET-INPUT\n");
    out.assert_code(0);
    assert_stdout(&out, &main_lines(0, ALICE));
    assert_stderr(&out, &[]);
    let probe = fs::read_to_string(node.appcache().join(APP).join("stdin.probe"))
        .unwrap_or_else(|e| panic!("no probe ({e}){}", out.describe()));
    // /dev/null (SECURITY.md: strictly safer than Hadoop's closed fd 0): EOF at once.
    assert_eq!(probe, "/dev/null\nend\n", "{}", out.describe());
    assert_eq!(
        tree_of(&node.appcache().join(APP)),
        ["stdin.probe", "t.tokens"]
    );
}

// ------------------------------------------------------------------------------------------
// 3 and 7. messages: the C library's text, Hadoop's words, Hadoop's stream
// ------------------------------------------------------------------------------------------

#[test]
fn list_messages_are_hadoops() {
    let Some(node) = Node::new("dropin_list_msgs") else {
        return;
    };
    let fail = |out: &Outcome, line: String| {
        out.assert_code(255);
        assert_stdout(out, &with(main_lines(5, ALICE), &[line]));
        assert_stderr(out, &[final_line(-1, "Unknown error code")]);
    };
    let missing = node.appcache().join("missing");
    let out = node.run(ALICE, "5", &[&s(&missing)]);
    fail(
        &out,
        format!("Could not stat {} - No such file or directory", s(&missing)),
    );

    let dangling = node.appcache().join("dangling");
    symlink(node.appcache().join("nowhere"), &dangling).unwrap();
    let out = node.run(ALICE, "5", &[&s(&dangling)]);
    fail(
        &out,
        format!(
            "Could not stat {} - No such file or directory",
            s(&dangling)
        ),
    );

    // Searchable but not readable: stat works, opening the directory does not.
    let closed = node.appcache().join("closed");
    node.mkdir(&closed, ALICE, 0o750);
    node.file(&closed.join("inside"), ALICE);
    node.sb.chmod(&closed, 0o300);
    let out = node.run(ALICE, "5", &[&s(&closed)]);
    fail(
        &out,
        format!(
            "Could not open directory {} - Permission denied",
            s(&closed)
        ),
    );

    // Below a directory the user cannot search: stat fails with EACCES.
    let hidden = closed.join("inside");
    node.sb.chmod(&closed, 0o600);
    let out = node.run(ALICE, "5", &[&s(&hidden)]);
    fail(
        &out,
        format!("Could not stat {} - Permission denied", s(&hidden)),
    );
    node.sb.chmod(&closed, 0o750);

    // And what works still works: names only on stdout after the three lines.
    let out = node.run(ALICE, "5", &[&s(&closed)]);
    out.assert_code(0);
    assert_stdout(&out, &with(main_lines(5, ALICE), &["inside".to_string()]));
    assert_stderr(&out, &[]);
}

#[test]
fn other_commands_print_the_c_library_text() {
    let Some(node) = Node::new("dropin_msgs") else {
        return;
    };
    // Initialize with a credentials file that is not there: Hadoop's line on LOG, the final
    // line on ERR, and (validation first) nothing created.
    let cid = fresh_cid();
    // Where the NM writes it (below nmPrivate/<app>/), so only its absence refuses it.
    let tokens = node.local.join("nmPrivate").join(APP).join("absent.tokens");
    let bob = common::BOB;
    let before = tree_of(&node.local);
    let out = node.run(
        bob,
        "0",
        &[
            APP,
            &cid,
            &s(&tokens),
            &s(&node.local),
            &s(&node.log),
            "/bin/true",
        ],
    );
    out.assert_code(255);
    assert_stdout(
        &out,
        &with(
            main_lines(0, bob),
            &[format!(
                "Can't open file {} as node manager - No such file or directory",
                s(&tokens)
            )],
        ),
    );
    assert_stderr(&out, &[final_line(-1, "Unknown error code")]);
    assert_eq!(tree_of(&node.local), before, "initialize created something");
    assert_eq!(tree_of(&node.log), Vec::<String>::new());

    // Launch with a script that is not there: 5, Hadoop's line, nothing else.
    let script = node.local.join("nmPrivate").join("absent.sh");
    let work = node.appcache().join(APP).join(&cid);
    let pid_file = node.local.join("nmPrivate").join("c.pid");
    let out = node.run(
        ALICE,
        "1",
        &[
            APP,
            &cid,
            &s(&work),
            &s(&script),
            &s(&tokens),
            "--http",
            &s(&pid_file),
            &s(&node.local),
            &s(&node.log),
            "cgroups=none",
        ],
    );
    out.assert_code(5);
    assert_stdout(
        &out,
        &with(
            main_lines(1, ALICE),
            &[
                "Getting exit code file...".to_string(),
                "Creating script paths...".to_string(),
                format!(
                    "Can't open file {} as node manager - No such file or directory",
                    s(&script)
                ),
            ],
        ),
    );
    // Hadoop's own line for the input on ERR, then the final line.
    assert_stderr(
        &out,
        &[
            "Could not open container file".to_string(),
            final_line(5, "Invalid NM root dirs"),
        ],
    );
    assert!(!work.exists() && !pid_file.exists());

    // A configured local root that is not there, for sysfs: Hadoop's stat line with the text.
    node.sb
        .write_config_with(&[("feature.yarn.sysfs.enabled", Some("true"))]);
    let missing_root = node.sb.prefix().join("no-root");
    let out = node.run(ALICE, "6", &[APP, &s(&missing_root)]);
    out.assert_code(18);
    assert_stdout(
        &out,
        &with(
            main_lines(6, ALICE),
            &[format!(
                "Error checking file stats for {} -1 No such file or directory.",
                s(&missing_root)
            )],
        ),
    );
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        assert!(!line.contains("os error"), "{line}{}", out.describe());
    }
}

// ------------------------------------------------------------------------------------------
// 4. feature gates first
// ------------------------------------------------------------------------------------------

#[test]
fn a_disabled_feature_answers_32_whatever_its_argument_count() {
    let Some(node) = Node::new("dropin_gates") else {
        return;
    };
    let disabled = |feature: &str| vec![format!("Feature disabled: {feature}")];
    let fd = final_line(32, "Feature disabled");
    let cases: [(&[&str], &str); 9] = [
        (&["--mount-cgroups"], "mount cgroup"),
        (&["--tc-modify-state"], "traffic control"),
        (&["--tc-read-state", "a", "b"], "traffic control"),
        (&["--tc-read-stats"], "traffic control"),
        (&["--exec-container", "a", "b"], "feature.terminal.enabled"),
        (&["--run-docker"], "docker"),
        (&["--inspect-docker-container"], "docker"),
        (&["--run-runc-container", "a", "b"], "runc"),
        (&["--reap-runc-layer-mounts"], "runc"),
    ];
    for (args, feature) in cases {
        let out = node.sb.run_as_nm(args);
        out.assert_code(32);
        out.assert_stdout_empty();
        assert_stderr(&out, &with(disabled(feature), std::slice::from_ref(&fd)));
    }
    // Launch docker (4) with too few arguments: the gate first.
    let out = node.run(ALICE, "4", &[]);
    out.assert_code(32);
    assert_stdout(&out, &main_lines(4, ALICE));
    assert_stderr(&out, &with(disabled("docker"), std::slice::from_ref(&fd)));

    // Sync sysfs with no further argument: the user is checked, then 32 with no message.
    let out = node.run(ALICE, "6", &[]);
    out.assert_code(32);
    assert_stdout(&out, &main_lines(6, ALICE));
    assert_stderr(&out, std::slice::from_ref(&fd));
    let out = node.run(ALICE, "6", &[APP]);
    out.assert_code(32);
    assert_stderr(&out, std::slice::from_ref(&fd));
    // ... and enabled, the missing argument is ours to refuse (Hadoop reads past argv): 1.
    node.sb
        .write_config_with(&[("feature.yarn.sysfs.enabled", Some("true"))]);
    let out = node.run(ALICE, "6", &[APP]);
    out.assert_code(1);

    // A disabled device module answers before its options are read.
    for (mode, name) in [
        ("--module-gpu", "gpu"),
        ("--module-fpga", "fpga"),
        ("--module-devices", "devices"),
    ] {
        let out = node.sb.run_as_nm(&[mode]);
        out.assert_code(255);
        assert_stdout(&out, &[format!("Module {name} is disabled")]);
        assert_stderr(
            &out,
            &[
                format!("Please make sure {name} module is enabled before using it."),
                final_line(-1, "Unknown error code"),
            ],
        );
    }
}

// ------------------------------------------------------------------------------------------
// 5. runC reaping arguments
// ------------------------------------------------------------------------------------------

#[test]
fn reap_runc_layer_count_is_checked_before_not_supported() {
    let Some(node) = Node::new("dropin_runc_reap") else {
        return;
    };
    // Disabled: 32 whatever the count.
    let out = node.sb.run_as_nm(&["--reap-runc-layer-mounts", "-1"]);
    out.assert_code(32);
    node.sb
        .write_config_with(&[("feature.runc.enabled", Some("1"))]);
    for bad in ["-1", "abc", "", "-2147483648", "4294967295"] {
        let out = node.sb.run_as_nm(&["--reap-runc-layer-mounts", bad]);
        out.assert_code(3);
        out.assert_stdout_empty();
        assert_stderr(
            &out,
            &[
                format!("Bad runc layer count: {bad}"),
                final_line(3, "Invalid command provided"),
            ],
        );
    }
    // A count sscanf takes ("5", " 2", "7x"): past the check, runC is not built in (255).
    for good in ["5", " 2", "7x", "0"] {
        let out = node.sb.run_as_nm(&["--reap-runc-layer-mounts", good]);
        out.assert_code(255);
        out.assert_stdout_empty();
        assert_stderr(
            &out,
            &[
                "runC support is not supported by this build of container-executor".to_string(),
                final_line(-1, "Unknown error code"),
            ],
        );
    }
    // Wrong count of arguments: usage (1).
    let out = node.sb.run_as_nm(&["--reap-runc-layer-mounts"]);
    out.assert_code(1);
}

// ------------------------------------------------------------------------------------------
// 6. validate before creating
// ------------------------------------------------------------------------------------------

#[test]
fn refused_initialize_creates_nothing() {
    let Some(node) = Node::new("dropin_init_refused") else {
        return;
    };
    let bob = common::BOB;
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let before = tree_of(&node.local);
    for (app, yarn_user) in [
        ("application_1700000000000_0001/x", bob),
        ("application_1700000000000_0001/../../x", bob),
        ("app/x", bob),
        (APP, "bad/user"),
    ] {
        let out = node.sb.run_as_nm(&[
            bob,
            yarn_user,
            "0",
            app,
            &cid,
            &s(&tokens),
            &s(&node.local),
            &s(&node.log),
            "/bin/true",
        ]);
        assert_ne!(out.code, 0, "{}", out.describe());
        let expected_code = if yarn_user == bob { 255 } else { 20 };
        out.assert_code(expected_code);
        assert_eq!(tree_of(&node.local), before, "{app}{}", out.describe());
        assert_eq!(tree_of(&node.log), Vec::<String>::new(), "{app}");
        assert!(!node.local.join("usercache").join(bob).exists());
    }

    // A second local root the NM does not own: 20 as Hadoop's user-dir step answers, but the
    // first root gets no user dir either (Hadoop makes it before it reaches the second).
    let foreign = node.sb.prefix().join("foreign-root");
    fs::create_dir(&foreign).unwrap();
    let locals = format!("{}%{}", s(&node.local), s(&foreign));
    let out = node.run(
        bob,
        "0",
        &[APP, &cid, &s(&tokens), &locals, &s(&node.log), "/bin/true"],
    );
    out.assert_code(20);
    assert_stdout(
        &out,
        &with(
            main_lines(0, bob),
            &[
                format!(
                    "Permission mismatch for {} for caller uid: {}, owner uid: 0.",
                    s(&foreign),
                    node.sb.users().nm.uid
                ),
                format!("Couldn't get userdir directory for {bob}."),
            ],
        ),
    );
    assert_stderr(&out, &[final_line(20, "Initialize user failed")]);
    assert_eq!(tree_of(&node.local), before);
    assert_eq!(tree_of(&node.log), Vec::<String>::new());
    assert_eq!(tree_of(&foreign), Vec::<String>::new());
}

#[test]
fn refused_launch_changes_nothing() {
    let Some(node) = Node::new("dropin_launch_refused") else {
        return;
    };
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let private = tokens.parent().unwrap().to_path_buf();
    let script = private.join("launch_container.sh");
    node.nm_file(&script, "#!/bin/sh\nexit 0\n");
    let pid_file = private.join(format!("{cid}.pid"));
    let good_work = node.appcache().join(APP).join(&cid);
    let before_local = tree_of(&node.local);
    let launch = |work: &Path, resources: &str| {
        node.run(
            ALICE,
            "1",
            &[
                APP,
                &cid,
                &s(work),
                &s(&script),
                &s(&tokens),
                "--http",
                &s(&pid_file),
                &s(&node.local),
                &s(&node.log),
                resources,
            ],
        )
    };
    // A work dir that is no container dir of the local dirs given: 35, nothing created.
    let elsewhere = node.sb.prefix().join("elsewhere").join(&cid);
    let out = launch(&elsewhere, "cgroups=none");
    out.assert_code(35);
    out.assert_stdout_has("main : command provided 1");
    assert_stdout(&out, &main_lines(1, ALICE));
    assert_stderr(
        &out,
        &[
            format!(
                "Work dir {} is not the container's directory under a local dir",
                s(&elsewhere)
            ),
            final_line(35, "Could not create work dirs"),
        ],
    );
    // A cgroup file that is no task list: 27 before the pid file is written.
    let out = launch(&good_work, "cgroups=/sys/fs/cgroup/cpu/notify_on_release");
    out.assert_code(27);
    assert_stdout(
        &out,
        &with(
            main_lines(1, ALICE),
            &[
                "Pid file /sys/fs/cgroup/cpu/notify_on_release is not a cgroup task list \
               (tasks or cgroup.procs)"
                    .to_string(),
            ],
        ),
    );
    assert_stderr(
        &out,
        &[
            "/sys/fs/cgroup/cpu/notify_on_release is not a cgroup task file".to_string(),
            final_line(27, "Write to cgroup failed"),
        ],
    );
    assert_eq!(tree_of(&node.local), before_local);
    assert_eq!(tree_of(&node.log), Vec::<String>::new());
    assert!(!pid_file.exists());
}

#[test]
fn refused_delete_and_mount_change_nothing() {
    let Some(node) = Node::new("dropin_multi_refused") else {
        return;
    };
    // A bad last base dir: the first base's tree is not deleted.
    let app = node.appcache().join(APP);
    node.tree(&app, ALICE);
    let sub = format!("usercache/{ALICE}/appcache/{APP}");
    let out = node.run(ALICE, "3", &[&sub, &s(&node.local), "relative/base"]);
    out.assert_code(255);
    assert_stdout(
        &out,
        &with(
            main_lines(3, ALICE),
            &[
                "Could not stat relative/base - refusing a relative path: relative/base"
                    .to_string(),
            ],
        ),
    );
    assert_stderr(&out, &[final_line(-1, "Unknown error code")]);
    assert_eq!(tree_of(&app), ["f1", "sub", "sub/f2"]);

    // --mount-cgroups: a bad second pair refuses before the first is mounted.
    node.sb
        .write_config_with(&[("feature.mount-cgroup.enabled", Some("1"))]);
    let point = node.sb.prefix().join("mnt-cpu");
    fs::create_dir(&point).unwrap();
    let out = node.sb.run_as_root(&[
        "--mount-cgroups",
        "hadoop-yarn",
        &format!("cpu={}", s(&point)),
        "memory=relative/path",
    ]);
    out.assert_code(3);
    assert_stdout(
        &out,
        &["cgroup mount path must be absolute. relative/path".to_string()],
    );
    assert_stderr(&out, &[final_line(3, "Invalid command provided")]);
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&s(&point)),
        "{} was mounted{}",
        point.display(),
        out.describe()
    );
    assert_eq!(tree_of(&point), Vec::<String>::new());
}

// ------------------------------------------------------------------------------------------
// Kept refusals (SECURITY.md)
// ------------------------------------------------------------------------------------------

#[test]
fn command_numbers_with_sign_blank_or_junk_are_refused_with_3() {
    let Some(node) = Node::new("dropin_cmd_numbers") else {
        return;
    };
    // Hadoop's atoi would take these (+1 = launch, " 5" = list, "5x" = list).
    for (arg, echoed) in [("+1", 1), (" 5", 5), ("5x", 5), ("+0", 0), ("\t3", 3)] {
        let out = node.run(ALICE, arg, &[&s(&node.appcache())]);
        out.assert_code(3);
        assert_stdout(&out, &main_lines(echoed, ALICE));
        assert_stderr(
            &out,
            &[
                format!("Invalid command {arg} not supported."),
                final_line(3, "Invalid command provided"),
            ],
        );
    }
    assert!(node.appcache().is_dir());
}

#[test]
fn delete_without_a_path_is_still_refused() {
    let Some(node) = Node::new("dropin_del_nopath") else {
        return;
    };
    let before = tree_of(&node.local);
    let out = node.sb.run_as_nm(&[ALICE, ALICE, "3"]);
    out.assert_code(21);
    assert_stdout(
        &out,
        &with(main_lines(3, ALICE), &["Path is null".to_string()]),
    );
    assert_stderr(&out, &[final_line(21, "Path to delete is null")]);
    assert_eq!(tree_of(&node.local), before);
}
