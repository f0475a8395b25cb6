//! `--checksetup` that explains, for an operator at a terminal or a reviewer (`--verbose`).
//!
//! The NodeManager runs plain `--checksetup` with no terminal: that path is untouched (lib.rs
//! only comes here when [`wants_report`] says so), so its output and exit codes stay Hadoop's.
//!
//! The report inspects, read-only and in the setup's order, every object the setup checks
//! (executable, configuration file and each parent, group, binary, privileges, caller, the
//! `nm-user` pin, the single hard link) plus what the setup does not check (`nosuid`, RPATH/RUNPATH,
//! `--local-dir`/`--log-dir` roots), and prints for each what it saw, what was expected and the
//! command that fixes it. Then the real setup checks run and have the last word on the exit
//! code, so the report can never turn a failing node into a passing one.

use std::ffi::OsString;
use std::fs::File;
use std::io::{IsTerminal, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Group, Uid, User};

use crate::config::{Config, MAX_CONFIG_BYTES, NM_GROUP_KEY};
use crate::error::{hadoop_text, Code};
use crate::fs::DirFd;
use crate::layout;
use crate::out;
use crate::setup::{self, Caller, NM_USER_KEY};

/// The explaining report runs for `--checksetup` on a terminal, or with `--verbose`/`-v`,
/// `--local-dir` or `--log-dir` after it (the NodeManager sends none of these).
pub fn wants_report(args: &[OsString]) -> bool {
    if args.get(1).map(|a| a.as_bytes()) != Some(b"--checksetup") {
        return false;
    }
    let asked = args[2..].iter().any(|a| {
        let a = a.as_bytes();
        a == b"--verbose"
            || a == b"-v"
            || a == b"--local-dir"
            || a == b"--log-dir"
            || a.starts_with(b"--local-dir=")
            || a.starts_with(b"--log-dir=")
    });
    asked || std::io::stdout().is_terminal()
}

/// The directories named after `--checksetup`: (local dirs, log dirs). Other words are ignored,
/// as plain `--checksetup` ignores them.
pub fn dir_options(args: &[OsString]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut local, mut log) = (Vec::new(), Vec::new());
    let mut i = 2;
    while i < args.len() {
        let a = args[i].as_bytes();
        for (flag, list) in [
            (&b"--local-dir"[..], &mut local),
            (&b"--log-dir"[..], &mut log),
        ] {
            if a == flag {
                if let Some(v) = args.get(i + 1) {
                    list.push(PathBuf::from(v));
                    i += 1;
                }
            } else if a.len() > flag.len() && a.starts_with(flag) && a[flag.len()] == b'=' {
                list.push(PathBuf::from(std::ffi::OsStr::from_bytes(
                    &a[flag.len() + 1..],
                )));
            }
        }
        i += 1;
    }
    (local, log)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Warn,
    Fail(Code),
}

/// The numbered list of checks, and the first failure's code.
struct Report {
    n: usize,
    first_failure: Option<Code>,
    warnings: usize,
}

impl Report {
    fn check(&mut self, verdict: Verdict, what: &str, seen: &str, expected: &str, fix: &[String]) {
        self.n += 1;
        let tag = match verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "WARN",
            Verdict::Fail(_) => "FAIL",
        };
        out::log(&format!("{:>2}. [{tag}] {what}", self.n));
        if !seen.is_empty() {
            out::log(&format!("           seen:     {seen}"));
        }
        if !expected.is_empty() {
            out::log(&format!("           expected: {expected}"));
        }
        if verdict != Verdict::Ok {
            for f in fix {
                out::log(&format!("           fix:      {f}"));
            }
        }
        match verdict {
            Verdict::Fail(code) if self.first_failure.is_none() => self.first_failure = Some(code),
            Verdict::Warn => self.warnings += 1,
            _ => {}
        }
    }
}

fn user_name(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

fn group_name(gid: u32) -> String {
    match Group::from_gid(Gid::from_raw(gid)) {
        Ok(Some(g)) => format!("{} (gid {gid})", g.name),
        _ => format!("gid {gid}"),
    }
}

fn owner_mode(uid: u32, gid: u32, mode: u32) -> String {
    format!(
        "owner {}, group {}, mode {:04o}",
        user_name(uid),
        group_name(gid),
        mode & 0o7777
    )
}

/// Run the report, then the real setup checks; returns the exit status.
pub fn run(args: &[OsString]) -> i32 {
    let caller = setup::capture_caller();
    let (local_dirs, log_dirs) = dir_options(args);
    out::log("container-executor --checksetup: every check, in order (the NodeManager's own");
    out::log("--checksetup, without a terminal, prints nothing on success)");
    let mut r = Report {
        n: 0,
        first_failure: None,
        warnings: 0,
    };
    let owner = inspect(&mut r, &caller);
    // The directories are the caller's input: looked at with the caller's own rights, never
    // root's, so the report cannot reveal what the caller could not see itself.
    let caller_identity = crate::identity::NmIdentity {
        uid: caller.uid,
        gid: caller.gid,
    };
    if nix::unistd::geteuid().is_root() && !caller.uid.is_root() {
        if crate::identity::as_nm(caller_identity, || {
            check_extra_dirs(&mut r, &local_dirs, &log_dirs, owner)
        })
        .is_err()
        {
            out::log("could not take the caller's identity to look at the directories");
            r.first_failure.get_or_insert(Code::SetuidOperFailed);
        }
    } else {
        check_extra_dirs(&mut r, &local_dirs, &log_dirs, owner);
    }

    // The real checks decide; the report only explains.
    let real = match setup::run_setup_checks() {
        Ok(_) => 0,
        Err(e) => {
            out::log("the setup checks themselves say:");
            crate::report_error(&e, None)
        }
    };
    let code = if real != 0 {
        real
    } else {
        r.first_failure.map_or(0, Code::number)
    };
    let warned = match r.warnings {
        0 => String::new(),
        n => format!(", {n} warning(s)"),
    };
    if code == 0 {
        out::log(&format!(
            "result: all {} checks passed{warned}; exit 0",
            r.n
        ));
    } else {
        out::log(&format!(
            "result: FAILED{warned}; exit {code} ({})",
            hadoop_text(code)
        ));
    }
    code
}

/// Whose NM directories `--local-dir`/`--log-dir` name.
enum DirOwner {
    /// The caller failed the caller or pinning check: nothing is looked at for it.
    NotAllowed,
    /// Root called and no `nm-user` is set: the NodeManager account is not known.
    Unknown,
    Uid(u32),
}

/// The setup's checks, explained. Returns who NM roots must be owned by.
fn inspect(r: &mut Report, caller: &Caller) -> DirOwner {
    let exe = match setup::find_own_executable() {
        Ok(exe) => {
            r.check(
                Verdict::Ok,
                &format!("executable {}", exe.display()),
                "found through /proc/self/exe",
                "a path the kernel can give",
                &[],
            );
            exe
        }
        Err(e) => {
            r.check(
                Verdict::Fail(e.code()),
                "executable",
                &e.to_string(),
                "/proc mounted and a path shorter than 4096 bytes",
                &["mount -t proc proc /proc".into()],
            );
            return DirOwner::NotAllowed;
        }
    };
    let config = inspect_config(r, &exe);
    let group = config.as_ref().and_then(|c| inspect_group(r, c));
    inspect_binary(r, &exe, group.as_ref().map(|(n, g)| (n.as_str(), *g)));
    inspect_privileges(r, &exe, caller);
    inspect_binary_extras(r, &exe);
    if let Some(config) = config.as_ref() {
        inspect_cgroup_confinement(r, config);
    }
    let (Some(config), Some((group, gid))) = (config, group) else {
        return DirOwner::NotAllowed;
    };
    let group_ok = setup::check_caller(caller, &group, gid).is_ok();
    r.check(
        if group_ok {
            Verdict::Ok
        } else {
            Verdict::Fail(Code::InvalidContainerExecPermissions)
        },
        "caller",
        &format!("{}, groups {}", user_name(caller.uid.as_raw()), {
            let mut gids: Vec<u32> = std::iter::once(caller.gid)
                .chain(caller.groups.iter().copied())
                .map(|g| g.as_raw())
                .collect();
            gids.sort_unstable();
            gids.dedup();
            gids.into_iter()
                .map(group_name)
                .collect::<Vec<_>>()
                .join(", ")
        }),
        &format!("root or a member of the NodeManager group {group}"),
        &[format!(
            "usermod -aG {group} {}",
            bare_name(caller.uid.as_raw())
        )],
    );
    if !group_ok {
        return DirOwner::NotAllowed;
    }
    let owner = inspect_pin(r, &config, &group, gid, caller);
    let nm_uid = match owner {
        DirOwner::Uid(uid) => Some(uid),
        _ => None,
    };
    inspect_reentry(r, &group, gid, nm_uid);
    owner
}

/// Accounts other than root and the NodeManager that hold gid 0 or the NodeManager group, as far
/// as the group database and /etc/passwd show them: as run-as users they are refused (primary
/// group) or run without those groups (supplementary), but they can still run this binary
/// themselves outside YARN. A warning, never a failure.
fn inspect_reentry(r: &mut Report, group: &str, gid: Gid, nm_uid: Option<u32>) {
    let mut found = Vec::new();
    for (g, label) in [(gid, group.to_string()), (Gid::from_raw(0), "gid 0".into())] {
        let Ok(Some(entry)) = Group::from_gid(g) else {
            continue;
        };
        for name in group_members(&entry) {
            let Ok(Some(user)) = User::from_name(&name) else {
                continue;
            };
            if user.uid.is_root() || Some(user.uid.as_raw()) == nm_uid {
                continue;
            }
            let how = if user.gid == g {
                "primary: refused as a run-as user"
            } else {
                "supplementary: stripped from its containers"
            };
            found.push(format!("{name} ({label}, {how})"));
        }
    }
    found.sort();
    found.dedup();
    r.check(
        if found.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Warn
        },
        "users who could re-enter the binary",
        &if found.is_empty() {
            format!("no account besides root and the NodeManager in {group} or gid 0")
        } else {
            found.join(", ")
        },
        &format!("only root and the NodeManager in {group} and gid 0"),
        &found
            .iter()
            .filter_map(|f| f.split(' ').next())
            .map(|name| format!("gpasswd -d {name} <group> (or change its primary group)"))
            .collect::<Vec<_>>(),
    );
}

/// Which `cgroups=` task files a launch accepts (see ops::cgroup_tasks).
fn inspect_cgroup_confinement(r: &mut Report, config: &Config) {
    match crate::ops::cgroup_confinement(config) {
        Ok((root, hierarchy)) => {
            let h = hierarchy.join("/");
            r.check(
                Verdict::Ok,
                "launch cgroups= task files",
                &format!("[cgroups] root={root}, yarn-hierarchy={h}"),
                &format!(
                    "accepted only strictly below {root}/<controller>/{h}/ (cgroup v2 at {root}: {root}/{h}/), reached without symlinks"
                ),
                &[],
            );
        }
        // Not a warning: most nodes use no CGroups; the line says what launch then accepts.
        Err(why) => r.check(
            Verdict::Ok,
            "launch cgroups= task files",
            &why,
            "launch refuses every cgroups= value but 'none' (exit 27)",
            &["set [cgroups] root (the NodeManager's cgroup mount path) and yarn-hierarchy (its yarn.nodemanager.linux-container-executor.cgroups.hierarchy) to let containers join cgroups".into()],
        ),
    }
}

fn bare_name(uid: u32) -> String {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

/// (uid, gid, st_mode) of one object.
type OwnerMode = (u32, u32, u32);

fn inspect_config(r: &mut Report, exe: &Path) -> Option<Config> {
    let rule = format!(
        "{} (fixed at build time{})",
        setup::config_candidate(),
        if setup::CONF_DIR.starts_with('/') {
            ""
        } else {
            ", relative to the executable's directory"
        }
    );
    let path = match setup::locate_config(exe) {
        Ok(path) => {
            r.check(
                Verdict::Ok,
                &format!("configuration {}", path.display()),
                "exists",
                &rule,
                &[],
            );
            path
        }
        Err(_) => {
            let wanted = if setup::CONF_DIR.starts_with('/') {
                PathBuf::from(setup::config_candidate())
            } else {
                exe.parent()
                    .unwrap_or(Path::new("/"))
                    .join(setup::config_candidate())
                    .components()
                    .fold(PathBuf::new(), |mut p, c| {
                        match c {
                            Component::ParentDir => {
                                p.pop();
                            }
                            c => p.push(c),
                        }
                        p
                    })
            };
            r.check(
                Verdict::Fail(Code::InvalidConfigFile),
                "configuration",
                "not found",
                &rule,
                &[
                    format!(
                        "create {} (root:root, mode 0400) containing",
                        wanted.display()
                    ),
                    format!("{NM_GROUP_KEY}=hadoop"),
                ],
            );
            return None;
        }
    };
    // Walk as the setup does: from "/", one component at a time, without following symlinks.
    let mut objects: Vec<(PathBuf, std::io::Result<OwnerMode>)> = Vec::new();
    let names: Vec<_> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            _ => None,
        })
        .collect();
    let (file_name, dir_names) = names.split_last()?;
    let mut dir = DirFd::open_root(Path::new("/")).ok();
    let mut so_far = PathBuf::from("/");
    for name in dir_names {
        so_far.push(name);
        let next = dir.as_ref().map(|d| d.open_dir(name));
        match next {
            Some(Ok(d)) => {
                let st = d.stat().map(|s| (s.uid, s.gid, s.mode));
                objects.push((so_far.clone(), st));
                dir = Some(d);
            }
            Some(Err(e)) => {
                objects.push((so_far.clone(), Err(e)));
                dir = None;
            }
            None => {}
        }
    }
    let file = dir.as_ref().map(|d| d.open_file(file_name));
    let mut bytes = None;
    if let Some(file) = file {
        match file {
            Ok(f) => {
                let st = f.metadata().map(|m| (m.uid(), m.gid(), m.mode()));
                let mut buf = Vec::new();
                if f.take(MAX_CONFIG_BYTES as u64 + 1)
                    .read_to_end(&mut buf)
                    .is_ok()
                {
                    bytes = Some(buf);
                }
                objects.push((path.clone(), st));
            }
            Err(e) => objects.push((path.clone(), Err(e))),
        }
    }
    // The file first, then each parent going up, as the setup reports them.
    objects.reverse();
    let mut all_ok = true;
    for (shown, st) in &objects {
        let kind = if shown == &path {
            "config file"
        } else {
            "config parent"
        };
        match st {
            Ok((uid, gid, mode)) => {
                let mut fix = Vec::new();
                if *uid != 0 {
                    fix.push(format!("chown root {}", shown.display()));
                }
                if mode & 0o022 != 0 {
                    fix.push(format!("chmod go-w {}", shown.display()));
                }
                all_ok &= fix.is_empty();
                r.check(
                    if fix.is_empty() {
                        Verdict::Ok
                    } else {
                        Verdict::Fail(Code::InvalidConfigFile)
                    },
                    &format!("{kind} {}", shown.display()),
                    &owner_mode(*uid, *gid, *mode),
                    "owned by root, not writable by group or others",
                    &fix,
                );
            }
            Err(e) => {
                all_ok = false;
                r.check(
                    Verdict::Fail(Code::InvalidConfigFile),
                    &format!("{kind} {}", shown.display()),
                    &format!(
                        "cannot open: {e}{}",
                        if nix::unistd::geteuid().is_root() {
                            ""
                        } else {
                            " (this process is not root: see the privileges check)"
                        }
                    ),
                    "a real directory or regular file (no symlinks), readable by root",
                    &[format!("ls -ld {}", shown.display())],
                );
            }
        }
    }
    let bytes = bytes?;
    if !all_ok {
        return None;
    }
    match Config::parse(&bytes, &path.to_string_lossy()) {
        Ok(config) => {
            r.check(
                Verdict::Ok,
                "configuration contents",
                &format!("{} bytes, parsed", bytes.len()),
                "Hadoop's key=value format, at most 1 MiB",
                &[],
            );
            Some(config)
        }
        Err(e) => {
            r.check(
                Verdict::Fail(Code::InvalidConfigFile),
                "configuration contents",
                &e.to_string(),
                "Hadoop's key=value format, at most 1 MiB",
                &[format!("edit {}", path.display())],
            );
            None
        }
    }
}

fn inspect_group(r: &mut Report, config: &Config) -> Option<(String, Gid)> {
    let expected =
        format!("{NM_GROUP_KEY} names an existing group (top level, before any [section])");
    let Some(name) = config.nm_group() else {
        r.check(
            Verdict::Fail(Code::InvalidConfigFile),
            "NodeManager group",
            "key not set",
            &expected,
            &[format!(
                "add '{NM_GROUP_KEY}=<group of the NodeManager user>' at the top of the configuration"
            )],
        );
        return None;
    };
    match Group::from_name(name) {
        Ok(Some(g)) => {
            r.check(
                Verdict::Ok,
                &format!("NodeManager group {name}"),
                &format!("gid {}", g.gid),
                &expected,
                &[],
            );
            Some((name.to_string(), g.gid))
        }
        _ => {
            r.check(
                Verdict::Fail(Code::InvalidConfigFile),
                &format!("NodeManager group {name}"),
                "no such group",
                &expected,
                &[format!("groupadd {name}   (or correct {NM_GROUP_KEY})")],
            );
            None
        }
    }
}

fn open_exe() -> Option<OwnedFd> {
    nix::fcntl::open(
        "/proc/self/exe",
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()
    .map(crate::sys::own_fd)
}

fn inspect_binary(r: &mut Report, exe: &Path, group: Option<(&str, Gid)>) {
    let expected = format!(
        "owner root, group {}, mode 6050 (setuid+setgid, group may execute, not group-writable, \
         nothing for others but read)",
        group.map_or("<NodeManager group>", |g| g.0)
    );
    let Some(stat) = open_exe().and_then(|fd| nix::sys::stat::fstat(fd.as_raw_fd()).ok()) else {
        r.check(
            Verdict::Fail(Code::InvalidContainerExecPermissions),
            &format!("binary {}", exe.display()),
            "cannot stat it",
            &expected,
            &[],
        );
        return;
    };
    let seen = owner_mode(stat.st_uid, stat.st_gid, stat.st_mode);
    let Some((group, gid)) = group else {
        r.check(
            Verdict::Ok,
            &format!("binary {}", exe.display()),
            &seen,
            &expected,
            &[],
        );
        return;
    };
    let problem = setup::binary_mode_problem(stat.st_uid, stat.st_gid, stat.st_mode, gid.as_raw());
    let mut fix = Vec::new();
    if stat.st_uid != 0 || stat.st_gid != gid.as_raw() {
        fix.push(format!("chown root:{group} {}", exe.display()));
    }
    if problem.is_some() {
        // chown clears the setuid and setgid bits, so the chmod always comes after it.
        fix.push(format!("chmod 6050 {}", exe.display()));
    }
    let seen = match &problem {
        Some(why) => format!("{seen}: {why}"),
        None => seen,
    };
    r.check(
        match problem {
            None => Verdict::Ok,
            Some(_) => Verdict::Fail(Code::InvalidContainerExecPermissions),
        },
        &format!("binary {}", exe.display()),
        &seen,
        &expected,
        &fix,
    );
}

/// `NoNewPrivs` and `TracerPid` of this process.
fn proc_status() -> (bool, u32) {
    let mut text = String::new();
    let _ =
        File::open("/proc/self/status").and_then(|f| f.take(64 * 1024).read_to_string(&mut text));
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    (field("NoNewPrivs:") == 1, field("TracerPid:"))
}

/// The mount point holding `path` (longest matching mount point in /proc/self/mountinfo).
fn mount_point_of(path: &Path) -> Option<PathBuf> {
    let mut text = String::new();
    File::open("/proc/self/mountinfo")
        .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
        .ok()?;
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| path.starts_with(m))
        .max_by_key(|m| m.as_os_str().len())
}

fn inspect_privileges(r: &mut Report, exe: &Path, caller: &Caller) {
    let (nnp, tracer) = proc_status();
    let nosuid = nix::sys::statvfs::statvfs(exe)
        .map(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_NOSUID))
        .unwrap_or(false);
    let privileged = nix::unistd::geteuid().is_root();
    let mount = mount_point_of(exe).unwrap_or_else(|| PathBuf::from("<its mount point>"));
    let seen = format!(
        "effective uid {}, no_new_privs {}, tracer {}, filesystem {}",
        nix::unistd::geteuid(),
        if nnp { "set" } else { "not set" },
        if tracer == 0 {
            "none".to_string()
        } else {
            format!("pid {tracer}")
        },
        if nosuid {
            format!("{} mounted nosuid", mount.display())
        } else {
            "allows setuid".into()
        },
    );
    let expected =
        "effective uid 0 from the setuid bit: no no_new_privs, no tracer, no nosuid mount";
    let fail = Verdict::Fail(Code::InvalidContainerExecPermissions);
    let (verdict, what, fix): (Verdict, &str, Vec<String>) = if nosuid {
        (
            fail,
            "privileges: the binary's filesystem is mounted nosuid, so the kernel ignores the \
             setuid bit and nothing can run privileged",
            vec![format!(
                "mount -o remount,suid {}   (and drop nosuid from its fstab entry)",
                mount.display()
            )],
        )
    } else if nnp && !caller.uid.is_root() {
        (
            fail,
            "privileges: no_new_privs is set on the caller, so the kernel ignored the setuid bit \
             and nothing can run privileged",
            vec!["start the NodeManager without no_new_privs (systemd: NoNewPrivileges=no; not under setpriv --no-new-privs)".into()],
        )
    } else if tracer != 0 && !privileged {
        (
            fail,
            "privileges: the caller is traced, so the kernel ignored the setuid bit and nothing \
             can run privileged",
            vec![format!("detach the tracer (pid {tracer}) and run again")],
        )
    } else if !privileged {
        (
            fail,
            "privileges: not running as root, so nothing can run privileged",
            vec![format!("chown root {0} && chmod 6050 {0}", exe.display())],
        )
    } else if nnp || tracer != 0 {
        (
            Verdict::Warn,
            "privileges: root, but no_new_privs or a tracer is present",
            vec!["run --checksetup from a clean root shell".into()],
        )
    } else {
        (
            Verdict::Ok,
            "privileges: root through the setuid bit",
            vec![],
        )
    };
    r.check(verdict, what, &seen, expected, &fix);
}

fn inspect_binary_extras(r: &mut Report, exe: &Path) {
    let nlink = open_exe()
        .and_then(|fd| nix::sys::stat::fstat(fd.as_raw_fd()).ok())
        .map_or(1, |s| setup::link_count(&s));
    let mount = mount_point_of(exe).unwrap_or_else(|| PathBuf::from("/"));
    r.check(
        if nlink > 1 {
            Verdict::Fail(Code::InvalidContainerExecPermissions)
        } else {
            Verdict::Ok
        },
        "hard links of the binary",
        &format!("{nlink} link(s)"),
        "1: another name for a setuid binary survives upgrades, can be run from elsewhere and \
         read another configuration, so the binary refuses to run (22)",
        &[
            format!("find {} -xdev -samefile {}", mount.display(), exe.display()),
            format!("then rm every name it prints except {}", exe.display()),
        ],
    );
    let found = File::open("/proc/self/exe")
        .map_err(|e| e.to_string())
        .and_then(|f| crate::elf::run_paths(&f));
    match found {
        Ok(paths) if paths.is_empty() => r.check(
            Verdict::Ok,
            "RPATH/RUNPATH of the binary",
            "none",
            "none: the loader would search those directories with root's privileges",
            &[],
        ),
        Ok(paths) => r.check(
            Verdict::Fail(Code::InvalidContainerExecPermissions),
            "RPATH/RUNPATH of the binary",
            &paths
                .iter()
                .map(|p| format!("{}={}", p.tag, p.value))
                .collect::<Vec<_>>()
                .join(", "),
            "none: the loader would search those directories with root's privileges",
            &[
                "rebuild without -rpath (or: patchelf --remove-rpath <binary>) and reinstall"
                    .into(),
            ],
        ),
        Err(why) => r.check(
            Verdict::Warn,
            "RPATH/RUNPATH of the binary",
            &format!("could not read the ELF file: {why}"),
            "an ELF file without RPATH/RUNPATH",
            &["readelf -d <binary> | grep -i path".into()],
        ),
    }
}

/// The accounts in `group`: listed members plus users whose primary group it is (from the
/// group database and /etc/passwd; NSS-only users with that primary group are not listed).
pub fn group_members(group: &Group) -> Vec<String> {
    let mut members = group.mem.clone();
    let mut text = String::new();
    let _ = File::open("/etc/passwd").and_then(|f| f.take(16 << 20).read_to_string(&mut text));
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() >= 4 && fields[3].parse::<u32>().ok() == Some(group.gid.as_raw()) {
            members.push(fields[0].to_string());
        }
    }
    members.sort();
    members.dedup();
    members
}

fn inspect_pin(
    r: &mut Report,
    config: &Config,
    group: &str,
    gid: Gid,
    caller: &Caller,
) -> DirOwner {
    let expected =
        format!("{NM_USER_KEY} names the one member of {group} that runs the NodeManager");
    let Some(value) = config.get("", NM_USER_KEY) else {
        let members = Group::from_gid(gid)
            .ok()
            .flatten()
            .map(|g| group_members(&g))
            .unwrap_or_default();
        let suggest = if caller.uid.is_root() {
            members
                .first()
                .cloned()
                .unwrap_or_else(|| "<NodeManager user>".into())
        } else {
            bare_name(caller.uid.as_raw())
        };
        r.check(
            if members.len() > 1 {
                Verdict::Warn
            } else {
                Verdict::Ok
            },
            "caller pinning (nm-user)",
            &format!(
                "not set; members of {group}: {}",
                if members.is_empty() {
                    "none".into()
                } else {
                    members.join(", ")
                }
            ),
            &format!(
                "set, or {group} has a single member: every member may run containers as any user"
            ),
            &[format!(
                "add '{NM_USER_KEY}={suggest}' to the configuration"
            )],
        );
        return match caller.uid.is_root() {
            true => DirOwner::Unknown,
            false => DirOwner::Uid(caller.uid.as_raw()),
        };
    };
    match setup::pinned_nm_user(config, group, gid) {
        Err(e) => {
            r.check(
                Verdict::Fail(Code::InvalidConfigFile),
                &format!("caller pinning (nm-user={value})"),
                &e.to_string(),
                &expected,
                &[format!(
                    "set {NM_USER_KEY} to the NodeManager's account, or: usermod -aG {group} {value}"
                )],
            );
            DirOwner::NotAllowed
        }
        Ok(None) => DirOwner::Unknown,
        Ok(Some(pin)) => {
            let allowed = setup::check_pinned_caller(caller, Some(&pin)).is_ok();
            r.check(
                if allowed {
                    Verdict::Ok
                } else {
                    Verdict::Fail(Code::InvalidContainerExecPermissions)
                },
                &format!("caller pinning (nm-user={})", pin.name),
                &format!("caller {}", user_name(caller.uid.as_raw())),
                &format!("only {} (uid {}) or root may call", pin.name, pin.uid),
                &[format!("run as {} (or root)", pin.name)],
            );
            match allowed {
                true => DirOwner::Uid(pin.uid.as_raw()),
                false => DirOwner::NotAllowed,
            }
        }
    }
}

/// `--local-dir`/`--log-dir`: owned by the NodeManager user, and every parent owned by root or
/// the NodeManager user and not writable by group or others (or the root could be renamed away
/// under the NodeManager).
fn check_extra_dirs(r: &mut Report, local: &[PathBuf], log: &[PathBuf], owner: DirOwner) {
    let nm_uid = match owner {
        DirOwner::NotAllowed => {
            for d in local.iter().chain(log) {
                r.check(
                    Verdict::Fail(Code::InvalidNmRootDirs),
                    &format!("NM directory {}", d.display()),
                    "not checked: the caller may not use this binary (see above)",
                    "",
                    &[],
                );
            }
            return;
        }
        DirOwner::Unknown => None,
        DirOwner::Uid(uid) => Some(uid),
    };
    let nm = nm_uid.map_or_else(|| "<NodeManager user>".to_string(), bare_name);
    for (kind, d) in local
        .iter()
        .map(|d| ("local", d))
        .chain(log.iter().map(|d| ("log", d)))
    {
        let fail = Verdict::Fail(Code::InvalidNmRootDirs);
        let Some(nm_uid) = nm_uid else {
            let seen = std::fs::metadata(d)
                .map(|m| owner_mode(m.uid(), m.gid(), m.mode()))
                .unwrap_or_else(|e| format!("cannot stat: {e}"));
            r.check(
                Verdict::Warn,
                &format!("NM {kind} dir {}", d.display()),
                &format!("{seen}; owner not checked: run as root with no nm-user set, the NodeManager user is unknown"),
                "owned by the NodeManager user",
                &["run --checksetup as the NodeManager user, or set nm-user".into()],
            );
            continue;
        };
        match layout::open_nm_root(d.as_os_str(), Uid::from_raw(nm_uid)) {
            Ok(root) => {
                let seen = root
                    .dir
                    .stat()
                    .map(|s| owner_mode(s.uid, s.gid, s.mode))
                    .unwrap_or_default();
                r.check(
                    Verdict::Ok,
                    &format!("NM {kind} dir {}", d.display()),
                    &seen,
                    &format!("owned by the NodeManager user {nm}"),
                    &[],
                );
            }
            Err(why) => {
                let seen = std::fs::metadata(d)
                    .map(|m| format!("{}: {why}", owner_mode(m.uid(), m.gid(), m.mode())))
                    .unwrap_or(why);
                r.check(
                    fail,
                    &format!("NM {kind} dir {}", d.display()),
                    &seen,
                    &format!("an existing directory owned by the NodeManager user {nm}"),
                    &[format!(
                        "install -d -o {nm} -m 0755 {}   (or chown {nm} it)",
                        d.display()
                    )],
                );
                continue;
            }
        }
        // Each parent, from the top (lstat through an O_NOFOLLOW walk, so a symlinked parent
        // shows up as what it is).
        let mut so_far = PathBuf::from("/");
        let parents: Vec<_> = d
            .parent()
            .map(|p| p.components().collect())
            .unwrap_or_default();
        for c in parents {
            if let Component::Normal(n) = c {
                so_far.push(n);
            } else {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&so_far) else {
                continue;
            };
            let mut fix = Vec::new();
            if meta.uid() != 0 && meta.uid() != nm_uid {
                fix.push(format!("chown root {}", so_far.display()));
            }
            if meta.mode() & 0o022 != 0 {
                fix.push(format!("chmod go-w {}", so_far.display()));
            }
            r.check(
                if fix.is_empty() { Verdict::Ok } else { fail },
                &format!("parent of NM {kind} dir: {}", so_far.display()),
                &owner_mode(meta.uid(), meta.gid(), meta.mode()),
                &format!("owned by root or {nm}, not writable by group or others"),
                &fix,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("ce")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn report_only_when_asked_or_on_a_terminal() {
        // Test runs capture stdout, so it is not a terminal here.
        if std::io::stdout().is_terminal() {
            return;
        }
        assert!(!wants_report(&argv(&["--checksetup"])));
        assert!(!wants_report(&argv(&["--checksetup", "extra", "args"])));
        assert!(!wants_report(&argv(&["alice", "--verbose", "2"])));
        assert!(wants_report(&argv(&["--checksetup", "--verbose"])));
        assert!(wants_report(&argv(&["--checksetup", "-v"])));
        assert!(wants_report(&argv(&["--checksetup", "--local-dir", "/x"])));
        assert!(wants_report(&argv(&["--checksetup", "--log-dir=/x"])));
    }

    #[test]
    fn dir_options_both_spellings() {
        let (l, g) = dir_options(&argv(&[
            "--checksetup",
            "--local-dir",
            "/a",
            "--log-dir=/b",
            "junk",
            "--local-dir=/c",
            "--log-dir",
        ]));
        assert_eq!(l, vec![PathBuf::from("/a"), PathBuf::from("/c")]);
        assert_eq!(g, vec![PathBuf::from("/b")]);
    }
}
