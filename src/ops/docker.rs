//! The Docker modes behind `feature.docker.enabled` / `[docker] module.enabled`
//! (`protocol.md` §3, §4.4, §8; `filesystem.md` §5): `--run-docker`, `--inspect-docker-container`,
//! `--remove-docker-container`, and command 4 (launch, or relaunch with `docker-command=start`).
//!
//! The docker binary comes from the configuration only, runs as root (as in Hadoop) through
//! `execve` with a fixed environment and an argv vector — never a shell, also for the inspect
//! calls Hadoop makes through `popen`. Command files are opened as the NodeManager and checked
//! on the descriptor; the policy is `crate::docker`.

use std::ffi::{CString, OsStr};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::cli::DockerLaunch;
use crate::docker::{self, CommandFile, Policy, Refusal, RunFor};
use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::identity::{self, NmIdentity};
use crate::layout::{self, open_nm_root};
use crate::out;
use crate::process;
use crate::setup::Setup;
use crate::sys::{self, Forked};

use super::dirs::{self, Names};
use super::launch;
use super::Ctx;

/// The whole environment the docker binary gets.
const ENGINE_ENV: &[&str] = &["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"];
/// Largest output read back from one `docker inspect`.
const MAX_INSPECT_OUTPUT: u64 = 64 * 1024;
/// Hadoop pauses 3 s between inspect polls; each of its tries is a 3 s slice of the time we
/// give the engine, polled every [`POLL`].
const INSPECT_SLICE: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(250);
/// The exit status of a launch step that could not run docker (Hadoop's 7).
const UNABLE_TO_EXECUTE: i32 = 7;

fn refused(r: Refusal) -> Error {
    Error::DockerRefused(r.message())
}

/// A command file the NodeManager wrote under an `nmPrivate` directory, opened with its identity
/// (`O_NONBLOCK`, never following the last component, regular files only), owned by it, not
/// writable by group or others, at most 64 KiB; then parsed strictly.
pub fn read_command_file(nm: NmIdentity, path: &Path) -> Result<CommandFile> {
    let bad = |why: String| {
        refused(Refusal::new(
            docker::INVALID_DOCKER_COMMAND_FILE,
            format!("Invalid docker command file {}: {why}", path.display()),
        ))
    };
    let text = path.as_os_str().as_bytes();
    let parts: Vec<&[u8]> = text
        .split(|b| *b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    if !text.starts_with(b"/") || parts.iter().any(|p| *p == b"." || *p == b"..") {
        return Err(bad("not an absolute path without '.' or '..'".into()));
    }
    let private_at = parts
        .iter()
        .position(|p| *p == layout::NM_PRIVATE.as_bytes());
    if private_at.map_or(true, |at| at + 1 >= parts.len()) {
        return Err(bad("not a file below an nmPrivate directory".into()));
    }
    let file = dirs::open_as_nm(nm, path)?
        .ok_or_else(|| bad("it can't be opened as the NodeManager".into()))?;
    let meta = file
        .metadata()
        .map_err(|e| bad(format!("can't stat it - {e}")))?;
    if !dirs::written_only_by_nm(&meta, nm) {
        return Err(bad(
            "it must be owned by the NodeManager and not group- or world-writable".into(),
        ));
    }
    let limit = docker::command_file::MAX_COMMAND_FILE_BYTES;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("can't read it - {e}")))?;
    CommandFile::parse(&bytes).map_err(|mut r| {
        r.detail = format!("{}: {}", path.display(), r.detail);
        refused(r)
    })
}

fn cstrings(argv: &[String]) -> Result<Vec<CString>> {
    argv.iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::DockerRun("NUL byte in the docker command".into()))
}

/// Become root for good and exec the docker binary; returns only the exec failure.
fn exec_engine(argv: &[CString]) -> Error {
    if let Err(e) = identity::become_root_for_engine() {
        return Error::SetuidFailed(format!("Can't become root for docker - {}", e.desc()));
    }
    let env: Vec<CString> = ENGINE_ENV
        .iter()
        .filter_map(|v| CString::new(*v).ok())
        .collect();
    process::prepare_exec(process::caller_umask());
    let Err(e) = nix::unistd::execve(&argv[0], argv, &env);
    Error::DockerRun(format!(
        "Couldn't execute the container launch with args {} - {}",
        argv[0].to_string_lossy(),
        e.desc()
    ))
}

/// Where a docker child's stdout/stderr go.
enum Output {
    /// Inherited from us.
    Inherit,
    /// Into a pipe we read (inspect).
    Capture,
    /// Appended to the container's stdout.txt / stderr.txt.
    Files(OwnedFd, OwnedFd),
}

/// Fork, run docker in the child with stdin on /dev/null; with `Capture`, the child's stdout is
/// read (bounded) until it closes. Returns the child and what was captured.
fn spawn_engine(argv: &[String], output: Output) -> Result<(Pid, Vec<u8>)> {
    let argv = cstrings(argv)?;
    let pipe = match output {
        Output::Capture => Some(
            nix::unistd::pipe()
                .map_err(|e| Error::DockerRun(format!("pipe failed - {}", e.desc())))?,
        ),
        _ => None,
    };
    match sys::fork().map_err(|e| Error::DockerRun(format!("fork failed - {}", e.desc())))? {
        Forked::Child => {
            let _ = process::replace_stdin_with_dev_null();
            let redirected = match (&output, &pipe) {
                (Output::Capture, Some((_, w))) => nix::unistd::dup2(w.as_raw_fd(), 1).map(|_| ()),
                (Output::Files(so, se), _) => nix::unistd::dup2(so.as_raw_fd(), 1)
                    .and_then(|_| nix::unistd::dup2(se.as_raw_fd(), 2))
                    .map(|_| ()),
                _ => Ok(()),
            };
            let code = match redirected {
                Ok(()) => {
                    drop(pipe);
                    let e = exec_engine(&argv);
                    out::err(&e.to_string());
                    e.code().number()
                }
                Err(e) => {
                    out::err(&format!("Could not redirect docker output - {}", e.desc()));
                    UNABLE_TO_EXECUTE
                }
            };
            std::process::exit(code & 0xff)
        }
        Forked::Parent(child) => {
            drop(output);
            let mut captured = Vec::new();
            if let Some((r, w)) = pipe {
                drop(w);
                let _ = std::fs::File::from(r)
                    .take(MAX_INSPECT_OUTPUT)
                    .read_to_end(&mut captured);
            }
            Ok((child, captured))
        }
    }
}

/// Run docker to the end; its exit status and captured stdout.
fn run_engine(argv: &[String]) -> Result<(i32, String)> {
    let (child, captured) = spawn_engine(argv, Output::Capture)?;
    let status = process::wait_exit_status(child)
        .map_err(|e| Error::DockerRun(format!("waiting for docker failed - {}", e.desc())))?;
    Ok((status, String::from_utf8_lossy(&captured).into_owned()))
}

/// `--run-docker <file>`: build the argv from the command file, then exec docker in place (its
/// exit status is ours).
pub fn run_docker(setup: &Setup, nm: NmIdentity, command_file: &Path) -> Result<i32> {
    let file = read_command_file(nm, command_file)?;
    let policy = Policy::new(&setup.config);
    let argv = docker::run_docker_argv(&policy, &file).map_err(refused)?;
    Err(exec_engine(&cstrings(&argv)?))
}

/// `--inspect-docker-container --format=<f> <cid>`: exec `docker inspect --format=<f> <cid>`.
/// Beyond Hadoop (which passes any two words on), the format must be one the NodeManager uses
/// and the id a container id.
pub fn inspect_container(setup: &Setup, format: &OsStr, container_id: &OsStr) -> Result<i32> {
    let policy = Policy::new(&setup.config);
    let format = format.to_str().unwrap_or("");
    let known = format
        .strip_prefix("--format=")
        .is_some_and(|f| docker::INSPECT_FORMATS.contains(&f));
    if !known {
        return Err(refused(Refusal::new(
            docker::INVALID_DOCKER_INSPECT_FORMAT,
            format!("Invalid format option '{format}' not permitted"),
        )));
    }
    let cid = checked_container_id(container_id)?;
    let argv = vec![
        policy.docker_binary().map_err(refused)?,
        "inspect".to_string(),
        format.to_string(),
        cid.to_string(),
    ];
    Err(exec_engine(&cstrings(&argv)?))
}

fn checked_container_id(id: &OsStr) -> Result<&str> {
    id.to_str()
        .filter(|i| i.starts_with("container_") && crate::ids::is_valid_container_id(i))
        .ok_or_else(|| {
            refused(Refusal::new(
                docker::INVALID_DOCKER_CONTAINER_NAME,
                format!("Specified container_id={} is invalid", id.to_string_lossy()),
            ))
        })
}

/// `--remove-docker-container [<hierarchy>] <cid>`: `docker rm -f <cid>` (0, or 29 when it fails),
/// then with a hierarchy the container's cgroup directory under every cgroup v1 mount (0, or
/// 255 — that result replaces rm's, as in Hadoop). The id is checked first (Hadoop checks it
/// only for the cgroup step, after rm ran).
pub fn remove_container(
    setup: &Setup,
    hierarchy: Option<&OsStr>,
    container_id: &OsStr,
) -> Result<i32> {
    let cid = match checked_container_id(container_id) {
        Ok(cid) => cid,
        Err(e) if hierarchy.is_some() => {
            for line in e.message_lines() {
                out::err(&line);
            }
            return Err(Error::Failed("Invalid container id".into()));
        }
        Err(e) => return Err(e),
    };
    if let Some(h) = hierarchy {
        let ok = h.to_str().is_some_and(|h| {
            !h.is_empty()
                && h.split('/').all(|c| c != ".." && c != ".")
                && !h.starts_with('/')
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        });
        if !ok {
            return Err(Error::Failed(format!(
                "Invalid cgroup hierarchy {}",
                h.to_string_lossy()
            )));
        }
    }
    let policy = Policy::new(&setup.config);
    let argv = vec![
        policy.docker_binary().map_err(refused)?,
        "rm".to_string(),
        "-f".to_string(),
        cid.to_string(),
    ];
    let (child, _) = spawn_engine(&argv, Output::Inherit)?;
    let rm_status = process::wait_exit_status(child).unwrap_or(-1);
    match hierarchy {
        None if rm_status == 0 => Ok(0),
        None => Err(Error::DockerRun(format!(
            "docker rm -f {cid} exited with status {rm_status}"
        ))),
        Some(h) => clean_cgroups(h.to_str().unwrap_or(""), cid),
    }
}

/// rmdir `<mount>/<hierarchy>/<cid>` on every cgroup v1 mount of /proc/mounts, through fds
/// (no symlink followed below the mount point); a missing directory is fine.
fn clean_cgroups(hierarchy: &str, cid: &str) -> Result<i32> {
    let mounts = std::fs::read_to_string("/proc/mounts")
        .map_err(|e| Error::Failed(format!("Can't read /proc/mounts - {e}")))?;
    let mut failed = false;
    for line in mounts.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() < 2 || fields[0] != "cgroup" || fields[1].contains("\\") {
            continue;
        }
        let removed = (|| -> std::io::Result<()> {
            let mut dir = DirFd::open_root(Path::new(fields[1]))?;
            for part in hierarchy.split('/').filter(|p| !p.is_empty()) {
                dir = dir.open_dir(OsStr::new(part))?;
            }
            dir.rmdir(OsStr::new(cid))
        })();
        match removed {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => {
                out::err(&format!(
                    "Failed to remove cgroup {}/{hierarchy}/{cid} - {e}",
                    fields[1]
                ));
                failed = true;
            }
        }
    }
    if failed {
        Err(Error::Failed(
            "Could not remove the container's cgroups".into(),
        ))
    } else {
        Ok(0)
    }
}

/// The real system behind the run policy: paths resolved through fds as the NodeManager, and
/// `docker network inspect` run without a shell.
struct RealHost<'a> {
    nm: NmIdentity,
    binary: &'a str,
}

impl docker::Host for RealHost<'_> {
    fn resolve(&self, path: &str) -> std::result::Result<(String, bool), String> {
        identity::as_nm(self.nm, || docker::resolve::resolve(path)).map_err(|e| e.to_string())?
    }

    fn network_driver(&self, network: &str) -> std::result::Result<String, String> {
        let argv = [
            self.binary.to_string(),
            "network".into(),
            "inspect".into(),
            "--format={{.Driver}}".into(),
            network.to_string(),
        ];
        match run_engine(&argv) {
            Ok((0, text)) => Ok(text.trim().to_string()),
            Ok((status, _)) => Err(format!("docker network inspect exited with {status}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What a docker launch knows about its user and places, for the policy.
struct RunFacts {
    gids: Vec<u32>,
    group_names: Vec<String>,
    command_dir: String,
    config_dir: String,
    nm_private: Vec<String>,
}

fn run_facts(ctx: &Ctx, d: &DockerLaunch) -> Result<RunFacts> {
    let groups = identity::user_groups(&ctx.user).map_err(|e| {
        Error::Failed(format!(
            "Can't get the groups of {} - {}",
            ctx.user.name(),
            e.desc()
        ))
    })?;
    let gids: Vec<u32> = groups.iter().map(|g| g.as_raw()).collect();
    let group_names = groups
        .iter()
        .filter_map(|g| nix::unistd::Group::from_gid(*g).ok().flatten())
        .map(|g| g.name)
        .collect();
    let command_dir = d
        .command_file
        .parent()
        .map(|p| p.to_string_lossy().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let config_dir = ctx
        .setup
        .config_path
        .parent()
        .and_then(|p| docker::resolve::resolve(&p.to_string_lossy()).ok())
        .map(|(p, _)| p)
        .ok_or_else(|| Error::Failed("Can't resolve the configuration directory".into()))?;
    let nm_private = d
        .launch
        .local_dirs
        .iter()
        .filter_map(|l| {
            let p = format!("{}/{}", l.to_string_lossy(), layout::NM_PRIVATE);
            identity::as_nm(ctx.nm, || docker::resolve::resolve(&p))
                .ok()?
                .ok()
                .map(|(p, _)| p)
        })
        .collect();
    Ok(RunFacts {
        gids,
        group_names,
        command_dir,
        config_dir,
        nm_private,
    })
}

/// Command 4: launch (`docker-command=run`) or relaunch (`docker-command=start`).
pub fn launch_docker(ctx: &Ctx, yarn_user: &OsStr, d: DockerLaunch) -> Result<i32> {
    let launch = &d.launch;
    // The same argv checks as command 1 (ids, work-dir spelling, credentials below
    // nmPrivate/<app>/, path lengths), before anything changes.
    let (names, container_id) = launch::validate(yarn_user, launch)?;
    let (pid_dir, pid_name) = crate::fs::split_parent(&launch.pid_file).map_err(|_| {
        Error::PidFile(format!(
            "Invalid pid file path {}",
            launch.pid_file.display()
        ))
    })?;
    let mut exit_code_name = pid_name.clone();
    exit_code_name.push(".exitcode");

    // Everything in the command file is checked before anything is made; the mounts, whose
    // sources include the directories made below, once more afterwards.
    let file = read_command_file(ctx.nm, &d.command_file)?;
    let policy = Policy::new(&ctx.setup.config);
    let binary = policy.docker_binary().map_err(refused)?;
    let host = RealHost {
        nm: ctx.nm,
        binary: &binary,
    };
    let facts = run_facts(ctx, &d)?;
    let run_for = RunFor {
        container_id,
        user_name: ctx.user.name(),
        uid: ctx.user.uid().as_raw(),
        gid: ctx.user.gid().as_raw(),
        user_gids: &facts.gids,
        user_group_names: &facts.group_names,
        command_dir: &facts.command_dir,
        config_dir: &facts.config_dir,
        nm_private_dirs: &facts.nm_private,
    };
    let start = match file.command() {
        "run" => {
            docker::run_argv(&policy, &file, &run_for, &host, false).map_err(refused)?;
            None
        }
        "start" => Some(docker::start_argv(&policy, &file, container_id).map_err(refused)?),
        other => {
            return Err(refused(Refusal::new(
                docker::INCORRECT_DOCKER_COMMAND,
                format!("docker-command={other} can't launch a container"),
            )))
        }
    };
    if let Some(env) = file.get("environ") {
        check_env_file(ctx.nm, Path::new(env))?;
    }

    out::log("Creating script paths...");
    let inputs = launch::open_inputs(ctx, launch, launch::token_location(launch, names.app_id)?)?;
    out::log("Creating local dirs...");
    let made = make_dirs_as_user(ctx, &names, container_id, launch, inputs)?;
    if made != 0 {
        return Ok(made);
    }
    let (argv, entry_point) = match start {
        Some(argv) => (argv, false),
        None => {
            let plan = docker::run_argv(&policy, &file, &run_for, &host, true).map_err(refused)?;
            (plan.argv, plan.entry_point)
        }
    };

    out::log("Getting exit code file...");
    let status = run_container(
        ctx,
        &names,
        container_id,
        launch,
        &argv,
        entry_point,
        &policy,
    );
    let status = match status {
        Ok(code) => code,
        Err(e) => {
            for line in e.message_lines() {
                out::err(&line);
            }
            e.code().number()
        }
    };
    if let Err(e) = launch::write_exit_code(ctx, &pid_dir, &exit_code_name, status) {
        out::err(&e.to_string());
    }
    out::log(&format!(
        "Wrote the exit code {status} to {}",
        pid_dir.join(&exit_code_name).display()
    ));
    Ok(status)
}

/// The env file the NodeManager writes next to the command file: same rules as the command file.
fn check_env_file(nm: NmIdentity, path: &Path) -> Result<()> {
    let bad = |why: String| {
        refused(Refusal::new(
            docker::INVALID_DOCKER_COMMAND_FILE,
            format!("environ file {}: {why}", path.display()),
        ))
    };
    let file = dirs::open_as_nm(nm, path)?
        .ok_or_else(|| bad("it can't be opened as the NodeManager".into()))?;
    let meta = file
        .metadata()
        .map_err(|e| bad(format!("can't stat it - {e}")))?;
    if !dirs::written_only_by_nm(&meta, nm) {
        return Err(bad(
            "it must be owned by the NodeManager and not group- or world-writable".into(),
        ));
    }
    Ok(())
}

/// The container's directories and copies, made by a child that drops to the user for good
/// (the same steps as command 1), plus `<L>/usercache/<Y>/filecache` and `<cid>/sysfs`.
/// Returns the child's status (0 = done; else the code its message was printed with).
fn make_dirs_as_user(
    ctx: &Ctx,
    names: &Names,
    container_id: &str,
    launch: &crate::cli::Launch,
    mut inputs: launch::Inputs,
) -> Result<i32> {
    match sys::fork().map_err(|e| Error::Failed(format!("fork failed - {}", e.desc())))? {
        Forked::Parent(child) => {
            drop(inputs);
            Ok(process::wait_exit_status(child).unwrap_or(-1))
        }
        Forked::Child => {
            let made = (|| -> Result<()> {
                dirs::create_user_dirs(ctx, names, &launch.local_dirs)?;
                dirs::create_app_log_dirs(ctx, names, &launch.log_dirs)?;
                identity::drop_to_user_permanently(&ctx.user)?;
                if dirs::create_app_dirs(ctx, names, &launch.local_dirs).is_empty() {
                    return Err(Error::WorkDirs("Could not create app dirs".into()));
                }
                let container_dirs =
                    launch::create_container_dirs(ctx, names, container_id, launch)?;
                let work_dir = launch::open_work_dir(&launch.work_dir, &container_dirs)?;
                launch::create_tmp_dirs(&work_dir)?;
                launch::copy_inputs(&work_dir, &mut inputs)?;
                create_filecache_and_sysfs(ctx, names, &container_dirs, launch)
            })();
            let code = match made {
                Ok(()) => 0,
                Err(e) => {
                    for line in e.message_lines() {
                        out::err(&line);
                    }
                    e.code().number()
                }
            };
            std::process::exit(code & 0xff)
        }
    }
}

fn create_filecache_and_sysfs(
    ctx: &Ctx,
    names: &Names,
    container_dirs: &[DirFd],
    launch: &crate::cli::Launch,
) -> Result<()> {
    for local in &launch.local_dirs {
        let Ok(root) = open_nm_root(local, ctx.nm.uid) else {
            continue;
        };
        let made = root
            .dir
            .open_dir(OsStr::new(layout::USERCACHE))
            .and_then(|u| u.open_dir(OsStr::new(names.yarn_user)))
            .and_then(|u| u.mkdir(OsStr::new("filecache"), layout::CONTAINER_DIR_MODE));
        if let Err(e) = made {
            return Err(Error::UserDirs(format!(
                "Could not create user filecache directory under {} - {e}",
                root.path.display()
            )));
        }
    }
    let sysfs = container_dirs
        .iter()
        .filter(|d| {
            d.mkdir(OsStr::new("sysfs"), layout::CONTAINER_DIR_MODE)
                .is_ok()
        })
        .count();
    if sysfs == 0 {
        return Err(Error::Failed(
            "Could not create user yarn sysfs directory".into(),
        ));
    }
    Ok(())
}

/// `stdout.txt`/`stderr.txt` in the container's first log dir, as root: created 0640 or
/// appended to, never through a symlink, never a file with other links or another owner;
/// then owned by the user and the NodeManager group.
fn open_log_files(
    ctx: &Ctx,
    names: &Names,
    container_id: &str,
    launch: &crate::cli::Launch,
) -> Result<(OwnedFd, OwnedFd)> {
    let fail = |why: String| Error::ScriptExec(why);
    let dir = launch
        .log_dirs
        .iter()
        .filter_map(|l| open_nm_root(l, ctx.nm.uid).ok())
        .find_map(|root| {
            root.dir
                .open_dir(OsStr::new(names.app_id))
                .and_then(|a| a.open_dir(OsStr::new(container_id)))
                .ok()
        })
        .ok_or_else(|| fail("No container log directory to write stdout.txt in".into()))?;
    let open = |name: &str| -> Result<OwnedFd> {
        let fd = identity::as_root(|| {
            openat(
                Some(dir.raw_fd().as_raw_fd()),
                name,
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_APPEND
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_NONBLOCK
                    | OFlag::O_NOCTTY
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o640),
            )
            .map(sys::own_fd)
        })?
        .map_err(|e| fail(format!("Failed to create file {name} - {}", e.desc())))?;
        let st = crate::fs::Stat::from(
            nix::sys::stat::fstat(fd.as_raw_fd())
                .map_err(|e| fail(format!("Can't stat {name} - {}", e.desc())))?,
        );
        let user = ctx.user.uid().as_raw();
        if !st.is_file() || st.nlink != 1 || (st.uid != 0 && st.uid != user) {
            return Err(fail(format!(
                "{name} is not a plain file of the container (type, links or owner)"
            )));
        }
        identity::as_root(|| -> std::result::Result<(), Errno> {
            nix::unistd::fchown(fd.as_raw_fd(), Some(ctx.user.uid()), Some(ctx.nm.gid))?;
            nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(0o640))
        })?
        .map_err(|e| fail(format!("Failed to chown/chmod {name} - {}", e.desc())))?;
        let flags = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL)
            .map(OFlag::from_bits_truncate)
            .unwrap_or(OFlag::O_WRONLY | OFlag::O_APPEND);
        let _ = nix::fcntl::fcntl(
            fd.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(flags & !OFlag::O_NONBLOCK),
        );
        Ok(fd)
    };
    Ok((open("stdout.txt")?, open("stderr.txt")?))
}

/// One `docker inspect --format=<format> <cid>`: the first line of its output, or None.
fn inspect(binary: &str, format: &str, cid: &str) -> Option<String> {
    let argv = [
        binary.to_string(),
        "inspect".into(),
        format!("--format={format}"),
        cid.to_string(),
    ];
    out::log(&format!("Docker inspect command: {}", argv.join(" ")));
    match run_engine(&argv) {
        Ok((0, text)) => text.lines().next().map(|l| l.trim().to_string()),
        _ => None,
    }
}

fn inspect_pid(binary: &str, cid: &str) -> Option<i32> {
    inspect(binary, "{{.State.Pid}}", cid).and_then(|t| t.parse().ok())
}

/// A container state after which nothing runs any more.
fn finished(state: &str) -> bool {
    matches!(state, "exited" | "dead" | "stopped")
}

/// Poll `try_once` until it answers Some or `retries` × 3 s have passed.
fn poll<T>(retries: u32, mut try_once: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + INSPECT_SLICE * retries;
    loop {
        if let Some(v) = try_once() {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// Run the container and follow it as Hadoop does: its pid from `docker inspect` into the pid
/// file, wait for `/proc/<pid>` to go, then its exit code from `docker inspect`.
fn run_container(
    ctx: &Ctx,
    names: &Names,
    container_id: &str,
    launch: &crate::cli::Launch,
    argv: &[String],
    entry_point: bool,
    policy: &Policy,
) -> Result<i32> {
    let binary = &argv[0];
    let retries = policy.inspect_retries();
    let (so, se) = open_log_files(ctx, names, container_id, launch)?;
    let shown = argv.join(" ");
    let output = if entry_point {
        let mut f = std::fs::File::from(
            so.try_clone()
                .map_err(|e| Error::ScriptExec(e.to_string()))?,
        );
        let _ = writeln!(f, "Launching docker container...");
        let _ = writeln!(f, "Docker run command: {shown}");
        Output::Files(so, se)
    } else {
        drop((so, se));
        Output::Inherit
    };
    out::log(&format!("Docker run command: {shown}"));
    let (child, _) = spawn_engine(argv, output).map_err(|e| Error::ScriptExec(e.to_string()))?;
    if entry_point {
        // Until the container has a pid (or has already ended).
        out::log("Inspecting docker container...");
        poll(retries, || {
            let text = inspect(binary, "{{.State.Pid}} {{.State.Status}}", container_id)?;
            let mut words = text.split_whitespace();
            let pid: i32 = words.next()?.parse().ok()?;
            (pid != 0 || finished(words.next().unwrap_or(""))).then_some(())
        });
    } else {
        let status = process::wait_exit_status(child).unwrap_or(-1);
        if status != 0 {
            return Err(Error::ScriptExec(format!(
                "docker exited with status {status}: {shown}"
            )));
        }
    }
    out::log("Inspecting docker container...");
    let pid = inspect_pid(binary, container_id).ok_or_else(|| {
        Error::ScriptExec(format!(
            "Could not inspect docker to get pid of {container_id}"
        ))
    })?;
    out::log(&format!("pid from docker inspect: {pid}"));
    if pid > 0 {
        out::log("Writing pid file...");
        let (pid_dir, pid_name) = crate::fs::split_parent(&launch.pid_file)
            .map_err(|_| Error::PidFile("Invalid pid file path".into()))?;
        launch::write_pid_file(ctx, &pid_dir, &pid_name, Pid::from_raw(pid))?;
        out::log("Waiting for docker container to finish.");
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        while proc_dir.exists() {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    out::log("Obtaining the exit code...");
    // Status and code together: a container that exited 0 is known at once (Hadoop keeps
    // polling a 0 until its retries run out). A non-zero code ends the wait as in Hadoop.
    let mut code = -1;
    poll(retries, || {
        let text = inspect(
            binary,
            "{{.State.Status}} {{.State.ExitCode}}",
            container_id,
        );
        let Some(text) = text else {
            code = -1;
            return None;
        };
        let mut words = text.split_whitespace();
        let state = words.next().unwrap_or("");
        code = words.next().and_then(|c| c.parse().ok()).unwrap_or(-1);
        (code != 0 || finished(state)).then_some(())
    });
    out::log(&format!("Exit code from docker inspect: {code}"));
    if entry_point {
        let _ = nix::sys::wait::waitpid(child, Some(nix::sys::wait::WaitPidFlag::WNOHANG));
    }
    Ok(code)
}
