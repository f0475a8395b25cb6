//! The setuid entry point: process hygiene first, then the pipeline, then one exit status.
#![forbid(unsafe_code)]

fn main() {
    container_executor::process::harden_at_start();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let status = container_executor::run(&args);
    std::process::exit(status & 0xff);
}
