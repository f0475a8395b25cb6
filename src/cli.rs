//! argv → [`Request`]: the NodeManager's positional protocol (`docs/protocol.md` §2–§4), exactly as
//! Hadoop's `validate_arguments` reads it, plus `--help`/`--version` for people.
//!
//! Feature gates that Hadoop checks while reading argv are checked here, in the same order, so
//! the exit codes (32 before 1, and so on) match.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::config::{split_hadoop_list, Config, Feature};
use crate::error::{Error, Result};
use crate::ids;
use crate::out;

/// Hadoop's run-as-user command numbers (`container-executor.h` `enum command`).
pub const INITIALIZE_CONTAINER: i64 = 0;
pub const LAUNCH_CONTAINER: i64 = 1;
pub const SIGNAL_CONTAINER: i64 = 2;
pub const DELETE_AS_USER: i64 = 3;
pub const LAUNCH_DOCKER_CONTAINER: i64 = 4;
pub const LIST_AS_USER: i64 = 5;
pub const SYNC_YARN_SYSFS: i64 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    CheckSetup,
    MountCgroups {
        hierarchy: OsString,
        controllers: Vec<OsString>,
    },
    TrafficControl {
        action: TcAction,
        command_file: PathBuf,
    },
    ExecContainer {
        command_file: PathBuf,
    },
    Module {
        module: DeviceModule,
        args: ModuleArgs,
    },
    /// RunC modes pass their gate but are not built into this binary.
    Unsupported {
        what: &'static str,
    },
    /// `--run-docker <command-file>`.
    RunDocker {
        command_file: PathBuf,
    },
    /// `--inspect-docker-container <format-option> <container-id>`.
    InspectDocker {
        format: OsString,
        container_id: OsString,
    },
    /// `--remove-docker-container [<hierarchy>] <container-id>`.
    RemoveDocker {
        hierarchy: Option<OsString>,
        container_id: OsString,
    },
    RunAs(Box<RunAs>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcAction {
    ModifyState,
    ReadState,
    ReadStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceModule {
    Gpu,
    Fpga,
    Devices,
}

impl DeviceModule {
    pub fn section(self) -> &'static str {
        match self {
            DeviceModule::Gpu => "gpu",
            DeviceModule::Fpga => "fpga",
            DeviceModule::Devices => "devices",
        }
    }

    /// The long option naming the devices to deny (Hadoop's `excluded_*`).
    fn excluded_option(self) -> &'static str {
        match self {
            DeviceModule::Gpu => "excluded_gpus",
            DeviceModule::Fpga => "excluded_fpgas",
            DeviceModule::Devices => "excluded_devices",
        }
    }
}

/// Hadoop's limit on a module's `--container_id` (its buffer is 128 bytes, NUL included).
pub const MAX_MODULE_CONTAINER_ID_LEN: usize = 127;

/// A device module's options, validated (`docs/protocol.md` §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleArgs {
    pub container_id: String,
    /// None when the excluded list was not given (Hadoop then skips the cgroup call, exit 0).
    pub excluded: Option<Excluded>,
    /// `--allowed_devices` of the devices module.
    pub allowed: Vec<DeviceNumber>,
}

/// The devices to deny: minor numbers (gpu, fpga) or whole device rules (devices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Excluded {
    Minors(Vec<u32>),
    Rules(Vec<DeviceRule>),
}

/// `major:minor`, each a number or `*` (None).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceNumber {
    pub major: Option<u32>,
    pub minor: Option<u32>,
}

impl std::fmt::Display for DeviceNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |n: Option<u32>| n.map_or("*".to_string(), |n| n.to_string());
        write!(f, "{}:{}", part(self.major), part(self.minor))
    }
}

/// One `devices.deny` rule given as `<type>-<major>:<minor>-<access>` (`c-195:0-rwm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: char,
    pub number: DeviceNumber,
    pub access: &'static str,
}

impl std::fmt::Display for DeviceRule {
    /// The line written to `devices.deny` (Hadoop replaces the dashes by spaces).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.kind, self.number, self.access)
    }
}

/// `<run-as-user> <yarn-user> <command> <args...>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// The Unix account to run as; checked by the user policy when the command starts.
    pub user: OsString,
    /// The application owner; only used to build directory names.
    pub yarn_user: OsString,
    pub command: RunAsCommand,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAsCommand {
    Initialize(Initialize),
    Launch(Launch),
    Signal {
        pid: i32,
        signal: i32,
    },
    /// `path` is None when argv[4] is missing (Hadoop reads past argv there; we never do).
    Delete {
        path: Option<OsString>,
        base_dirs: Vec<OsString>,
    },
    List {
        path: Option<OsString>,
    },
    SyncSysfs {
        app_id: OsString,
        local_dirs: Vec<OsString>,
    },
    /// Command 4: the launch's shape without resources, plus the docker command file.
    LaunchDocker(DockerLaunch),
}

/// Command 4 (`protocol.md` §4.4): a [`Launch`] (its resources fields empty) and the docker
/// command file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerLaunch {
    pub launch: Launch,
    pub command_file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialize {
    pub app_id: OsString,
    pub container_id: String,
    pub tokens: PathBuf,
    pub local_dirs: Vec<OsString>,
    pub log_dirs: Vec<OsString>,
    /// argv of the localizer, exec'd as the user after the privilege drop.
    pub localizer: Vec<OsString>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub app_id: OsString,
    pub container_id: OsString,
    pub work_dir: PathBuf,
    pub script: PathBuf,
    pub tokens: PathBuf,
    /// `--https <keystore> <truststore>`; None for `--http` (or any other value, as in Hadoop).
    pub https: Option<(PathBuf, PathBuf)>,
    pub pid_file: PathBuf,
    pub local_dirs: Vec<OsString>,
    pub log_dirs: Vec<OsString>,
    pub resources_key: OsString,
    pub resources_values: Vec<OsString>,
    pub tc_command_file: Option<PathBuf>,
}

/// What a human asked for instead of a NodeManager operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanRequest {
    Help,
    Version,
}

/// `--help`/`-h`/`--version`/`-V` alone. Checked before setup: they read nothing and change
/// nothing. No NodeManager argv has these as argv[1] with nothing after.
pub fn human_request(args: &[OsString]) -> Option<HumanRequest> {
    if args.len() != 2 {
        return None;
    }
    match args[1].as_bytes() {
        b"--help" | b"-h" => Some(HumanRequest::Help),
        b"--version" | b"-V" => Some(HumanRequest::Version),
        _ => None,
    }
}

/// Beyond Hadoop: bounds on argv, checked before anything else is read. Generous for every
/// NodeManager argv (a localizer command line with a long classpath is the largest).
pub const MAX_ARG_BYTES: usize = 96 * 1024;
pub const MAX_ARGV_BYTES: usize = 1024 * 1024;
pub const MAX_ARGS: usize = 1024;

/// Refuse an oversized argv with Hadoop's invalid-argument code (1).
pub fn check_argv_size(args: &[OsString]) -> Result<()> {
    if args.len() > MAX_ARGS {
        return Err(Error::BadArgument(format!(
            "Too many arguments: {} (at most {MAX_ARGS})",
            args.len()
        )));
    }
    if let Some((i, arg)) = args
        .iter()
        .enumerate()
        .find(|(_, a)| a.len() > MAX_ARG_BYTES)
    {
        return Err(Error::BadArgument(format!(
            "Argument {i} is too long: {} bytes (at most {MAX_ARG_BYTES})",
            arg.len()
        )));
    }
    let total: usize = args.iter().map(|a| a.len() + 1).sum();
    if total > MAX_ARGV_BYTES {
        return Err(Error::BadArgument(format!(
            "Arguments too long: {total} bytes in all (at most {MAX_ARGV_BYTES})"
        )));
    }
    Ok(())
}

/// Parse the NodeManager's argv (`args[0]` is our own name and is ignored).
pub fn parse(args: &[OsString], config: &Config) -> Result<Request> {
    let argc = args.len();
    let Some(mode) = args.get(1) else {
        return Err(Error::Usage);
    };
    let gate = |enabled: bool, name: &str| -> Result<()> {
        if enabled {
            Ok(())
        } else {
            Err(Error::FeatureDisabled(name.to_string()))
        }
    };
    let expect_argc = |ok: bool| if ok { Ok(()) } else { Err(Error::Usage) };
    let path = |i: usize| PathBuf::from(&args[i]);
    match mode.as_bytes() {
        b"--module-gpu" => module(DeviceModule::Gpu, args, config),
        b"--module-fpga" => module(DeviceModule::Fpga, args, config),
        b"--module-devices" => module(DeviceModule::Devices, args, config),
        b"--checksetup" => Ok(Request::CheckSetup),
        b"--mount-cgroups" => {
            gate(config.feature_enabled(Feature::MountCgroup), "mount cgroup")?;
            expect_argc(argc >= 4)?;
            Ok(Request::MountCgroups {
                hierarchy: args[2].clone(),
                controllers: args[3..].to_vec(),
            })
        }
        b"--tc-modify-state" | b"--tc-read-state" | b"--tc-read-stats" => {
            gate(config.feature_enabled(Feature::Tc), "traffic control")?;
            expect_argc(argc == 3)?;
            let action = match mode.as_bytes() {
                b"--tc-modify-state" => TcAction::ModifyState,
                b"--tc-read-state" => TcAction::ReadState,
                _ => TcAction::ReadStats,
            };
            Ok(Request::TrafficControl {
                action,
                command_file: path(2),
            })
        }
        b"--exec-container" => {
            gate(
                config.feature_enabled(Feature::Terminal),
                "feature.terminal.enabled",
            )?;
            expect_argc(argc == 3)?;
            Ok(Request::ExecContainer {
                command_file: path(2),
            })
        }
        b"--run-docker" | b"--remove-docker-container" | b"--inspect-docker-container" => {
            gate(config.docker_enabled(), "docker")?;
            expect_argc(match mode.as_bytes() {
                b"--run-docker" => argc == 3,
                b"--remove-docker-container" => argc == 3 || argc == 4,
                _ => argc == 4,
            })?;
            Ok(docker_request(args))
        }
        b"--run-runc-container" | b"--reap-runc-layer-mounts" => {
            gate(config.runc_enabled(), "runc")?;
            expect_argc(argc == 3)?;
            if mode.as_bytes() == b"--reap-runc-layer-mounts"
                && !scanf_int(&args[2]).is_some_and(|n| n >= 0)
            {
                return Err(Error::InvalidCommand(format!(
                    "Bad runc layer count: {}",
                    args[2].to_string_lossy()
                )));
            }
            Ok(Request::Unsupported {
                what: "runC support",
            })
        }
        _ => run_as_user(args, config),
    }
}

fn module(module: DeviceModule, args: &[OsString], config: &Config) -> Result<Request> {
    let section = module.section();
    if !config.module_enabled(section) {
        return Err(Error::Failed(format!(
            "Please make sure {section} module is enabled before using it."
        )));
    }
    Ok(Request::Module {
        module,
        args: parse_module_args(module, args)?,
    })
}

/// Hadoop reads a module's options with `getopt_long` (optstring `e:c:`, devices `e:a:c:`): long
/// options `--name value` or `--name=value` (a unique prefix is enough), short `-e value` or
/// `-evalue`, `--` ends the options, other words are ignored. Every option needs its argument.
/// Each failure is 1, in argv order, as in Hadoop. Stricter than Hadoop: the numbers and device
/// rules are checked here (no sign, no junk, no overflow), and a container id must fit Hadoop's
/// 128-byte buffer.
pub fn parse_module_args(module: DeviceModule, args: &[OsString]) -> Result<ModuleArgs> {
    let name = module.section();
    let mut longs = vec![(module.excluded_option(), 'e'), ("container_id", 'c')];
    if module == DeviceModule::Devices {
        longs.push(("allowed_devices", 'a'));
    }
    let unknown = |shown: String, index: usize| {
        Error::BadArgument(format!(
            "{}: {shown}\nUnknown option in {name} command character 63 ?, optionindex = {index}",
            args[1].to_string_lossy()
        ))
    };
    let mut container_id: Option<String> = None;
    let mut excluded = None;
    let mut allowed = Vec::new();
    let mut i = 2;
    while i < args.len() {
        let word = args[i].as_bytes();
        i += 1;
        let (letter, inline): (char, Option<&[u8]>) = if word == b"--" {
            break;
        } else if let Some(long) = word.strip_prefix(b"--") {
            let (key, value) = match long.iter().position(|&b| b == b'=') {
                Some(eq) => (&long[..eq], Some(&long[eq + 1..])),
                None => (long, None),
            };
            let exact = longs.iter().find(|(n, _)| n.as_bytes() == key);
            let prefixed: Vec<_> = longs
                .iter()
                .filter(|(n, _)| n.as_bytes().starts_with(key))
                .collect();
            match (exact, prefixed.as_slice()) {
                (Some((_, l)), _) | (None, [(_, l)]) => (*l, value),
                _ => {
                    let text = OsStr::from_bytes(word).to_string_lossy();
                    return Err(unknown(format!("unrecognized option '{text}'"), i));
                }
            }
        } else if word.len() > 1 && word[0] == b'-' {
            let letter = word[1] as char;
            if !longs.iter().any(|(_, l)| *l == letter) {
                return Err(unknown(format!("invalid option -- '{letter}'"), i));
            }
            let rest = &word[2..];
            (letter, (!rest.is_empty()).then_some(rest))
        } else {
            continue;
        };
        let value: OsString = match inline {
            Some(v) => OsStr::from_bytes(v).to_os_string(),
            None => match args.get(i) {
                Some(v) => {
                    i += 1;
                    v.clone()
                }
                None => {
                    let text = OsStr::from_bytes(word).to_string_lossy();
                    return Err(unknown(format!("option '{text}' requires an argument"), i));
                }
            },
        };
        let shown = value.to_string_lossy().into_owned();
        match letter {
            'c' => {
                let id = value
                    .to_str()
                    .filter(|id| {
                        id.len() <= MAX_MODULE_CONTAINER_ID_LEN && ids::is_valid_container_id(id)
                    })
                    .ok_or_else(|| {
                        Error::BadArgument(format!("Specified container_id={shown} is invalid"))
                    })?;
                container_id = Some(id.to_string());
            }
            'e' if module == DeviceModule::Devices => {
                let rules = value
                    .to_str()
                    .and_then(|v| split_tokens(v).map(parse_device_rule).collect())
                    .ok_or_else(|| {
                        Error::BadArgument(format!(
                            "Failed to get devices from command line, value={shown}"
                        ))
                    })?;
                excluded = Some(Excluded::Rules(rules));
            }
            'e' => {
                let minors = value
                    .to_str()
                    .and_then(|v| split_tokens(v).map(parse_argv_device_count).collect())
                    .ok_or_else(|| {
                        Error::BadArgument(format!(
                            "Failed to get minor devices number from command line, value={shown}"
                        ))
                    })?;
                excluded = Some(Excluded::Minors(minors));
            }
            _ => {
                allowed = value
                    .to_str()
                    .and_then(|v| split_tokens(v).map(parse_device_number).collect())
                    .ok_or_else(|| {
                        Error::BadArgument(format!(
                            "Failed to get allowed devices from command line, value={shown}"
                        ))
                    })?;
            }
        }
    }
    let Some(container_id) = container_id else {
        return Err(Error::BadArgument(format!(
            "[handle_{name}_request] --container_id must be specified."
        )));
    };
    Ok(ModuleArgs {
        container_id,
        excluded,
        allowed,
    })
}

/// `strtok(value, ",")`: empty elements are skipped.
pub fn split_tokens(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(|t| !t.is_empty())
}

/// The largest value of Hadoop's `int`, the type of every number argv carries.
const INT_MAX: u64 = i32::MAX as u64;
/// The highest Linux signal number (`SIGRTMAX`): the operator's `--signal` bound. Command 2
/// takes any canonical `int` and lets `kill` refuse the rest (8), as Hadoop does.
pub const MAX_SIGNAL: u64 = 64;

/// A device number from argv (`--excluded_gpus`/`--excluded_fpgas` minors): canonical decimal
/// fitting an `int` (`ids::canonical_decimal`), as the NodeManager writes it
/// (`Integer.toString`). Hadoop also takes `0x` hex and leading-`0` octal here.
pub fn parse_argv_device_count(text: &str) -> Option<u32> {
    ids::canonical_decimal(text.as_bytes(), INT_MAX).map(|n| n as u32)
}

/// A device number from the configuration file (`gpu.major-device-number`, the allowed-minor
/// lists), written by the administrator: as Hadoop's `strtol(.., 0)` spells it (decimal, `0x`
/// hex, leading-`0` octal), but strictly: no sign, no blanks, no trailing junk, and it must fit
/// Hadoop's `int`. Numbers from argv use [`parse_argv_device_count`].
pub fn parse_device_count(text: &str) -> Option<u32> {
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix)
        .ok()
        .filter(|n| i32::try_from(*n).is_ok())
}

/// `major:minor`, each canonical decimal (fitting an `int`) or `*`.
pub fn parse_device_number(text: &str) -> Option<DeviceNumber> {
    let part = |p: &str| -> Option<Option<u32>> {
        if p == "*" {
            return Some(None);
        }
        parse_argv_device_count(p).map(Some)
    };
    let (major, minor) = text.split_once(':')?;
    Some(DeviceNumber {
        major: part(major)?,
        minor: part(minor)?,
    })
}

/// `<a|b|c>-<major>:<minor>-<access>`, access a non-empty ordered subset of `rwm`.
pub fn parse_device_rule(text: &str) -> Option<DeviceRule> {
    let mut parts = text.split('-');
    let (kind, number, access) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let kind = match kind {
        "a" => 'a',
        "b" => 'b',
        "c" => 'c',
        _ => return None,
    };
    const ACCESS: [&str; 7] = ["rwm", "rw", "rm", "wm", "r", "w", "m"];
    let access = ACCESS.iter().copied().find(|a| *a == access)?;
    Some(DeviceRule {
        kind,
        number: parse_device_number(number)?,
        access,
    })
}

fn run_as_user(args: &[OsString], config: &Config) -> Result<Request> {
    let argc = args.len();
    if argc < 4 {
        return Err(Error::Usage);
    }
    let (user, yarn_user, command_arg) = (&args[1], &args[2], &args[3]);
    let shown_number = atoi(command_arg);
    out::log(&format!("main : command provided {shown_number}"));
    out::log(&format!("main : run as user is {}", user.to_string_lossy()));
    out::log(&format!(
        "main : requested yarn user is {}",
        yarn_user.to_string_lossy()
    ));
    // Stricter than Hadoop's atoi, which reads "abc" as 0 (initialize) and " +01" as 1: the
    // number must be canonical decimal (`ids::canonical_decimal`), else 3 (invalid command).
    let Some(command) = ids::canonical_decimal(command_arg.as_bytes(), INT_MAX).map(|n| n as i64)
    else {
        return Err(Error::InvalidCommand(format!(
            "Invalid command {} not supported.",
            command_arg.to_string_lossy()
        )));
    };
    // Beyond Hadoop: every entry canonical, none empty (`layout::nm_dir_list`), or 5.
    let lists = |what: &str, s: &OsStr| -> Result<Vec<OsString>> {
        crate::layout::nm_dir_list(what, s).map_err(Error::NotNmRoot)
    };
    let run_as = |command| {
        Ok(Request::RunAs(Box::new(RunAs {
            user: user.clone(),
            yarn_user: yarn_user.clone(),
            command,
        })))
    };
    match command {
        INITIALIZE_CONTAINER => {
            if argc < 10 {
                return Err(Error::BadArgument(format!(
                    "Too few arguments ({argc} vs 10) for initialize container"
                )));
            }
            let container_id = args[5]
                .to_str()
                .filter(|id| ids::is_valid_container_id(id))
                .ok_or_else(|| {
                    Error::InvalidContainerId(format!(
                        "Invalid container id {}",
                        args[5].to_string_lossy()
                    ))
                })?;
            run_as(RunAsCommand::Initialize(Initialize {
                app_id: args[4].clone(),
                container_id: container_id.to_string(),
                tokens: PathBuf::from(&args[6]),
                local_dirs: lists("local", &args[7])?,
                log_dirs: lists("log", &args[8])?,
                localizer: args[9..].to_vec(),
            }))
        }
        LAUNCH_CONTAINER => run_as(RunAsCommand::Launch(parse_launch(
            args,
            config,
            "launch container",
        )?)),
        LAUNCH_DOCKER_CONTAINER => {
            if !config.docker_enabled() {
                return Err(Error::FeatureDisabled("docker".into()));
            }
            if !(14..=17).contains(&argc) {
                return Err(Error::BadArgument(format!(
                    "Wrong number of arguments ({argc} vs 14 - 17) for launch docker container"
                )));
            }
            run_as(RunAsCommand::LaunchDocker(parse_docker_launch(
                args, config,
            )?))
        }
        SIGNAL_CONTAINER => {
            if argc != 6 {
                return Err(Error::BadArgument(format!(
                    "Wrong number of arguments ({argc} vs 6) for signal container"
                )));
            }
            // Canonical decimal (`ids::canonical_decimal`); Hadoop's strtol also takes blanks
            // and a sign.
            let number = |arg: &OsStr, max: u64| {
                ids::canonical_decimal(arg.as_bytes(), max).map(|n| n as i32)
            };
            let pid = number(&args[4], INT_MAX).ok_or_else(|| {
                Error::BadArgument(format!(
                    "Illegal argument for container pid {}",
                    args[4].to_string_lossy()
                ))
            })?;
            let signal = number(&args[5], INT_MAX).ok_or_else(|| {
                Error::BadArgument(format!(
                    "Illegal argument for signal {}",
                    args[5].to_string_lossy()
                ))
            })?;
            run_as(RunAsCommand::Signal { pid, signal })
        }
        DELETE_AS_USER => run_as(RunAsCommand::Delete {
            path: args.get(4).cloned(),
            base_dirs: args.get(5..).unwrap_or(&[]).to_vec(),
        }),
        LIST_AS_USER => run_as(RunAsCommand::List {
            path: args.get(4).cloned(),
        }),
        SYNC_YARN_SYSFS => {
            // Hadoop checks this gate after the user switch, before reading the arguments it
            // never counted: a disabled sysfs is 32 whatever the count (the command says so).
            if argc < 6 && !config.feature_enabled(Feature::YarnSysfs) {
                return run_as(RunAsCommand::SyncSysfs {
                    app_id: args.get(4).cloned().unwrap_or_default(),
                    local_dirs: Vec::new(),
                });
            }
            // Hadoop crashes on a missing local-dirs argument; we say so.
            if argc < 6 {
                return Err(Error::BadArgument(format!(
                    "Too few arguments ({argc} vs 6) for sync yarn sysfs"
                )));
            }
            run_as(RunAsCommand::SyncSysfs {
                app_id: args[4].clone(),
                local_dirs: lists("local", &args[5])?,
            })
        }
        _ => Err(Error::InvalidCommand(format!(
            "Invalid command {shown_number} not supported."
        ))),
    }
}

/// Commands 1 (and the shape of 4): `app cid workdir script tokens http-option pidfile
/// local-dirs log-dirs resources [tc-file]`, where http-option is `--http` or
/// `--https <keystore> <truststore>`.
fn parse_launch(args: &[OsString], config: &Config, what: &str) -> Result<Launch> {
    let argc = args.len();
    let wrong = || {
        Error::BadArgument(format!(
            "Wrong number of arguments ({argc} vs 14 - 17) for {what}"
        ))
    };
    if !(14..=17).contains(&argc) {
        return Err(wrong());
    }
    let https = args[9].as_bytes() == b"--https";
    // Hadoop reads past argv for `--https` with 14 or 15 arguments and ignores extras for
    // `--http` with 16 or 17; the NodeManager never sends either, so we refuse both.
    let (next, with_tc) = match (https, argc) {
        (false, 14) => (10, false),
        (false, 15) => (10, true),
        (true, 16) => (12, false),
        (true, 17) => (12, true),
        _ => {
            return Err(Error::BadArgument(format!(
                "Wrong number of arguments ({argc}) for {what} with {}",
                args[9].to_string_lossy()
            )))
        }
    };
    let resources = args[next + 3].as_bytes();
    let Some(eq) = resources.iter().position(|&b| b == b'=') else {
        return Err(Error::BadArgument(format!(
            "Invalid arguments for cgroups resources: {}",
            args[next + 3].to_string_lossy()
        )));
    };
    let tc_command_file = if with_tc {
        if !config.feature_enabled(Feature::Tc) {
            return Err(Error::FeatureDisabled("traffic control".into()));
        }
        Some(PathBuf::from(&args[next + 4]))
    } else {
        None
    };
    Ok(Launch {
        app_id: args[4].clone(),
        container_id: args[5].clone(),
        work_dir: PathBuf::from(&args[6]),
        script: PathBuf::from(&args[7]),
        tokens: PathBuf::from(&args[8]),
        https: https.then(|| (PathBuf::from(&args[10]), PathBuf::from(&args[11]))),
        pid_file: PathBuf::from(&args[next]),
        local_dirs: crate::layout::nm_dir_list("local", &args[next + 1])
            .map_err(Error::NotNmRoot)?,
        log_dirs: crate::layout::nm_dir_list("log", &args[next + 2]).map_err(Error::NotNmRoot)?,
        resources_key: OsStr::from_bytes(&resources[..eq]).to_os_string(),
        resources_values: split_os_list(OsStr::from_bytes(&resources[eq + 1..]), '%'),
        tc_command_file,
    })
}

/// The three docker long options, their argument counts already checked.
fn docker_request(args: &[OsString]) -> Request {
    match args[1].as_bytes() {
        b"--run-docker" => Request::RunDocker {
            command_file: PathBuf::from(&args[2]),
        },
        b"--remove-docker-container" => Request::RemoveDocker {
            hierarchy: (args.len() == 4).then(|| args[2].clone()),
            container_id: args[args.len() - 1].clone(),
        },
        _ => Request::InspectDocker {
            format: args[2].clone(),
            container_id: args[3].clone(),
        },
    }
}

/// Command 4: `app cid workdir script tokens http-option pidfile local-dirs log-dirs
/// docker-command-file [tc-file]` (argc already checked to be 14..=17).
fn parse_docker_launch(args: &[OsString], config: &Config) -> Result<DockerLaunch> {
    let argc = args.len();
    let https = args[9].as_bytes() == b"--https";
    // As for command 1, the shapes Hadoop would read past argv for are refused.
    let (next, with_tc) = match (https, argc) {
        (false, 14) => (10, false),
        (false, 15) => (10, true),
        (true, 16) => (12, false),
        (true, 17) => (12, true),
        _ => {
            return Err(Error::BadArgument(format!(
                "Wrong number of arguments ({argc}) for launch docker container with {}",
                args[9].to_string_lossy()
            )))
        }
    };
    let tc_command_file = if with_tc {
        if !config.feature_enabled(Feature::Tc) {
            return Err(Error::FeatureDisabled("traffic control".into()));
        }
        Some(PathBuf::from(&args[next + 4]))
    } else {
        None
    };
    Ok(DockerLaunch {
        launch: Launch {
            app_id: args[4].clone(),
            container_id: args[5].clone(),
            work_dir: PathBuf::from(&args[6]),
            script: PathBuf::from(&args[7]),
            tokens: PathBuf::from(&args[8]),
            https: https.then(|| (PathBuf::from(&args[10]), PathBuf::from(&args[11]))),
            pid_file: PathBuf::from(&args[next]),
            local_dirs: split_os_list(&args[next + 1], '%'),
            log_dirs: split_os_list(&args[next + 2], '%'),
            resources_key: OsString::new(),
            resources_values: Vec::new(),
            tc_command_file,
        },
        command_file: PathBuf::from(&args[next + 3]),
    })
}

/// Hadoop's `%` directory-list split on raw bytes (paths need not be UTF-8).
pub fn split_os_list(value: &OsStr, sep: char) -> Vec<OsString> {
    match value.to_str() {
        Some(text) => split_hadoop_list(text, sep)
            .into_iter()
            .map(OsString::from)
            .collect(),
        None => {
            let sep = sep as u8;
            let parts: Vec<OsString> = value
                .as_bytes()
                .split(|&b| b == sep)
                .filter(|p| !p.is_empty())
                .map(|p| OsStr::from_bytes(p).to_os_string())
                .collect();
            if parts.is_empty() {
                vec![value.to_os_string()]
            } else {
                parts
            }
        }
    }
}

/// C `sscanf(s, "%d", &n)` as glibc does it: leading blanks, a sign, at least one digit, trailing
/// text ignored; the `long` value (saturated) is narrowed to `int`. None when nothing converts.
fn scanf_int(arg: &OsStr) -> Option<i32> {
    let text = arg.as_bytes();
    let start = text
        .iter()
        .position(|b| !b" \t\n\r\x0b\x0c".contains(b))
        .unwrap_or(text.len());
    let rest = &text[start..];
    let (negative, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let digits: Vec<u8> = digits
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    for d in digits {
        value = (value * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let value = if negative { -value } else { value };
    let long = value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Some(long as i32)
}

/// C `atoi`, only for echoing the command number the way Hadoop prints it.
fn atoi(arg: &OsStr) -> i64 {
    let text = arg.to_string_lossy();
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(|b| b.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    (sign * value).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// Whether a word looks like a signed whole number (optional sign, digits, no overflow). Only
/// for telling the operator subcommands from the positional protocol; argv numbers are read by
/// `ids::canonical_decimal`.
pub(crate) fn parse_whole_i64(arg: &OsStr) -> Option<i64> {
    let text = arg.to_str()?;
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Hadoop's usage text (`docs/protocol.md` §6), with `[DISABLED]` markers from the configuration.
pub fn usage_text(config: &Config) -> String {
    let mark = |on: bool| if on { "      " } else { "[DISABLED]" };
    let tc = config.feature_enabled(Feature::Tc);
    let tc_tail = if tc { "optional-tc-command-file" } else { "" };
    let terminal = mark(config.feature_enabled(Feature::Terminal));
    let docker = mark(config.docker_enabled());
    let runc = mark(config.runc_enabled());
    let docker_launch = if config.docker_enabled() {
        ""
    } else {
        "[DISABLED]"
    };
    let sysfs = if config.feature_enabled(Feature::YarnSysfs) {
        "           "
    } else {
        "[DISABLED] "
    };
    let t = mark(tc);
    let https = "                                      where http-option is one of:\n                                      --http\n                                      --https keystorepath truststorepath\n";
    format!(
        "Usage: container-executor --checksetup\n\
         \x20      container-executor --mount-cgroups <hierarchy> <controller=path>...\n\
         {t} container-executor --tc-modify-state <command-file>\n\
         {t} container-executor --tc-read-state <command-file>\n\
         {t} container-executor --tc-read-stats <command-file>\n\
         {terminal} container-executor --exec-container <command-file>\n\
         {docker} container-executor --run-docker <command-file>\n\
         {docker} container-executor --remove-docker-container [hierarchy] <container_id>\n\
         {docker} container-executor --inspect-docker-container <container_id>\n\
         {runc} container-executor --run-runc-container <command-file>\n\
         {runc} container-executor --reap-runc-layer-mounts <retain-count>\n\
         \x20      container-executor <user> <yarn-user> <command> <command-args>\n\
         \x20      where command and command-args: \n\
         \x20           initialize container:   0 appid containerid tokens nm-local-dirs nm-log-dirs cmd...\n\
         \x20           launch container:       1 appid containerid workdir container-script tokens http-option pidfile nm-local-dirs nm-log-dirs resources {tc_tail}\n\
         {https}\
         {docker_launch:>11} launch docker container: 4 appid containerid workdir container-script tokens http-option pidfile nm-local-dirs nm-log-dirs docker-command-file resources {tc_tail}\n\
         {https}\
         \x20           signal container:       2 container-pid signal\n\
         \x20           delete as user:         3 relative-path\n\
         \x20           list as user:           5 relative-path\n\
         {sysfs} sync yarn sysfs:        6 app-id nm-local-dirs\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: &str = "yarn.nodemanager.linux-container-executor.group=hadoop\n";

    fn cfg(extra: &str) -> Config {
        Config::parse(format!("{GROUP}{extra}").as_bytes(), "t.cfg").unwrap()
    }

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("container-executor")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// The request with its run-as part unboxed, for patterns.
    #[derive(Debug, PartialEq)]
    #[allow(clippy::large_enum_variant)]
    enum Unboxed {
        RunAs(RunAs),
        Other(Request),
    }
    fn unboxed(r: Request) -> Unboxed {
        match r {
            Request::RunAs(b) => Unboxed::RunAs(*b),
            other => Unboxed::Other(other),
        }
    }

    fn parse_words(words: &[&str], extra: &str) -> Result<Request> {
        parse(&argv(words), &cfg(extra))
    }

    fn code(words: &[&str], extra: &str) -> i32 {
        match parse_words(words, extra) {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e.code().number(),
        }
    }

    fn launch_args(https: bool, tc: bool) -> Vec<&'static str> {
        let mut v = vec![
            "nobody",
            "alice",
            "1",
            "application_1_0001",
            "container_1_0001_01_000002",
            "/L1/wd",
            "/L1/nmPrivate/s.sh",
            "/L1/nmPrivate/t.tokens",
        ];
        if https {
            v.extend(["--https", "/ks", "/ts"]);
        } else {
            v.push("--http");
        }
        v.extend(["/L1/nmPrivate/c.pid", "/L1%/L2", "/G1", "cgroups=none"]);
        if tc {
            v.push("/tmp/tc.cmds");
        }
        v
    }

    #[test]
    fn runc_layer_count_reads_like_sscanf() {
        let n = |t: &str| scanf_int(OsStr::new(t));
        assert_eq!(n("3"), Some(3));
        assert_eq!(n("  7x"), Some(7));
        assert_eq!(n("+2"), Some(2));
        assert_eq!(n("-1"), Some(-1));
        assert_eq!(n("2147483648"), Some(i32::MIN));
        assert_eq!(n("99999999999999999999"), Some(-1));
        for none in ["", " ", "x1", "-", "+x"] {
            assert_eq!(n(none), None, "{none:?}");
        }
    }

    #[test]
    fn no_arguments_is_usage() {
        assert!(matches!(parse(&argv(&[]), &cfg("")), Err(Error::Usage)));
        assert_eq!(code(&["alice", "alice"], ""), 1);
    }

    #[test]
    fn checksetup_ignores_extra_args() {
        assert_eq!(
            parse_words(&["--checksetup", "x", "y"], "").unwrap(),
            Request::CheckSetup
        );
    }

    #[test]
    fn gates_come_before_argument_counts() {
        assert_eq!(code(&["--mount-cgroups"], ""), 32);
        assert_eq!(code(&["--tc-modify-state"], ""), 32);
        assert_eq!(code(&["--exec-container", "a", "b"], ""), 32);
        assert_eq!(code(&["--run-docker"], ""), 32);
        assert_eq!(code(&["--remove-docker-container", "x"], ""), 32);
        assert_eq!(code(&["--inspect-docker-container"], ""), 32);
        assert_eq!(code(&["--run-runc-container", "f"], ""), 32);
        assert_eq!(code(&["--reap-runc-layer-mounts", "1"], ""), 32);
        match parse_words(&["--tc-read-state", "f"], "") {
            Err(Error::FeatureDisabled(name)) => assert_eq!(name, "traffic control"),
            other => panic!("{other:?}"),
        }
        match parse_words(&["--exec-container", "f"], "") {
            Err(Error::FeatureDisabled(name)) => assert_eq!(name, "feature.terminal.enabled"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn enabled_long_options_check_counts() {
        assert_eq!(
            code(
                &["--mount-cgroups", "h"],
                "feature.mount-cgroup.enabled=1\n"
            ),
            1
        );
        let r = parse_words(
            &["--mount-cgroups", "h", "cpu=/c", "mem=/m"],
            "feature.mount-cgroup.enabled=true\n",
        )
        .unwrap();
        assert_eq!(
            r,
            Request::MountCgroups {
                hierarchy: "h".into(),
                controllers: vec!["cpu=/c".into(), "mem=/m".into()]
            }
        );
        let tc = "feature.tc.enabled=true\n";
        assert_eq!(code(&["--tc-read-stats"], tc), 1);
        assert_eq!(code(&["--tc-read-stats", "a", "b"], tc), 1);
        assert_eq!(
            parse_words(&["--tc-read-stats", "/f"], tc).unwrap(),
            Request::TrafficControl {
                action: TcAction::ReadStats,
                command_file: "/f".into()
            }
        );
        let terminal = "feature.terminal.enabled=true\n";
        assert_eq!(code(&["--exec-container"], terminal), 1);
        assert_eq!(code(&["--exec-container", "a", "b"], terminal), 1);
        assert_eq!(
            parse_words(&["--exec-container", "/f.cmd"], terminal).unwrap(),
            Request::ExecContainer {
                command_file: "/f.cmd".into()
            }
        );
        // Hadoop's mount-cgroups gate: exactly the feature key (no [DISABLED] marker in usage).
        assert_eq!(
            code(
                &["--mount-cgroups", "h", "cpu=/c"],
                "feature.mount-cgroup.enabled=0\n"
            ),
            32
        );
        let docker = "feature.docker.enabled=true\n";
        assert_eq!(code(&["--remove-docker-container"], docker), 1);
        assert_eq!(code(&["--inspect-docker-container", "c"], docker), 1);
        assert_eq!(
            parse_words(&["--inspect-docker-container", "--format=x", "c"], docker).unwrap(),
            Request::InspectDocker {
                format: "--format=x".into(),
                container_id: "c".into()
            }
        );
        assert_eq!(
            parse_words(&["--remove-docker-container", "h", "c"], docker).unwrap(),
            Request::RemoveDocker {
                hierarchy: Some("h".into()),
                container_id: "c".into()
            }
        );
        assert_eq!(
            parse_words(&["--run-docker", "f"], docker).unwrap(),
            Request::RunDocker {
                command_file: "f".into()
            }
        );
        assert_eq!(
            code(
                &["--run-runc-container", "a", "b"],
                "feature.runc.enabled=1\n"
            ),
            1
        );
    }

    #[test]
    fn modules_need_their_section_enabled() {
        assert_eq!(code(&["--module-gpu", "--container_id", "c"], ""), -1);
        assert_eq!(
            code(&["--module-fpga"], "[fpga]\nmodule.enabled=false\n"),
            -1
        );
        let r = parse_words(
            &["--module-devices", "--container_id", CID],
            "[devices]\nmodule.enabled=true\n",
        )
        .unwrap();
        assert_eq!(
            r,
            Request::Module {
                module: DeviceModule::Devices,
                args: ModuleArgs {
                    container_id: CID.into(),
                    excluded: None,
                    allowed: vec![],
                }
            }
        );
    }

    const CID: &str = "container_1_0001_01_000002";
    const GPU: &str = "[gpu]\nmodule.enabled=true\n";
    const DEV: &str = "[devices]\nmodule.enabled=true\n";

    fn module_args(words: &[&str], extra: &str) -> ModuleArgs {
        match parse_words(words, extra).unwrap() {
            Request::Module { args, .. } => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn module_options_like_getopt_long() {
        let a = module_args(
            &[
                "--module-gpu",
                "--excluded_gpus",
                "0,1,31,15",
                "--container_id",
                CID,
            ],
            GPU,
        );
        assert_eq!(a.container_id, CID);
        assert_eq!(a.excluded, Some(Excluded::Minors(vec![0, 1, 31, 15])));
        // Canonical decimal only (the NodeManager writes Integer.toString): no hex, no octal.
        for bad in ["0x1f", "017", "00"] {
            assert_eq!(
                code(
                    &[
                        "--module-gpu",
                        "--excluded_gpus",
                        bad,
                        "--container_id",
                        CID
                    ],
                    GPU
                ),
                1,
                "{bad}"
            );
        }
        // --name=value, unique prefixes, short options, ignored words, `--` ends options.
        let a = module_args(
            &[
                "--module-gpu",
                "x",
                "--excl=2,,3",
                "-c",
                CID,
                "--",
                "--bogus",
            ],
            GPU,
        );
        assert_eq!(a.excluded, Some(Excluded::Minors(vec![2, 3])));
        let a = module_args(
            &["--module-gpu", "-e4", &format!("--container_id={CID}")],
            GPU,
        );
        assert_eq!(a.excluded, Some(Excluded::Minors(vec![4])));
        let a = module_args(&["--module-gpu", "--container_id", CID], GPU);
        assert_eq!(a.excluded, None);
        let a = module_args(
            &[
                "--module-devices",
                "--excluded_devices",
                "c-195:0-rwm,b-8:*-r",
                "--allowed_devices",
                "8:32",
                "--container_id",
                CID,
            ],
            DEV,
        );
        let Some(Excluded::Rules(rules)) = a.excluded else {
            panic!()
        };
        assert_eq!(rules[0].to_string(), "c 195:0 rwm");
        assert_eq!(rules[1].to_string(), "b 8:* r");
        assert_eq!(a.allowed[0].to_string(), "8:32");
    }

    #[test]
    fn module_bad_options_are_1() {
        for bad in [
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "-1",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "1x",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                " 1",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "+1",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "2147483648",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "99999999999999999999",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "0x",
                "--container_id",
                CID,
            ],
            vec![
                "--module-gpu",
                "--excluded_gpus",
                "08",
                "--container_id",
                CID,
            ],
            vec!["--module-gpu", "--bogus", "1", "--container_id", CID],
            vec!["--module-gpu", "-x", "--container_id", CID],
            vec!["--module-gpu", "--container_id"],
            vec!["--module-gpu", "--excluded_gpus", "1"],
            vec!["--module-gpu", "--container_id", "container_1_2_../x"],
            vec![
                "--module-gpu",
                "--allowed_devices",
                "1:2",
                "--container_id",
                CID,
            ],
        ] {
            assert_eq!(code(&bad, GPU), 1, "{bad:?}");
        }
        let long_id = format!("container_1_2_3_{}", "4".repeat(120));
        assert_eq!(code(&["--module-gpu", "--container_id", &long_id], GPU), 1);
        for bad in [
            "c-1:2",
            "x-1:2-rwm",
            "c-1:2-rwx",
            "c-1-2-rwm",
            "c--1:2-rwm",
            "c-1:2-rwm-",
            "c 1:2 rwm",
        ] {
            assert_eq!(
                code(
                    &[
                        "--module-devices",
                        "--excluded_devices",
                        bad,
                        "--container_id",
                        CID
                    ],
                    DEV
                ),
                1,
                "{bad}"
            );
        }
        assert_eq!(
            code(
                &[
                    "--module-devices",
                    "--allowed_devices",
                    "8:-1",
                    "--container_id",
                    CID
                ],
                DEV
            ),
            1
        );
    }

    #[test]
    fn unknown_options_fall_through_to_run_as_user() {
        assert_eq!(code(&["--bogus"], ""), 1);
        assert_eq!(code(&["--bogus", "x", "9"], ""), 3);
    }

    #[test]
    fn command_numbers() {
        assert_eq!(code(&["alice", "alice", "7"], ""), 3);
        assert_eq!(code(&["alice", "alice", "-1"], ""), 3);
        // Stricter than atoi: junk is not command 0.
        assert_eq!(code(&["alice", "alice", "abc"], ""), 3);
        assert_eq!(code(&["alice", "alice", "2x"], ""), 3);
        assert_eq!(code(&["alice", "alice", "99999999999999999999"], ""), 3);
        for bad in ["+1", "01", " 1", "1 ", "0x1", "-0", ""] {
            assert_eq!(code(&["alice", "alice", bad], ""), 3, "{bad:?}");
        }
    }

    #[test]
    fn initialize_arguments() {
        let base = [
            "alice",
            "alice",
            "0",
            "app_1",
            "container_1_0002_03_000004",
            "/nmp/t.tokens",
            "/L1%/L2",
            "/G1",
            "java",
            "-cp",
            "x",
        ];
        match unboxed(parse_words(&base, "").unwrap()) {
            Unboxed::RunAs(RunAs {
                command: RunAsCommand::Initialize(init),
                ..
            }) => {
                assert_eq!(init.container_id, "container_1_0002_03_000004");
                assert_eq!(
                    init.local_dirs,
                    vec![OsString::from("/L1"), OsString::from("/L2")]
                );
                assert_eq!(
                    init.localizer,
                    vec![
                        OsString::from("java"),
                        OsString::from("-cp"),
                        OsString::from("x")
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(code(&base[..8], ""), 1);
        let mut bad = base;
        bad[4] = "container_1_2_../x";
        assert_eq!(code(&bad, ""), 43);
        // Hadoop's C collapses runs of `_` and takes any digits; YARN never writes those.
        bad[4] = "container__1_0002_03_000004";
        assert_eq!(code(&bad, ""), 43);
        bad[4] = "container_1_2_3_4";
        assert_eq!(code(&bad, ""), 43);
        // Dir lists: an empty entry or a non-canonical dir is 5, before anything happens.
        for lists in [
            ("/L1%%/L2", "/G1"),
            ("/L1%", "/G1"),
            ("/L1", "/G1/../x"),
            ("/L1", "G1"),
        ] {
            let mut bad = base;
            bad[4] = "container_1_0002_03_000004";
            (bad[6], bad[7]) = lists;
            assert_eq!(code(&bad, ""), 5, "{lists:?}");
        }
    }

    #[test]
    fn launch_http_and_https() {
        let Unboxed::RunAs(run) = unboxed(parse_words(&launch_args(false, false), "").unwrap())
        else {
            panic!()
        };
        let RunAsCommand::Launch(l) = run.command else {
            panic!()
        };
        assert_eq!(l.https, None);
        assert_eq!(l.pid_file, PathBuf::from("/L1/nmPrivate/c.pid"));
        assert_eq!(l.resources_key, OsString::from("cgroups"));
        assert_eq!(l.resources_values, vec![OsString::from("none")]);
        assert_eq!(l.tc_command_file, None);

        let Unboxed::RunAs(run) = unboxed(parse_words(&launch_args(true, false), "").unwrap())
        else {
            panic!()
        };
        let RunAsCommand::Launch(l) = run.command else {
            panic!()
        };
        assert_eq!(l.https, Some((PathBuf::from("/ks"), PathBuf::from("/ts"))));
        assert_eq!(l.log_dirs, vec![OsString::from("/G1")]);
    }

    #[test]
    fn launch_tc_file_is_gated() {
        assert_eq!(code(&launch_args(false, true), ""), 32);
        assert_eq!(code(&launch_args(true, true), ""), 32);
        let Unboxed::RunAs(run) =
            unboxed(parse_words(&launch_args(false, true), "feature.tc.enabled=true\n").unwrap())
        else {
            panic!()
        };
        let RunAsCommand::Launch(l) = run.command else {
            panic!()
        };
        assert_eq!(l.tc_command_file, Some(PathBuf::from("/tmp/tc.cmds")));
    }

    #[test]
    fn launch_bad_shapes() {
        let mut short = launch_args(false, false);
        short.pop();
        assert_eq!(code(&short, ""), 1);
        let mut https_short = launch_args(true, false);
        https_short.truncate(13);
        assert_eq!(code(&https_short, ""), 1);
        let mut http_long = launch_args(false, true);
        http_long.push("extra");
        assert_eq!(code(&http_long, "feature.tc.enabled=true\n"), 1);
        let mut no_eq = launch_args(false, false);
        let last = no_eq.len() - 1;
        no_eq[last] = "cgroups";
        assert_eq!(code(&no_eq, ""), 1);
        // The resources check comes before the tc gate, as in Hadoop.
        let mut no_eq_tc = launch_args(false, true);
        no_eq_tc[12] = "nothing";
        assert_eq!(code(&no_eq_tc, ""), 1);
    }

    #[test]
    fn resources_key_and_values() {
        let mut v = launch_args(false, false);
        let last = v.len() - 1;
        v[last] =
            "cgroups=/sys/fs/cgroup/cpu/y/c/cgroup.procs%/sys/fs/cgroup/memory/y/c/cgroup.procs";
        let Unboxed::RunAs(run) = unboxed(parse_words(&v, "").unwrap()) else {
            panic!()
        };
        let RunAsCommand::Launch(l) = run.command else {
            panic!()
        };
        assert_eq!(l.resources_values.len(), 2);
        v[last] = "=";
        let Unboxed::RunAs(run) = unboxed(parse_words(&v, "").unwrap()) else {
            panic!()
        };
        let RunAsCommand::Launch(l) = run.command else {
            panic!()
        };
        assert_eq!(l.resources_key, OsString::new());
        assert_eq!(l.resources_values, vec![OsString::new()]);
    }

    #[test]
    fn signal_arguments() {
        let ok = parse_words(&["alice", "alice", "2", "1234", "15"], "").unwrap();
        assert_eq!(
            unboxed(ok),
            Unboxed::RunAs(RunAs {
                user: "alice".into(),
                yarn_user: "alice".into(),
                command: RunAsCommand::Signal {
                    pid: 1234,
                    signal: 15
                }
            })
        );
        assert_eq!(code(&["alice", "alice", "2", "1234"], ""), 1);
        assert_eq!(code(&["alice", "alice", "2", "1234", "15", "x"], ""), 1);
        assert_eq!(code(&["alice", "alice", "2", "12a", "15"], ""), 1);
        assert_eq!(code(&["alice", "alice", "2", "", "15"], ""), 1);
        assert_eq!(code(&["alice", "alice", "2", "12", "9 "], ""), 1);
        assert_eq!(code(&["alice", "alice", "2", "4294967297", "0"], ""), 1);
        // Canonical decimal only: no blank, sign or leading zero; signals up to 64.
        for (pid, sig) in [
            (" 1234", "15"),
            ("+1234", "15"),
            ("01234", "15"),
            ("1234", "+15"),
            ("1234", "015"),
            ("1234", "-0"),
            ("2147483648", "15"),
        ] {
            assert_eq!(
                code(&["alice", "alice", "2", pid, sig], ""),
                1,
                "{pid:?} {sig:?}"
            );
        }
    }

    #[test]
    fn delete_and_list_shapes() {
        let d = parse_words(&["alice", "alice", "3", "", "/b1", "/b2"], "").unwrap();
        assert_eq!(
            unboxed(d),
            Unboxed::RunAs(RunAs {
                user: "alice".into(),
                yarn_user: "alice".into(),
                command: RunAsCommand::Delete {
                    path: Some("".into()),
                    base_dirs: vec!["/b1".into(), "/b2".into()]
                }
            })
        );
        let d = parse_words(&["alice", "alice", "3"], "").unwrap();
        assert!(matches!(
            unboxed(d),
            Unboxed::RunAs(RunAs {
                command: RunAsCommand::Delete { path: None, .. },
                ..
            })
        ));
        let l = parse_words(&["alice", "alice", "5", "/x"], "").unwrap();
        assert!(matches!(
            unboxed(l),
            Unboxed::RunAs(RunAs {
                command: RunAsCommand::List { path: Some(_) },
                ..
            })
        ));
    }

    #[test]
    fn docker_launch_gate_then_count() {
        assert_eq!(code(&["a", "a", "4"], ""), 32);
        assert_eq!(code(&["a", "a", "4"], "feature.docker.enabled=1\n"), 1);
    }

    #[test]
    fn docker_launch_arguments() {
        let docker = "feature.docker.enabled=1\n";
        let http = [
            "u", "y", "4", "app", "cid", "/w", "/s", "/t", "--http", "/p", "/L1%/L2", "/G",
            "/c.cmd",
        ];
        let Unboxed::RunAs(RunAs {
            command: RunAsCommand::LaunchDocker(d),
            ..
        }) = unboxed(parse_words(&http, docker).unwrap())
        else {
            panic!("not a docker launch")
        };
        assert_eq!(d.command_file, PathBuf::from("/c.cmd"));
        assert_eq!(d.launch.pid_file, PathBuf::from("/p"));
        assert_eq!(d.launch.local_dirs, ["/L1", "/L2"]);
        assert_eq!(d.launch.tc_command_file, None);
        let mut with_tc = http.to_vec();
        with_tc.push("/tc");
        assert_eq!(code(&with_tc, docker), 32);
        let tc = "feature.docker.enabled=1\nfeature.tc.enabled=1\n";
        let Unboxed::RunAs(RunAs {
            command: RunAsCommand::LaunchDocker(d),
            ..
        }) = unboxed(parse_words(&with_tc, tc).unwrap())
        else {
            panic!("not a docker launch")
        };
        assert_eq!(d.launch.tc_command_file, Some(PathBuf::from("/tc")));
        let https = [
            "u", "y", "4", "app", "cid", "/w", "/s", "/t", "--https", "/k", "/ts", "/p", "/L",
            "/G", "/c.cmd",
        ];
        let Unboxed::RunAs(RunAs {
            command: RunAsCommand::LaunchDocker(d),
            ..
        }) = unboxed(parse_words(&https, docker).unwrap())
        else {
            panic!("not a docker launch")
        };
        assert_eq!(d.launch.https, Some(("/k".into(), "/ts".into())));
        assert_eq!(d.command_file, PathBuf::from("/c.cmd"));
        // --https with 14 arguments would read past argv in Hadoop.
        let mut short = https.to_vec();
        short.truncate(14);
        assert_eq!(code(&short, docker), 1);
    }

    #[test]
    fn sysfs_needs_its_arguments() {
        // Enabled: the count is checked; disabled: the command answers 32 after the user check.
        assert_eq!(
            code(&["a", "a", "6", "app"], "feature.yarn.sysfs.enabled=1\n"),
            1
        );
        assert!(parse_words(&["a", "a", "6"], "").is_ok());
        assert!(parse_words(&["a", "a", "6", "app", "/L1"], "").is_ok());
    }

    #[test]
    fn lists_split_like_hadoop() {
        assert_eq!(
            split_os_list(OsStr::new("%%"), '%'),
            vec![OsString::from("%%")]
        );
        assert_eq!(split_os_list(OsStr::new(""), '%'), vec![OsString::new()]);
        assert_eq!(
            split_os_list(OsStr::new("%/a%%/b%"), '%'),
            vec![OsString::from("/a"), OsString::from("/b")]
        );
        let raw = OsStr::from_bytes(b"/\xff%/b");
        assert_eq!(split_os_list(raw, '%').len(), 2);
    }

    #[test]
    fn usage_text_all_disabled_matches_hadoop() {
        let text = usage_text(&cfg(""));
        let expected = "Usage: container-executor --checksetup
       container-executor --mount-cgroups <hierarchy> <controller=path>...
[DISABLED] container-executor --tc-modify-state <command-file>
[DISABLED] container-executor --tc-read-state <command-file>
[DISABLED] container-executor --tc-read-stats <command-file>
[DISABLED] container-executor --exec-container <command-file>
[DISABLED] container-executor --run-docker <command-file>
[DISABLED] container-executor --remove-docker-container [hierarchy] <container_id>
[DISABLED] container-executor --inspect-docker-container <container_id>
[DISABLED] container-executor --run-runc-container <command-file>
[DISABLED] container-executor --reap-runc-layer-mounts <retain-count>
       container-executor <user> <yarn-user> <command> <command-args>
       where command and command-args: 
            initialize container:   0 appid containerid tokens nm-local-dirs nm-log-dirs cmd...
            launch container:       1 appid containerid workdir container-script tokens http-option pidfile nm-local-dirs nm-log-dirs resources 
                                      where http-option is one of:
                                      --http
                                      --https keystorepath truststorepath
 [DISABLED] launch docker container: 4 appid containerid workdir container-script tokens http-option pidfile nm-local-dirs nm-log-dirs docker-command-file resources 
                                      where http-option is one of:
                                      --http
                                      --https keystorepath truststorepath
            signal container:       2 container-pid signal
            delete as user:         3 relative-path
            list as user:           5 relative-path
[DISABLED]  sync yarn sysfs:        6 app-id nm-local-dirs
";
        assert_eq!(text, expected);
    }

    #[test]
    fn usage_text_all_enabled() {
        let text = usage_text(&cfg("feature.tc.enabled=1\nfeature.terminal.enabled=1\nfeature.docker.enabled=1\nfeature.runc.enabled=1\nfeature.yarn.sysfs.enabled=1\n"));
        assert!(!text.contains("[DISABLED]"));
        assert!(text.contains("resources optional-tc-command-file\n"));
        assert!(text.contains("\n            launch docker container: 4"));
        assert!(text.contains("\n            sync yarn sysfs:        6"));
    }

    #[test]
    fn human_requests_only_alone() {
        assert_eq!(human_request(&argv(&["--help"])), Some(HumanRequest::Help));
        assert_eq!(human_request(&argv(&["-V"])), Some(HumanRequest::Version));
        assert_eq!(human_request(&argv(&["--help", "x"])), None);
        assert_eq!(human_request(&argv(&["--checksetup"])), None);
    }
}

#[cfg(test)]
mod argv_size_tests {
    use super::*;

    fn argv(parts: &[&[u8]]) -> Vec<OsString> {
        parts
            .iter()
            .map(|p| OsStr::from_bytes(p).to_os_string())
            .collect()
    }

    #[test]
    fn bounds_are_enforced_with_code_1() {
        let big = vec![b'a'; MAX_ARG_BYTES];
        assert!(check_argv_size(&argv(&[b"ce", &big])).is_ok());
        let too_big = vec![b'a'; MAX_ARG_BYTES + 1];
        let e = check_argv_size(&argv(&[b"ce", &too_big])).unwrap_err();
        assert_eq!(e.code().number(), 1);
        assert!(e.to_string().contains("Argument 1 is too long"));
        let many: Vec<&[u8]> = vec![b"x"; MAX_ARGS + 1];
        assert!(check_argv_size(&argv(&many)).is_err());
        let chunk = vec![b'b'; MAX_ARG_BYTES];
        let total: Vec<&[u8]> = vec![&chunk[..]; MAX_ARGV_BYTES / MAX_ARG_BYTES + 1];
        let e = check_argv_size(&argv(&total)).unwrap_err();
        assert!(e.to_string().contains("in all"));
    }
}
