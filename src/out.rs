//! The binary's two output streams, as Hadoop names them: LOG is stdout, ERR is stderr.
//!
//! Writes never panic: with SIGPIPE ignored a vanished reader gives EPIPE, and a setuid program
//! must not abort half-way because the NodeManager stopped listening. Control characters in
//! what we print are escaped, so caller-chosen text cannot forge lines the NodeManager parses.

use std::io::Write;

/// One line on stdout (Hadoop's LOG).
pub fn log(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", escape_controls(line));
    let _ = out.flush();
}

/// One line on stderr (Hadoop's ERR).
pub fn err(line: &str) {
    let mut out = std::io::stderr().lock();
    let _ = writeln!(out, "{}", escape_controls(line));
}

/// Raw bytes on stdout, exactly as given (list-as-user names, the usage text).
pub fn log_raw(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// The C library's text for a failed call (`strerror`), as Hadoop prints it after ` - `: for an
/// OS error the standard library's message without its ` (os error N)` suffix, otherwise the
/// error's own message.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(n) => match text.strip_suffix(&format!(" (os error {n})")) {
            Some(plain) => plain.to_string(),
            None => text,
        },
        None => text,
    }
}

/// [`strerror`] for a `nix` errno (whose `Display` adds the `ENOENT: ` name).
pub fn errno_text(e: nix::errno::Errno) -> String {
    strerror(&std::io::Error::from_raw_os_error(e as i32))
}

/// The errors whose message text is the C library's: `io::Error` and `nix` errnos.
pub trait OsText {
    fn os_text(&self) -> String;
}

impl OsText for std::io::Error {
    fn os_text(&self) -> String {
        strerror(self)
    }
}

impl OsText for nix::errno::Errno {
    fn os_text(&self) -> String {
        errno_text(*self)
    }
}

/// [`strerror`] for either kind of error, for messages built with `format!`.
pub fn os_text<E: OsText + ?Sized>(e: &E) -> String {
    e.os_text()
}

/// Escape C0 controls (except tab) and DEL as `\xNN`, so one message stays one line.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if (c.is_control() && c != '\t') || c == '\u{7f}' {
            escaped.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_is_the_c_library_text() {
        let enoent = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(strerror(&enoent), "No such file or directory");
        assert_eq!(errno_text(nix::errno::Errno::EACCES), "Permission denied");
        let custom = std::io::Error::new(std::io::ErrorKind::InvalidInput, "refusing x");
        assert_eq!(strerror(&custom), "refusing x");
    }

    #[test]
    fn newlines_and_escapes_are_made_visible() {
        assert_eq!(escape_controls("plain text"), "plain text");
        assert_eq!(escape_controls("a\nmain : x"), "a\\x0amain : x");
        assert_eq!(escape_controls("bell\x07\x1b[0m"), "bell\\x07\\x1b[0m");
        assert_eq!(escape_controls("tab\tok"), "tab\tok");
    }
}
