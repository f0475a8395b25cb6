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
        return Err(Error::Logged);
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
        return Err(Error::Logged);
    }
    // Hadoop's messages go to LOG (stdout) with the C library's error text, and nothing else
    // follows but the final line.
    let meta = std::fs::metadata(path).map_err(|e| {
        out::log(&format!(
            "Could not stat {} - {}",
            path.display(),
            out::strerror(&e)
        ));
        Error::Logged
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
    let dir = DirFd::open_root(path).map_err(|e| {
        out::log(&format!(
            "Could not open directory {} - {}",
            path.display(),
            out::strerror(&e)
        ));
        Error::Logged
    })?;
    let listed = dir.for_each_name(&mut write_name);
    // What was read goes out even if reading stopped half-way (Hadoop prints as it reads).
    out::log_raw(&lines);
    listed.map_err(|e| {
        out::log(&format!(
            "Could not read directory {} - {}",
            path.display(),
            out::strerror(&e)
        ));
        Error::Logged
    })?;
    Ok(0)
}

/// Names go out in chunks of about this many bytes: a write per name would be a syscall per
/// entry (10,000 of them for a 10,000-entry directory), where `ls` buffers.
const OUTPUT_CHUNK: usize = 64 * 1024;

/// One name per line. A name the NodeManager could misread is left out and reported on stderr
/// instead (beyond Hadoop, which prints every name): one holding a control character (a newline
/// or CR would smuggle a second entry such as `..` into the NodeManager's parse, a tab or an
/// escape sequence garbles its logs), the name `..`, or one starting with `main :` (the prefix of
/// the lines the NodeManager skips).
fn push_line(lines: &mut Vec<u8>, name: &[u8]) {
    if let Some(why) = unlistable(name) {
        let text = String::from_utf8_lossy(name);
        out::err(&format!(
            "Left out of the listing: {} ({why})",
            out::escape_controls(&text)
        ));
        return;
    }
    lines.extend_from_slice(name);
    lines.push(b'\n');
}

/// Why a name may not be printed as a line of the listing, if it may not.
fn unlistable(name: &[u8]) -> Option<&'static str> {
    if name.iter().any(|b| b.is_ascii_control()) || holds_c1_control(name) {
        Some("it holds a control character")
    } else if name == b".." || name == b"." {
        Some("a name the NodeManager would resolve outside the directory")
    } else if name.starts_with(b"main :") {
        Some("it starts like a line of the helper's own report")
    } else {
        None
    }
}

/// A C1 control (U+0080..U+009F) as UTF-8 encodes it: `C2 80`..`C2 9F`.
fn holds_c1_control(name: &[u8]) -> bool {
    name.windows(2)
        .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &[u8]) -> Vec<u8> {
        let mut lines = Vec::new();
        push_line(&mut lines, name);
        lines
    }

    #[test]
    fn forging_names_are_left_out() {
        for name in [
            &b"a\n.."[..],
            b"tab\there",
            b"cr\r",
            b"esc\x1b[2J",
            b"del\x7f",
            b"nel\xc2\x85x",
            b"..",
            b"main : command provided 0",
        ] {
            assert!(listed(name).is_empty(), "{name:?}");
        }
        assert_eq!(listed(b"plain"), b"plain\n");
        assert_eq!(listed(b"main:x"), b"main:x\n");
        assert_eq!(listed("caf\u{e9}".as_bytes()), "caf\u{e9}\n".as_bytes());
        assert_eq!(listed(b"...x"), b"...x\n");
    }
}
