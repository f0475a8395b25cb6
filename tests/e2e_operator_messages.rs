//! The operator's `run`, as a new operator reads it (issue 18): a container's own exit status is
//! not given Hadoop's text for that number, a job that has ended is not reported running, the
//! clean-up hint names the log dirs too, and a local dir without `usercache` is named before
//! anything is created.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::Sandbox;

fn job_script(sb: &Sandbox, body: &str) -> PathBuf {
    let path = sb.prefix().join("job.sh");
    common::write_file(&path, &format!("#!/bin/sh\n{body}\n"), 0o755);
    sb.chown(&path, Some(sb.users().nm.uid), Some(sb.users().nm_gid));
    path
}

fn private_dir(sb: &Sandbox) -> PathBuf {
    let p = sb.prefix().join("private");
    fs::create_dir_all(&p).unwrap();
    sb.chown(&p, Some(sb.users().nm.uid), Some(sb.users().nm_gid));
    sb.chmod(&p, 0o700);
    p
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn run_args<'a>(
    user: &'a str,
    script: &'a str,
    locals: &'a [String],
    logs: &'a [String],
    private: &'a str,
) -> Vec<&'a str> {
    let mut a = vec!["run", "--user", user, "--script", script];
    for l in locals {
        a.extend(["--local-dir", l.as_str()]);
    }
    for g in logs {
        a.extend(["--log-dir", g.as_str()]);
    }
    a.extend(["--private-dir", private]);
    a
}

fn strings(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

#[test]
fn run_reports_the_containers_own_status_and_a_whole_cleanup() {
    let Some(sb) = Sandbox::new("op_msg_status") else {
        return;
    };
    let alice = sb.users().alice.name.clone();
    let locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(2));
    let script = job_script(&sb, "exit 3").display().to_string();
    let private = private_dir(&sb).display().to_string();
    let out = sb.run_as_nm(&run_args(&alice, &script, &locals, &logs, &private));
    out.assert_code(3)
        .assert_stdout_has("container finished: exit 3 (the container's own exit status)")
        .assert_stdout_lacks("Invalid command provided")
        .assert_stdout_has("exit code file says 3")
        .assert_stdout_lacks("running: process group");
    let app = entries(
        &Path::new(&locals[0])
            .join("usercache")
            .join(&alice)
            .join("appcache"),
    )
    .pop()
    .unwrap_or_else(|| panic!("no application dir{}", out.describe()));
    for g in &logs {
        out.assert_stdout_has(&format!(
            "container-executor delete --user {alice} --base-dir {g}/{app}"
        ));
    }
    out.assert_stdout_has(&format!(
        "container-executor delete --user {alice} --path {}/usercache/{alice}/appcache/{app}",
        locals[0]
    ));
}

#[test]
fn run_with_a_failed_launch_keeps_hadoops_text() {
    let Some(sb) = Sandbox::new("op_msg_launchfail") else {
        return;
    };
    let alice = sb.users().alice.name.clone();
    let locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(1));
    // A script the caller cannot read: the launch fails before a container exists.
    let script = job_script(&sb, "exit 0");
    sb.chown(&script, Some(0), Some(0));
    sb.chmod(&script, 0o600);
    let script = script.display().to_string();
    let private = private_dir(&sb).display().to_string();
    let out = sb.run_as_nm(&run_args(&alice, &script, &locals, &logs, &private));
    assert_ne!(out.code, 0, "{}", out.describe());
    out.assert_stdout_lacks("the container's own exit status");
}

#[test]
fn run_names_a_missing_usercache_before_creating_anything() {
    let Some(sb) = Sandbox::new("op_msg_usercache") else {
        return;
    };
    let alice = sb.users().alice.name.clone();
    let mut locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(1));
    // A second local dir owned by the NM user, as a fresh disk is before the NM first starts.
    let bare = sb.prefix().join("bare-local");
    fs::create_dir(&bare).unwrap();
    sb.chown(&bare, Some(sb.users().nm.uid), Some(sb.users().nm_gid));
    sb.chmod(&bare, 0o755);
    locals.push(bare.display().to_string());
    let script = job_script(&sb, "exit 0").display().to_string();
    let private = private_dir(&sb);
    let private_s = private.display().to_string();
    sb.run_as_nm(&run_args(&alice, &script, &locals, &logs, &private_s))
        .assert_code(5)
        .assert_stderr_has(&format!("missing {}/usercache", bare.display()))
        .assert_stderr_has(&format!(
            "install -d -o {} -m 0755 {}/usercache",
            sb.users().nm.name,
            bare.display()
        ))
        .assert_stdout_lacks("[4/6]");
    assert!(entries(&bare).is_empty(), "{:?}", entries(&bare));
    assert!(entries(&Path::new(&locals[0]).join("usercache")).is_empty());
    assert!(entries(Path::new(&logs[0])).is_empty());
    assert!(entries(&private).is_empty());
}

#[test]
fn run_reports_a_job_that_keeps_running() {
    let Some(sb) = Sandbox::new("op_msg_running") else {
        return;
    };
    let alice = sb.users().alice.name.clone();
    let locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(1));
    let script = job_script(&sb, "sleep 2; exit 0").display().to_string();
    let private = private_dir(&sb).display().to_string();
    sb.run_as_nm(&run_args(&alice, &script, &locals, &logs, &private))
        .assert_code(0)
        .assert_stdout_has("running: process group ")
        .assert_stdout_has(&format!(
            "stop it with: container-executor signal --user {alice} --pid "
        ))
        .assert_stdout_has("container finished: exit 0 (success)");
}
