//! The small parsers of caller input, one per selector byte (`data[0] % PARSERS`), fed the rest:
//! container / application id and yarn-user grammars, pid / signal / command numbers, `%` and `,`
//! lists, path splitting for pid files and delete targets, the escaping of what we print, the
//! run-as-user name policy, and the `--help`/`--version` front.
//!
//! Each parser is checked against an independent oracle or the invariant its callers rely on
//! (an accepted id is one safe path component, an accepted number is its canonical decimal
//! value, ...).
#![no_main]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use container_executor::cli::{self, Request, RunAsCommand};
use container_executor::config::{split_hadoop_list, Config};
use container_executor::error::hadoop_text;
use container_executor::users::{check_with, PasswdEntry};
use container_executor::{fs, ids, layout, ops, out};
use libfuzzer_sys::fuzz_target;

const PARSERS: u8 = 10;

/// A field as YARN's `FastNumberFormat` writes a value in `lo..=max` with `min` digits: formatted
/// back from its value and compared (unlike `ids.rs`, which scans).
fn padded_oracle(t: &[u8], min: usize, lo: u128, max: u128) -> bool {
    if t.is_empty() || t.len() > 30 || !t.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v: u128 = std::str::from_utf8(t).unwrap().parse().unwrap();
    (lo..=max).contains(&v) && format!("{v:0min$}").as_bytes() == t
}

/// `container_[e<epoch>_]<ts>_<app>_<attempt>_<cid>` exactly as `ContainerId.toString()`.
fn container_id_oracle(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"container_") else {
        return false;
    };
    let mut parts: Vec<&[u8]> = rest.split(|b| *b == b'_').collect();
    if parts.len() == 5 {
        let e = parts.remove(0);
        let long = i64::MAX as u128;
        if !e.starts_with(b"e") || !padded_oracle(&e[1..], 2, 1, long >> 40) {
            return false;
        }
    }
    let int = i32::MAX as u128;
    parts.len() == 4
        && padded_oracle(parts[0], 1, 0, i64::MAX as u128)
        && padded_oracle(parts[1], 4, 0, int)
        && padded_oracle(parts[2], 2, 0, int)
        && padded_oracle(parts[3], 6, 0, (1 << 40) - 1)
}

/// Canonical decimal at most `max` (`ids::canonical_decimal`'s contract), by formatting back.
fn canonical_oracle(arg: &[u8], max: i64) -> Option<i64> {
    let t = std::str::from_utf8(arg).ok()?;
    if t.is_empty() || t.len() > 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = t.parse().ok()?;
    (v.to_string() == t && v <= max).then_some(v)
}

/// strtok: the non-empty runs between separators, or the whole input when there are none.
fn split_oracle(s: &[u8], sep: u8) -> Vec<Vec<u8>> {
    let parts: Vec<Vec<u8>> = s
        .split(|b| *b == sep)
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if parts.is_empty() {
        vec![s.to_vec()]
    } else {
        parts
    }
}

fn argv(words: &[&[u8]]) -> Vec<OsString> {
    std::iter::once(&b"container-executor"[..])
        .chain(words.iter().copied())
        .map(|w| OsStr::from_bytes(w).to_os_string())
        .collect()
}

fn fake_passwd(name: &str) -> Result<Option<PasswdEntry>, String> {
    // Every name "exists" with a uid derived from it, so the policy itself is exercised.
    let uid = name
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    Ok(Some(PasswdEntry {
        name: name.to_string(),
        uid,
        gid: uid,
    }))
}

fn collapse_slashes(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for &c in b {
        if !(c == b'/' && out.last() == Some(&b'/')) {
            out.push(c);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let os = OsStr::from_bytes(input);
    match selector % PARSERS {
        0 => {
            // Container id: both entry points agree with the oracle; accepted = safe component.
            let text_ok = std::str::from_utf8(input).is_ok_and(ids::is_valid_container_id);
            assert_eq!(text_ok, container_id_oracle(input));
            assert_eq!(layout::valid_container_id(os).is_some(), text_ok);
            if text_ok {
                assert!(input
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_'));
                assert!(input.len() >= "container_0_0000_00_000000".len());
            }
        }
        1 => {
            // Application id: exactly application_<ts>_<seq, 4+ digits> as YARN writes it.
            let accepted = layout::valid_app_id(os);
            let oracle = std::str::from_utf8(input).ok().and_then(|s| {
                let rest = s.strip_prefix("application_")?;
                let (ts, seq) = rest.split_once('_')?;
                let ok = padded_oracle(ts.as_bytes(), 1, 0, i64::MAX as u128)
                    && padded_oracle(seq.as_bytes(), 4, 0, i32::MAX as u128);
                ok.then_some(s)
            });
            assert_eq!(accepted, oracle);
        }
        2 => {
            // Yarn user (a path component under usercache/).
            if let Some(user) = layout::valid_yarn_user(os) {
                assert!(!user.is_empty() && user != "." && !user.contains(".."));
                assert!(!user.contains(['/', '\0', '\n']) && user.is_ascii());
                assert!(user.len() <= 255);
                let body = user.strip_suffix('$').unwrap_or(user);
                assert!(!body.is_empty() && !body.starts_with(['-', '@']));
            }
        }
        3 => {
            // Pid and signal of command 2: canonical decimal within int.
            let config = Config::parse(b"x=y\n", "fuzz.cfg").expect("fixed config");
            for (words, slot) in [
                ([&b"alice"[..], b"alice", b"2", input, b"15"], 0),
                ([&b"alice"[..], b"alice", b"2", b"1", input], 1),
            ] {
                let max = i64::from(i32::MAX);
                let want = canonical_oracle(input, max).map(|v| v as i32);
                let got = match cli::parse(&argv(&words), &config) {
                    Ok(Request::RunAs(r)) => match r.command {
                        RunAsCommand::Signal { pid, signal } => {
                            Some(if slot == 0 { pid } else { signal })
                        }
                        other => panic!("command 2 gave {other:?}"),
                    },
                    Ok(other) => panic!("command 2 gave {other:?}"),
                    Err(e) => {
                        assert_eq!(e.code().number(), 1);
                        None
                    }
                };
                assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
            }
            // Command number: a whole number, or exit 3 / 1 / 32, never a panic.
            let r = cli::parse(&argv(&[b"alice", b"alice", input]), &config);
            if let Err(e) = &r {
                assert!(matches!(e.code().number(), 1 | 3 | 32));
            }
            if input.len() >= 4 {
                let code = i32::from_le_bytes([input[0], input[1], input[2], input[3]]);
                assert!(!hadoop_text(code).is_empty());
            }
        }
        4 => {
            // '%' directory lists (bytes) and ',' lists (config values).
            let got = cli::split_os_list(os, '%');
            let want = split_oracle(input, b'%');
            let got: Vec<&[u8]> = got.iter().map(|p| p.as_bytes()).collect();
            assert_eq!(got, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
            if let Ok(s) = std::str::from_utf8(input) {
                let list = split_hadoop_list(s, ',');
                let want = split_oracle(input, b',');
                let list: Vec<&[u8]> = list.iter().map(|p| p.as_bytes()).collect();
                assert_eq!(list, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
            }
        }
        5 => {
            // Pid-file / tc-file / cgroup path split: parent + name give back the path.
            let path = Path::new(os);
            match fs::split_parent(path) {
                Ok((parent, name)) => {
                    let n = name.as_bytes();
                    assert!(!n.is_empty() && n != b"." && n != b"..");
                    assert!(!n.contains(&b'/') && !n.contains(&0));
                    assert!(parent.is_absolute());
                    let mut joined = parent.as_os_str().as_bytes().to_vec();
                    joined.push(b'/');
                    joined.extend_from_slice(n);
                    assert_eq!(collapse_slashes(&joined), collapse_slashes(input));
                    assert!(!fs::contains_dotdot(&name) || n.windows(2).any(|w| w == b".."));
                }
                Err(_) => {
                    let b = input;
                    assert!(
                        !b.starts_with(b"/")
                            || b.ends_with(b"/")
                            || b.contains(&0)
                            || b.split(|c| *c == b'/').any(|p| p == b"." || p == b"..")
                    );
                }
            }
        }
        6 => {
            // Delete targets: `<base>/<sub>` as the command joins them.
            let (base, sub) = match input.iter().position(|b| *b == 0) {
                Some(at) => (&input[..at], &input[at + 1..]),
                None => (input, &b""[..]),
            };
            let target = Path::new(OsStr::from_bytes(base)).join(OsStr::from_bytes(sub));
            if let Ok((last, parents)) = ops::delete_target_names(&target) {
                assert!(target.is_absolute());
                for name in parents.iter().chain([&last]) {
                    let n = name.as_bytes();
                    assert!(!n.is_empty() && n != b"." && n != b".." && !n.contains(&b'/'));
                }
                let mut rebuilt = Vec::new();
                for name in parents.iter().chain([&last]) {
                    rebuilt.push(b'/');
                    rebuilt.extend_from_slice(name.as_bytes());
                }
                // Nothing but "." components and slashes were dropped.
                let mut original: Vec<u8> = Vec::new();
                for part in target.as_os_str().as_bytes().split(|c| *c == b'/') {
                    if !part.is_empty() && part != b"." {
                        original.push(b'/');
                        original.extend_from_slice(part);
                    }
                }
                assert_eq!(rebuilt, original);
            }
        }
        7 => {
            // What we print: one line, no control characters but tab.
            let text = String::from_utf8_lossy(input);
            let shown = out::escape_controls(&text);
            assert!(!shown
                .chars()
                .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}'));
            if !text.chars().any(|c| c.is_control() && c != '\t') && !text.contains('\u{7f}') {
                assert_eq!(shown, text);
            }
        }
        8 => {
            // Run-as-user name policy on any name: never root, never a banned name.
            let config = Config::parse(
                b"banned.users=yarn,mapred,hdfs,bin\nmin.user.id=1000\nallowed.system.users=sys\n",
                "fuzz.cfg",
            )
            .expect("fixed config");
            let nm_gid = container_executor::users::Gid::from_raw(4242);
            if let Ok(user) = check_with(os, &config, nm_gid, fake_passwd) {
                assert!(user.gid().as_raw() != 0 && user.gid() != nm_gid);
                assert_ne!(user.uid().as_raw(), 0);
                assert_eq!(user.name().as_bytes(), input);
                assert!(!["root", "yarn", "mapred", "hdfs", "bin"].contains(&user.name()));
                assert!(user.uid().as_raw() >= 1000 || user.name() == "sys");
            }
        }
        _ => {
            // The human front: only a lone --help/-h/--version/-V.
            let one = cli::human_request(&argv(&[input]));
            assert_eq!(
                one.is_some(),
                matches!(input, b"--help" | b"-h" | b"--version" | b"-V")
            );
            assert!(cli::human_request(&argv(&[input, b"x"])).is_none());
            assert!(cli::human_request(&argv(&[b"--help", input])).is_none());
        }
    }
});
