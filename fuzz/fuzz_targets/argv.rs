//! The NodeManager's argv: `cli::human_request` and `cli::parse`, then the checks the commands
//! apply to the parsed request before touching anything (user policy, id grammars, path splits).
//!
//! Input: two bytes (little-endian) of feature bits (which gates the config opens, see
//! `config_text`; 0xffff opens every gate), then the arguments after argv[0], separated by NUL
//! (a real argv cannot hold a NUL, so every argv is expressible and nothing else is). Device-module and operator modes are parsed by
//! `cli::parse` too, so they are fuzzed here as soon as they exist.
//!
//! Invariants checked (beyond "never panics"): every error maps to one of the exit codes the
//! parser may give; an accepted request is consistent with the argv it came from (argument
//! counts, gates, the container-id grammar, pid/signal and the command number equal to a
//! canonical-decimal oracle, the dir lists canonical).
#![no_main]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use container_executor::cli::{self, HumanRequest, Request, RunAsCommand};
use container_executor::config::{Config, Feature};
use container_executor::error::Error;
use container_executor::users::{check_with, PasswdEntry};
use container_executor::{fs, ids, layout, ops};
use libfuzzer_sys::fuzz_target;

/// The config for a feature mask: each bit switches one gate the parser consults.
fn config_text(mask: u16) -> String {
    let mut text = String::from("yarn.nodemanager.linux-container-executor.group=hadoop\n");
    let features = [
        "feature.tc.enabled",
        "feature.mount-cgroup.enabled",
        "feature.terminal.enabled",
        "feature.docker.enabled",
        "feature.yarn.sysfs.enabled",
        "feature.runc.enabled",
    ];
    for (bit, key) in features.iter().enumerate() {
        let on = mask & (1 << bit) != 0;
        text.push_str(&format!("{key}={}\n", if on { "true" } else { "0" }));
    }
    if mask & (1 << 6) != 0 {
        text.push_str("min.user.id=0\nallowed.system.users=bin\n");
    }
    // Two bits per module section: absent, header only, disabled, enabled.
    for (bit, section) in ["gpu", "fpga", "devices", "docker"].iter().enumerate() {
        match (mask >> (7 + 2 * bit)) & 3 {
            0 => {}
            1 => text.push_str(&format!("[{section}]\n")),
            2 => text.push_str(&format!("[{section}]\nmodule.enabled=false\n")),
            _ => text.push_str(&format!("[{section}]\nmodule.enabled=true\n")),
        }
    }
    if mask & (1 << 15) != 0 {
        text.push_str("[runc]\nmodule.enabled=true\n");
    }
    text
}

fn fake_passwd(name: &str) -> Result<Option<PasswdEntry>, String> {
    let uid = match name {
        "root" | "toor" => 0,
        "bin" => 1,
        "yarn" => 500,
        "nobody" => 65534,
        "alice" => 1000,
        "bob" => 1001,
        _ => return Ok(None),
    };
    Ok(Some(PasswdEntry {
        name: name.to_string(),
        uid,
        gid: uid,
    }))
}

/// Canonical decimal (issue 14): digits only, no leading zero unless "0", at most `max`; written
/// as "format the value back and compare", unlike `ids::canonical_decimal`.
fn canonical_oracle(arg: &OsStr, max: i64) -> Option<i64> {
    let t = arg.to_str()?;
    if t.is_empty() || t.len() > 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = t.parse().ok()?;
    (v.to_string() == t && v <= max).then_some(v)
}

/// The command number as the parser must read it: canonical decimal within `int`.
fn command_oracle(arg: &OsStr) -> Option<i64> {
    canonical_oracle(arg, i64::from(i32::MAX))
}

/// The grammar checks the commands apply to parsed names before building any path.
fn id_checks(yarn_user: &OsStr, app_id: &OsStr, container_id: Option<&OsStr>) {
    if let Some(u) = layout::valid_yarn_user(yarn_user) {
        assert!(!u.is_empty() && !u.contains('/') && !u.contains("..") && u != ".");
    }
    if let Some(a) = layout::valid_app_id(app_id) {
        assert!(a.starts_with("application_") && !a.contains('/'));
    }
    if let Some(c) = container_id.and_then(layout::valid_container_id) {
        assert!(c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    }
}

fn split_parent_check(path: &Path) {
    if let Ok((parent, name)) = fs::split_parent(path) {
        assert!(parent.is_absolute());
        let n = name.as_bytes();
        assert!(!n.is_empty() && n != b"." && n != b".." && !n.contains(&b'/'));
    }
}

fuzz_target!(|data: &[u8]| {
    let (mask, rest) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => (0, &[][..]),
    };
    let config = Config::parse(config_text(mask).as_bytes(), "fuzz.cfg").expect("fixed config");
    let mut args = vec![OsString::from("container-executor")];
    if !rest.is_empty() {
        args.extend(
            rest.split(|b| *b == 0)
                .map(|a| OsStr::from_bytes(a).to_os_string()),
        );
    }
    let argc = args.len();
    let arg = |i: usize| args.get(i).map(|a| a.as_bytes()).unwrap_or(b"");

    if let Some(human) = cli::human_request(&args) {
        assert_eq!(argc, 2);
        match human {
            HumanRequest::Help => assert!(matches!(arg(1), b"--help" | b"-h")),
            HumanRequest::Version => assert!(matches!(arg(1), b"--version" | b"-V")),
        }
    }

    let request = match cli::parse(&args, &config) {
        Ok(request) => request,
        Err(e) => {
            let code = e.code().number();
            assert!(
                matches!(code, 1 | 3 | 5 | 32 | 43 | -1),
                "code {code} from {e:?}"
            );
            if matches!(e, Error::InvalidContainerId(_)) {
                assert_eq!(command_oracle(OsStr::from_bytes(arg(3))), Some(0));
            }
            let _ = e.to_string();
            if matches!(e, Error::Usage) {
                assert!(cli::usage_text(&config).starts_with("Usage: container-executor"));
            }
            return;
        }
    };
    match request {
        Request::CheckSetup => assert_eq!(arg(1), b"--checksetup"),
        Request::MountCgroups { .. } => {
            assert!(config.feature_enabled(Feature::MountCgroup) && argc >= 4)
        }
        Request::TrafficControl { .. } => {
            assert!(config.feature_enabled(Feature::Tc) && argc == 3)
        }
        Request::ExecContainer { .. } => {
            assert!(config.feature_enabled(Feature::Terminal) && argc == 3)
        }
        Request::Module { module, .. } => {
            assert!(config.get(module.section(), "module.enabled") == Some("true"))
        }
        Request::Unsupported { .. } => assert!(config.runc_enabled()),
        Request::RunDocker { .. } => assert!(config.docker_enabled() && argc == 3),
        Request::InspectDocker { .. } => assert!(config.docker_enabled() && argc == 4),
        Request::RemoveDocker { hierarchy, .. } => {
            assert!(config.docker_enabled());
            assert_eq!(hierarchy.is_some(), argc == 4);
        }
        Request::RunAs(run_as) => {
            assert!(argc >= 4);
            assert_eq!(run_as.user.as_bytes(), arg(1));
            assert_eq!(run_as.yarn_user.as_bytes(), arg(2));
            let command = command_oracle(OsStr::from_bytes(arg(3)));
            let nm_gid = container_executor::users::Gid::from_raw(4242);
            if let Ok(user) = check_with(&run_as.user, &config, nm_gid, fake_passwd) {
                assert_ne!(user.uid().as_raw(), 0);
                assert!(user.gid().as_raw() != 0 && user.gid() != nm_gid);
                assert_ne!(user.name(), "root");
            }
            match run_as.command {
                RunAsCommand::Initialize(init) => {
                    assert_eq!(command, Some(0));
                    assert!(argc >= 10);
                    assert!(ids::is_valid_container_id(&init.container_id));
                    assert_eq!(init.container_id.as_bytes(), arg(5));
                    assert_eq!(init.localizer.as_slice(), &args[9..]);
                    assert!(!init.local_dirs.is_empty() && !init.log_dirs.is_empty());
                    for d in init.local_dirs.iter().chain(&init.log_dirs) {
                        assert!(layout::is_canonical_abs_path(d.as_bytes()));
                    }
                    id_checks(
                        &run_as.yarn_user,
                        &init.app_id,
                        Some(init.container_id.as_ref()),
                    );
                }
                RunAsCommand::Launch(launch) => {
                    assert_eq!(command, Some(1));
                    assert!((14..=17).contains(&argc));
                    assert_eq!(launch.https.is_some(), arg(9) == b"--https");
                    assert!(!launch.resources_key.as_bytes().contains(&b'='));
                    if launch.tc_command_file.is_some() {
                        assert!(config.feature_enabled(Feature::Tc));
                    }
                    id_checks(
                        &run_as.yarn_user,
                        &launch.app_id,
                        Some(&launch.container_id),
                    );
                    split_parent_check(&launch.pid_file);
                }
                RunAsCommand::LaunchDocker(d) => {
                    assert_eq!(command, Some(4));
                    assert!(config.docker_enabled());
                    assert!((14..=17).contains(&argc));
                    assert_eq!(d.launch.https.is_some(), arg(9) == b"--https");
                    if d.launch.tc_command_file.is_some() {
                        assert!(config.feature_enabled(Feature::Tc));
                    }
                    assert_eq!(
                        d.command_file.as_os_str().as_bytes(),
                        arg(argc - 1 - usize::from(d.launch.tc_command_file.is_some()))
                    );
                    split_parent_check(&d.launch.pid_file);
                }
                RunAsCommand::Signal { pid, signal } => {
                    assert_eq!(command, Some(2));
                    assert_eq!(argc, 6);
                    let pid_arg = OsStr::from_bytes(arg(4));
                    let sig_arg = OsStr::from_bytes(arg(5));
                    let max = i64::from(i32::MAX);
                    assert_eq!(canonical_oracle(pid_arg, max), Some(i64::from(pid)));
                    assert_eq!(canonical_oracle(sig_arg, max), Some(i64::from(signal)));
                }
                RunAsCommand::Delete { path, base_dirs } => {
                    assert_eq!(command, Some(3));
                    assert_eq!(path.as_deref(), args.get(4).map(|a| a.as_os_str()));
                    assert_eq!(base_dirs.as_slice(), args.get(5..).unwrap_or(&[]));
                    let sub = path.unwrap_or_default();
                    let targets: Vec<std::path::PathBuf> = if base_dirs.is_empty() {
                        vec![sub.into()]
                    } else {
                        base_dirs.iter().map(|b| Path::new(b).join(&sub)).collect()
                    };
                    for target in targets {
                        if let Ok((last, parents)) = ops::delete_target_names(&target) {
                            assert!(target.is_absolute());
                            for name in parents.iter().chain([&last]) {
                                let n = name.as_bytes();
                                assert!(!n.is_empty() && n != b".." && n != b".");
                                assert!(!n.contains(&b'/'));
                            }
                        }
                    }
                }
                RunAsCommand::List { path } => {
                    assert_eq!(command, Some(5));
                    assert_eq!(path.as_deref(), args.get(4).map(|a| a.as_os_str()));
                }
                RunAsCommand::SyncSysfs { app_id, local_dirs } => {
                    assert_eq!(command, Some(6));
                    // Disabled, the command answers 32 whatever the count (as Hadoop): it is
                    // parsed without its arguments; enabled, they must all be there.
                    if argc < 6 {
                        assert!(!config.feature_enabled(Feature::YarnSysfs));
                        assert!(local_dirs.is_empty());
                        return;
                    }
                    assert!(!local_dirs.is_empty());
                    for d in &local_dirs {
                        assert!(layout::is_canonical_abs_path(d.as_bytes()));
                    }
                    id_checks(&run_as.yarn_user, &app_id, None);
                }
            }
        }
    }
});
