//! The operator's command line: `run`, `signal`, `list` and `delete` for people bringing up or
//! debugging a node.
//!
//! Nothing here is a new privileged path. Every subcommand goes through the same setup checks
//! (config, binary, caller in the NodeManager group, `nm-user` pinning), builds the same
//! [`Request`]s the NodeManager's argv would give, and hands them to the same [`ops::execute`],
//! which applies the same user policy, identities and NM-owned-root checks. `run` only adds what
//! the NodeManager itself does around those calls: it makes up the ids, writes the tokens file
//! and chooses the pid-file location (as the caller, in a directory the caller owns), and plays
//! initialize → launch → wait, printing each step.
//!
//! Recognition ([`is_operator_argv`]) is deliberately narrow so that no NodeManager argv changes
//! meaning: see its documentation and the exhaustive tests below.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Arg, ArgAction, ArgMatches, Command};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::cli::{self, Initialize, Launch, Request, RunAs, RunAsCommand};
use crate::error::{hadoop_text, Error, Result};
use crate::fs::DirFd;
use crate::identity::{self, NmIdentity};
use crate::layout;
use crate::ops;
use crate::out;
use crate::process;
use crate::setup::{self, Setup};
use crate::sys::{self, Forked};
use crate::users;

/// The subcommand names. Plain verbs, the same words the NodeManager's own operations use
/// (launch → `run`, as in `docker run`/`systemd-run`: it initializes *and* launches).
pub const SUBCOMMANDS: [&str; 4] = ["run", "signal", "list", "delete"];

/// The localizer `run` gives initialize: the NodeManager runs a Java localizer that downloads
/// resources; a manual run has none to fetch, and the launch copies the script itself.
pub const MANUAL_LOCALIZER: &str = "/bin/true";

/// Whether `args` is an operator subcommand rather than a NodeManager argv.
///
/// The rule: `argv[1]` is one of [`SUBCOMMANDS`], **and** `argv[2]` starts with `--` (or is `-h`
/// with nothing after it), **and** `argv[3]` (if present) is not a whole number.
///
/// Why it cannot take a NodeManager argv away: every NodeManager mode other than the positional
/// one has an `argv[1]` starting with `--`, which no subcommand name does. The positional form
/// is `<user> <yarn-user> <command-number> ...`; the parser accepts it only when `argv[3]` is a
/// whole number (anything else is "Invalid command", exit 3), and that is exactly what the third
/// condition leaves to it. So a user (or yarn user) named `run`, `list`, ... keeps working
/// positionally, even with a yarn user spelled `--x`, which the NodeManager's own user-name
/// pattern does not allow anyway. The price: in the operator form `argv[3]` must not be a
/// number, so `--user <name>` comes first (`--user=<name>` for an all-digit name).
pub fn is_operator_argv(args: &[OsString]) -> bool {
    let Some(name) = args.get(1) else {
        return false;
    };
    // `<name> -h` alone: three words are a usage error in the positional form.
    let short_help = args.len() == 3 && args[2].as_bytes() == b"-h";
    SUBCOMMANDS.iter().any(|s| name.as_bytes() == s.as_bytes())
        && (short_help || args.get(2).is_some_and(|a| a.as_bytes().starts_with(b"--")))
        && args
            .get(3)
            .map_or(true, |a| cli::parse_whole_i64(a).is_none())
}

fn user_arg() -> Arg {
    Arg::new("user")
        .long("user")
        .value_name("USER")
        .required(true)
        .value_parser(clap::value_parser!(OsString))
        .help("the account to act as (must pass the user policy; give it first)")
}

fn os_arg(name: &'static str, value: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name(value)
        .value_parser(clap::value_parser!(OsString))
}

/// The clap description of the subcommands (also used for `--help` text).
pub fn command() -> Command {
    Command::new("container-executor")
        .about("Operator commands: the NodeManager's operations, by hand, with the same checks.")
        .subcommand_required(true)
        .disable_version_flag(true)
        .subcommand(
            Command::new("run")
                .about(
                    "Initialize and launch one container as USER, wait for it and report each step",
                )
                .arg(user_arg())
                .arg(os_arg("script", "FILE").required(true).help(
                    "the container's launch script (read as the caller, copied by the launch)",
                ))
                .arg(
                    os_arg("local-dir", "DIR")
                        .required(true)
                        .action(ArgAction::Append)
                        .help("an NM local dir (owned by the NodeManager user); repeatable"),
                )
                .arg(
                    os_arg("log-dir", "DIR")
                        .required(true)
                        .action(ArgAction::Append)
                        .help("an NM log dir (owned by the NodeManager user); repeatable"),
                )
                .arg(os_arg("private-dir", "DIR").help(
                    "where the pid files go: a new directory made here as the caller \
                     (default /tmp); the tokens file goes to <first local dir>/nmPrivate/<app>/",
                )),
        )
        .subcommand(
            Command::new("signal")
                .about(
                    "Send a signal to a container's process group as USER (NodeManager command 2)",
                )
                .arg(user_arg())
                .arg(
                    os_arg("pid", "PID")
                        .required(true)
                        .help("the container's pid (its process group)"),
                )
                .arg(os_arg("signal", "SIG").default_value("TERM").help(
                    "a number or a name (TERM, KILL, QUIT, ...); 0 only checks the group is alive",
                )),
        )
        .subcommand(
            Command::new("list")
                .about("List a directory's entries as USER (NodeManager command 5)")
                .arg(user_arg())
                .arg(os_arg("dir", "DIR").required(true)),
        )
        .subcommand(
            Command::new("delete")
                .about("Delete a path as USER, confined like the NodeManager's command 3")
                .arg(user_arg())
                .arg(
                    os_arg("path", "PATH")
                        .required_unless_present("base-dir")
                        .help(
                            "absolute; with --base-dir, relative to each base dir (default: \
                             the base dirs themselves)",
                        ),
                )
                .arg(
                    os_arg("base-dir", "DIR")
                        .action(ArgAction::Append)
                        .help("a base directory the path is taken relative to; repeatable"),
                ),
        )
}

/// Run one operator subcommand; returns the exit status.
pub fn run(args: &[OsString]) -> i32 {
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            // Help asked for: 0; a usage mistake: 1, like the NodeManager argv's usage errors.
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let Some((name, sub)) = matches.subcommand() else {
        return 1;
    };
    let setup = match setup::run_setup_checks() {
        Ok(setup) => setup,
        Err(e) => return crate::report_error(&e, None),
    };
    let result = match name {
        "run" => run_container(&setup, sub),
        "signal" => signal(&setup, sub),
        "list" => list(&setup, sub),
        _ => delete(&setup, sub),
    };
    match result {
        Ok(status) => status,
        Err(e) => crate::report_error(&e, Some(&setup.config)),
    }
}

fn one(m: &ArgMatches, name: &str) -> OsString {
    m.get_one::<OsString>(name).cloned().unwrap_or_default()
}

fn many(m: &ArgMatches, name: &str) -> Vec<OsString> {
    m.get_many::<OsString>(name)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

fn run_as(user: &OsStr, command: RunAsCommand) -> Request {
    Request::RunAs(Box::new(RunAs {
        user: user.to_os_string(),
        yarn_user: user.to_os_string(),
        command,
    }))
}

/// A run-as-user request exactly as the NodeManager's argv would have produced it.
fn execute(setup: &Setup, user: &OsStr, command: RunAsCommand) -> Result<i32> {
    ops::execute(setup, run_as(user, command))
}

fn signal(setup: &Setup, m: &ArgMatches) -> Result<i32> {
    let user = one(m, "user");
    let pid_arg = one(m, "pid");
    let pid = pid_arg
        .to_str()
        .and_then(|s| crate::ids::canonical_decimal(s.as_bytes(), i32::MAX as u64))
        .map(|p| p as i32)
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            Error::BadArgument(format!(
                "--pid must be a positive process id, not '{}'",
                pid_arg.to_string_lossy()
            ))
        })?;
    let sig_arg = one(m, "signal");
    let signal = parse_signal(&sig_arg).ok_or_else(|| {
        Error::BadArgument(format!(
            "--signal must be a signal number or name (TERM, KILL, ...), not '{}'",
            sig_arg.to_string_lossy()
        ))
    })?;
    let status = execute(setup, &user, RunAsCommand::Signal { pid, signal })?;
    if status == 0 {
        let what = if signal == 0 {
            "is alive".to_string()
        } else {
            format!("was sent signal {signal}")
        };
        out::log(&format!(
            "process group {pid} {what} (as {})",
            user.to_string_lossy()
        ));
    }
    Ok(status)
}

/// A signal number (0..=64) or a name with or without `SIG`.
pub fn parse_signal(arg: &OsStr) -> Option<i32> {
    let text = arg.to_str()?;
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return crate::ids::canonical_decimal(text.as_bytes(), crate::cli::MAX_SIGNAL)
            .map(|n| n as i32);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
}

fn list(setup: &Setup, m: &ArgMatches) -> Result<i32> {
    let user = one(m, "user");
    let dir = absolute(&one(m, "dir"), "--dir")?;
    execute(
        setup,
        &user,
        RunAsCommand::List {
            path: Some(dir.into_os_string()),
        },
    )
}

fn delete(setup: &Setup, m: &ArgMatches) -> Result<i32> {
    let user = one(m, "user");
    let base_dirs = many(m, "base-dir")
        .iter()
        .map(|b| absolute(b, "--base-dir").map(PathBuf::into_os_string))
        .collect::<Result<Vec<_>>>()?;
    // With base dirs the path is relative to each of them, as in the NodeManager's command 3.
    let path = match base_dirs.is_empty() {
        true => absolute(&one(m, "path"), "--path")?.into_os_string(),
        false => one(m, "path"),
    };
    let shown = match (path.is_empty(), base_dirs.is_empty()) {
        (true, false) => base_dirs
            .iter()
            .map(|b| b.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        _ => path.to_string_lossy().into_owned(),
    };
    let status = execute(
        setup,
        &user,
        RunAsCommand::Delete {
            path: Some(path),
            base_dirs,
        },
    )?;
    if status == 0 {
        out::log(&format!("deleted {shown} (as {})", user.to_string_lossy()));
    }
    // The delete worker printed its own error; the final line is ours, as for any failure.
    Ok(crate::finish(status))
}

/// An argument path made absolute against the caller's working directory, "." components
/// dropped. ".." is refused, as the NodeManager's paths never carry it.
fn absolute(arg: &OsStr, what: &str) -> Result<PathBuf> {
    let given = Path::new(arg);
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        process::caller_cwd()
            .ok_or_else(|| {
                Error::BadArgument(format!(
                    "{what} {}: relative, and the current directory is unknown; give an absolute path",
                    given.display()
                ))
            })?
            .join(given)
    };
    if arg.is_empty() || joined.components().any(|c| c == Component::ParentDir) {
        return Err(Error::BadArgument(format!(
            "{what} '{}' must be a path without '..'",
            given.display()
        )));
    }
    Ok(joined.components().collect())
}

/// One line per step, numbered, in plain words.
struct Steps {
    n: usize,
    total: usize,
}

impl Steps {
    fn say(&mut self, what: &str) {
        self.n += 1;
        out::log(&format!("[{}/{}] {what}", self.n, self.total));
    }
    fn result(&self, what: &str) {
        out::log(&format!("      -> {what}"));
    }
}

/// A status in words: 0 ok, 128+n a signal, else Hadoop's text for the code.
pub fn status_words(status: i32) -> String {
    match status {
        0 => "exit 0 (success)".into(),
        129..=192 => {
            let sig = status - 128;
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {sig}"));
            format!("exit {status} (killed by {name})")
        }
        s => format!("exit {s} ({})", hadoop_text(s)),
    }
}

/// The status of a container that ran (its launch wrote the exit code file): 0, a signal, or
/// the script's own exit status, which is not one of Hadoop's codes.
pub fn container_status_words(status: i32) -> String {
    match status {
        0 | 129..=192 => status_words(status),
        s => format!("exit {s} (the container's own exit status)"),
    }
}

/// The NodeManager creates `<local dir>/usercache` when it starts; initialize needs it. Say what
/// is missing before anything is created (else initialize fails with 20 half-way).
fn missing_usercache(local_dirs: &[PathBuf], nm_uid: nix::unistd::Uid) -> Result<()> {
    let missing: Vec<PathBuf> = local_dirs
        .iter()
        .filter(|d| {
            !DirFd::open_root(d)
                .and_then(|dir| dir.stat_at(OsStr::new(layout::USERCACHE)))
                .is_ok_and(|st| st.is_dir())
        })
        .map(|d| d.join(layout::USERCACHE))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = missing.iter().map(|m| m.display().to_string()).collect();
    let nm_user = nix::unistd::User::from_uid(nm_uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| nm_uid.to_string());
    Err(Error::NotNmRoot(format!(
        "missing {}: the NodeManager creates it when it starts, and initialize needs it; \
         create it: install -d -o {nm_user} -m 0755 {}; nothing was created.",
        shown.join(", "),
        shown.join(" ")
    )))
}

/// The NodeManager's sequence for one container: ids, tokens file and pid-file location (as the
/// caller), initialize, launch, wait, report.
fn run_container(setup: &Setup, m: &ArgMatches) -> Result<i32> {
    let user_arg = one(m, "user");
    let script = absolute(&one(m, "script"), "--script")?;
    let local_dirs = absolute_all(&many(m, "local-dir"), "--local-dir")?;
    let log_dirs = absolute_all(&many(m, "log-dir"), "--log-dir")?;
    let private_parent = match m.get_one::<OsString>("private-dir") {
        Some(p) => absolute(p, "--private-dir")?,
        None => PathBuf::from("/tmp"),
    };
    let nm = NmIdentity {
        uid: setup.nm_uid,
        gid: setup.nm_gid,
    };
    let mut steps = Steps { n: 0, total: 6 };

    steps.say("setup checks (config, binary, caller)");
    steps.result(&format!(
        "ok: config {}, NodeManager group {}, caller uid {}",
        setup.config_path.display(),
        setup.nm_group,
        setup.caller.uid
    ));

    steps.say(&format!("user policy for '{}'", user_arg.to_string_lossy()));
    let user = users::check_run_as_user(&user_arg, &setup.config, setup.nm_gid)?;
    if layout::valid_yarn_user(&user_arg).is_none() {
        return Err(Error::UserRejected(format!(
            "User name {} cannot be used as a directory name",
            user.name()
        )));
    }
    steps.result(&format!(
        "ok: {} is uid {}, gid {}",
        user.name(),
        user.uid(),
        user.gid()
    ));

    steps.say("NodeManager directories (each must be owned by the NodeManager user)");
    // Looked at with the caller's own rights (as `--checksetup --local-dir` does), never root's:
    // the answer must not tell what lies below a directory the caller cannot read.
    let caller = NmIdentity {
        uid: setup.caller.uid,
        gid: setup.caller.gid,
    };
    for dir in local_dirs.iter().chain(&log_dirs) {
        let check = || layout::open_nm_root(dir.as_os_str(), setup.nm_uid).map(drop);
        let seen = if setup.caller.uid.is_root() {
            check()
        } else {
            identity::as_nm(caller, check)?
        };
        seen.map_err(|why| {
            Error::NotNmRoot(format!(
                "{why}\n{} is not an NM-owned directory: it must be owned by uid {} (the caller, \
                 who plays the NodeManager); nothing was created.",
                dir.display(),
                setup.nm_uid
            ))
        })?;
        steps.result(&format!("ok: {}", dir.display()));
    }
    missing_usercache(&local_dirs, setup.nm_uid)?;

    let (cluster_ts, seq) = new_ids();
    let app_id = format!("application_{cluster_ts}_{seq:04}");
    let container_id = format!("container_{cluster_ts}_{seq:04}_01_000001");
    steps.say(&format!("NodeManager inputs for {app_id} / {container_id}"));
    let private = PrivateDir::create(nm, &private_parent, &app_id)?;
    // The binary takes credentials only from `<local>/nmPrivate/<app>/`, where the NodeManager
    // writes them: the tokens file goes there, in a directory of its own removed at the end.
    let token_dir = match PrivateDir::create_in_nm_private(nm, &local_dirs[0], &app_id) {
        Ok(dir) => dir,
        Err(e) => {
            private.remove(nm);
            return Err(e);
        }
    };
    let tokens = token_dir.path.join(format!("{container_id}.tokens"));
    let pid_file = private.path.join(format!("{container_id}.pid"));
    if let Err(e) = identity::as_nm(nm, || {
        token_dir.dir.create_file(tokens_name(&tokens), 0o600)
    })? {
        token_dir.remove(nm);
        private.remove(nm);
        return Err(Error::Failed(format!(
            "Cannot write the tokens file {} - {why}",
            tokens.display(),
            why = crate::out::os_text(&e)
        )));
    }
    steps.result(&format!(
        "ok: private dir {} (yours, mode 0700), pid file will be {}; empty tokens file {}",
        private.path.display(),
        pid_file.display(),
        tokens.display()
    ));

    let init = Initialize {
        app_id: app_id.clone().into(),
        container_id: container_id.clone(),
        tokens: tokens.clone(),
        local_dirs: os_list(&local_dirs),
        log_dirs: os_list(&log_dirs),
        localizer: vec![MANUAL_LOCALIZER.into()],
    };
    steps.say(&format!(
        "initialize (command 0): user, app and log dirs; localizer {MANUAL_LOCALIZER} as {}",
        user.name()
    ));
    let status = in_child(setup, run_as(&user_arg, RunAsCommand::Initialize(init)))?;
    if status != 0 {
        steps.result(&format!("FAILED: {}", status_words(status)));
        token_dir.remove(nm);
        private.remove(nm);
        return Ok(status);
    }
    steps.result("ok: application initialized");

    let work_dir = local_dirs[0]
        .join(layout::USERCACHE)
        .join(user.name())
        .join(layout::APPCACHE)
        .join(&app_id)
        .join(&container_id);
    let launch = Launch {
        app_id: app_id.clone().into(),
        container_id: container_id.clone().into(),
        work_dir: work_dir.clone(),
        script: script.clone(),
        tokens,
        https: None,
        pid_file: pid_file.clone(),
        local_dirs: os_list(&local_dirs),
        log_dirs: os_list(&log_dirs),
        resources_key: "cgroups".into(),
        resources_values: vec!["none".into()],
        tc_command_file: None,
    };
    steps.say(&format!(
        "launch (command 1): {} as {} in {}",
        script.display(),
        user.name(),
        work_dir.display()
    ));
    let child = spawn_child(setup, run_as(&user_arg, RunAsCommand::Launch(launch)))?;
    let (pid, finished) = wait_for_pid_file(nm, &private, &pid_file, child);
    // Only while it still runs: a short job has usually ended by the time its pid file is read.
    if let (Some(pid), None) = (pid, finished) {
        steps.result(&format!(
            "running: process group {pid}; stop it with: container-executor signal --user {} --pid {pid}",
            user.name()
        ));
    }
    let status = finished.unwrap_or_else(|| wait(child));
    let mut exit_code_file = pid_file.clone().into_os_string();
    exit_code_file.push(".exitcode");
    let recorded = identity::as_nm(nm, || read_small(&private.dir, Path::new(&exit_code_file)))
        .ok()
        .flatten();
    // The launch copies launch_container.sh into the work dir as its last step before the exec,
    // and writes the exit code file after the wait: with both, the status is the container's
    // own, not one of Hadoop's codes (Hadoop's text would say e.g. "Invalid command provided"
    // for a script's exit 3). Otherwise a launch step failed and Hadoop's text applies.
    // (A stat through an O_NOFOLLOW walk with our own identity; the work dir is 0710, so the
    // NodeManager's could not read it.)
    let script_copied = DirFd::open_nofollow(&work_dir)
        .and_then(|d| d.stat_at(OsStr::new(layout::CONTAINER_SCRIPT)))
        .is_ok();
    steps.result(&format!(
        "container finished: {}{}",
        match recorded {
            Some(_) if script_copied => container_status_words(status),
            _ => status_words(status),
        },
        recorded
            .map(|r| format!("; exit code file says {}", r.trim()))
            .unwrap_or_default()
    ));
    out::log(&format!(
        "work dir: {}  logs: {}",
        work_dir.display(),
        log_dirs
            .iter()
            .map(|d| d.join(&app_id).join(&container_id).display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    out::log(&format!(
        "clean up: {}",
        local_dirs
            .iter()
            .map(|d| format!(
                "container-executor delete --user {} --path {}",
                user.name(),
                d.join(layout::USERCACHE)
                    .join(user.name())
                    .join(layout::APPCACHE)
                    .join(&app_id)
                    .display()
            ))
            .chain(log_dirs.iter().map(|d| format!(
                "container-executor delete --user {} --base-dir {}",
                user.name(),
                d.join(&app_id).display()
            )))
            .collect::<Vec<_>>()
            .join(" ; ")
    ));
    token_dir.remove(nm);
    private.remove(nm);
    Ok(status)
}

fn absolute_all(args: &[OsString], what: &str) -> Result<Vec<PathBuf>> {
    args.iter().map(|a| absolute(a, what)).collect()
}

fn os_list(paths: &[PathBuf]) -> Vec<OsString> {
    paths.iter().map(|p| p.clone().into_os_string()).collect()
}

fn tokens_name(path: &Path) -> &OsStr {
    path.file_name().unwrap_or(OsStr::new("tokens"))
}

/// `<cluster timestamp>` (milliseconds, like the ResourceManager's start time) and a sequence
/// number from our pid, so two manual runs started in the same millisecond still differ.
fn new_ids() -> (u128, u32) {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    (ms, std::process::id() % 10_000)
}

/// The caller's private directory for the NodeManager-side files: made as the caller (the
/// NodeManager identity), mode 0700, under a name that must not exist yet.
struct PrivateDir {
    path: PathBuf,
    dir: DirFd,
}

impl PrivateDir {
    fn create(nm: NmIdentity, parent: &Path, app_id: &str) -> Result<PrivateDir> {
        Self::create_named(nm, parent, &format!("container-executor-run.{app_id}"))
    }

    /// `<local>/nmPrivate/<app_id>` (nmPrivate made 0700 if missing), as the NodeManager does.
    fn create_in_nm_private(nm: NmIdentity, local: &Path, app_id: &str) -> Result<PrivateDir> {
        identity::as_nm(nm, || {
            DirFd::open_root(local).and_then(|l| l.mkdir(OsStr::new(layout::NM_PRIVATE), 0o700))
        })?
        .map_err(|e| {
            Error::Failed(format!(
                "Cannot create {}/{} as uid {} - {e}",
                local.display(),
                layout::NM_PRIVATE,
                nm.uid
            ))
        })?;
        Self::create_named(nm, &local.join(layout::NM_PRIVATE), app_id)
    }

    fn create_named(nm: NmIdentity, parent: &Path, name: &str) -> Result<PrivateDir> {
        let path = parent.join(name);
        let made = identity::as_nm(nm, || -> std::io::Result<DirFd> {
            let parent_dir = DirFd::open_root(parent)?;
            if !parent_dir.mkdir(OsStr::new(&name), 0o700)? {
                return Err(std::io::Error::from_raw_os_error(libc::EEXIST));
            }
            let dir = parent_dir.open_dir(OsStr::new(&name))?;
            dir.chmod(0o700)?;
            Ok(dir)
        })?;
        let dir = made.map_err(|e| {
            Error::Failed(format!(
                "Cannot create the private directory {} as uid {} - {why}",
                path.display(),
                nm.uid,
                why = crate::out::os_text(&e)
            ))
        })?;
        Ok(PrivateDir { path, dir })
    }

    /// Remove the files we and the launch put there, then the directory (as the caller).
    fn remove(self, nm: NmIdentity) {
        let name = self.path.file_name().map(OsStr::to_os_string);
        let parent = self.path.parent().map(Path::to_path_buf);
        let _ = identity::as_nm(nm, || {
            let _ = self.dir.remove_contents();
            if let (Some(parent), Some(name)) = (parent, name) {
                if let Ok(p) = DirFd::open_root(&parent) {
                    let _ = p.rmdir(&name);
                }
            }
        });
    }
}

/// Poll (as the caller) for the pid file the launch writes, while the launch runs. Returns the
/// pid if it appeared, and the launch's status if it ended meanwhile (then it is reaped).
fn wait_for_pid_file(
    nm: NmIdentity,
    private: &PrivateDir,
    pid_file: &Path,
    child: Pid,
) -> (Option<i32>, Option<i32>) {
    let start = Instant::now();
    let mut finished = None;
    while start.elapsed() < Duration::from_secs(10) {
        let pid = identity::as_nm(nm, || read_small(&private.dir, pid_file))
            .ok()
            .flatten()
            .and_then(|t| t.trim().parse().ok());
        if finished.is_some() {
            return (pid, finished);
        }
        if pid.is_some() {
            // Give a short job a moment to end, so it is not reported as running.
            return (pid, wait_briefly(child, Duration::from_millis(300)));
        }
        // The launch may end (or fail) before a pid file exists: then stop polling.
        match waitpid(child, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => finished = Some(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => finished = Some(128 + signal as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return (None, Some(-1)),
        }
    }
    (None, finished)
}

/// The launch's status if it ends within `limit` (then it is reaped), else None.
fn wait_briefly(child: Pid, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        match waitpid(child, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Some(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Some(128 + signal as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return Some(-1),
        }
    }
    None
}

/// A small file (pid, exit code) in the private dir: its name is the file name of `path`, or,
/// for `<pid file>`'s exit code, read by the caller.
fn read_small(dir: &DirFd, path: &Path) -> Option<String> {
    use std::io::Read;
    let name = path.file_name()?;
    let mut text = String::new();
    let file = dir.open_file(name).ok()?;
    file.take(64).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Run one request in a child, exactly as a separate invocation would (its messages, its exit
/// status), and wait for it.
fn in_child(setup: &Setup, request: Request) -> Result<i32> {
    let child = spawn_child(setup, request)?;
    Ok(wait(child))
}

fn spawn_child(setup: &Setup, request: Request) -> Result<Pid> {
    match sys::fork().map_err(|e| Error::Failed(format!("fork failed - {}", e.desc())))? {
        Forked::Parent(child) => Ok(child),
        Forked::Child => {
            let status = match ops::execute(setup, request) {
                Ok(status) => crate::finish(status),
                Err(e) => crate::report_error(&e, Some(&setup.config)),
            };
            std::process::exit(status & 0xff)
        }
    }
}

fn wait(child: Pid) -> i32 {
    crate::process::wait_exit_status(child).unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("container-executor")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// Every NodeManager argv form, with every subcommand name as the run-as user and as the yarn
    /// user, and yarn users shaped like options: none is taken as an operator command.
    #[test]
    fn no_nodemanager_form_is_an_operator_command() {
        let mut forms: Vec<Vec<&str>> = vec![
            vec![],
            vec!["--checksetup"],
            vec!["--checksetup", "--verbose"],
            vec!["--mount-cgroups", "run", "cpu=/x"],
            vec!["--tc-modify-state", "/f"],
            vec!["--tc-read-state", "/f"],
            vec!["--tc-read-stats", "/f"],
            vec!["--exec-container", "/f"],
            vec!["--module-gpu", "--excluded_gpus", "0"],
            vec!["--module-fpga", "--excluded_fpgas", "0"],
            vec!["--module-devices", "--excluded_devices", "x"],
            vec!["--run-docker", "/f"],
            vec!["--remove-docker-container", "/f"],
            vec!["--inspect-docker-container", "--format", "x"],
            vec!["--run-runc-container", "/f"],
            vec!["--reap-runc-layer-mounts", "1"],
            vec!["--help"],
            vec!["--version"],
        ];
        let mut owned: Vec<Vec<String>> = Vec::new();
        for user in SUBCOMMANDS.iter().chain(&["alice", "--user", "-x"]) {
            for yarn in SUBCOMMANDS
                .iter()
                .chain(&["alice", "--user", "--", "--x", "-v"])
            {
                for cmd in ["0", "1", "2", "3", "4", "5", "6", "7", "-1", "+2", "00"] {
                    let tails: [&[&str]; 4] = [
                        &[],
                        &["1234", "15"],
                        &[
                            "application_1_0001",
                            "container_1_0001_01_000001",
                            "/t",
                            "/l",
                            "/g",
                            "java",
                        ],
                        &["/some/path", "/base"],
                    ];
                    for tail in tails {
                        let mut v = vec![user.to_string(), yarn.to_string(), cmd.to_string()];
                        v.extend(tail.iter().map(|s| s.to_string()));
                        owned.push(v);
                    }
                }
                owned.push(vec![user.to_string(), yarn.to_string()]);
                owned.push(vec![user.to_string()]);
            }
        }
        forms.extend(owned.iter().map(|v| v.iter().map(String::as_str).collect()));
        for form in &forms {
            // Short positional forms are usage errors (1) to the NodeManager parser; only a
            // `--`-shaped second word may turn them into an operator command's usage error.
            let short_with_option = form.len() == 2 && form[1].starts_with("--");
            if !short_with_option {
                assert!(
                    !is_operator_argv(&argv(form)),
                    "{form:?} was taken from the NodeManager"
                );
            }
        }
        // The positional form with a user named like a subcommand, explicitly.
        for form in [
            ["run", "run", "0", "application_1_0001"].as_slice(),
            &["run", "--user", "2", "1234", "15"],
            &["signal", "--pid", "2", "1234", "15"],
            &["list", "--x", "5", "/dir"],
            &["delete", "--", "3", "/p"],
            &["run", "alice", "1"],
            &["delete", "delete", "3", "/p"],
            &["run"],
            &["run", "x"],
            &["run", "-h", "2", "1", "0"],
            &["run", "-h", "x"],
        ] {
            assert!(!is_operator_argv(&argv(form)), "{form:?}");
        }
    }

    #[test]
    fn operator_forms_are_recognised() {
        for form in [
            [
                "run",
                "--user",
                "alice",
                "--script",
                "/s",
                "--local-dir",
                "/l",
                "--log-dir",
                "/g",
            ]
            .as_slice(),
            &["run", "--help"],
            &["list", "-h"],
            &["run", "--user=4242", "--script", "/s"],
            &[
                "signal", "--user", "alice", "--pid", "12", "--signal", "TERM",
            ],
            &["list", "--user", "alice", "--dir", "/d"],
            &[
                "delete",
                "--user",
                "alice",
                "--path",
                "/p",
                "--base-dir",
                "/b",
            ],
            &["delete", "--user"],
        ] {
            assert!(is_operator_argv(&argv(form)), "{form:?}");
        }
        // Not names of ours, or in another case.
        for form in [
            ["launch", "--user", "alice"].as_slice(),
            &["RUN", "--user", "alice"],
            &["runx", "--user", "alice"],
        ] {
            assert!(!is_operator_argv(&argv(form)), "{form:?}");
        }
    }

    #[test]
    fn clap_parses_each_subcommand() {
        let m = command()
            .try_get_matches_from(argv(&[
                "run",
                "--user",
                "alice",
                "--script",
                "job.sh",
                "--local-dir",
                "/l1",
                "--local-dir",
                "/l2",
                "--log-dir",
                "/g",
            ]))
            .unwrap();
        let (name, sub) = m.subcommand().unwrap();
        assert_eq!(name, "run");
        assert_eq!(
            many(sub, "local-dir"),
            vec![OsString::from("/l1"), "/l2".into()]
        );
        assert_eq!(one(sub, "script"), OsString::from("job.sh"));
        let e = command()
            .try_get_matches_from(argv(&["run", "--user", "alice"]))
            .unwrap_err();
        assert!(e.use_stderr());
        let m = command()
            .try_get_matches_from(argv(&["signal", "--user", "a", "--pid", "5"]))
            .unwrap();
        assert_eq!(
            one(m.subcommand().unwrap().1, "signal"),
            OsString::from("TERM")
        );
    }

    #[test]
    fn signals_by_number_and_name() {
        assert_eq!(parse_signal(OsStr::new("15")), Some(15));
        assert_eq!(parse_signal(OsStr::new("0")), Some(0));
        assert_eq!(parse_signal(OsStr::new("TERM")), Some(15));
        assert_eq!(parse_signal(OsStr::new("sigkill")), Some(9));
        assert_eq!(parse_signal(OsStr::new("quit")), Some(3));
        assert_eq!(parse_signal(OsStr::new("65")), None);
        assert_eq!(parse_signal(OsStr::new("-1")), None);
        assert_eq!(parse_signal(OsStr::new("NOPE")), None);
    }

    #[test]
    fn status_in_words() {
        assert_eq!(status_words(0), "exit 0 (success)");
        assert_eq!(status_words(143), "exit 143 (killed by SIGTERM)");
        assert_eq!(status_words(5), "exit 5 (Invalid NM root dirs)");
        assert_eq!(
            container_status_words(3),
            "exit 3 (the container's own exit status)"
        );
        assert_eq!(container_status_words(0), "exit 0 (success)");
        assert_eq!(container_status_words(137), "exit 137 (killed by SIGKILL)");
    }

    #[test]
    fn absolute_paths_only_without_dotdot() {
        assert_eq!(
            absolute(OsStr::new("/a/./b//c"), "x").unwrap(),
            PathBuf::from("/a/b/c")
        );
        assert!(absolute(OsStr::new("/a/../b"), "x").is_err());
        assert!(absolute(OsStr::new(""), "x").is_err());
    }
}
