//! The NodeManager's docker command file (`DockerClient.writeCommandToTempFile`):
//!
//! ```text
//! [docker-command-execution]
//!   docker-command=run
//!   image=...
//!   launch-command=bash,/path/launch_container.sh
//! ```
//!
//! Hadoop reads it with its configuration parser, which keeps duplicate keys (first wins),
//! accepts any key, cuts a value at its second `=`, and takes values with control characters.
//! Here the file is parsed strictly: one section header, known keys only (the ones the
//! NodeManager writes for the file's `docker-command`), each key once, no `=` or control
//! character in a value, valid UTF-8. Anything else refuses the whole file.

use super::{Refusal, INVALID_DOCKER_COMMAND_FILE, UNKNOWN_DOCKER_COMMAND};

pub const SECTION: &str = "docker-command-execution";

/// Largest command file read (beyond Hadoop; the NodeManager's are well under 4 KiB even with
/// dozens of mounts).
pub const MAX_COMMAND_FILE_BYTES: usize = 64 * 1024;

/// The docker sub-commands Hadoop knows, each with the keys the NodeManager writes for it
/// (`docker/*Command.java`) besides `docker-command` and `docker-config`.
const COMMANDS: &[(&str, &[&str])] = &[
    ("inspect", &["name", "format"]),
    ("kill", &["name", "signal"]),
    ("stop", &["name", "time"]),
    ("rm", &["name", "hierarchy"]),
    ("start", &["name"]),
    ("pull", &["image"]),
    ("load", &["image"]),
    ("images", &["image"]),
    ("volume", &["sub-command", "volume", "driver", "format"]),
    ("exec", &["name", "launch-command", "interactive", "tty"]),
    (
        "run",
        &[
            "name",
            "user",
            "image",
            "rm",
            "detach",
            "workdir",
            "net",
            "pid",
            "mounts",
            "tmpfs",
            "volume-driver",
            "cgroup-parent",
            "privileged",
            "cap-drop",
            "cap-add",
            "hostname",
            "devices",
            "ports-mapping",
            "runtime",
            "group-add",
            "launch-command",
            "use-entry-point",
            "log-dir",
            "service-mode",
            "use-yarn-sysfs",
            "environ",
        ],
    ),
];

/// A parsed, key-checked command file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFile {
    command: String,
    entries: Vec<(String, String)>,
}

fn bad(detail: impl Into<String>) -> Refusal {
    Refusal::new(INVALID_DOCKER_COMMAND_FILE, detail)
}

impl CommandFile {
    pub fn parse(bytes: &[u8]) -> Result<CommandFile, Refusal> {
        if bytes.len() > MAX_COMMAND_FILE_BYTES {
            return Err(bad(format!(
                "docker command file is larger than {MAX_COMMAND_FILE_BYTES} bytes"
            )));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| bad("docker command file is not valid UTF-8"))?;
        let mut header_seen = false;
        let mut entries: Vec<(String, String)> = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let number = index + 1;
            if raw.chars().any(|c| c.is_control() && c != '\t') {
                return Err(bad(format!(
                    "line {number} of the docker command file holds a control character"
                )));
            }
            let line = raw.trim_matches([' ', '\t']);
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                if header_seen || line != format!("[{SECTION}]") {
                    return Err(bad(format!(
                        "line {number}: expected the single header [{SECTION}], found '{line}'"
                    )));
                }
                header_seen = true;
                continue;
            }
            if !header_seen {
                return Err(bad(format!(
                    "line {number}: entry before the [{SECTION}] header"
                )));
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(bad(format!("line {number}: no '=' in '{line}'")));
            };
            let key = key.trim_matches([' ', '\t']);
            let value = value.trim_matches([' ', '\t']);
            if key == "docker.binary" {
                return Err(bad(
                    "docker.binary is taken from container-executor.cfg only, never from a command file",
                ));
            }
            if value.contains('=') {
                return Err(bad(format!(
                    "line {number}: the value of {key} holds a second '='"
                )));
            }
            if entries.iter().any(|(k, _)| k == key) {
                return Err(bad(format!("line {number}: duplicate key {key}")));
            }
            entries.push((key.to_string(), value.to_string()));
        }
        if !header_seen {
            return Err(bad(format!("no [{SECTION}] section")));
        }
        let command = entries
            .iter()
            .find(|(k, _)| k == "docker-command")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| bad("no docker-command key"))?;
        let Some((_, keys)) = COMMANDS.iter().find(|(name, _)| *name == command) else {
            return Err(Refusal::new(
                UNKNOWN_DOCKER_COMMAND,
                format!("unknown docker-command '{command}'"),
            ));
        };
        for (key, _) in &entries {
            let known =
                key == "docker-command" || key == "docker-config" || keys.contains(&key.as_str());
            if !known {
                return Err(bad(format!(
                    "key '{key}' is not one the NodeManager writes for docker-command={command}"
                )));
            }
        }
        Ok(CommandFile { command, entries })
    }

    /// The `docker-command` value (one of Hadoop's sub-commands).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The value of `key`; None when absent or empty (Hadoop drops `key=` lines).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The value split on ',' (empty items dropped, as Hadoop's strtok split); None if absent.
    pub fn list(&self, key: &str) -> Option<Vec<&str>> {
        let items: Vec<&str> = self
            .get(key)?
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        (!items.is_empty()).then_some(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CommandFile, Refusal> {
        CommandFile::parse(text.as_bytes())
    }

    #[test]
    fn the_nodemanagers_layout_parses() {
        let f = parse(
            "[docker-command-execution]\n  docker-command=inspect\n  format={{.State.Status}}\n  name=container_1_2_3_4\n",
        )
        .unwrap();
        assert_eq!(f.command(), "inspect");
        assert_eq!(f.get("format"), Some("{{.State.Status}}"));
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn lists_split_on_commas() {
        let f = parse("[docker-command-execution]\ndocker-command=run\nlaunch-command=bash,,-c,x\ngroup-add=\n").unwrap();
        assert_eq!(f.list("launch-command").unwrap(), ["bash", "-c", "x"]);
        assert_eq!(f.list("group-add"), None);
    }

    #[test]
    fn strictness() {
        let code = |t: &str| parse(t).unwrap_err().code;
        let h = "[docker-command-execution]\n";
        assert_eq!(code(""), INVALID_DOCKER_COMMAND_FILE);
        assert_eq!(code("docker-command=rm\n"), INVALID_DOCKER_COMMAND_FILE);
        assert_eq!(code(&format!("{h}name=x\n")), INVALID_DOCKER_COMMAND_FILE);
        assert_eq!(
            code(&format!("{h}docker-command=bogus\n")),
            UNKNOWN_DOCKER_COMMAND
        );
        assert_eq!(
            code(&format!("{h}docker-command=RM\n")),
            UNKNOWN_DOCKER_COMMAND
        );
        for body in [
            "docker-command=rm\nname=a\nname=b\n",
            "docker-command=rm\nimage=x\n",
            "docker-command=rm\ndocker.binary=/bin/sh\n",
            "docker-command=rm\nname=a=b\n",
            "docker-command=rm\nname=a\r\n",
            "docker-command=rm\nname=a\u{1b}b\n",
            "docker-command=rm\n[other]\n",
            "docker-command=rm\nnoequals\n",
        ] {
            assert_eq!(
                code(&format!("{h}{body}")),
                INVALID_DOCKER_COMMAND_FILE,
                "{body}"
            );
        }
        let big = format!(
            "{h}docker-command=rm\n{}",
            " ".repeat(MAX_COMMAND_FILE_BYTES)
        );
        assert_eq!(code(&big), INVALID_DOCKER_COMMAND_FILE);
        assert!(parse(&format!("{h}docker-command=rm\nname=a")).is_ok());
    }
}
