//! Command 1: launch a container (`docs/layout.md` §4). The parent opens the NodeManager's inputs
//! with the NodeManager's identity, forks, waits, and records the exit code; the child becomes a
//! session leader, records its pid, joins its cgroups, builds the container's directories as the
//! user after a verified permanent drop, and execs the launch script.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::unistd::Pid;

use crate::cli::Launch;
use crate::error::{Error, Result};
use crate::fs::{self, DirFd};
use crate::identity;
use crate::layout::{self, open_nm_root, valid_app_id, valid_container_id, valid_yarn_user};
use crate::out;
use crate::process;
use crate::sys::{self, Forked};

use super::cgroup_tasks::{self, TaskFile, CGROUP_TASK_FILES};
use super::dirs::{self, Names};
use super::Ctx;

/// The umask the container script runs with (Hadoop's `umask(0027)`).
const CONTAINER_UMASK: u32 = 0o027;

/// The NodeManager's inputs, opened before the fork with its identity.
pub(super) struct Inputs {
    script: File,
    tokens: File,
    stores: Option<(File, File)>,
    /// The cgroup task files, opened and checked as root before anything starts.
    tasks: Vec<TaskFile>,
}

/// Everything argv alone can refuse, before anything changes (the tc file is applied, the pid
/// file written, directories created): ids (Hadoop fails later, with these codes, after the pid
/// file was written), the work dir's spelling and the cgroup file names.
pub fn validate<'a>(yarn_user: &'a OsStr, launch: &'a Launch) -> Result<(Names<'a>, &'a str)> {
    let Some(yarn_user) = valid_yarn_user(yarn_user) else {
        return Err(Error::UserDirs(
            "Unsupported userdir directory path detected.".into(),
        ));
    };
    let Some(app_id) = valid_app_id(&launch.app_id) else {
        return Err(Error::WorkDirs(
            "Unsupported app directory path detected.".into(),
        ));
    };
    let Some(container_id) = valid_container_id(&launch.container_id) else {
        return Err(Error::WorkDirs(
            "Unsupported container directory path detected.".into(),
        ));
    };
    let names = Names { yarn_user, app_id };
    precheck_work_dir(&names, container_id, launch)?;
    precheck_cgroup_files(launch)?;
    // Beyond Hadoop, before anything changes: the credentials come only from
    // `<L>/nmPrivate/<app>/` of a given local dir, and every path built fits NAME_MAX/PATH_MAX.
    token_location(launch, app_id)?;
    check_lengths(&names, container_id, launch)?;
    Ok((names, container_id))
}

/// Where the credentials file must lie: below `<L>/nmPrivate/<app>/` of a given local dir L.
/// Returns L and the components below it (see `layout::token_file_location`).
pub(super) fn token_location<'a>(
    launch: &'a Launch,
    app_id: &str,
) -> Result<(&'a std::ffi::OsString, Vec<std::ffi::OsString>)> {
    layout::token_file_location(&launch.tokens, &launch.local_dirs, Some(app_id)).map_err(|why| {
        out::log(&why);
        Error::NmInputUnreadable("Could not open cred file".into())
    })
}

pub fn launch_container(ctx: &Ctx, yarn_user: &OsStr, launch: Launch) -> Result<i32> {
    let (names, container_id) = validate(yarn_user, &launch)?;
    let token_location = token_location(&launch, names.app_id)?;

    out::log("Getting exit code file...");
    let (pid_dir, pid_name) = fs::split_parent(&launch.pid_file).map_err(|_| {
        Error::PidFile(format!(
            "Invalid pid file path {}",
            launch.pid_file.display()
        ))
    })?;
    let mut exit_code_name = pid_name.clone();
    exit_code_name.push(".exitcode");

    out::log("Creating script paths...");
    let mut inputs = open_inputs(ctx, &launch, token_location)?;
    // The cgroup task files are opened and checked before anything starts (see cgroup_tasks).
    inputs.tasks = if launch.resources_key.as_bytes() == b"cgroups" {
        cgroup_tasks::open_task_files(&ctx.setup.config, &launch.resources_values)?
    } else {
        Vec::new()
    };

    match sys::fork().map_err(|e| Error::Failed(format!("fork failed - {}", e.desc())))? {
        Forked::Parent(child) => {
            drop(inputs);
            let status = wait_for(child);
            write_exit_code(ctx, &pid_dir, &exit_code_name, status)?;
            Ok(status)
        }
        Forked::Child => {
            let code = match container_child(
                ctx,
                &names,
                container_id,
                &launch,
                &pid_dir,
                &pid_name,
                inputs,
            ) {
                Ok(never) => match never {},
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

/// The deepest paths a launch builds: `<L>/usercache/<Y>/appcache/<app>/<cid>/<longest entry>`
/// and `<G>/<app>/<cid>`; refused (nothing changed) when one would exceed NAME_MAX/PATH_MAX.
fn check_lengths(names: &Names, container_id: &str, launch: &Launch) -> Result<()> {
    let longest = [b'x'; layout::LONGEST_WORK_DIR_ENTRY];
    let local = [
        layout::USERCACHE.as_bytes(),
        names.yarn_user.as_bytes(),
        layout::APPCACHE.as_bytes(),
        names.app_id.as_bytes(),
        container_id.as_bytes(),
        &longest,
    ];
    layout::check_built_paths(&launch.local_dirs, &local).map_err(|why| {
        out::log(&why);
        Error::WorkDirs("Could not create work dirs".into())
    })?;
    layout::check_built_paths(
        &launch.log_dirs,
        &[names.app_id.as_bytes(), container_id.as_bytes()],
    )
    .map_err(|why| {
        out::log(&why);
        Error::AppLogDirs("Could not create container dirs".into())
    })
}

pub(super) fn open_inputs(
    ctx: &Ctx,
    launch: &Launch,
    (token_root, token_rel): (&std::ffi::OsString, Vec<std::ffi::OsString>),
) -> Result<Inputs> {
    // The open printed Hadoop's line on LOG; Hadoop's own line for each input follows on ERR.
    let open = |path: &Path, what: &str| -> Result<File> {
        dirs::open_as_nm(ctx.nm, path)?
            .ok_or_else(|| Error::NmInputUnreadable(format!("Could not open {what}")))
    };
    let script = open(&launch.script, "container file")?;
    let tokens = dirs::open_token_file(ctx.nm, token_root, &token_rel, &launch.tokens)?
        .ok_or_else(|| Error::NmInputUnreadable("Could not open cred file".into()))?;
    let stores = match &launch.https {
        Some((keystore, truststore)) => Some((
            open(keystore, "keystore file")?,
            open(truststore, "truststore file")?,
        )),
        None => None,
    };
    Ok(Inputs {
        script,
        tokens,
        stores,
        tasks: Vec::new(),
    })
}

/// Everything the forked child does; it only returns on failure (with the code to exit with).
fn container_child(
    ctx: &Ctx,
    names: &Names,
    container_id: &str,
    launch: &Launch,
    pid_dir: &Path,
    pid_name: &OsStr,
    mut inputs: Inputs,
) -> Result<std::convert::Infallible> {
    let pid = nix::unistd::setsid()
        .map_err(|e| Error::Setsid(format!("setsid failed - {}", e.desc())))?;

    out::log("Writing pid file...");
    write_pid_file(ctx, pid_dir, pid_name, pid)?;

    out::log("Writing to cgroup task files...");
    cgroup_tasks::write_pid(&mut inputs.tasks, pid)?;
    inputs.tasks.clear();

    out::log("Creating local dirs...");
    dirs::create_user_dirs(ctx, names, &launch.local_dirs)?;
    dirs::create_app_log_dirs(ctx, names, &launch.log_dirs)?;
    identity::drop_to_user_permanently(&ctx.user)?;
    process::join_new_session_keyring()?;
    if dirs::create_app_dirs(ctx, names, &launch.local_dirs).is_empty() {
        return Err(Error::WorkDirs("Could not create app dirs".into()));
    }
    let container_dirs = create_container_dirs(ctx, names, container_id, launch)?;
    let work_dir = open_work_dir(&launch.work_dir, &container_dirs)?;
    create_tmp_dirs(&work_dir)?;
    copy_inputs(&work_dir, &mut inputs)?;
    nix::unistd::fchdir(work_dir.raw_fd().as_raw_fd()).map_err(|e| {
        Error::Failed(format!(
            "Can't change directory to {} -{}",
            launch.work_dir.display(),
            e.desc()
        ))
    })?;

    out::log("Launching container...");
    if process::no_new_privs_configured(&ctx.setup.config) {
        process::set_no_new_privs()?;
    }
    let script = launch.work_dir.join(layout::CONTAINER_SCRIPT);
    let script_c = CString::new(script.as_os_str().as_bytes())
        .map_err(|_| Error::ScriptExec("work dir contains a NUL byte".into()))?;
    let env = process::container_environment();
    process::prepare_exec(CONTAINER_UMASK);
    let Err(err) = nix::unistd::execve(&script_c, std::slice::from_ref(&script_c), &env);
    Err(Error::ScriptExec(format!(
        "Couldn't execute the container launch file {} - {}",
        script.display(),
        err.desc()
    )))
}

/// The work dir must be spelled `<L>/usercache/<Y>/appcache/<app>/<cid>` for one of the local
/// dirs given (compared by path components), or no container directory could be it: refused
/// before anything is created. [`open_work_dir`] still checks the opened directory's identity.
fn precheck_work_dir(names: &Names, container_id: &str, launch: &Launch) -> Result<()> {
    let listed = launch.local_dirs.iter().any(|local| {
        let mut expected = std::path::PathBuf::from(local);
        for part in layout::app_dir_components(names.yarn_user, names.app_id) {
            expected.push(part);
        }
        expected.push(container_id);
        expected.components().eq(launch.work_dir.components())
    });
    if listed {
        Ok(())
    } else {
        Err(Error::WorkDirs(format!(
            "Work dir {} is not the container's directory under a local dir",
            launch.work_dir.display()
        )))
    }
}

/// The `cgroups=` files must be task lists with a parent ([`cgroup_tasks::open_task_files`] checks the
/// rest on the opened file): refused (27) before the pid file is written.
fn precheck_cgroup_files(launch: &Launch) -> Result<()> {
    if launch.resources_key.as_bytes() != b"cgroups" {
        return Ok(());
    }
    for file in launch
        .resources_values
        .iter()
        .filter(|v| v.as_bytes() != b"none")
    {
        let path = Path::new(file);
        let (_, name) = fs::split_parent(path).map_err(|e| {
            Error::Cgroup(format!(
                "Invalid cgroup file {} - {why}",
                path.display(),
                why = crate::out::os_text(&e)
            ))
        })?;
        if !CGROUP_TASK_FILES
            .iter()
            .any(|t| name.as_bytes() == t.as_bytes())
        {
            out::log(&format!(
                "Pid file {} is not a cgroup task list (tasks or cgroup.procs)",
                path.display()
            ));
            return Err(Error::Cgroup(format!(
                "{} is not a cgroup task file",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The pid file, as the NodeManager: `<pidfile>.tmp` (new, 0700) then rename; no newline.
pub(super) fn write_pid_file(ctx: &Ctx, dir: &Path, name: &OsStr, pid: Pid) -> Result<()> {
    let mut tmp = name.to_os_string();
    tmp.push(".tmp");
    out::log(&format!("Writing to tmp file {}", dir.join(&tmp).display()));
    identity::as_nm(ctx.nm, || {
        DirFd::open_root(dir)?.write_file_atomically(name, pid.to_string().as_bytes())
    })?
    .map_err(|e| {
        Error::PidFile(format!(
            "Can't write pid file {} - {why}",
            dir.join(name).display(),
            why = crate::out::os_text(&e)
        ))
    })
}

/// `<pidfile>.exitcode`, as the NodeManager, after the container ended.
pub(super) fn write_exit_code(ctx: &Ctx, dir: &Path, name: &OsStr, status: i32) -> Result<()> {
    identity::as_nm(ctx.nm, || {
        DirFd::open_root(dir)?.write_file_atomically(name, status.to_string().as_bytes())
    })?
    .map_err(|e| {
        Error::Failed(format!(
            "Can't write exit code file {} - {why}",
            dir.join(name).display(),
            why = crate::out::os_text(&e)
        ))
    })
}

/// Container work dirs `<L>/usercache/<Y>/appcache/<app>/<cid>` (0710) on every NM-owned local
/// dir, and container log dirs `<G>/<app>/<cid>` (0750) on every log dir, as the user.
pub(super) fn create_container_dirs(
    ctx: &Ctx,
    names: &Names,
    container_id: &str,
    launch: &Launch,
) -> Result<Vec<DirFd>> {
    let mut work_dirs = Vec::new();
    for local in &launch.local_dirs {
        let Ok(root) = open_nm_root(local, ctx.nm.uid) else {
            continue;
        };
        let app = layout::app_dir_components(names.yarn_user, names.app_id);
        let parts = [app[0], app[1], app[2], app[3], OsStr::new(container_id)];
        match root.dir.mkdirs(&parts, layout::CONTAINER_DIR_MODE) {
            Ok(dir) => work_dirs.push(dir),
            Err(e) => out::log(&format!(
                "Can't create container dir under {} - {why}",
                root.path.display(),
                why = crate::out::os_text(&e)
            )),
        }
    }
    if work_dirs.is_empty() {
        return Err(Error::WorkDirs("Could not create container dirs".into()));
    }
    let mut logs = 0;
    for log in &launch.log_dirs {
        let root = open_nm_root(log, ctx.nm.uid).map_err(|why| {
            out::log(&why);
            Error::AppLogDirs("Could not create container dirs".into())
        })?;
        match root.dir.mkdirs(
            &[OsStr::new(names.app_id), OsStr::new(container_id)],
            layout::APP_DIR_MODE,
        ) {
            Ok(_) => logs += 1,
            Err(e) => out::log(&format!(
                "Can't create container log dir under {} - {why}",
                root.path.display(),
                why = crate::out::os_text(&e)
            )),
        }
    }
    if logs == 0 {
        return Err(Error::AppLogDirs("Could not create container dirs".into()));
    }
    Ok(work_dirs)
}

/// The work dir argument must be one of the container dirs just made (same device and inode).
/// Hadoop uses whatever path it is given, creating missing components as the user.
pub(super) fn open_work_dir(path: &Path, container_dirs: &[DirFd]) -> Result<DirFd> {
    let refuse = |why: String| Error::WorkDirs(format!("Work dir {} {why}", path.display()));
    let dir = DirFd::open_root(path).map_err(|e| {
        refuse(format!(
            "can't be opened - {why}",
            why = crate::out::os_text(&e)
        ))
    })?;
    let st = dir.stat().map_err(|e| {
        refuse(format!(
            "can't be examined - {why}",
            why = crate::out::os_text(&e)
        ))
    })?;
    let is_ours = container_dirs
        .iter()
        .filter_map(|d| d.stat().ok())
        .any(|c| c.dev == st.dev && c.ino == st.ino);
    if !is_ours {
        return Err(refuse(
            "is not the container's directory under a local dir".into(),
        ));
    }
    Ok(dir)
}

/// `tmp` (0710), `private_slash_tmp` and `private_var_slash_tmp` (exactly 0710).
pub(super) fn create_tmp_dirs(work_dir: &DirFd) -> Result<()> {
    let fail = |name: &str, e: std::io::Error| {
        Error::TmpDirs(format!(
            "Could not create {name} - {why}",
            why = crate::out::os_text(&e)
        ))
    };
    work_dir
        .mkdirs(&[OsStr::new(layout::TMP_DIR)], layout::CONTAINER_DIR_MODE)
        .map_err(|e| fail(layout::TMP_DIR, e))?;
    for name in [layout::PRIVATE_TMP_DIR, layout::PRIVATE_VAR_TMP_DIR] {
        let dir = work_dir
            .mkdirs(&[OsStr::new(name)], layout::CONTAINER_DIR_MODE)
            .map_err(|e| fail(name, e))?;
        dir.chmod(layout::CONTAINER_DIR_MODE)
            .map_err(|e| fail(name, e))?;
    }
    Ok(())
}

pub(super) fn copy_inputs(work_dir: &DirFd, inputs: &mut Inputs) -> Result<()> {
    work_dir
        .copy_new_file(
            &mut inputs.script,
            OsStr::new(layout::CONTAINER_SCRIPT),
            0o700,
        )
        .map_err(|e| {
            Error::ScriptCopy(format!(
                "Could not create copy file {} - {why}",
                layout::CONTAINER_SCRIPT,
                why = crate::out::os_text(&e)
            ))
        })?;
    work_dir
        .copy_new_file(
            &mut inputs.tokens,
            OsStr::new(layout::CREDENTIALS_FILE),
            0o600,
        )
        .map_err(|e| {
            Error::CredentialsCopy(format!(
                "Could not copy file {} - {why}",
                layout::CREDENTIALS_FILE,
                why = crate::out::os_text(&e)
            ))
        })?;
    if let Some((keystore, truststore)) = inputs.stores.as_mut() {
        work_dir
            .copy_new_file(keystore, OsStr::new(layout::KEYSTORE_FILE), 0o600)
            .map_err(|e| {
                Error::KeystoreCopy(format!(
                    "Could not copy file {} - {why}",
                    layout::KEYSTORE_FILE,
                    why = crate::out::os_text(&e)
                ))
            })?;
        work_dir
            .copy_new_file(truststore, OsStr::new(layout::TRUSTSTORE_FILE), 0o600)
            .map_err(|e| {
                Error::TruststoreCopy(format!(
                    "Could not copy file {} - {why}",
                    layout::TRUSTSTORE_FILE,
                    why = crate::out::os_text(&e)
                ))
            })?;
    }
    Ok(())
}

/// The container's exit status, or -1 (Hadoop's) when it cannot be had.
fn wait_for(child: Pid) -> i32 {
    process::wait_exit_status(child).unwrap_or_else(|_| {
        out::log(&format!("Unable to determine exit status for pid {child}"));
        -1
    })
}
