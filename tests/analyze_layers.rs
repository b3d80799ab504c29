//! The analysis crate (crates/analyze) is layered: error -> load -> compute -> render -> entry
//! points (the crate root and `predict` with `predict_text`). Each file may use only its own layer and the layers
//! below it, and the files of one layer must not import each other in a cycle. This test reads
//! the sources and checks both from their `super::` and `crate::` paths (code only:
//! comments and `#[cfg(test)]` modules are left out).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 5] = ["error", "load", "compute", "render", "entry"];

/// Module path of a source file under crates/analyze/src: `render::why`, `compute` (a mod.rs),
/// `entry` for lib.rs.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || (p == "lib" && rel.components().count() == 1))
    {
        parts.pop();
    }
    parts
}

fn layer_of(module: &[String]) -> usize {
    let top = module.first().map(String::as_str).unwrap_or("entry");
    // `predict` and its words (`predict_text.rs`, its child by `#[path]`) are entry points.
    let top = if top == "predict" || top == "predict_text" {
        "entry"
    } else {
        top
    };
    LAYERS
        .iter()
        .position(|l| *l == top)
        .unwrap_or_else(|| panic!("{module:?} is in no layer: add it to LAYERS"))
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Modules a file refers to: `crate::analyze::a::b`, `super::x` (resolved against the file's
/// own module) and, in a mod.rs, `self::x` or a bare `x::` naming one of its `children`.
fn references(
    module: &[String],
    is_mod_rs: bool,
    children: &[String],
    code: &str,
) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    let parent = &module[..module.len().saturating_sub(1)];
    let words = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.contains("::"));
    for w in words {
        let segs: Vec<String> = w
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let (base, rest): (Vec<String>, &[String]) = match segs.first().map(String::as_str) {
            // `crate::record`, `crate::units`, `crate::table`: the record crate, below every
            // layer; anything else under `crate::` is this crate's.
            Some("crate")
                if !segs
                    .get(1)
                    .is_some_and(|s| ["record", "units", "table"].contains(&s.as_str())) =>
            {
                (Vec::new(), &segs[1..])
            }
            Some("super") => (parent.to_vec(), &segs[1..]),
            Some("self") if is_mod_rs => (module.to_vec(), &segs[1..]),
            Some(first) if is_mod_rs && children.iter().any(|c| c == first) => {
                (module.to_vec(), &segs[..])
            }
            _ => continue,
        };
        let mut target = base;
        target.extend(rest.iter().cloned());
        out.insert(target);
    }
    out
}

type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// A cycle of the graph (its nodes, the first repeated at the end), by depth-first search.
fn find_cycle(edges: &Graph) -> Option<Vec<Vec<String>>> {
    fn visit(
        m: &Vec<String>,
        edges: &Graph,
        state: &mut BTreeMap<Vec<String>, u8>,
        path: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        match state.get(m) {
            Some(2) => return None,
            Some(_) => {
                let start = path.iter().position(|p| p == m).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(m.clone());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(m.clone(), 1);
        path.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    edges
        .keys()
        .find_map(|m| visit(m, edges, &mut state, &mut Vec::new()))
}

#[test]
fn analysis_is_layered_without_cycles() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/analyze/src");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let modules: Vec<Vec<String>> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&root).unwrap()))
        .collect();
    let known: BTreeSet<Vec<String>> = modules.iter().cloned().collect();
    // The longest known module that a referenced path starts with.
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| known.contains(m))
    };
    let mut edges = Graph::new();
    let mut violations = Vec::new();
    for (file, module) in files.iter().zip(&modules) {
        let is_mod_rs = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || (n == "lib.rs" && module.is_empty()));
        let text = std::fs::read_to_string(file).unwrap();
        let own = layer_of(module);
        let children: Vec<String> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect();
        for target in references(module, is_mod_rs, &children, &code(&text)) {
            let Some(target) = resolve(&target) else {
                continue;
            };
            if &target == module {
                continue;
            }
            let theirs = layer_of(&target);
            if theirs > own {
                violations.push(format!(
                    "{} ({}) uses {} ({})",
                    module.join("::"),
                    LAYERS[own],
                    target.join("::"),
                    LAYERS[theirs]
                ));
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    assert!(
        violations.is_empty(),
        "layering broken:\n{}",
        violations.join("\n")
    );
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
    // The check sees the imports it should: render uses compute, compute uses load.
    assert!(
        edges[&vec!["render".to_string(), "why".to_string()]]
            .iter()
            .any(|t| t.first().is_some_and(|f| f == "compute"))
    );
    assert!(
        edges[&vec!["compute".to_string(), "fit".to_string()]]
            .iter()
            .any(|t| t.first().is_some_and(|f| f == "load"))
    );
}

#[test]
fn the_checker_reads_paths_layers_and_cycles() {
    let m = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    let refs = references(
        &m("compute::fit"),
        false,
        &[],
        "use super::stats::X;\nuse crate::render::table::Table;\nuse crate::record::Header;",
    );
    assert!(refs.contains(&m("compute::stats::X")));
    assert!(refs.contains(&m("render::table::Table")));
    assert_eq!(
        refs.len(),
        2,
        "the record crate is below every layer: {refs:?}"
    );
    assert!(layer_of(&m("render::table")) > layer_of(&m("compute::fit")));
    let children = ["bounds".to_string(), "fit".to_string()];
    let text = code("use self::bounds::Roofs; // super::render::x\npub use fit::FitFile;");
    let in_mod = references(&m("compute"), true, &children, &text);
    assert_eq!(
        in_mod,
        [m("compute::bounds::Roofs"), m("compute::fit::FitFile")].into(),
        "comments are not code"
    );
    assert!(code("use a;\n#[cfg(test)]\nmod tests { use super::*; }").trim() == "use a;");
    let mut g = Graph::new();
    g.entry(m("render::report"))
        .or_default()
        .insert(m("render::findings"));
    g.entry(m("render::findings"))
        .or_default()
        .insert(m("render::table"));
    assert_eq!(find_cycle(&g), None);
    g.entry(m("render::findings"))
        .or_default()
        .insert(m("render::report"));
    let cycle = find_cycle(&g).expect("report -> findings -> report");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 3);
}
