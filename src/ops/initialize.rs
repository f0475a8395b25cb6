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
    // Before anything is created: the local roots are checked (an L not owned by the NM is 20,
    // as Hadoop's user-dir step answers, but before any user dir exists); beyond Hadoop, the
    // credentials come only from the nmPrivate tree of a given local dir, and every path this
    // command builds fits NAME_MAX/PATH_MAX.
    dirs::check_local_roots(ctx, &names, &init.local_dirs)?;
    let (token_root, token_rel) = layout::token_file_location(&init.tokens, &init.local_dirs, None)
        .map_err(|why| {
            out::log(&why);
            Error::Failed("Could not open the credentials file".into())
        })?;
    let token_name = init
        .tokens
        .file_name()
        .ok_or_else(|| Error::Failed("The credentials file has no file name".into()))?;
    check_lengths(&names, &init, token_name.as_bytes())?;
    // The credentials are opened as the NodeManager before anything is created (a missing or
    // unreadable file leaves no directory behind; Hadoop opens it after creating the dirs).
    let Some(mut tokens) = dirs::open_token_file(ctx.nm, token_root, &token_rel, &init.tokens)?
    else {
        return Err(Error::Logged);
    };

    dirs::create_user_dirs(ctx, &names, &init.local_dirs)?;
    let app_logs = dirs::create_app_log_dirs(ctx, &names, &init.log_dirs)?;
    create_container_log_dirs(ctx, &names, &init.container_id, &app_logs)?;
    identity::drop_to_user_permanently(&ctx.user)?;
    process::join_new_session_keyring()?;

    let app_dirs = dirs::create_app_dirs(ctx, &names, &init.local_dirs);
    let Some((primary_path, primary)) = app_dirs.first() else {
        return Err(Error::Failed("Could not create app dirs".into()));
    };
    primary
        .copy_new_file(&mut tokens, token_name, 0o600)
        .map_err(|e| {
            Error::Failed(format!(
                "Can't copy the credentials to {} - {why}",
                primary_path.join(token_name).display(),
                why = crate::out::os_text(&e)
            ))
        })?;
    drop(tokens);

    // The localizer never gets the NodeManager's stdin. Hadoop closes fd 0; we point it at
    // /dev/null (reads see EOF, and fd 0 cannot be reused by whatever the localizer opens
    // next); if /dev/null cannot be opened, fd 0 is closed as in Hadoop.
    if process::replace_stdin_with_dev_null().is_err() {
        let _ = nix::unistd::close(0);
    }
    nix::unistd::fchdir(std::os::fd::AsRawFd::as_raw_fd(&primary.raw_fd()))
        .map_err(|e| Error::Failed(format!("Failed to chdir to app dir - {}", e.desc())))?;
    if process::no_new_privs_configured(&ctx.setup.config) {
        process::set_no_new_privs()?;
    }
    exec_localizer(&init.localizer)
}

/// The deepest paths initialize builds: `<L>/usercache/<Y>/appcache/<app>/<tokens>` and
/// `<G>/<app>/<cid>`; refused (nothing created) when one would exceed NAME_MAX/PATH_MAX.
fn check_lengths(names: &Names, init: &Initialize, token_name: &[u8]) -> Result<()> {
    let local = [
        layout::USERCACHE.as_bytes(),
        names.yarn_user.as_bytes(),
        layout::APPCACHE.as_bytes(),
        names.app_id.as_bytes(),
        token_name,
    ];
    layout::check_built_paths(&init.local_dirs, &local)
        .and_then(|()| {
            layout::check_built_paths(
                &init.log_dirs,
                &[names.app_id.as_bytes(), init.container_id.as_bytes()],
            )
        })
        .map_err(|why| {
            out::log(&why);
            Error::Failed("Could not create app dirs".into())
        })
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
            out::log(&format!(
                "Failed to create container log directory ({})!",
                shown.display()
            ));
            Error::Logged
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
    let env = process::localizer_environment();
    // execvpe searches the process's own PATH (cleared at start): the NodeManager's, as Hadoop.
    if let Some(path) = process::caller_path() {
        std::env::set_var("PATH", path);
    }
    process::prepare_exec(process::caller_umask());
    let Err(err) = nix::unistd::execvpe(program, &args, &env);
    Err(Error::Failed(format!(
        "Failure to exec app initialization process - {}",
        err.desc()
    )))
}
