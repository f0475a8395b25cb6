//! The commands, one file each. `execute` runs a parsed request with the identities Hadoop uses
//! for it and returns the exit status the NodeManager should see.

mod cgroup_tasks;
mod cgroups;
mod delete;
mod delete_worker;
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

pub use cgroup_tasks::configured as cgroup_confinement;
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
    // Validation before any change: the user policy and a launch's arguments are checked
    // before its tc file is applied (Hadoop applies it first, then checks the user).
    let user = users::check_run_as_user(&run_as.user, &setup.config, setup.nm_gid)?;
    check_yarn_user_name(&run_as)?;
    let tc_file = match &run_as.command {
        RunAsCommand::Launch(launch) => {
            launch::validate(&run_as.yarn_user, launch)?;
            launch.tc_command_file.as_ref()
        }
        RunAsCommand::LaunchDocker(d) => {
            launch::validate(&run_as.yarn_user, &d.launch)?;
            d.launch.tc_command_file.as_ref()
        }
        _ => None,
    };
    // A launch's tc file is applied next, as root, before the switch to the user.
    if let Some(file) = tc_file {
        tc::run_traffic_control(nm_identity(setup), crate::cli::TcAction::ModifyState, file)?;
    }
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

/// Beyond Hadoop: `<yarn-user>` obeys the run-as user name's grammar (one path component, no
/// control byte, whitespace, `/`, `:` or `,`) on every command. Initialize, launch and
/// sync-sysfs build paths from it and check it against the NodeManager's stricter user-name
/// pattern themselves (with Hadoop's exit codes); the others only carry it, and refuse here.
fn check_yarn_user_name(run_as: &RunAs) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let carried_only = matches!(
        run_as.command,
        RunAsCommand::Signal { .. } | RunAsCommand::Delete { .. } | RunAsCommand::List { .. }
    );
    let name = run_as.yarn_user.as_bytes();
    if carried_only && !users::plausible_user_name(name) {
        let shown = crate::out::escape_controls(&String::from_utf8_lossy(name)).into_owned();
        return Err(Error::UserRejected(format!(
            "Invalid yarn user name {shown}"
        )));
    }
    Ok(())
}

fn nm_identity(setup: &Setup) -> NmIdentity {
    NmIdentity {
        uid: setup.nm_uid,
        gid: setup.nm_gid,
    }
}
