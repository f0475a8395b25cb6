//! Command 0: prepare an application's directories and exec the localizer as the user
//! (`docs/layout.md` §3). On success this process *becomes* the localizer.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;

use crate::cli::Initialize;
use crate::error::{Error, Result};
use crate::identity;
use crate::layout::{self, valid_app_id, valid_yarn_user};
use crate::out;
use crate::process;

use super::dirs::{self, Names};
use super::Ctx;

pub fn initialize_app(ctx: &Ctx, yarn_user: &OsStr, init: Initialize) -> Result<i32> {
    let Some(yarn_user) = valid_yarn_user(yarn_user) else {
        out::log("Unsupported userdir directory path detected.");
        return Err(Error::UserDirs("Could not create user dir".into()));
    };
    let Some(app_id) = valid_app_id(&init.app_id) else {
        out::log("Unsupported app-log directory path detected.");
        return Err(Error::Failed(format!(
            "Invalid application id {}",
            init.app_id.to_string_lossy()
        )));
    };
    let names = Names { yarn_user, app_id };

    dirs::create_user_dirs(ctx, &names, &init.local_dirs)?;
    let app_logs = dirs::create_app_log_dirs(ctx, &names, &init.log_dirs)?;
    create_container_log_dirs(ctx, &names, &init.container_id, &app_logs)?;

    let Some(mut tokens) = dirs::open_as_nm(ctx.nm, &init.tokens)? else {
        return Err(Error::Failed("Could not open the credentials file".into()));
    };
    identity::drop_to_user_permanently(&ctx.user)?;

    let app_dirs = dirs::create_app_dirs(ctx, &names, &init.local_dirs);
    let Some((primary_path, primary)) = app_dirs.first() else {
        return Err(Error::Failed("Could not create app dirs".into()));
    };
    let token_name = init
        .tokens
        .file_name()
        .ok_or_else(|| Error::Failed("The credentials file has no file name".into()))?;
    primary
        .copy_new_file(&mut tokens, token_name, 0o600)
        .map_err(|e| {
            Error::Failed(format!(
                "Can't copy the credentials to {} - {e}",
                primary_path.join(token_name).display()
            ))
        })?;
    drop(tokens);

    // Hadoop closes stdin; /dev/null keeps fd 0 from being reused by whatever opens next.
    let _ = process::replace_stdin_with_dev_null();
    nix::unistd::fchdir(std::os::fd::AsRawFd::as_raw_fd(&primary.raw_fd()))
        .map_err(|e| Error::Failed(format!("Failed to chdir to app dir - {}", e.desc())))?;
    if process::no_new_privs_configured(&ctx.setup.config) {
        process::set_no_new_privs()?;
    }
    exec_localizer(&init.localizer)
}

/// `<G>/<app>/<cid>` 02750 on every log dir that has an app log dir (Hadoop's
/// `create_container_log_dirs`): a creation failure ends it at once; at least one is needed.
fn create_container_log_dirs(
    ctx: &Ctx,
    names: &Names,
    container_id: &str,
    app_logs: &[(layout::NmRoot, crate::fs::DirFd)],
) -> Result<()> {
    for (root, app_log) in app_logs {
        let shown = layout::shown(&root.path, &[names.app_id, container_id]);
        dirs::make_user_owned_dir(ctx, app_log, container_id, &shown)?.map_err(|why| {
            out::log(&why);
            Error::Failed("Failed to create container log directory".into())
        })?;
    }
    Ok(())
}

/// Exec the localizer's argv with a PATH search (only now, as the user), the NodeManager's
/// environment minus the dangerous variables, and the NodeManager's umask.
fn exec_localizer(argv: &[std::ffi::OsString]) -> Result<i32> {
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::Failed("Localizer argument contains a NUL byte".into()))?;
    let Some(program) = args.first() else {
        return Err(Error::Failed("No localizer command given".into()));
    };
    let env = process::child_environment();
    process::prepare_exec(process::caller_umask());
    let Err(err) = nix::unistd::execvpe(program, &args, &env);
    Err(Error::Failed(format!(
        "Failure to exec app initialization process - {}",
        err.desc()
    )))
}
