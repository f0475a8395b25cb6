use super::*;
use std::collections::HashMap;

/// A host whose file system is a table: path -> (canonical path, is_dir).
struct FakeHost {
    paths: HashMap<&'static str, (&'static str, bool)>,
    drivers: HashMap<&'static str, &'static str>,
}

impl Host for FakeHost {
    fn resolve(&self, path: &str) -> Result<(String, bool), String> {
        self.paths
            .get(path)
            .map(|(p, d)| (p.to_string(), *d))
            .ok_or_else(|| "No such file or directory".to_string())
    }
    fn network_driver(&self, network: &str) -> Result<String, String> {
        self.drivers
            .get(network)
            .map(|d| d.to_string())
            .ok_or_else(|| "no such network".into())
    }
}

fn host() -> FakeHost {
    let paths = [
        ("/data", ("/data", true)),
        ("/data/x", ("/data/x", true)),
        ("/dataset", ("/dataset", true)),
        ("/data/link", ("/etc", true)),
        ("/data/ok-link", ("/data/x", true)),
        ("/ro", ("/ro", true)),
        ("/ro/f", ("/ro/f", false)),
        ("/etc", ("/etc", true)),
        ("/etc/hadoop", ("/etc/hadoop", true)),
        ("/etc/hadoop/x", ("/etc/hadoop/x", true)),
        ("/", ("/", true)),
        ("/L", ("/L", true)),
        ("/L/nmPrivate", ("/L/nmPrivate", true)),
        ("/L/usercache", ("/L/usercache", true)),
        (
            "/L/usercache/u/appcache/app_1/container_1700000000000_0001_01_000002",
            (
                "/L/usercache/u/appcache/app_1/container_1700000000000_0001_01_000002",
                true,
            ),
        ),
        ("/data/priv", ("/L/nmPrivate/app", true)),
    ];
    FakeHost {
        paths: paths.into_iter().collect(),
        drivers: [("br0", "bridge"), ("mac", "macvlan")]
            .into_iter()
            .collect(),
    }
}

const CID: &str = "container_1700000000000_0001_01_000002";

fn config(extra: &str) -> Config {
    let text = format!(
        "[docker]\nmodule.enabled=true\ndocker.binary=/usr/bin/podman\ndocker.trusted.registries=library,local\ndocker.allowed.networks=host,none,br0,mac\ndocker.allowed.rw-mounts=/data,/L/usercache\ndocker.allowed.ro-mounts=/ro,/etc\ndocker.allowed.capabilities=CHOWN,NET_BIND_SERVICE\ndocker.allowed.runtimes=runc\ndocker.allowed.devices=/dev/fuse\ndocker.allowed.volume-drivers=local\n{extra}"
    );
    Config::parse(text.as_bytes(), "test.cfg").unwrap()
}

fn file(body: &str) -> CommandFile {
    CommandFile::parse(format!("[docker-command-execution]\n{body}").as_bytes()).unwrap()
}

fn run_for<'a>() -> RunFor<'a> {
    RunFor {
        container_id: CID,
        user_name: "alice",
        uid: 2001,
        gid: 2002,
        user_gids: &[2002, 2003],
        user_group_names: &[],
        command_dir: "/L/nmPrivate/app_1/container_1700000000000_0001_01_000002",
        config_dir: "/etc/hadoop",
        nm_private_dirs: &[],
    }
}

fn run_body(extra: &str) -> String {
    format!("docker-command=run\nname={CID}\nuser=2001:2002\nimage=busybox:e2e\n{extra}")
}

fn run(extra: &str, cfg_extra: &str) -> Result<RunPlan, Refusal> {
    let cfg = config(cfg_extra);
    run_argv(
        &Policy::new(&cfg),
        &file(&run_body(extra)),
        &run_for(),
        &host(),
        true,
    )
}

fn code(extra: &str) -> i32 {
    run(extra, "").unwrap_err().code
}

#[test]
fn a_plain_run() {
    let plan = run(
        "net=host\nmounts=/data/x:/data/x:rw,/ro/f:/f:ro\nlaunch-command=sh,-c,exit 3\ngroup-add=2003\ncap-add=CHOWN\ndetach=true\nworkdir=/data/x\n",
        "docker.no-new-privileges.enabled=true\n",
    )
    .unwrap();
    assert_eq!(
        plan.argv,
        [
            "/usr/bin/podman",
            "run",
            "--name=container_1700000000000_0001_01_000002",
            "--user=2001:2002",
            "--security-opt=no-new-privileges",
            "-d",
            "--workdir=/data/x",
            "--net=host",
            "-v",
            "/data/x:/data/x:rw",
            "-v",
            "/ro/f:/f:ro",
            "--cap-drop=ALL",
            "--cap-add=CHOWN",
            "--group-add",
            "2003",
            "busybox:e2e",
            "sh",
            "-c",
            "exit 3"
        ]
    );
    assert!(!plan.entry_point);
}

#[test]
fn the_resolved_source_is_what_docker_gets() {
    let plan = run("mounts=/data/ok-link:/x:ro\n", "").unwrap();
    assert!(plan.argv.contains(&"/data/x:/x:ro".to_string()));
}

#[test]
fn mount_refusals() {
    // Not allowed at all; through a symlink; a prefix sibling; rw where only ro is allowed.
    assert_eq!(code("mounts=/L:/x:ro\n"), INVALID_RO_MOUNT);
    assert_eq!(code("mounts=/data/link:/x:rw\n"), INVALID_RW_MOUNT);
    assert_eq!(code("mounts=/dataset:/x:rw\n"), INVALID_RW_MOUNT);
    assert_eq!(code("mounts=/ro/f:/x:rw\n"), INVALID_RW_MOUNT);
    // nmPrivate anywhere, through a link too; the config dir, ro or rw.
    assert_eq!(code("mounts=/L/nmPrivate:/x:ro\n"), INVALID_RO_MOUNT);
    assert_eq!(code("mounts=/data/priv:/x:rw\n"), INVALID_RW_MOUNT);
    assert_eq!(code("mounts=/etc/hadoop:/x:ro\n"), INVALID_RO_MOUNT);
    assert_eq!(code("mounts=/etc/hadoop/x:/x:ro\n"), INVALID_RO_MOUNT);
    // A missing source, a bad shape, bad options.
    assert_eq!(code("mounts=/nope:/x:ro\n"), INVALID_MOUNT);
    for m in [
        "/data",
        "/data:/x",
        "/data:/x:rx",
        "/data:/x:rw+bogus",
        "/data:x:rw",
        "/d$(id):/x:rw",
    ] {
        assert_eq!(code(&format!("mounts={m}\n")), INVALID_MOUNT, "{m}");
    }
    // ro of / is allowed by the ro list, but / reaches the nmPrivate dirs when they are known.
    let cfg = Config::parse(
        b"[docker]\ndocker.trusted.registries=library\ndocker.allowed.ro-mounts=/\ndocker.allowed.rw-mounts=/L/usercache\n",
        "t",
    )
    .unwrap();
    let f = file(&run_body("mounts=/:/host:ro\n"));
    assert!(run_argv(&Policy::new(&cfg), &f, &run_for(), &host(), true).is_ok());
    let private = ["/L/nmPrivate".to_string()];
    let mut r = run_for();
    r.nm_private_dirs = &private;
    let f = file(&run_body(
        "mounts=/L/usercache/u/appcache/app_1/container_1700000000000_0001_01_000002:/w:rw\n",
    ));
    assert!(run_argv(&Policy::new(&cfg), &f, &r, &host(), true).is_ok());
    let f = file(&run_body("mounts=/:/host:ro\n"));
    assert_eq!(
        run_argv(&Policy::new(&cfg), &f, &r, &host(), true)
            .unwrap_err()
            .code,
        INVALID_RO_MOUNT
    );
    // rw of an ancestor of the config dir is refused even when the rw list allows it.
    let cfg = Config::parse(
        b"[docker]\ndocker.trusted.registries=library\ndocker.allowed.rw-mounts=/\n",
        "t",
    )
    .unwrap();
    let pol = Policy::new(&cfg);
    let f = file(&run_body("mounts=/etc:/x:rw\n"));
    assert_eq!(
        run_argv(&pol, &f, &run_for(), &host(), true)
            .unwrap_err()
            .code,
        INVALID_RW_MOUNT
    );
    let f = file(&run_body("mounts=/data:/x:rw\n"));
    assert!(run_argv(&pol, &f, &run_for(), &host(), true).is_ok());
}

#[test]
fn an_untrusted_image_gets_no_mounts_or_capabilities_and_no_devices() {
    let cfg = config("");
    let body = format!("docker-command=run\nname={CID}\nuser=2001:2002\nimage=evil/img\nmounts=/data:/d:rw\ncap-add=CHOWN\n");
    let plan = run_argv(&Policy::new(&cfg), &file(&body), &run_for(), &host(), true).unwrap();
    assert!(!plan
        .argv
        .iter()
        .any(|a| a.starts_with("/data") || a.starts_with("--cap-add")));
    assert!(plan.argv.contains(&"--cap-drop=ALL".to_string()));
    let body = format!("docker-command=run\nname={CID}\nuser=2001:2002\nimage=evil/img\ndevices=/dev/fuse:/dev/fuse\n");
    assert_eq!(
        run_argv(&Policy::new(&cfg), &file(&body), &run_for(), &host(), true)
            .unwrap_err()
            .code,
        INVALID_DOCKER_DEVICE
    );
}

#[test]
fn policy_refusals() {
    assert_eq!(code("cap-add=SYS_ADMIN\n"), INVALID_DOCKER_CAPABILITY);
    assert_eq!(code("cap-add=chown\n"), INVALID_DOCKER_CAPABILITY);
    assert_eq!(code("cap-drop=NET_RAW\n"), INVALID_DOCKER_CAPABILITY);
    assert_eq!(code("net=bridge\n"), INVALID_DOCKER_NETWORK);
    assert_eq!(code("net=host;id\n"), INVALID_DOCKER_NETWORK);
    assert_eq!(code("runtime=nvidia\n"), INVALID_DOCKER_RUNTIME);
    assert_eq!(code("devices=/dev/sda:/dev/sda\n"), INVALID_DOCKER_DEVICE);
    assert_eq!(
        code("devices=/dev/fuse2:/dev/fuse\n"),
        INVALID_DOCKER_DEVICE
    );
    assert_eq!(code("pid=host\n"), DOCKER_PID_HOST_DISABLED);
    assert_eq!(code("pid=container:x\n"), INVALID_DOCKER_PID_NAMESPACE);
    assert_eq!(
        code("privileged=true\nuse-entry-point=true\n"),
        PRIVILEGED_DOCKER_CONTAINERS_DISABLED
    );
    assert_eq!(code("service-mode=true\n"), DOCKER_SERVICE_MODE_DISABLED);
    assert_eq!(
        code("ports-mapping=80:80;id\n"),
        INVALID_DOCKER_PORTS_MAPPING
    );
    assert_eq!(code("ports-mapping=:80x\n"), INVALID_DOCKER_PORTS_MAPPING);
    assert_eq!(code("tmpfs=/run:rw\n"), INVALID_DOCKER_TMPFS_MOUNT);
    assert_eq!(code("group-add=0\n"), INVALID_DOCKER_COMMAND_FILE);
    assert_eq!(code("hostname=a b\n"), INVALID_DOCKER_COMMAND_FILE);
    assert_eq!(code("workdir=/a/../b\n"), INVALID_DOCKER_COMMAND_FILE);
    assert_eq!(code("environ=/tmp/x.env\n"), INVALID_DOCKER_COMMAND_FILE);
    assert_eq!(code("rm=yes\n"), INVALID_DOCKER_COMMAND_FILE);
    assert_eq!(code("docker-config=/a/`id`\n"), INVALID_DOCKER_COMMAND_FILE);
    let cfg = config("");
    let pol = Policy::new(&cfg);
    let refuse = |body: String| {
        run_argv(&pol, &file(&body), &run_for(), &host(), true)
            .unwrap_err()
            .code
    };
    // The name must be the container id; the user must be the run-as user.
    assert_eq!(
        refuse(
            "docker-command=run\nname=container_9_9_9_9\nuser=2001:2002\nimage=busybox\n".into()
        ),
        INVALID_DOCKER_CONTAINER_NAME
    );
    assert_eq!(
        refuse(format!(
            "docker-command=run\nname={CID}\nuser=0:0\nimage=busybox\n"
        )),
        INVALID_DOCKER_USER_NAME
    );
    assert_eq!(
        refuse(format!("docker-command=run\nname={CID}\nimage=busybox\n")),
        INVALID_DOCKER_USER_NAME
    );
    assert_eq!(
        refuse(format!(
            "docker-command=run\nname={CID}\nuser=alice\nimage=Busy$(id)\n"
        )),
        INVALID_DOCKER_IMAGE_NAME
    );
}

#[test]
fn networks_bridge_gets_publish_all() {
    let plan = run("net=br0\n", "").unwrap();
    assert!(plan.argv.contains(&"-P".to_string()));
    let plan = run("net=br0\nports-mapping=8080:80,127.0.0.1:1:2\n", "").unwrap();
    assert!(!plan.argv.contains(&"-P".to_string()));
    assert!(plan.argv.windows(2).any(|w| w == ["-p", "127.0.0.1:1:2"]));
    let plan = run("net=mac\n", "").unwrap();
    assert!(!plan.argv.contains(&"-P".to_string()));
}

#[test]
fn privileged_needs_everything() {
    let cfg = config("docker.privileged-containers.enabled=true\ndocker.privileged-containers.registries=local\n");
    let pol = Policy::new(&cfg);
    let groups = ["docker".to_string()];
    let mut r = run_for();
    let body = |image: &str, ep: &str| {
        file(&format!("docker-command=run\nname={CID}\nuser=2001:2002\nimage={image}\nprivileged=true\nuse-entry-point={ep}\n"))
    };
    // Not in root/docker.
    assert_eq!(
        run_argv(&pol, &body("local/img", "true"), &r, &host(), true)
            .unwrap_err()
            .code,
        PRIVILEGED_DOCKER_CONTAINERS_DISABLED
    );
    r.user_group_names = &groups;
    // Not from a privileged registry (library is trusted, not privileged here).
    assert_eq!(
        run_argv(&pol, &body("busybox", "true"), &r, &host(), true)
            .unwrap_err()
            .code,
        PRIVILEGED_DOCKER_CONTAINERS_DISABLED
    );
    // Not entry-point mode.
    assert_eq!(
        run_argv(&pol, &body("local/img", "false"), &r, &host(), true)
            .unwrap_err()
            .code,
        PRIVILEGED_DOCKER_CONTAINERS_DISABLED
    );
    let plan = run_argv(&pol, &body("local/img", "true"), &r, &host(), true).unwrap();
    assert!(plan.argv.contains(&"--privileged".to_string()));
    assert!(!plan.argv.iter().any(|a| a.starts_with("--user")));
    assert!(plan.entry_point);
}

#[test]
fn mounts_are_not_resolved_in_the_first_pass() {
    let cfg = config("");
    let f = file(&run_body("mounts=/nope:/x:ro\n"));
    assert!(run_argv(&Policy::new(&cfg), &f, &run_for(), &host(), false).is_ok());
    let f = file(&run_body("mounts=/nope:x:ro\n"));
    assert_eq!(
        run_argv(&Policy::new(&cfg), &f, &run_for(), &host(), false)
            .unwrap_err()
            .code,
        INVALID_MOUNT
    );
}

#[test]
fn simple_commands() {
    let cfg = config("");
    let pol = Policy::new(&cfg);
    let argv = |body: &str| run_docker_argv(&pol, &file(body));
    assert_eq!(
        argv(&format!(
            "docker-command=inspect\nname={CID}\nformat={{{{.State.Status}}}}\n"
        ))
        .unwrap(),
        [
            "/usr/bin/podman",
            "inspect",
            "--format={{.State.Status}}",
            CID
        ]
    );
    assert_eq!(
        argv(&format!(
            "docker-command=kill\nname={CID}\nsignal=TERM\ndocker-config=/L/nmPrivate/c\n"
        ))
        .unwrap(),
        [
            "/usr/bin/podman",
            "--config=/L/nmPrivate/c",
            "kill",
            "--signal=TERM",
            CID
        ]
    );
    assert_eq!(
        argv(&format!("docker-command=stop\nname={CID}\ntime=10\n")).unwrap(),
        ["/usr/bin/podman", "stop", "--time=10", CID]
    );
    assert_eq!(
        argv(&format!("docker-command=rm\nname={CID}\n")).unwrap(),
        ["/usr/bin/podman", "rm", "-f", CID]
    );
    assert_eq!(
        argv("docker-command=pull\nimage=registry.local:5000/a/b:1.0\n").unwrap(),
        ["/usr/bin/podman", "pull", "registry.local:5000/a/b:1.0"]
    );
    assert_eq!(
        argv("docker-command=volume\nsub-command=create\nvolume=v1\ndriver=local\n").unwrap(),
        [
            "/usr/bin/podman",
            "volume",
            "create",
            "--name=v1",
            "--driver=local"
        ]
    );
    let c = |body: String| argv(&body).unwrap_err().code;
    assert_eq!(
        c(format!(
            "docker-command=inspect\nname={CID}\nformat={{{{.Config.Env}}}}\n"
        )),
        INVALID_DOCKER_INSPECT_FORMAT
    );
    assert_eq!(
        c("docker-command=inspect\nname=c;id\nformat={{.State.Status}}\n".into()),
        INVALID_DOCKER_CONTAINER_NAME
    );
    assert_eq!(
        c(format!("docker-command=kill\nname={CID}\nsignal=9\n")),
        INVALID_DOCKER_KILL_COMMAND
    );
    assert_eq!(
        c(format!("docker-command=stop\nname={CID}\ntime=1;id\n")),
        INVALID_DOCKER_STOP_COMMAND
    );
    assert_eq!(
        c("docker-command=pull\nimage=a|b\n".into()),
        INVALID_DOCKER_IMAGE_NAME
    );
    assert_eq!(
        c("docker-command=volume\nsub-command=rm\n".into()),
        INVALID_DOCKER_VOLUME_COMMAND
    );
    assert_eq!(
        c("docker-command=volume\nsub-command=create\nvolume=v1\ndriver=nfs\n".into()),
        INVALID_DOCKER_VOLUME_DRIVER
    );
    assert_eq!(
        c("docker-command=volume\nsub-command=create\nvolume=-v\ndriver=local\n".into()),
        INVALID_DOCKER_VOLUME_NAME
    );
    // run/start/exec are not --run-docker's.
    assert_eq!(c(run_body("")), INCORRECT_DOCKER_COMMAND);
    assert_eq!(
        c(format!("docker-command=start\nname={CID}\n")),
        INCORRECT_DOCKER_COMMAND
    );
}

#[test]
fn exec_and_start() {
    let cfg = config("");
    let pol = Policy::new(&cfg);
    assert_eq!(
        exec_argv(
            &pol,
            &file(&format!(
                "docker-command=exec\nname={CID}\nlaunch-command=/bin/sh,-i\n"
            ))
        )
        .unwrap(),
        ["/usr/bin/podman", "exec", "-it", CID, "/bin/sh", "-i"]
    );
    assert!(exec_argv(&pol, &file(&format!("docker-command=exec\nname={CID}\n"))).is_err());
    assert_eq!(
        start_argv(
            &pol,
            &file(&format!("docker-command=start\nname={CID}\n")),
            CID
        )
        .unwrap(),
        ["/usr/bin/podman", "start", CID]
    );
    assert_eq!(
        start_argv(
            &pol,
            &file("docker-command=start\nname=container_9_9_9_9\n"),
            CID
        )
        .unwrap_err()
        .code,
        INVALID_DOCKER_CONTAINER_NAME
    );
}

#[test]
fn docker_binary_is_absolute_and_defaults() {
    let c = Config::parse(b"[docker]\nmodule.enabled=true\n", "t").unwrap();
    assert_eq!(Policy::new(&c).docker_binary().unwrap(), "/usr/bin/docker");
    let c = Config::parse(
        b"docker.binary=/opt/d\n[docker]\nmodule.enabled=true\n",
        "t",
    )
    .unwrap();
    assert_eq!(Policy::new(&c).docker_binary().unwrap(), "/opt/d");
    let c = Config::parse(b"[docker]\ndocker.binary=docker\n", "t").unwrap();
    assert!(Policy::new(&c).docker_binary().is_err());
}

#[test]
fn image_names() {
    for ok in [
        "busybox",
        "busybox:e2e",
        "localhost/cexec-busybox:e2e",
        "reg.io:5000/a/b_c.d-e:v1.2",
        "a/b/c",
    ] {
        assert!(is_image_name(ok), "{ok}");
    }
    for bad in [
        "", "Busybox", "a b", "a;b", "a:b:c", "reg:x/a", "a/b:", "$(id)", "a`b`", "-rm",
    ] {
        assert!(!is_image_name(bad), "{bad}");
    }
}

#[test]
fn trust() {
    let cfg = config("");
    let p = Policy::new(&cfg);
    assert!(p.trusted("busybox", false));
    assert!(p.trusted("local/x", false));
    assert!(!p.trusted("localhost/x", false));
    assert!(!p.trusted("evil/x", false));
}
