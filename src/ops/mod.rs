//! The commands, one file each. `execute` runs a parsed request with the identities Hadoop uses
//! for it and returns the exit status the NodeManager should see.

mod signal;

use crate::cli::{Request, RunAs, RunAsCommand};
use crate::error::{Error, Result};
use crate::identity;
use crate::setup::Setup;
use crate::users;

pub fn execute(setup: &Setup, request: Request) -> Result<i32> {
    match request {
        Request::CheckSetup => Ok(0),
        Request::Unsupported { what } => Err(Error::NotSupported(what)),
        Request::MountCgroups { .. } => Err(not_yet("--mount-cgroups")),
        Request::TrafficControl { .. } => Err(not_yet("traffic control")),
        Request::ExecContainer { .. } => Err(not_yet("--exec-container")),
        Request::Module { .. } => Err(not_yet("device modules")),
        Request::RunAs(run_as) => run_as_user(setup, *run_as),
    }
}

/// Every run-as-user command starts the same way (Hadoop's `set_user`): the user policy, then an
/// effective switch to the user with its groups. The command decides what runs as whom next.
fn run_as_user(setup: &Setup, run_as: RunAs) -> Result<i32> {
    let user = users::check_run_as_user(&run_as.user, &setup.config)?;
    identity::assume_user(&user)?;
    match run_as.command {
        RunAsCommand::Signal { pid, signal } => signal::signal_container(&user, pid, signal),
        RunAsCommand::Initialize(_) => Err(not_yet("initialize container")),
        RunAsCommand::Launch(_) => Err(not_yet("launch container")),
        RunAsCommand::Delete { .. } => Err(not_yet("delete as user")),
        RunAsCommand::List { .. } => Err(not_yet("list as user")),
        RunAsCommand::SyncSysfs { .. } => Err(not_yet("sync yarn sysfs")),
    }
}

fn not_yet(what: &str) -> Error {
    Error::Failed(format!(
        "{what}: not implemented yet in this build of container-executor"
    ))
}
