//! The one error type. Every variant knows the Hadoop exit code the NodeManager expects
//! (`docs/exit-codes.md`), where its message goes, and whether Hadoop ends the
//! process at once (setup and parser failures) or through the final
//! `Nonzero exit code=<n>, error message='<text>'` line.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

/// Set when an argument of this invocation holds a newline (see [`Error::message_lines`]).
static ARGUMENTS_HOLD_NEWLINE: AtomicBool = AtomicBool::new(false);

/// Look at argv once, before anything can fail: whether messages may be split into lines.
pub fn note_arguments(args: &[OsString]) {
    let newline = args.iter().any(|a| a.as_bytes().contains(&b'\n'));
    ARGUMENTS_HOLD_NEWLINE.store(newline, Ordering::Relaxed);
}

/// Hadoop's numeric result codes (`CE/impl/util.h`). `Unknown` is the `-1` that many C paths
/// return; the kernel turns it into exit status 255.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    Unknown = -1,
    InvalidArgumentNumber = 1,
    InvalidCommandProvided = 3,
    InvalidNmRootDirs = 5,
    SetuidOperFailed = 6,
    UnableToExecuteContainerScript = 7,
    UnableToSignalContainer = 8,
    InvalidContainerPid = 9,
    OutOfMemory = 18,
    InitializeUserFailed = 20,
    PathToDeleteIsNull = 21,
    InvalidContainerExecPermissions = 22,
    InvalidConfigFile = 24,
    SetsidOperFailed = 25,
    WritePidfileFailed = 26,
    WriteCgroupFailed = 27,
    TrafficControlExecutionFailed = 28,
    DockerRunFailed = 29,
    FeatureDisabled = 32,
    CouldNotCreateScriptCopy = 33,
    CouldNotCreateCredentialsCopy = 34,
    CouldNotCreateWorkDirectories = 35,
    CouldNotCreateAppLogDirectories = 36,
    CouldNotCreateTmpDirectories = 37,
    InvalidContainerId = 43,
    DockerExecFailed = 44,
    CouldNotCreateKeystoreCopy = 45,
    CouldNotCreateTruststoreCopy = 46,
    InvalidDockerCommandFile = 53,
    CannotGetExecutableNameFromReadlink = 80,
    TooLongExecutorPath = 81,
}

impl Code {
    pub fn number(self) -> i32 {
        self as i32
    }
}

/// The text Hadoop's `get_error_message` gives a code, used in the final ERR line. It is looked up
/// by number because a launch passes the container's own status through the same line.
pub fn hadoop_text(code: i32) -> &'static str {
    match code {
        1 => "Invalid argument number",
        3 => "Invalid command provided",
        5 => "Invalid NM root dirs",
        6 => "setuid operation failed",
        7 => "Unable to execute container script",
        8 => "Unable to signal container",
        9 => "Invalid container PID",
        18 => "Out of memory",
        20 => "Initialize user failed",
        21 => "Path to delete is null",
        22 => "Invalid container-executor permissions",
        24 => "Invalid config file",
        25 => "setsid operation failed",
        26 => "Write to pidfile failed",
        27 => "Write to cgroup failed",
        28 => "Traffic control execution failed",
        29 => "Docker run failed",
        30 => "Error opening Docker file",
        31 => "Error reading Docker file",
        32 => "Feature disabled",
        33 => "Could not create script copy",
        34 => "Could not create credentials copy",
        35 => "Could not create work dirs",
        36 => "Could not create app log dirs",
        37 => "Could not create tmp dirs",
        38 => "Error in create container directories arguments",
        39 => "Error sanitizing Docker command",
        40 => "Docker image invalid",
        42 => "Error compiling regex",
        43 => "Invalid container id",
        44 => "Docker exec failed",
        45 => "Could not create keystore copy",
        46 => "Could not create truststore copy",
        47 => "Error calling setvbuf",
        48 => "Buffer too small",
        49 => "Invalid mount",
        50 => "Invalid read-only mount",
        51 => "Invalid read-write mount",
        52 => "Mount access error",
        53 => "Invalid docker command file passed",
        76 => "runC setup failed",
        77 => "runC run failed",
        78 => "runC reap layer mounts failed",
        80 => "Cannot get executable name from readlink",
        81 => "Too long executor path",
        82 => "Cannot get executable name from kernel",
        83 => "Cannot get executable name from pid",
        84 => "Wrong path of executable",
        _ => "Unknown error code",
    }
}

/// Where Hadoop writes a failure's own message: LOG (stdout) or ERR (stderr).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Log,
    Err,
}

#[derive(Debug, Error)]
pub enum Error {
    /// Wrong argument count or shape: the usage text goes to stdout (Hadoop's `display_usage`).
    #[error("")]
    Usage,
    /// A malformed argument; `1`, with a message.
    #[error("{0}")]
    BadArgument(String),
    #[error("{0}")]
    InvalidCommand(String),
    #[error("{0}")]
    InvalidContainerId(String),
    #[error("Feature disabled: {0}")]
    FeatureDisabled(String),
    /// Sync-sysfs reports a disabled feature with no message (docs/protocol.md §4.6).
    #[error("")]
    FeatureDisabledSilently,
    /// Setup: our own executable could not be found through `/proc/self/exe`.
    #[error("{0}")]
    ExecutablePath(String),
    #[error("{0}")]
    ExecutablePathTooLong(String),
    /// Setup or parser: the configuration is missing, unsafe or malformed. Exits at once.
    #[error("{0}")]
    Config(String),
    /// Setup: the binary's owner, group or mode is wrong. Exits at once.
    #[error("{0}")]
    BinaryPermissions(String),
    /// Beyond Hadoop: the caller is neither root nor in the NodeManager group. Exits at once.
    #[error("{0}")]
    CallerNotAllowed(String),
    /// The run-as user failed the policy (root, unknown, banned, low uid). Hadoop: -1 on LOG.
    #[error("{0}")]
    UserRejected(String),
    #[error("{0}")]
    NmInputUnreadable(String),
    /// The operator CLI or the explaining `--checksetup`: a directory given as an NM local/log
    /// root is not owned by the NodeManager user, or its parents are writable by others.
    #[error("{0}")]
    NotNmRoot(String),
    #[error("{0}")]
    SetuidFailed(String),
    #[error("{0}")]
    ScriptExec(String),
    #[error("{0}")]
    SignalFailed(String),
    #[error("{0}")]
    NoSuchProcessGroup(String),
    #[error("{0}")]
    OutOfMemory(String),
    #[error("{0}")]
    UserDirs(String),
    #[error("Path is null")]
    PathToDeleteIsNull,
    #[error("{0}")]
    Setsid(String),
    #[error("{0}")]
    PidFile(String),
    #[error("{0}")]
    Cgroup(String),
    #[error("{0}")]
    TrafficControl(String),
    #[error("{0}")]
    ScriptCopy(String),
    #[error("{0}")]
    CredentialsCopy(String),
    #[error("{0}")]
    WorkDirs(String),
    #[error("{0}")]
    AppLogDirs(String),
    #[error("{0}")]
    TmpDirs(String),
    #[error("{0}")]
    KeystoreCopy(String),
    #[error("{0}")]
    TruststoreCopy(String),
    /// exec-container: the terminal could not be made or relayed (Hadoop's DOCKER_EXEC_FAILED).
    #[error("{0}")]
    ExecFailed(String),
    /// exec-container: the command file can't be used (Hadoop's INVALID_DOCKER_COMMAND_FILE).
    #[error("{0}")]
    InvalidCommandFile(String),
    /// A -1 failure whose message was already printed where Hadoop prints it (LOG for delete
    /// and list): only the final line follows.
    #[error("")]
    Logged,
    /// Any failure Hadoop reports as -1 (status 255, "Unknown error code").
    #[error("{0}")]
    Failed(String),
    /// Docker: the command file or the `[docker]` policy refused the command (Hadoop's
    /// `exit(DOCKER_RUN_FAILED)` after `Error constructing docker command ...`). Exits at once.
    #[error("{0}")]
    DockerRefused(String),
    /// Docker: the docker binary could not be run, or `docker rm` failed (29).
    #[error("{0}")]
    DockerRun(String),
    /// A mode this build does not implement (yet). Never pretends to work.
    #[error("{0} is not supported by this build of container-executor")]
    NotSupported(&'static str),
}

impl Error {
    pub fn code(&self) -> Code {
        use Error::*;
        match self {
            Usage | BadArgument(_) => Code::InvalidArgumentNumber,
            InvalidCommand(_) => Code::InvalidCommandProvided,
            InvalidContainerId(_) => Code::InvalidContainerId,
            FeatureDisabled(_) | FeatureDisabledSilently => Code::FeatureDisabled,
            ExecutablePath(_) => Code::CannotGetExecutableNameFromReadlink,
            ExecutablePathTooLong(_) => Code::TooLongExecutorPath,
            Config(_) => Code::InvalidConfigFile,
            BinaryPermissions(_) | CallerNotAllowed(_) => Code::InvalidContainerExecPermissions,
            UserRejected(_) | Failed(_) | Logged | NotSupported(_) => Code::Unknown,
            NmInputUnreadable(_) | NotNmRoot(_) => Code::InvalidNmRootDirs,
            SetuidFailed(_) => Code::SetuidOperFailed,
            ScriptExec(_) => Code::UnableToExecuteContainerScript,
            SignalFailed(_) => Code::UnableToSignalContainer,
            NoSuchProcessGroup(_) => Code::InvalidContainerPid,
            OutOfMemory(_) => Code::OutOfMemory,
            UserDirs(_) => Code::InitializeUserFailed,
            PathToDeleteIsNull => Code::PathToDeleteIsNull,
            Setsid(_) => Code::SetsidOperFailed,
            PidFile(_) => Code::WritePidfileFailed,
            Cgroup(_) => Code::WriteCgroupFailed,
            TrafficControl(_) => Code::TrafficControlExecutionFailed,
            ScriptCopy(_) => Code::CouldNotCreateScriptCopy,
            CredentialsCopy(_) => Code::CouldNotCreateCredentialsCopy,
            WorkDirs(_) => Code::CouldNotCreateWorkDirectories,
            AppLogDirs(_) => Code::CouldNotCreateAppLogDirectories,
            TmpDirs(_) => Code::CouldNotCreateTmpDirectories,
            KeystoreCopy(_) => Code::CouldNotCreateKeystoreCopy,
            TruststoreCopy(_) => Code::CouldNotCreateTruststoreCopy,
            ExecFailed(_) => Code::DockerExecFailed,
            InvalidCommandFile(_) => Code::InvalidDockerCommandFile,
            DockerRefused(_) | DockerRun(_) => Code::DockerRunFailed,
        }
    }

    /// Setup and parser failures end the process at once in Hadoop (`exit(code)`), without the
    /// final `Nonzero exit code=…` line.
    pub fn exits_at_once(&self) -> bool {
        matches!(
            self,
            Error::ExecutablePath(_)
                | Error::ExecutablePathTooLong(_)
                | Error::Config(_)
                | Error::BinaryPermissions(_)
                | Error::CallerNotAllowed(_)
                | Error::DockerRefused(_)
        )
    }

    /// The message as the lines to print (none for an empty one). Several messages are made of
    /// two lines, as in Hadoop; but messages also echo ids and paths from argv, and a newline in
    /// one of those would print a line of the caller's choosing. So once any argument holds a
    /// newline ([`note_arguments`]), every message stays one line, its newlines escaped by `out`.
    pub fn message_lines(&self) -> Vec<String> {
        let text = self.to_string();
        if text.is_empty() {
            Vec::new()
        } else if ARGUMENTS_HOLD_NEWLINE.load(Ordering::Relaxed) {
            vec![text]
        } else {
            text.split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        }
    }

    /// The stream Hadoop prints this failure's own message on.
    pub fn stream(&self) -> Stream {
        match self {
            Error::UserRejected(_) | Error::NoSuchProcessGroup(_) | Error::SignalFailed(_) => {
                Stream::Log
            }
            Error::PathToDeleteIsNull => Stream::Log,
            _ => Stream::Err,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_hadoop_numbers() {
        assert_eq!(Error::Usage.code().number(), 1);
        assert_eq!(Error::Config("x".into()).code().number(), 24);
        assert_eq!(Error::BinaryPermissions("x".into()).code().number(), 22);
        assert_eq!(Error::UserRejected("x".into()).code().number(), -1);
        assert_eq!(
            Error::FeatureDisabled("docker".into()).to_string(),
            "Feature disabled: docker"
        );
        assert_eq!(Error::NoSuchProcessGroup("x".into()).code().number(), 9);
        assert_eq!(Error::TmpDirs("x".into()).code().number(), 37);
    }

    #[test]
    fn texts_match_hadoop() {
        assert_eq!(hadoop_text(1), "Invalid argument number");
        assert_eq!(hadoop_text(22), "Invalid container-executor permissions");
        assert_eq!(hadoop_text(-1), "Unknown error code");
        assert_eq!(hadoop_text(143), "Unknown error code");
        assert_eq!(hadoop_text(79), "Unknown error code");
    }

    #[test]
    fn a_newline_in_an_argument_keeps_every_message_on_one_line() {
        let two = Error::UserRejected("Can't get user information u - e\nUser u not found".into());
        let forged = Error::InvalidContainerId("Invalid container id x\nmain : forged".into());
        note_arguments(&["ce".into(), "x".into()]);
        assert_eq!(two.message_lines().len(), 2);
        assert!(Error::Usage.message_lines().is_empty());
        note_arguments(&["ce".into(), "x\nmain : forged".into()]);
        assert_eq!(forged.message_lines().len(), 1);
        assert_eq!(two.message_lines().len(), 1);
        note_arguments(&[]);
    }

    #[test]
    fn setup_failures_exit_at_once() {
        assert!(Error::Config("x".into()).exits_at_once());
        assert!(!Error::Usage.exits_at_once());
        assert!(!Error::UserRejected("x".into()).exits_at_once());
    }
}
