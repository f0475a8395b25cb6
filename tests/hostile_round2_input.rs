//! Hostile suite, round two (issue 14 items 1-6): inputs the first round still let through
//! because Hadoop is lenient where no NodeManager needs it. Each test plays one class of attack
//! as a hostile NodeManager-group member (or a careless admin) and proves the binary refuses it
//! with the documented code and leaves the NM directories exactly as they were:
//!
//! 1. run-as users who could re-enter the binary (primary group root's or the NM's; the groups
//!    stripped from supplementary members; `--checksetup --verbose` names them);
//! 2. bans by uid, not by spelling;
//! 3. ids exactly as YARN writes them, and lengths checked before anything is created;
//! 4. canonical NM dir lists;
//! 5. credentials only from the nmPrivate tree, never through a symlink;
//! 6. canonical decimal numbers.

mod common;
mod hostile_support;

use std::fs;

use common::{config_text, Outcome, TempUser, ALICE, NM_GROUP, NM_USER};
use hostile_support::*;

/// The state of every NM dir, taken before an attack; `check` proves nothing changed.
struct Before {
    local: Frozen,
    log: Frozen,
}

impl Before {
    fn take(node: &Node) -> Before {
        let (local, log) = node.freeze_nm_dirs();
        Before { local, log }
    }

    #[track_caller]
    fn check(&self, context: &str) {
        self.local.assert_unchanged(context);
        self.log.assert_unchanged(context);
    }
}

/// Run a launch argv as the NM and expect `code`, with nothing changed below the NM dirs.
#[track_caller]
fn refused_unchanged(node: &Node, argv: &[String], code: i32, context: &str) -> Outcome {
    let before = Before::take(node);
    let out = node.run_nm(argv);
    assert_eq!(out.code, code, "{context}: {}", out.describe());
    before.check(context);
    out
}

/// A container script that records its groups into the work dir.
const RECORD_GROUPS: &str = "#!/bin/sh\ngrep -E '^(Gid|Groups):' /proc/$$/status > groups.txt\n";

fn groups_in(status: &str) -> Vec<u32> {
    status_field(status, "Groups")
        .iter()
        .map(|g| g.parse().unwrap())
        .collect()
}

// ------------------------------------------------------------------------------------------
// 1. Users who could re-enter the binary
// ------------------------------------------------------------------------------------------

#[test]
fn attack_run_as_a_user_whose_primary_group_is_the_nm_group() {
    // The NM account itself is not in the test config's banned.users: its primary group is the
    // NM group, so its container could run the 6050 binary as a NodeManager.
    let Some(node) = Node::new("h2_primary_nm") else {
        return;
    };
    let c = Container::prepare(&node, NM_USER, RECORD_GROUPS);
    let out = refused_unchanged(&node, &c.argv(&node), 255, "run as the NM user");
    out.assert_stdout_has("(the NodeManager group), which is not allowed");
    assert!(!c.work_dir.exists());
}

#[test]
fn attack_run_as_a_user_whose_primary_group_is_root() {
    let Some(node) = Node::new("h2_primary_root") else {
        return;
    };
    let user = TempUser::create_with(&["-g", "root"]);
    assert_eq!(user.account.gid, 0);
    let c = Container::prepare(&node, user.name(), RECORD_GROUPS);
    let out = refused_unchanged(&node, &c.argv(&node), 255, "primary group root");
    out.assert_stdout_has("(root's group), which is not allowed");
    // The localizer too.
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let argv = node.init_argv(user.name(), &cid, &tokens, &["/bin/true"]);
    refused_unchanged(&node, &argv, 255, "initialize, primary group root");
}

#[test]
fn attack_supplementary_nm_and_root_groups_reach_the_container() {
    let Some(node) = Node::new("h2_supplementary") else {
        return;
    };
    let user = TempUser::create(false, &[NM_GROUP, "root"]);
    let c = Container::prepare(&node, user.name(), RECORD_GROUPS);
    c.launch(&node).assert_code(0);
    let groups = groups_in(&c.probe("groups.txt"));
    assert_eq!(groups, vec![user.account.gid], "container groups");

    // The localizer runs with the same groups.
    let cid = fresh_cid();
    let tokens = node.tokens(&cid);
    let record = "grep -E '^(Gid|Groups):' /proc/$$/status > localizer-groups.txt";
    let argv = node.init_argv(user.name(), &cid, &tokens, &["/bin/sh", "-c", record]);
    node.run_nm(&argv).assert_code(0);
    let app = node.app_dir(&node.locals[0], user.name(), APP);
    let status = fs::read_to_string(app.join("localizer-groups.txt")).unwrap();
    assert_eq!(
        groups_in(&status),
        vec![user.account.gid],
        "localizer groups"
    );
}

#[test]
fn checksetup_verbose_names_users_who_could_reenter() {
    let Some(node) = Node::new("h2_checksetup") else {
        return;
    };
    let member = TempUser::create(false, &[NM_GROUP]);
    let out = node.sb.run_as_nm(&["--checksetup", "--verbose"]);
    out.assert_code(0)
        .assert_stdout_has("[WARN] users who could re-enter the binary")
        .assert_stdout_has(&format!(
            "{} ({NM_GROUP}, supplementary: stripped from its containers)",
            member.name()
        ));
    // The NodeManager's own call stays silent and successful.
    node.sb.run_as_nm(&["--checksetup"]).assert_silent_success();
}

// ------------------------------------------------------------------------------------------
// 2. Bans by identity
// ------------------------------------------------------------------------------------------

#[test]
fn attack_second_name_for_a_banned_uid() {
    let Some(node) = Node::new("h2_ban_alias") else {
        return;
    };
    let banned = TempUser::create(false, &[]);
    let uid = banned.account.uid.to_string();
    let gid = banned.account.gid.to_string();
    let alias = TempUser::create_with(&["-o", "-u", &uid, "-g", &gid]);
    assert_eq!(alias.account.uid, banned.account.uid);
    node.sb.write_config(&config_text(&[(
        "banned.users",
        Some(&format!("yarn,mapred,hdfs,bin,{}", banned.name())),
    )]));
    // The banned spelling is refused (as in Hadoop), and so is the alias.
    for name in [banned.name(), alias.name()] {
        let c = Container::prepare(&node, name, RECORD_GROUPS);
        let out = refused_unchanged(&node, &c.argv(&node), 255, name);
        out.assert_stdout_has(&format!("Requested user {name} is banned"));
    }
}

// ------------------------------------------------------------------------------------------
// 3. Ids exactly as YARN writes them; lengths before anything is created
// ------------------------------------------------------------------------------------------

#[test]
fn attack_container_ids_yarn_never_writes() {
    let Some(node) = Node::new("h2_cid") else {
        return;
    };
    // Each is accepted by Hadoop's C check (runs of `_` collapse, any digits).
    for cid in [
        "container__1700000000000_0001_01_000777",
        "container_1700000000000_0001_01_000777_",
        "container_1700000000000__0001_01_000777",
        "container_1700000000000_1_1_777",
        "container_e_1700000000000_0001_01_000777",
        "container_e00_1700000000000_0001_01_000777",
        "container_01700000000000_0001_01_000777",
        "container_1700000000000_0001_01_0000777",
    ] {
        let mut c = Container::prepare(&node, ALICE, RECORD_GROUPS);
        c.cid = cid.to_string();
        c.work_dir = node.work_dir(ALICE, APP, cid);
        let out = refused_unchanged(&node, &c.argv(&node), 35, cid);
        out.assert_stderr_has("Unsupported container directory path detected.");
        // Initialize checks the id while reading argv (43).
        let tokens = node.tokens(cid);
        let argv = node.init_argv(ALICE, cid, &tokens, &["/bin/true"]);
        refused_unchanged(&node, &argv, 43, cid);
    }
}

#[test]
fn attack_app_ids_yarn_never_writes() {
    let Some(node) = Node::new("h2_appid") else {
        return;
    };
    for app in [
        "application_01700000000000_0001",
        "application_1700000000000_00001",
        "application_1700000000000_2147483648",
    ] {
        let mut c = Container::prepare(&node, ALICE, RECORD_GROUPS);
        c.app = app.to_string();
        refused_unchanged(&node, &c.argv(&node), 35, app);
        let cid = fresh_cid();
        let tokens = node.tokens(&cid);
        let mut argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        argv[3] = app.to_string();
        refused_unchanged(&node, &argv, 255, app);
    }
}

#[test]
fn attack_names_longer_than_name_max_leave_a_pid_file_behind() {
    // A 256-byte yarn user fits the NodeManager's pattern but not a directory entry: Hadoop (and
    // the first round) failed only at mkdir, after the pid file was written.
    let Some(node) = Node::new("h2_name_max") else {
        return;
    };
    let c = Container::prepare(&node, ALICE, RECORD_GROUPS);
    let mut argv = c.argv(&node);
    argv[1] = "y".repeat(256);
    refused_unchanged(&node, &argv, 20, "yarn user of 256 bytes");
    assert!(!c.pid_file.exists());
}

#[test]
fn attack_paths_longer_than_path_max() {
    // A second local dir so deep that the container's paths below it pass PATH_MAX: refused
    // before the first local dir gets any directory.
    let Some(node) = Node::new("h2_path_max") else {
        return;
    };
    let mut deep = node.sb.prefix().join("deep");
    fs::create_dir(&deep).unwrap();
    for i in 0..20 {
        deep = deep.join(format!("{i:02}{}", "d".repeat(198)));
        fs::create_dir(&deep).unwrap();
    }
    let len = deep.as_os_str().len();
    assert!((3950..4080).contains(&len), "{len}: {}", deep.display());
    node.nm_dir(&deep);
    node.nm_dir(&deep.join("usercache"));
    let c = Container::prepare(&node, ALICE, RECORD_GROUPS);
    let mut argv = c.argv(&node);
    argv[10] = format!("{}%{}", s(&node.locals[0]), s(&deep));
    let deep_before = Frozen::new(&deep);
    refused_unchanged(&node, &argv, 35, "local dir near PATH_MAX");
    deep_before.assert_unchanged("deep local dir");
    assert!(!c.pid_file.exists());
}

// ------------------------------------------------------------------------------------------
// 4. Canonical NM dir lists
// ------------------------------------------------------------------------------------------

#[test]
fn attack_dir_lists_the_nodemanager_never_sends() {
    let Some(node) = Node::new("h2_dirlists") else {
        return;
    };
    let (l1, l2) = (s(&node.locals[0]), s(&node.locals[1]));
    let (g1, g2) = (s(&node.logs[0]), s(&node.logs[1]));
    let parent = s(node.locals[0].parent().unwrap());
    for (locals, logs) in [
        (format!("{l1}%%{l2}"), format!("{g1}%{g2}")),
        (format!("{l1}%"), g1.clone()),
        (format!("%{l1}"), g1.clone()),
        (l1.clone(), format!("{g1}%")),
        (format!("{parent}/./1"), g1.clone()),
        (format!("{parent}/2/../1"), g1.clone()),
        (format!("{parent}//1"), g1.clone()),
        (l1.clone(), format!("{g1}/../2")),
        (l1.clone(), String::new()),
    ] {
        let c = Container::prepare(&node, ALICE, RECORD_GROUPS);
        let mut argv = c.argv(&node);
        argv[10] = locals.clone();
        argv[11] = logs.clone();
        let context = format!("launch {locals:?} {logs:?}");
        refused_unchanged(&node, &argv, 5, &context).assert_stderr_has("dir list");
        assert!(!c.pid_file.exists(), "{context}");

        let cid = fresh_cid();
        let tokens = node.tokens(&cid);
        let mut argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        argv[6] = locals.clone();
        argv[7] = logs.clone();
        refused_unchanged(&node, &argv, 5, &format!("initialize {locals:?} {logs:?}"));
    }
}

// ------------------------------------------------------------------------------------------
// 5. Credentials only from where the NodeManager writes them
// ------------------------------------------------------------------------------------------

const KEYTAB_TEXT: &str = "nm-keytab-secret-0xBADC0DE\n";

/// An NM-owned secret outside every local dir (the NM's keytab).
fn keytab(node: &Node) -> std::path::PathBuf {
    let dir = node.sb.prefix().join("keytabs");
    if !dir.exists() {
        fs::create_dir(&dir).unwrap();
        node.sb.chmod(&dir, 0o755);
    }
    let keytab = dir.join("nm.keytab");
    node.nm_file(&keytab, KEYTAB_TEXT, 0o600);
    keytab
}

/// No file below the NM dirs (outside nmPrivate, where the attacks plant their files) holds
/// the keytab's bytes.
#[track_caller]
fn keytab_nowhere(node: &Node) {
    for root in ["nm-local", "nm-log"] {
        for (path, entry) in snapshot(&node.sb.prefix().join(root)) {
            if path.components().any(|c| c.as_os_str() == "nmPrivate") {
                continue;
            }
            assert!(
                !String::from_utf8_lossy(&entry.content).contains(KEYTAB_TEXT.trim()),
                "keytab copied to {}",
                path.display()
            );
        }
    }
}

#[test]
fn attack_launch_copies_the_nm_keytab_as_container_tokens() {
    let Some(node) = Node::new("h2_tokens_launch") else {
        return;
    };
    let keytab = keytab(&node);
    // Outside nmPrivate, inside nmPrivate of another app, and through a symlinked directory.
    let c = Container::prepare(&node, ALICE, RECORD_GROUPS);
    let other_app = node.locals[0]
        .join("nmPrivate")
        .join("application_1700000000000_0002");
    node.nm_dir(&other_app);
    let stolen = other_app.join("x.tokens");
    node.nm_file(&stolen, KEYTAB_TEXT, 0o600);
    let private = c.tokens.parent().unwrap().to_path_buf();
    let link = private.join("linkdir");
    std::os::unix::fs::symlink(keytab.parent().unwrap(), &link).unwrap();
    let file_link = private.join("link.tokens");
    std::os::unix::fs::symlink(&keytab, &file_link).unwrap();
    for tokens in [
        keytab.clone(),
        stolen,
        link.join("nm.keytab"),
        file_link,
        node.locals[0].join("nmPrivate/../../../keytabs/nm.keytab"),
    ] {
        let mut argv = c.argv(&node);
        argv[7] = s(&tokens);
        let out = refused_unchanged(&node, &argv, 5, &s(&tokens));
        out.assert_stderr_has("Could not open cred file");
        keytab_nowhere(&node);
    }
}

#[test]
fn attack_initialize_copies_the_nm_keytab_into_the_app_dir() {
    let Some(node) = Node::new("h2_tokens_init") else {
        return;
    };
    let keytab = keytab(&node);
    let private = node.locals[0].join("nmPrivate");
    let link = private.join("keydir");
    std::os::unix::fs::symlink(keytab.parent().unwrap(), &link).unwrap();
    for tokens in [keytab.clone(), link.join("nm.keytab")] {
        let cid = fresh_cid();
        let argv = node.init_argv(ALICE, &cid, &tokens, &["/bin/true"]);
        let out = node.run_nm(&argv);
        assert_eq!(out.code, 255, "{}: {}", s(&tokens), out.describe());
        keytab_nowhere(&node);
    }
    // The refusal of a path outside nmPrivate comes before anything is created.
    let cid = fresh_cid();
    let argv = node.init_argv(ALICE, &cid, &keytab, &["/bin/true"]);
    refused_unchanged(&node, &argv, 255, "keytab outside nmPrivate");
}

// ------------------------------------------------------------------------------------------
// 6. Canonical decimal numbers
// ------------------------------------------------------------------------------------------

#[test]
fn attack_signal_numbers_strtol_reads_but_yarn_never_writes() {
    let Some(node) = Node::new("h2_signal") else {
        return;
    };
    let mut victim = node.sb.spawn_sleeper(ALICE);
    let pid = victim.pid_arg();
    for (p, sig) in [
        (format!("+{pid}"), "9".to_string()),
        (format!(" {pid}"), "9".to_string()),
        (format!("0{pid}"), "9".to_string()),
        (pid.clone(), "+9".to_string()),
        (pid.clone(), "09".to_string()),
        (pid.clone(), " 9".to_string()),
    ] {
        let out = node.sb.run_as_nm(&[ALICE, ALICE, "2", &p, &sig]);
        assert_eq!(out.code, 1, "{p:?} {sig:?}: {}", out.describe());
        assert!(victim.is_running(), "{p:?} {sig:?} killed the victim");
    }
}

#[test]
fn attack_command_numbers_atoi_reads_but_yarn_never_writes() {
    let Some(node) = Node::new("h2_command") else {
        return;
    };
    for number in ["+1", "01", " 1", "1 "] {
        let c = Container::prepare(&node, ALICE, RECORD_GROUPS);
        let mut argv = c.argv(&node);
        argv[2] = number.to_string();
        let out = refused_unchanged(&node, &argv, 3, number);
        out.assert_stderr_has("not supported");
    }
}

#[test]
fn attack_device_numbers_in_hex_and_octal() {
    let Some(node) = Node::new("h2_devices") else {
        return;
    };
    node.sb
        .write_config(&format!("{}[gpu]\nmodule.enabled=true\n", config_text(&[])));
    let cid = "container_1700000000000_0001_01_000042";
    for minors in ["0x1", "01", "+1", "1 "] {
        let out = node.sb.run_as_nm(&[
            "--module-gpu",
            "--excluded_gpus",
            minors,
            "--container_id",
            cid,
        ]);
        assert_eq!(out.code, 1, "{minors:?}: {}", out.describe());
        out.assert_stderr_has("Failed to get minor devices number");
    }
}
