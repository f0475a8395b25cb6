//! The commands, one file each. `execute` runs a parsed request with the identities Hadoop uses
//! for it and returns the exit status the NodeManager should see.

mod cgroups;
mod delete;
mod dirs;
mod docker;
mod exec;
mod initialize;
mod launch;
mod list;
mod modules;
mod signal;
mod sysfs;
mod tc;

#[doc(hidden)]
pub use delete::target_names as delete_target_names;

use crate::cli::{Request, RunAs, RunAsCommand};
use crate::error::{Error, Result};
use crate::identity::{self, NmIdentity};
use crate::setup::Setup;
use crate::users::{self, ValidatedUser};

/// What every run-as-user command works with: the vetted setup, the NodeManager's identity and
/// the user that passed the policy.
pub struct Ctx<'a> {
    pub setup: &'a Setup,
    pub nm: NmIdentity,
    pub user: ValidatedUser,
}

pub fn execute(setup: &Setup, request: Request) -> Result<i32> {
    match request {
        Request::CheckSetup => Ok(0),
        Request::Unsupported { what } => Err(Error::NotSupported(what)),
        Request::MountCgroups {
            hierarchy,
            controllers,
        } => cgroups::mount_cgroups(&setup.config, nm_identity(setup), &hierarchy, &controllers),
        Request::TrafficControl {
            action,
            command_file,
        } => tc::run_traffic_control(nm_identity(setup), action, &command_file),
        Request::ExecContainer { command_file } => {
            exec::exec_container(setup, nm_identity(setup), &command_file)
        }
        Request::Module { module, args } => modules::run_module(&setup.config, module, args),
        Request::RunDocker { command_file } => {
            docker::run_docker(setup, nm_identity(setup), &command_file)
        }
        Request::InspectDocker {
            format,
            container_id,
        } => docker::inspect_container(setup, &format, &container_id),
        Request::RemoveDocker {
            hierarchy,
            container_id,
        } => docker::remove_container(setup, hierarchy.as_deref(), &container_id),
        Request::RunAs(run_as) => run_as_user(setup, *run_as),
    }
}

/// Every run-as-user command starts the same way (Hadoop's `set_user`): the user policy, then an
/// effective switch to the user with its groups. The command decides what runs as whom next.
fn run_as_user(setup: &Setup, run_as: RunAs) -> Result<i32> {
    // A launch's tc file is applied first, as root, before anything else (as in Hadoop).
    let tc_file = match &run_as.command {
        RunAsCommand::Launch(launch) => launch.tc_command_file.as_ref(),
        RunAsCommand::LaunchDocker(d) => d.launch.tc_command_file.as_ref(),
        _ => None,
    };
    {
        if let Some(file) = tc_file {
            tc::run_traffic_control(nm_identity(setup), crate::cli::TcAction::ModifyState, file)?;
        }
    }
    let user = users::check_run_as_user(&run_as.user, &setup.config)?;
    identity::assume_user(&user)?;
    let ctx = Ctx {
        setup,
        nm: NmIdentity {
            uid: setup.nm_uid,
            gid: setup.nm_gid,
        },
        user,
    };
    let yarn_user = &run_as.yarn_user;
    match run_as.command {
        RunAsCommand::Initialize(init) => initialize::initialize_app(&ctx, yarn_user, init),
        RunAsCommand::Launch(launch) => launch::launch_container(&ctx, yarn_user, launch),
        RunAsCommand::LaunchDocker(d) => docker::launch_docker(&ctx, yarn_user, d),
        RunAsCommand::Signal { pid, signal } => signal::signal_container(&ctx.user, pid, signal),
        RunAsCommand::Delete { path, base_dirs } => delete::delete_as_user(&ctx, path, base_dirs),
        RunAsCommand::List { path } => list::list_as_user(&ctx, path),
        RunAsCommand::SyncSysfs { app_id, local_dirs } => {
            sysfs::sync_yarn_sysfs(&ctx, yarn_user, &app_id, &local_dirs)
        }
    }
}

fn nm_identity(setup: &Setup) -> NmIdentity {
    NmIdentity {
        uid: setup.nm_uid,
        gid: setup.nm_gid,
    }
}
