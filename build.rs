//! Build script: two build-time facts, nothing else.
//!
//! 1. The configuration directory is fixed when building (Hadoop's `container-executor.conf.dir`),
//!    from `CONTAINER_EXECUTOR_CONF_DIR`, default `../etc/hadoop`. It is read by `env!` in
//!    `src/setup.rs`; declaring it here makes cargo rebuild when it changes.
//! 2. A setuid binary should depend on as few shared objects as possible. Rust's std asks the
//!    linker for `-lgcc_s` (the unwinder). We offer the linker a static `libgcc_s.a` (a copy of
//!    gcc's `libgcc_eh.a`) first in the search path, so the unwinder is linked in statically and
//!    the binary's only NEEDED entry is libc. Under `cargo zigbuild` (the release build of
//!    `packaging/build`, glibc 2.28 floor) this is not needed: cargo-zigbuild turns `-lgcc_s`
//!    into zig's static LLVM libunwind, and the host's `libgcc_eh.a` (which calls glibc 2.35's
//!    `_dl_find_object`) must stay out of that link.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CONTAINER_EXECUTOR_CONF_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let dir =
        std::env::var("CONTAINER_EXECUTOR_CONF_DIR").unwrap_or_else(|_| "../etc/hadoop".into());
    if dir.is_empty() || dir.contains('\0') {
        panic!("CONTAINER_EXECUTOR_CONF_DIR must be a non-empty path");
    }
    println!("cargo:rustc-env=CE_CONF_DIR={dir}");

    println!("cargo:rerun-if-env-changed=CARGO_ZIGBUILD_TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.contains("linux-gnu") || std::env::var_os("CARGO_ZIGBUILD_TARGET").is_some() {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let Ok(out) = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        println!("cargo:warning=could not run {cc}; the binary will need libgcc_s.so");
        return;
    };
    let eh = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    if !eh.is_absolute() || !eh.exists() {
        println!("cargo:warning=libgcc_eh.a not found; the binary will need libgcc_s.so");
        return;
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let shim = out_dir.join("static-libgcc");
    std::fs::create_dir_all(&shim).expect("create shim dir");
    std::fs::copy(&eh, shim.join("libgcc_s.a")).expect("copy libgcc_eh.a");
    println!("cargo:rustc-link-search=native={}", shim.display());
}
