//! `container-executor.cfg`: the parser and the typed look-ups built on it.
//!
//! The NodeManager's administrators write this file for Hadoop's C binary, so every file that
//! binary accepts must mean the same thing here, and every file it rejects (exit 24) must be
//! rejected here too, with the few deliberate exceptions listed below. Hadoop's format is *not* a standard INI dialect — its quirks (a `#`
//! anywhere starts a comment, `a=b=c` keeps only `b`, the first stored key wins, `key=` stores
//! nothing but `key= ` stores `""`, headers are not trimmed, repeated sections merge) are the
//! contract, so they are implemented deliberately and each one has a test below. The rules are
//! written up in `docs/config.md` §2–§4.
//!
//! Where we are stricter than Hadoop (all of these are parse errors, exit 24):
//! * input larger than [`MAX_CONFIG_BYTES`] or a line longer than [`MAX_LINE_BYTES`] — Hadoop
//!   reads without limit; a root-owned config has no business being megabytes long;
//! * bytes that are not UTF-8 — Hadoop stores any bytes; we want every value to be a `str`;
//! * a NUL byte — Hadoop silently cuts the line at it (and reads out of bounds when the line
//!   starts with one), which no honest file relies on;
//! * a security-relevant key stored twice in one section ([`is_single_valued_key`]) — Hadoop
//!   takes the first; a reader of the file may well take the second.
//!
//! And one place where we are more lenient: when a header name recurs while its section still
//! stores nothing (e.g. `[x]` three times with no entries, or `[x]`, `k=`, `[x]`), Hadoop asks
//! glibc's `realloc` for zero bytes, gets NULL back and exits 18 ("Failed re-allocating memory
//! for configuration items"). That is an allocator accident, not a format rule, so we accept
//! such a file; it means exactly what the same file without the repeats means.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// The fixed file name; only its directory is a build-time choice (docs/config.md §1.1).
pub const CONFIG_FILE_NAME: &str = "container-executor.cfg";
/// Bounds (beyond Hadoop, which has none): larger input is a parse error (Error::Config).
pub const MAX_CONFIG_BYTES: usize = 1 << 20; // whole file
/// Longest accepted line, not counting its terminating `\n`.
pub const MAX_LINE_BYTES: usize = 64 * 1024; // one line

/// The one key the binary cannot run without: the NodeManager's Unix group.
pub const NM_GROUP_KEY: &str = "yarn.nodemanager.linux-container-executor.group";
/// Applied only when `banned.users` is not stored at all; a configured list replaces it.
pub const DEFAULT_BANNED_USERS: [&str; 4] = ["yarn", "mapred", "hdfs", "bin"];
/// Hadoop's compiled-in `min.user.id` (the site docs' "no minimum" is wrong).
pub const DEFAULT_MIN_USER_ID: i32 = 1000;

const BANNED_USERS_KEY: &str = "banned.users";
const ALLOWED_SYSTEM_USERS_KEY: &str = "allowed.system.users";
const MIN_USER_ID_KEY: &str = "min.user.id";
const MODULE_ENABLED_KEY: &str = "module.enabled";
/// Lines before the first header land here; all top-level keys are looked up only here.
const DEFAULT_SECTION: &str = "";

/// A parsed file: sections in order of first appearance, each with its entries in file order.
///
/// Like Hadoop, the default section is kept only when it stores at least one entry, and a
/// header section is kept even when it stores none (its mere presence gates docker and runc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    name: String,
    /// Duplicates are kept: look-ups take the first, exactly as Hadoop's linear search does.
    entries: Vec<(String, String)>,
}

/// The top-level `feature.*` switches read with Hadoop's `is_feature_enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Tc,
    MountCgroup,
    Terminal,
    Docker,
    YarnSysfs,
    Runc,
}

impl Feature {
    /// The key in the default section that switches this feature.
    pub fn key(self) -> &'static str {
        match self {
            Feature::Tc => "feature.tc.enabled",
            Feature::MountCgroup => "feature.mount-cgroup.enabled",
            Feature::Terminal => "feature.terminal.enabled",
            Feature::Docker => "feature.docker.enabled",
            Feature::YarnSysfs => "feature.yarn.sysfs.enabled",
            Feature::Runc => "feature.runc.enabled",
        }
    }
}

/// What one (comment-stripped, non-empty, non-header) line contributes.
enum Entry<'a> {
    Store(&'a str, &'a str),
    Ignore,
}

impl Config {
    /// Parse the file's bytes. `path` is used only in messages. Non-UTF-8 content is a parse error
    /// (a deliberate, documented strictness: Hadoop accepts any bytes).
    ///
    /// Each failure is `Error::Config` naming the file and, where there is one, the 1-based line,
    /// with Hadoop's own wording for the problems Hadoop reports.
    pub fn parse(bytes: &[u8], path: &str) -> Result<Config> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(Error::Config(format!(
                "{path}: configuration file is larger than {MAX_CONFIG_BYTES} bytes"
            )));
        }
        let mut config = Config {
            sections: vec![Section {
                name: DEFAULT_SECTION.to_string(),
                entries: Vec::new(),
            }],
        };
        // Index into `config.sections` of the section new entries go to.
        let mut current = 0;
        // Section name -> index, so a file of many headers parses in linear time.
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        // (section index, key) -> line of the first stored value, for the security-relevant
        // keys that may appear only once (beyond Hadoop, see [`is_single_valued_key`]).
        let mut first_line: HashMap<(usize, String), usize> = HashMap::new();

        // Hadoop's getline: lines end at '\n' only (a '\r' stays part of the line), and a last
        // line without '\n' still counts.
        for (index, raw) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
            let number = index + 1;
            let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
            let line = checked_line(raw, path, number)?;

            // Only column 0 makes a whole-line comment; elsewhere '#' still cuts the rest below.
            if line.starts_with('#') {
                continue;
            }
            let line = match line.find('#') {
                Some(at) => &line[..at],
                None => line,
            };

            if line.starts_with('[') && line.ends_with(']') && line.len() >= 2 {
                // The name is taken verbatim: "[ docker ]" is the section " docker ".
                let name = &line[1..line.len() - 1];
                if name.is_empty() {
                    return Err(Error::Config(format!(
                        "{path}:{number}: Empty section name"
                    )));
                }
                current = match by_name.get(name) {
                    // A repeated header continues the earlier section (merge by appending).
                    Some(&existing) => existing,
                    None => {
                        config.sections.push(Section {
                            name: name.to_string(),
                            entries: Vec::new(),
                        });
                        by_name.insert(name, config.sections.len() - 1);
                        config.sections.len() - 1
                    }
                };
                continue;
            }

            if line.is_empty() {
                continue;
            }

            match parse_entry(line) {
                Ok(Entry::Store(key, value)) => {
                    if is_single_valued_key(&config.sections[current].name, key) {
                        if let Some(first) = first_line.insert((current, key.to_string()), number) {
                            return Err(Error::Config(duplicate_key_message(
                                path,
                                &config.sections[current].name,
                                key,
                                first,
                                number,
                            )));
                        }
                    }
                    config.sections[current]
                        .entries
                        .push((key.to_string(), value.to_string()))
                }
                Ok(Entry::Ignore) => {}
                Err(problem) => return Err(Error::Config(format!("{path}:{number}: {problem}"))),
            }
        }

        // Hadoop drops an entry-less default section; with no header either, nothing is left.
        if config.sections[0].entries.is_empty() {
            config.sections.remove(0);
        }
        if config.sections.is_empty() {
            return Err(Error::Config(format!(
                "Empty configuration file provided {path}"
            )));
        }
        Ok(config)
    }

    /// First value stored for `key` in `section` ("" = the default section), after merging
    /// repeated sections; None if not stored.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.section(section)?
            .entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a `[section]` header appeared (even with no entries under it). For "" this is
    /// true only when the default section stores something, as in Hadoop.
    pub fn has_section(&self, section: &str) -> bool {
        self.section(section).is_some()
    }

    /// The value split on ',' with Hadoop's rules (docs/config.md §2 "Lists"); None if key not stored.
    pub fn get_list(&self, section: &str, key: &str) -> Option<Vec<String>> {
        self.get(section, key).map(|v| split_hadoop_list(v, ','))
    }

    /// The configured NodeManager group; None means the binary must refuse to run.
    pub fn nm_group(&self) -> Option<&str> {
        self.get(DEFAULT_SECTION, NM_GROUP_KEY)
    }

    /// Configured list, or DEFAULT_BANNED_USERS when the key is not stored.
    ///
    /// A stored empty value (`banned.users= `) yields `[""]`, which bans nobody real: that is
    /// how Hadoop behaves, and how an administrator switches the default list off.
    pub fn banned_users(&self) -> Vec<String> {
        self.get_list(DEFAULT_SECTION, BANNED_USERS_KEY)
            .unwrap_or_else(|| DEFAULT_BANNED_USERS.iter().map(|s| s.to_string()).collect())
    }

    /// Users accepted despite a uid below `min.user.id`; empty when the key is not stored.
    pub fn allowed_system_users(&self) -> Vec<String> {
        self.get_list(DEFAULT_SECTION, ALLOWED_SYSTEM_USERS_KEY)
            .unwrap_or_default()
    }

    /// Ok(DEFAULT_MIN_USER_ID) when absent. Err(raw value) when the value is not a whole decimal
    /// integer (strtol base 10 rules: optional leading whitespace and sign, digits, nothing after)
    /// OR does not fit in i32.
    ///
    /// The range check is ours: Hadoop narrows the parsed `long` to `int` without looking, so
    /// `4294968296` would silently become 1000 there. We refuse such a value instead (the caller
    /// then rejects every user, as for any illegal value), since a limit that means something
    /// other than what is written is worse than a loud failure. Negative values that fit are
    /// returned as they are; the caller compares them the way Hadoop does.
    pub fn min_user_id(&self) -> std::result::Result<i32, String> {
        match self.get(DEFAULT_SECTION, MIN_USER_ID_KEY) {
            None => Ok(DEFAULT_MIN_USER_ID),
            Some(raw) => match parse_decimal(raw) {
                Some((negative, magnitude)) => {
                    let value = if negative {
                        magnitude.checked_neg()
                    } else {
                        Some(magnitude)
                    };
                    value
                        .and_then(|v| i32::try_from(v).ok())
                        .ok_or_else(|| raw.to_string())
                }
                None => Err(raw.to_string()),
            },
        }
    }

    /// Hadoop's is_feature_enabled for a top-level feature.* key (default false): "true"/"false"
    /// case-insensitive, or a decimal string equal to 1/0; anything else prints on LOG
    /// `Illegal value '<v>' for '<key>' in configuration. Using default value: 0.` and returns false.
    ///
    /// Hadoop narrows the `strtol` result to `int` before its range test, so `4294967297` counts
    /// as 1 there. We do NOT replicate that quirk: only numbers whose real value is 0 or 1 count
    /// (`01`, `+1`, `-0` included), anything out of range is illegal like any other junk.
    pub fn feature_enabled(&self, feature: Feature) -> bool {
        let key = feature.key();
        let Some(value) = self.get(DEFAULT_SECTION, key) else {
            return false;
        };
        match feature_value(value) {
            Some(enabled) => enabled,
            None => {
                crate::out::log(&format!(
                    "Illegal value '{value}' for '{key}' in configuration. Using default value: 0."
                ));
                false
            }
        }
    }

    /// Hadoop's module_enabled: exactly "true" in `[section] module.enabled`. When false prints on
    /// LOG `Module <section> is disabled`.
    ///
    /// A missing section counts as disabled and prints too (Hadoop's gpu/fpga/devices modules
    /// evaluate it that way); docker and runc only ask when their section exists.
    pub fn module_enabled(&self, section: &str) -> bool {
        let enabled = self.get(section, MODULE_ENABLED_KEY) == Some("true");
        if !enabled {
            crate::out::log(&format!("Module {section} is disabled"));
        }
        enabled
    }

    /// Docker gate: feature.docker.enabled OR (section "docker" exists AND module_enabled("docker")),
    /// short-circuit as docs/config.md §4.1 notes. Same for runc with "runc".
    ///
    /// The order matters for output: with the feature key on, `[docker]` is never consulted and
    /// no `Module docker is disabled` line can appear.
    pub fn docker_enabled(&self) -> bool {
        self.feature_enabled(Feature::Docker)
            || (self.has_section("docker") && self.module_enabled("docker"))
    }

    /// Runc gate, the same shape as [`Config::docker_enabled`].
    pub fn runc_enabled(&self) -> bool {
        self.feature_enabled(Feature::Runc)
            || (self.has_section("runc") && self.module_enabled("runc"))
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

/// Beyond Hadoop (which silently takes the first value): a security-relevant key stored twice
/// in one section (repeated headers merged) makes the configuration invalid, so no reader of
/// the file can take the other value for the one in force. These are the NodeManager group,
/// `banned.users`, `allowed.system.users`, `min.user.id`, every `feature.*` switch, the
/// `nm-user` pin and `no-new-privileges` at the top level; in any section `module.enabled`,
/// every allow- or deny-list and trust or privilege switch (a key naming `allowed`, `denied`,
/// `trusted` or `privileged`), device major numbers, binary paths, and `[cgroups] root` and
/// `yarn-hierarchy`. A `key=` line stores nothing and does not count (Hadoop's sample file has
/// such lines for the admin to fill in below).
pub fn is_single_valued_key(section: &str, key: &str) -> bool {
    const TOP_LEVEL: [&str; 6] = [
        NM_GROUP_KEY,
        BANNED_USERS_KEY,
        ALLOWED_SYSTEM_USERS_KEY,
        MIN_USER_ID_KEY,
        crate::setup::NM_USER_KEY,
        crate::process::NO_NEW_PRIVS_KEY,
    ];
    if section == DEFAULT_SECTION && (TOP_LEVEL.contains(&key) || key.starts_with("feature.")) {
        return true;
    }
    if section == "cgroups" && (key == "root" || key == "yarn-hierarchy") {
        return true;
    }
    key == MODULE_ENABLED_KEY
        || ["allowed", "denied", "trusted", "privileged"]
            .iter()
            .any(|word| key.contains(word))
        || key.ends_with("major-device-number")
        || key.ends_with(".binary")
}

fn duplicate_key_message(
    path: &str,
    section: &str,
    key: &str,
    first: usize,
    again: usize,
) -> String {
    let place = if section == DEFAULT_SECTION {
        String::new()
    } else {
        format!(" in [{section}]")
    };
    format!(
        "{path}:{again}: duplicate key '{key}'{place}: set on line {first} and again on line {again}; \
         a security-relevant key may appear only once"
    )
}

/// Hadoop's strtok-based split used for ',' lists and '%' directory lists (docs/protocol.md §5.2):
/// runs of the separator collapse, leading/trailing separators ignored, no trimming, and a string
/// with no token at all yields one element equal to the whole string ("" -> [""], "%%" -> ["%%"]).
pub fn split_hadoop_list(value: &str, sep: char) -> Vec<String> {
    let items: Vec<String> = strtok(value, sep).map(str::to_string).collect();
    if items.is_empty() {
        vec![value.to_string()]
    } else {
        items
    }
}

/// The tokens `strtok` would return: the non-empty runs between separators.
fn strtok(text: &str, sep: char) -> impl Iterator<Item = &str> {
    text.split(sep).filter(|t| !t.is_empty())
}

/// Apply the bounds and the encoding rules to one physical line (without its `\n`).
fn checked_line<'a>(raw: &'a [u8], path: &str, number: usize) -> Result<&'a str> {
    if raw.len() > MAX_LINE_BYTES {
        return Err(Error::Config(format!(
            "{path}:{number}: line is longer than {MAX_LINE_BYTES} bytes"
        )));
    }
    if raw.contains(&0) {
        return Err(Error::Config(format!(
            "{path}:{number}: line contains a NUL byte"
        )));
    }
    std::str::from_utf8(raw)
        .map_err(|_| Error::Config(format!("{path}:{number}: line is not valid UTF-8")))
}

/// Hadoop's entry rule: strtok on '=', key = first token, value = second token only, both
/// trimmed of C whitespace. Returns the problem text (Hadoop's wording) for a fatal line.
fn parse_entry(line: &str) -> std::result::Result<Entry<'_>, String> {
    let mut tokens = strtok(line, '=');
    let Some(key) = tokens.next() else {
        // Non-empty yet no token: the line is nothing but '='.
        return Err(format!("Error with line '{line}', no '=' found"));
    };
    match tokens.next() {
        Some(value) => Ok(Entry::Store(c_trim(key), c_trim(value))),
        // `key=`, `=value`, `key=#…`: an '=' but no value token, dropped without a word.
        None if line.contains('=') => Ok(Entry::Ignore),
        // No '=' at all — including blank-only lines and a lone '\r' from a CRLF file.
        None => Err(format!(
            "configuration tokenization failed, error with line '{line}'"
        )),
    }
}

/// C's `isspace` in the "C" locale; Rust's own notions differ (`\v` is not ASCII whitespace to
/// `u8::is_ascii_whitespace`, and `str::trim` also strips Unicode spaces).
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

fn c_trim(text: &str) -> &str {
    text.trim_matches(is_c_space)
}

/// `strtol(…, 10)` demanding that the whole string is consumed: optional leading C whitespace,
/// optional sign, at least one digit, nothing after. Returns the sign and the magnitude, or None
/// when the shape is wrong. Magnitudes beyond `i64` saturate (they are out of every range we use).
fn parse_decimal(text: &str) -> Option<(bool, i64)> {
    let body = text.trim_start_matches(is_c_space);
    let (negative, digits) = if let Some(rest) = body.strip_prefix('-') {
        (true, rest)
    } else {
        (false, body.strip_prefix('+').unwrap_or(body))
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Some((negative, magnitude))
}

/// The accepted spellings of a feature switch; None for anything Hadoop calls illegal.
fn feature_value(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        return Some(true);
    }
    if value.eq_ignore_ascii_case("false") {
        return Some(false);
    }
    match parse_decimal(value)? {
        (_, 0) => Some(false),
        (false, 1) => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/etc/hadoop/container-executor.cfg";

    fn parse(text: &str) -> Config {
        Config::parse(text.as_bytes(), PATH).unwrap()
    }

    fn parse_err(bytes: &[u8]) -> String {
        match Config::parse(bytes, PATH) {
            Err(Error::Config(message)) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn section_names(config: &Config) -> Vec<&str> {
        config.sections.iter().map(|s| s.name.as_str()).collect()
    }

    // ---- comments -------------------------------------------------------------------------

    #[test]
    fn column_zero_hash_is_a_comment_line() {
        let c = parse("#a=1\nb=2\n#[docker]\n");
        assert_eq!(c.get("", "a"), None);
        assert_eq!(c.get("", "#a"), None);
        assert_eq!(c.get("", "b"), Some("2"));
        assert!(!c.has_section("docker"));
    }

    #[test]
    fn hash_anywhere_cuts_the_rest_of_the_line() {
        let c = parse("a=1#one\nb = x # y\nc=p#q#r\n");
        assert_eq!(c.get("", "a"), Some("1"));
        assert_eq!(c.get("", "b"), Some("x"));
        assert_eq!(c.get("", "c"), Some("p"));
    }

    #[test]
    fn value_made_only_of_a_comment_is_not_stored() {
        let c = parse("test.key=#no value\nother=1\n");
        assert_eq!(c.get("", "test.key"), None);
    }

    #[test]
    fn blanks_before_an_inline_comment_store_an_empty_value() {
        let c = parse("banned.users= #list\nother=1\n");
        assert_eq!(c.get("", "banned.users"), Some(""));
        assert_eq!(c.banned_users(), strings(&[""]));
    }

    #[test]
    fn indented_comment_is_fatal() {
        let message = parse_err(b"a=1\n  # indented\n");
        assert_eq!(
            message,
            format!("{PATH}:2: configuration tokenization failed, error with line '  '")
        );
    }

    // ---- entries --------------------------------------------------------------------------

    #[test]
    fn key_and_value_are_trimmed_of_c_whitespace() {
        let c = parse("\t key \t=\u{0b} value \u{0c}\r\n");
        assert_eq!(c.get("", "key"), Some("value"));
    }

    #[test]
    fn unicode_spaces_are_not_trimmed() {
        let c = parse("k=\u{a0}v\u{a0}\n");
        assert_eq!(c.get("", "k"), Some("\u{a0}v\u{a0}"));
    }

    #[test]
    fn text_after_a_second_equals_is_dropped() {
        let c = parse("a=b=c\nd = e = f\n");
        assert_eq!(c.get("", "a"), Some("b"));
        assert_eq!(c.get("", "d"), Some("e"));
    }

    #[test]
    fn runs_of_equals_collapse() {
        let c = parse("k==v\n");
        assert_eq!(c.get("", "k"), Some("v"));
    }

    #[test]
    fn key_without_value_is_not_stored() {
        let c = parse("key=\nkey = \t\nx=1\n");
        // `key=` stores nothing, so the first stored `key` is the blank one on line 2.
        assert_eq!(c.get("", "key"), Some(""));
        let c = parse("key=\nx=1\n");
        assert_eq!(c.get("", "key"), None);
    }

    #[test]
    fn blank_value_is_stored_as_empty() {
        let c = parse("key= \n");
        assert_eq!(c.get("", "key"), Some(""));
    }

    #[test]
    fn leading_equals_is_skipped_and_the_line_ignored() {
        // "=value": the first token is "value" and there is no second one.
        assert_eq!(
            parse_err(b"=value\n"),
            format!("Empty configuration file provided {PATH}")
        );
        let c = parse("=value\nx=1\n= =\n");
        assert_eq!(c.get("", "value"), None);
        assert_eq!(c.get("", "x"), Some("1"));
    }

    #[test]
    fn blank_key_is_stored_and_makes_the_file_non_empty() {
        let c = parse(" =v\n");
        assert_eq!(c.get("", ""), Some("v"));
        assert!(c.has_section(""));
    }

    #[test]
    fn line_of_only_equals_is_fatal() {
        assert_eq!(
            parse_err(b"a=1\n===\n"),
            format!("{PATH}:2: Error with line '===', no '=' found")
        );
        assert_eq!(
            parse_err(b"=\n"),
            format!("{PATH}:1: Error with line '=', no '=' found")
        );
    }

    #[test]
    fn line_without_equals_is_fatal() {
        assert_eq!(
            parse_err(b"a=1\nnonsense\n"),
            format!("{PATH}:2: configuration tokenization failed, error with line 'nonsense'")
        );
    }

    #[test]
    fn blank_only_line_is_fatal() {
        assert_eq!(
            parse_err(b"a=1\n   \n"),
            format!("{PATH}:2: configuration tokenization failed, error with line '   '")
        );
        assert!(parse_err(b"a=1\n\t\n").contains(":2: configuration tokenization failed"));
    }

    #[test]
    fn empty_lines_are_ignored() {
        let c = parse("\n\na=1\n\n\n[x]\n\nb=2\n\n");
        assert_eq!(c.get("", "a"), Some("1"));
        assert_eq!(c.get("x", "b"), Some("2"));
    }

    #[test]
    fn security_relevant_key_twice_is_invalid_naming_both_lines() {
        for (text, key, lines) in [
            ("min.user.id=1000\nx=1\nmin.user.id=0\n", "min.user.id", (1, 3)),
            ("banned.users=a\nbanned.users=b\n", "banned.users", (1, 2)),
            ("feature.tc.enabled=0\nfeature.tc.enabled=1\n", "feature.tc.enabled", (1, 2)),
            (
                "a=1\n[docker]\ndocker.allowed.devices=/dev/x\n[gpu]\n[docker]\ndocker.allowed.devices=/dev/y\n",
                "docker.allowed.devices",
                (3, 6),
            ),
            ("[cgroups]\nroot=/sys/fs/cgroup\nroot=/tmp\n", "root", (2, 3)),
            ("[gpu]\nmodule.enabled=false\nmodule.enabled=true\n", "module.enabled", (2, 3)),
        ] {
            let err = Config::parse(text.as_bytes(), PATH).unwrap_err();
            assert_eq!(err.code().number(), 24, "{text}");
            let msg = err.to_string();
            assert!(msg.contains(&format!("duplicate key '{key}'")), "{msg}");
            assert!(
                msg.contains(&format!("line {} and again on line {}", lines.0, lines.1)),
                "{msg}"
            );
        }
    }

    #[test]
    fn harmless_repeats_stay_accepted() {
        // A `key=` line stores nothing (Hadoop's sample file), other keys keep first-wins, and
        // the same key in two different sections is two keys.
        let c = parse("banned.users=#fill in\nbanned.users=a\nk=1\nk=2\n[x]\nmin.user.id=5\n");
        assert_eq!(c.get("", "banned.users"), Some("a"));
        assert_eq!(c.get("", "k"), Some("1"));
        let c = parse("root=/a\n[cgroups]\nroot=/b\n");
        assert_eq!(c.get("cgroups", "root"), Some("/b"));
    }

    #[test]
    fn first_stored_key_wins() {
        let c = parse("k=v\nk=w\n");
        assert_eq!(c.get("", "k"), Some("v"));
    }

    #[test]
    fn keys_are_case_sensitive() {
        let c = parse("Key=1\n");
        assert_eq!(c.get("", "key"), None);
        assert_eq!(c.get("", "Key"), Some("1"));
    }

    #[test]
    fn value_keeps_inner_spaces_and_colons() {
        let c = parse("docker.binary = /opt/my docker/bin:x \n");
        assert_eq!(c.get("", "docker.binary"), Some("/opt/my docker/bin:x"));
    }

    // ---- line endings ---------------------------------------------------------------------

    #[test]
    fn crlf_entries_are_accepted_because_values_are_trimmed() {
        let c = parse("a=1\r\nb = 2 \r\n");
        assert_eq!(c.get("", "a"), Some("1"));
        assert_eq!(c.get("", "b"), Some("2"));
    }

    #[test]
    fn crlf_blank_line_is_fatal() {
        assert_eq!(
            parse_err(b"a=1\r\n\r\nb=2\r\n"),
            format!("{PATH}:2: configuration tokenization failed, error with line '\r'")
        );
    }

    #[test]
    fn crlf_header_is_not_a_header_and_is_fatal() {
        assert_eq!(
            parse_err(b"a=1\n[docker]\r\nmodule.enabled=true\n"),
            format!("{PATH}:2: configuration tokenization failed, error with line '[docker]\r'")
        );
    }

    #[test]
    fn last_line_without_newline_counts() {
        let c = parse("a=1\nk=v");
        assert_eq!(c.get("", "k"), Some("v"));
        let c = parse("[x]");
        assert!(c.has_section("x"));
    }

    // ---- section headers ------------------------------------------------------------------

    #[test]
    fn header_name_is_not_trimmed() {
        let c = parse("[ docker ]\nmodule.enabled=true\n");
        assert!(c.has_section(" docker "));
        assert!(!c.has_section("docker"));
        assert_eq!(c.get(" docker ", "module.enabled"), Some("true"));
        assert!(!c.docker_enabled());
    }

    #[test]
    fn header_name_is_taken_verbatim() {
        let c = parse("[a=b]\n[a]b]\n[ ]\n");
        assert_eq!(section_names(&c), vec!["a=b", "a]b", " "]);
    }

    #[test]
    fn empty_header_is_fatal() {
        assert_eq!(parse_err(b"[]\n"), format!("{PATH}:1: Empty section name"));
        assert_eq!(
            parse_err(b"a=1\n[x]\nb=2\n[]# comment\n"),
            format!("{PATH}:4: Empty section name")
        );
    }

    #[test]
    fn header_followed_by_a_comment_is_fatal() {
        assert_eq!(
            parse_err(b"[docker] # x\n"),
            format!("{PATH}:1: configuration tokenization failed, error with line '[docker] '")
        );
    }

    #[test]
    fn header_directly_followed_by_a_comment_is_a_header() {
        let c = parse("[docker]# x\n");
        assert!(c.has_section("docker"));
    }

    #[test]
    fn comment_inside_brackets_breaks_the_header() {
        assert_eq!(
            parse_err(b"[#]\n"),
            format!("{PATH}:1: configuration tokenization failed, error with line '['")
        );
        assert!(parse_err(b"[\n").contains("error with line '['"));
    }

    #[test]
    fn indented_header_is_fatal() {
        assert_eq!(
            parse_err(b"a=1\n  [docker]\n"),
            format!("{PATH}:2: configuration tokenization failed, error with line '  [docker]'")
        );
    }

    #[test]
    fn section_with_no_entries_exists() {
        let c = parse("[docker]\n");
        assert!(c.has_section("docker"));
        assert_eq!(c.get("docker", "module.enabled"), None);
        let c = parse("[docker]\nmodule.enabled=\n");
        assert!(c.has_section("docker"));
    }

    #[test]
    fn entries_after_a_header_belong_to_it_with_no_way_back() {
        let c = parse(&format!(
            "a=1\n[docker]\n{NM_GROUP_KEY}=hadoop\nfeature.docker.enabled=true\n"
        ));
        assert_eq!(c.nm_group(), None);
        assert_eq!(c.get("docker", NM_GROUP_KEY), Some("hadoop"));
        assert!(!c.feature_enabled(Feature::Docker));
    }

    #[test]
    fn repeated_sections_merge_in_order_and_first_key_wins() {
        // Hadoop's configuration-1.cfg, in short.
        let c = parse(
            "[section-1]\nkey1=value1\nsplit-key=val1,val2,val3\nperc-key=perc-val1%perc-val2\n\
             # some comment\n\n[split-section]\nkey3=value3\n\n[section-2]\nkey1=value2\n\n\
             key2=value2\n\n[split-section]\nkey4=value4\nkey3=late\n",
        );
        assert_eq!(
            section_names(&c),
            vec!["section-1", "split-section", "section-2"]
        );
        assert_eq!(c.get("split-section", "key3"), Some("value3"));
        assert_eq!(c.get("split-section", "key4"), Some("value4"));
        assert_eq!(c.get("section-1", "key1"), Some("value1"));
        assert_eq!(c.get("section-1", "key2"), None);
        assert_eq!(c.get("section-2", "key1"), Some("value2"));
        assert_eq!(c.get("section-2", "key2"), Some("value2"));
        assert_eq!(c.sections[0].entries.len(), 3);
        assert_eq!(c.sections[2].entries.len(), 2);
        assert!(!c.has_section("section-3"));
        assert!(!c.has_section(""));
        assert_eq!(
            c.get_list("section-1", "split-key"),
            Some(strings(&["val1", "val2", "val3"]))
        );
        assert_eq!(
            c.get_list("section-1", "perc-key"),
            Some(strings(&["perc-val1%perc-val2"]))
        );
    }

    #[test]
    fn empty_repeated_header_still_merges() {
        let c = parse("a=1\n[x]\na=2\n[y]\n[x]\na=3\nb=4\n");
        assert_eq!(section_names(&c), vec!["", "x", "y"]);
        assert_eq!(c.get("x", "a"), Some("2"));
        assert_eq!(c.get("x", "b"), Some("4"));
        assert_eq!(c.get("", "a"), Some("1"));
    }

    #[test]
    fn empty_section_repeated_is_accepted_unlike_hadoops_realloc_failure() {
        // Hadoop exits 18 on both (see the module docs); the meaning is plain, so we parse them.
        let c = parse("[x]\n[x]\n[x]\n");
        assert_eq!(section_names(&c), vec!["x"]);
        let c = parse("a=1\n[x]\nk=\n[x]\n");
        assert_eq!(section_names(&c), vec!["", "x"]);
        assert_eq!(c.get("x", "k"), None);
    }

    #[test]
    fn mixed_flat_and_sectioned_file() {
        // Hadoop's configuration-2.cfg, in short.
        let c = parse(
            "# mixed\n\nkey1=value1\nkey2=value2\n\n\n[section-1]\nkey3=value3\nkey1=value4\n\n",
        );
        assert_eq!(section_names(&c), vec!["", "section-1"]);
        assert_eq!(c.get("", "key1"), Some("value1"));
        assert_eq!(c.get("", "key2"), Some("value2"));
        assert_eq!(c.get("section-1", "key1"), Some("value4"));
        assert_eq!(c.get("section-1", "key3"), Some("value3"));
    }

    #[test]
    fn many_sections_and_keys_have_no_limit() {
        let mut text = String::new();
        for i in 0..25 {
            text.push_str(&format!("[section-{i}]\nkey{i}=value{i}\n"));
        }
        for i in 0..25 {
            text.push_str(&format!("k{i}=v{i}\n"));
        }
        let c = parse(&text);
        assert_eq!(c.sections.len(), 25);
        for i in 0..25 {
            let value = format!("value{i}");
            assert_eq!(
                c.get(&format!("section-{i}"), &format!("key{i}")),
                Some(value.as_str())
            );
        }
        assert_eq!(c.sections[24].entries.len(), 26);
    }

    // ---- empty files ----------------------------------------------------------------------

    #[test]
    fn empty_file_is_fatal() {
        assert_eq!(
            parse_err(b""),
            format!("Empty configuration file provided {PATH}")
        );
    }

    #[test]
    fn file_of_comments_and_blank_lines_is_fatal() {
        assert_eq!(
            parse_err(b"# one\n\n#two\n\n"),
            format!("Empty configuration file provided {PATH}")
        );
    }

    #[test]
    fn file_of_unstored_entries_is_fatal() {
        assert_eq!(
            parse_err(b"a=\nb=#c\n  =\n"),
            format!("Empty configuration file provided {PATH}")
        );
    }

    #[test]
    fn default_section_exists_only_with_entries() {
        let c = parse("x=\n[docker]\n");
        assert!(!c.has_section(""));
        assert_eq!(section_names(&c), vec!["docker"]);
    }

    // ---- bounds and encoding --------------------------------------------------------------

    #[test]
    fn file_at_the_size_limit_is_accepted_and_one_byte_more_is_not() {
        let line = format!("k={}\n", "v".repeat(1022)); // 1025 bytes
        let mut text = line.repeat(MAX_CONFIG_BYTES / line.len());
        text.push_str(&"#".repeat(MAX_CONFIG_BYTES - text.len()));
        assert_eq!(text.len(), MAX_CONFIG_BYTES);
        assert!(Config::parse(text.as_bytes(), PATH).is_ok());
        text.push('#');
        assert_eq!(
            parse_err(text.as_bytes()),
            format!("{PATH}: configuration file is larger than 1048576 bytes")
        );
    }

    #[test]
    fn line_at_the_length_limit_is_accepted_and_one_byte_more_is_not() {
        let value = "v".repeat(MAX_LINE_BYTES - 2);
        let c = parse(&format!("k={value}\n"));
        assert_eq!(c.get("", "k"), Some(value.as_str()));
        let long = format!("a=1\nk={value}x\n");
        assert_eq!(
            parse_err(long.as_bytes()),
            format!("{PATH}:2: line is longer than 65536 bytes")
        );
    }

    #[test]
    fn non_utf8_is_rejected_with_its_line() {
        assert_eq!(
            parse_err(b"a=1\nb=\xff\xfe\n"),
            format!("{PATH}:2: line is not valid UTF-8")
        );
        // Even inside a comment: the whole file must be text.
        assert!(parse_err(b"# caf\xe9\na=1\n").contains(":1: line is not valid UTF-8"));
    }

    #[test]
    fn nul_byte_is_rejected() {
        assert_eq!(
            parse_err(b"a=1\nb=2\0x\n"),
            format!("{PATH}:2: line contains a NUL byte")
        );
    }

    #[test]
    fn utf8_values_are_kept() {
        let c = parse("k=café,naïve\n");
        assert_eq!(c.get_list("", "k"), Some(strings(&["café", "naïve"])));
    }

    // ---- lists ----------------------------------------------------------------------------

    #[test]
    fn split_collapses_runs_and_ignores_ends() {
        assert_eq!(split_hadoop_list(",,a,,b,", ','), strings(&["a", "b"]));
        assert_eq!(
            split_hadoop_list("%/var/run/yarn%%/tmp/mydir%", '%'),
            strings(&["/var/run/yarn", "/tmp/mydir"])
        );
    }

    #[test]
    fn split_does_not_trim() {
        assert_eq!(
            split_hadoop_list("a, b ,c", ','),
            strings(&["a", " b ", "c"])
        );
    }

    #[test]
    fn split_without_tokens_returns_the_whole_string() {
        assert_eq!(split_hadoop_list("", ','), strings(&[""]));
        assert_eq!(split_hadoop_list(",,", ','), strings(&[",,"]));
        assert_eq!(split_hadoop_list("%%", '%'), strings(&["%%"]));
    }

    #[test]
    fn split_with_another_separator_keeps_the_value_whole() {
        let text = "1,2,3,4,5,6,7,8,9,10,11";
        assert_eq!(split_hadoop_list(text, '%'), strings(&[text]));
        let parts = split_hadoop_list(text, ',');
        assert_eq!(parts.len(), 11);
        assert_eq!(parts[10], "11");
    }

    #[test]
    fn get_list_is_none_when_not_stored() {
        let c = parse("a=1\n");
        assert_eq!(c.get_list("", "b"), None);
        assert_eq!(c.get_list("nosuch", "a"), None);
    }

    // ---- typed top-level keys -------------------------------------------------------------

    /// Hadoop's old-config.cfg (flat, no sections), in short.
    fn old_config() -> Config {
        parse(
            "# header comment\n\
             yarn.nodemanager.linux-container-executor.group=yarn\n\
             banned.users=root,testuser1,testuser2#comma separated list\n\
             min.user.id=1000\n\
             allowed.system.users=nobody,daemon\n\
             feature.docker.enabled=1\n\
             feature.tc.enabled=0\n\
             docker.binary=/usr/bin/docker\n\
             yarn.local.dirs=/var/run/yarn%/tmp/mydir\n\
             test.key=#no value for this key\n\
             # test.key2=0\n",
        )
    }

    #[test]
    fn flat_file_lands_in_the_default_section() {
        let c = old_config();
        assert_eq!(section_names(&c), vec![""]);
        assert_eq!(c.nm_group(), Some("yarn"));
        assert_eq!(c.get("", "docker.binary"), Some("/usr/bin/docker"));
        assert_eq!(c.get("", "test.key"), None);
        assert_eq!(c.get("", "test.key2"), None);
        assert_eq!(c.get("abcd", "feature.tc.enabled"), None);
        assert_eq!(
            c.banned_users(),
            strings(&["root", "testuser1", "testuser2"])
        );
        assert_eq!(c.allowed_system_users(), strings(&["nobody", "daemon"]));
        assert_eq!(c.min_user_id(), Ok(1000));
        assert!(c.feature_enabled(Feature::Docker));
        assert!(c.docker_enabled());
        assert!(!c.feature_enabled(Feature::Tc));
        assert_eq!(
            c.get_list("", "yarn.local.dirs"),
            Some(strings(&["/var/run/yarn%/tmp/mydir"]))
        );
        assert_eq!(
            split_hadoop_list(c.get("", "yarn.local.dirs").unwrap(), '%'),
            strings(&["/var/run/yarn", "/tmp/mydir"])
        );
    }

    #[test]
    fn shipped_template_stores_only_what_the_spec_says() {
        let c = parse(
            "yarn.nodemanager.linux-container-executor.group=#configured value of group\n\
             banned.users=#comma separated list of users who can not run applications\n\
             min.user.id=1000#Prevent other super-users\n\
             allowed.system.users=##comma separated list of system users who CAN run\n\
             feature.tc.enabled=false\n\
             \n\
             # The configs below deal with settings for Docker\n\
             #[docker]\n\
             #  module.enabled=## enable/disable the module.\n",
        );
        assert_eq!(c.nm_group(), None);
        assert_eq!(c.banned_users(), strings(&DEFAULT_BANNED_USERS));
        assert_eq!(c.min_user_id(), Ok(1000));
        assert!(c.allowed_system_users().is_empty());
        assert!(!c.feature_enabled(Feature::Tc));
        assert!(!c.has_section("docker"));
    }

    #[test]
    fn defaults_when_keys_are_absent() {
        let c = parse("[docker]\n");
        assert_eq!(c.nm_group(), None);
        assert_eq!(
            c.banned_users(),
            strings(&["yarn", "mapred", "hdfs", "bin"])
        );
        assert!(c.allowed_system_users().is_empty());
        assert_eq!(c.min_user_id(), Ok(DEFAULT_MIN_USER_ID));
        for feature in [
            Feature::Tc,
            Feature::MountCgroup,
            Feature::Terminal,
            Feature::Docker,
            Feature::YarnSysfs,
            Feature::Runc,
        ] {
            assert!(!c.feature_enabled(feature), "{}", feature.key());
        }
    }

    #[test]
    fn configured_banned_list_replaces_the_default() {
        let c = parse("banned.users=alice, bob\n");
        assert_eq!(c.banned_users(), strings(&["alice", " bob"]));
        assert!(!c.banned_users().contains(&"yarn".to_string()));
    }

    #[test]
    fn min_user_id_follows_strtol_base_10() {
        let cases: &[(&str, std::result::Result<i32, String>)] = &[
            ("500", Ok(500)),
            ("+42", Ok(42)),
            ("-1", Ok(-1)),
            ("0", Ok(0)),
            ("007", Ok(7)),
            ("2147483647", Ok(i32::MAX)),
            ("-2147483648", Ok(i32::MIN)),
            ("2147483648", Err("2147483648".into())),
            ("-2147483649", Err("-2147483649".into())),
            ("4294968296", Err("4294968296".into())),
            (
                "99999999999999999999999",
                Err("99999999999999999999999".into()),
            ),
            ("1000abc", Err("1000abc".into())),
            ("0x10", Err("0x10".into())),
            ("10 0", Err("10 0".into())),
            ("+", Err("+".into())),
            ("-", Err("-".into())),
            ("+-1", Err("+-1".into())),
            ("1e3", Err("1e3".into())),
            ("", Err("".into())),
        ];
        for (raw, expected) in cases {
            let c = parse(&format!("min.user.id={raw} \nx=1\n"));
            assert_eq!(&c.min_user_id(), expected, "value {raw:?}");
        }
    }

    #[test]
    fn min_user_id_takes_leading_c_whitespace() {
        // Values are trimmed, so this path is only reachable through the helper itself.
        assert_eq!(parse_decimal(" \t\u{0b}12"), Some((false, 12)));
        assert_eq!(parse_decimal("12 "), None);
    }

    #[test]
    fn feature_switch_accepts_true_false_in_any_case() {
        for (raw, expected) in [
            ("true", true),
            ("TRUE", true),
            ("True", true),
            ("false", false),
            ("FaLsE", false),
        ] {
            let c = parse(&format!("feature.tc.enabled={raw}\n"));
            assert_eq!(c.feature_enabled(Feature::Tc), expected, "{raw}");
        }
    }

    #[test]
    fn feature_switch_accepts_decimal_zero_and_one() {
        for (raw, expected) in [
            ("1", true),
            ("+1", true),
            ("01", true),
            ("0001", true),
            ("0", false),
            ("-0", false),
            ("000", false),
        ] {
            assert_eq!(feature_value(raw), Some(expected), "{raw}");
            let c = parse(&format!("feature.terminal.enabled={raw}\n"));
            assert_eq!(c.feature_enabled(Feature::Terminal), expected, "{raw}");
        }
    }

    #[test]
    fn feature_switch_rejects_everything_else() {
        for raw in [
            "2",
            "-1",
            "1abc",
            "yes",
            "on",
            "t",
            "0x1",
            "1.0",
            "4294967297",
            "4294967296",
            "99999999999999999999",
            "",
        ] {
            assert_eq!(feature_value(raw), None, "{raw:?}");
        }
        // Stored but illegal means the default, false (the LOG line goes to stdout).
        let c = parse("feature.docker.enabled=yes\nfeature.runc.enabled= \n");
        assert!(!c.feature_enabled(Feature::Docker));
        assert!(!c.feature_enabled(Feature::Runc));
    }

    #[test]
    fn feature_keys_are_hadoops() {
        assert_eq!(Feature::Tc.key(), "feature.tc.enabled");
        assert_eq!(Feature::MountCgroup.key(), "feature.mount-cgroup.enabled");
        assert_eq!(Feature::Terminal.key(), "feature.terminal.enabled");
        assert_eq!(Feature::Docker.key(), "feature.docker.enabled");
        assert_eq!(Feature::YarnSysfs.key(), "feature.yarn.sysfs.enabled");
        assert_eq!(Feature::Runc.key(), "feature.runc.enabled");
        assert_eq!(CONFIG_FILE_NAME, "container-executor.cfg");
    }

    #[test]
    fn feature_keys_are_read_only_from_the_default_section() {
        let c = parse("a=1\n[docker]\nfeature.tc.enabled=true\n");
        assert!(!c.feature_enabled(Feature::Tc));
    }

    // ---- modules, docker and runc gates ---------------------------------------------------

    #[test]
    fn module_enabled_needs_exactly_lowercase_true() {
        for (raw, expected) in [
            ("true", true),
            ("TRUE", false),
            ("True", false),
            ("1", false),
            ("yes", false),
        ] {
            let c = parse(&format!("[gpu]\nmodule.enabled={raw}\n"));
            assert_eq!(c.module_enabled("gpu"), expected, "{raw}");
        }
        let c = parse("[gpu]\nmodule.enabled= \n");
        assert!(!c.module_enabled("gpu"));
    }

    #[test]
    fn module_enabled_is_false_for_a_missing_section() {
        let c = parse("a=1\n");
        assert!(!c.module_enabled("fpga"));
        assert!(!c.module_enabled("devices"));
    }

    #[test]
    fn docker_gate_combines_feature_key_and_module() {
        assert!(parse("feature.docker.enabled=true\n").docker_enabled());
        assert!(parse("[docker]\nmodule.enabled=true\n").docker_enabled());
        assert!(
            parse("feature.docker.enabled=0\n[docker]\nmodule.enabled=true\n").docker_enabled()
        );
        assert!(
            parse("feature.docker.enabled=1\n[docker]\nmodule.enabled=false\n").docker_enabled()
        );
        assert!(!parse("feature.docker.enabled=0\n[docker]\n").docker_enabled());
        assert!(!parse("feature.docker.enabled=false\n").docker_enabled());
        assert!(!parse("[docker]\nmodule.enabled=TRUE\n").docker_enabled());
        // The module key only counts inside [docker].
        assert!(!parse("module.enabled=true\n").docker_enabled());
    }

    #[test]
    fn runc_gate_combines_feature_key_and_module() {
        assert!(parse("feature.runc.enabled=TRUE\n").runc_enabled());
        assert!(parse("[runc]\nmodule.enabled=true\n").runc_enabled());
        assert!(!parse("[runc]\nmodule.enabled=1\n").runc_enabled());
        assert!(!parse("[docker]\nmodule.enabled=true\n").runc_enabled());
        assert!(!parse("a=1\n").runc_enabled());
    }

    #[test]
    fn parse_error_is_a_config_error_with_exit_24() {
        match Config::parse(b"oops\n", PATH) {
            Err(e) => {
                assert_eq!(e.code().number(), 24);
                assert!(e.exits_at_once());
            }
            Ok(c) => panic!("parsed: {c:?}"),
        }
    }
}
