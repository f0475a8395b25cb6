//! End-to-end: `--mount-cgroups` mounts real cgroup filesystems, each run inside a private mount
//! namespace (`unshare -m --propagation private`) so the machine's mount table is never touched.
//! The binary runs setuid root, exec'd as the NodeManager user inside the namespace; a shell
//! epilogue in the same namespace reports what is mounted and who owns the hierarchy, then
//! removes the hierarchy (cgroup directories live in the kernel's hierarchy, not the namespace).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{config_text, Sandbox, NM_GROUP, NM_USER};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A hierarchy name unique to this test process and call.
fn fresh_hierarchy() -> String {
    format!(
        "cexec-e2e-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

/// The mount data of a real v1 controller this kernel has on a v1 hierarchy (`freezer`), or a
/// named hierarchy without controllers when there is none (a cgroup v2-only machine).
fn v1_controller() -> String {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let has_freezer = mountinfo.lines().any(|l| {
        l.split(" - ")
            .nth(1)
            .is_some_and(|tail| tail.starts_with("cgroup ") && tail.contains("freezer"))
    });
    if has_freezer {
        "freezer".into()
    } else {
        format!("none,name=cexec_e2e_{}", std::process::id())
    }
}

/// Whether this machine lets root mount cgroups in a private mount namespace.
fn can_mount(kind: &str, data: Option<&str>) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = data.map(|d| format!("-o {d}")).unwrap_or_default();
    let script = format!(
        "mount -t {kind} {opts} none {0} && umount {0}",
        dir.path().display()
    );
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .status()
        .is_ok_and(|s| s.success())
}

/// What one run observed.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// `@@ `-prefixed lines of the epilogue.
    report: Vec<String>,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn report(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}=");
        self.report
            .iter()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
    }
}

/// Run the binary as the NM user in a fresh private mount namespace; then, in the same
/// namespace, report the filesystem type mounted on each of `watch` (or `none`), and for each
/// `(mount point, hierarchy)` in `hierarchies` the owner/mode of the hierarchy and of its
/// `cgroup.procs`, then remove the hierarchy directory.
fn in_mountns(sb: &Sandbox, args: &[&str], watch: &[&Path], hierarchies: &[(&Path, &str)]) -> Run {
    let mut epilogue = String::new();
    for (i, mp) in watch.iter().enumerate() {
        epilogue.push_str(&format!(
            "echo \"@@ fstype{i}=$(findmnt -n -o FSTYPE --mountpoint {} || echo none)\"\n",
            mp.display()
        ));
    }
    for (i, (mp, hier)) in hierarchies.iter().enumerate() {
        let h = mp.join(hier);
        epilogue.push_str(&format!(
            "echo \"@@ hier{i}=$(stat -c '%u:%g:%a' {0} 2>/dev/null || echo missing)\"\n\
             echo \"@@ procs{i}=$(stat -c '%u:%g' {0}/cgroup.procs 2>/dev/null || echo missing)\"\n\
             [ -d {0} ] && rmdir {0}\n",
            h.display()
        ));
    }
    let script = format!(
        "setpriv --reuid={NM_USER} --regid={NM_GROUP} --init-groups /usr/bin/env -i \"$@\"\n\
         rc=$?\n{epilogue}exit $rc\n"
    );
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        &script,
        "sh",
    ])
    .arg(sb.bin())
    .args(args)
    .current_dir("/");
    let out = common::output(&mut cmd).expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Run {
        code: out.status.code().unwrap_or(-1),
        report: stdout
            .lines()
            .filter_map(|l| l.strip_prefix("@@ ").map(str::to_string))
            .collect(),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `<prefix>/cg` (root 0755) as the allowed root, with an empty mount point in it per name.
fn scratch(sb: &Sandbox, names: &[&str]) -> (PathBuf, Vec<PathBuf>) {
    let root = sb.prefix().join("cg");
    std::fs::create_dir_all(&root).unwrap();
    let mps = names
        .iter()
        .map(|n| {
            let mp = root.join(n);
            std::fs::create_dir_all(&mp).unwrap();
            mp
        })
        .collect();
    (root, mps)
}

fn enable(sb: &Sandbox, root: Option<&Path>) {
    let mut text = config_text(&[("feature.mount-cgroup.enabled", Some("true"))]);
    if let Some(root) = root {
        text.push_str(&format!("[cgroups]\nroot={}\n", root.display()));
    }
    sb.write_config(&text);
}

fn nm_owner(sb: &Sandbox) -> String {
    format!("{}:{}", sb.users().nm.uid, sb.users().nm_gid)
}

#[test]
fn mount_cgroups_is_refused_with_32_while_disabled() {
    let Some(sb) = Sandbox::new("mcg-disabled") else {
        return;
    };
    sb.run_as_nm(&["--mount-cgroups", "hadoop-yarn", "cpu=/nonexistent"])
        .assert_code(32)
        .assert_stderr_has("Feature disabled: mount cgroup");
    sb.write_config_with(&[("feature.mount-cgroup.enabled", Some("false"))]);
    sb.run_as_nm(&["--mount-cgroups"]).assert_code(32);
}

#[test]
fn mounts_a_v1_controller_and_gives_the_hierarchy_to_the_nm() {
    let Some(sb) = Sandbox::new("mcg-v1") else {
        return;
    };
    let controller = v1_controller();
    if !can_mount("cgroup", Some(&controller)) {
        eprintln!("!!! SKIPPED mounts_a_v1_controller...: root cannot mount cgroup v1 ({controller}) here !!!");
        return;
    }
    let (root, mps) = scratch(&sb, &["ctl"]);
    enable(&sb, Some(&root));
    let hier = fresh_hierarchy();
    let pair = format!("{controller}={}", mps[0].display());
    let run = in_mountns(
        &sb,
        &["--mount-cgroups", &hier, &pair],
        &[&mps[0]],
        &[(&mps[0], &hier)],
    );
    assert_eq!(run.code, 0, "{}", run.describe());
    assert_eq!(run.report("fstype0"), Some("cgroup"), "{}", run.describe());
    let owner = nm_owner(&sb);
    assert_eq!(run.report("hier0"), Some(format!("{owner}:750").as_str()));
    assert_eq!(run.report("procs0"), Some(owner.as_str()));
    // The namespace is gone: nothing stays mounted on the machine.
    assert!(
        !common::read(Path::new("/proc/self/mountinfo")).contains(&mps[0].display().to_string())
    );
}

#[test]
fn mounts_the_unified_hierarchy_with_the_cgroup2_key() {
    let Some(sb) = Sandbox::new("mcg-v2") else {
        return;
    };
    if !can_mount("cgroup2", None) {
        eprintln!(
            "!!! SKIPPED mounts_the_unified_hierarchy...: root cannot mount cgroup2 here !!!"
        );
        return;
    }
    let (root, mps) = scratch(&sb, &["unified"]);
    // The mount point is reached from [cgroups] root without following symlinks.
    enable(&sb, Some(&root));
    let hier = format!("{}/nm", fresh_hierarchy());
    let pair = format!("cgroup2={}", mps[0].display());
    let top = hier.split('/').next().unwrap().to_string();
    let run = in_mountns(
        &sb,
        &["--mount-cgroups", &hier, &pair],
        &[&mps[0]],
        &[(&mps[0], &hier), (&mps[0], &top)],
    );
    assert_eq!(run.code, 0, "{}", run.describe());
    assert_eq!(run.report("fstype0"), Some("cgroup2"), "{}", run.describe());
    let owner = nm_owner(&sb);
    assert_eq!(run.report("hier0"), Some(format!("{owner}:750").as_str()));
    assert_eq!(run.report("procs0"), Some(owner.as_str()));
    // The intermediate directory is made (0750) but stays root's, as in Hadoop's mkdirs.
    assert_eq!(
        run.report("hier1"),
        Some(format!("0:{}:750", sb.users().nm_gid).as_str())
    );
}

#[test]
fn refuses_bad_mount_points_and_mounts_nothing() {
    let Some(sb) = Sandbox::new("mcg-refuse") else {
        return;
    };
    if !can_mount("cgroup2", None) {
        eprintln!("!!! SKIPPED refuses_bad_mount_points...: root cannot mount cgroup2 here !!!");
        return;
    }
    let (root, mps) = scratch(&sb, &["empty", "full", "target", "sub"]);
    std::fs::write(mps[1].join("something"), "x").unwrap();
    let link = root.join("link");
    std::os::unix::fs::symlink(&mps[2], &link).unwrap();
    // A symlinked directory in the middle of the path.
    let via_link = link.clone();
    let below_link = via_link.join("deeper");
    std::fs::create_dir(mps[2].join("deeper")).unwrap();
    let outside = sb.prefix().join("outside");
    std::fs::create_dir(&outside).unwrap();
    enable(&sb, Some(&root));
    let hier = fresh_hierarchy();
    let cases: Vec<(String, String, i32)> = vec![
        (
            "../escape".into(),
            format!("cgroup2={}", mps[0].display()),
            3,
        ),
        (
            hier.clone(),
            format!("cgroup2={}/../cg/empty", root.display()),
            3,
        ),
        (hier.clone(), format!("cgroup2={}", mps[1].display()), 3),
        (hier.clone(), format!("cgroup2={}", link.display()), 3),
        (hier.clone(), format!("cgroup2={}", below_link.display()), 3),
        (hier.clone(), format!("cgroup2={}", outside.display()), 3),
        (hier.clone(), format!("cgroup2={}", root.display()), 3),
        (hier.clone(), "cgroup2=relative/path".into(), 3),
        (
            hier.clone(),
            format!("cgroup2={}/missing", root.display()),
            3,
        ),
        (hier.clone(), format!("cgroup2{}", mps[0].display()), 255),
        (hier.clone(), format!("={}", mps[0].display()), 255),
    ];
    let watched: Vec<&Path> = vec![&mps[0], &mps[1], &mps[2], &outside, &root];
    for (h, pair, code) in cases {
        let run = in_mountns(&sb, &["--mount-cgroups", &h, &pair], &watched, &[]);
        assert_eq!(run.code, code, "{h} {pair}: {}", run.describe());
        for (i, mp) in watched.iter().enumerate() {
            assert_eq!(
                run.report(&format!("fstype{i}")),
                Some("none"),
                "{h} {pair} mounted something on {}: {}",
                mp.display(),
                run.describe()
            );
        }
    }
    // Pairs run in order and stop at the first failure: the good first one is mounted, the
    // refused second one is not.
    let run = in_mountns(
        &sb,
        &[
            "--mount-cgroups",
            &hier,
            &format!("cgroup2={}", mps[0].display()),
            &format!("cgroup2={}", mps[1].display()),
        ],
        &[&mps[0], &mps[1]],
        &[(&mps[0], &hier)],
    );
    assert_eq!(run.code, 3, "{}", run.describe());
    assert_eq!(run.report("fstype0"), Some("cgroup2"));
    assert_eq!(run.report("fstype1"), Some("none"));
}

#[test]
fn refuses_a_hierarchy_owned_by_someone_else() {
    let Some(sb) = Sandbox::new("mcg-owned") else {
        return;
    };
    if !can_mount("cgroup2", None) {
        eprintln!("!!! SKIPPED refuses_a_hierarchy_owned_by_someone_else: root cannot mount cgroup2 here !!!");
        return;
    }
    let (root, mps) = scratch(&sb, &["u"]);
    enable(&sb, Some(&root));
    let hier = fresh_hierarchy();
    // Pre-create the hierarchy as root on the same (shared) unified hierarchy, in the same
    // namespace, just before the binary runs.
    let pair = format!("cgroup2={}", mps[0].display());
    let script = format!(
        "mount -t cgroup2 none {mp} && mkdir {mp}/{hier} && umount {mp} || exit 99\n\
         setpriv --reuid={NM_USER} --regid={NM_GROUP} --init-groups /usr/bin/env -i \"$@\"\n\
         rc=$?\n\
         echo \"@@ owner=$(stat -c %u {mp}/{hier})\"\n\
         rmdir {mp}/{hier}\n\
         exit $rc\n",
        mp = mps[0].display()
    );
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        &script,
        "sh",
    ])
    .arg(sb.bin())
    .args(["--mount-cgroups", &hier, &pair]);
    let out = common::output(&mut cmd).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("already owned by another user"), "{stdout}");
    assert!(stdout.contains("@@ owner=0"), "{stdout}");
}
