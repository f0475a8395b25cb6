//! Hostile suite: process state inherited from the caller. Open descriptors (to files only root
//! could open), the environment (loader, locale, resolver and shell variables), ignored and
//! blocked signals, the umask and closed standard streams must neither change what the
//! privileged binary does nor reach the localizer or the container.
//! (Resource limits: tests/hostile_rlimits_hygiene.rs.)

mod common;
mod hostile_support;

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use common::{ALICE, NM_USER};
use hostile_support::*;

/// A script/localizer body that records what it inherited into the current directory. Signal
/// state is read by `grep` from its own `/proc/self/status` (what a program exec'd by the user's
/// shell inherits): the shell's own status may show every signal blocked around its forks.
const RECORD: &str = "PATH=/usr/bin:/bin\n\
    ls -l /proc/self/fd > fds.txt 2>&1\n\
    env > env.txt\n\
    grep -E '^Sig(Ign|Blk)' /proc/self/status > sig.txt\n\
    umask > umask.txt\n\
    for fd in 5 7 8 9; do cat <&$fd >> stolen.txt 2>/dev/null; echo pwned 2>/dev/null >&$fd; done\n\
    true\n";

#[track_caller]
fn assert_no_leaked_fds(fds: &str) {
    for line in fds.lines().filter(|l| l.contains("->")) {
        let mut parts = line.split_whitespace().rev();
        let target = parts.next().unwrap();
        let _arrow = parts.next();
        let fd: u32 = parts.next().unwrap().parse().unwrap();
        assert!(
            fd <= 2 || target.contains("/proc/"),
            "fd {fd} -> {target} leaked:\n{fds}"
        );
    }
}

/// Open fds 5/7 (read) on the root-only secret and 8/9 (append) on root-owned files before
/// dropping to the NM.
fn open_fds(v: &Victim) -> String {
    format!(
        "exec 5<{} 7<{} 8>>{} 9>>{}",
        sq(&s(&v.secret)),
        sq(&s(&v.public)),
        sq(&s(&v.public)),
        sq(&s(&v.subdir.join("inner")))
    )
}

#[test]
fn attack_inherited_fds_reach_the_container() {
    let Some(node) = Node::new("h_fd_launch") else {
        return;
    };
    let victim = Victim::new(&node.sb, "fds");
    let c = Container::prepare(&node, ALICE, &format!("#!/bin/sh\n{RECORD}"));
    let out = nm_call_after(&node.sb, &open_fds(&victim), &c.argv(&node));
    out.assert_code(0);
    assert_no_leaked_fds(&c.probe("fds.txt"));
    let stolen = fs::read_to_string(c.work_dir.join("stolen.txt")).unwrap_or_default();
    assert!(
        !stolen.contains(SECRET_TEXT.trim()) && !stolen.contains(PUBLIC_TEXT.trim()),
        "the container read through an inherited fd: {stolen:?}"
    );
    victim.assert_intact(&out.describe());
}

#[test]
fn attack_inherited_fds_reach_the_localizer() {
    let Some(node) = Node::new("h_fd_init") else {
        return;
    };
    let victim = Victim::new(&node.sb, "fdsinit");
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/sh", "-c", RECORD]);
    let out = nm_call_after(&node.sb, &open_fds(&victim), &argv);
    out.assert_code(0);
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    assert_no_leaked_fds(&fs::read_to_string(app.join("fds.txt")).unwrap());
    let stolen = fs::read_to_string(app.join("stolen.txt")).unwrap_or_default();
    assert!(
        !stolen.contains(SECRET_TEXT.trim()) && !stolen.contains(PUBLIC_TEXT.trim()),
        "the localizer read through an inherited fd: {stolen:?}"
    );
    victim.assert_intact(&out.describe());
}

/// The hostile environment: every variable that changes how the loader, libc, a shell or a
/// resolver behaves, plus a bash function export.
fn hostile_env(node: &Node, marker_lib: &Path) -> Vec<(String, String)> {
    let evil = s(&node.sb.prefix().join("tools"));
    let mut env: Vec<(String, String)> = [
        "LD_LIBRARY_PATH",
        "GCONV_PATH",
        "LOCPATH",
        "NLSPATH",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "LOCALDOMAIN",
        "RES_OPTIONS",
        "TZDIR",
        "MALLOC_TRACE",
        "BASH_ENV",
        "ENV",
        "GLIBC_TUNABLES",
        "LD_AUDIT",
        "LD_DEBUG_OUTPUT",
    ]
    .iter()
    .map(|k| (k.to_string(), format!("{evil}/{k}")))
    .collect();
    env.push(("LD_PRELOAD".into(), s(marker_lib)));
    env.push(("IFS".into(), "/".into()));
    env.push(("SHELLOPTS".into(), "xtrace".into()));
    env.push(("PS4".into(), "$(touch /tmp/cexec-ps4)".into()));
    env.push((
        "BASH_FUNC_echo%%".into(),
        "() { touch /tmp/cexec-bashfunc; }".into(),
    ));
    env.push(("INNOCENT".into(), "() { shellshock; }".into()));
    env
}

const DANGEROUS_IN_CHILD: &[&str] = &[
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RESOLV_HOST_CONF",
    "MALLOC_TRACE",
    "BASH_ENV",
    "ENV",
    "IFS",
    "SHELLOPTS",
    "PS4",
    "GLIBC_TUNABLES",
    "BASH_FUNC_echo%%",
    "INNOCENT",
];

fn marker_lib(node: &Node) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = node.sb.prefix().join("markers");
    fs::create_dir_all(&dir).unwrap();
    node.sb.chmod(&dir, 0o1777);
    let marker = dir.join("preloaded");
    let lib = compile_c(
        &node.sb,
        "planted.so",
        preload_source(),
        &["-shared", "-fPIC", &format!("-DMARKER=\"{}\"", s(&marker))],
    );
    (lib, marker)
}

#[track_caller]
fn assert_clean_env(env_txt: &str, marker: &Path, user_uid: u32, who: &str) {
    for line in env_txt.lines() {
        let key = line.split('=').next().unwrap_or("");
        assert!(
            !DANGEROUS_IN_CHILD.contains(&key),
            "{who} inherited {line:?}:\n{env_txt}"
        );
    }
    let loaded = fs::read_to_string(marker).unwrap_or_default();
    assert!(
        !loaded.contains(&format!("ruid={user_uid} ")),
        "the planted library ran in the {who}: {loaded}"
    );
}

#[test]
fn attack_hostile_environment_reaches_the_container() {
    let Some(node) = Node::new("h_env_launch") else {
        return;
    };
    let (lib, marker) = marker_lib(&node);
    let env = hostile_env(&node, &lib);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let c = Container::prepare(&node, ALICE, &format!("#!/bin/sh\n{RECORD}"));
    let out = c.launch_env(&node, &env_ref);
    out.assert_code(0);
    assert_clean_env(&c.probe("env.txt"), &marker, node.uid(ALICE), "container");
}

#[test]
fn attack_hostile_environment_reaches_the_localizer() {
    let Some(node) = Node::new("h_env_init") else {
        return;
    };
    let (lib, marker) = marker_lib(&node);
    let env = hostile_env(&node, &lib);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/sh", "-c", RECORD]);
    let a: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = run_nm_env(&node.sb, &a, &env_ref);
    out.assert_code(0);
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    assert_clean_env(
        &fs::read_to_string(app.join("env.txt")).unwrap(),
        &marker,
        node.uid(ALICE),
        "localizer",
    );
}

#[test]
fn attack_root_caller_environment_reaches_the_container() {
    // A root caller already in the binary's group gets no AT_SECURE, so glibc strips nothing:
    // the binary's own filter is all that stands between root's environment and the
    // container. (The NM dirs are root's here: the caller is the "NM".)
    let Some(node) = Node::new("h_env_root") else {
        return;
    };
    for d in node.locals.iter().chain(&node.logs) {
        for p in [d.clone(), d.join("usercache"), d.join("nmPrivate")] {
            if p.exists() {
                node.sb.chown(&p, Some(0), Some(node.nm_gid()));
            }
        }
    }
    let (lib, marker) = marker_lib(&node);
    let env = hostile_env(&node, &lib);
    let c = Container::prepare(&node, ALICE, &format!("#!/bin/sh\n{RECORD}"));
    for f in [&c.script, &c.tokens] {
        node.sb.chown(f, Some(0), Some(0));
    }
    let dir = c.script.parent().unwrap();
    node.sb.chown(dir, Some(0), Some(0));
    node.sb.chown(dir.parent().unwrap(), Some(0), Some(0));
    let mut argv = root_in_nm_group(&node);
    argv.extend(env.iter().map(|(k, v)| OsString::from(format!("{k}={v}"))));
    argv.push(node.sb.bin().into_os_string());
    argv.extend(c.argv(&node).into_iter().map(OsString::from));
    let out = run_argv(&argv, &[]);
    out.assert_code(0);
    let loaded = fs::read_to_string(&marker).unwrap_or_default();
    assert!(
        loaded.contains("container-executor"),
        "control: the preload did not even reach the root-run binary: {loaded:?}"
    );
    assert_clean_env(&c.probe("env.txt"), &marker, node.uid(ALICE), "container");
}

/// `setpriv --regid=<NM group> --clear-groups env`: root with the binary's group already, so
/// exec'ing it changes no credential, the kernel sets no AT_SECURE and glibc cleans nothing:
/// the binary's own environment filter is all that counts.
fn root_in_nm_group(node: &Node) -> Vec<OsString> {
    os(&[
        SETPRIV,
        "--reuid=0",
        &format!("--regid={}", node.nm_gid()),
        "--clear-groups",
        ENV,
    ])
}

/// Parse a hex signal mask line value.
fn mask(sig_txt: &str, key: &str) -> u64 {
    let v = sig_txt
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in {sig_txt}"));
    u64::from_str_radix(v.trim(), 16).unwrap()
}

#[track_caller]
fn assert_default_signals(sig_txt: &str, who: &str) {
    let bit = |n: u32| 1u64 << (n - 1);
    let ignored = mask(sig_txt, "SigIgn");
    for (name, n) in [("HUP", 1), ("INT", 2), ("TERM", 15), ("USR2", 12)] {
        assert_eq!(
            ignored & bit(n),
            0,
            "{who}: SIG{name} still ignored:\n{sig_txt}"
        );
    }
    assert_eq!(
        mask(sig_txt, "SigBlk"),
        0,
        "{who}: signals still blocked:\n{sig_txt}"
    );
}

#[test]
fn attack_ignored_and_blocked_signals_reach_the_container_and_localizer() {
    // A container that ignores SIGTERM cannot be stopped gracefully; one with SIGCHLD blocked
    // misbehaves. The caller's dispositions and mask must not survive into user code.
    let Some(node) = Node::new("h_sigstate") else {
        return;
    };
    let sigstate = compile_c(&node.sb, "sigstate", SIGSTATE_C, &[]);
    let c = Container::prepare(&node, ALICE, &format!("#!/bin/sh\n{RECORD}"));
    let mut argv = vec![sigstate.clone().into_os_string()];
    argv.extend(as_user_prefix(NM_USER));
    argv.push(node.sb.bin().into_os_string());
    argv.extend(c.argv(&node).into_iter().map(OsString::from));
    let out = run_argv(&argv, &[]);
    out.assert_code(0);
    assert_default_signals(&c.probe("sig.txt"), "container");

    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let mut argv = vec![sigstate.into_os_string()];
    argv.extend(as_user_prefix(NM_USER));
    argv.push(node.sb.bin().into_os_string());
    argv.extend(
        node.init_argv(ALICE, &cid, &tokens, &["/bin/sh", "-c", RECORD])
            .into_iter()
            .map(OsString::from),
    );
    let out = run_argv(&argv, &[]);
    out.assert_code(0);
    let app = node.app_dir(&node.locals[0], ALICE, APP);
    assert_default_signals(
        &fs::read_to_string(app.join("sig.txt")).unwrap(),
        "localizer",
    );
}

#[test]
fn attack_caller_umask_zero_makes_root_created_dirs_writable() {
    let Some(node) = Node::new("h_umask") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, &format!("#!/bin/sh\n{RECORD}"));
    let out = nm_call_after(&node.sb, "umask 000", &c.argv(&node));
    out.assert_code(0);
    assert_eq!(c.probe("umask.txt").trim(), "0027", "container umask");
    for (path, st) in snapshot(&node.sb.prefix().join("nm-local"))
        .into_iter()
        .chain(snapshot(&node.sb.prefix().join("nm-log")))
    {
        if st.kind == "dir"
            || path.ends_with("launch_container.sh")
            || path.ends_with("container_tokens")
        {
            assert_eq!(
                st.mode & 0o002,
                0,
                "{} is world-writable ({:o}){}",
                path.display(),
                st.mode,
                out.describe()
            );
        }
    }
    // umask 0777: everything the binary makes still gets its documented mode.
    let c2 = Container::prepare(&node, ALICE, "#!/bin/sh\necho ok > ok.txt\n");
    let out = nm_call_after(&node.sb, "umask 0777", &c2.argv(&node));
    out.assert_code(0);
    assert_eq!(c2.probe("ok.txt"), "ok\n");
    assert_eq!(lmode(&c2.work_dir) & 0o777, 0o710, "work dir mode");
    assert_eq!(lmode(&c2.work_dir.join("container_tokens")), 0o600);
}

#[test]
fn attack_closed_stdio_makes_log_lines_land_in_files() {
    // With fds 0-2 closed, the first files the binary opens would get 0, 1, 2, and its log
    // lines would be written into them (the tokens copy, the pid file, the config...).
    let Some(node) = Node::new("h_stdio_closed") else {
        return;
    };
    let victim = Victim::new(&node.sb, "stdio");
    let c = Container::prepare(
        &node,
        ALICE,
        "#!/bin/sh\necho hello\necho oops >&2\nexit 0\n",
    );
    let script_before = fs::read(&c.script).unwrap();
    let tokens_before = fs::read(&c.tokens).unwrap();
    let out = nm_call_after(&node.sb, "exec 0<&- 1>&- 2>&-", &c.argv(&node));
    out.assert_code(0);
    assert_eq!(
        fs::read(c.work_dir.join("launch_container.sh")).unwrap(),
        script_before
    );
    assert_eq!(
        fs::read(c.work_dir.join("container_tokens")).unwrap(),
        tokens_before
    );
    let pid = fs::read_to_string(&c.pid_file).unwrap();
    assert!(pid.parse::<u32>().is_ok(), "pid file holds {pid:?}");
    assert_eq!(fs::read_to_string(c.exit_code_file()).unwrap(), "0");
    victim.assert_intact(&out.describe());
    let cfg = fs::read_to_string(node.sb.config_path()).unwrap();
    assert!(!cfg.contains("main :"), "log lines in the config:\n{cfg}");
}

#[test]
fn attack_environment_reaches_root_run_tc() {
    // tc runs as root. The environment of a root caller in the binary's group is not cleaned by
    // glibc (no AT_SECURE), so only the binary's fixed environment for tc keeps a preload
    // library out of it.
    let Some(node) = Node::new("h_env_tc") else {
        return;
    };
    if !Path::new("/sbin/tc").exists() {
        let banner = "!".repeat(100);
        eprintln!("\n{banner}\n!!! SKIPPED attack_environment_reaches_root_run_tc: no /sbin/tc !!!\n{banner}");
        return;
    }
    node.sb
        .write_config_with(&[("feature.tc.enabled", Some("true"))]);
    let (lib, marker) = marker_lib(&node);
    let dir = node.sb.prefix().join("tc");
    fs::create_dir(&dir).unwrap();
    node.sb.chmod(&dir, 0o755);
    let file = dir.join("read.tc");
    common::write_file(&file, "qdisc show dev lo\n", 0o644);
    let mut argv = root_in_nm_group(&node);
    for (k, v) in hostile_env(&node, &lib) {
        argv.push(format!("{k}={v}").into());
    }
    argv.push(node.sb.bin().into_os_string());
    argv.extend(os(&["--tc-read-state", &s(&file)]));
    let out = run_argv(&argv, &[]);
    out.assert_code(0);
    let loaded = fs::read_to_string(&marker).unwrap_or_default();
    assert!(
        loaded.contains("container-executor"),
        "control: the preload did not even reach the root-run binary: {loaded:?}"
    );
    assert!(
        !loaded.lines().any(|l| l.ends_with("/tc")),
        "the planted library ran inside root's tc:\n{loaded}"
    );
}
