//! End-to-end: sync yarn sysfs (command 6) and list-as-user (command 5) edge cases.

mod common;

use std::fs;
use std::os::unix::fs::{chown, MetadataExt};
use std::path::{Path, PathBuf};

use common::{read, write_file, Sandbox, ALICE};

const APP: &str = "application_1700000000000_0007";

fn mkdir_owned(path: &Path, uid: u32, gid: u32, mode: u32) {
    fs::create_dir_all(path).unwrap();
    chown(path, Some(uid), Some(gid)).unwrap();
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

/// A local dir where the localizer already unpacked `sysfs.tar` for alice's app, and the NM wrote
/// `nmPrivate/<app>/sysfs/app.json`.
fn prepared(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let local = sb.nm_local_dirs(1).remove(0);
    let u = sb.users();
    let app_dir = local
        .join("usercache")
        .join(ALICE)
        .join("appcache")
        .join(APP);
    let sysfs = app_dir.join("filecache/10/sysfs.tar/sysfs");
    for dir in [
        local.join("usercache").join(ALICE),
        local.join("usercache").join(ALICE).join("appcache"),
        app_dir.clone(),
        app_dir.join("filecache"),
        app_dir.join("filecache/10"),
        app_dir.join("filecache/10/sysfs.tar"),
        sysfs.clone(),
    ] {
        mkdir_owned(&dir, u.alice.uid, u.nm_gid, 0o750);
    }
    let private = local.join("nmPrivate").join(APP).join("sysfs");
    mkdir_owned(&private, u.nm.uid, u.nm_gid, 0o700);
    write_file(&private.join("app.json"), "{\"app\":1}", 0o600);
    chown(private.join("app.json"), Some(u.nm.uid), Some(u.nm_gid)).unwrap();
    (local, sysfs)
}

#[test]
fn sysfs_is_silently_refused_while_disabled() {
    let Some(sb) = Sandbox::new("sysfs-disabled") else {
        return;
    };
    let (local, sysfs) = prepared(&sb);
    let local = local.to_string_lossy().into_owned();
    let out = sb.run_as_nm(&[ALICE, ALICE, "6", APP, &local]);
    out.assert_code(32).assert_stderr_lacks("Feature disabled:");
    assert!(!sysfs.join("app.json").exists());
}

#[test]
fn sysfs_copies_app_json_as_the_user() {
    let Some(sb) = Sandbox::new("sysfs-copy") else {
        return;
    };
    sb.write_config_with(&[("feature.yarn.sysfs.enabled", Some("true"))]);
    let (local, sysfs) = prepared(&sb);
    // An older copy is replaced.
    write_file(&sysfs.join("app.json"), "old", 0o644);
    let local = local.to_string_lossy().into_owned();
    sb.run_as_nm(&[ALICE, ALICE, "6", APP, &local])
        .assert_code(0);
    let copy = sysfs.join("app.json");
    assert_eq!(read(&copy), "{\"app\":1}");
    let meta = fs::metadata(&copy).unwrap();
    assert_eq!(meta.uid(), sb.users().alice.uid);
    assert_eq!(meta.mode() & 0o7777, 0o750);
}

#[test]
fn sysfs_without_a_localized_archive_is_18() {
    let Some(sb) = Sandbox::new("sysfs-missing") else {
        return;
    };
    sb.write_config_with(&[("feature.yarn.sysfs.enabled", Some("true"))]);
    let (local, sysfs) = prepared(&sb);
    fs::remove_dir(&sysfs).unwrap();
    let local = local.to_string_lossy().into_owned();
    sb.run_as_nm(&[ALICE, ALICE, "6", APP, &local])
        .assert_code(18);
    sb.run_as_nm(&[ALICE, ALICE, "6", APP]).assert_code(1);
    sb.run_as_nm(&[ALICE, ALICE, "6", "application_1_../x", &local])
        .assert_code(18);
}

#[test]
fn sysfs_does_not_follow_a_symlinked_archive_dir() {
    let Some(sb) = Sandbox::new("sysfs-symlink") else {
        return;
    };
    sb.write_config_with(&[("feature.yarn.sysfs.enabled", Some("true"))]);
    let (local, sysfs) = prepared(&sb);
    // Replace sysfs.tar with a symlink to a directory alice owns elsewhere under the local dir.
    let elsewhere = local.join("elsewhere");
    let u = sb.users();
    mkdir_owned(&elsewhere.join("sysfs"), u.alice.uid, u.nm_gid, 0o750);
    let tar = sysfs.parent().unwrap().to_path_buf();
    fs::remove_dir(&sysfs).unwrap();
    fs::remove_dir(&tar).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &tar).unwrap();
    let local_arg = local.to_string_lossy().into_owned();
    sb.run_as_nm(&[ALICE, ALICE, "6", APP, &local_arg])
        .assert_code(18);
    assert!(!elsewhere.join("sysfs/app.json").exists());
}

#[test]
fn list_prints_only_names_after_the_main_lines() {
    let Some(sb) = Sandbox::new("list-names") else {
        return;
    };
    let local = sb.nm_local_dirs(1).remove(0);
    let u = sb.users();
    let dir = local
        .join("usercache")
        .join(ALICE)
        .join("filecache/17/libs");
    mkdir_owned(
        &local.join("usercache").join(ALICE),
        u.alice.uid,
        u.nm_gid,
        0o750,
    );
    mkdir_owned(&dir, u.alice.uid, u.nm_gid, 0o750);
    for name in ["file1", ".file2", "a\nmain : ..", "output"] {
        write_file(&dir.join(name), "", 0o644);
    }
    let d = dir.to_string_lossy().into_owned();
    let out = sb.run_as_nm(&[ALICE, ALICE, "5", &d]);
    out.assert_code(0);
    let mut names: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("main :"))
        .collect();
    names.sort();
    // The name holding a newline is left out (and named on stderr): it cannot smuggle a ".."
    // entry in.
    assert_eq!(
        names,
        vec![".file2", "file1", "output"],
        "{}",
        out.describe()
    );
    out.assert_stderr_has("Left out of the listing: a\\x0amain : ..");
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("main :"))
            .count(),
        3
    );
}

#[test]
fn list_bad_input() {
    let Some(sb) = Sandbox::new("list-bad") else {
        return;
    };
    let local = sb.nm_local_dirs(1).remove(0);
    let missing = local.join("nothing-here").to_string_lossy().into_owned();
    sb.run_as_nm(&[ALICE, ALICE, "5", &missing])
        .assert_code(255)
        .assert_stdout_has("Could not stat");
    sb.run_as_nm(&[ALICE, ALICE, "5"]).assert_code(255);
    sb.run_as_nm(&[ALICE, ALICE, "5", "relative/dir"])
        .assert_code(255);
    // A directory alice may not read: refused, nothing listed.
    let private = local.join("nmPrivate").to_string_lossy().into_owned();
    let out = sb.run_as_nm(&[ALICE, ALICE, "5", &private]);
    out.assert_code(255);
    // A plain file is listed as its own path.
    let file = local.join("plain");
    write_file(&file, "", 0o644);
    let f = file.to_string_lossy().into_owned();
    sb.run_as_nm(&[ALICE, ALICE, "5", &f])
        .assert_code(0)
        .assert_stdout_has(&format!("{f}\n"));
}
