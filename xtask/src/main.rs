//! `cargo xtask <command>`: the project's developer commands.
//!
//! - `run`   installs what is missing, builds the viewer and starts the gateway.
//! - `test`  runs every test: Rust unit and integration tests, then the
//!   end-to-end test in headless Chromium against a real gateway.
//! - `lint`  checks formatting and runs clippy (native and wasm32).
//! - `tidy`  checks the architecture's invariants (see `tidy.rs`).
//! - `bench` measures the diagnosis and the twin natively and in wasm32,
//!   then the viewer in headless Chromium (`--no-browser` skips that).
//! - `dist`  builds the optimised viewer bundle (fat LTO).
//! - `fuzz`  fuzzes every decoder of outside data, 10 million inputs each
//!   (`--inputs N` for another count), and writes `target/fuzz.json`.
//! - `setup` only installs the tools.
//!
//! Every command does its own set-up, so each works on a fresh machine.

mod bench;
mod compress;
mod fuzz;
mod tidy;
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

fn main() {
    if let Err(error) = run() {
        eprintln!("xtask: error: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".to_owned());
    // `cargo xtask run -- --port 9000` passes the `--` through.
    let rest: Vec<String> = args.skip_while(|a| a == "--").collect();
    let root = project_root()?;
    std::env::set_current_dir(&root)?;
    match command.as_str() {
        "run" => run_twin(&root, &rest),
        "test" => test_all(&root),
        "dist" => {
            tools::ensure_all(&root, false)?;
            build_viewer(&root, Profile::Dist)
        }
        "setup" => tools::ensure_all(&root, true),
        "lint" => lint(),
        "tidy" => tidy::run(&root),
        "bench" => {
            let with_browser = !rest.iter().any(|a| a == "--no-browser");
            tools::ensure_all(&root, with_browser)?;
            bench::run(&root, with_browser)
        }
        "soak" => {
            tools::ensure_all(&root, true)?;
            bench::soak(&root)
        }
        "fuzz" => fuzz::run(&root, &rest),
        "properties" => long_properties(&rest),
        "validate" => validation_report(&root),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <run [server flags…] | test | lint | tidy | bench [--no-browser] | soak | fuzz [--inputs N] | properties [--seeds N] | validate | dist | setup>"
            );
            Ok(())
        }
        other => bail!("unknown command `{other}`; try `cargo xtask help`"),
    }
}

/// The workspace root around the current folder. Found at run time, not
/// from `CARGO_MANIFEST_DIR`: checkouts that share a `CARGO_TARGET_DIR` (CI
/// clones and a developer's tree) can end up running each other's identical
/// xtask binary, and it must act on the tree it was invoked in.
fn project_root() -> Result<PathBuf> {
    let here = std::env::current_dir()?;
    here.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.contains("[workspace]"))
                && dir.join("xtask").is_dir()
        })
        .map(Path::to_path_buf)
        .with_context(|| format!("{} is not inside the linetwin workspace", here.display()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Fast to build; used by `run` and the end-to-end test.
    Web,
    /// Fat LTO; for shipping.
    Dist,
}

/// Runs a command, echoing it, and fails with its name if it fails.
pub fn step(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}").replace('"', "");
    eprintln!("xtask: $ {shown}");
    let status = command
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub fn dist_dir(root: &Path) -> PathBuf {
    root.join("target").join("dist")
}

pub(crate) fn build_viewer(root: &Path, profile: Profile) -> Result<()> {
    let started = Instant::now();
    // Trunk runs offline: every crate must already be in the local registry.
    step(cargo().args(["fetch", "--locked"]))?;
    let mut trunk = Command::new(tools::trunk_path());
    trunk.args(["build", "--offline"]);
    if profile == Profile::Dist {
        trunk.arg("--release");
    }
    // A RUSTFLAGS from the environment would replace the wasm target's flags
    // in .cargo/config.toml (simd128), silently slowing the diagnosis.
    trunk.env_remove("RUSTFLAGS");
    step(&mut trunk)?;
    let dist = dist_dir(root);
    if profile == Profile::Dist {
        tools::ensure_web_tools(root)?;
        step(
            Command::new("node")
                .arg(root.join("web").join("tools").join("optimise.mjs"))
                .arg(&dist),
        )?;
    }
    let effort = match profile {
        Profile::Web => compress::Effort::Fast,
        Profile::Dist => compress::Effort::Best,
    };
    let report = compress::precompress(&dist, effort)?;
    eprintln!(
        "xtask: viewer built in {:.0} s: wasm {:.1} MB raw, {:.1} MB gzip, {:.1} MB brotli",
        started.elapsed().as_secs_f64(),
        report.wasm_raw as f64 / 1e6,
        report.wasm_gzip as f64 / 1e6,
        report.wasm_brotli as f64 / 1e6
    );
    Ok(())
}

pub(crate) fn build_server() -> Result<PathBuf> {
    step(cargo().args(["build", "--locked", "-p", "linetwin-server"]))?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let binary = target.join("debug").join("linetwin-server");
    if !binary.exists() {
        bail!("the server binary was not found at {}", binary.display());
    }
    Ok(binary)
}

fn run_twin(root: &Path, server_args: &[String]) -> Result<()> {
    tools::ensure_all(root, false)?;
    build_viewer(root, Profile::Web)?;
    let server = build_server()?;
    eprintln!("xtask: starting the gateway with the built-in demo line (Ctrl-C stops it)");
    let mut command = Command::new(server);
    command
        .arg("--web-root")
        .arg(dist_dir(root))
        .args(server_args);
    step(&mut command)
}

/// The real bearing recordings: `LINETWIN_DATA`, else `shared/data/bearings`
/// beside the checkout (where CI puts it).
fn real_data_dir(root: &Path) -> PathBuf {
    std::env::var_os("LINETWIN_DATA").map_or_else(
        || root.join("..").join("shared").join("data").join("bearings"),
        PathBuf::from,
    )
}

/// Every package but the viewer, as `-p NAME` arguments.
fn non_viewer_packages() -> Vec<&'static str> {
    [
        "linetwin-core",
        "linetwin-twin",
        "linetwin-forecast",
        "linetwin-jobs",
        "linetwin-worker",
        "linetwin-recorder",
        "linetwin-server",
        "linetwin-cli",
        "linetwin-bench",
        "linetwin-fuzz",
        "xtask",
    ]
    .into_iter()
    .flat_map(|name| ["-p", name])
    .collect()
}

/// Formatting and clippy, for native and for the browser-only code paths.
/// Separate invocations for the viewer for the same reason as in `test_all`.
fn lint() -> Result<()> {
    step(cargo().args(["fmt", "--all", "--check"]))?;
    let others = non_viewer_packages();
    step(
        cargo()
            .args(["clippy", "--locked", "--all-targets"])
            .args(others)
            .args(["--", "-D", "warnings"]),
    )?;
    step(cargo().args([
        "clippy",
        "--locked",
        "--all-targets",
        "-p",
        "linetwin",
        "--",
        "-D",
        "warnings",
    ]))?;
    step(cargo().args([
        "clippy",
        "--locked",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "linetwin",
        "-p",
        "linetwin-bench",
        "-p",
        "linetwin-worker",
        "--",
        "-D",
        "warnings",
    ]))
}

/// The diagnosis scored on the development set (`validation/dev-set.json`,
/// the real recordings in `LINETWIN_DATA`), written to
/// `docs/validation.md`: every change that moves a number shows in the diff.
fn validation_report(root: &Path) -> Result<()> {
    let data = real_data_dir(root);
    // Written aside first: a run that could not read every record fails
    // and leaves the committed report as it was.
    let fresh = root.join("target").join("validation.md");
    std::fs::create_dir_all(root.join("target"))?;
    step(
        cargo()
            .current_dir(root)
            .args(["run", "--locked", "-q", "-p", "linetwin-cli", "--"])
            .args(["validate", "--manifest", "validation/dev-set.json"])
            .arg("--data-dir")
            .arg(&data)
            .arg("--markdown")
            .arg(&fresh)
            .args(["--title", "Diagnosis validation on the development set"])
            .stdout(std::process::Stdio::null()),
    )?;
    std::fs::copy(&fresh, root.join("docs").join("validation.md"))
        .context("cannot update docs/validation.md")?;
    Ok(())
}

/// The property tests of the diagnosis over many seeds (release build):
/// the long run behind the tests' fixed slice.
fn long_properties(args: &[String]) -> Result<()> {
    let seeds = match args.iter().position(|a| a == "--seeds") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n > 0)
            .context("--seeds needs a positive count")?,
        None => 50,
    };
    eprintln!("xtask: property tests over {seeds} seeds per property");
    step(
        cargo()
            .args(["test", "--locked", "--release", "-p", "linetwin-core"])
            .args(["--test", "properties", "--", "--nocapture"])
            .env("LINETWIN_PROPERTY_SEEDS", seeds.to_string()),
    )
}

fn test_all(root: &Path) -> Result<()> {
    let started = Instant::now();
    tidy::run(root)?;
    let data = real_data_dir(root);
    eprintln!(
        "xtask: real recordings for the validation tests: {} ({})",
        data.display(),
        if data.join("manifest.json").is_file() {
            "found"
        } else {
            "MISSING: those tests will fail"
        }
    );
    tools::ensure_all(root, true)?;
    // Two invocations, not `--workspace`: feature unification across all
    // members would give Bevy's dependencies a second feature set and cost a
    // second full native Bevy build (20+ minutes on two cores).
    step(
        cargo()
            .args(["test", "--locked"])
            .args(non_viewer_packages())
            .env("LINETWIN_DATA", &data),
    )?;
    step(cargo().args(["test", "--locked", "-p", "linetwin"]))?;
    validation_report(root)?;
    let rust_done = started.elapsed();
    build_viewer(root, Profile::Web)?;
    let server = build_server()?;
    let e2e = root.join("tests").join("e2e");
    let mut node = Command::new("node");
    node.current_dir(&e2e)
        .args([
            "--test",
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
            // One browser at a time: two SwiftShader renderers on two
            // cores would starve each other.
            "--test-concurrency=1",
        ])
        .args([
            "twin.test.mjs",
            "kiosk.test.mjs",
            "scenario.test.mjs",
            "timeline.test.mjs",
            "layout.test.mjs",
            "security.test.mjs",
        ])
        .env("LINETWIN_SERVER_BIN", &server)
        .env("LINETWIN_WEB_ROOT", dist_dir(root))
        .env(
            "LINETWIN_LINE",
            root.join("assets").join("lines").join("demo.json"),
        )
        .env(
            "LINETWIN_SCREENSHOT",
            root.join("target").join("e2e-screenshot.png"),
        )
        .env(
            "LINETWIN_REPORT",
            root.join("target").join("e2e-report.json"),
        );
    step(&mut node)?;
    eprintln!(
        "xtask: all tests passed in {:.0} s (Rust tests done after {:.0} s)",
        started.elapsed().as_secs_f64(),
        rust_done.as_secs_f64()
    );
    Ok(())
}
