//! Unit tests of the directory-descriptor operations. They run as root in CI; where root's
//! permission bypass would hide the behaviour (deleting unreadable directories, search-only
//! parents) the same checks also run as uid/gid 65534 in a child process (see `as_nobody`).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use nix::sys::stat::Mode;

use super::*;

const NOBODY: u32 = 65534;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn errno_of(e: &io::Error) -> Option<i32> {
    e.raw_os_error()
}

/// The process umask, read without changing it (tests run in parallel threads).
fn umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
}

fn mode_of(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Run `f` on another thread and fail (instead of hanging the suite) if it takes over 10 s.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("operation blocked (FIFO opened without O_NONBLOCK/O_DIRECTORY?)")
}

fn mkfifo(p: &Path) {
    nix::unistd::mkfifo(p, Mode::from_bits_truncate(0o600)).unwrap();
}

fn sorted(mut v: Vec<OsString>) -> Vec<OsString> {
    v.sort();
    v
}

fn names(v: &[&str]) -> Vec<OsString> {
    sorted(v.iter().map(OsString::from).collect())
}

// ---------------------------------------------------------------------------------------------
// Opening

#[test]
fn open_nofollow_walks_a_plain_path() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir_all(t.path().join("a/b/c")).unwrap();
    fs::write(t.path().join("a/b/c/f"), b"x").unwrap();
    let with_slashes = format!("{}//a/b///c/", t.path().display());
    let d = DirFd::open_nofollow(Path::new(&with_slashes)).unwrap();
    assert_eq!(d.list().unwrap(), vec![OsString::from("f")]);
    assert!(d.stat().unwrap().is_dir());
    // "/" itself.
    let slash = DirFd::open_nofollow(Path::new("/")).unwrap();
    assert!(slash
        .list()
        .unwrap()
        .iter()
        .any(|n| n == "tmp" || n == "proc"));
}

#[test]
fn open_nofollow_refuses_a_symlink_anywhere() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir_all(t.path().join("real/inner")).unwrap();
    std::os::unix::fs::symlink(t.path().join("real"), t.path().join("link")).unwrap();
    // Intermediate component.
    let e = DirFd::open_nofollow(&t.path().join("link/inner")).unwrap_err();
    assert!(
        matches!(errno_of(&e), Some(libc::ELOOP) | Some(libc::ENOTDIR)),
        "{e}"
    );
    // Final component.
    let e = DirFd::open_nofollow(&t.path().join("link")).unwrap_err();
    assert!(
        matches!(errno_of(&e), Some(libc::ELOOP) | Some(libc::ENOTDIR)),
        "{e}"
    );
    // The same path through the real directory works.
    DirFd::open_nofollow(&t.path().join("real/inner")).unwrap();
}

#[test]
fn open_nofollow_refuses_dot_components_and_relative_paths() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir_all(t.path().join("a/b")).unwrap();
    for bad in ["a/./b", "a/../a", "a/b/..", "a/b/."] {
        let p = t.path().join(bad);
        let e = DirFd::open_nofollow(&p).unwrap_err();
        assert_eq!(errno_of(&e), Some(libc::EINVAL), "{bad}");
    }
    let e = DirFd::open_nofollow(Path::new("relative/dir")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
    let e = DirFd::open_nofollow(Path::new("")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
}

#[test]
fn open_nofollow_refuses_a_file() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("f"), b"").unwrap();
    let e = DirFd::open_nofollow(&t.path().join("f")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOTDIR));
}

#[test]
fn open_root_follows_symlinks_but_refuses_relative_paths() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("real")).unwrap();
    fs::write(t.path().join("real/f"), b"").unwrap();
    std::os::unix::fs::symlink(t.path().join("real"), t.path().join("link")).unwrap();
    let d = DirFd::open_root(&t.path().join("link")).unwrap();
    assert_eq!(d.list().unwrap(), vec![OsString::from("f")]);
    assert_eq!(d.path(), t.path().join("link"));
    let e = DirFd::open_root(Path::new("real")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
    let e = DirFd::open_root(&t.path().join("real/f")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOTDIR));
}

#[test]
fn open_dir_refuses_symlinks_fifos_files_and_bad_names() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    fs::create_dir(t.path().join("d/sub")).unwrap();
    fs::write(t.path().join("f"), b"").unwrap();
    std::os::unix::fs::symlink(t.path().join("d"), t.path().join("link")).unwrap();
    mkfifo(&t.path().join("fifo"));
    let root = Arc::new(DirFd::open_root(t.path()).unwrap());

    let d = root.open_dir(os("d")).unwrap();
    assert_eq!(d.list().unwrap(), vec![OsString::from("sub")]);
    assert_eq!(d.path(), t.path().join("d"));

    let e = root.open_dir(os("link")).unwrap_err();
    assert!(
        matches!(errno_of(&e), Some(libc::ELOOP) | Some(libc::ENOTDIR)),
        "{e}"
    );
    let e = root.open_dir(os("f")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOTDIR));
    let r = Arc::clone(&root);
    let e = within(move || r.open_dir(os("fifo")).map(|_| ())).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOTDIR));
    for bad in ["..", ".", "", "d/sub", "/d", "d/"] {
        let e = root.open_dir(os(bad)).unwrap_err();
        assert_eq!(errno_of(&e), Some(libc::EINVAL), "{bad:?}");
    }
    let e = root.open_dir(os("missing")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOENT));
}

#[test]
fn open_file_reads_regular_files_only() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("f"), b"hello").unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    fs::write(t.path().join("d/g"), b"").unwrap();
    std::os::unix::fs::symlink(t.path().join("f"), t.path().join("link")).unwrap();
    mkfifo(&t.path().join("fifo"));
    let root = Arc::new(DirFd::open_root(t.path()).unwrap());

    let mut f = root.open_file(os("f")).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "hello");
    let flags = nix::fcntl::fcntl(f.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap();
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags);
    assert!(!flags.contains(nix::fcntl::OFlag::O_NONBLOCK));
    let fd_flags = nix::fcntl::fcntl(f.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFD).unwrap();
    assert_ne!(fd_flags & libc::FD_CLOEXEC, 0);

    let e = root.open_file(os("link")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ELOOP));
    let r = Arc::clone(&root);
    let e = within(move || r.open_file(os("fifo")).map(|_| ())).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
    let e = root.open_file(os("d")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
    for bad in ["..", ".", "", "d/g"] {
        let e = root.open_file(os(bad)).unwrap_err();
        assert_eq!(errno_of(&e), Some(libc::EINVAL), "{bad:?}");
    }
}

#[test]
fn open_append_appends_to_existing_regular_files_only() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("tasks"), b"1").unwrap();
    std::os::unix::fs::symlink(t.path().join("tasks"), t.path().join("link")).unwrap();
    mkfifo(&t.path().join("fifo"));
    let root = Arc::new(DirFd::open_root(t.path()).unwrap());
    let mut f = root.open_append(os("tasks")).unwrap();
    f.write_all(b"23").unwrap();
    drop(f);
    assert_eq!(fs::read(t.path().join("tasks")).unwrap(), b"123");
    let e = root.open_append(os("missing")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOENT));
    assert!(!t.path().join("missing").exists());
    let e = root.open_append(os("link")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ELOOP));
    // A FIFO without a reader would make O_WRONLY block; O_NONBLOCK turns that into ENXIO.
    let r = Arc::clone(&root);
    let e = within(move || r.open_append(os("fifo")).map(|_| ())).unwrap_err();
    assert!(
        matches!(errno_of(&e), Some(libc::ENXIO) | Some(libc::EINVAL)),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Metadata

#[test]
fn stat_and_stat_at_describe_without_following() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("f"), b"abc").unwrap();
    set_mode(&t.path().join("f"), 0o4640);
    std::os::unix::fs::symlink("/", t.path().join("link")).unwrap();
    fs::hard_link(t.path().join("f"), t.path().join("hard")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let st = root.stat().unwrap();
    assert!(st.is_dir() && !st.is_file() && !st.is_symlink());
    assert_eq!(st.ino, fs::metadata(t.path()).unwrap().ino());
    let f = root.stat_at(os("f")).unwrap();
    assert!(f.is_file());
    assert_eq!(f.perm(), 0o4640);
    assert_eq!(f.nlink, 2);
    assert_eq!(f.mode & libc::S_IFMT, libc::S_IFREG);
    let l = root.stat_at(os("link")).unwrap();
    assert!(l.is_symlink() && !l.is_dir());
    let e = root.stat_at(os("missing")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOENT));
    let e = root.stat_at(os("a/b")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
}

#[test]
fn chown_and_chmod_act_on_the_open_directory() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let d = root.open_dir(os("d")).unwrap();
    // Renaming the directory does not redirect the operations: they follow the descriptor.
    fs::rename(t.path().join("d"), t.path().join("moved")).unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    d.chmod(0o2750).unwrap();
    assert_eq!(mode_of(&t.path().join("moved")), 0o2750);
    assert_ne!(mode_of(&t.path().join("d")), 0o2750);
    if is_root() {
        d.chown(NOBODY, NOBODY).unwrap();
        let m = fs::metadata(t.path().join("moved")).unwrap();
        assert_eq!((m.uid(), m.gid()), (NOBODY, NOBODY));
    }
}

#[test]
fn chown_at_and_chmod_at_do_not_follow_symlinks() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("target"), b"").unwrap();
    set_mode(&t.path().join("target"), 0o600);
    std::os::unix::fs::symlink(t.path().join("target"), t.path().join("link")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    assert!(root.chmod_at_nofollow(os("link"), 0o777).is_err());
    assert_eq!(mode_of(&t.path().join("target")), 0o600);
    root.chmod_at_nofollow(os("target"), 0o640).unwrap();
    assert_eq!(mode_of(&t.path().join("target")), 0o640);
    if is_root() {
        root.chown_at(os("link"), NOBODY, NOBODY).unwrap();
        let target = fs::metadata(t.path().join("target")).unwrap();
        assert_eq!(target.uid(), 0);
        let link = fs::symlink_metadata(t.path().join("link")).unwrap();
        assert_eq!(link.uid(), NOBODY);
    }
}

// ---------------------------------------------------------------------------------------------
// Creating directories

#[test]
fn mkdir_reports_whether_it_created() {
    let t = tempfile::tempdir().unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    assert!(root.mkdir(os("d"), 0o750).unwrap());
    assert_eq!(mode_of(&t.path().join("d")), 0o750 & !umask());
    assert!(!root.mkdir(os("d"), 0o700).unwrap());
    fs::write(t.path().join("f"), b"").unwrap();
    assert!(!root.mkdir(os("f"), 0o700).unwrap());
    std::os::unix::fs::symlink("/nonexistent", t.path().join("dangling")).unwrap();
    assert!(!root.mkdir(os("dangling"), 0o700).unwrap());
    assert!(!Path::new("/nonexistent").exists());
    let e = root.mkdir(os("a/b"), 0o700).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
}

#[test]
fn mkdirs_creates_a_chain_and_is_idempotent() {
    let t = tempfile::tempdir().unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let parts = [os("usercache"), os("alice"), os("appcache"), os("app_1")];
    let d = root.mkdirs(&parts, 0o750).unwrap();
    assert_eq!(d.path(), t.path().join("usercache/alice/appcache/app_1"));
    let expected = 0o750 & !umask();
    for sub in ["usercache", "usercache/alice", "usercache/alice/appcache"] {
        assert_eq!(mode_of(&t.path().join(sub)), expected, "{sub}");
    }
    assert_eq!(
        mode_of(&t.path().join("usercache/alice/appcache/app_1")),
        expected
    );
    // The returned descriptor is the final directory.
    d.mkdir(os("c1"), 0o710).unwrap();
    assert!(t.path().join("usercache/alice/appcache/app_1/c1").is_dir());
    // A second run over the same tree succeeds when the umask keeps 0750 intact (022, 027).
    if expected == 0o750 {
        root.mkdirs(&parts, 0o750).unwrap();
    }
    // Existing intermediates only have to be directories: their modes are not checked.
    set_mode(&t.path().join("usercache/alice"), 0o2750);
    set_mode(&t.path().join("usercache"), 0o755);
    set_mode(&t.path().join("usercache/alice/appcache/app_1"), 0o750);
    root.mkdirs(&parts, 0o750).unwrap();
}

#[test]
fn mkdirs_checks_the_exact_mode_of_an_existing_final_directory() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir_all(t.path().join("a/b")).unwrap();
    set_mode(&t.path().join("a/b"), 0o700);
    let root = DirFd::open_root(t.path()).unwrap();
    let e = root.mkdirs(&[os("a"), os("b")], 0o750).unwrap_err();
    let m = MkdirsError::of(&e).expect("a MkdirsError");
    assert_eq!(
        m.to_string(),
        format!(
            "Path {} has permission 700 but needs permission 750.",
            t.path().join("a/b").display()
        )
    );
    assert!(matches!(
        m,
        MkdirsError::WrongPermission {
            actual: 0o700,
            needed: 0o750,
            ..
        }
    ));
    // Special bits are ignored; only rwxrwxrwx must match.
    set_mode(&t.path().join("a/b"), 0o2750);
    root.mkdirs(&[os("a"), os("b")], 0o750).unwrap();
    root.mkdirs(&[os("a"), os("b")], 0o2750).unwrap();
}

#[test]
fn mkdirs_refuses_a_file_in_the_way() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("a")).unwrap();
    fs::write(t.path().join("a/f"), b"").unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    // As the final component.
    let e = root.mkdirs(&[os("a"), os("f")], 0o750).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("Path {} is file not dir", t.path().join("a/f").display())
    );
    // As an intermediate.
    let e = root
        .mkdirs(&[os("a"), os("f"), os("g")], 0o750)
        .unwrap_err();
    assert!(matches!(
        MkdirsError::of(&e),
        Some(MkdirsError::FileNotDir { .. })
    ));
    assert_eq!(
        MkdirsError::of(&e).unwrap().path(),
        t.path().join("a/f").as_path()
    );
    // A FIFO in the way does not block.
    mkfifo(&t.path().join("a/fifo"));
    let root = Arc::new(root);
    let r = Arc::clone(&root);
    let e = within(move || r.mkdirs(&[os("a"), os("fifo")], 0o750).map(|_| ())).unwrap_err();
    assert!(matches!(
        MkdirsError::of(&e),
        Some(MkdirsError::FileNotDir { .. })
    ));
}

#[test]
fn mkdirs_refuses_symlinked_components() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("a")).unwrap();
    std::os::unix::fs::symlink(outside.path(), t.path().join("a/link")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let e = root
        .mkdirs(&[os("a"), os("link"), os("app")], 0o750)
        .unwrap_err();
    assert!(
        matches!(MkdirsError::of(&e), Some(MkdirsError::Symlink { .. })),
        "{e}"
    );
    assert!(!outside.path().join("app").exists());
    // As the final component, even when the target has the right mode.
    set_mode(outside.path(), 0o750);
    let e = root.mkdirs(&[os("a"), os("link")], 0o750).unwrap_err();
    assert!(matches!(
        MkdirsError::of(&e),
        Some(MkdirsError::Symlink { .. })
    ));
    // A dangling symlink is not created through either.
    std::os::unix::fs::symlink(outside.path().join("new"), t.path().join("a/dangling")).unwrap();
    let e = root
        .mkdirs(&[os("a"), os("dangling"), os("x")], 0o750)
        .unwrap_err();
    assert!(MkdirsError::of(&e).is_some(), "{e}");
    assert!(!outside.path().join("new").exists());
}

#[test]
fn mkdirs_validates_components() {
    let t = tempfile::tempdir().unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    for bad in [
        vec![os("a"), os("..")],
        vec![os("a/b")],
        vec![os("")],
        vec![os(".")],
        vec![],
    ] {
        let e = root.mkdirs(&bad, 0o750).unwrap_err();
        assert_eq!(errno_of(&e), Some(libc::EINVAL), "{bad:?}");
    }
    assert_eq!(root.list().unwrap(), Vec::<OsString>::new());
}

#[test]
fn mkdirs_reports_a_creation_failure_with_the_path() {
    let t = tempfile::tempdir().unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    // A name longer than NAME_MAX cannot be created.
    let long = "x".repeat(300);
    let e = root.mkdirs(&[os("a"), os(&long)], 0o750).unwrap_err();
    let m = MkdirsError::of(&e).unwrap();
    assert!(m.errno().is_some());
    assert!(
        m.to_string().starts_with(&format!(
            "Can't create directory {}/a/xxx",
            t.path().display()
        )) || m.to_string().starts_with("Can't open directory")
    );
}

// ---------------------------------------------------------------------------------------------
// Copies, pid files

#[test]
fn copy_new_file_copies_everything_with_the_exact_mode() {
    let t = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(t.path().join("src"), &data).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    for (name, mode) in [
        ("script", 0o700),
        ("tokens", 0o600),
        ("wide", 0o777),
        ("x", 0o750),
    ] {
        let mut src = root.open_file(os("src")).unwrap();
        root.copy_new_file(&mut src, os(name), mode).unwrap();
        assert_eq!(fs::read(t.path().join(name)).unwrap(), data, "{name}");
        // Exact, whatever the umask.
        assert_eq!(mode_of(&t.path().join(name)), mode, "{name}");
    }
    // An empty source gives an empty file.
    fs::write(t.path().join("empty"), b"").unwrap();
    let mut src = root.open_file(os("empty")).unwrap();
    root.copy_new_file(&mut src, os("empty_copy"), 0o600)
        .unwrap();
    assert_eq!(fs::read(t.path().join("empty_copy")).unwrap(), b"");
}

#[test]
fn copy_new_file_refuses_an_existing_destination_or_symlink() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(t.path().join("src"), b"new").unwrap();
    fs::write(t.path().join("existing"), b"old").unwrap();
    fs::write(outside.path().join("victim"), b"precious").unwrap();
    std::os::unix::fs::symlink(outside.path().join("victim"), t.path().join("link")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("planted"), t.path().join("dangling")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    for name in ["existing", "link", "dangling"] {
        let mut src = root.open_file(os("src")).unwrap();
        let e = root.copy_new_file(&mut src, os(name), 0o600).unwrap_err();
        assert_eq!(errno_of(&e), Some(libc::EEXIST), "{name}");
    }
    assert_eq!(fs::read(t.path().join("existing")).unwrap(), b"old");
    assert_eq!(
        fs::read(outside.path().join("victim")).unwrap(),
        b"precious"
    );
    assert!(!outside.path().join("planted").exists());
    assert!(fs::symlink_metadata(t.path().join("dangling"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn copy_new_file_unlinks_a_partial_copy() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("src"), b"data").unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    // A source opened write-only cannot be read: the copy fails after the destination exists.
    let mut unreadable = fs::OpenOptions::new()
        .write(true)
        .open(t.path().join("src"))
        .unwrap();
    let e = root
        .copy_new_file(&mut unreadable, os("dest"), 0o600)
        .unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EBADF));
    assert!(!t.path().join("dest").exists());
}

#[test]
fn write_file_atomically_writes_replaces_and_cleans_up() {
    let t = tempfile::tempdir().unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    root.write_file_atomically(os("c1.pid"), b"12345").unwrap();
    assert_eq!(fs::read(t.path().join("c1.pid")).unwrap(), b"12345");
    assert_eq!(mode_of(&t.path().join("c1.pid")), 0o700 & !umask());
    assert!(!t.path().join("c1.pid.tmp").exists());
    // Replaces an existing file.
    root.write_file_atomically(os("c1.pid"), b"-1").unwrap();
    assert_eq!(fs::read(t.path().join("c1.pid")).unwrap(), b"-1");
    assert_eq!(root.list().unwrap(), vec![OsString::from("c1.pid")]);
}

#[test]
fn write_file_atomically_fails_on_a_leftover_tmp() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("c1.pid"), b"old").unwrap();
    fs::write(t.path().join("c1.pid.tmp"), b"leftover").unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let e = root
        .write_file_atomically(os("c1.pid"), b"999")
        .unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EEXIST));
    // Nothing of ours was created, so nothing is removed and the pid file is untouched.
    assert_eq!(fs::read(t.path().join("c1.pid")).unwrap(), b"old");
    assert_eq!(fs::read(t.path().join("c1.pid.tmp")).unwrap(), b"leftover");
    // A symlink as the .tmp is not followed either.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path().join("x"), t.path().join("c2.pid.tmp")).unwrap();
    let e = root.write_file_atomically(os("c2.pid"), b"1").unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EEXIST));
    assert!(!outside.path().join("x").exists());
}

#[test]
fn write_file_atomically_replaces_a_symlink_without_following_it() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("victim"), b"precious").unwrap();
    std::os::unix::fs::symlink(outside.path().join("victim"), t.path().join("c.pid")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    root.write_file_atomically(os("c.pid"), b"42").unwrap();
    assert_eq!(
        fs::read(outside.path().join("victim")).unwrap(),
        b"precious"
    );
    let m = fs::symlink_metadata(t.path().join("c.pid")).unwrap();
    assert!(m.file_type().is_file());
    assert_eq!(fs::read(t.path().join("c.pid")).unwrap(), b"42");
}

#[test]
fn write_file_atomically_unlinks_the_tmp_when_the_rename_fails() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("c.pid")).unwrap();
    fs::write(t.path().join("c.pid/inside"), b"").unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let e = root.write_file_atomically(os("c.pid"), b"1").unwrap_err();
    assert!(
        matches!(errno_of(&e), Some(libc::EISDIR) | Some(libc::ENOTEMPTY)),
        "{e}"
    );
    assert!(!t.path().join("c.pid.tmp").exists());
}

// ---------------------------------------------------------------------------------------------
// Unlink, rmdir, list

#[test]
fn unlink_and_rmdir_tolerate_missing_names() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    fs::write(t.path().join("d/f"), b"").unwrap();
    fs::write(t.path().join("f"), b"").unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    root.unlink(os("missing")).unwrap();
    root.rmdir(os("missing")).unwrap();
    let e = root.rmdir(os("d")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::ENOTEMPTY));
    let e = root.unlink(os("d")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EISDIR));
    root.unlink(os("f")).unwrap();
    assert!(!t.path().join("f").exists());
    let e = root.unlink(os("..")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
}

#[test]
fn list_returns_every_entry_including_hidden_ones() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("file1"), b"").unwrap();
    fs::write(t.path().join(".file2"), b"").unwrap();
    fs::create_dir(t.path().join("output")).unwrap();
    fs::write(t.path().join("output/inner"), b"").unwrap();
    std::os::unix::fs::symlink("/nonexistent", t.path().join("dangling")).unwrap();
    mkfifo(&t.path().join("fifo"));
    let root = DirFd::open_root(t.path()).unwrap();
    let expected = names(&["file1", ".file2", "output", "dangling", "fifo"]);
    assert_eq!(sorted(root.list().unwrap()), expected);
    // Listing again gives the same (the descriptor's position is not consumed).
    assert_eq!(sorted(root.list().unwrap()), expected);
    let empty = root.open_dir(os("output")).unwrap();
    empty.unlink(os("inner")).unwrap();
    assert!(empty.list().unwrap().is_empty());
}

#[test]
fn list_many_entries() {
    let t = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for i in 0..2000 {
        let name = format!("entry-{i:05}-{}", "y".repeat(i % 40));
        fs::write(t.path().join(&name), b"").unwrap();
        expected.push(OsString::from(name));
    }
    let root = DirFd::open_root(t.path()).unwrap();
    assert_eq!(sorted(root.list().unwrap()), sorted(expected));
}

// ---------------------------------------------------------------------------------------------
// Deleting

/// A tree with every kind of entry and awkward modes, plus links to things outside it.
fn build_awkward_tree(top: &Path, outside: &Path) {
    fs::create_dir_all(top.join("a/b/c")).unwrap();
    fs::write(top.join("a/b/c/f"), b"x").unwrap();
    fs::write(top.join("a/.hidden"), b"x").unwrap();
    fs::create_dir_all(top.join("ro/inner")).unwrap();
    fs::write(top.join("ro/inner/f"), b"x").unwrap();
    fs::write(top.join("ro/f"), b"x").unwrap();
    fs::create_dir_all(top.join("none/deeper")).unwrap();
    fs::write(top.join("none/deeper/f"), b"x").unwrap();
    fs::write(top.join("none/f"), b"x").unwrap();
    fs::create_dir_all(top.join("wx")).unwrap();
    fs::write(top.join("wx/f"), b"x").unwrap();
    fs::create_dir_all(top.join("rw")).unwrap();
    fs::write(top.join("rw/f"), b"x").unwrap();
    fs::write(top.join("readonly_file"), b"x").unwrap();
    set_mode(&top.join("readonly_file"), 0o000);
    mkfifo(&top.join("fifo"));
    let _sock = std::os::unix::net::UnixListener::bind(top.join("sock")).unwrap();
    // Links out of the tree.
    fs::create_dir_all(outside.join("dir")).unwrap();
    fs::write(outside.join("dir/keep"), b"keep").unwrap();
    fs::write(outside.join("file"), b"keep").unwrap();
    std::os::unix::fs::symlink(outside.join("dir"), top.join("a/link_to_dir")).unwrap();
    std::os::unix::fs::symlink(outside.join("file"), top.join("link_to_file")).unwrap();
    std::os::unix::fs::symlink(outside.join("nothing"), top.join("dangling")).unwrap();
    fs::hard_link(outside.join("file"), top.join("a/hardlink")).unwrap();
    // Modes last: read-only, unreadable, write+search only, no search.
    set_mode(&top.join("ro/inner"), 0o500);
    set_mode(&top.join("ro"), 0o500);
    set_mode(&top.join("none/deeper"), 0o000);
    set_mode(&top.join("none"), 0o000);
    set_mode(&top.join("wx"), 0o300);
    set_mode(&top.join("rw"), 0o600);
}

fn assert_outside_intact(outside: &Path) {
    assert_eq!(fs::read(outside.join("dir/keep")).unwrap(), b"keep");
    assert_eq!(fs::read(outside.join("file")).unwrap(), b"keep");
    assert!(!outside.join("nothing").exists());
}

#[test]
fn remove_contents_empties_an_awkward_tree_and_spares_link_targets() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let top = t.path().join("top");
    fs::create_dir(&top).unwrap();
    build_awkward_tree(&top, outside.path());
    let root = DirFd::open_root(t.path()).unwrap();
    let d = root.open_dir(os("top")).unwrap();
    d.remove_contents().unwrap();
    assert!(d.list().unwrap().is_empty());
    assert!(top.is_dir(), "the directory itself stays");
    assert_outside_intact(outside.path());
    assert_eq!(
        fs::metadata(outside.path().join("file")).unwrap().nlink(),
        1
    );
    // And the same tree through remove_entry, which also removes the top.
    build_awkward_tree(&top, outside.path());
    root.remove_entry(os("top")).unwrap();
    assert!(!top.exists());
    assert_outside_intact(outside.path());
}

#[test]
fn remove_contents_gives_the_top_directory_owner_rwx() {
    let t = tempfile::tempdir().unwrap();
    let top = t.path().join("top");
    fs::create_dir(&top).unwrap();
    fs::write(top.join("f"), b"").unwrap();
    set_mode(&top, 0o500);
    let d = DirFd::open_root(&top).unwrap();
    d.remove_contents().unwrap();
    assert_eq!(mode_of(&top), 0o700);
    assert!(d.list().unwrap().is_empty());
}

#[test]
fn remove_entry_handles_each_kind_and_missing_names() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir(outside.path().join("d")).unwrap();
    fs::write(outside.path().join("d/keep"), b"k").unwrap();
    fs::write(t.path().join("f"), b"").unwrap();
    std::os::unix::fs::symlink(outside.path().join("d"), t.path().join("link")).unwrap();
    fs::create_dir_all(t.path().join("d/e")).unwrap();
    mkfifo(&t.path().join("fifo"));
    let root = Arc::new(DirFd::open_root(t.path()).unwrap());
    for name in ["f", "link", "d", "missing"] {
        root.remove_entry(os(name)).unwrap();
    }
    let r = Arc::clone(&root);
    within(move || r.remove_entry(os("fifo"))).unwrap();
    assert!(root.list().unwrap().is_empty());
    assert_eq!(fs::read(outside.path().join("d/keep")).unwrap(), b"k");
    let e = root.remove_entry(os("..")).unwrap_err();
    assert_eq!(errno_of(&e), Some(libc::EINVAL));
}

#[test]
fn concurrent_removals_tolerate_each_other() {
    for round in 0..30 {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().join("top");
        for i in 0..8 {
            let dir = top.join(format!("d{i}/e/f"));
            fs::create_dir_all(&dir).unwrap();
            for j in 0..10 {
                fs::write(dir.join(format!("x{j}")), b"").unwrap();
                fs::write(top.join(format!("d{i}/y{j}")), b"").unwrap();
            }
        }
        let root = Arc::new(DirFd::open_root(t.path()).unwrap());
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let r = Arc::clone(&root);
                std::thread::spawn(move || r.remove_entry(os("top")))
            })
            .collect();
        for w in workers {
            w.join()
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        assert!(!top.exists());
    }
}

/// A single chain `d/d/d/…` `depth` levels deep below `top`, built through descriptors (the path
/// is far longer than PATH_MAX).
fn build_chain(top: &DirFd, depth: usize, files_per_level: usize) {
    let mut cur = DirFd {
        fd: top.fd.try_clone().unwrap(),
        path: top.path.clone(),
        pin: None,
    };
    for _ in 0..depth {
        for j in 0..files_per_level {
            let mut f = cur.create_file(os(&format!("f{j}")), 0o600).unwrap();
            f.write_all(b"x").unwrap();
        }
        cur.mkdir(os("d"), 0o700).unwrap();
        // Keep the message path short: the real one would grow with the depth.
        cur = DirFd {
            fd: cur.open_dir(os("d")).unwrap().fd,
            path: PathBuf::from("/deep"),
            pin: None,
        };
    }
}

#[test]
fn remove_contents_survives_a_5000_deep_tree() {
    let t = tempfile::tempdir().unwrap();
    let top = DirFd::open_root(t.path()).unwrap();
    build_chain(&top, 5000, 0);
    top.remove_contents().unwrap();
    assert!(top.list().unwrap().is_empty());
}

#[test]
fn remove_entry_survives_a_10000_deep_tree() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("top")).unwrap();
    let root = DirFd::open_root(t.path()).unwrap();
    let top = root.open_dir(os("top")).unwrap();
    build_chain(&top, 10_000, 0);
    root.remove_entry(os("top")).unwrap();
    assert!(root.list().unwrap().is_empty());
}

#[test]
fn remove_contents_reopens_ancestors_correctly() {
    // Files at every level, some listed after the subdirectory, so ancestors whose descriptors
    // were let go (beyond the window) have work left when the walk comes back up.
    for (window, dotdot) in [(64, true), (1, true), (2, false), (3, true), (1, false)] {
        let t = tempfile::tempdir().unwrap();
        let top = DirFd::open_root(t.path()).unwrap();
        build_chain(&top, 300, 4);
        remove::remove_contents_tuned(&top, window, dotdot).unwrap();
        assert!(
            top.list().unwrap().is_empty(),
            "window {window} dotdot {dotdot}"
        );
    }
}

#[test]
fn remove_contents_never_leaves_the_tree_while_it_is_being_swapped() {
    // An attacker owning the tree atomically exchanges directories with symlinks to an outside
    // directory (renameat2 RENAME_EXCHANGE), as fast as it can, while the tree is deleted; the
    // interesting moment is between our fstatat and our openat. Whatever the interleaving,
    // nothing outside may be touched. Errors from the delete itself are acceptable.
    const PAIRS: usize = 32;
    let outside = tempfile::tempdir().unwrap();
    let kept = ["keep1", "keep2", "sub/keep3", "sub/deeper/keep4"];
    fs::create_dir_all(outside.path().join("sub/deeper")).unwrap();
    for name in kept {
        fs::write(outside.path().join(name), b"keep").unwrap();
    }
    for round in 0..200 {
        let t = tempfile::tempdir().unwrap();
        let arena = t.path().join("top/a");
        fs::create_dir_all(&arena).unwrap();
        for i in 0..PAIRS {
            fs::create_dir(arena.join(format!("s{i}"))).unwrap();
            std::os::unix::fs::symlink(outside.path(), arena.join(format!("l{i}"))).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let attacker = {
            let stop = Arc::clone(&stop);
            let dir = DirFd::open_root(&arena).unwrap();
            std::thread::spawn(move || {
                let fd = dir.raw_fd().as_raw_fd();
                let pairs: Vec<(String, String)> = (0..PAIRS)
                    .map(|i| (format!("s{i}"), format!("l{i}")))
                    .collect();
                while !stop.load(Ordering::Relaxed) {
                    for (s, l) in &pairs {
                        let _ = nix::fcntl::renameat2(
                            Some(fd),
                            s.as_str(),
                            Some(fd),
                            l.as_str(),
                            nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                        );
                    }
                    // Let the deleting thread take the directory lock now and then.
                    std::thread::yield_now();
                }
            })
        };
        let root = DirFd::open_root(t.path()).unwrap();
        let _ = root.remove_entry(os("top"));
        stop.store(true, Ordering::Relaxed);
        attacker.join().unwrap();
        for name in kept {
            assert!(
                outside.path().join(name).exists(),
                "round {round}: {name} outside the tree was deleted"
            );
        }
        assert_eq!(
            fs::read_dir(outside.path()).unwrap().count(),
            3,
            "round {round}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Free functions

#[test]
fn cgroup_filesystem_is_recognised() {
    let t = tempfile::tempdir().unwrap();
    let td = fs::File::open(t.path()).unwrap();
    assert!(!is_on_cgroup_fs(td.as_fd()).unwrap());
    let mut candidates = vec![PathBuf::from("/sys/fs/cgroup/cgroup.procs")];
    if let Ok(entries) = fs::read_dir("/sys/fs/cgroup") {
        for e in entries.flatten() {
            candidates.push(e.path().join("tasks"));
            candidates.push(e.path().join("cgroup.procs"));
        }
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => {
            let f = fs::File::open(p).unwrap();
            assert!(is_on_cgroup_fs(f.as_fd()).unwrap(), "{}", p.display());
        }
        None => eprintln!("note: no cgroup filesystem under /sys/fs/cgroup; positive case skipped"),
    }
}

#[test]
fn split_parent_cases() {
    let ok = |p: &str, parent: &str, name: &str| {
        let (a, b) = split_parent(Path::new(p)).unwrap();
        assert_eq!(
            (a.as_path(), b.as_os_str()),
            (Path::new(parent), os(name)),
            "{p}"
        );
    };
    ok("/a/b/c.pid", "/a/b", "c.pid");
    ok("/c.pid", "/", "c.pid");
    ok("//a//b", "//a", "b");
    ok("/a/b..c", "/a", "b..c");
    for bad in [
        "/", "", "a/b", "/a/b/", "/a/../b", "/a/./b", "/a/..", "/a/.", "//",
    ] {
        let e = split_parent(Path::new(bad)).unwrap_err();
        assert_eq!(errno_of(&e), Some(libc::EINVAL), "{bad:?}");
    }
}

#[test]
fn contains_dotdot_is_a_substring_check() {
    assert!(contains_dotdot(os("/a/../b")));
    assert!(contains_dotdot(os("/a/app..1/b")));
    assert!(contains_dotdot(os("..")));
    assert!(!contains_dotdot(os("/a/.b/c.")));
    assert!(!contains_dotdot(os("")));
}

// ---------------------------------------------------------------------------------------------
// The same checks as an ordinary user (root bypasses the permission checks that matter here).

const CHILD_SCENARIO: &str = "CE_FS_TEST_AS_NOBODY";
const CHILD_DIR: &str = "CE_FS_TEST_DIR";

/// Entry point of the child process started by `as_nobody` (a no-op in a normal test run).
#[test]
fn as_nobody_child() {
    let Ok(scenario) = std::env::var(CHILD_SCENARIO) else {
        return;
    };
    let dir = PathBuf::from(std::env::var_os(CHILD_DIR).unwrap());
    assert_eq!(nix::unistd::geteuid().as_raw(), NOBODY);
    match scenario.as_str() {
        "remove" => {
            let top = DirFd::open_nofollow(&dir.join("top")).unwrap();
            top.remove_contents().unwrap();
            assert!(top.list().unwrap().is_empty());
            // remove_entry takes the directory itself too (the parent must be ours to do that).
            fs::create_dir(dir.join("top/again")).unwrap();
            build_awkward_tree(&dir.join("top/again"), &dir.join("outside"));
            set_mode(&dir.join("top/again"), 0o000);
            top.remove_entry(os("again")).unwrap();
            assert!(top.list().unwrap().is_empty());
        }
        "remove_partial" => {
            let top = DirFd::open_nofollow(&dir.join("top")).unwrap();
            let mut seen = Vec::new();
            let e = top
                .remove_contents_reporting(&mut |p, e| {
                    seen.push((p.to_path_buf(), e.raw_os_error()))
                })
                .unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EACCES));
            assert_eq!(
                seen,
                vec![
                    (dir.join("top/rootdir/f"), Some(libc::EACCES)),
                    (dir.join("top/rootdir"), Some(libc::ENOTEMPTY)),
                ]
            );
            // Everything else is gone.
            assert_eq!(top.list().unwrap(), vec![OsString::from("rootdir")]);
        }
        "search_only" => {
            // "/…/gate" is root's 0711: searchable, not readable.
            let d = DirFd::open_nofollow(&dir.join("gate/mine")).unwrap();
            d.mkdir(os("made"), 0o700).unwrap();
            let gate = DirFd::open_nofollow(&dir.join("gate"));
            assert_eq!(gate.unwrap_err().raw_os_error(), Some(libc::EACCES));
            let base = DirFd::open_nofollow(&dir).unwrap();
            base.mkdirs(&[os("gate"), os("mine"), os("a"), os("b")], 0o750)
                .unwrap();
            assert!(dir.join("gate/mine/a/b").is_dir());
        }
        "deep_few_fds" => {
            // With at most 100 descriptors, a 3000-deep tree (files at every level, so ancestors
            // are reopened with work left) must still go: the walk holds a bounded window.
            use nix::sys::resource::{getrlimit, setrlimit, Resource};
            let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
            setrlimit(Resource::RLIMIT_NOFILE, 100, hard).unwrap();
            let top = DirFd::open_nofollow(&dir.join("deep")).unwrap();
            build_chain(&top, 3000, 2);
            top.remove_contents().unwrap();
            assert!(top.list().unwrap().is_empty());
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Run `as_nobody_child` with `scenario` as uid/gid 65534 in a fresh test process. `false` (with
/// a note) when that is impossible here (not root, or no such uid); panics if the child fails.
fn as_nobody(scenario: &str, dir: &Path) -> bool {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        eprintln!("note: not root; the uid-65534 variant of {scenario} is skipped");
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "fs::tests::as_nobody_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_SCENARIO, scenario)
        .env(CHILD_DIR, dir)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child {scenario} failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "child {scenario} did not run:\n{text}"
    );
    true
}

/// A tempdir the uid-65534 child can enter.
fn shared_tempdir() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    set_mode(t.path(), 0o755);
    t
}

fn chown_tree(p: &Path) {
    let st = fs::symlink_metadata(p).unwrap();
    nix::unistd::fchownat(
        None,
        p,
        Some(nix::unistd::Uid::from_raw(NOBODY)),
        Some(nix::unistd::Gid::from_raw(NOBODY)),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .unwrap();
    if st.is_dir() {
        for e in fs::read_dir(p).unwrap() {
            chown_tree(&e.unwrap().path());
        }
    }
}

#[test]
fn remove_as_the_owning_user_handles_unreadable_and_read_only_directories() {
    let t = shared_tempdir();
    if !is_root() {
        return;
    }
    let top = t.path().join("top");
    fs::create_dir(&top).unwrap();
    build_awkward_tree(&top, &t.path().join("outside"));
    // Modes are set by build_awkward_tree; ownership must be the child's (modes first would stop
    // root from nothing, so the order does not matter for root).
    chown_tree(&top);
    chown_tree(&t.path().join("outside"));
    // The top itself read-only too.
    set_mode(&top, 0o500);
    as_nobody("remove", t.path());
    assert_outside_intact(&t.path().join("outside"));
}

#[test]
fn remove_as_a_user_reports_what_it_cannot_remove_and_removes_the_rest() {
    let t = shared_tempdir();
    if !is_root() {
        return;
    }
    let top = t.path().join("top");
    fs::create_dir_all(top.join("rootdir")).unwrap();
    fs::write(top.join("rootdir/f"), b"").unwrap();
    fs::create_dir_all(top.join("mine/deep")).unwrap();
    fs::write(top.join("mine/deep/f"), b"").unwrap();
    fs::write(top.join("file"), b"").unwrap();
    chown_tree(&top.join("mine"));
    chown_tree(&top.join("file"));
    nix::unistd::chown(
        &top,
        Some(nix::unistd::Uid::from_raw(NOBODY)),
        Some(nix::unistd::Gid::from_raw(NOBODY)),
    )
    .unwrap();
    set_mode(&top.join("rootdir"), 0o755);
    as_nobody("remove_partial", t.path());
    assert!(top.join("rootdir/f").exists());
}

#[test]
fn open_and_mkdirs_need_only_search_permission_on_intermediates() {
    let t = shared_tempdir();
    if !is_root() {
        return;
    }
    fs::create_dir_all(t.path().join("gate/mine")).unwrap();
    set_mode(&t.path().join("gate"), 0o711);
    chown_tree(&t.path().join("gate/mine"));
    as_nobody("search_only", t.path());
    assert!(t.path().join("gate/mine/made").is_dir());
}

#[test]
fn deep_removal_holds_a_bounded_number_of_descriptors() {
    let t = shared_tempdir();
    if !is_root() {
        return;
    }
    fs::create_dir(t.path().join("deep")).unwrap();
    chown_tree(&t.path().join("deep"));
    as_nobody("deep_few_fds", t.path());
    assert!(fs::read_dir(t.path().join("deep"))
        .unwrap()
        .next()
        .is_none());
}
