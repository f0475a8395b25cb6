//! The operator's side, end to end against the real setuid binary: the manual `run` / `signal` /
//! `list` / `delete` subcommands, caller pinning (`nm-user`), the explaining `--checksetup`, and
//! `--version`.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Outcome, Sandbox, TempUser, NM_GROUP, NM_USER};

const NM_USER_KEY: &str = "yarn.nodemanager.linux-container-executor.nm-user";

/// A job script owned by the NM user (the caller must be able to read it).
fn job_script(sb: &Sandbox, body: &str) -> PathBuf {
    let path = sb.prefix().join("job.sh");
    common::write_file(&path, &format!("#!/bin/sh\n{body}\n"), 0o755);
    sb.chown(&path, Some(sb.users().nm.uid), Some(sb.users().nm_gid));
    path
}

/// A private dir for run's NM-side files, owned by the NM user, so tests can look inside.
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

/// The application id `run` printed.
fn app_id_in(out: &Outcome) -> String {
    let at = out
        .stdout
        .find("application_")
        .unwrap_or_else(|| panic!("no application id{}", out.describe()));
    out.stdout[at..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap()
        .to_string()
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
fn manual_run_plays_a_whole_lifecycle() {
    let Some(sb) = Sandbox::new("op_run_lifecycle") else {
        return;
    };
    let alice = &sb.users().alice;
    let locals = strings(&sb.nm_local_dirs(2));
    let logs = strings(&sb.nm_log_dirs(1));
    let script = job_script(
        &sb,
        "echo \"job: uid=$(id -un) pwd=$PWD\"; ls; echo to-the-log >&2; exit 3",
    );
    let private = private_dir(&sb);
    let script_s = script.display().to_string();
    let private_s = private.display().to_string();
    let out = sb.run_as_nm(&run_args(
        &alice.name,
        &script_s,
        &locals,
        &logs,
        &private_s,
    ));
    out.assert_code(3)
        .assert_stdout_has("[1/6] setup checks")
        .assert_stdout_has(&format!("ok: config {}", sb.config_path().display()))
        .assert_stdout_has(&format!("[2/6] user policy for '{}'", alice.name))
        .assert_stdout_has(&format!("ok: {} is uid {}", alice.name, alice.uid))
        .assert_stdout_has("[3/6] NodeManager directories")
        .assert_stdout_has(&format!("ok: {}", locals[1]))
        .assert_stdout_has("[4/6] NodeManager inputs for application_")
        .assert_stdout_has("[5/6] initialize (command 0)")
        .assert_stdout_has("ok: application initialized")
        .assert_stdout_has("[6/6] launch (command 1)")
        // A short job has ended before its pid file is read: not reported as running.
        .assert_stdout_lacks("running: process group ")
        .assert_stdout_has(&format!(
            "job: uid={} pwd={}/usercache",
            alice.name, locals[0]
        ))
        .assert_stdout_has("launch_container.sh")
        .assert_stdout_has("container finished: exit 3")
        .assert_stdout_has("exit code file says 3")
        .assert_stdout_has("clean up: container-executor delete --user");
    let app = app_id_in(&out);
    // Everything the NodeManager would see, owned as the NodeManager's own calls leave it.
    let app_dir = Path::new(&locals[0])
        .join("usercache")
        .join(&alice.name)
        .join("appcache")
        .join(&app);
    let cid = entries(&app_dir)
        .into_iter()
        .find(|e| e.starts_with("container_"))
        .unwrap_or_else(|| {
            panic!(
                "no container dir in {}{}",
                app_dir.display(),
                out.describe()
            )
        });
    assert_eq!(sb.owner_of(&app_dir.join(&cid)).0, alice.uid);
    assert!(common::is_file(
        &app_dir.join(&cid).join("launch_container.sh")
    ));
    let log_dir = Path::new(&logs[0]).join(&app).join(&cid);
    assert_eq!(sb.owner_of(&log_dir), (alice.uid, sb.users().nm_gid));
    // The NM-side files were the caller's, and are cleaned away.
    assert!(entries(&private).is_empty(), "{:?}", entries(&private));

    // list, then delete, through the operator commands.
    let wd = app_dir.join(&cid).display().to_string();
    sb.run_as_nm(&["list", "--user", &alice.name, "--dir", &wd])
        .assert_code(0)
        .assert_stdout_has("launch_container.sh")
        .assert_stdout_has("container_tokens");
    let app_s = app_dir.display().to_string();
    sb.run_as_nm(&["delete", "--user", &alice.name, "--path", &app_s])
        .assert_code(0)
        .assert_stdout_has(&format!("deleted {app_s} (as {})", alice.name));
    assert!(!app_dir.exists());
    // delete relative to a base dir, as the NodeManager's log deletion does.
    // The app's log dir, as the NodeManager deletes it (a base dir, no sub-path).
    let app_log = Path::new(&logs[0]).join(&app).display().to_string();
    sb.run_as_nm(&["delete", "--user", &alice.name, "--base-dir", &app_log])
        .assert_code(0)
        .assert_stdout_has(&format!("deleted {app_log}"));
    assert!(!Path::new(&logs[0]).join(&app).exists());
}

#[test]
fn manual_run_can_be_signalled() {
    let Some(sb) = Sandbox::new("op_run_signal") else {
        return;
    };
    let alice = sb.users().alice.name.clone();
    let nm = &sb.users().nm;
    let locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(1));
    let script = job_script(&sb, "exec sleep 120").display().to_string();
    let private = private_dir(&sb);
    let private_s = private.display().to_string();
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={}", nm.uid))
        .arg(format!("--regid={}", nm.gid))
        .arg("--init-groups")
        .arg("/usr/bin/env")
        .arg("--")
        .arg(sb.bin())
        .args(run_args(&alice, &script, &locals, &logs, &private_s))
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = common::spawn(&mut cmd).expect("spawn run");
    // The pid file appears in the private dir we gave.
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        let found = entries(&private).into_iter().find_map(|d| {
            entries(&private.join(&d))
                .into_iter()
                .find(|f| f.ends_with(".pid"))
                .and_then(|f| fs::read_to_string(private.join(&d).join(f)).ok())
        });
        if let Some(pid) = found {
            break pid;
        }
        assert!(Instant::now() < deadline, "no pid file");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The private dir is the caller's own: owned by the NM user, mode 0700.
    let made = private.join(&entries(&private)[0]);
    let meta = fs::metadata(&made).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (nm.uid, 0o700));

    sb.run_as_nm(&["signal", "--user", &alice, "--pid", &pid, "--signal", "0"])
        .assert_code(0)
        .assert_stdout_has(&format!("process group {pid} is alive"));
    sb.run_as_nm(&["signal", "--user", &alice, "--pid", &pid])
        .assert_code(0)
        .assert_stdout_has(&format!("process group {pid} was sent signal 15"));
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(143), "{stdout}");
    // "running: process group" is printed only for a job still running a moment after its pid
    // file appeared; this one may be stopped sooner (e2e_operator_messages checks both cases).
    assert!(
        stdout.contains("container finished: exit 143 (killed by SIGTERM)"),
        "{stdout}"
    );
    sb.run_as_nm(&["signal", "--user", &alice, "--pid", &pid, "--signal", "0"])
        .assert_code(9);
    sb.run_as_nm(&[
        "signal", "--user", &alice, "--pid", &pid, "--signal", "BOGUS",
    ])
    .assert_code(1)
    .assert_stderr_has("--signal must be a signal number or name");
}

/// Nothing below the NM dirs or in the private dir after a refused `run`.
fn assert_nothing_created(locals: &[String], logs: &[String], private: &Path) {
    for l in locals {
        assert!(entries(&Path::new(l).join("usercache")).is_empty(), "{l}");
    }
    for g in logs {
        assert!(entries(Path::new(g)).is_empty(), "{g}");
    }
    assert!(entries(private).is_empty(), "{:?}", entries(private));
}

#[test]
fn manual_run_refusals_create_nothing() {
    let Some(sb) = Sandbox::new("op_run_refusals") else {
        return;
    };
    let locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(1));
    let script = job_script(&sb, "exit 0").display().to_string();
    let private = private_dir(&sb);
    let private_s = private.display().to_string();

    // Refused users: root, a system user, a banned user (-1 → 255, Hadoop's message).
    for (user, why) in [
        ("root", "Running as root is not allowed"),
        (sb.users().sys.name.as_str(), "Requested user"),
        ("bin", "Requested user bin"),
    ] {
        sb.run_as_nm(&run_args(user, &script, &locals, &logs, &private_s))
            .assert_code(255)
            .assert_stdout_has(&format!("[2/6] user policy for '{user}'"))
            .assert_stdout_has(why)
            .assert_stdout_lacks("[3/6]");
        assert_nothing_created(&locals, &logs, &private);
    }

    // A local dir not owned by the NM user: 5, named, with the owner seen.
    let foreign = sb.prefix().join("root-owned");
    fs::create_dir_all(&foreign).unwrap();
    let bad_locals = vec![locals[0].clone(), foreign.display().to_string()];
    let alice = sb.users().alice.name.clone();
    sb.run_as_nm(&run_args(&alice, &script, &bad_locals, &logs, &private_s))
        .assert_code(5)
        .assert_stderr_has(&format!(
            "{} is not an NM-owned directory",
            foreign.display()
        ))
        .assert_stderr_has("owner uid: 0")
        .assert_stderr_has("Nonzero exit code=5, error message='Invalid NM root dirs'");
    assert_nothing_created(&locals, &logs, &private);
    assert!(entries(&foreign).is_empty());

    // A caller outside the NM group that can exec the file anyway (CAP_DAC_OVERRIDE) is
    // refused by the binary itself: 22 before anything.
    let out_user = &sb.users().out;
    let creds = [
        format!("--reuid={}", out_user.uid),
        format!("--regid={}", out_user.gid),
        "--init-groups".to_string(),
        "--inh-caps=+dac_override".to_string(),
        "--ambient-caps=+dac_override".to_string(),
    ];
    let creds: Vec<&str> = creds.iter().map(String::as_str).collect();
    sb.run_with_credentials(
        &creds,
        &run_args(&alice, &script, &locals, &logs, &private_s),
    )
    .assert_code(22)
    .assert_stderr_has(&format!(
        "is neither root nor a member of the NodeManager group {NM_GROUP}"
    ))
    .assert_stdout_empty();
    assert_nothing_created(&locals, &logs, &private);
    // Without the capability the kernel refuses the exec (mode 6050).
    sb.run_as(
        &out_user.name,
        &run_args(&alice, &script, &locals, &logs, &private_s),
    )
    .assert_code(126);

    // Usage mistakes: 1 and clap's message, nothing read.
    sb.run_as_nm(&["run", "--user", &alice])
        .assert_code(1)
        .assert_stderr_has("--script");
    sb.run_as_nm(&["run", "--help"])
        .assert_code(0)
        .assert_stdout_has("--local-dir");
    assert_nothing_created(&locals, &logs, &private);
}

#[test]
fn users_named_like_subcommands_still_work_positionally() {
    let Some(sb) = Sandbox::new("op_positional_names") else {
        return;
    };
    // Debian's `list` account (uid 38): allowed as a system user for this test.
    if common::lookup_user("list").is_none() {
        eprintln!("no 'list' account; skipping");
        return;
    }
    sb.write_config_with(&[("allowed.system.users", Some("list"))]);
    let dir = sb.prefix().join("for-list");
    fs::create_dir_all(&dir).unwrap();
    common::write_file(&dir.join("entry-a"), "x", 0o644);
    let d = dir.display().to_string();
    // `list list 5 <dir>`: user "list", yarn user "list", command 5 — the NodeManager's form.
    sb.run_as_nm(&["list", "list", "5", &d])
        .assert_code(0)
        .assert_stdout_has("main : run as user is list")
        .assert_stdout_has("entry-a");
    // A yarn user spelled like an option, command number third: still positional (the
    // NodeManager's argv), and then refused by the user-name grammar (issue 14 item 12).
    sb.run_as_nm(&["list", "--user", "5", &d])
        .assert_code(255)
        .assert_stdout_has("main : requested yarn user is --user")
        .assert_stdout_has("Invalid yarn user name --user")
        .assert_stdout_lacks("entry-a");
    // And the operator form for the same account.
    sb.run_as_nm(&["list", "--user", "list", "--dir", &d])
        .assert_code(0)
        .assert_stdout_lacks("main :")
        .assert_stdout_has("entry-a");
}

// ---------------------------------------------------------------------------------------------
// Caller pinning
// ---------------------------------------------------------------------------------------------

#[test]
fn pinned_nm_user_works_others_in_the_group_are_refused_root_works() {
    let Some(sb) = Sandbox::new("op_pinning") else {
        return;
    };
    let other = TempUser::create(false, &[NM_GROUP]);
    let alice = sb.users().alice.name.clone();
    let mut victim = sb.spawn_sleeper(&alice);
    let pid = victim.pid_arg();

    // Unpinned: the other member may signal (Hadoop's behaviour).
    sb.run_as(other.name(), &[&alice, &alice, "2", &pid, "0"])
        .assert_code(0);

    sb.write_config_with(&[(NM_USER_KEY, Some(NM_USER))]);
    sb.run_as_nm(&["--checksetup"]).assert_silent_success();
    sb.run_as_nm(&[&alice, &alice, "2", &pid, "0"])
        .assert_code(0);
    let out = sb.run_as(other.name(), &[&alice, &alice, "2", &pid, "9"]);
    out.assert_code(22)
        .assert_stderr_has(&format!(
            "is not the NodeManager user {NM_USER} ({NM_USER_KEY}); refusing to run."
        ))
        .assert_stdout_empty();
    assert!(
        victim.is_running(),
        "the refused caller killed it{}",
        out.describe()
    );
    sb.run_as(other.name(), &["--checksetup"]).assert_code(22);
    sb.run_as(other.name(), &["signal", "--user", &alice, "--pid", &pid])
        .assert_code(22)
        .assert_stdout_empty();
    assert!(victim.is_running());
    sb.run_as_root(&["--checksetup"]).assert_silent_success();
    sb.run_as_root(&[&alice, &alice, "2", &pid, "0"])
        .assert_code(0);
}

#[test]
fn pin_outside_the_group_or_unknown_fails_checksetup() {
    let Some(sb) = Sandbox::new("op_pin_invalid") else {
        return;
    };
    let outsider = sb.users().out.name.clone();
    sb.write_config_with(&[(NM_USER_KEY, Some(&outsider))]);
    sb.run_as_nm(&["--checksetup"])
        .assert_code(24)
        .assert_stderr_has(&format!(
            "user '{outsider}' is not a member of the NodeManager group {NM_GROUP}"
        ));
    sb.run_as_root(&["--checksetup"]).assert_code(24);
    sb.run_as_nm(&["--checksetup", "--verbose"])
        .assert_code(24)
        .assert_stdout_has(&format!("[FAIL] caller pinning (nm-user={outsider})"))
        .assert_stdout_has(&format!("usermod -aG {NM_GROUP} {outsider}"));

    sb.write_config_with(&[(NM_USER_KEY, Some("cexec_no_such_user"))]);
    sb.run_as_nm(&["--checksetup"])
        .assert_code(24)
        .assert_stderr_has("user 'cexec_no_such_user' does not exist");
}

#[test]
fn checksetup_warns_when_unpinned_group_has_several_members() {
    let Some(sb) = Sandbox::new("op_pin_warn") else {
        return;
    };
    let other = TempUser::create(false, &[NM_GROUP]);
    let out = sb.run_as_nm(&["--checksetup", "--verbose"]);
    out.assert_code(0)
        .assert_stdout_has("[WARN] caller pinning (nm-user)")
        .assert_stdout_has(other.name())
        .assert_stdout_has(NM_USER)
        .assert_stdout_has(&format!(
            "add '{NM_USER_KEY}={NM_USER}' to the configuration"
        ))
        .assert_stdout_has("warning(s); exit 0")
        .assert_stderr_empty();
    // The NodeManager's own call (no terminal, no --verbose) stays silent.
    sb.run_as_nm(&["--checksetup"]).assert_silent_success();
    // Pinned: no warning.
    sb.write_config_with(&[(NM_USER_KEY, Some(NM_USER))]);
    sb.run_as_nm(&["--checksetup", "--verbose"])
        .assert_code(0)
        .assert_stdout_has(&format!("[ok  ] caller pinning (nm-user={NM_USER})"))
        .assert_stdout_lacks("[WARN] caller pinning")
        // The other member still holds the NM group (issue 14 item 1): named, the NM is not.
        .assert_stdout_has("[WARN] users who could re-enter the binary")
        .assert_stdout_has(&format!(
            "{} ({NM_GROUP}, supplementary: stripped from its containers)",
            other.name()
        ))
        .assert_stdout_lacks(&format!("{NM_USER} ({NM_GROUP}"));
}

// ---------------------------------------------------------------------------------------------
// The explaining --checksetup
// ---------------------------------------------------------------------------------------------

#[test]
fn explaining_checksetup_on_a_good_install_lists_every_check() {
    let Some(sb) = Sandbox::new("op_explain_good") else {
        return;
    };
    let out = sb.run_as_nm(&["--checksetup", "--verbose"]);
    out.assert_code(0).assert_stderr_empty();
    let cfg = sb.config_path().display().to_string();
    let bin = sb.bin().display().to_string();
    for fragment in [
        format!("[ok  ] executable {bin}"),
        format!("[ok  ] configuration {cfg}"),
        format!("[ok  ] config file {cfg}"),
        "owner root (uid 0), group root (gid 0), mode 0400".to_string(),
        format!("[ok  ] config parent {}", sb.conf_dir().display()),
        "[ok  ] config parent /opt".to_string(),
        format!("[ok  ] NodeManager group {NM_GROUP}"),
        format!("[ok  ] binary {bin}"),
        format!("group {NM_GROUP} (gid {}), mode 6050", sb.users().nm_gid),
        "[ok  ] privileges: root through the setuid bit".to_string(),
        "[ok  ] hard links of the binary".to_string(),
        "[ok  ] RPATH/RUNPATH of the binary".to_string(),
        "[ok  ] caller".to_string(),
        "checks passed".to_string(),
    ] {
        out.assert_stdout_has(&fragment);
    }
    // Checks come in the setup's order.
    let at = |s: &str| out.stdout.find(s).unwrap();
    assert!(at("config file") < at("config parent"));
    assert!(at("NodeManager group") < at("binary "));
    assert!(at("binary ") < at("privileges"));
    assert!(at("privileges") < at("[ok  ] caller"));
}

/// Makes one broken install and says what the report must show.
type Breaker = Box<dyn Fn(&Sandbox) -> Broken>;

struct Broken {
    name: &'static str,
    /// Run as root (the NM user cannot even exec some broken binaries).
    as_root: bool,
    code: i32,
    fault: String,
    fix: String,
}

#[test]
fn explaining_checksetup_names_each_broken_install_and_its_fix() {
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "config group-writable",
            Box::new(|sb: &Sandbox| {
                sb.chmod(&sb.config_path(), 0o460);
                let c = sb.config_path().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: format!("[FAIL] config file {c}"),
                    fix: format!("fix:      chmod go-w {c}"),
                }
            }),
        ),
        (
            "config world-writable",
            Box::new(|sb: &Sandbox| {
                sb.chmod(&sb.config_path(), 0o402);
                let c = sb.config_path().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "mode 0402".into(),
                    fix: format!("chmod go-w {c}"),
                }
            }),
        ),
        (
            "config not owned by root",
            Box::new(|sb: &Sandbox| {
                sb.chown(&sb.config_path(), Some(sb.users().nm.uid), None);
                let c = sb.config_path().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: format!("owner {NM_USER}"),
                    fix: format!("chown root {c}"),
                }
            }),
        ),
        (
            "conf dir group-writable",
            Box::new(|sb: &Sandbox| {
                sb.chmod(&sb.conf_dir(), 0o775);
                let d = sb.conf_dir().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: format!("[FAIL] config parent {d}"),
                    fix: format!("chmod go-w {d}"),
                }
            }),
        ),
        (
            "etc dir not owned by root",
            Box::new(|sb: &Sandbox| {
                sb.chown(&sb.etc_dir(), Some(sb.users().nm.uid), None);
                let d = sb.etc_dir().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: format!("[FAIL] config parent {d}"),
                    fix: format!("chown root {d}"),
                }
            }),
        ),
        (
            "missing config",
            Box::new(|sb: &Sandbox| {
                sb.remove_config();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "[FAIL] configuration".into(),
                    fix: format!(
                        "create {} (root:root, mode 0400)",
                        sb.config_path().display()
                    ),
                }
            }),
        ),
        (
            "empty config",
            Box::new(|sb: &Sandbox| {
                sb.write_config("");
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "[FAIL] configuration contents".into(),
                    fix: format!("edit {}", sb.config_path().display()),
                }
            }),
        ),
        (
            "no NM group key",
            Box::new(|sb: &Sandbox| {
                sb.write_config_with(&[("yarn.nodemanager.linux-container-executor.group", None)]);
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "[FAIL] NodeManager group".into(),
                    fix: "add 'yarn.nodemanager.linux-container-executor.group=".into(),
                }
            }),
        ),
        (
            "unknown NM group",
            Box::new(|sb: &Sandbox| {
                sb.write_config_with(&[(
                    "yarn.nodemanager.linux-container-executor.group",
                    Some("cexec_nosuchgroup"),
                )]);
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "no such group".into(),
                    fix: "groupadd cexec_nosuchgroup".into(),
                }
            }),
        ),
        (
            "binary group root",
            Box::new(|sb: &Sandbox| {
                sb.set_binary_owner(0, 0);
                let b = sb.bin().display().to_string();
                Broken {
                    name: "",
                    as_root: true,
                    code: 22,
                    fault: format!("[FAIL] binary {b}"),
                    fix: format!("chown root:{NM_GROUP} {b}"),
                }
            }),
        ),
        (
            "binary not owned by root",
            Box::new(|sb: &Sandbox| {
                sb.set_binary_owner(sb.users().alice.uid, sb.users().nm_gid);
                sb.chmod(&sb.config_path(), 0o444);
                let b = sb.bin().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 22,
                    fault: "should be user-owned by root".into(),
                    fix: format!("chown root:{NM_GROUP} {b}"),
                }
            }),
        ),
        (
            "binary executable by others",
            Box::new(|sb: &Sandbox| {
                sb.set_binary_mode(0o6051);
                sb.chmod(&sb.config_path(), 0o444);
                Broken {
                    name: "",
                    as_root: false,
                    code: 22,
                    fault: "mode 6051".into(),
                    fix: format!("chmod 6050 {}", sb.bin().display()),
                }
            }),
        ),
        (
            "binary group-writable",
            Box::new(|sb: &Sandbox| {
                sb.set_binary_mode(0o6070);
                sb.chmod(&sb.config_path(), 0o444);
                Broken {
                    name: "",
                    as_root: false,
                    code: 22,
                    fault: "should not be group-writable".into(),
                    fix: format!("chmod 6050 {}", sb.bin().display()),
                }
            }),
        ),
        (
            "binary without setuid",
            Box::new(|sb: &Sandbox| {
                sb.set_binary_mode(0o2050);
                sb.chmod(&sb.config_path(), 0o444);
                Broken {
                    name: "",
                    as_root: false,
                    code: 22,
                    fault: "should be set setuid".into(),
                    fix: format!("chmod 6050 {}", sb.bin().display()),
                }
            }),
        ),
        (
            "binary without setgid",
            Box::new(|sb: &Sandbox| {
                sb.set_binary_mode(0o4050);
                sb.chmod(&sb.config_path(), 0o444);
                Broken {
                    name: "",
                    as_root: false,
                    code: 22,
                    fault: "should be set setgid".into(),
                    fix: format!("chmod 6050 {}", sb.bin().display()),
                }
            }),
        ),
    ];
    let more: Vec<(&str, Breaker)> = vec![
        (
            "conf dir setgid and group-writable",
            Box::new(|sb: &Sandbox| {
                sb.chmod(&sb.conf_dir(), 0o2775);
                let d = sb.conf_dir().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "mode 2775".into(),
                    fix: format!("chmod go-w {d}"),
                }
            }),
        ),
        (
            "install prefix group-writable",
            Box::new(|sb: &Sandbox| {
                sb.chmod(&sb.prefix(), 0o775);
                let d = sb.prefix().display().to_string();
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: format!("[FAIL] config parent {d}"),
                    fix: format!("chmod go-w {d}"),
                }
            }),
        ),
        (
            "config of only comments",
            Box::new(|sb: &Sandbox| {
                sb.write_config("# nothing here\n");
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "Empty configuration file provided".into(),
                    fix: format!("edit {}", sb.config_path().display()),
                }
            }),
        ),
        (
            "NM group inside a section",
            Box::new(|sb: &Sandbox| {
                sb.write_config(&format!(
                    "min.user.id=1000\n[docker]\nyarn.nodemanager.linux-container-executor.group={NM_GROUP}\n"
                ));
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "key not set".into(),
                    fix: "at the top of the configuration".into(),
                }
            }),
        ),
        (
            "empty section name",
            Box::new(|sb: &Sandbox| {
                sb.write_config(&format!(
                    "yarn.nodemanager.linux-container-executor.group={NM_GROUP}\n[]\n"
                ));
                Broken {
                    name: "",
                    as_root: false,
                    code: 24,
                    fault: "Empty section name".into(),
                    fix: format!("edit {}", sb.config_path().display()),
                }
            }),
        ),
    ];
    for (label, break_it) in cases.into_iter().chain(more) {
        let Some(sb) = Sandbox::new("op_explain_broken") else {
            return;
        };
        let mut b = break_it(&sb);
        b.name = label;
        // The NodeManager's plain call keeps its code and prints no report.
        let run = |args: &[&str]| match b.as_root {
            true => sb.run_as_root(args),
            false => sb.run_as_nm(args),
        };
        let plain = run(&["--checksetup"]);
        plain.assert_code(b.code).assert_stdout_lacks("[FAIL]");
        let out = run(&["--checksetup", "--verbose"]);
        out.assert_code(b.code)
            .assert_stdout_has(&b.fault)
            .assert_stdout_has(&b.fix)
            .assert_stdout_has("result: FAILED")
            .assert_stdout_has(&format!("exit {} (", b.code));
        // The setup's own message is still printed.
        let plain_err = plain.stderr.lines().next().unwrap_or("").to_string();
        if !plain_err.is_empty() {
            out.assert_stderr_has(&plain_err);
        }
        eprintln!("ok: {}", b.name);
    }
}

#[test]
fn explaining_checksetup_names_a_caller_outside_the_group() {
    let Some(sb) = Sandbox::new("op_explain_outsider") else {
        return;
    };
    let out_user = &sb.users().out;
    let creds = [
        format!("--reuid={}", out_user.uid),
        format!("--regid={}", out_user.gid),
        "--init-groups".to_string(),
        "--inh-caps=+dac_override".to_string(),
        "--ambient-caps=+dac_override".to_string(),
    ];
    let creds: Vec<&str> = creds.iter().map(String::as_str).collect();
    sb.run_with_credentials(&creds, &["--checksetup", "--verbose"])
        .assert_code(22)
        .assert_stdout_has("[FAIL] caller")
        .assert_stdout_has(&format!("usermod -aG {NM_GROUP} {}", out_user.name))
        .assert_stdout_lacks("caller pinning")
        .assert_stderr_has("is neither root nor a member of the NodeManager group");
}

#[test]
fn explaining_checksetup_reports_links_nnp_and_nm_dirs() {
    let Some(sb) = Sandbox::new("op_explain_extras") else {
        return;
    };
    // An extra hard link of the binary: a failure (the binary refuses to run with one), 22.
    let link = sb.bin_dir().join("ce-old-name");
    fs::hard_link(sb.bin(), &link).unwrap();
    sb.run_as_nm(&["--checksetup", "--verbose"])
        .assert_code(22)
        .assert_stdout_has("[FAIL] hard links of the binary")
        .assert_stdout_has("2 link(s)")
        .assert_stdout_has(&format!("-xdev -samefile {}", sb.bin().display()));
    fs::remove_file(&link).unwrap();

    // no_new_privs on the caller: the kernel ignores setuid, nothing can run privileged → 22.
    let nm = &sb.users().nm;
    let creds = [
        format!("--reuid={}", nm.uid),
        format!("--regid={}", nm.gid),
        "--init-groups".to_string(),
        "--no-new-privs".to_string(),
    ];
    let creds: Vec<&str> = creds.iter().map(String::as_str).collect();
    // With root's 0400 config the setup stops at the unreadable config (24), as plain
    // --checksetup does; the report still says why.
    sb.run_with_credentials(&creds, &["--checksetup", "--verbose"])
        .assert_code(24)
        .assert_stdout_has("this process is not root")
        .assert_stdout_has("[FAIL] privileges: no_new_privs is set on the caller")
        .assert_stdout_has("no_new_privs set")
        .assert_stdout_has("result: FAILED");
    sb.chmod(&sb.config_path(), 0o444);
    sb.run_with_credentials(&creds, &["--checksetup", "--verbose"])
        .assert_code(22)
        .assert_stdout_has("[FAIL] privileges: no_new_privs is set on the caller")
        .assert_stdout_has("result: FAILED");
    sb.run_with_credentials(&creds, &["--checksetup"])
        .assert_code(22)
        .assert_stdout_has("no_new_privs is set on the calling process");
    sb.chmod(&sb.config_path(), 0o400);

    // --local-dir/--log-dir: NM-owned and safe parents pass; others fail with 5 and a fix.
    let locals = strings(&sb.nm_local_dirs(1));
    let logs = strings(&sb.nm_log_dirs(1));
    sb.run_as_nm(&[
        "--checksetup",
        "--local-dir",
        &locals[0],
        "--log-dir",
        &logs[0],
    ])
    .assert_code(0)
    .assert_stdout_has(&format!("[ok  ] NM local dir {}", locals[0]))
    .assert_stdout_has(&format!("[ok  ] NM log dir {}", logs[0]))
    .assert_stdout_has(&format!(
        "[ok  ] parent of NM local dir: {}",
        sb.prefix().display()
    ));
    let foreign = sb.prefix().join("not-nm");
    fs::create_dir_all(&foreign).unwrap();
    let f = foreign.display().to_string();
    sb.run_as_nm(&["--checksetup", "--local-dir", &f])
        .assert_code(5)
        .assert_stdout_has(&format!("[FAIL] NM local dir {f}"))
        .assert_stdout_has(&format!("install -d -o {NM_USER} -m 0755 {f}"))
        .assert_stdout_has("exit 5 (Invalid NM root dirs)");
    // Looked at with the caller's rights: a directory behind a root-only 0700 parent is not
    // described (root could see it is the NM's; the caller cannot).
    let hidden = sb.prefix().join("secret");
    fs::create_dir_all(hidden.join("inner")).unwrap();
    sb.chmod(&hidden, 0o700);
    sb.chown(&hidden.join("inner"), Some(nm.uid), Some(sb.users().nm_gid));
    let h = hidden.join("inner").display().to_string();
    sb.run_as_nm(&["--checksetup", "--local-dir", &h])
        .assert_code(5)
        .assert_stdout_has(&format!("[FAIL] NM local dir {h}"))
        .assert_stdout_has("Permission denied")
        .assert_stdout_lacks(&format!("owner {NM_USER}"));
    let open_parent = sb.prefix().join("world");
    fs::create_dir_all(open_parent.join("local")).unwrap();
    sb.chmod(&open_parent, 0o777);
    sb.chown(
        &open_parent.join("local"),
        Some(nm.uid),
        Some(sb.users().nm_gid),
    );
    let l = open_parent.join("local").display().to_string();
    sb.run_as_nm(&["--checksetup", "--log-dir", &l])
        .assert_code(5)
        .assert_stdout_has(&format!("[ok  ] NM log dir {l}"))
        .assert_stdout_has(&format!(
            "[FAIL] parent of NM log dir: {}",
            open_parent.display()
        ))
        .assert_stdout_has(&format!("chmod go-w {}", open_parent.display()));
}

#[test]
fn version_names_config_features_and_hadoop_baseline() {
    let Some(sb) = Sandbox::new("op_version") else {
        return;
    };
    let out = sb.run_as_nm(&["--version"]);
    out.assert_code(0)
        .assert_stdout_has(&format!("container-executor {}", env!("CARGO_PKG_VERSION")))
        .assert_stdout_has("configuration: ../etc/hadoop/container-executor.cfg")
        .assert_stdout_has("follows: Apache Hadoop trunk 6cc743eac6 (3.5.0-SNAPSHOT")
        .assert_stdout_has("traffic control")
        .assert_stdout_has("runC: not supported")
        .assert_stdout_has("Docker (command 4")
        .assert_stdout_has("operator subcommands");
    let help = sb.run_as_nm(&["--help"]);
    help.assert_code(0)
        .assert_stdout_has("signal --user U --pid PID")
        .assert_stdout_has("--verbose");
}

/// `sh -c` a command line as the NM user (through a wrapper such as `script` or `unshare`).
fn nm_command_line(sb: &Sandbox, args: &str) -> String {
    let nm = &sb.users().nm;
    format!(
        "setpriv --reuid={} --regid={} --init-groups /usr/bin/env -i {} {args}",
        nm.uid,
        nm.gid,
        sb.bin().display()
    )
}

#[test]
fn checksetup_on_a_terminal_explains_without_being_asked() {
    let Some(sb) = Sandbox::new("op_explain_tty") else {
        return;
    };
    if !Path::new("/usr/bin/script").exists() {
        panic!("script (util-linux/bsdutils) is needed for the terminal test");
    }
    // `script` gives the binary a pseudo-terminal as stdout.
    let line = nm_command_line(&sb, "--checksetup");
    let out = common::output(
        Command::new("/usr/bin/script")
            .args(["-qec", &line, "/dev/null"])
            .env_clear()
            .stdin(Stdio::null()),
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("[ok  ] binary"), "{stdout}");
    assert!(stdout.contains("checks passed"), "{stdout}");
}

#[test]
fn checksetup_explains_a_nosuid_mount() {
    let Some(sb) = Sandbox::new("op_explain_nosuid") else {
        return;
    };
    let can_unshare = common::output(Command::new("unshare").args(["-m", "true"]))
        .is_ok_and(|o| o.status.success());
    if !can_unshare {
        eprintln!("!!! SKIPPED checksetup_explains_a_nosuid_mount: no unshare -m here !!!");
        return;
    }
    // A world-readable config (still valid) so the non-root process gets past reading it.
    sb.chmod(&sb.config_path(), 0o444);
    let bin_dir = sb.bin_dir().display().to_string();
    // In a private mount namespace: the bin dir bind-mounted over itself, nosuid.
    let script = format!(
        "mount --bind {bin_dir} {bin_dir} && mount -o remount,bind,nosuid {bin_dir} && exec {}",
        nm_command_line(&sb, "--checksetup --verbose")
    );
    let out = common::output(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .env_clear()
            .stdin(Stdio::null()),
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(22), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("[FAIL] privileges: the binary's filesystem is mounted nosuid"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("mount -o remount,suid {bin_dir}")),
        "{stdout}"
    );
    // Outside the namespace nothing changed.
    sb.run_as_nm(&["--checksetup"]).assert_silent_success();
}
