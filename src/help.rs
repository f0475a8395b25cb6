//! `--help` and `--version`, for people. Built with clap so the text is laid out like any other
//! modern CLI; the NodeManager's positional argv is parsed by `cli`, never by clap.

use crate::cli::HumanRequest;
use crate::out;
use crate::setup::{config_candidate, CONF_DIR};

/// The Hadoop tree whose behaviour this build follows: trunk at 6cc743eac6, whose pom.xml says
/// 3.5.0-SNAPSHOT (the line after 3.4).
pub const HADOOP_BASELINE: &str = "Apache Hadoop trunk 6cc743eac6 (3.5.0-SNAPSHOT, after 3.4)";

/// What this build can do, for `--version`: (feature, state). Kept next to the code that
/// implements each one: a branch that implements a feature changes its line here.
pub const FEATURES: &[(&str, &str)] = &[
    ("run-as-user commands 0,1,2,3,5,6", "built in"),
    (
        "traffic control (--tc-*, launch tc file)",
        "built in; gated by feature.tc.enabled",
    ),
    (
        "--mount-cgroups (v1 controllers, cgroup2=<path>)",
        "built in; gated by feature.mount-cgroup.enabled",
    ),
    (
        "--exec-container (non-Docker and Docker forms)",
        "built in; gated by feature.terminal.enabled (Docker form: and the docker gate)",
    ),
    (
        "device modules (--module-gpu/-fpga/-devices)",
        "built in; gated by [gpu]/[fpga]/[devices] module.enabled",
    ),
    (
        "Docker (command 4, --run-docker, --inspect/--remove-docker-container)",
        "built in; gated by feature.docker.enabled or [docker] module.enabled",
    ),
    ("runC", "not supported (refused after its feature gate)"),
    ("caller pinning (nm-user key)", "built in (beyond Hadoop)"),
    (
        "operator subcommands run/signal/list/delete",
        "built in (beyond Hadoop)",
    ),
    (
        "explaining --checksetup (terminal or --verbose)",
        "built in (beyond Hadoop)",
    ),
];

fn command() -> clap::Command {
    let config_rule = if CONF_DIR.starts_with('/') {
        format!("{} (absolute, fixed at build time)", config_candidate())
    } else {
        format!(
            "<directory of this executable>/{} (fixed at build time; resolved from /proc/self/exe)",
            config_candidate()
        )
    };
    clap::Command::new("container-executor")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Launch, signal, list and clean up YARN containers as the submitting user (setuid root).")
        .override_usage(
            "container-executor --checksetup\n       \
             container-executor <run-as-user> <yarn-user> <command> <command-args...>\n       \
             container-executor --mount-cgroups | --tc-* | --exec-container | --module-* ...\n       \
             container-executor run|signal|list|delete --user <user> ...   (operator commands)",
        )
        .after_help(format!(
            "The NodeManager (LinuxContainerExecutor) calls this binary with positional arguments:\n\
             \x20 <user> <yarn-user> 0 <app-id> <container-id> <tokens> <local-dirs> <log-dirs> <localizer argv...>   initialize\n\
             \x20 <user> <yarn-user> 1 <app-id> <container-id> <work-dir> <script> <tokens> --http|--https <ks> <ts>\n\
             \x20                      <pid-file> <local-dirs> <log-dirs> <resources> [<tc-file>]                   launch\n\
             \x20 <user> <yarn-user> 2 <pid> <signal>                                                            signal\n\
             \x20 <user> <yarn-user> 3 <path> [<base-dir>...]                                                     delete as user\n\
             \x20 <user> <yarn-user> 5 <dir>                                                                      list as user\n\
             \x20 <user> <yarn-user> 6 <app-id> <local-dirs>                                                      sync yarn sysfs\n\
             Directory lists are separated by '%'. Run without arguments for Hadoop's usage text.\n\n\
             Optional modes, each off until container-executor.cfg enables it:\n\
             \x20 --mount-cgroups <hierarchy> <controller=path>...   feature.mount-cgroup.enabled ('cgroup2=<path>' mounts cgroup v2)\n\
             \x20 --tc-modify-state|--tc-read-state|--tc-read-stats <file>   feature.tc.enabled\n\
             \x20 --exec-container <file>                            feature.terminal.enabled (non-Docker form)\n\
             \x20 --module-gpu|--module-fpga|--module-devices --container_id <id> [--excluded_* <list>] [--allowed_devices <list>]\n\
             \x20                                                    [gpu]/[fpga]/[devices] module.enabled=true, [cgroups] root, yarn-hierarchy\n\n\
             Configuration: {config_rule}\n\n\
             Every invocation first checks, in Hadoop's order:\n\
             \x20 1. the config file and each parent directory are owned by root and not group/other-writable;\n\
             \x20 2. the config parses and names the NodeManager group (yarn.nodemanager.linux-container-executor.group);\n\
             \x20 3. this binary is owned by root, group-owned by that group, mode 6050 (setuid+setgid,\n\
             \x20    not group-writable, nothing for others but read);\n\
             \x20 4. the caller is root or a member of the NodeManager group, and, when\n\
             \x20    yarn.nodemanager.linux-container-executor.nm-user is set, root or that user (beyond Hadoop);\n\
             \x20 5. for run-as-user commands: the user is not root, exists, is at or above min.user.id\n\
             \x20    (unless in allowed.system.users) and is not in banned.users.\n\
             `container-executor --checksetup` runs these checks and exits 0 when the node is set up correctly;\n\
             on a terminal, or with --verbose, it prints every check, what it saw, what it expected and the fix\n\
             (add --local-dir D / --log-dir D to check the NodeManager's directories too).\n\n\
             Operator commands (same checks, same requests as the NodeManager's argv; --user comes first):\n\
             \x20 run    --user U --script FILE --local-dir D... --log-dir D... [--private-dir D]\n\
             \x20 signal --user U --pid PID [--signal TERM]\n\
             \x20 list   --user U --dir DIR\n\
             \x20 delete --user U --path PATH [--base-dir D]...\n\
             See `container-executor run --help` and the README.\n\n\
             Exit codes follow Hadoop's (22: binary permissions, 24: configuration, 32: feature disabled, ...)."
        ))
        .disable_help_flag(true)
        .disable_version_flag(true)
}

pub fn version_text() -> String {
    let mut text = format!(
        "container-executor {}\nconfiguration: {}{}\nfollows: {HADOOP_BASELINE}\nfeatures:\n",
        env!("CARGO_PKG_VERSION"),
        config_candidate(),
        if CONF_DIR.starts_with('/') {
            ""
        } else {
            " (relative to the executable's directory)"
        }
    );
    for (feature, state) in FEATURES {
        text.push_str(&format!("  {feature}: {state}\n"));
    }
    text
}

pub fn print(request: HumanRequest) {
    let text = match request {
        HumanRequest::Help => command().render_long_help().to_string(),
        HumanRequest::Version => version_text(),
    };
    out::log_raw(text.as_bytes());
}
