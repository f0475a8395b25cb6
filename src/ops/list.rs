//! Command 5: list a directory as the user (`docs/layout.md` §8). The NodeManager turns every
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
    let mut lines = Vec::with_capacity(OUTPUT_CHUNK);
    if !meta.is_dir() {
        push_line(&mut lines, path.as_os_str().as_bytes());
        out::log_raw(&lines);
        return Ok(0);
    }
    // Names are written as they are read, in chunks: memory stays flat whatever the size.
    let mut write_name = |name: &std::ffi::OsStr| {
        push_line(&mut lines, name.as_bytes());
        if lines.len() >= OUTPUT_CHUNK {
            out::log_raw(&lines);
            lines.clear();
        }
    };
    let listed = DirFd::open_root(path).and_then(|d| d.for_each_name(&mut write_name));
    // What was read goes out even if reading stopped half-way (Hadoop prints as it reads).
    out::log_raw(&lines);
    listed.map_err(|e| {
        out::log(&format!(
            "Could not read directory {} - {e}",
            path.display()
        ));
        Error::Failed(format!("Could not read directory {}", path.display()))
    })?;
    Ok(0)
}

/// Names go out in chunks of about this many bytes: a write per name would be a syscall per
/// entry (10,000 of them for a 10,000-entry directory), where `ls` buffers.
const OUTPUT_CHUNK: usize = 64 * 1024;

/// One name per line. A name holding a control character (a newline could smuggle a second
/// entry such as `..` into the NodeManager's parse) is written escaped, as one line.
fn push_line(lines: &mut Vec<u8>, name: &[u8]) {
    if name.iter().any(|b| b.is_ascii_control()) {
        let text = String::from_utf8_lossy(name);
        lines.extend_from_slice(out::escape_controls(&text).as_bytes());
    } else {
        lines.extend_from_slice(name);
    }
    lines.push(b'\n');
}
