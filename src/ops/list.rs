//! Command 5: list a directory as the user (`filesystem.md` §8). The NodeManager turns every
//! stdout line not starting with `main :` into a file name, so nothing else may reach stdout.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::DirFd;
use crate::identity;
use crate::out;

use super::Ctx;

pub fn list_as_user(ctx: &Ctx, path: Option<OsString>) -> Result<i32> {
    let Some(path) = path else {
        out::log("Could not stat (null) - Bad address");
        return Err(Error::Failed("No directory to list".into()));
    };
    let path = Path::new(&path);
    // Listing needs no privilege at all: drop for good first (Hadoop lists with euid = user).
    identity::drop_to_user_permanently(&ctx.user)?;
    crate::process::set_no_new_privs()?;
    if !path.is_absolute() {
        out::log(&format!(
            "Could not stat {} - refusing a relative path",
            path.display()
        ));
        return Err(Error::Failed("Relative path".into()));
    }
    let meta = std::fs::metadata(path).map_err(|e| {
        out::log(&format!("Could not stat {} - {e}", path.display()));
        Error::Failed(format!("Could not stat {}", path.display()))
    })?;
    if !meta.is_dir() {
        print_name(path.as_os_str().as_bytes());
        return Ok(0);
    }
    let names = DirFd::open_root(path).and_then(|d| d.list()).map_err(|e| {
        out::log(&format!(
            "Could not read directory {} - {e}",
            path.display()
        ));
        Error::Failed(format!("Could not read directory {}", path.display()))
    })?;
    for name in names {
        print_name(name.as_bytes());
    }
    Ok(0)
}

/// One name per line. A name holding a control character (a newline could smuggle a second
/// entry such as `..` into the NodeManager's parse) is printed escaped, as one line.
fn print_name(name: &[u8]) {
    if name.iter().any(|b| b.is_ascii_control()) {
        out::log(&String::from_utf8_lossy(name));
    } else {
        let mut line = name.to_vec();
        line.push(b'\n');
        out::log_raw(&line);
    }
}
