//! End-to-end: `--module-gpu`, `--module-fpga` and `--module-devices` write `devices.deny` lines
//! into a real cgroup the test creates under the machine's cgroup v1 `devices` controller.
//!
//! The cgroup starts in whitelist mode (`a` denied) with a few devices allowed, so every line the
//! binary writes shows up exactly in `devices.list` (an allow-all cgroup lists only `a *:* rwm`).

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{config_text, Sandbox};

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn fresh_cid() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst) + 2;
    format!("container_1700000000000_0001_01_{n:06}")
}

/// The mount point of the v1 `devices` controller, if it is mounted as `<root>/devices`.
fn devices_mount() -> Option<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|l| {
        let (head, tail) = l.split_once(" - ")?;
        let is_devices = tail.starts_with("cgroup ")
            && tail
                .split_whitespace()
                .nth(2)
                .is_some_and(|o| o.split(',').any(|x| x == "devices"));
        let mp = PathBuf::from(head.split_whitespace().nth(4)?);
        (is_devices && mp.file_name()? == "devices").then_some(mp)
    })
}

/// `<devices mount>/<hierarchy>/<cid>...`, removed on drop (cgroup dirs are removed with rmdir).
struct DevCgroup {
    mount: PathBuf,
    hierarchy: String,
    cids: Vec<String>,
}

impl DevCgroup {
    fn new(mount: &Path) -> DevCgroup {
        let hierarchy = format!("cexec-e2e-{}-{}", std::process::id(), fresh_cid());
        fs::create_dir(mount.join(&hierarchy)).expect("mkdir hierarchy cgroup");
        DevCgroup {
            mount: mount.to_path_buf(),
            hierarchy,
            cids: Vec::new(),
        }
    }

    fn root(&self) -> PathBuf {
        self.mount.parent().unwrap().to_path_buf()
    }

    fn dir(&self, cid: &str) -> PathBuf {
        self.mount.join(&self.hierarchy).join(cid)
    }

    /// A container cgroup that allows only the given devices.
    fn container(&mut self, allowed: &[&str]) -> String {
        let cid = fresh_cid();
        fs::create_dir(self.dir(&cid)).expect("mkdir container cgroup");
        self.cids.push(cid.clone());
        write_each(&self.dir(&cid).join("devices.deny"), &["a"]);
        write_each(&self.dir(&cid).join("devices.allow"), allowed);
        cid
    }

    fn list(&self, cid: &str) -> String {
        common::read(&self.dir(cid).join("devices.list"))
    }

    fn config(&self, extra: &str) -> String {
        format!(
            "{}{extra}[cgroups]\nroot={}\nyarn-hierarchy={}\n",
            config_text(&[]),
            self.root().display(),
            self.hierarchy
        )
    }
}

impl Drop for DevCgroup {
    fn drop(&mut self) {
        for cid in &self.cids {
            let _ = fs::remove_dir(self.dir(cid));
        }
        let _ = fs::remove_dir(self.mount.join(&self.hierarchy));
    }
}

/// One write per rule, as the kernel parses them.
fn write_each(file: &Path, lines: &[&str]) {
    for line in lines {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
        f.write_all(line.as_bytes())
            .unwrap_or_else(|e| panic!("write {line} to {}: {e}", file.display()));
    }
}

fn setup(name: &str) -> Option<(Sandbox, DevCgroup)> {
    let sb = Sandbox::new(name)?;
    let Some(mount) = devices_mount() else {
        eprintln!(
            "!!! SKIPPED {name}: no cgroup v1 devices controller mounted as <root>/devices !!!"
        );
        return None;
    };
    let cg = DevCgroup::new(&mount);
    Some((sb, cg))
}

#[test]
fn gpu_module_denies_the_excluded_minors() {
    let Some((sb, mut cg)) = setup("dev-gpu") else {
        return;
    };
    let cid = cg.container(&["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm"]);
    // Major 1 (mem devices: 1:3 /dev/null, 1:5 /dev/zero) so the effect can be seen.
    sb.write_config(&cg.config(
        "[gpu]\nmodule.enabled=true\ngpu.major-device-number=1\ngpu.allowed-device-minor-numbers=3,5,7\n",
    ));
    let deny = cg.dir(&cid).join("devices.deny");
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "3,5",
        "--container_id",
        &cid,
    ])
    .assert_code(0)
    .assert_stderr_has(&format!(
        "CGroups: Updating cgroups, path={}, value=c 1:3 rwm",
        deny.display()
    ))
    .assert_stderr_has("value=c 1:5 rwm");
    assert_eq!(cg.list(&cid), "c 1:7 rwm\nc 1:8 rwm\n");
    // The kernel enforces it: a process in the cgroup can no longer read /dev/zero.
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec head -c 1 /dev/zero",
        cg.dir(&cid).display()
    );
    let out = common::output(Command::new("sh").args(["-c", &script])).unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not permitted"),
        "{out:?}"
    );
    // A minor outside the allowed list: -1, nothing written.
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "7,8",
        "--container_id",
        &cid,
    ])
    .assert_code(255)
    .assert_stderr_has("minor-number=8 which is not on allowed list");
    assert_eq!(cg.list(&cid), "c 1:7 rwm\nc 1:8 rwm\n");
    // Nothing excluded: Hadoop's message and 0.
    sb.run_as_nm(&["--module-gpu", "--container_id", &cid])
        .assert_code(0)
        .assert_stderr_has("--excluded_gpus is not specified, skip cgroups call.");
}

#[test]
fn fpga_module_uses_the_default_major() {
    let Some((sb, mut cg)) = setup("dev-fpga") else {
        return;
    };
    let cid = cg.container(&["c 246:0 rwm", "c 246:1 rwm"]);
    sb.write_config(&cg.config("[fpga]\nmodule.enabled=true\n"));
    sb.run_as_nm(&[
        "--module-fpga",
        "--excluded_fpgas",
        "0",
        "--container_id",
        &cid,
    ])
    .assert_code(0);
    assert_eq!(cg.list(&cid), "c 246:1 rwm\n");
    sb.run_as_nm(&["--module-fpga", "--container_id", &cid])
        .assert_code(0)
        .assert_stderr_has("--excluded-fpgas is not specified, skip cgroups call.");
}

#[test]
fn devices_module_writes_configured_and_excluded_rules() {
    let Some((sb, mut cg)) = setup("dev-devices") else {
        return;
    };
    let cid = cg.container(&["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm"]);
    sb.write_config(&cg.config("[devices]\nmodule.enabled=true\ndevices.denied-numbers=1:8\n"));
    // Re-allowing a configured denial is refused before anything is written.
    sb.run_as_nm(&[
        "--module-devices",
        "--excluded_devices",
        "c-1:3-rwm",
        "--allowed_devices",
        "1:7,1:8",
        "--container_id",
        &cid,
    ])
    .assert_code(255)
    .assert_stderr_has("device number=1:8 which is not permitted");
    assert_eq!(
        cg.list(&cid),
        "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\n"
    );
    sb.run_as_nm(&[
        "--module-devices",
        "--excluded_devices",
        "c-1:3-rwm,c-1:5-r",
        "--allowed_devices",
        "1:7",
        "--container_id",
        &cid,
    ])
    .assert_code(0)
    .assert_stderr_has("value=c 1:8 rwm")
    .assert_stderr_has("value=c 1:5 r");
    assert_eq!(cg.list(&cid), "c 1:5 wm\nc 1:7 rwm\n");
}

#[test]
fn malformed_arguments_are_refused_and_change_nothing() {
    let Some((sb, mut cg)) = setup("dev-bad") else {
        return;
    };
    let cid = cg.container(&["c 1:3 rwm", "c 195:0 rwm"]);
    sb.write_config(&cg.config("[gpu]\nmodule.enabled=true\n[devices]\nmodule.enabled=true\n"));
    let before = cg.list(&cid);
    for bad in [
        "-1",
        "1x",
        "0x",
        "4294967296",
        "2147483648",
        "99999999999999999999",
        " 0",
        "+0",
    ] {
        sb.run_as_nm(&[
            "--module-gpu",
            "--excluded_gpus",
            bad,
            "--container_id",
            &cid,
        ])
        .assert_code(1)
        .assert_stderr_has("Failed to get minor devices number from command line");
    }
    for bad in [
        "c-1:3-rwx",
        "c-1:-3-rwm",
        "c 1:3 rwm",
        "z-1:3-rwm",
        "c-1:3:4-rwm",
        "c-99999999999:3-rwm",
    ] {
        sb.run_as_nm(&[
            "--module-devices",
            "--excluded_devices",
            bad,
            "--container_id",
            &cid,
        ])
        .assert_code(1);
    }
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "0",
        "--container_id",
        "container_x",
    ])
    .assert_code(1)
    .assert_stderr_has("Specified container_id=container_x is invalid");
    sb.run_as_nm(&["--module-gpu", "--excluded_gpus", "0"])
        .assert_code(1)
        .assert_stderr_has("--container_id must be specified.");
    sb.run_as_nm(&["--module-gpu", "--bogus", "--container_id", &cid])
        .assert_code(1)
        .assert_stderr_has("Unknown option in gpu command");
    assert_eq!(cg.list(&cid), before);
    // A container without a cgroup: -1.
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "0",
        "--container_id",
        &fresh_cid(),
    ])
    .assert_code(255)
    .assert_stderr_has("Could not find file to write");
    assert_eq!(cg.list(&cid), before);
}

#[test]
fn modules_are_refused_while_disabled() {
    let Some(sb) = Sandbox::new("dev-disabled") else {
        return;
    };
    let cid = fresh_cid();
    for (module, name) in [
        ("--module-gpu", "gpu"),
        ("--module-fpga", "fpga"),
        ("--module-devices", "devices"),
    ] {
        sb.run_as_nm(&[module, "--container_id", &cid])
            .assert_code(255)
            .assert_stdout_has(&format!("Module {name} is disabled"))
            .assert_stderr_has(&format!(
                "Please make sure {name} module is enabled before using it."
            ));
    }
    sb.write_config(&format!("{}[gpu]\nmodule.enabled=1\n", config_text(&[])));
    sb.run_as_nm(&["--module-gpu", "--container_id", &cid])
        .assert_code(255);
}

#[test]
fn writes_only_to_a_cgroup_filesystem_and_never_through_symlinks() {
    let Some(sb) = Sandbox::new("dev-fake") else {
        return;
    };
    // A look-alike tree on an ordinary filesystem, owned by the NodeManager.
    let root = sb.prefix().join("fakecg");
    let cid = fresh_cid();
    let dir = root.join("devices/yarn").join(&cid);
    fs::create_dir_all(&dir).unwrap();
    common::write_file(&dir.join("devices.deny"), "", 0o644);
    let linked = fresh_cid();
    std::os::unix::fs::symlink(&dir, root.join("devices/yarn").join(&linked)).unwrap();
    let nm = sb.users().nm.uid;
    for p in ["devices", "devices/yarn"] {
        std::os::unix::fs::chown(root.join(p), Some(nm), None).unwrap();
    }
    sb.write_config(&format!(
        "{}[gpu]\nmodule.enabled=true\n[cgroups]\nroot={}\nyarn-hierarchy=yarn\n",
        config_text(&[]),
        root.display()
    ));
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "0",
        "--container_id",
        &cid,
    ])
    .assert_code(255)
    .assert_stderr_has("is not on a cgroup filesystem");
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "0",
        "--container_id",
        &linked,
    ])
    .assert_code(255)
    .assert_stderr_has("Could not find file to write");
    assert_eq!(common::read(&dir.join("devices.deny")), "");
    // yarn-hierarchy with a '..' component is refused.
    sb.write_config(&format!(
        "{}[gpu]\nmodule.enabled=true\n[cgroups]\nroot={}\nyarn-hierarchy=yarn/../yarn\n",
        config_text(&[]),
        root.display()
    ));
    sb.run_as_nm(&[
        "--module-gpu",
        "--excluded_gpus",
        "0",
        "--container_id",
        &cid,
    ])
    .assert_code(255);
    assert_eq!(common::read(&dir.join("devices.deny")), "");
}
