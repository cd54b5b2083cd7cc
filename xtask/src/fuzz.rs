//! `cargo xtask fuzz`: the long fuzzing campaign. Builds `linetwin-fuzz`
//! in release, runs one process per decoder (as many at once as there are
//! cores; the allocation counts are per process), and writes every
//! target's report into `target/fuzz.json`. Fails when a decoder panicked.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{cargo, step};

const TARGETS: [&str; 9] = [
    "ws_text",
    "ws_binary",
    "mqtt_plain",
    "sparkplug",
    "line",
    "scenario",
    "config",
    "recording",
    "http_bodies",
];

fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), Into::into)
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let inputs = match args {
        [] => 10_000_000u64,
        [flag, count] if flag == "--inputs" => count.parse().context("--inputs: a count")?,
        _ => bail!("usage: cargo xtask fuzz [--inputs N]"),
    };
    step(cargo().args(["build", "--locked", "--release", "-p", "linetwin-fuzz"]))?;
    let binary = target_dir().join("release").join("linetwin-fuzz");
    let out = root.join("target").join("fuzz");
    std::fs::create_dir_all(&out)?;
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut running: Vec<(&str, Child)> = Vec::new();
    let mut failed = Vec::new();
    let mut queue = TARGETS.iter();
    loop {
        while running.len() < parallel {
            let Some(&target) = queue.next() else { break };
            let child = Command::new(&binary)
                .args(["--target", target, "--inputs", &inputs.to_string()])
                .arg("--report")
                .arg(out.join(format!("{target}.json")))
                .spawn()
                .with_context(|| format!("cannot start {}", binary.display()))?;
            running.push((target, child));
        }
        if running.is_empty() {
            break;
        }
        let (target, mut child) = running.remove(0);
        if !child.wait()?.success() {
            failed.push(target);
        }
    }
    let mut reports = Vec::new();
    for target in TARGETS {
        let path = out.join(format!("{target}.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{target} wrote no report ({})", path.display()))?;
        let report: serde_json::Value = serde_json::from_str(&text)?;
        reports.extend(report["targets"].as_array().cloned().unwrap_or_default());
    }
    println!(
        "| decoder | inputs | accepted | refused | panics | most allocated by one input | retained | inputs/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &reports {
        println!(
            "| {} | {} | {} | {} | {} | {} kB | {} B | {:.0} |",
            r["target"].as_str().unwrap_or("?"),
            r["inputs"],
            r["accepted"],
            r["refused"],
            r["panics"],
            r["max_input_alloc_bytes"].as_u64().unwrap_or(0) / 1024,
            r["retained_bytes"],
            r["inputs_per_s"].as_f64().unwrap_or(0.0),
        );
    }
    let summary = serde_json::json!({
        "inputs_per_target": inputs,
        "processes_at_once": parallel,
        "wall_s": started.elapsed().as_secs_f64(),
        "targets": reports,
    });
    let path = root.join("target").join("fuzz.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)?;
    eprintln!(
        "xtask: fuzzed {} decoders × {inputs} inputs in {:.0} s; report in {}",
        TARGETS.len(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
    if !failed.is_empty() {
        bail!(
            "a decoder panicked or the fuzzer failed: {}",
            failed.join(", ")
        );
    }
    Ok(())
}
