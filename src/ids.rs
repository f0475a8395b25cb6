//! Grammars for the identifiers and numbers the NodeManager passes. Ids become path components,
//! so they are checked before any path is built; numbers are read by the one parser below.
//!
//! The id grammars are the exact strings YARN's `ApplicationId.toString()` and
//! `ContainerId.toString()` produce: `application_<ts>_<seq>` and
//! `container_[e<epoch>_]<ts>_<seq>_<attempt>_<cid>`. Each number is plain decimal, zero-padded
//! to its minimum width (seq 4, attempt 2, epoch 2, cid 6) and never padded beyond it, within the
//! range of its Java field. Hadoop's C binary is looser (runs of `_` collapse, any digits).

/// Linux's limit on one path component (`NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Linux's limit on a path, without its terminating NUL (`PATH_MAX` - 1).
pub const PATH_MAX: usize = 4095;

/// The one parser for every number taken from argv (command numbers, pids, signals, device
/// numbers): canonical decimal only. Digits and nothing else: no sign, no blank, no leading zero
/// (`0` itself is fine), no trailing byte, and at most `max`.
pub fn canonical_decimal(text: &[u8], max: u64) -> Option<u64> {
    let ok = !text.is_empty()
        && text.len() <= 20
        && text.iter().all(u8::is_ascii_digit)
        && (text.len() == 1 || text[0] != b'0');
    if !ok {
        return None;
    }
    let mut value: u64 = 0;
    for &b in text {
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (value <= max).then_some(value)
}

/// A number as `FastNumberFormat.format(value, min_digits)` writes it for a value in
/// `lo..=max`: at least `min_digits` digits, zero-padded only up to that width.
fn padded(text: &str, min_digits: usize, lo: u64, max: u64) -> bool {
    let b = text.as_bytes();
    if b.len() < min_digits || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // Beyond the minimum width the first digit is significant.
    if b.len() > min_digits && b[0] == b'0' {
        return false;
    }
    let significant = text.trim_start_matches('0');
    let value = if significant.is_empty() {
        Some(0)
    } else {
        canonical_decimal(significant.as_bytes(), max)
    };
    value.is_some_and(|v| v >= lo)
}

const INT_MAX: u64 = i32::MAX as u64;
const LONG_MAX: u64 = i64::MAX as u64;
/// The container number is the low 40 bits of the long; the epoch is the rest (`>> 40`).
const CONTAINER_SEQ_MAX: u64 = (1 << 40) - 1;
const EPOCH_MAX: u64 = (i64::MAX as u64) >> 40;

/// `<cluster timestamp>_<app sequence>`: the part both id forms share.
fn cluster_and_app(ts: &str, seq: &str) -> bool {
    padded(ts, 1, 0, LONG_MAX) && padded(seq, 4, 0, INT_MAX)
}

/// `application_<cluster timestamp>_<sequence, 4+ digits>` exactly.
pub fn is_valid_app_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("application_") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('_').collect();
    matches!(parts.as_slice(), [ts, seq] if cluster_and_app(ts, seq))
}

/// `container_[e<epoch>_]<cluster timestamp>_<app seq>_<attempt>_<container seq>` exactly.
pub fn is_valid_container_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("container_") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('_').collect();
    let (epoch, numbers) = match parts.as_slice() {
        [e, tail @ ..] if e.starts_with('e') => (Some(&e[1..]), tail),
        all => (None, all),
    };
    if epoch.is_some_and(|e| !padded(e, 2, 1, EPOCH_MAX)) {
        return false;
    }
    matches!(numbers, [ts, seq, attempt, cid]
        if cluster_and_app(ts, seq)
            && padded(attempt, 2, 0, INT_MAX)
            && padded(cid, 6, 0, CONTAINER_SEQ_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_as_yarn_writes_them() {
        for ok in [
            "container_1410901177871_0001_01_000005",
            "container_e17_1410901177871_0001_01_000005",
            "container_e01_1_0000_00_000000",
            "container_e123_1410901177871_12345_123_1234567",
            "container_0_0001_01_000001",
            "container_1700000000000_2147483647_2147483647_1099511627775",
        ] {
            assert!(is_valid_container_id(ok), "{ok}");
        }
        for bad in [
            "",
            "container_1_2_3",
            "container_1_2_3_4",
            "container_1_0001_01",
            "container_1_0001_01_000001_5",
            "containe_1_0001_01_000001",
            "container__1_0001_01_000001",
            "_container_1_0001_01_000001",
            "container_1_0001_01_000001_",
            "container_1__0001_01_000001",
            "container_e_1_0001_01_000001",
            "container_e1_1_0001_01_000001",
            "container_e00_1_0001_01_000001",
            "container_e017_1_0001_01_000001",
            "container_E17_1_0001_01_000001",
            "container_01_0001_01_000001",
            "container_1_001_01_000001",
            "container_1_00001_01_000001",
            "container_1_0001_1_000001",
            "container_1_0001_001_000001",
            "container_1_0001_01_00001",
            "container_1_0001_01_0000001",
            "container_1_2147483648_01_000001",
            "container_1_0001_01_1099511627776",
            "container_9223372036854775808_0001_01_000001",
            "container_e8388608_1_0001_01_000001",
            "container_1_0001_01_000001/..",
            "container_1_0001_01_00000x",
            "container_-1_0001_01_000001",
            "container_+1_0001_01_000001",
            "container_1_0001_01_ 00001",
            "application_1_0001_01_000001",
        ] {
            assert!(!is_valid_container_id(bad), "{bad}");
        }
    }

    #[test]
    fn app_ids_as_yarn_writes_them() {
        for ok in [
            "application_1700000000000_0001",
            "application_1_12345",
            "application_0_0000",
        ] {
            assert!(is_valid_app_id(ok), "{ok}");
        }
        for bad in [
            "application_1700000000000_001",
            "application_1700000000000_00001",
            "application_01_0001",
            "application__1_0001",
            "application_1__0001",
            "application_1_0001_",
            "application_1_2147483648",
            "application_1_+001",
            "application_1_0001\n",
        ] {
            assert!(!is_valid_app_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn one_canonical_decimal_parser() {
        assert_eq!(canonical_decimal(b"0", 10), Some(0));
        assert_eq!(canonical_decimal(b"15", 64), Some(15));
        assert_eq!(
            canonical_decimal(b"18446744073709551615", u64::MAX),
            Some(u64::MAX)
        );
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"0x1",
            b"1\n",
            b"1\0",
            b"18446744073709551616",
            b"\xd9\xa1",
        ] {
            assert_eq!(canonical_decimal(bad, u64::MAX), None, "{bad:?}");
        }
        assert_eq!(canonical_decimal(b"65", 64), None);
    }
}
