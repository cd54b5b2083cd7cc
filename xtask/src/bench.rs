//! `cargo xtask bench`: the full diagnosis chain on 16384-sample blocks,
//! natively and in wasm32 with simd128 (under Node), in one run, with the
//! ratio. Results go to `target/bench.json`; they are reported, not asserted.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, step};

const MIN_MS: &str = "4000";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from)
}

fn json_of(output: &[u8]) -> Result<serde_json::Value> {
    let text = String::from_utf8_lossy(output);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .context("the benchmark printed no JSON")?;
    Ok(serde_json::from_str(line)?)
}

/// Runs a benchmark command and reads the JSON line it prints.
fn measure(command: &mut Command, what: &str) -> Result<serde_json::Value> {
    let output = command
        .output()
        .with_context(|| format!("cannot start the {what} benchmark"))?;
    if !output.status.success() {
        bail!(
            "{what} benchmark failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    json_of(&output.stdout)
}

/// The browser benchmarks (tests/e2e/perf.mjs) against a real gateway.
fn browser(root: &Path) -> Result<()> {
    crate::build_viewer(root, crate::Profile::Web)?;
    let server = crate::build_server()?;
    let report = root.join("target").join("bench-browser.json");
    step(
        Command::new("node")
            .current_dir(root.join("tests").join("e2e"))
            .arg("perf.mjs")
            .env("LINETWIN_SERVER_BIN", &server)
            .env("LINETWIN_WEB_ROOT", crate::dist_dir(root))
            .env(
                "LINETWIN_LINE",
                root.join("assets").join("lines").join("demo.json"),
            )
            .env("LINETWIN_BENCH_REPORT", &report),
    )?;
    eprintln!("xtask: browser benchmark report: {}", report.display());
    Ok(())
}

/// The kiosk soak (tests/e2e/soak.mjs): an hour or more of wall time, a
/// simulated day or more, two gateway restarts and a lost WebGL context.
pub fn soak(root: &Path) -> Result<()> {
    crate::build_viewer(root, crate::Profile::Web)?;
    let server = crate::build_server()?;
    let report = root.join("target").join("soak.json");
    step(
        Command::new("node")
            .current_dir(root.join("tests").join("e2e"))
            .arg("soak.mjs")
            .env("LINETWIN_SERVER_BIN", &server)
            .env("LINETWIN_WEB_ROOT", crate::dist_dir(root))
            .env(
                "LINETWIN_LINE",
                root.join("assets").join("lines").join("demo.json"),
            )
            .env("LINETWIN_SOAK_REPORT", &report),
    )?;
    eprintln!("xtask: soak report: {}", report.display());
    Ok(())
}

pub fn run(root: &Path, with_browser: bool) -> Result<()> {
    let build = ["build", "--locked", "--release", "-p", "linetwin-bench"];
    step(cargo().args(build).args(["--bin", "linetwin-bench"]))?;
    let native = measure(
        Command::new(target_dir().join("release").join("linetwin-bench")).arg(MIN_MS),
        "native",
    )?;

    step(
        cargo()
            .args(build)
            .args(["--lib", "--target", "wasm32-unknown-unknown"]),
    )?;
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join("release")
        .join("linetwin_bench.wasm");
    let out = root.join("target").join("bench-wasm");
    step(
        Command::new("wasm-bindgen")
            .arg(&wasm)
            .args(["--target", "nodejs", "--out-dir"])
            .arg(&out),
    )?;
    let script = format!(
        "const b = require({:?}); console.log(b.bench({MIN_MS}));",
        out.join("linetwin_bench.js")
    );
    let wasm = measure(Command::new("node").args(["-e", &script]), "wasm")?;
    let twin_script = format!(
        "const b = require({:?}); console.log(b.bench_twin({MIN_MS}));",
        out.join("linetwin_bench.js")
    );
    let twin_wasm = measure(
        Command::new("node").args(["-e", &twin_script]),
        "twin (wasm)",
    )?;
    let mc_script = format!(
        "const b = require({:?}); console.log(b.bench_montecarlo({MIN_MS}));",
        out.join("linetwin_bench.js")
    );
    let mc_wasm = measure(
        Command::new("node").args(["-e", &mc_script]),
        "Monte Carlo (wasm)",
    )?;
    let mc_native = measure(
        Command::new(target_dir().join("release").join("linetwin-bench"))
            .args([MIN_MS, "montecarlo"]),
        "Monte Carlo (native)",
    )?;
    let twin_native = measure(
        Command::new(target_dir().join("release").join("linetwin-bench")).args([MIN_MS, "twin"]),
        "twin (native)",
    )?;

    let rate = |v: &serde_json::Value| v["samples_per_second"].as_f64().unwrap_or(0.0);
    let ratio = rate(&wasm) / rate(&native).max(1.0);
    println!(
        "diagnosis chain, {} blocks of {} samples per round:",
        native["blocks_per_round"], native["block_samples"]
    );
    for v in [&native, &wasm] {
        println!(
            "  {:<18} {:>6.2} M samples/s  {:>6.2} ms/block",
            v["target"].as_str().unwrap_or("?"),
            rate(v) / 1e6,
            v["ms_per_block"].as_f64().unwrap_or(0.0)
        );
    }
    println!("  wasm / native      {ratio:.2}");
    let fps = |v: &serde_json::Value| v["frames_per_second"].as_f64().unwrap_or(0.0);
    println!("twin ingest (demo line: blocks every 2 s, readings every 1 s):");
    println!("  native             {:>9.0} frames/s", fps(&twin_native));
    println!("  wasm32             {:>9.0} frames/s", fps(&twin_wasm));
    let mb = |v: &serde_json::Value| v["history_bytes"].as_f64().unwrap_or(0.0) / 1e6;
    println!(
        "  history store      {:.1} MB after a day, {:.1} MB after a week (bound {:.1} MB)",
        mb(&twin_native["history_after_one_day"]),
        mb(&twin_native["history_after_one_week"]),
        twin_native["history_after_one_week"]["history_bound_bytes"]
            .as_f64()
            .unwrap_or(0.0)
            / 1e6
    );
    let paths = |v: &serde_json::Value| v["paths_per_second"].as_f64().unwrap_or(0.0);
    println!("Monte Carlo of a plan, 50 assets, one year:");
    for (name, v) in [("native", &mc_native), ("wasm32", &mc_wasm)] {
        println!(
            "  {name:<18} {:>9.0} paths/s  {:>6.0} ms per 10 000 paths",
            paths(v),
            v["ms_per_10000_paths"].as_f64().unwrap_or(0.0)
        );
    }
    let report = serde_json::json!({
        "montecarlo_native": mc_native, "montecarlo_wasm": mc_wasm,
        "native": native, "wasm": wasm, "wasm_over_native": ratio,
        "twin_native": twin_native, "twin_wasm": twin_wasm,
    });
    std::fs::write(
        root.join("target").join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    if with_browser {
        browser(root)?;
    }
    Ok(())
}
