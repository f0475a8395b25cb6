//! The audit trail (beyond Hadoop): one syslog line, facility authpriv, per privileged action,
//! as sudo writes one per command. Who asked (the caller's real uid), as whom (the target user),
//! what (the command and its arguments: ids, pid, signal, paths) and how it ended (the exit
//! status, or `started`/`exec` when the user's program replaces or follows us).
//!
//! Best effort by design: one RFC 3164 datagram to the fixed socket `/dev/log` through a
//! non-blocking, connected Unix datagram socket. No listener, a full queue or any other error
//! drops the line; it never blocks, delays or changes the outcome of the operation.
//!
//! [`begin`] is called once per run (lib.rs) and [`finish`] once with the exit status; a
//! program we exec calls [`exec_started`] through `process::prepare_exec`.

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::net::UnixDatagram;

/// The syslog socket. Fixed: never taken from the environment or the config.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// authpriv (facility 10), as sudo and su use.
pub const FACILITY_AUTHPRIV: u8 = 10;
const SEVERITY_NOTICE: u8 = 5;
const SEVERITY_WARNING: u8 = 4;

/// Longest line we send (classic syslog receivers truncate around 1-8 KiB).
pub const MAX_MESSAGE: usize = 2048;

const TAG: &str = "container-executor";

struct Pending {
    socket: Option<UnixDatagram>,
    fields: String,
}

thread_local! {
    // The binary is single-threaded; this holds the one record of this run.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Start the record of this run from the raw argv (so every command, present and future, is
/// described the same way) and connect the socket while we still have the ids we started with.
pub fn begin(caller_uid: u32, args: &[OsString]) {
    let fields = describe(caller_uid, args);
    let socket = connect();
    PENDING.with(|p| *p.borrow_mut() = Some(Pending { socket, fields }));
}

/// The operation ended with `status` (0 = success): send the record and forget it.
pub fn finish(status: i32) {
    if let Some(pending) = PENDING.with(|p| p.borrow_mut().take()) {
        let outcome = format!("outcome={status}");
        let severity = if status == 0 {
            SEVERITY_NOTICE
        } else {
            SEVERITY_WARNING
        };
        send(
            pending.socket.as_ref(),
            &pending.fields,
            &outcome,
            severity,
            true,
        );
    }
}

/// We are about to exec the user's program (the container script in the forked child, or the
/// localizer in place of this process): one line saying so. The record stays pending, so a
/// failed exec is still reported by [`finish`].
pub fn exec_started() {
    PENDING.with(|p| {
        if let Some(pending) = p.borrow().as_ref() {
            send(
                pending.socket.as_ref(),
                &pending.fields,
                "outcome=exec",
                SEVERITY_NOTICE,
                false,
            );
        }
    });
}

fn connect() -> Option<UnixDatagram> {
    let socket = UnixDatagram::unbound().ok()?;
    socket.set_nonblocking(true).ok()?;
    socket.connect(SYSLOG_SOCKET).ok()?;
    Some(socket)
}

/// `reconnect`: on failure, one fresh connection and try. Only for the final line
/// ([`finish`]): the listener may have restarted while a container ran. The exec line follows
/// [`begin`]'s connection by moments (and in launch's child it would connect as the user), so
/// a socket that was not there then is not tried again for it.
fn send(socket: Option<&UnixDatagram>, fields: &str, outcome: &str, severity: u8, reconnect: bool) {
    let line = format_line(fields, outcome, severity, std::process::id(), now_utc());
    let sent = socket.is_some_and(|s| s.send(line.as_bytes()).is_ok());
    if !sent && reconnect {
        // The listener may have restarted while a container ran: one fresh try, never a wait.
        if let Some(fresh) = connect() {
            let _ = fresh.send(line.as_bytes());
        }
    }
}

/// `caller=<uid> user=<run-as user|-> yarn_user=<yarn user|-> command=<name> args="<rest>"`.
///
/// Every value is escaped ([`escape_value`]): control characters, spaces, `=`, `"` and `\`
/// become `\xNN`, so no caller-chosen text can forge a line or a field; `args` is the list of
/// the remaining (escaped) words, space-separated inside double quotes. The NodeManager's
/// positional form names the run-as user and the yarn user (whose `usercache` is chowned); an
/// operator subcommand is logged as parsed: its name as the command, `--user` as the user, its
/// other options as `name=value` words.
pub fn describe(caller_uid: u32, args: &[OsString]) -> String {
    let (user, yarn_user, command, rest) = request_fields(args);
    let or_dash = |v: String| if v.is_empty() { "-".to_string() } else { v };
    format!(
        "caller={caller_uid} user={} yarn_user={} command={} args=\"{}\"",
        or_dash(user),
        or_dash(yarn_user),
        or_dash(command),
        rest.join(" ")
    )
}

/// (user, yarn user, command, remaining words), every one escaped.
fn request_fields(args: &[OsString]) -> (String, String, String, Vec<String>) {
    let lossy = |a: &OsString| a.to_string_lossy().into_owned();
    let escaped = |a: &OsString| escape_value(&a.to_string_lossy());
    let first = args.get(1).map(lossy).unwrap_or_default();
    let operator = crate::operator::is_operator_argv(args);
    if operator {
        if let Some(parsed) = operator_fields(args) {
            return parsed;
        }
    }
    if operator || first.starts_with("--") || args.len() < 4 {
        let rest = args.get(2..).unwrap_or(&[]).iter().map(escaped).collect();
        return (String::new(), String::new(), escape_value(&first), rest);
    }
    let number = args[3].to_string_lossy();
    let rest = args.get(4..).unwrap_or(&[]).iter().map(escaped).collect();
    (
        escape_value(&lossy(&args[1])),
        escape_value(&lossy(&args[2])),
        command_name(&number),
        rest,
    )
}

/// An operator subcommand as its parser reads it; None if it does not parse (then the words
/// are logged as given).
fn operator_fields(args: &[OsString]) -> Option<(String, String, String, Vec<String>)> {
    let matches = crate::operator::command().try_get_matches_from(args).ok()?;
    let (name, sub) = matches.subcommand()?;
    let value = |id: &str| -> Vec<String> {
        sub.get_many::<OsString>(id)
            .map(|vs| vs.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    };
    let user = value("user").into_iter().next().unwrap_or_default();
    let mut rest = Vec::new();
    for id in sub.ids() {
        let id = id.as_str();
        if id == "user" {
            continue;
        }
        for v in value(id) {
            rest.push(format!("{}={}", escape_value(id), escape_value(&v)));
        }
    }
    Some((escape_value(&user), String::new(), escape_value(name), rest))
}

/// One value of an audit field: control characters (tab included), DEL, space, `=`, `"` and
/// `\` as `\xNN`, so the value is one word that cannot end a field, start another or mimic an
/// escape.
pub fn escape_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, ' ' | '=' | '"' | '\\' | '\u{7f}') {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Hadoop's run-as-user command numbers by name; anything else as given.
fn command_name(number: &str) -> String {
    let name = match number {
        "0" => "initialize",
        "1" => "launch",
        "2" => "signal",
        "3" => "delete",
        "4" => "launch-docker",
        "5" => "list",
        "6" => "sync-yarn-sysfs",
        other => return escape_value(other),
    };
    name.to_string()
}

/// One RFC 3164 line: `<PRI>Mmm dd hh:mm:ss container-executor[pid]: fields outcome`, cut at
/// [`MAX_MESSAGE`] bytes (on a character boundary). The time is UTC (receivers on the local
/// socket normally stamp lines themselves).
pub fn format_line(
    fields: &str,
    outcome: &str,
    severity: u8,
    pid: u32,
    (month, day, h, m, s): (usize, u32, u32, u32, u32),
) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let pri = u32::from(FACILITY_AUTHPRIV) * 8 + u32::from(severity);
    // The outcome comes before the (unbounded) argument list so truncation never hides it.
    let (head, args) = fields
        .split_once(" args=")
        .map_or((fields, ""), |(h, a)| (h, a));
    let mut line = format!(
        "<{pri}>{} {day:>2} {h:02}:{m:02}:{s:02} {TAG}[{pid}]: {head} {outcome} args={args}",
        MONTHS[month % 12]
    );
    if line.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
    }
    line
}

/// (month 0-11, day, hour, minute, second) of now, in UTC.
fn now_utc() -> (usize, u32, u32, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (month, day) = month_day(days);
    (
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Month (0-11) and day of month for a count of days since 1970-01-01 (civil calendar).
fn month_day(days: u64) -> (usize, u32) {
    // Howard Hinnant's days-to-civil algorithm, for non-negative days.
    let z = days + 719_468;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 2 } else { mp - 10 } as usize;
    (month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn run_as_commands_are_named() {
        let d = describe(1001, &os(&["ce", "alice", "yarnu", "2", "1234", "15"]));
        assert_eq!(
            d,
            "caller=1001 user=alice yarn_user=yarnu command=signal args=\"1234 15\""
        );
        let d = describe(0, &os(&["ce", "--tc-read-state", "/x/f"]));
        assert_eq!(
            d,
            "caller=0 user=- yarn_user=- command=--tc-read-state args=\"/x/f\""
        );
        assert_eq!(
            describe(5, &os(&["ce"])),
            "caller=5 user=- yarn_user=- command=- args=\"\""
        );
    }

    #[test]
    fn operator_subcommands_are_logged_as_parsed() {
        let d = describe(
            7,
            &os(&[
                "ce",
                "signal",
                "--user=alice",
                "--pid",
                "12",
                "--signal",
                "KILL",
            ]),
        );
        assert!(
            d.starts_with("caller=7 user=alice yarn_user=- command=signal args=\""),
            "{d}"
        );
        assert!(d.contains("pid=12") && d.contains("signal=KILL"), "{d}");
        // Not parseable: logged word by word, escaped.
        let d = describe(7, &os(&["ce", "signal", "--bogus", "x y"]));
        assert!(d.contains("command=signal args=\"--bogus x\\x20y\""), "{d}");
    }

    #[test]
    fn spaces_and_equals_cannot_add_fields() {
        let forged = "bob command=delete outcome=0 \"x\\";
        let d = describe(1, &os(&["ce", forged, forged, forged, forged]));
        // Exactly five fields: four plain words, then the quoted argument list.
        let (head, args) = d.split_once(" args=").unwrap();
        assert_eq!(head.split(' ').count(), 4, "{d}");
        assert!(head.split(' ').all(|f| f.matches('=').count() == 1), "{d}");
        assert!(args.starts_with('"') && args.ends_with('"'), "{d}");
        assert_eq!(args.matches('"').count(), 2, "{d}");
        assert!(!args.contains(' '), "{d}");
        assert_eq!(
            escape_value("a b=c\"d\\e\tf"),
            "a\\x20b\\x3dc\\x22d\\x5ce\\x09f"
        );
    }

    #[test]
    fn caller_text_cannot_forge_lines() {
        let d = describe(7, &os(&["ce", "al\nice", "y", "3", "/a\n<13>x"]));
        assert!(!d.contains('\n'));
        assert!(d.contains("user=al\\x0aice"));
        assert!(d.contains("/a\\x0a<13>x"));
    }

    #[test]
    fn line_is_rfc3164_authpriv_and_bounded() {
        let line = format_line(
            "caller=1 user=u command=list args=/x",
            "outcome=0",
            5,
            42,
            (11, 1, 2, 3, 4),
        );
        assert_eq!(
            line,
            "<85>Dec  1 02:03:04 container-executor[42]: caller=1 user=u command=list outcome=0 args=/x"
        );
        let long = format!("caller=1 user=u command=list args={}", "é".repeat(5000));
        let line = format_line(&long, "outcome=0", 4, 1, (0, 10, 0, 0, 0));
        assert!(line.len() <= MAX_MESSAGE);
        assert!(line.starts_with("<84>Jan 10 "));
        assert!(line.contains("outcome=0 args="));
    }

    #[test]
    fn calendar() {
        assert_eq!(month_day(0), (0, 1)); // 1970-01-01
        assert_eq!(month_day(59), (2, 1)); // 1970-03-01
        assert_eq!(month_day(11_016), (1, 29)); // 2000-02-29
        assert_eq!(month_day(20_787), (10, 30)); // 2026-11-30
    }

    #[test]
    fn no_listener_is_harmless() {
        // Nothing pending: nothing sent, no panic.
        exec_started();
        finish(3);
        assert!(PENDING.with(|p| p.borrow().is_none()));
    }
}
