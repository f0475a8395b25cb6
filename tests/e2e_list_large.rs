//! End-to-end: list-as-user of a directory whose names fill several output chunks (the names are
//! written in 64 KiB chunks, not one write per name): every name once, nothing else.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::chown;

use common::{write_file, Sandbox, ALICE};

#[test]
fn list_of_a_large_directory_prints_every_name_once() {
    let Some(sb) = Sandbox::new("list-large") else {
        return;
    };
    let local = sb.nm_local_dirs(1).remove(0);
    let u = sb.users();
    let dir = local.join("usercache").join(ALICE).join("big");
    for d in [local.join("usercache").join(ALICE), dir.clone()] {
        fs::create_dir_all(&d).unwrap();
        chown(&d, Some(u.alice.uid), Some(u.nm_gid)).unwrap();
    }
    // 5,000 names of 40 bytes: about 200 KiB of output, so three chunks and a partial one.
    let mut expected = BTreeSet::new();
    for i in 0..5000 {
        let name = format!("entry_{i:06}_{}", "x".repeat(27));
        write_file(&dir.join(&name), "", 0o644);
        expected.insert(name);
    }
    // A name holding a newline is left out (and named on stderr), not printed.
    write_file(&dir.join("bad\nname"), "", 0o644);
    let d = dir.to_string_lossy().into_owned();
    let out = sb.run_as_nm(&[ALICE, ALICE, "5", &d]);
    out.assert_code(0);
    let names: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("main :"))
        .collect();
    assert_eq!(names.len(), expected.len(), "{}", out.describe());
    let got: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, expected);
    out.assert_stderr_has("Left out of the listing: bad\\x0aname");
}
