//! Traffic control: `--tc-modify-state|--tc-read-state|--tc-read-stats <file>` and the optional
//! tc file of a launch (`docs/protocol.md` §3, `docs/layout.md` §11), behind `feature.tc.enabled`.
//!
//! Hadoop hands `/sbin/tc` the caller's path and lets it open it as root. We open the command
//! file with the NodeManager's identity, check it on the descriptor (a regular file owned by the
//! NodeManager, not writable by group or others), and give tc that descriptor (`/dev/fd/N`), so
//! root never reads a path the caller chose. tc runs by absolute path with a fixed environment.
//!
//! Beyond Hadoop, which hands tc whatever the file holds: every line must be one of the commands
//! YARN's `TrafficController` writes ([`check_yarn_commands`]), all for one device; anything
//! else is refused with 28 and tc never runs. tc reads a sealed in-memory copy of exactly the
//! bytes that were checked.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use nix::fcntl::{fcntl, FcntlArg, FdFlag, SealFlag};

use crate::cli::TcAction;
use crate::error::{Error, Result};
use crate::identity::NmIdentity;
use crate::out;
use crate::process;
use crate::sys::{self, Forked};

pub const TC_BINARY: &str = "/sbin/tc";
const TC_ENV: &str = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

/// Largest tc command file handed to tc as root (beyond Hadoop; real ones are a few KiB).
pub const MAX_TC_COMMAND_BYTES: u64 = 1 << 20;

pub fn run_traffic_control(nm: NmIdentity, action: TcAction, command_file: &Path) -> Result<i32> {
    let fail = |why: String| {
        out::log("failed to execute tc command!");
        Error::TrafficControl(why)
    };
    let file = super::dirs::open_as_nm(nm, command_file)?.ok_or_else(|| {
        fail(format!(
            "Can't open tc command file {}",
            command_file.display()
        ))
    })?;
    let meta = file.metadata().map_err(|e| {
        fail(format!(
            "Can't stat {} - {why}",
            command_file.display(),
            why = crate::out::os_text(&e)
        ))
    })?;
    if !super::dirs::written_only_by_nm(&meta, nm) {
        return Err(fail(format!(
            "tc command file {} must be owned by the NodeManager and not group- or world-writable",
            command_file.display()
        )));
    }
    if meta.len() > MAX_TC_COMMAND_BYTES {
        return Err(fail(format!(
            "tc command file {} is larger than {MAX_TC_COMMAND_BYTES} bytes",
            command_file.display()
        )));
    }
    let mut text = Vec::new();
    (&file)
        .take(MAX_TC_COMMAND_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| fail(format!("Can't read {} - {e}", command_file.display())))?;
    if let Err(why) = check_yarn_commands(&text) {
        return Err(fail(format!(
            "tc command file {} holds a command YARN's traffic controller never writes: {why}",
            command_file.display()
        )));
    }
    // tc reads the bytes just checked, from a sealed memory file, never the NM's file again
    // (which its owner could rewrite between the check and tc's read).
    let frozen = frozen_copy(&text)
        .map_err(|e| fail(format!("Can't make a sealed copy of the commands - {e}")))?;
    let file = frozen;
    let fd_path = format!("/dev/fd/{}", file.as_raw_fd());
    let mut argv = vec![TC_BINARY];
    if action == TcAction::ReadStats {
        argv.push("-s");
    }
    argv.extend(["-b", fd_path.as_str()]);
    let argv: Vec<CString> = argv.iter().filter_map(|a| CString::new(*a).ok()).collect();
    let env = [CString::new(TC_ENV).unwrap_or_default()];
    match sys::fork().map_err(|e| fail(format!("fork failed - {}", e.desc())))? {
        Forked::Child => {
            process::reset_signals_for_exec();
            let _ = sys::cloexec_inherited_fds();
            let _ = fcntl(file.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()));
            let Err(e) = nix::unistd::execve(&argv[0], &argv, &env);
            out::log(&format!(
                "failed to execute tc command! error: {}",
                e.desc()
            ));
            std::process::exit(28)
        }
        Forked::Parent(child) => match process::wait_exit_status(child) {
            Ok(0) => Ok(0),
            Ok(_) => Err(fail("tc exited with an error".into())),
            Err(e) => Err(fail(format!("waiting for tc failed - {}", e.desc()))),
        },
    }
}

/// A sealed memory file holding `text`, positioned at its start: nobody can change it after the
/// check, and tc opens it through `/dev/fd/N`.
fn frozen_copy(text: &[u8]) -> std::io::Result<std::fs::File> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let name = c"cexec-tc-commands";
    let fd = memfd_create(
        name,
        MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(text)?;
    fcntl(
        file.as_raw_fd(),
        FcntlArg::F_ADD_SEALS(
            SealFlag::F_SEAL_WRITE
                | SealFlag::F_SEAL_GROW
                | SealFlag::F_SEAL_SHRINK
                | SealFlag::F_SEAL_SEAL,
        ),
    )?;
    Ok(file)
}

/// YARN's qdisc handle (`TrafficController.ROOT_QDISC_HANDLE`).
const YARN_HANDLE: &str = "42";
/// Container class ids: `MIN_CONTAINER_CLASS_ID` (4) up to 4 + `MAX_CONTAINER_CLASSES` (1024) - 1.
const CONTAINER_CLASSES: std::ops::RangeInclusive<u32> = 4..=1027;

/// Whether every line of a tc batch file is one YARN's `TrafficController` writes, exactly as it
/// formats it (single spaces, `\n` line ends), all on one device:
///
/// - `qdisc add dev D root handle 42: htb default 2`
/// - `filter add dev D parent 42: protocol ip prio 10 handle 1: cgroup`
/// - `class add dev D parent 42:P classid 42:C htb rate Rmbit ceil Cmbit`, with P:C one of 0:1,
///   1:2, 1:3 (root, default and YARN classes) or 3:N for a container class N in 4..=1027
/// - `class del dev D classid 42:N`, N a container class
/// - `qdisc del dev D parent root`
/// - `qdisc show dev D`, `filter show dev D`, `class show dev D`
///
/// The error is the first offending line (number and text, escaped).
pub fn check_yarn_commands(text: &[u8]) -> std::result::Result<(), String> {
    let text = std::str::from_utf8(text).map_err(|_| "the file is not text".to_string())?;
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return Err("the file holds no command".into());
    }
    let mut device: Option<&str> = None;
    for (index, line) in body.split('\n').enumerate() {
        let bad = |why: &str| {
            format!(
                "line {}: {why}: '{}'",
                index + 1,
                out::escape_controls(line)
            )
        };
        let words: Vec<&str> = line.split(' ').collect();
        if words.len() < 4 || words[2] != "dev" {
            return Err(bad("not a tc command on a device"));
        }
        let dev = words[3];
        if !valid_device_name(dev) {
            return Err(bad("not a device name"));
        }
        match device {
            None => device = Some(dev),
            Some(first) if first != dev => {
                return Err(bad(&format!("a second device (the first is {first})")))
            }
            Some(_) => {}
        }
        if !yarn_form(&words[..2], &words[4..]) {
            return Err(bad("not a command YARN writes"));
        }
    }
    Ok(())
}

/// The words before and after `dev D` form one of YARN's commands.
fn yarn_form(verb: &[&str], rest: &[&str]) -> bool {
    match (verb, rest) {
        (["qdisc", "add"], ["root", "handle", handle, "htb", "default", "2"]) => {
            *handle == format!("{YARN_HANDLE}:")
        }
        (
            ["filter", "add"],
            ["parent", parent, "protocol", "ip", "prio", "10", "handle", "1:", "cgroup"],
        ) => *parent == format!("{YARN_HANDLE}:"),
        (
            ["class", "add"],
            ["parent", parent, "classid", class, "htb", "rate", rate, "ceil", ceil],
        ) => {
            let (Some(p), Some(c)) = (yarn_class(parent), yarn_class(class)) else {
                return false;
            };
            let tree = matches!((p, c), (0, 1) | (1, 2) | (1, 3))
                || (p == 3 && CONTAINER_CLASSES.contains(&c));
            tree && mbit(rate) && mbit(ceil)
        }
        (["class", "del"], ["classid", class]) => {
            yarn_class(class).is_some_and(|c| CONTAINER_CLASSES.contains(&c))
        }
        (["qdisc", "del"], ["parent", "root"]) => true,
        (["qdisc" | "filter" | "class", "show"], []) => true,
        _ => false,
    }
}

/// `42:N` with N in canonical decimal: N.
fn yarn_class(word: &str) -> Option<u32> {
    let minor = word.strip_prefix(YARN_HANDLE)?.strip_prefix(':')?;
    canonical_decimal(minor)
}

/// A rate as YARN writes it: a canonical decimal number of megabits, `<n>mbit`.
fn mbit(word: &str) -> bool {
    word.strip_suffix("mbit")
        .and_then(canonical_decimal)
        .is_some()
}

/// Digits only, no sign, no leading zero (except `0` itself), within u32.
fn canonical_decimal(text: &str) -> Option<u32> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// A Linux interface name (1 to 15 bytes, not `.`/`..`) of the characters real ones use: no `/`,
/// `:`, whitespace, quote, `#` or backslash, which tc's batch parser or the kernel treat specially.
fn valid_device_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::check_yarn_commands;

    /// What YARN's TrafficController writes, on one device, for its bootstrap, a container, the
    /// state and stats reads and the wipe.
    const YARN_FILES: [&str; 6] = [
        "qdisc add dev eth0 root handle 42: htb default 2\n\
         filter add dev eth0 parent 42: protocol ip prio 10 handle 1: cgroup\n\
         class add dev eth0 parent 42:0 classid 42:1 htb rate 1000mbit ceil 1000mbit\n\
         class add dev eth0 parent 42:1 classid 42:2 htb rate 300mbit ceil 1000mbit\n\
         class add dev eth0 parent 42:1 classid 42:3 htb rate 700mbit ceil 700mbit\n",
        "class add dev eth0 parent 42:3 classid 42:4 htb rate 50mbit ceil 700mbit\n",
        "class del dev eth0 classid 42:1027\n",
        "qdisc show dev eth0\nfilter show dev eth0\nclass show dev eth0\n",
        "class show dev eth0\n",
        "qdisc del dev eth0 parent root\n",
    ];

    #[test]
    fn yarns_own_commands_pass() {
        for text in YARN_FILES {
            assert_eq!(check_yarn_commands(text.as_bytes()), Ok(()), "{text}");
        }
        assert_eq!(check_yarn_commands(b"class show dev br-0.1@x"), Ok(()));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "\n",
            "qdisc add dev eth0 root netem delay 100ms\n",
            "qdisc add dev eth0 root handle 42: htb default 2\nqdisc add dev eth0 parent 42:3 handle 5: netem loss 100%\n",
            "filter add dev eth0 parent 42: bpf obj /tmp/x.o\n",
            "filter add dev eth0 parent 42: protocol ip prio 10 handle 1: bpf\n",
            "qdisc show dev eth0\nqdisc show dev eth1\n",
            "qdisc  show dev eth0\n",
            "qdisc show dev eth0 \n",
            "qdisc show dev eth0\n\n",
            "qdisc show dev eth0\r\n",
            "action add action drop\n",
            "qdisc replace dev eth0 root handle 42: htb default 2\n",
            "class change dev eth0 parent 42:3 classid 42:4 htb rate 50mbit ceil 700mbit\n",
            "class add dev eth0 parent 42:3 classid 42:1028 htb rate 50mbit ceil 700mbit\n",
            "class add dev eth0 parent 42:3 classid 42:04 htb rate 50mbit ceil 700mbit\n",
            "class add dev eth0 parent 42:3 classid 42:4 htb rate 50kbit ceil 700mbit\n",
            "class add dev eth0 parent 42:2 classid 42:4 htb rate 50mbit ceil 700mbit\n",
            "class add dev eth0 parent 42:3 classid 42:4 htb rate 50mbit ceil 700mbit burst 1\n",
            "class del dev eth0 classid 42:1\n",
            "qdisc add dev eth0 root handle 43: htb default 2\n",
            "qdisc show dev a/b\n",
            "qdisc show dev #x\n",
            "qdisc show dev verylongdevicename\n",
            "qdisc del dev eth0 root\n",
            "-force qdisc show dev eth0\n",
        ] {
            assert!(check_yarn_commands(text.as_bytes()).is_err(), "accepted {text:?}");
        }
    }
}
