//! The Yocto layer (yocto-layer/) against the rest of the repository, checked without bitbake:
//! the crates include lists exactly the registry crates of Cargo.lock with their checksums, the
//! kas files pin every repository by branch and commit, and layer.conf declares what a layer must.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CRATES_INC: &str = "yocto-layer/recipes-benchmark/hiddencost/hiddencost-crates.inc";
const REGENERATE: &str = "python3 yocto-layer/scripts/gen-crates-inc.py Cargo.lock \
     > yocto-layer/recipes-benchmark/hiddencost/hiddencost-crates.inc";

fn repo_file(rel: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, text)
}

/// A crate as both files name it: "NAME-VERSION" (the key of SRC_URI[...sha256sum]).
type Crates = BTreeMap<String, String>;

/// Registry packages of Cargo.lock with their checksums. Line parsing is enough: cargo writes
/// one `key = "value"` per line inside each [[package]] table.
fn lock_crates(lock: &str) -> Crates {
    let mut crates = Crates::new();
    for table in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            table.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_string())
            })
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        if !field("source").is_some_and(|s| s.contains("crates.io")) {
            continue; // the hiddencost package itself, path and git dependencies
        }
        let checksum = field("checksum")
            .unwrap_or_else(|| panic!("Cargo.lock: {name} {version} has no checksum"));
        crates.insert(format!("{name}-{version}"), checksum);
    }
    crates
}

/// The include's view: crate:// URIs and SRC_URI[NAME-VERSION.sha256sum] lines, each checked
/// against the other so a half-edited include cannot pass.
fn inc_crates(inc: &str) -> (Crates, Vec<String>) {
    let mut uris = Vec::new();
    let mut sums = Crates::new();
    let mut problems = Vec::new();
    for line in inc.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("crate://crates.io/") {
            let rest = rest.trim_end_matches('\\').trim();
            match rest.split_once('/') {
                Some((name, version)) => uris.push(format!("{name}-{version}")),
                None => problems.push(format!("malformed crate URI: {line}")),
            }
        } else if let Some(rest) = line.strip_prefix("SRC_URI[") {
            let parsed = rest
                .split_once(".sha256sum] = \"")
                .and_then(|(key, value)| {
                    Some((key.to_string(), value.strip_suffix('"')?.to_string()))
                });
            match parsed {
                Some((key, sum)) => {
                    if sums.insert(key.clone(), sum).is_some() {
                        problems.push(format!("{key}: checksum listed twice"));
                    }
                }
                None => problems.push(format!("malformed checksum line: {line}")),
            }
        }
    }
    for key in &uris {
        if !sums.contains_key(key) {
            problems.push(format!("{key}: crate:// URI without a sha256sum"));
        }
    }
    for key in sums.keys() {
        if !uris.contains(key) {
            problems.push(format!("{key}: sha256sum without a crate:// URI"));
        }
    }
    (sums, problems)
}

#[test]
fn crates_include_matches_cargo_lock() {
    let (_, lock) = repo_file("Cargo.lock");
    let (_, inc) = repo_file(CRATES_INC);
    let want = lock_crates(&lock);
    assert!(
        want.len() > 100,
        "Cargo.lock parsed to only {} crates",
        want.len()
    );
    let (have, mut problems) = inc_crates(&inc);
    for (key, sum) in &want {
        match have.get(key) {
            None => problems.push(format!("missing from the include: {key}")),
            Some(s) if s != sum => problems.push(format!(
                "{key}: include has sha256 {s}, Cargo.lock has {sum}"
            )),
            Some(_) => {}
        }
    }
    for key in have.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("in the include but not in Cargo.lock: {key}"));
    }
    assert!(
        problems.is_empty(),
        "{CRATES_INC} disagrees with Cargo.lock ({} problems):\n  {}\nRegenerate it:\n  {REGENERATE}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn the_include_check_names_what_is_wrong() {
    let lock = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\
        source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"aa\"\n\n\
        [[package]]\nname = \"me\"\nversion = \"0.1.0\"\n";
    assert_eq!(
        lock_crates(lock),
        Crates::from([("a-1.0.0".into(), "aa".into())])
    );
    let inc = "SRC_URI += \" \\\n    crate://crates.io/a/1.0.0 \\\n    crate://crates.io/b/2.0.0 \\\n\"\n\n\
        SRC_URI[a-1.0.0.sha256sum] = \"aa\"\n";
    let (sums, problems) = inc_crates(inc);
    assert_eq!(sums.len(), 1);
    assert_eq!(problems, ["b-2.0.0: crate:// URI without a sha256sum"]);
}

/// kas files as (repo name, its `key: value` lines). The kas files are plain YAML of a fixed
/// shape; indentation is enough to find each entry under `repos:`.
fn kas_repos(yml: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut repos = Vec::new();
    let mut in_repos = false;
    for line in yml.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_repos = line.trim_end() == "repos:";
        } else if in_repos && indent == 2 {
            let name = line.trim().trim_end_matches(':').to_string();
            repos.push((name, BTreeMap::new()));
        } else if in_repos
            && indent == 4
            && let (Some((key, value)), Some((_, fields))) =
                (line.trim().split_once(':'), repos.last_mut())
        {
            fields.insert(key.to_string(), value.trim().trim_matches('"').to_string());
        }
    }
    repos
}

#[test]
fn kas_files_pin_every_repository() {
    let mut seen = BTreeMap::new();
    for name in ["common.yml", "raspberrypi4-64.yml", "qemuarm64.yml"] {
        let (path, yml) = repo_file(&format!("yocto-layer/kas/{name}"));
        assert!(
            yml.contains("\nheader:\n  version: "),
            "{}: no kas header",
            path.display()
        );
        for (repo, fields) in kas_repos(&yml) {
            if !fields.contains_key("url") {
                // No url: this repository itself, the layer under test.
                assert_eq!(repo, "hiddencost", "{}: {repo} has no url", path.display());
                continue;
            }
            let commit = fields.get("commit").map(String::as_str).unwrap_or("");
            assert!(
                commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}: repo {repo} must pin `commit:` to 40 hex digits, has {commit:?}",
                path.display()
            );
            assert!(
                fields.get("branch").is_some_and(|b| !b.is_empty()),
                "{}: repo {repo} must name the `branch:` its commit is on",
                path.display()
            );
            seen.insert(repo, name);
        }
    }
    for repo in ["bitbake", "openembedded-core", "meta-raspberrypi"] {
        assert!(seen.contains_key(repo), "no kas file pins {repo}: {seen:?}");
    }
    let (_, rpi) = repo_file("yocto-layer/kas/raspberrypi4-64.yml");
    assert!(
        rpi.contains("machine: raspberrypi4-64") && rpi.contains("- yocto-layer/kas/common.yml")
    );
    let (_, qemu) = repo_file("yocto-layer/kas/qemuarm64.yml");
    assert!(qemu.contains("machine: qemuarm64") && qemu.contains("- yocto-layer/kas/common.yml"));
}

#[test]
fn layer_conf_declares_the_layer() {
    let (path, conf) = repo_file("yocto-layer/conf/layer.conf");
    let value = |var: &str| {
        conf.lines().find_map(|line| {
            let rest = line.strip_prefix(var)?.trim_start();
            let rest = rest.strip_prefix("+=").or(rest.strip_prefix("="))?;
            Some(rest.trim().trim_matches('"').to_string())
        })
    };
    for var in [
        "BBPATH",
        "BBFILES",
        "BBFILE_PATTERN_hiddencost",
        "BBFILE_PRIORITY_hiddencost",
    ] {
        assert!(
            conf.contains(&format!("{var} ")),
            "{}: {var} missing",
            path.display()
        );
    }
    assert_eq!(value("BBFILE_COLLECTIONS").as_deref(), Some("hiddencost"));
    assert_eq!(value("LAYERDEPENDS_hiddencost").as_deref(), Some("core"));
    // Rust >= 1.91 for tract 0.23: wrynose ships 1.94.1, older series cannot build it.
    assert_eq!(
        value("LAYERSERIES_COMPAT_hiddencost").as_deref(),
        Some("wrynose")
    );
}

#[test]
fn image_knobs_reach_the_kernel_command_line() {
    let (path, conf) = repo_file("yocto-layer/conf/hiddencost.conf");
    for (knob, param) in [
        ("HIDDENCOST_MODELS", "hiddencost.models="),
        ("HIDDENCOST_SERIAL", "hiddencost.serial="),
        ("HIDDENCOST_SETTINGS", ""),
    ] {
        assert!(
            conf.contains(&format!("\n{knob} ?= ")),
            "{}: no `{knob} ?=`",
            path.display()
        );
        assert!(
            conf.contains(&format!("{param}${{{knob}}}")),
            "{}: HIDDENCOST_CMDLINE lacks {param}${{{knob}}}",
            path.display()
        );
    }
    // The binary's defaults live in the binary: the layer restates none of them.
    for key in hiddencost::settings::KEYS
        .iter()
        .filter(|k| **k != "models")
    {
        assert!(
            !conf.contains(&format!("hiddencost.{key}=$")),
            "{}: hiddencost.{key} restates a default of the binary",
            path.display()
        );
    }
    let (_, image) = repo_file("yocto-layer/recipes-core/images/hiddencost-image.bb");
    assert!(image.contains("require conf/hiddencost.conf"));
    assert!(image.contains("${HIDDENCOST_CMDLINE}"));
    let (_, rpi) = repo_file("yocto-layer/kas/raspberrypi4-64.yml");
    assert!(rpi.contains("${HIDDENCOST_CMDLINE}"));
}
