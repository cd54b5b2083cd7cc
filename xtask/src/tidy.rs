//! `cargo xtask tidy`: the invariants ARCHITECTURE.md promises, checked.
//!
//! - The pure crates (`crates/core`, `crates/twin`, `crates/jobs`) depend,
//!   directly or not, on no Bevy, no async runtime and no browser API; the
//!   worker depends on no Bevy (it must never bring a second Bevy build).
//! - Only the files that animate, measure or estimate silence read the
//!   browser's clock: everything that decides a colour, an alarm or a trend
//!   runs on data time.
//! - Every path ARCHITECTURE.md names exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Crates and the packages they must never pull in (prefix match).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "linetwin-core",
        &["bevy", "tokio", "web-sys", "js-sys", "wasm-bindgen", "gloo"],
    ),
    (
        "linetwin-twin",
        &["bevy", "tokio", "web-sys", "js-sys", "wasm-bindgen", "gloo"],
    ),
    (
        "linetwin-forecast",
        &["bevy", "tokio", "web-sys", "js-sys", "wasm-bindgen", "gloo"],
    ),
    (
        "linetwin-jobs",
        &["bevy", "tokio", "web-sys", "js-sys", "wasm-bindgen", "gloo"],
    ),
    ("linetwin-worker", &["bevy", "tokio"]),
    // Native only (the gateway's); mcap's wasm32 dependencies do not count.
    ("linetwin-recorder", &["bevy", "tokio", "web-sys"]),
];

/// Ways of reading a wall clock.
const CLOCK_READS: &[&str] = &[
    "Time<Real>",
    "Time<Virtual>",
    "Res<Time>",
    "Instant::now",
    "SystemTime",
    ".performance()",
    "Date::now",
    "js_sys::Date",
];

/// Where reading the clock is allowed, and why.
const CLOCK_ALLOWED: &[(&str, &str)] = &[
    (
        "src/data_clock.rs",
        "estimates data time during silence, for staleness only",
    ),
    ("src/scene.rs", "animation: the pulse of zone D"),
    (
        "src/motion.rs",
        "animation: moving parts and loads by the frame's duration, at speeds from data time",
    ),
    (
        "src/kiosk.rs",
        "presentation: the kiosk tour's pace, the camera's flight and drift, the banner's burn-in shift",
    ),
    ("src/web_api.rs", "measures the time to the first frame"),
    (
        "src/gateway_record.rs",
        "how often the record's work-order states are read: a display, not a decision",
    ),
    ("crates/worker/src/lib.rs", "measures compute time per job"),
];

/// Folders whose sources must run on data time.
const DATA_TIME_SOURCES: &[&str] = &[
    "src",
    "crates/core/src",
    "crates/twin/src",
    "crates/forecast/src",
    "crates/jobs/src",
    "crates/worker/src",
];

/// Dependency graph from Cargo.lock: package name to the names it depends on.
pub fn lock_graph(lock: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_deps = false;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            current = None;
            in_deps = false;
        } else if let Some(name) = line
            .strip_prefix("name = \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            if current.is_none() {
                current = Some(name.to_owned());
                graph.entry(name.to_owned()).or_default();
            }
        } else if line.starts_with("dependencies = [") {
            in_deps = true;
        } else if in_deps && line == "]" {
            in_deps = false;
        } else if in_deps && let Some(current) = &current {
            // `"name"` or `"name version"` or `"name version (source)"`.
            let dep = line.trim_matches(|c| c == '"' || c == ',');
            let name = dep.split(' ').next().unwrap_or_default().trim_matches('"');
            if !name.is_empty() {
                graph
                    .entry(current.clone())
                    .or_default()
                    .insert(name.to_owned());
            }
        }
    }
    graph
}

/// Every package `root` reaches in the graph.
pub fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(name) = stack.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

pub fn dependency_problems(lock: &str) -> Vec<String> {
    let graph = lock_graph(lock);
    let mut problems = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        if !graph.contains_key(*krate) {
            problems.push(format!(
                "{krate} is not in Cargo.lock: tidy's list of crates is out of date"
            ));
            continue;
        }
        for dep in reachable(&graph, krate) {
            if forbidden.iter().any(|f| dep.starts_with(f)) {
                problems.push(format!(
                    "{krate} depends on `{dep}` (directly or through another crate)"
                ));
            }
        }
    }
    problems
}

/// Lines of one source file that read a wall clock.
pub fn clock_reads(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or_default();
            CLOCK_READS.iter().any(|pattern| code.contains(pattern))
        })
        .map(|(i, line)| (i + 1, line.trim().to_owned()))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Paths in `code` spans of a Markdown text that look like files or folders.
pub fn named_paths(markdown: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (i, span) in markdown.split('`').enumerate() {
        let looks_like_path = !span.contains(' ')
            && !span.contains("::")
            && (span.contains('/')
                || [".rs", ".md", ".json", ".toml", ".html", ".js", ".mjs"]
                    .iter()
                    .any(|e| span.ends_with(e)));
        if i % 2 == 1 && looks_like_path && !span.starts_with("http") && !span.starts_with('/') {
            paths.push(span.trim_end_matches('/').to_owned());
        }
    }
    paths
}

pub fn run(root: &Path) -> Result<()> {
    let mut problems = Vec::new();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    problems.extend(dependency_problems(&lock));

    let mut files = Vec::new();
    for dir in DATA_TIME_SOURCES {
        rust_files(&root.join(dir), &mut files)?;
    }
    for file in files {
        let relative = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        if CLOCK_ALLOWED
            .iter()
            .any(|(allowed, _)| *allowed == relative)
        {
            continue;
        }
        let source = std::fs::read_to_string(&file)?;
        for (line, text) in clock_reads(&source) {
            problems.push(format!(
                "{relative}:{line} reads the wall clock (`{text}`): decisions run on data time; \
                 if this is animation or measurement, add the file to tidy's CLOCK_ALLOWED with the reason"
            ));
        }
    }

    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    for path in named_paths(&architecture) {
        if !root.join(&path).exists() {
            problems.push(format!(
                "ARCHITECTURE.md names `{path}`, which does not exist"
            ));
        }
    }

    if problems.is_empty() {
        eprintln!("xtask: tidy: dependencies, clocks and ARCHITECTURE.md paths are in order");
        Ok(())
    } else {
        for problem in &problems {
            eprintln!("xtask: tidy: {problem}");
        }
        bail!("tidy found {} problem(s)", problems.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
[[package]]
name = "linetwin-twin"
version = "0.1.0"
dependencies = [
 "linetwin-core",
 "serde",
]

[[package]]
name = "linetwin-core"
version = "0.1.0"
dependencies = [
 "rustfft",
 "helper 1.0.0",
]

[[package]]
name = "helper"
version = "1.0.0"
dependencies = [
 "tokio 1.0.0 (registry+https://example)",
]
"#;

    #[test]
    fn a_forbidden_dependency_is_found_through_another_crate() {
        let graph = lock_graph(LOCK);
        let reached = reachable(&graph, "linetwin-twin");
        assert!(reached.contains("tokio"), "{reached:?}");
        let problems = dependency_problems(LOCK);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("linetwin-twin depends on `tokio`")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("linetwin-jobs is not in Cargo.lock"))
        );
    }

    #[test]
    fn clock_reads_are_found_outside_comments() {
        let source = "let a = 1;\nlet t = Instant::now();\n// Time<Real> in a comment is fine\nfn f(time: Res<Time<Real>>) {}\n";
        let found: Vec<usize> = clock_reads(source)
            .into_iter()
            .map(|(line, _)| line)
            .collect();
        assert_eq!(found, vec![2, 4]);
    }

    #[test]
    fn paths_named_in_code_spans_are_collected() {
        let md = "See `crates/twin`, `src/ui/mod.rs` and `docs/history.md`; not `Twin::ingest`, `a b` or `linetwin:zone`.";
        assert_eq!(
            named_paths(md),
            vec!["crates/twin", "src/ui/mod.rs", "docs/history.md"]
        );
    }

    #[test]
    fn the_real_tree_is_tidy() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root");
        run(root).expect("tidy passes on the project itself");
    }
}
