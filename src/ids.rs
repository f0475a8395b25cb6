//! Grammars for the identifiers the NodeManager passes: they become path components, so they
//! are checked before any path is built.

/// Hadoop's container-id rule (`docs/protocol.md` §5.1): split on `_` (runs collapse, ends ignored),
/// 5 or 6 tokens, the first `container`, the second digits or `e` + digits, the rest digits.
pub fn is_valid_container_id(id: &str) -> bool {
    let tokens: Vec<&str> = id.split('_').filter(|t| !t.is_empty()).collect();
    if !(5..=6).contains(&tokens.len()) || tokens[0] != "container" {
        return false;
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let epoch = tokens[1]
        .strip_prefix('e')
        .map(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
    (digits(tokens[1]) || epoch == Some(true)) && tokens[2..].iter().all(|t| digits(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hadoop_examples() {
        for ok in [
            "container_1410901177871_0001_01_000005",
            "container_e17_1410901177871_0001_01_000005",
            "container_1_2_3_4",
            "container__1_2_3_4",
            "container_e_1_2_3_4",
            "_container_1_2_3_4_",
        ] {
            assert!(is_valid_container_id(ok), "{ok}");
        }
        for bad in [
            "",
            "container_1_2_3",
            "container_1_2_3_4_5_6",
            "containe_1_2_3_4",
            "container_1_2_3_4/..",
            "container_1_2_3_x",
            "container_x1_2_3_4",
            "container_1.2_3_4_5",
            "container_-1_2_3_4",
            "application_1_2_3_4",
        ] {
            assert!(!is_valid_container_id(bad), "{bad}");
        }
    }
}
