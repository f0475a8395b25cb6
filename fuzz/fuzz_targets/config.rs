//! `container-executor.cfg` parser: `Config::parse` on arbitrary bytes, then every typed look-up
//! and the run-as-user policy built on it.
//!
//! Invariants checked (beyond "never panics"):
//! * parsing is deterministic and bounded (no value longer than the input);
//! * every stored key and value is valid UTF-8 with no NUL, newline or '#', and trimmed of C
//!   whitespace; values are non-empty unless stored as `key= ` (then "");
//! * the typed look-ups agree with `get` (lists split from the stored value, min.user.id within
//!   i32, features only true for true/1 spellings);
//! * the user policy never accepts root (by name or uid 0), a banned user, or a uid below
//!   min.user.id that is not in allowed.system.users.
#![no_main]

use std::ffi::OsStr;

use container_executor::config::{Config, Feature, MAX_CONFIG_BYTES};
use container_executor::error::Error;
use container_executor::users::{check_with, PasswdEntry};
use libfuzzer_sys::fuzz_target;

const FEATURES: [Feature; 6] = [
    Feature::Tc,
    Feature::MountCgroup,
    Feature::Terminal,
    Feature::Docker,
    Feature::YarnSysfs,
    Feature::Runc,
];

/// Keys the binary reads, plus the sections it asks about.
const KNOWN_KEYS: [&str; 9] = [
    "yarn.nodemanager.linux-container-executor.group",
    "banned.users",
    "min.user.id",
    "allowed.system.users",
    "module.enabled",
    "launch.no-new-privileges",
    "feature.tc.enabled",
    "feature.docker.enabled",
    "feature.yarn.sysfs.enabled",
];
const KNOWN_SECTIONS: [&str; 7] = ["", "docker", "runc", "gpu", "fpga", "devices", "cgroups"];

/// A fixed passwd: the policy is pure once the lookup is.
fn fake_passwd(name: &str) -> Result<Option<PasswdEntry>, String> {
    let uid = match name {
        "root" | "toor" => 0,
        "bin" => 1,
        "daemon" => 2,
        "yarn" => 500,
        "hdfs" => 501,
        "alice" => 1000,
        "bob" => 1001,
        "big" => u32::MAX - 1,
        "broken" => return Err("Input/output error".into()),
        _ => return Ok(None),
    };
    Ok(Some(PasswdEntry {
        name: name.to_string(),
        uid,
        gid: uid,
    }))
}

const USERS: [&str; 11] = [
    "root", "toor", "bin", "daemon", "yarn", "hdfs", "alice", "bob", "big", "broken", "nobody",
];

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

fn check_stored(text: &str, input_len: usize) {
    assert!(text.len() <= input_len);
    assert!(!text.contains(['\0', '\n', '#']), "{text:?}");
    assert_eq!(text, text.trim_matches(is_c_space), "not trimmed: {text:?}");
}

fuzz_target!(|data: &[u8]| {
    let parsed = Config::parse(data, "fuzz.cfg");
    // Deterministic: the same bytes give the same answer.
    match (&parsed, Config::parse(data, "fuzz.cfg")) {
        (Ok(a), Ok(b)) => assert_eq!(a, &b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("parse is not deterministic"),
    }
    let config = match parsed {
        Ok(config) => config,
        Err(e) => {
            // Every failure is a config error (exit 24), never anything else.
            assert!(matches!(e, Error::Config(_)), "{e:?}");
            assert_eq!(e.code().number(), 24);
            assert!(e.exits_at_once());
            return;
        }
    };
    assert!(data.len() <= MAX_CONFIG_BYTES);
    let text = std::str::from_utf8(data).expect("accepted config is UTF-8");
    assert!(!text.contains('\0'));

    // Candidate keys and sections from the input itself, plus the ones the binary uses.
    let mut sections: Vec<&str> = KNOWN_SECTIONS.to_vec();
    let mut keys: Vec<&str> = KNOWN_KEYS.to_vec();
    for line in text.split('\n') {
        if line.len() >= 2 && line.starts_with('[') {
            if let Some(end) = line.find(']') {
                sections.push(&line[1..end]);
            }
        }
        if let Some(key) = line.split('=').find(|t| !t.is_empty()) {
            keys.push(key.trim_matches(is_c_space));
        }
    }
    for section in &sections {
        let present = config.has_section(section);
        for key in &keys {
            if let Some(value) = config.get(section, key) {
                assert!(present, "value in a section that is not there");
                check_stored(key, data.len());
                check_stored(value, data.len());
                // A key may be empty (`\t=v` stores "" -> "v", as in Hadoop), never hold '='.
                assert!(!key.contains('='));
                assert!(!value.contains('='), "a=b=c keeps only b: {value:?}");
                let list = config.get_list(section, key).expect("get_list follows get");
                assert!(!list.is_empty());
                if list.len() > 1 || list[0] != value {
                    assert!(list
                        .iter()
                        .all(|item| !item.is_empty() && !item.contains(',')));
                }
            }
        }
    }

    let group = config.nm_group();
    if let Some(group) = group {
        check_stored(group, data.len());
    }
    let banned = config.banned_users();
    assert!(!banned.is_empty());
    let allowed = config.allowed_system_users();
    let min_uid = config.min_user_id();
    if let Ok(min) = min_uid {
        if config.get("", "min.user.id").is_none() {
            assert_eq!(min, 1000);
        }
    }
    for feature in FEATURES {
        if config.feature_enabled(feature) {
            let v = config.get("", feature.key()).expect("enabled means stored");
            let t = v.trim_start_matches(is_c_space);
            let t = t.strip_prefix('+').unwrap_or(t);
            assert!(
                v.eq_ignore_ascii_case("true")
                    || (!t.is_empty() && t.trim_start_matches('0') == "1"),
                "{v:?} enabled {feature:?}"
            );
        }
    }
    for section in ["gpu", "fpga", "devices", "docker", "runc"] {
        if config.module_enabled(section) {
            assert_eq!(config.get(section, "module.enabled"), Some("true"));
        }
    }
    let _ = (config.docker_enabled(), config.runc_enabled());

    // The run-as-user policy on this config.
    for user in USERS {
        let Ok(accepted) = check_with(
            OsStr::new(user),
            &config,
            container_executor::users::Gid::from_raw(4242),
            fake_passwd,
        ) else {
            continue;
        };
        assert_ne!(user, "root");
        assert_ne!(accepted.uid().as_raw(), 0, "uid 0 accepted as {user}");
        assert!(!banned.iter().any(|b| b == user), "banned {user} accepted");
        let min = min_uid
            .clone()
            .expect("an illegal min.user.id refuses everyone");
        assert!(
            accepted.uid().as_raw() >= min as u32 || allowed.iter().any(|a| a == user),
            "{user} below min.user.id {min} accepted"
        );
    }
});
