//! Docker: the command file, the `[docker]` policy and the docker argv (`protocol.md` §8,
//! `config.md` §4.2). Pure: nothing here touches the system except through [`Host`], so every
//! rule is unit-tested. The modes that run docker live in `ops::docker`.
//!
//! The argv is a vector handed to `execve`; no value ever meets a shell. Values still have to
//! pass a grammar for their key (names, images, networks, paths...), so a metacharacter never
//! even reaches docker — except `launch-command`, whose items are the program and arguments run
//! *inside* the container and are passed as separate argv items, verbatim.

pub mod command_file;
pub mod resolve;

use crate::config::Config;
pub use command_file::CommandFile;

// Hadoop's docker result codes (`util.h`); any of them ends the command with exit 29.
pub const INVALID_MOUNT: i32 = 49;
pub const INVALID_RO_MOUNT: i32 = 50;
pub const INVALID_RW_MOUNT: i32 = 51;
pub const MOUNT_ACCESS_ERROR: i32 = 52;
pub const INVALID_DOCKER_COMMAND_FILE: i32 = 53;
pub const INCORRECT_DOCKER_COMMAND: i32 = 54;
pub const INVALID_DOCKER_CONTAINER_NAME: i32 = 55;
pub const INVALID_DOCKER_IMAGE_NAME: i32 = 56;
pub const INVALID_DOCKER_USER_NAME: i32 = 57;
pub const INVALID_DOCKER_INSPECT_FORMAT: i32 = 58;
pub const UNKNOWN_DOCKER_COMMAND: i32 = 59;
pub const INVALID_DOCKER_NETWORK: i32 = 60;
pub const INVALID_DOCKER_PORTS_MAPPING: i32 = 61;
pub const INVALID_DOCKER_CAPABILITY: i32 = 62;
pub const PRIVILEGED_DOCKER_CONTAINERS_DISABLED: i32 = 63;
pub const INVALID_DOCKER_DEVICE: i32 = 64;
pub const INVALID_DOCKER_STOP_COMMAND: i32 = 65;
pub const INVALID_DOCKER_KILL_COMMAND: i32 = 66;
pub const INVALID_DOCKER_VOLUME_DRIVER: i32 = 67;
pub const INVALID_DOCKER_VOLUME_NAME: i32 = 68;
pub const INVALID_DOCKER_VOLUME_COMMAND: i32 = 69;
pub const DOCKER_PID_HOST_DISABLED: i32 = 70;
pub const INVALID_DOCKER_PID_NAMESPACE: i32 = 71;
pub const INVALID_DOCKER_TMPFS_MOUNT: i32 = 73;
pub const INVALID_DOCKER_RUNTIME: i32 = 74;
pub const DOCKER_SERVICE_MODE_DISABLED: i32 = 75;

pub const SECTION: &str = "docker";
pub const DEFAULT_DOCKER_BINARY: &str = "/usr/bin/docker";
pub const DEFAULT_INSPECT_RETRIES: u32 = 10;

/// The inspect formats the NodeManager uses (and Hadoop accepts).
pub const INSPECT_FORMATS: [&str; 4] = [
    "{{.State.Status}}",
    "{{range(.NetworkSettings.Networks)}}{{.IPAddress}},{{end}}{{.Config.Hostname}}",
    "{{json .NetworkSettings.Ports}}",
    "{{.State.Status}},{{.Config.StopSignal}}",
];

/// Why a docker command was refused: Hadoop's code and our explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: i32,
    pub detail: String,
}

impl Refusal {
    pub fn new(code: i32, detail: impl Into<String>) -> Refusal {
        Refusal {
            code,
            detail: detail.into(),
        }
    }

    /// Hadoop's text for the code (`get_error_message`).
    pub fn text(&self) -> &'static str {
        match self.code {
            INVALID_MOUNT => "Invalid mount",
            INVALID_RO_MOUNT => "Invalid read-only mount",
            INVALID_RW_MOUNT => "Invalid read-write mount",
            MOUNT_ACCESS_ERROR => "Mount access error",
            INVALID_DOCKER_COMMAND_FILE => "Invalid docker command file passed",
            INCORRECT_DOCKER_COMMAND => "Incorrect command",
            INVALID_DOCKER_CONTAINER_NAME => "Invalid docker container name",
            INVALID_DOCKER_IMAGE_NAME => "Invalid docker image name",
            INVALID_DOCKER_USER_NAME => "Invalid docker user name",
            INVALID_DOCKER_INSPECT_FORMAT => "Invalid docker inspect format",
            UNKNOWN_DOCKER_COMMAND => "Unknown docker command",
            INVALID_DOCKER_NETWORK => "Invalid docker network",
            INVALID_DOCKER_PORTS_MAPPING => "Invalid docker ports mapping",
            INVALID_DOCKER_CAPABILITY => "Invalid docker capability",
            PRIVILEGED_DOCKER_CONTAINERS_DISABLED => "Privileged docker containers are disabled",
            INVALID_DOCKER_DEVICE => "Invalid docker device",
            INVALID_DOCKER_STOP_COMMAND => "Invalid docker stop command",
            INVALID_DOCKER_KILL_COMMAND => "Invalid docker kill command",
            INVALID_DOCKER_VOLUME_DRIVER => "Invalid docker volume-driver",
            INVALID_DOCKER_VOLUME_NAME => "Invalid docker volume name",
            INVALID_DOCKER_VOLUME_COMMAND => "Invalid docker volume command",
            DOCKER_PID_HOST_DISABLED => "Docker host pid namespace is disabled",
            INVALID_DOCKER_PID_NAMESPACE => "Invalid docker pid namespace",
            INVALID_DOCKER_TMPFS_MOUNT => "Invalid docker tmpfs mount",
            INVALID_DOCKER_RUNTIME => "Invalid docker runtime",
            DOCKER_SERVICE_MODE_DISABLED => "Docker service mode disabled",
            _ => "Unknown error code",
        }
    }

    /// The lines Hadoop prints (its detail, then `Error constructing docker command ...`).
    pub fn message(&self) -> String {
        format!(
            "{}\nError constructing docker command, docker error code={}, error message='{}'",
            self.detail,
            self.code,
            self.text()
        )
    }
}

type Checked<T> = Result<T, Refusal>;

/// `[docker]` keys as Hadoop reads them.
pub struct Policy<'a> {
    config: &'a Config,
}

fn truthy(value: Option<&str>) -> bool {
    value.is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

impl<'a> Policy<'a> {
    pub fn new(config: &'a Config) -> Policy<'a> {
        Policy { config }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.config.get(SECTION, key)
    }

    fn list(&self, key: &str) -> Vec<String> {
        self.config
            .get(SECTION, key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `[docker] docker.binary`, else the top-level key, else `/usr/bin/docker`; it must be an
    /// absolute path (Hadoop would search the inherited PATH for a relative one).
    pub fn docker_binary(&self) -> Checked<String> {
        let binary = self
            .get("docker.binary")
            .or_else(|| self.config.get("", "docker.binary"))
            .unwrap_or(DEFAULT_DOCKER_BINARY);
        if !binary.starts_with('/') || binary.contains("/../") || binary.ends_with("/..") {
            return Err(Refusal::new(
                INVALID_DOCKER_COMMAND_FILE,
                format!("docker.binary '{binary}' must be an absolute path without '..'"),
            ));
        }
        Ok(binary.to_string())
    }

    /// `docker.inspect.max.retries` (Hadoop's atoi; at least one try here).
    pub fn inspect_retries(&self) -> u32 {
        self.get("docker.inspect.max.retries")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map_or(DEFAULT_INSPECT_RETRIES, |n| n.max(1))
    }

    fn trusted(&self, image: &str, privileged: bool) -> bool {
        let mut registries = Vec::new();
        if privileged {
            registries = self.list("docker.privileged-containers.registries");
        }
        if registries.is_empty() {
            registries = self.list("docker.trusted.registries");
        }
        registries.iter().any(|r| {
            if r == "library" {
                !image.contains('/')
            } else {
                let prefix = if r.ends_with('/') {
                    r.clone()
                } else {
                    format!("{r}/")
                };
                image.starts_with(&prefix)
            }
        })
    }
}

// ---- grammars -------------------------------------------------------------------------------

fn is_container_name(name: &str) -> bool {
    name.starts_with("container_") && crate::ids::is_valid_container_id(name)
}

fn name_of(file: &CommandFile) -> Checked<&str> {
    match file.get("name") {
        Some(n) if is_container_name(n) => Ok(n),
        other => Err(Refusal::new(
            INVALID_DOCKER_CONTAINER_NAME,
            format!("Specified container_id={} is invalid", other.unwrap_or("")),
        )),
    }
}

/// Hadoop's image grammar `^(([a-zA-Z0-9.-]+)(:[0-9]+)?/)?([a-z0-9_./-]+)(:[a-zA-Z0-9_.-]+)?$`.
pub fn is_image_name(image: &str) -> bool {
    fn repo_and_tag(s: &str) -> bool {
        let (repo, tag) = match s.split_once(':') {
            Some((r, t)) => (r, Some(t)),
            None => (s, None),
        };
        !repo.is_empty()
            && repo
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'/' | b'-'))
            && tag.map_or(true, |t| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            })
    }
    fn registry(s: &str) -> bool {
        let (host, port) = match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
            && port.map_or(true, |p| {
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
            })
    }
    // Beyond Hadoop's grammar: a leading '-' would read as an option to docker.
    if !image
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return false;
    }
    if repo_and_tag(image) {
        return true;
    }
    match image.split_once('/') {
        Some((reg, rest)) => registry(reg) && repo_and_tag(rest),
        None => false,
    }
}

/// A path we hand docker: absolute, no `.`/`..` component, a conservative character set.
fn is_plain_path(p: &str) -> bool {
    p.starts_with('/')
        && p.split('/').all(|c| c != "." && c != "..")
        && p.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+' | b'@')
        })
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn bool_key(file: &CommandFile, key: &str, code: i32) -> Checked<bool> {
    match file.get(key) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Refusal::new(
            code,
            format!("{key} must be true or false, not '{other}'"),
        )),
    }
}

fn is_ports_mapping(m: &str) -> bool {
    let num = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    let ipv4 = |s: &str| {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                num(p)
                    && p.len() <= 3
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
                    && (p.len() == 1 || !p.starts_with('0'))
            })
    };
    let parts: Vec<&str> = m.split(':').collect();
    match parts.as_slice() {
        ["", port] => num(port),
        [a, b] => num(a) && num(b),
        [ip, a, b] => ipv4(ip) && num(a) && num(b),
        _ => false,
    }
}

// ---- the simple sub-commands ------------------------------------------------------------------

/// Start of every argv: the binary and the optional `--config=<dir>`.
fn head(policy: &Policy, file: &CommandFile) -> Checked<Vec<String>> {
    let mut argv = vec![policy.docker_binary()?];
    if let Some(dir) = file.get("docker-config") {
        if !is_plain_path(dir) {
            return Err(Refusal::new(
                INVALID_DOCKER_COMMAND_FILE,
                format!("docker-config '{dir}' is not a plain absolute path"),
            ));
        }
        argv.push(format!("--config={dir}"));
    }
    Ok(argv)
}

/// The argv of the sub-commands `--run-docker` runs for the NodeManager: inspect, kill, stop,
/// rm, pull, load, images, volume. `run`, `start` and `exec` belong to the launch and the
/// terminal, which know the user (Hadoop runs them here too, as root, for any caller's file).
pub fn run_docker_argv(policy: &Policy, file: &CommandFile) -> Checked<Vec<String>> {
    let mut argv = head(policy, file)?;
    let command = file.command();
    match command {
        "inspect" => {
            let name = name_of(file)?;
            let format = file.get("format").unwrap_or("");
            if !INSPECT_FORMATS.contains(&format) {
                return Err(Refusal::new(
                    INVALID_DOCKER_INSPECT_FORMAT,
                    format!("Invalid format option '{format}' not permitted"),
                ));
            }
            argv.extend(["inspect".into(), format!("--format={format}"), name.into()]);
        }
        "kill" => {
            let name = name_of(file)?;
            argv.push("kill".into());
            if let Some(signal) = file.get("signal") {
                if signal.len() > 16 || !signal.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(Refusal::new(
                        INVALID_DOCKER_KILL_COMMAND,
                        format!("Value for signal contains non-uppercase characters '{signal}'"),
                    ));
                }
                argv.push(format!("--signal={signal}"));
            }
            argv.push(name.into());
        }
        "stop" => {
            let name = name_of(file)?;
            argv.push("stop".into());
            if let Some(time) = file.get("time") {
                if time.len() > 9 || !time.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Refusal::new(
                        INVALID_DOCKER_STOP_COMMAND,
                        format!("Value for time is not a number '{time}'"),
                    ));
                }
                argv.push(format!("--time={time}"));
            }
            argv.push(name.into());
        }
        "rm" => {
            let name = name_of(file)?;
            argv.extend(["rm".into(), "-f".into(), name.into()]);
        }
        "pull" | "load" | "images" => {
            let image = file.get("image");
            let valid = image.is_some_and(is_image_name);
            if !(valid || (command == "images" && image.is_none())) {
                return Err(Refusal::new(
                    INVALID_DOCKER_IMAGE_NAME,
                    format!("'{}' is not a valid image name", image.unwrap_or("")),
                ));
            }
            match command {
                "pull" => argv.extend(["pull".into(), image.unwrap_or_default().into()]),
                "load" => {
                    argv.extend(["load".into(), format!("--i={}", image.unwrap_or_default())])
                }
                _ => {
                    argv.push("images".into());
                    if let Some(image) = image {
                        argv.push(image.into());
                    }
                    argv.extend([
                        "--format={{json .}}".into(),
                        "--filter=dangling=false".into(),
                    ]);
                }
            }
        }
        "volume" => volume_argv(policy, file, &mut argv)?,
        other => {
            return Err(Refusal::new(
                INCORRECT_DOCKER_COMMAND,
                format!("docker-command={other} is not run through --run-docker"),
            ))
        }
    }
    Ok(argv)
}

fn volume_argv(policy: &Policy, file: &CommandFile, argv: &mut Vec<String>) -> Checked<()> {
    match file.get("sub-command") {
        Some("create") => {
            let volume = file.get("volume").unwrap_or("");
            let first_ok = volume.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
            if !first_ok || !is_word(volume) {
                return Err(Refusal::new(
                    INVALID_DOCKER_VOLUME_NAME,
                    format!("{volume} is not a valid volume name."),
                ));
            }
            let driver = file.get("driver").unwrap_or("");
            if !policy.list("docker.allowed.volume-drivers").iter().any(|d| d == driver) {
                return Err(Refusal::new(
                    INVALID_DOCKER_VOLUME_DRIVER,
                    format!("{driver} is not permitted docker.allowed.volume-drivers"),
                ));
            }
            argv.extend([
                "volume".into(),
                "create".into(),
                format!("--name={volume}"),
                format!("--driver={driver}"),
            ]);
        }
        Some("ls") => {
            argv.extend(["volume".into(), "ls".into()]);
            if let Some(format) = file.get("format") {
                let ok = format.len() <= 256
                    && format.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'{' | b'}' | b'.' | b',' | b' ' | b'_')
                    });
                if !ok {
                    return Err(Refusal::new(
                        INVALID_DOCKER_VOLUME_COMMAND,
                        format!("volume ls format '{format}' not permitted"),
                    ));
                }
                argv.push(format!("--format={format}"));
            }
        }
        other => {
            return Err(Refusal::new(
                INVALID_DOCKER_VOLUME_COMMAND,
                format!(
                    "\"create/ls\" are the only acceptable sub-command of volume, input sub_command=\"{}\"",
                    other.unwrap_or("")
                ),
            ))
        }
    }
    Ok(())
}

/// `docker exec -it <name> <launch-command...>` (the Docker form of `--exec-container`).
pub fn exec_argv(policy: &Policy, file: &CommandFile) -> Checked<Vec<String>> {
    if file.command() != "exec" {
        return Err(Refusal::new(
            INCORRECT_DOCKER_COMMAND,
            "docker-command is not exec",
        ));
    }
    let mut argv = head(policy, file)?;
    let name = name_of(file)?;
    let launch = file
        .list("launch-command")
        .ok_or_else(|| Refusal::new(INVALID_DOCKER_COMMAND_FILE, "launch-command is missing"))?;
    argv.extend(["exec".into(), "-it".into(), name.into()]);
    argv.extend(launch.iter().map(|s| s.to_string()));
    Ok(argv)
}

/// `docker start <name>` (a relaunch through command 4).
pub fn start_argv(policy: &Policy, file: &CommandFile, container_id: &str) -> Checked<Vec<String>> {
    let mut argv = head(policy, file)?;
    let name = name_of(file)?;
    if name != container_id {
        return Err(Refusal::new(
            INVALID_DOCKER_CONTAINER_NAME,
            format!("name {name} is not the container id {container_id}"),
        ));
    }
    argv.extend(["start".into(), name.into()]);
    Ok(argv)
}

// ---- docker run -------------------------------------------------------------------------------

/// What the system answers for the run policy (the real one lives in `ops::docker`).
pub trait Host {
    /// The canonical path of `path` (every symlink resolved) and whether it is a directory.
    fn resolve(&self, path: &str) -> Result<(String, bool), String>;
    /// The driver of a docker network (`docker network inspect`), to decide on `-P`.
    fn network_driver(&self, network: &str) -> Result<String, String>;
}

/// Who the container runs as and where it lives.
pub struct RunFor<'a> {
    pub container_id: &'a str,
    pub user_name: &'a str,
    pub uid: u32,
    pub gid: u32,
    /// Every gid the user is a member of (primary included).
    pub user_gids: &'a [u32],
    /// The user's group names (for the privileged-container check).
    pub user_group_names: &'a [String],
    /// The directory holding the command file; `environ` must be a file in it.
    pub command_dir: &'a str,
    /// Canonical directories no mount may reach: the config dir, every `<L>/nmPrivate`.
    pub config_dir: &'a str,
    pub nm_private_dirs: &'a [String],
}

/// A checked `docker run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    pub argv: Vec<String>,
    pub entry_point: bool,
}

fn within(path: &str, dir: &str) -> bool {
    path == dir || dir == "/" || path.starts_with(&format!("{dir}/"))
}

struct Mount {
    src: String,
    dst: String,
    rw: bool,
    options: Vec<String>,
}

fn parse_mount(text: &str) -> Checked<Mount> {
    let invalid = || Refusal::new(INVALID_MOUNT, format!("Invalid docker mount '{text}'"));
    let parts: Vec<&str> = text.split(':').collect();
    let [src, dst, opts] = parts.as_slice() else {
        return Err(invalid());
    };
    let mut options = Vec::new();
    let mut rw = None;
    for (i, o) in opts.split('+').enumerate() {
        match (i, o) {
            (0, "rw") => rw = Some(true),
            (0, "ro") => rw = Some(false),
            (1, "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate") => {}
            _ => return Err(invalid()),
        }
        options.push(o.to_string());
    }
    let src_ok = is_plain_path(src) || (is_word(src) && src.as_bytes()[0].is_ascii_alphanumeric());
    if !src_ok || !is_plain_path(dst) {
        return Err(invalid());
    }
    Ok(Mount {
        src: src.to_string(),
        dst: dst.to_string(),
        rw: rw.ok_or_else(invalid)?,
        options,
    })
}

/// Check one mount on its resolved source against the allow-lists and the forbidden places.
fn check_mount(
    m: &Mount,
    ro_allowed: &[(String, bool)],
    rw_allowed: &[(String, bool)],
    run: &RunFor,
    host: &dyn Host,
) -> Checked<String> {
    let kind = if m.rw {
        INVALID_RW_MOUNT
    } else {
        INVALID_RO_MOUNT
    };
    let refuse = |why: String| {
        Refusal::new(
            kind,
            format!(
                "Configuration does not allow mount src='{}', dest='{}': {why}",
                m.src, m.dst
            ),
        )
    };
    if !m.src.starts_with('/') {
        // A named volume: only an exact entry allows it.
        let named = |list: &[(String, bool)]| list.iter().any(|(e, _)| *e == m.src);
        let ok = named(rw_allowed) || (!m.rw && named(ro_allowed));
        return if ok {
            Ok(m.src.clone())
        } else {
            Err(refuse("the volume is not allowed".into()))
        };
    }
    let (real, _) = host.resolve(&m.src).map_err(|e| {
        Refusal::new(
            INVALID_MOUNT,
            format!("Could not determine real path of mount '{}': {e}", m.src),
        )
    })?;
    if real.split('/').any(|c| c == crate::layout::NM_PRIVATE) {
        return Err(refuse(format!("{real} is in an nmPrivate directory")));
    }
    for private in run.nm_private_dirs {
        if within(&real, private) || within(private, &real) {
            return Err(refuse(format!("{real} reaches {private}")));
        }
    }
    if within(&real, run.config_dir) || (m.rw && within(run.config_dir, &real)) {
        return Err(refuse(format!(
            "{real} reaches the container-executor configuration directory {}",
            run.config_dir
        )));
    }
    let allows = |list: &[(String, bool)]| {
        list.iter()
            .any(|(entry, is_dir)| real == *entry || (*is_dir && within(&real, entry)))
    };
    let ok = allows(rw_allowed) || (!m.rw && allows(ro_allowed));
    if !ok {
        return Err(refuse(format!(
            "{real} is not under a docker.allowed.{}-mounts entry",
            if m.rw { "rw" } else { "ro" }
        )));
    }
    Ok(real)
}

/// The allow-list entries resolved on disk (Hadoop: an unresolvable entry fails every mount).
/// `regex:` entries are not supported and are skipped.
fn allowed_mounts(policy: &Policy, key: &str, host: &dyn Host) -> Checked<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for entry in policy.list(key) {
        if entry.starts_with("regex:") {
            crate::out::err(&format!(
                "{key}: regex entries are not supported, ignoring '{entry}'"
            ));
        } else if entry.starts_with('/') {
            let resolved = host.resolve(&entry).map_err(|e| {
                Refusal::new(
                    MOUNT_ACCESS_ERROR,
                    format!("Unable to find permitted mount {entry} on disk: {e}"),
                )
            })?;
            out.push(resolved);
        } else {
            out.push((entry, false));
        }
    }
    Ok(out)
}

/// Build `docker run` for command 4. With `resolve_mounts` false, mounts are only checked for
/// their syntax (the launch checks everything else before it creates any directory, then the
/// mounts once the container's directories exist).
pub fn run_argv(
    policy: &Policy,
    file: &CommandFile,
    run: &RunFor,
    host: &dyn Host,
    resolve_mounts: bool,
) -> Checked<RunPlan> {
    if file.command() != "run" {
        return Err(Refusal::new(
            INCORRECT_DOCKER_COMMAND,
            "docker-command is not run",
        ));
    }
    let invalid_file = |d: String| Refusal::new(INVALID_DOCKER_COMMAND_FILE, d);
    if bool_key(file, "service-mode", DOCKER_SERVICE_MODE_DISABLED)? {
        return Err(Refusal::new(
            DOCKER_SERVICE_MODE_DISABLED,
            "service-mode is not supported: the container always runs as the run-as user",
        ));
    }
    let entry_point = bool_key(file, "use-entry-point", INVALID_DOCKER_COMMAND_FILE)?;
    let name = name_of(file)?;
    if name != run.container_id {
        return Err(Refusal::new(
            INVALID_DOCKER_CONTAINER_NAME,
            format!("name {name} is not the container id {}", run.container_id),
        ));
    }
    let user = file
        .get("user")
        .ok_or_else(|| Refusal::new(INVALID_DOCKER_USER_NAME, "user is missing"))?;
    let ids = format!("{}:{}", run.uid, run.gid);
    if user != ids && user != run.user_name {
        return Err(Refusal::new(
            INVALID_DOCKER_USER_NAME,
            format!(
                "user {user} is not the run-as user {} ({ids})",
                run.user_name
            ),
        ));
    }
    let image = file.get("image").unwrap_or("");
    if !is_image_name(image) {
        return Err(Refusal::new(
            INVALID_DOCKER_IMAGE_NAME,
            format!("'{image}' is not a valid image name"),
        ));
    }
    let privileged = bool_key(file, "privileged", PRIVILEGED_DOCKER_CONTAINERS_DISABLED)?;
    let trusted = policy.trusted(image, privileged);

    let mut argv = head(policy, file)?;
    argv.push("run".into());
    argv.push(format!("--name={name}"));
    if !privileged {
        argv.push(format!("--user={ids}"));
        if truthy(policy.get("docker.no-new-privileges.enabled")) {
            argv.push("--security-opt=no-new-privileges".into());
        }
    }
    if bool_key(file, "detach", INVALID_DOCKER_COMMAND_FILE)? {
        argv.push("-d".into());
    }
    if bool_key(file, "rm", INVALID_DOCKER_COMMAND_FILE)? {
        argv.push("--rm".into());
    }
    if let Some(dir) = file.get("workdir") {
        if !is_plain_path(dir) {
            return Err(invalid_file(format!(
                "workdir '{dir}' is not a plain absolute path"
            )));
        }
        argv.push(format!("--workdir={dir}"));
    }
    // Network: allowed for any image (as Hadoop); -P on a bridge without ports-mapping.
    let ports = file.list("ports-mapping");
    if let Some(net) = file.get("net") {
        if !is_word(net)
            || !policy
                .list("docker.allowed.networks")
                .iter()
                .any(|n| n == net)
        {
            return Err(Refusal::new(
                INVALID_DOCKER_NETWORK,
                format!("network '{net}' is not in docker.allowed.networks"),
            ));
        }
        let driver = match net {
            "host" | "none" => net.to_string(),
            _ => host.network_driver(net).map_err(|e| {
                Refusal::new(
                    INVALID_DOCKER_NETWORK,
                    format!("Could not inspect docker network {net}: {e}"),
                )
            })?,
        };
        argv.push(format!("--net={net}"));
        if driver.eq_ignore_ascii_case("bridge") && ports.is_none() {
            argv.push("-P".into());
        }
    }
    for mapping in ports.unwrap_or_default() {
        if !is_ports_mapping(mapping) {
            return Err(Refusal::new(
                INVALID_DOCKER_PORTS_MAPPING,
                format!("Invalid port mappings: {mapping}."),
            ));
        }
        argv.extend(["-p".into(), mapping.into()]);
    }
    match file.get("pid") {
        None => {}
        Some("host") if truthy(policy.get("docker.host-pid-namespace.enabled")) => {
            argv.push("--pid=host".into())
        }
        Some("host") => {
            return Err(Refusal::new(
                DOCKER_PID_HOST_DISABLED,
                "Host pid namespace is disabled",
            ))
        }
        Some(other) => {
            return Err(Refusal::new(
                INVALID_DOCKER_PID_NAMESPACE,
                format!("Invalid pid namespace '{other}'"),
            ))
        }
    }
    // Mounts: parsed always; dropped for an untrusted image (as Hadoop), else resolved + checked.
    let mounts = file
        .list("mounts")
        .unwrap_or_default()
        .into_iter()
        .map(parse_mount)
        .collect::<Checked<Vec<_>>>()?;
    if !mounts.is_empty() && !trusted {
        crate::out::err("Disable mount volume for untrusted image");
    } else if resolve_mounts && !mounts.is_empty() {
        let ro = allowed_mounts(policy, "docker.allowed.ro-mounts", host)?;
        let rw = allowed_mounts(policy, "docker.allowed.rw-mounts", host)?;
        for m in &mounts {
            let src = check_mount(m, &ro, &rw, run, host)?;
            argv.extend([
                "-v".into(),
                format!("{src}:{}:{}", m.dst, m.options.join(",")),
            ]);
        }
    }
    for tmpfs in file.list("tmpfs").unwrap_or_default() {
        if !is_plain_path(tmpfs) {
            return Err(Refusal::new(
                INVALID_DOCKER_TMPFS_MOUNT,
                format!("Invalid docker tmpfs mount '{tmpfs}'"),
            ));
        }
        argv.extend(["--tmpfs".into(), tmpfs.into()]);
    }
    if let Some(parent) = file.get("cgroup-parent") {
        if !is_plain_path(parent) {
            return Err(invalid_file(format!(
                "cgroup-parent '{parent}' is not a plain path"
            )));
        }
        argv.push(format!("--cgroup-parent={parent}"));
    }
    if privileged {
        let enabled = truthy(policy.get("docker.privileged-containers.enabled"));
        let why = if !enabled {
            Some("Privileged containers are disabled")
        } else if !entry_point {
            Some("Privileged containers are disabled for non-entry-point mode")
        } else if !trusted {
            Some("Privileged containers are disabled from untrusted source")
        } else if !run
            .user_group_names
            .iter()
            .any(|g| g == "root" || g == "docker")
        {
            Some("Privileged containers are disabled for this user (not in group root or docker)")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Refusal::new(PRIVILEGED_DOCKER_CONTAINERS_DISABLED, why));
        }
        argv.push("--privileged".into());
    }
    // Capabilities: all dropped, then only allowed ones (none for an untrusted image).
    if let Some(drop) = file.get("cap-drop") {
        if drop != "ALL" {
            return Err(Refusal::new(
                INVALID_DOCKER_CAPABILITY,
                format!("cap-drop must be ALL, not '{drop}'"),
            ));
        }
    }
    argv.push("--cap-drop=ALL".into());
    let caps = file.list("cap-add").unwrap_or_default();
    if !caps.is_empty() && !trusted {
        crate::out::err("Docker capability disabled for untrusted image");
    } else {
        let allowed = policy.list("docker.allowed.capabilities");
        for cap in caps {
            let valid = cap.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
            if !valid || !allowed.iter().any(|a| a == cap) {
                return Err(Refusal::new(
                    INVALID_DOCKER_CAPABILITY,
                    format!("capability '{cap}' is not in docker.allowed.capabilities"),
                ));
            }
            argv.push(format!("--cap-add={cap}"));
        }
    }
    if let Some(runtime) = file.get("runtime") {
        if !trusted {
            return Err(Refusal::new(
                INVALID_DOCKER_RUNTIME,
                "Disable runtime for untrusted image",
            ));
        }
        if !is_word(runtime)
            || !policy
                .list("docker.allowed.runtimes")
                .iter()
                .any(|r| r == runtime)
        {
            return Err(Refusal::new(
                INVALID_DOCKER_RUNTIME,
                format!("runtime '{runtime}' is not in docker.allowed.runtimes"),
            ));
        }
        argv.push(format!("--runtime={runtime}"));
    }
    if let Some(hostname) = file.get("hostname") {
        if !is_word(hostname) {
            return Err(invalid_file(format!(
                "hostname '{hostname}' is not a host name"
            )));
        }
        argv.push(format!("--hostname={hostname}"));
    }
    if !privileged {
        for group in file.list("group-add").unwrap_or_default() {
            let gid = group
                .parse::<u32>()
                .ok()
                .filter(|g| run.user_gids.contains(g));
            let Some(gid) = gid else {
                return Err(invalid_file(format!(
                    "group-add {group} is not a group id of {}",
                    run.user_name
                )));
            };
            argv.extend(["--group-add".into(), gid.to_string()]);
        }
    }
    let devices = file.list("devices").unwrap_or_default();
    if !devices.is_empty() && !trusted {
        return Err(Refusal::new(
            INVALID_DOCKER_DEVICE,
            "Disable devices for untrusted image",
        ));
    }
    let allowed_devices = policy.list("docker.allowed.devices");
    for device in devices {
        let parts: Vec<&str> = device.split(':').collect();
        let perms_ok =
            |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b"rwm".contains(&b));
        let shape = match parts.as_slice() {
            [src, dst] => is_plain_path(src) && is_plain_path(dst),
            [src, dst, perms] => is_plain_path(src) && is_plain_path(dst) && perms_ok(perms),
            _ => false,
        };
        if !shape || !allowed_devices.iter().any(|d| d == parts[0]) {
            return Err(Refusal::new(
                INVALID_DOCKER_DEVICE,
                format!("device '{device}' is not in docker.allowed.devices"),
            ));
        }
        argv.push(format!("--device={device}"));
    }
    if let Some(env) = file.get("environ") {
        let in_dir = env
            .rsplit_once('/')
            .is_some_and(|(dir, base)| dir == run.command_dir && is_word(base));
        if !is_plain_path(env) || !in_dir {
            return Err(invalid_file(format!(
                "environ '{env}' is not a file next to the command file"
            )));
        }
        argv.extend(["--env-file".into(), env.into()]);
    }
    // Keys the NodeManager writes that Hadoop does not act on: checked for their shape only.
    for key in ["log-dir"] {
        if let Some(v) = file.get(key) {
            if !is_plain_path(v) {
                return Err(invalid_file(format!("{key} '{v}' is not a plain path")));
            }
        }
    }
    bool_key(file, "use-yarn-sysfs", INVALID_DOCKER_COMMAND_FILE)?;
    if let Some(driver) = file.get("volume-driver") {
        if !is_word(driver) {
            return Err(invalid_file(format!(
                "volume-driver '{driver}' is not a word"
            )));
        }
    }
    argv.push(image.into());
    argv.extend(
        file.list("launch-command")
            .unwrap_or_default()
            .into_iter()
            .map(String::from),
    );
    Ok(RunPlan { argv, entry_point })
}

#[cfg(test)]
mod tests;
