//! The docker command file parser and the `[docker]` policy (`src/docker`): any bytes as a
//! command file, built into every argv the modes can build, against a fixed policy and a fake
//! file system (every plain absolute path exists, is a directory, and resolves to itself, except
//! `/link...`, which resolves into the config dir `/etc/hadoop`).
//!
//! Invariants: nothing panics; an accepted file has known keys only, each once; every argv starts
//! with the configured binary, holds no NUL or newline, and no item comes from a `docker.binary`
//! key; a run always drops all capabilities, runs as the run-as user unless privileged (which the
//! policy never allows here), never mounts the config dir, an nmPrivate path or an ancestor of one.
#![no_main]

use container_executor::config::Config;
use container_executor::docker::{self, CommandFile, Host, Policy, RunFor};
use libfuzzer_sys::fuzz_target;

struct FakeHost;

impl Host for FakeHost {
    fn resolve(&self, path: &str) -> Result<(String, bool), String> {
        if let Some(rest) = path.strip_prefix("/link") {
            return Ok((format!("/etc/hadoop{rest}"), true));
        }
        Ok((path.to_string(), true))
    }
    fn network_driver(&self, _network: &str) -> Result<String, String> {
        Ok("bridge".into())
    }
}

const BINARY: &str = "/usr/bin/podman";
const CID: &str = "container_1_2_3_4";

fn check(argv: &[String]) {
    assert_eq!(argv[0], BINARY);
    for a in argv {
        assert!(!a.contains('\0') && !a.contains('\n'), "{a:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let cfg = Config::parse(
        b"[docker]\nmodule.enabled=true\ndocker.binary=/usr/bin/podman\ndocker.trusted.registries=library,localhost\ndocker.allowed.networks=host,br0\ndocker.allowed.rw-mounts=/data,/L\ndocker.allowed.ro-mounts=/ro,/\ndocker.allowed.capabilities=CHOWN\ndocker.allowed.devices=/dev/fuse\ndocker.allowed.volume-drivers=local\ndocker.allowed.runtimes=runc\n",
        "fuzz.cfg",
    )
    .unwrap();
    let policy = Policy::new(&cfg);
    let Ok(file) = CommandFile::parse(data) else {
        return;
    };
    assert!(file.get("docker.binary").is_none());
    if let Ok(argv) = docker::run_docker_argv(&policy, &file) {
        check(&argv);
        assert!(!matches!(argv[1].as_str(), "run" | "start" | "exec"));
    }
    if let Ok(argv) = docker::exec_argv(&policy, &file) {
        check(&argv);
    }
    if let Ok(argv) = docker::start_argv(&policy, &file, CID) {
        check(&argv);
        assert_eq!(argv[argv.len() - 1], CID);
    }
    let private = ["/L/nmPrivate".to_string()];
    let run = RunFor {
        container_id: CID,
        user_name: "alice",
        uid: 2001,
        gid: 2002,
        user_gids: &[2002],
        user_group_names: &[],
        command_dir: "/L/nmPrivate/app/c",
        config_dir: "/etc/hadoop",
        nm_private_dirs: &private,
    };
    for resolve in [false, true] {
        if let Ok(plan) = docker::run_argv(&policy, &file, &run, &FakeHost, resolve) {
            check(&plan.argv);
            assert!(plan.argv.contains(&"--cap-drop=ALL".to_string()));
            assert!(plan.argv.contains(&"--user=2001:2002".to_string()));
            assert!(!plan.argv.contains(&"--privileged".to_string()));
            assert!(plan.argv.contains(&format!("--name={CID}")));
            for w in plan.argv.windows(2) {
                if w[0] == "-v" {
                    let src = w[1].split(':').next().unwrap();
                    assert!(
                        !src.starts_with("/etc") && !src.contains("nmPrivate"),
                        "{src}"
                    );
                    assert!(src != "/" && src != "/L", "{src}");
                }
            }
        }
    }
});
