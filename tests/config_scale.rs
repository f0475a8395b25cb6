//! Regression: the config parser stays linear on the largest file it accepts.
//!
//! A 1 MiB file of ~175 000 distinct `[section]` headers took 162 s to parse when each header
//! was looked up by a linear search over the sections seen so far (found while fuzzing; the
//! fuzzers' inputs are too short to show it). With the name index it takes milliseconds.

use std::time::{Duration, Instant};

use container_executor::config::{Config, MAX_CONFIG_BYTES};

#[test]
fn many_distinct_sections_parse_in_linear_time() {
    let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    let mut text = String::from("yarn.nodemanager.linux-container-executor.group=hadoop\n");
    let mut last = String::new();
    'fill: for &a in &alphabet {
        for &b in &alphabet {
            for &c in &alphabet {
                let header = format!("[{a}{b}{c}]\n");
                if text.len() + header.len() > MAX_CONFIG_BYTES {
                    break 'fill;
                }
                text.push_str(&header);
                last = format!("{a}{b}{c}");
            }
        }
    }
    let sections = text.lines().count() - 1;
    assert!(sections > 100_000, "{sections}");
    let start = Instant::now();
    let config = Config::parse(text.as_bytes(), "big.cfg").expect("a valid file");
    let took = start.elapsed();
    assert!(config.has_section(&last) && config.nm_group() == Some("hadoop"));
    // Linear: a few milliseconds. Quadratic: minutes. The bound leaves room for a loaded CI box.
    assert!(took < Duration::from_secs(10), "parsing took {took:?}");
}
