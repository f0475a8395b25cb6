//! `--help` and `--version`, for people. Built with clap so the text is laid out like any other
//! modern CLI; the NodeManager's positional argv is parsed by `cli`, never by clap.

use crate::cli::HumanRequest;
use crate::out;
use crate::setup::{config_candidate, CONF_DIR};

pub const HADOOP_BASELINE: &str = "Apache Hadoop 3.4 / trunk 6cc743eac6 (YARN-11690)";

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
             container-executor --mount-cgroups | --tc-* | --exec-container | --module-* ...",
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
             \x20 4. the caller is root or a member of the NodeManager group;\n\
             \x20 5. for run-as-user commands: the user is not root, exists, is at or above min.user.id\n\
             \x20    (unless in allowed.system.users) and is not in banned.users.\n\
             `container-executor --checksetup` runs these checks and exits 0 when the node is set up correctly.\n\
             Exit codes follow Hadoop's (22: binary permissions, 24: configuration, 32: feature disabled, ...)."
        ))
        .disable_help_flag(true)
        .disable_version_flag(true)
}

pub fn print(request: HumanRequest) {
    let text = match request {
        HumanRequest::Help => command().render_long_help().to_string(),
        HumanRequest::Version => format!(
            "container-executor {}\nconfiguration: {}\nfollows: {HADOOP_BASELINE}\n",
            env!("CARGO_PKG_VERSION"),
            config_candidate()
        ),
    };
    out::log_raw(text.as_bytes());
}
