//! `--exec-container <command-file>` behind `feature.terminal.enabled`: YARN UI2's terminal into
//! a running container, the non-Docker form (`docs/protocol.md` §9, `docs/nodemanager.md` §3.12).
//!
//! The NodeManager writes (`DefaultLinuxContainerRuntime.writeCommandToTempFile`):
//! ```text
//! [command-execution]
//!   command=exec
//!   user=<container user>
//!   launch-command=/bin/bash,-ir
//!   workdir=<L>/usercache/<user>/appcache/<app>/<container>
//! ```
//! We run `launch-command` as `user` in `workdir` on a new pseudo-terminal, relay our stdin to
//! it and its output to our stdout (both may be pipes: the NodeManager talks to us through
//! pipes), and exit with the program's status.
//!
//! Differences from Hadoop (which reads the file as root, trusts `workdir`, checks the user only
//! in the child after the terminal exists, and always exits 0):
//! - the file is opened as the NodeManager and must be a regular file it owns, not writable by
//!   group or others (else 53);
//! - the user passes the run-as-user policy and `workdir` must be that user's container
//!   directory under an NM-owned local dir, reached with `O_NOFOLLOW` as the user, before any
//!   terminal or process is made (else −1); the shell starts in it through `fchdir`; the local
//!   dir is resolved as the NodeManager without magic links, nothing below it may cross a
//!   mount, and the directory must be in our own mount namespace;
//! - the child is a new session with the terminal as its controlling tty, drops privileges for
//!   good with the same proof as a launch, and gets signals reset, no inherited descriptors and
//!   umask 027; the relaying parent becomes the NodeManager for good;
//! - the end of our stdin is passed on as an end-of-file character (Hadoop spins on it);
//! - the exit status is the program's (Hadoop: 0), or 128 + signal.

use std::ffi::{CString, OsStr};
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, LocalFlags, SetArg};

use crate::config::{Config, MAX_CONFIG_BYTES};
use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::identity::{self, NmIdentity};
use crate::layout::{self, open_nm_root, valid_app_id, valid_container_id};
use crate::out;
use crate::process;
use crate::setup::Setup;
use crate::sys::{self, Forked};
use crate::users::{self, ValidatedUser};

const SECTION: &str = "command-execution";
const DOCKER_SECTION: &str = "docker-command-execution";
/// Exit status of every terminal or relay failure (Hadoop's DOCKER_EXEC_FAILED).
const EXEC_FAILED: i32 = 44;
/// The umask of the interactive program (the same as a container's).
const EXEC_UMASK: u32 = 0o027;
/// What the terminal receives when our stdin ends (VEOF, Ctrl-D).
const END_OF_FILE: u8 = 0x04;

/// What the command file asks for, checked.
struct Request {
    argv: Vec<CString>,
    env: Vec<CString>,
    target: Target,
}

/// Who runs the program: the user in its container directory, or (Docker form) the docker
/// binary as root, `docker exec -it <container> <launch-command...>`.
enum Target {
    User {
        user: ValidatedUser,
        work_dir: DirFd,
    },
    Engine,
}

pub fn exec_container(setup: &Setup, nm: NmIdentity, command_file: &Path) -> Result<i32> {
    let text = read_command_file(nm, command_file)?;
    let file = Config::parse(&text, &command_file.to_string_lossy())?;
    let request = match docker_exec(setup, &text, &file)? {
        Some(request) => request,
        None => check_request(setup, nm, &file)?,
    };
    let fail = |what: &str, e: Errno| Error::ExecFailed(format!("Error {} on {what}", e as i32));
    let pty = open_pty().map_err(|e| fail("openpty()", e))?;
    // The user owns the terminal the program talks through, as after a login.
    if let Target::User { user, .. } = &request.target {
        let _ = nix::unistd::fchown(pty.slave.as_raw_fd(), Some(user.uid()), None);
    }
    match sys::fork().map_err(|e| fail("fork()", e))? {
        Forked::Child => {
            drop(pty.master);
            let code = match run_child(&request, pty.slave) {
                Ok(never) => match never {},
                Err(why) => {
                    out::err(&why);
                    EXEC_FAILED
                }
            };
            std::process::exit(code)
        }
        Forked::Parent(child) => {
            drop(pty.slave);
            drop(request);
            identity::drop_to_nm_permanently(nm)?;
            relay(pty.master)?;
            Ok(process::wait_exit_status(child).unwrap_or(EXEC_FAILED))
        }
    }
}

/// A new pseudo-terminal pair, as `openpty(3)` makes one, but from libc's own
/// `posix_openpt`/`grantpt`/`unlockpt`/`ptsname_r`: before glibc 2.34 `openpty` lives in
/// `libutil.so.1`, and the release binary (glibc 2.28 floor) should not need another library
/// for it. Both descriptors are close-on-exec; the slave is opened without becoming our
/// controlling terminal.
fn open_pty() -> std::result::Result<nix::pty::OpenptyResult, Errno> {
    use nix::fcntl::OFlag;
    use std::os::unix::fs::OpenOptionsExt;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
    nix::pty::grantpt(&master)?;
    nix::pty::unlockpt(&master)?;
    let name = nix::pty::ptsname_r(&master)?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&name)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let master = master
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    Ok(nix::pty::OpenptyResult {
        master,
        slave: OwnedFd::from(slave),
    })
}

/// The command file, opened with the NodeManager's identity and checked on the descriptor.
fn read_command_file(nm: NmIdentity, path: &Path) -> Result<Vec<u8>> {
    let refuse = |why: String| {
        Error::InvalidCommandFile(format!(
            "Invalid conf file provided, unable to open file : {} \n{why}",
            path.display()
        ))
    };
    let file = super::dirs::open_as_nm(nm, path)?
        .ok_or_else(|| refuse("it can't be opened as the NodeManager".into()))?;
    let meta = file.metadata().map_err(|e| {
        refuse(format!(
            "can't stat it - {why}",
            why = crate::out::os_text(&e)
        ))
    })?;
    if !super::dirs::written_only_by_nm(&meta, nm) {
        return Err(refuse(
            "it must be owned by the NodeManager and not group- or world-writable".into(),
        ));
    }
    let mut text = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut text)
        .map_err(|e| {
            refuse(format!(
                "can't read it - {why}",
                why = crate::out::os_text(&e)
            ))
        })?;
    if text.len() > MAX_CONFIG_BYTES {
        return Err(refuse("it is too large".into()));
    }
    Ok(text)
}

fn check_request(setup: &Setup, nm: NmIdentity, file: &Config) -> Result<Request> {
    let failed = |why: &str| Error::Failed(why.to_string());
    if !file
        .get(SECTION, "command")
        .is_some_and(|v| v.eq_ignore_ascii_case("exec"))
    {
        return Err(failed("The command file does not ask for command=exec"));
    }
    let launch = file
        .get_list(SECTION, "launch-command")
        .filter(|l| l.first().is_some_and(|p| p.starts_with('/')))
        .ok_or_else(|| failed("launch-command is missing or not an absolute program path"))?;
    let work_dir = file
        .get(SECTION, "workdir")
        .ok_or_else(|| failed("workdir is missing"))?;
    let user = file
        .get(SECTION, "user")
        .ok_or_else(|| failed("user is missing"))?;
    let user = users::check_run_as_user(OsStr::new(user), &setup.config, setup.nm_gid)?;
    let work_dir_fd = open_work_dir(nm, &user, work_dir)?;
    let cstring = |s: &str| CString::new(s).map_err(|_| failed("NUL byte in the command file"));
    Ok(Request {
        argv: launch.iter().map(|a| cstring(a)).collect::<Result<_>>()?,
        env: vec![
            cstring(&format!("PWD={work_dir}"))?,
            cstring("TERM=xterm-256color")?,
        ],
        target: Target::User {
            user,
            work_dir: work_dir_fd,
        },
    })
}

/// The Docker form: `[docker-command-execution] docker-command=exec` (any case, as Hadoop
/// tells the forms apart). The file is then parsed again with the strict docker rules, docker
/// must be enabled, and the argv is `<docker> exec -it <name> <launch-command...>`.
fn docker_exec(setup: &Setup, text: &[u8], file: &Config) -> Result<Option<Request>> {
    let docker_form = file
        .get(DOCKER_SECTION, "docker-command")
        .is_some_and(|v| v.eq_ignore_ascii_case("exec"));
    if !docker_form {
        return Ok(None);
    }
    if !setup.config.docker_enabled() {
        return Err(Error::FeatureDisabled("docker".into()));
    }
    let refused = |r: crate::docker::Refusal| Error::DockerRefused(r.message());
    let strict = crate::docker::CommandFile::parse(text).map_err(refused)?;
    let policy = crate::docker::Policy::new(&setup.config);
    let argv = crate::docker::exec_argv(&policy, &strict).map_err(refused)?;
    let cstring =
        |s: &str| CString::new(s).map_err(|_| Error::Failed("NUL byte in the command file".into()));
    Ok(Some(Request {
        argv: argv.iter().map(|a| cstring(a)).collect::<Result<_>>()?,
        env: vec![
            cstring("PATH=/usr/sbin:/usr/bin:/sbin:/bin")?,
            cstring("TERM=xterm-256color")?,
        ],
        target: Target::Engine,
    }))
}

/// `workdir` must be `<L>/usercache/<user>/appcache/<app>/<container>` with `L` owned by the
/// NodeManager; the components below `L` are opened with `O_NOFOLLOW` as the user, and the
/// container directory must belong to the user.
fn open_work_dir(nm: NmIdentity, user: &ValidatedUser, work_dir: &str) -> Result<DirFd> {
    let refuse = |why: String| {
        Error::Failed(format!(
            "workdir {work_dir} is not a container directory of {}: {why}",
            user.name()
        ))
    };
    if !work_dir.starts_with('/') || crate::fs::contains_dotdot(OsStr::new(work_dir)) {
        return Err(refuse("not an absolute path without '..'".into()));
    }
    let parts: Vec<&str> = work_dir.split('/').filter(|p| !p.is_empty()).collect();
    let n = parts.len();
    if n < 6
        || parts[n - 5] != layout::USERCACHE
        || parts[n - 4] != user.name()
        || parts[n - 3] != layout::APPCACHE
        || valid_app_id(OsStr::new(parts[n - 2])).is_none()
        || valid_container_id(OsStr::new(parts[n - 1])).is_none()
        || parts.contains(&".")
    {
        return Err(refuse(
            "expected <local dir>/usercache/<user>/appcache/<app>/<container>".into(),
        ));
    }
    let local = format!("/{}", parts[..n - 5].join("/"));
    // The local dir is resolved as the NodeManager, never through a magic link (no
    // /proc/<pid>/root into another process's mounts), and below it nothing leaves its mount.
    let root = identity::as_nm(nm, || open_nm_root(OsStr::new(&local), nm.uid))?.map_err(refuse)?;
    let dir = identity::as_user(user, || -> std::io::Result<DirFd> {
        let mut dir = root.dir.open_dir(OsStr::new(parts[n - 5]))?;
        for part in &parts[n - 4..] {
            dir = dir.open_dir(OsStr::new(part))?;
        }
        Ok(dir)
    })?
    .map_err(|e| {
        refuse(format!(
            "can't be opened as the user - {why}",
            why = crate::out::os_text(&e)
        ))
    })?;
    let st = dir.stat().map_err(|e| {
        refuse(format!(
            "can't be examined - {why}",
            why = crate::out::os_text(&e)
        ))
    })?;
    if st.uid != user.uid().as_raw() {
        return Err(refuse(format!("it is owned by uid {}", st.uid)));
    }
    // The program starts in this directory: it must be in our own mount namespace.
    match dir.in_own_mount_namespace() {
        Ok(true) => {}
        Ok(false) => return Err(refuse("it is outside our mount namespace".into())),
        Err(e) => return Err(refuse(format!("its mount can't be checked - {e}"))),
    }
    Ok(dir)
}

/// The child: a new session on the terminal, the user for good, the work dir, the program.
/// Returns only on failure, with the message for the terminal.
fn run_child(
    request: &Request,
    slave: OwnedFd,
) -> std::result::Result<std::convert::Infallible, String> {
    let step = |what: &str, e: Errno| format!("{what} failed - {}", e.desc());
    nix::unistd::setsid().map_err(|e| step("setsid", e))?;
    // Raw mode, but the typed characters are echoed (Hadoop's settings for this mode).
    let mut settings = termios::tcgetattr(slave.as_fd()).map_err(|e| step("tcgetattr", e))?;
    termios::cfmakeraw(&mut settings);
    if matches!(request.target, Target::User { .. }) {
        settings.local_flags |= LocalFlags::ECHO;
    }
    termios::tcsetattr(slave.as_fd(), SetArg::TCSANOW, &settings)
        .map_err(|e| step("tcsetattr", e))?;
    for fd in 0..=2 {
        nix::unistd::dup2(slave.as_raw_fd(), fd).map_err(|e| step("dup2", e))?;
    }
    drop(slave);
    sys::set_controlling_tty(std::io::stdin().as_fd()).map_err(|e| step("TIOCSCTTY", e))?;
    match &request.target {
        Target::User { user, work_dir } => {
            identity::drop_to_user_permanently(user).map_err(|e| e.to_string())?;
            nix::unistd::fchdir(work_dir.raw_fd().as_raw_fd()).map_err(|e| step("chdir", e))?;
            process::prepare_exec(EXEC_UMASK);
        }
        Target::Engine => {
            identity::become_root_for_engine().map_err(|e| step("becoming root for docker", e))?;
            process::prepare_exec(process::caller_umask());
        }
    }
    let Err(e) = nix::unistd::execve(&request.argv[0], &request.argv, &request.env);
    Err(format!("exec failed - {}", e.desc()))
}

/// Copy our stdin to the terminal and the terminal's output to our stdout until the terminal
/// closes (every holder of its slave side is gone: the read fails with EIO).
fn relay(master: OwnedFd) -> Result<()> {
    let io_failed = |what: &str, e: Errno| Error::ExecFailed(format!("Error {} {what}", e as i32));
    let mut buf = [0u8; 4096];
    let mut stdin_open = true;
    let stdin = std::io::stdin();
    loop {
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::BadArgument(format!("Error {} on poll()", e as i32))),
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        let stdin_ready = stdin_open && fds.get(1).is_some_and(ready);
        let master_ready = ready(&fds[0]);
        drop(fds);
        if stdin_ready {
            match nix::unistd::read(0, &mut buf) {
                Ok(0) => {
                    stdin_open = false;
                    let _ = write_all(master.as_fd(), &[END_OF_FILE]);
                }
                Ok(n) => write_all(master.as_fd(), &buf[..n])
                    .map_err(|e| io_failed("writing to container.", e))?,
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                Err(e) => return Err(io_failed("on read standard input", e)),
            }
        }
        if master_ready {
            match nix::unistd::read(master.as_raw_fd(), &mut buf) {
                Ok(0) | Err(Errno::EIO) => {
                    out::err("Remote Connection Closed.");
                    return Ok(());
                }
                Ok(n) => write_all(std::io::stdout().as_fd(), &buf[..n])
                    .map_err(|e| io_failed("writing to terminal.", e))?,
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                Err(e) => return Err(io_failed("on read master PTY", e)),
            }
        }
    }
}

fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> std::result::Result<(), Errno> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
