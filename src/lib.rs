//! container-executor: a drop-in, memory-safe replacement for Hadoop YARN's setuid
//! `container-executor`.
//!
//! Every request travels one road, and this file is that road:
//! argv → setup checks (config, binary, caller) → argv parsed against the config →
//! the command (user policy, identities, filesystem work) → one exit code.

#![deny(unsafe_code)]

pub mod audit;
pub mod checksetup;
pub mod cli;
pub mod config;
pub mod docker;
pub mod elf;
pub mod error;
pub mod fs;
pub mod help;
pub mod identity;
pub mod ids;
pub mod layout;
pub mod operator;
pub mod ops;
pub mod out;
pub mod process;
pub mod setup;
#[allow(unsafe_code)] // the one module allowed raw calls (SECURITY.md)
pub mod sys;
pub mod users;

use std::ffi::OsString;

use error::{hadoop_text, Error, Stream};

/// Run one invocation and return the status the process exits with (Hadoop's `int`, which the
/// kernel truncates to 8 bits: -1 is seen as 255).
pub fn run(args: &[OsString]) -> i32 {
    error::note_arguments(args);
    if let Some(request) = cli::human_request(args) {
        help::print(request);
        return 0;
    }
    // The audit record of this run (SECURITY.md): the one place every command passes,
    // the NodeManager's argv and the operator subcommands alike.
    audit::begin(nix::unistd::getuid().as_raw(), args);
    let status = run_request(args);
    audit::finish(status & 0xff);
    status
}

fn run_request(args: &[OsString]) -> i32 {
    if let Err(e) = cli::check_argv_size(args) {
        return report_error(&e, None);
    }
    if let Err(why) = process::check_limits() {
        return report_error(&error::Error::Failed(why), None);
    }
    // Operator subcommands and the explaining --checksetup: never a NodeManager argv (see
    // operator::is_operator_argv and checksetup::wants_report).
    if operator::is_operator_argv(args) {
        return operator::run(args);
    }
    if checksetup::wants_report(args) {
        return checksetup::run(args);
    }
    let setup = match setup::run_setup_checks() {
        Ok(setup) => setup,
        Err(e) => return report_error(&e, None),
    };
    let request = match cli::parse(args, &setup.config) {
        Ok(request) => request,
        Err(e) => return report_error(&e, Some(&setup.config)),
    };
    // exec-container passes the program's status through and, like Hadoop's relay (which ends
    // with a direct `exit`), prints no final line for it.
    let passthrough = matches!(request, cli::Request::ExecContainer { .. });
    match ops::execute(&setup, request) {
        Ok(status) if passthrough => status,
        Ok(status) => finish(status),
        Err(e) => report_error(&e, Some(&setup.config)),
    }
}

/// A status from a command that ran (a launch passes the container's status through): non-zero
/// gets Hadoop's final line.
pub(crate) fn finish(status: i32) -> i32 {
    if status != 0 {
        final_line(status);
    }
    status
}

pub(crate) fn report_error(e: &Error, config: Option<&config::Config>) -> i32 {
    print_error_lines(e);
    if let (Error::Usage, Some(config)) = (e, config) {
        out::log_raw(cli::usage_text(config).as_bytes());
    }
    let code = e.code().number();
    if !e.exits_at_once() {
        final_line(code);
    }
    code
}

/// An error's own message lines, each on the stream Hadoop prints it on (no final line).
pub(crate) fn print_error_lines(e: &Error) {
    for line in e.message_lines() {
        match e.stream() {
            Stream::Log => out::log(&line),
            Stream::Err => out::err(&line),
        }
    }
}

fn final_line(code: i32) {
    out::err(&format!(
        "Nonzero exit code={code}, error message='{}'",
        hadoop_text(code)
    ));
}
