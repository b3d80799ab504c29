//! Helpers shared by the integration tests: run the binary, parse its JSON lines.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

pub fn model(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
        .display()
        .to_string()
}

pub fn hiddencost() -> Command {
    let mut cmd = Command::cargo_bin("hiddencost").unwrap();
    cmd.env_remove("HIDDENCOST_LOG");
    cmd
}

/// Parses every line of `text` as JSON; panics (test failure) on a bad line.
pub fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

pub fn of_type<'a>(recs: &'a [Value], t: &str) -> Vec<&'a Value> {
    recs.iter().filter(|r| r["type"] == t).collect()
}
