//! Hostile suite: the Docker modes. The attacker is the NodeManager account (it writes the
//! docker command files and chooses every argument) and the application user (it plants
//! symlinks in the directories it owns). `docker.binary` is a recording stand-in that logs its
//! argv and runs nothing, so "refused with nothing run" is checked on the log: every refusal
//! leaves it empty. Controls show the same setup does run the stand-in when nothing is wrong.

mod common;
mod docker_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{Outcome, ALICE};
use docker_support::{fresh_cid, recorded, Node, APP};

const IMAGE: &str = "localhost/img:1";

struct Rig {
    node: Node,
    log: PathBuf,
    marker: PathBuf,
}

/// A node whose docker.binary is the recording stand-in; `extra` are more `[docker]` lines.
fn rig(name: &str, extra: &str) -> Option<Rig> {
    let node = Node::new(name)?;
    let (bin, log) = node.recording_docker();
    let data = node.sb.prefix().join("data");
    let sibling = node.sb.prefix().join("data-evil");
    for d in [&data, &sibling] {
        fs::create_dir_all(d).unwrap();
    }
    let rw: Vec<String> = node
        .locals
        .iter()
        .chain(node.logs.iter())
        .chain([&data])
        .map(|p| p.display().to_string())
        .collect();
    node.docker_config(
        &bin.display().to_string(),
        &format!(
            "docker.trusted.registries=localhost\ndocker.allowed.networks=host,none\ndocker.allowed.rw-mounts={}\ndocker.allowed.ro-mounts={}\ndocker.allowed.capabilities=CHOWN\ndocker.no-new-privileges.enabled=true\n{extra}",
            rw.join(","),
            node.sb.etc_dir().display()
        ),
    );
    let marker = node.sb.prefix().join("pwned");
    Some(Rig { node, log, marker })
}

impl Rig {
    /// The run entries of a well-formed launch for `cid` (as the NodeManager writes them).
    fn run_entries(&self, cid: &str) -> Vec<(String, String)> {
        let alice = self.node.sb.users().alice.clone();
        let work = self.node.work_dir(ALICE, cid).display().to_string();
        [
            ("docker-command", "run".to_string()),
            ("name", cid.to_string()),
            ("user", format!("{}:{}", alice.uid, alice.gid)),
            ("image", IMAGE.to_string()),
            ("net", "host".to_string()),
            ("detach", "true".to_string()),
            ("workdir", work.clone()),
            ("mounts", format!("{work}:{work}:rw")),
            ("cap-drop", "ALL".to_string()),
            ("launch-command", format!("bash,{work}/launch_container.sh")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Launch (command 4) with the run entries changed by `set` (Some = replace or add,
    /// None = remove).
    fn launch(&self, set: &[(&str, Option<&str>)]) -> (Outcome, String) {
        let cid = fresh_cid();
        let mut entries = self.run_entries(&cid);
        for (key, value) in set {
            let value = value.map(|v| v.replace("{cid}", &cid));
            match (entries.iter().position(|(k, _)| k == key), value) {
                (Some(i), Some(v)) => entries[i].1 = v,
                (Some(i), None) => {
                    entries.remove(i);
                }
                (None, Some(v)) => entries.push((key.to_string(), v)),
                (None, None) => {}
            }
        }
        let refs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let file = self.node.command_file(&cid, &refs);
        let inputs = self.node.launch_inputs(&cid, "#!/bin/sh\nexit 0\n");
        let out = self
            .node
            .run_nm(&self.node.launch_argv(ALICE, &cid, &inputs, &file));
        (out, cid)
    }

    fn nothing_ran(&self, out: &Outcome) {
        assert!(
            recorded(&self.log).is_empty(),
            "docker ran: {:?}{}",
            recorded(&self.log),
            out.describe()
        );
        assert!(!self.marker.exists(), "a shell ran something");
    }

    /// A refused launch: 29, the policy's message, docker never run.
    fn refused(&self, set: &[(&str, Option<&str>)], why: &str) -> String {
        let (out, cid) = self.launch(set);
        out.assert_code(29).assert_stderr_has(why);
        self.nothing_ran(&out);
        cid
    }
}

#[test]
fn control_a_well_formed_launch_runs_the_stand_in_with_the_enforced_options() {
    let Some(r) = rig("hd-control", "") else {
        return;
    };
    let (out, cid) = r.launch(&[]);
    out.assert_code(0);
    let runs = recorded(&r.log);
    let run = &runs[0];
    let alice = r.node.sb.users().alice.clone();
    assert_eq!(run[0], "run");
    for must in [
        format!("--name={cid}"),
        format!("--user={}:{}", alice.uid, alice.gid),
        "--security-opt=no-new-privileges".into(),
        "--cap-drop=ALL".into(),
        "--net=host".into(),
        "-d".into(),
    ] {
        assert!(run.contains(&must), "{must} missing from {run:?}");
    }
    // The run, then inspect calls: no shell anywhere, every argv is the stand-in's.
    assert!(runs.len() >= 3, "{runs:?}");
    assert!(runs[1..].iter().all(|r| r[0] == "inspect"), "{runs:?}");
}

#[test]
fn attack_mount_not_allowed() {
    let Some(r) = rig("hd-mount", "") else {
        return;
    };
    r.refused(
        &[("mounts", Some("/etc:/etc:rw"))],
        "does not allow mount src='/etc'",
    );
    r.refused(
        &[("mounts", Some("/etc/passwd:/x:ro"))],
        "Configuration does not allow mount",
    );
    // rw where only ro is allowed (the sandbox etc dir is on the ro list).
    let etc = r.node.sb.etc_dir().display().to_string();
    r.refused(
        &[("mounts", Some(&format!("{etc}:/x:rw")))],
        "Invalid read-write mount",
    );
}

#[test]
fn attack_mount_through_a_symlink() {
    let Some(r) = rig("hd-symlink", "") else {
        return;
    };
    // The NM owns its log dir (an allowed rw mount): a link in it to /etc.
    let link = r.node.logs[0].join("to-etc");
    symlink("/etc", &link).unwrap();
    r.refused(
        &[("mounts", Some(&format!("{}:/x:rw", link.display())))],
        "/etc is not under a docker.allowed.rw-mounts entry",
    );
    // The user's own usercache dir (below an allowed local dir): a link to nmPrivate.
    let usercache = r.node.locals[0].join("usercache").join(ALICE);
    fs::create_dir_all(&usercache).unwrap();
    r.node
        .sb
        .chown(&usercache, Some(r.node.sb.users().alice.uid), None);
    let link = usercache.join("to-private");
    symlink(r.node.locals[0].join("nmPrivate"), &link).unwrap();
    r.refused(
        &[("mounts", Some(&format!("{}:/x:ro", link.display())))],
        "is in an nmPrivate directory",
    );
}

#[test]
fn attack_mount_of_nmprivate_or_the_config_dir() {
    let Some(r) = rig("hd-private", "") else {
        return;
    };
    let private = r.node.locals[0].join("nmPrivate").display().to_string();
    r.refused(
        &[("mounts", Some(&format!("{private}:/x:ro")))],
        "nmPrivate",
    );
    // A whole local dir is allowed rw, but it holds nmPrivate.
    let local = r.node.locals[0].display().to_string();
    r.refused(&[("mounts", Some(&format!("{local}:/x:rw")))], "reaches");
    let conf = r.node.sb.conf_dir().display().to_string();
    r.refused(
        &[("mounts", Some(&format!("{conf}:/x:ro")))],
        "container-executor configuration directory",
    );
}

#[test]
fn attack_mount_of_a_prefix_sibling() {
    let Some(r) = rig("hd-sibling", "") else {
        return;
    };
    let sibling = r.node.sb.prefix().join("data-evil").display().to_string();
    r.refused(
        &[("mounts", Some(&format!("{sibling}:/x:rw")))],
        "not under a docker.allowed.rw-mounts",
    );
    // Control: the allowed dir itself is accepted.
    let data = r.node.sb.prefix().join("data").display().to_string();
    let (out, _) = r.launch(&[("mounts", Some(&format!("{data}:/x:rw")))]);
    out.assert_code(0);
}

#[test]
fn attack_privileged_container() {
    let Some(r) = rig(
        "hd-privileged",
        "docker.privileged-containers.enabled=true\ndocker.privileged-containers.registries=localhost\n",
    ) else {
        return;
    };
    // From an untrusted image.
    r.refused(
        &[
            ("privileged", Some("true")),
            ("use-entry-point", Some("true")),
            ("image", Some("evil/img:1")),
        ],
        "Privileged containers are disabled from untrusted source",
    );
    // From a trusted image, but the user is in neither group root nor docker.
    r.refused(
        &[
            ("privileged", Some("true")),
            ("use-entry-point", Some("true")),
        ],
        "not in group root or docker",
    );
    // Not entry-point mode.
    r.refused(&[("privileged", Some("true"))], "non-entry-point mode");
}

#[test]
fn attack_privileged_while_disabled() {
    let Some(r) = rig("hd-privileged-off", "") else {
        return;
    };
    r.refused(
        &[
            ("privileged", Some("true")),
            ("use-entry-point", Some("true")),
        ],
        "Privileged containers are disabled",
    );
}

#[test]
fn attack_capability_network_runtime_device_pid_not_allowed() {
    let Some(r) = rig("hd-caps", "") else {
        return;
    };
    r.refused(
        &[("cap-add", Some("SYS_ADMIN"))],
        "not in docker.allowed.capabilities",
    );
    r.refused(&[("cap-add", Some("CHOWN,SYS_PTRACE"))], "SYS_PTRACE");
    r.refused(&[("cap-drop", Some("NET_RAW"))], "cap-drop must be ALL");
    r.refused(&[("net", Some("bridge"))], "not in docker.allowed.networks");
    r.refused(&[("net", Some("container:x"))], "Invalid docker network");
    r.refused(
        &[("runtime", Some("runc"))],
        "not in docker.allowed.runtimes",
    );
    r.refused(
        &[("devices", Some("/dev/sda:/dev/sda"))],
        "not in docker.allowed.devices",
    );
    r.refused(&[("pid", Some("host"))], "Host pid namespace is disabled");
    r.refused(&[("service-mode", Some("true"))], "service-mode");
}

#[test]
fn attack_identity_of_the_container() {
    let Some(r) = rig("hd-identity", "") else {
        return;
    };
    r.refused(&[("user", Some("0:0"))], "is not the run-as user");
    r.refused(&[("user", Some("root"))], "is not the run-as user");
    r.refused(&[("user", None)], "user is missing");
    r.refused(&[("group-add", Some("0"))], "is not a group id of");
    r.refused(
        &[("name", Some("container_1700000000000_0001_01_999999"))],
        "is not the container id",
    );
}

#[test]
fn attack_docker_binary_in_the_command_file() {
    let Some(r) = rig("hd-binary", "") else {
        return;
    };
    let marker = r.marker.display().to_string();
    let evil = r.node.sb.prefix().join("evil.sh");
    common::write_file(&evil, &format!("#!/bin/sh\ntouch {marker}\n"), 0o755);
    let evil = evil.display().to_string();
    r.refused(
        &[("docker.binary", Some(&evil))],
        "docker.binary is taken from container-executor.cfg only",
    );
    let cid = fresh_cid();
    let file = r.node.command_file(
        &cid,
        &[
            ("docker-command", "inspect"),
            ("docker.binary", &evil),
            ("format", "{{.State.Status}}"),
            ("name", &cid),
        ],
    );
    let out = r
        .node
        .sb
        .run_as_nm(&["--run-docker", &file.display().to_string()]);
    out.assert_code(29);
    r.nothing_ran(&out);
}

/// Values with shell metacharacters for every key of a run file: refused, or (launch-command,
/// the program run inside the container) passed verbatim as separate argv items. Never a shell.
#[test]
fn attack_shell_metacharacters_in_every_value() {
    let Some(r) = rig("hd-meta", "") else {
        return;
    };
    let m = r.marker.display().to_string();
    let payloads = [
        format!("x;touch {m}"),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x|touch {m}"),
        format!("x&&touch {m}"),
        format!("x touch {m}"),
    ];
    let keys = [
        "name",
        "user",
        "image",
        "net",
        "workdir",
        "mounts",
        "cap-add",
        "cap-drop",
        "hostname",
        "cgroup-parent",
        "group-add",
        "devices",
        "ports-mapping",
        "runtime",
        "tmpfs",
        "pid",
        "detach",
        "rm",
        "privileged",
        "use-entry-point",
        "environ",
        "docker-config",
        "log-dir",
        "volume-driver",
        "use-yarn-sysfs",
        "service-mode",
    ];
    for key in keys {
        for p in &payloads {
            let (out, _) = r.launch(&[(key, Some(p))]);
            assert_eq!(out.code, 29, "{key}={p}{}", out.describe());
            r.nothing_ran(&out);
        }
    }
    // launch-command: accepted, each item one argv element, verbatim, after the image.
    let (out, _) = r.launch(&[(
        "launch-command",
        Some(&format!("sh,-c,$(touch {m});`touch {m}`|x")),
    )]);
    out.assert_code(0);
    let runs = recorded(&r.log);
    let run = &runs[0];
    let at = run.iter().position(|a| a == IMAGE).expect("image in argv");
    assert_eq!(
        run[at + 1..],
        ["sh", "-c", &format!("$(touch {m});`touch {m}`|x")]
    );
    assert!(!r.marker.exists());
    fs::remove_file(&r.log).unwrap();
    // The --run-docker sub-commands.
    for (command, key, extra) in [
        ("inspect", "name", ("format", "{{.State.Status}}")),
        ("inspect", "format", ("name", "container_1_2_3_4")),
        ("kill", "signal", ("name", "container_1_2_3_4")),
        ("kill", "name", ("signal", "KILL")),
        ("stop", "time", ("name", "container_1_2_3_4")),
        ("rm", "name", ("docker-command", "rm")),
        ("pull", "image", ("docker-command", "pull")),
        ("volume", "volume", ("sub-command", "create")),
        ("volume", "sub-command", ("volume", "v1")),
    ] {
        for p in &payloads {
            let cid = fresh_cid();
            let mut entries = vec![("docker-command", command), (key, p.as_str())];
            if extra.0 != "docker-command" {
                entries.push(extra);
            }
            if command == "volume" && key != "driver" {
                entries.push(("driver", "local"));
            }
            let file = r.node.command_file(&cid, &entries);
            let out = r
                .node
                .sb
                .run_as_nm(&["--run-docker", &file.display().to_string()]);
            assert_eq!(out.code, 29, "{command} {key}={p}{}", out.describe());
            r.nothing_ran(&out);
        }
    }
}

#[test]
fn attack_the_command_file_itself() {
    let Some(r) = rig("hd-file", "") else {
        return;
    };
    let cid = fresh_cid();
    let body = format!(
        "[docker-command-execution]\n  docker-command=inspect\n  format={{{{.State.Status}}}}\n  name={cid}\n"
    );
    let good = r.node.raw_command_file(&cid, &body);
    let run = |p: &Path| {
        r.node
            .sb
            .run_as_nm(&["--run-docker", &p.display().to_string()])
    };
    // Control.
    run(&good).assert_code(0);
    assert_eq!(recorded(&r.log).len(), 1);
    fs::remove_file(&r.log).unwrap();
    let private = good.parent().unwrap().to_path_buf();
    // Outside nmPrivate.
    let outside = r.node.sb.prefix().join("outside.cmd");
    r.node.nm_file(&outside, &body, 0o644);
    // Group-writable; owned by the user; a symlink to a good file; a FIFO (must not hang).
    let writable = private.join("writable.cmd");
    r.node.nm_file(&writable, &body, 0o664);
    let users = private.join("alice.cmd");
    r.node.nm_file(&users, &body, 0o644);
    r.node
        .sb
        .chown(&users, Some(r.node.sb.users().alice.uid), None);
    let link = private.join("link.cmd");
    symlink(&good, &link).unwrap();
    let fifo = private.join("fifo.cmd");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    r.node.sb.chown(&fifo, Some(r.node.nm_uid()), None);
    // Duplicate key, unknown key, newline smuggled by a second header, oversized.
    let dup = r
        .node
        .raw_command_file(&cid, &format!("{body}  name=container_9_9_9_9\n"));
    let unknown = r
        .node
        .raw_command_file(&cid, &format!("{body}  entrypoint=/bin/sh\n"));
    let second = r
        .node
        .raw_command_file(&cid, &format!("{body}[docker-command-execution]\n"));
    let huge = r
        .node
        .raw_command_file(&cid, &format!("{body}{}", " \n".repeat(40_000)));
    let relative = PathBuf::from(format!("nm-local/1/nmPrivate/{APP}/{cid}/x.cmd"));
    for bad in [
        &outside, &writable, &users, &link, &fifo, &dup, &unknown, &second, &huge, &relative,
    ] {
        let out = run(bad);
        assert_eq!(out.code, 29, "{}{}", bad.display(), out.describe());
        r.nothing_ran(&out);
    }
}

#[test]
fn attack_run_and_exec_through_run_docker_and_free_inspect_arguments() {
    let Some(r) = rig("hd-modes", "") else {
        return;
    };
    let cid = fresh_cid();
    let entries = r.run_entries(&cid);
    let refs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let file = r.node.command_file(&cid, &refs);
    // Hadoop runs any docker run here, as root, for whatever user the file names.
    let out = r
        .node
        .sb
        .run_as_nm(&["--run-docker", &file.display().to_string()]);
    out.assert_code(29)
        .assert_stderr_has("not run through --run-docker");
    r.nothing_ran(&out);
    // --inspect-docker-container passes any two words to docker in Hadoop.
    for (format, id) in [
        ("--format={{json .}}", cid.as_str()),
        ("-f", "x"),
        ("--format={{.State.Status}}", "container_1;id"),
        ("--format={{.State.Status}}", "--help"),
    ] {
        let out = r
            .node
            .sb
            .run_as_nm(&["--inspect-docker-container", format, id]);
        assert_eq!(out.code, 29, "{}", out.describe());
        r.nothing_ran(&out);
    }
    // --remove-docker-container with a bad id: nothing run (Hadoop runs rm first).
    let out = r.node.sb.run_as_nm(&["--remove-docker-container", "../x"]);
    assert_eq!(out.code, 29, "{}", out.describe());
    let out = r
        .node
        .sb
        .run_as_nm(&["--remove-docker-container", "h", "container_1;id"]);
    assert_eq!(out.code, 255, "{}", out.describe());
    let out = r
        .node
        .sb
        .run_as_nm(&["--remove-docker-container", "../../x", &cid]);
    assert_eq!(out.code, 255, "{}", out.describe());
    r.nothing_ran(&out);
}
