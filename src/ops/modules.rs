//! Device modules: `--module-gpu`, `--module-fpga`, `--module-devices` (`docs/protocol.md` §7,
//! `docs/layout.md` §11). The options were checked by `cli::parse_module_args`; here the
//! configuration is read and the `devices.deny` lines are appended to
//! `<[cgroups] root>/devices/<[cgroups] yarn-hierarchy>/<container id>/devices.deny`.
//!
//! Hadoop builds that path as a string and `fopen`s it as root. We open the configured root, then
//! walk every component below it with `O_NOFOLLOW` directory descriptors, open the existing file
//! `O_NOFOLLOW` (never created), and write only if the opened file is on a cgroup filesystem.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{
    parse_device_count, parse_device_number, split_tokens, DeviceModule, DeviceNumber, Excluded,
    ModuleArgs,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fs::{self, DirFd};
use crate::identity;
use crate::out;

pub const CGROUPS_SECTION: &str = "cgroups";
pub const CGROUPS_ROOT_KEY: &str = "root";
pub const CGROUPS_YARN_HIERARCHY_KEY: &str = "yarn-hierarchy";
const DEVICES_CONTROLLER: &str = "devices";
const DENY_FILE: &str = "devices.deny";

/// Hadoop's default major numbers (Nvidia GPUs, Intel FPGAs).
const DEFAULT_GPU_MAJOR: u32 = 195;
const DEFAULT_FPGA_MAJOR: u32 = 246;

/// Hadoop's limit on the built cgroup file path.
const MAX_CGROUP_PATH: usize = 4096;

pub fn run_module(config: &Config, module: DeviceModule, args: ModuleArgs) -> Result<i32> {
    let Some(excluded) = args.excluded else {
        out::err(match module {
            DeviceModule::Gpu => "--excluded_gpus is not specified, skip cgroups call.",
            // Hadoop spells this one with a hyphen.
            DeviceModule::Fpga => "--excluded-fpgas is not specified, skip cgroups call.",
            DeviceModule::Devices => "--excluded_devices is not specified, skip cgroups call.",
        });
        return Ok(0);
    };
    let lines = match excluded {
        // Nothing to deny: Hadoop returns before reading any configuration.
        Excluded::Minors(minors) if minors.is_empty() => return Ok(0),
        Excluded::Minors(minors) => minor_lines(config, module, &minors)?,
        Excluded::Rules(rules) => {
            let mut lines = configured_denials(config, &rules, &args.allowed)?;
            lines.extend(rules.iter().map(|r| r.to_string()));
            lines
        }
    };
    if lines.is_empty() {
        return Ok(0);
    }
    write_deny_lines(config, &args.container_id, &lines)?;
    Ok(0)
}

/// gpu/fpga: `c <major>:<minor> rwm` for each minor, each minor on the configured allow-list.
fn minor_lines(config: &Config, module: DeviceModule, minors: &[u32]) -> Result<Vec<String>> {
    let section = module.section();
    let (default_major, major_key, allowed_key) = match module {
        DeviceModule::Fpga => (
            DEFAULT_FPGA_MAJOR,
            "fpga.major-device-number",
            "fpga.allowed-device-minor-numbers",
        ),
        _ => (
            DEFAULT_GPU_MAJOR,
            "gpu.major-device-number",
            "gpu.allowed-device-minor-numbers",
        ),
    };
    let major = match config.get(section, major_key).filter(|v| !v.is_empty()) {
        None => default_major,
        Some(v) => parse_device_count(v).ok_or_else(|| {
            Error::Failed(format!("Invalid value set for {major_key}, value={v}"))
        })?,
    };
    if let Some(list) = config.get(section, allowed_key).filter(|v| !v.is_empty()) {
        let allowed: Vec<u32> = split_tokens(list)
            .map(parse_device_count)
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Error::Failed(format!(
                    "Failed to get allowed minor device numbers from cfg, value={list}"
                ))
            })?;
        if let Some(bad) = minors.iter().find(|m| !allowed.contains(m)) {
            return Err(Error::Failed(format!(
                "Trying to blacklist device with minor-number={bad} which is not on allowed list"
            )));
        }
    }
    Ok(minors
        .iter()
        .map(|m| format!("c {major}:{m} rwm"))
        .collect())
}

/// devices: `[devices] devices.denied-numbers` may not be re-allowed by `--allowed_devices`, and
/// each one not already in the excluded rules is denied (`b` if `/sys/dev/block/M:m` exists,
/// else `c`). Hadoop compares these as substrings (so `8:1` matches `8:16` and a configured
/// denial can be skipped); we compare the numbers.
fn configured_denials(
    config: &Config,
    rules: &[crate::cli::DeviceRule],
    allowed: &[DeviceNumber],
) -> Result<Vec<String>> {
    let key = "devices.denied-numbers";
    let Some(list) = config.get(DeviceModule::Devices.section(), key) else {
        return Ok(Vec::new());
    };
    let denied: Vec<DeviceNumber> = split_tokens(list)
        .map(parse_device_number)
        .collect::<Option<_>>()
        .ok_or_else(|| Error::Failed(format!("Invalid value set for {key}, value={list}")))?;
    if let Some(bad) = allowed.iter().find(|a| denied.contains(a)) {
        return Err(Error::Failed(format!(
            "Trying to allow device with device number={bad} which is not permitted in container-executor.cfg. It could be caused by a mismatch of devices reported by device plugin"
        )));
    }
    Ok(denied
        .iter()
        .filter(|d| !rules.iter().any(|r| r.number == **d))
        .map(|d| {
            let kind = if is_block_device(d) { 'b' } else { 'c' };
            format!("{kind} {d} rwm")
        })
        .collect())
}

/// Whether `/sys/dev/block/<major>:<minor>` exists (a plain check on a kernel-made name built
/// from validated numbers; a wildcard is never a block device here).
fn is_block_device(number: &DeviceNumber) -> bool {
    match (number.major, number.minor) {
        (Some(major), Some(minor)) => {
            Path::new(&format!("/sys/dev/block/{major}:{minor}")).exists()
        }
        _ => false,
    }
}

/// Open `<root>/devices/<yarn-hierarchy>/<id>/devices.deny` through descriptors and append each
/// line with its own write (one rule per write, as the kernel parses them). Any failure is −1.
fn write_deny_lines(config: &Config, container_id: &str, lines: &[String]) -> Result<()> {
    let (mut file, shown) = identity::as_root(|| open_deny_file(config, container_id))??;
    for line in lines {
        out::err(&format!(
            "CGroups: Updating cgroups, path={}, value={line}",
            shown.display()
        ));
        file.write_all(line.as_bytes()).map_err(|e| {
            Error::Failed(format!(
                "CGroups: Failed to write cgroups file, {} - {why}\nCGroups: Failed to update cgroups",
                shown.display(), why = crate::out::os_text(&e)))
        })?;
    }
    Ok(())
}

fn open_deny_file(config: &Config, container_id: &str) -> Result<(File, PathBuf)> {
    let fail = |why: String| Error::Failed(why);
    let setting = |key: &str| {
        config
            .get(CGROUPS_SECTION, key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                fail(format!(
                    "{key} is not defined in container-executor.cfg\nFailed to get cgroups path to write, it should be a configuration issue"
                ))
            })
    };
    let root = setting(CGROUPS_ROOT_KEY)?;
    let hierarchy = setting(CGROUPS_YARN_HIERARCHY_KEY)?;
    let shown = PathBuf::from(format!(
        "{root}/{DEVICES_CONTROLLER}/{hierarchy}/{container_id}/{DENY_FILE}"
    ));
    if shown.as_os_str().len() >= MAX_CGROUP_PATH {
        return Err(fail(format!("CGroups path too long: {}", shown.display())));
    }
    let mut below: Vec<&str> = vec![DEVICES_CONTROLLER];
    for part in hierarchy.split('/').filter(|p| !p.is_empty()) {
        if part == "." || part == ".." {
            return Err(fail(format!(
                "CGroups: Path {} contains a '.' or '..' component",
                shown.display()
            )));
        }
        below.push(part);
    }
    below.push(container_id);
    let not_found = |e: std::io::Error| {
        fail(format!(
            "CGroups: Could not find file to write, {} - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
        ))
    };
    let mut dir = DirFd::open_root(Path::new(root)).map_err(not_found)?;
    for part in below {
        dir = dir.open_dir(OsStr::new(part)).map_err(not_found)?;
    }
    let file = dir.open_append(OsStr::new(DENY_FILE)).map_err(|e| {
        fail(format!(
            "CGroups: Failed to open cgroups file, {} - {why}",
            shown.display(),
            why = crate::out::os_text(&e)
        ))
    })?;
    if !fs::is_on_cgroup_fs(std::os::fd::AsFd::as_fd(&file)).unwrap_or(false) {
        return Err(fail(format!(
            "CGroups: {} is not on a cgroup filesystem",
            shown.display()
        )));
    }
    Ok((file, shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse_device_rule;

    fn cfg(text: &str) -> Config {
        Config::parse(
            format!("yarn.nodemanager.linux-container-executor.group=g\n{text}").as_bytes(),
            "t.cfg",
        )
        .unwrap()
    }

    #[test]
    fn configured_denials_match_numbers_not_substrings() {
        let config = cfg("[devices]\ndevices.denied-numbers=1:8,1:1\n");
        let rules = vec![parse_device_rule("c-1:18-rwm").unwrap()];
        // Hadoop's strstr would skip 1:8 and 1:1 here (both are inside "c 1:18 rwm").
        let lines = configured_denials(&config, &rules, &[]).unwrap();
        assert_eq!(lines, vec!["c 1:8 rwm", "c 1:1 rwm"]);
        // Exactly the same number is not written twice.
        let rules = vec![parse_device_rule("c-1:8-r").unwrap()];
        assert_eq!(
            configured_denials(&config, &rules, &[]).unwrap(),
            vec!["c 1:1 rwm"]
        );
        // "1:18" contains "1:1" and "1:8" but allowing it is not re-allowing either.
        let allowed = [parse_device_number("1:18").unwrap()];
        assert!(configured_denials(&config, &[], &allowed).is_ok());
        let allowed = [parse_device_number("1:8").unwrap()];
        assert_eq!(
            configured_denials(&config, &[], &allowed)
                .unwrap_err()
                .code()
                .number(),
            -1
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        let config = cfg("[devices]\ndevices.denied-numbers=1:x\n");
        assert!(configured_denials(&config, &[], &[]).is_err());
        let config = cfg("[gpu]\ngpu.major-device-number=-5\n");
        assert!(minor_lines(&config, DeviceModule::Gpu, &[0]).is_err());
        let config = cfg("[gpu]\ngpu.allowed-device-minor-numbers=0,z\n");
        assert!(minor_lines(&config, DeviceModule::Gpu, &[0]).is_err());
        let config = cfg("[fpga]\nfpga.major-device-number=0x10\n");
        assert_eq!(
            minor_lines(&config, DeviceModule::Fpga, &[2]).unwrap(),
            vec!["c 16:2 rwm"]
        );
        assert_eq!(
            minor_lines(&cfg(""), DeviceModule::Gpu, &[1]).unwrap(),
            vec!["c 195:1 rwm"]
        );
    }
}
