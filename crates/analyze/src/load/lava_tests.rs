//! Tests of `lava`.

use super::*;

#[test]
fn reads_target_lines_and_unescapes() {
    let log = concat!(
        "- {\"dt\": \"2026-12-02T14:00:00.000001+00:00\", \"lvl\": \"info\", \"msg\": \"start\"}\n",
        "- {\"dt\": \"2026-12-02T14:00:00.000002+00:00\", \"lvl\": \"target\", \"msg\": \"{\\\"a\\\":\\\"\\\\u00e9 \\xE9\\u2028\\U0001F600\\t\\\"}\"}\n",
        "- {\"dt\": \"x\", \"lvl\": \"results\", \"msg\": {\"case\": \"c\", \"extra\": [\"a\", !!int \"3\"], \"result\": \"pass\"}}\n",
    );
    assert!(is_lava_log(log.as_bytes()));
    let x = extract(log.as_bytes());
    assert_eq!(x.issues, vec![]);
    assert_eq!(x.other, 2);
    assert_eq!(
        x.target,
        vec![(
            2,
            "{\"a\":\"\\u00e9 \u{e9}\u{2028}\u{1F600}\t\"}".to_string()
        )]
    );
}

#[test]
fn an_older_dispatchers_quote_backslashes_are_removed() {
    // lava-run 2023.01 on stderr: the device's `{"a":"x\"y"}` with a backslash added
    // before each quote, then YAML-escaped.
    let target = r#"{"dt": "t", "lvl": "target", "msg": "{\\\"a\\\":\\\"x\\\\\"y\\\"}"}"#;
    let version = |v: &str| {
        format!(
            r#"{{"dt": "t", "lvl": "info", "msg": "lava-dispatcher, installed at version: {v}"}}"#
        )
    };
    let device = r#"{"a":"x\"y"}"#;
    for log in [
        format!("{}\n{target}\n", version("2023.01")),
        format!("{target}\n"),
    ] {
        let x = extract(log.as_bytes());
        assert_eq!(x.issues, vec![]);
        assert_eq!(x.target.len(), 1, "{log}");
        assert_eq!(x.target[0].1, device, "{log}");
    }
    // A newer dispatcher's record (bare quotes) is read as is.
    let newer = r#"{"dt": "t", "lvl": "target", "msg": "{\"a\":\"x\\\"y\"}"}"#;
    let x = extract(format!("{}\n{newer}\n", version("2026.05")).as_bytes());
    assert_eq!(x.target[0].1, device);
    // A record with bare quotes is never touched.
    assert!(!quotes_all_escaped(r#"{"a":"\""}"#));
    assert!(!quotes_all_escaped("no quotes"));
}

#[test]
fn bad_lines_are_issues_not_panics() {
    let cases: &[&[u8]] = &[
        b"- {\"dt\": \"x\", \"lvl\": \"target\", \"msg\": \"cut",
        b"- {\"dt\": \"x\", \"lvl\": \"target\", \"msg\": \"a\\q\"}",
        b"- {\"dt\": \"x\", \"lvl\": \"target\", \"msg\": \"\\u12\"}",
        b"- {\"dt\": \"x\", \"lvl\": \"target\", \"msg\": \"\\uD800\"}",
        b"- {\"dt\": \"x\", \"msg\": \"a\"}",
        b"- {\"dt\": \"x\", \"lvl\": \"target\"} trailing",
        b"- \xff",
        b"plain text",
        b"- {\"dt\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    ];
    for case in cases {
        let x = extract(case);
        assert_eq!(x.issues.len(), 1, "{}", String::from_utf8_lossy(case));
        assert!(x.target.is_empty());
    }
    let x = extract(&vec![b'{'; MAX_ENTRY + 1]);
    assert_eq!(x.issues[0].error, LavaError::TooLong);
}

#[test]
fn every_cut_and_random_damage_is_read_without_panic() {
    let entry = concat!(
        r#"- {"dt": "2026", "lvl": "target", "msg": "{\"a\": \xE9\u00E9\U0001F600 \t\\\"}"}"#,
        "\n",
        r#"- {"dt": "x", "lvl": "results", "msg": {"case": "c", "extra": [! "1", !!int "2"]}}"#,
        "\n",
    );
    let full = extract(entry.as_bytes());
    assert_eq!(
        (full.target.len(), full.other, full.issues.len()),
        (1, 1, 0)
    );
    for cut in 0..entry.len() {
        let x = extract(&entry.as_bytes()[..cut]);
        assert!(x.target.len() + x.other + x.issues.len() <= 2);
    }
    let mut seed = 0x9e37_79b9_u32;
    for _ in 0..5000 {
        let mut bytes = entry.as_bytes().to_vec();
        for _ in 0..3 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let at = (seed >> 8) as usize % bytes.len();
            bytes[at] = (seed >> 24) as u8;
        }
        let x = extract(&bytes);
        assert!(x.target.len() + x.other + x.issues.len() <= 4);
        let _ = is_lava_log(&bytes);
    }
}

#[test]
fn detection_skips_a_leading_non_entry_line() {
    let log = b"Warning: something\n{\"dt\": \"x\", \"lvl\": \"info\", \"msg\": \"a\"}\n";
    assert!(is_lava_log(log));
    assert!(!is_lava_log(b"{\"type\":\"header\"}\n"));
    let x = extract(log);
    assert_eq!((x.other, x.issues.len()), (1, 1));
}
