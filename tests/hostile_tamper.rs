//! Hostile suite: binary and configuration tampering. The binary finds itself through
//! /proc/self/exe (never argv[0]), takes its configuration only from a root-owned, never
//! group/other-writable chain of directories, reads it without following symlinks or blocking,
//! and cannot be made to load a library chosen by its caller.

mod common;
mod hostile_support;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{config_text, write_file, Outcome, Sandbox, ALICE, NM_USER, SYS_USER};
use hostile_support::*;

/// A laxer configuration that would let the system user cexec_sys (uid < 1000) through.
fn lax_config() -> String {
    config_text(&[("min.user.id", Some("1"))])
}

/// `<dir>/{bin,etc/hadoop}` with a lax config, all root-owned and safe (another install).
fn alternate_install(sb: &Sandbox, name: &str) -> PathBuf {
    let alt = sb.prefix().join(name);
    for d in [
        alt.clone(),
        alt.join("bin"),
        alt.join("etc"),
        alt.join("etc/hadoop"),
    ] {
        fs::create_dir(&d).unwrap();
        sb.chmod(&d, 0o755);
    }
    let cfg = alt.join("etc/hadoop/container-executor.cfg");
    write_file(&cfg, &lax_config(), 0o400);
    alt
}

/// list-as-user of `/` for the system user: refused by the real configuration (uid below 1000),
/// allowed by the lax one.
fn sys_list_words() -> Vec<OsString> {
    os(&[SYS_USER, SYS_USER, "5", "/"])
}

#[track_caller]
fn assert_real_config_applied(out: &Outcome) {
    out.assert_code(255)
        .assert_stdout_has("below the minimum allowed 1000")
        .assert_stdout_lacks("\nbin\n")
        .assert_stdout_lacks("\netc\n");
}

#[test]
fn attack_argv0_points_at_another_install() {
    let Some(sb) = Sandbox::new("h_argv0") else {
        return;
    };
    let alt = alternate_install(&sb, "alt");
    let spoof = compile_c(&sb, "spoof", SPOOF_C, &[]);
    let mut argv = as_user_prefix(NM_USER);
    argv.push(spoof.into_os_string());
    argv.push(alt.join("bin/container-executor").into_os_string());
    argv.push(sb.bin().into_os_string());
    argv.extend(sys_list_words());
    assert_real_config_applied(&run_argv(&argv, &[]));
    // Also a relative and an empty argv[0].
    for fake in ["container-executor", "../alt/bin/container-executor", ""] {
        let mut argv = as_user_prefix(NM_USER);
        argv.push(sb.prefix().join("tools/spoof").into_os_string());
        argv.push(fake.into());
        argv.push(sb.bin().into_os_string());
        argv.extend(sys_list_words());
        assert_real_config_applied(&run_argv(&argv, &[]));
    }
}

#[test]
fn attack_argc_zero() {
    // execve with an empty argv: no argv[0] at all. Nothing may index past the end.
    let Some(sb) = Sandbox::new("h_argc0") else {
        return;
    };
    let argc0 = compile_c(
        &sb,
        "argc0",
        "#include <unistd.h>\nint main(int c, char **v) { char *a[] = {0}; char *e[] = {0}; execve(v[1], a, e); return 100; }\n",
        &[],
    );
    let mut argv = as_user_prefix(NM_USER);
    argv.push(argc0.into_os_string());
    argv.push(sb.bin().into_os_string());
    let out = run_argv(&argv, &[]);
    // Usage (1), like a call without arguments; never a panic (101) or a signal.
    out.assert_code(1).assert_stderr_lacks("panicked");
}

#[test]
fn attack_symlinked_binary_next_to_another_config() {
    let Some(sb) = Sandbox::new("h_symlink_bin") else {
        return;
    };
    let alt = alternate_install(&sb, "alt");
    let link = alt.join("bin/container-executor");
    symlink(sb.bin(), &link).unwrap();
    let mut argv = as_user_prefix(NM_USER);
    argv.push(link.into_os_string());
    argv.extend(sys_list_words());
    assert_real_config_applied(&run_argv(&argv, &[]));
}

#[test]
fn attack_hardlinked_binary_in_an_nm_owned_dir() {
    // A hard link is the same inode under a path the attacker chose, so /proc/self/exe names
    // the attacker's directory; the binary refuses to run with a second name (22) before it
    // looks for any configuration there.
    let Some(sb) = Sandbox::new("h_hardlink_bin") else {
        return;
    };
    let evil = sb.prefix().join("evil");
    for d in [
        evil.clone(),
        evil.join("bin"),
        evil.join("etc"),
        evil.join("etc/hadoop"),
    ] {
        fs::create_dir(&d).unwrap();
        sb.chown(&d, Some(sb.users().nm.uid), Some(sb.users().nm_gid));
        sb.chmod(&d, 0o755);
    }
    let cfg = evil.join("etc/hadoop/container-executor.cfg");
    write_file(&cfg, &lax_config(), 0o400); // root-owned file in NM-owned dirs
    let link = evil.join("bin/container-executor");
    fs::hard_link(sb.bin(), &link).unwrap();
    let mut argv = as_user_prefix(NM_USER);
    argv.push(link.into_os_string());
    argv.extend(sys_list_words());
    let out = run_argv(&argv, &[]);
    out.assert_code(22)
        .assert_stderr_has("has 2 hard links; refusing to run")
        .assert_stderr_lacks("must be owned by root")
        .assert_stdout_lacks("main :");
}

#[test]
fn attack_runpath_and_library_path() {
    // No RPATH/RUNPATH (a relative one, e.g. $ORIGIN/../lib, would let whoever controls a
    // directory near a copy or hard link of the binary supply its libraries), and only the
    // expected NEEDED libraries.
    let Some(sb) = Sandbox::new("h_runpath") else {
        return;
    };
    let out = common::output(
        std::process::Command::new("readelf")
            .arg("-d")
            .arg(sb.bin()),
    )
    .expect("readelf (binutils, installed with cc) is missing");
    assert!(out.status.success(), "readelf failed");
    let dynamic = String::from_utf8_lossy(&out.stdout);
    assert!(
        !dynamic.contains("(RPATH)") && !dynamic.contains("(RUNPATH)"),
        "binary has an RPATH/RUNPATH:\n{dynamic}"
    );
    for line in dynamic.lines().filter(|l| l.contains("(NEEDED)")) {
        let lib = line.rsplit('[').next().unwrap().trim_end_matches(']');
        assert!(
            [
                "libc.so.6",
                "libgcc_s.so.1",
                "libm.so.6",
                "libpthread.so.0",
                "libdl.so.2"
            ]
            .contains(&lib)
                || lib.starts_with("ld-linux"),
            "unexpected NEEDED library {lib}:\n{dynamic}"
        );
    }
    // LD_LIBRARY_PATH pointing at a directory whose "libc.so.6" is a stranger's library: an
    // ordinary program run by the NM breaks on it (the control), the setuid binary must not
    // even look (glibc's secure mode; we add no RUNPATH that could undo it).
    let libdir = sb.prefix().join("evil-lib");
    fs::create_dir(&libdir).unwrap();
    sb.chmod(&libdir, 0o755);
    let marker_dir = sb.prefix().join("markers");
    fs::create_dir(&marker_dir).unwrap();
    sb.chmod(&marker_dir, 0o1777);
    let marker = marker_dir.join("libc-loaded");
    let lib = compile_c(
        &sb,
        "fakelibc.so",
        preload_source(),
        &["-shared", "-fPIC", &format!("-DMARKER=\"{}\"", s(&marker))],
    );
    fs::copy(&lib, libdir.join("libc.so.6")).unwrap();
    let ld = s(&libdir);
    let control = run_argv(
        &[
            as_user_env_prefix(NM_USER, &[("LD_LIBRARY_PATH", &ld)]),
            os(&["/bin/true"]),
        ]
        .concat(),
        &[],
    );
    assert_ne!(
        control.code,
        0,
        "control: the planted libc should break /bin/true{}",
        control.describe()
    );
    let out = run_nm_env(&sb, &["--checksetup"], &[("LD_LIBRARY_PATH", &ld)]);
    out.assert_silent_success();
}

#[test]
fn attack_ld_preload_into_the_setuid_binary() {
    let Some(sb) = Sandbox::new("h_preload") else {
        return;
    };
    let marker_dir = sb.prefix().join("markers");
    fs::create_dir(&marker_dir).unwrap();
    sb.chmod(&marker_dir, 0o1777);
    let marker = marker_dir.join("preloaded");
    let lib = compile_c(
        &sb,
        "planted.so",
        preload_source(),
        &["-shared", "-fPIC", &format!("-DMARKER=\"{}\"", s(&marker))],
    );
    let preload = s(&lib);
    // Control: the library works on an ordinary program run by the NM.
    let control = run_argv(
        &[
            as_user_env_prefix(NM_USER, &[("LD_PRELOAD", &preload)]),
            os(&["/bin/true"]),
        ]
        .concat(),
        &[],
    );
    control.assert_code(0);
    assert!(marker.exists(), "control: the planted library did not run");
    fs::remove_file(&marker).unwrap();
    for var in ["LD_PRELOAD", "LD_AUDIT"] {
        let out = run_nm_env(&sb, &["--checksetup"], &[(var, &preload)]);
        out.assert_code(0);
        assert!(
            !marker.exists(),
            "{var} library ran inside the setuid binary: {}",
            fs::read_to_string(&marker).unwrap_or_default()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration tampering: every variant must stop with 24 before anything happens.
// ---------------------------------------------------------------------------------------------

/// An initialize attempt on a fresh node after `tamper`; must be refused with 24 and leave the
/// NM dirs unchanged. Returns the outcome for further checks.
fn config_attack(name: &str, tamper: impl FnOnce(&Node)) -> Option<Outcome> {
    let node = Node::new(name)?;
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
    tamper(&node);
    let (local, log) = node.freeze_nm_dirs();
    let out = node.run_nm(&argv);
    out.assert_code(24).assert_stdout_lacks("main :");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
    Some(out)
}

#[test]
fn attack_config_writable_by_the_nm_group() {
    config_attack("h_cfg_groupw", |n| {
        n.sb.write_config(&lax_config());
        n.sb.chown(&n.sb.config_path(), Some(0), Some(n.nm_gid()));
        n.sb.chmod(&n.sb.config_path(), 0o460);
    })
    .map(|o| {
        o.assert_stderr_has("must not be world or group writable")
            .code
    });
}

#[test]
fn attack_config_writable_by_others() {
    config_attack("h_cfg_otherw", |n| n.sb.chmod(&n.sb.config_path(), 0o402)).map(|o| {
        o.assert_stderr_has("must not be world or group writable")
            .code
    });
}

#[test]
fn attack_config_owned_by_the_nm() {
    config_attack("h_cfg_nmowned", |n| {
        n.sb.write_config(&lax_config());
        n.sb.chown(&n.sb.config_path(), Some(n.nm_uid()), Some(n.nm_gid()));
    })
    .map(|o| o.assert_stderr_has("must be owned by root").code);
}

#[test]
fn attack_config_is_a_symlink_to_an_nm_file() {
    config_attack("h_cfg_symlink", |n| {
        let target = n.locals[0].join("my.cfg");
        n.nm_file(&target, &lax_config(), 0o400);
        n.sb.remove_config();
        symlink(&target, n.sb.config_path()).unwrap();
    })
    .map(|o| o.assert_stderr_has("must be owned by root").code);
}

#[test]
fn attack_config_dir_is_a_symlink_to_an_nm_dir() {
    config_attack("h_cfg_dirlink", |n| {
        let fake = n.locals[0].join("hadoop-conf");
        n.user_dir(&fake, NM_USER, 0o755);
        write_file(&fake.join("container-executor.cfg"), &lax_config(), 0o400);
        let conf = n.sb.conf_dir();
        fs::remove_dir_all(&conf).unwrap();
        symlink(&fake, &conf).unwrap();
    })
    .map(|o| o.assert_stderr_has("must be owned by root").code);
}

#[test]
fn attack_config_ancestor_writable_by_the_nm_group() {
    config_attack("h_cfg_ancestor", |n| {
        let etc = n.sb.etc_dir();
        n.sb.chown(&etc, Some(0), Some(n.nm_gid()));
        n.sb.chmod(&etc, 0o775);
    })
    .map(|o| {
        o.assert_stderr_has("must not be world or group writable")
            .code
    });
}

#[test]
fn attack_config_replaced_by_a_fifo() {
    // Opening a FIFO for reading blocks until a writer comes: the binary must neither hang nor
    // read from it (run_argv fails the test on a hang).
    config_attack("h_cfg_fifo", |n| {
        n.sb.remove_config();
        nix::unistd::mkfifo(
            &n.sb.config_path(),
            nix::sys::stat::Mode::from_bits_truncate(0o400),
        )
        .unwrap();
    })
    .map(|o| o.assert_stderr_has("not a regular file").code);
}

#[test]
fn attack_config_replaced_by_a_device() {
    // /dev/zero's device number under the config's name: an endless read if it were opened.
    config_attack("h_cfg_device", |n| {
        n.sb.remove_config();
        nix::sys::stat::mknod(
            &n.sb.config_path(),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o400),
            nix::sys::stat::makedev(1, 5),
        )
        .unwrap();
    })
    .map(|o| {
        // Where a device cgroup or a nodev mount forbids opening it, the open fails instead.
        assert!(
            o.stderr.contains("not a regular file") || o.stderr.contains("Can't open file"),
            "{}",
            o.describe()
        );
        o.code
    });
}

#[test]
fn attack_config_replaced_by_a_directory() {
    config_attack("h_cfg_dir", |n| {
        n.sb.remove_config();
        fs::create_dir(n.sb.config_path()).unwrap();
        n.sb.chmod(&n.sb.config_path(), 0o500);
    });
}

#[test]
fn attack_config_huge() {
    config_attack("h_cfg_huge", |n| {
        let mut text = config_text(&[]);
        while text.len() < 3 << 20 {
            text.push_str("# padding padding padding padding padding padding padding padding\n");
        }
        n.sb.write_config(&text);
    })
    .map(|o| o.assert_stderr_has("larger than").code);
}

#[test]
fn attack_config_with_nul_bytes() {
    // A NUL could hide the rest of a line from a C reader ("banned.users=alice\0,bob").
    config_attack("h_cfg_nul", |n| {
        n.sb.write_config(&format!(
            "{}banned.users=yarn\0{ALICE}\n",
            config_text(&[("banned.users", None)])
        ));
    })
    .map(|o| o.assert_stderr_has("NUL").code);
}

#[test]
fn attack_config_missing_with_one_planted_in_cwd() {
    // No configuration where the binary looks; one in the caller's cwd and in the environment's
    // favourite places must not be used.
    let Some(node) = Node::new("h_cfg_cwd") else {
        return;
    };
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
    let nmdir = node.locals[0].join("cwd");
    node.user_dir(&nmdir, NM_USER, 0o755);
    let planted: &Path = &nmdir.join("container-executor.cfg");
    node.nm_file(planted, &lax_config(), 0o444);
    fs::create_dir_all(nmdir.join("etc/hadoop")).unwrap();
    write_file(
        &nmdir.join("etc/hadoop/container-executor.cfg"),
        &lax_config(),
        0o444,
    );
    node.sb.remove_config();
    let (local, log) = node.freeze_nm_dirs();
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let script = format!(
        "cd {} && exec {} {}",
        sq(&s(&nmdir)),
        as_user_prefix(NM_USER)
            .iter()
            .map(|w| sq(&w.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" "),
        std::iter::once(s(&node.sb.bin()))
            .chain(words.iter().map(|w| w.to_string()))
            .map(|w| sq(&w))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = run_argv(
        &os(&["/bin/sh", "-c", &script]),
        &[
            ("HADOOP_CONF_DIR", &s(&nmdir)),
            ("CONTAINER_EXECUTOR_CONF_DIR", &s(&nmdir)),
        ],
    );
    out.assert_code(24).assert_stderr_has("not found");
    local.assert_unchanged(&out.describe());
    log.assert_unchanged(&out.describe());
}
