//! Installs the tools the build and the tests need, at the versions the
//! project pins, and only when they are missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::step;

/// Trunk 0.22.1 needs a newer rustc than the project's 1.95.
const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

pub fn ensure_all(root: &Path, for_tests: bool) -> Result<()> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen(root)?;
    ensure_trunk()?;
    if for_tests {
        ensure_chromium()?;
        ensure_mosquitto()?;
        ensure_node_packages(root)?;
    }
    Ok(())
}

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin").join(name)
}

/// Trunk, from cargo's bin folder if it is not on PATH.
pub fn trunk_path() -> PathBuf {
    let installed = cargo_bin("trunk");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("trunk")
    }
}

fn ensure_wasm_target() -> Result<()> {
    let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        step(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version(lock: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            let version = lines
                .next()?
                .trim()
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(version.to_owned());
        }
    }
    None
}

fn ensure_wasm_bindgen(root: &Path) -> Result<()> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let wanted = locked_wasm_bindgen_version(&lock).context("Cargo.lock has no wasm-bindgen")?;
    let found = output_of("wasm-bindgen", &["--version"])
        .or_else(|| output_of(cargo_bin("wasm-bindgen").to_str()?, &["--version"]))
        .unwrap_or_default();
    if found.split_whitespace().nth(1) != Some(wanted.as_str()) {
        eprintln!("xtask: installing wasm-bindgen-cli {wanted} (a few minutes, once)");
        // `--locked` fails for this crate on current registries; the version is pinned exactly.
        step(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={wanted}"),
        ]))?;
    }
    Ok(())
}

fn ensure_trunk() -> Result<()> {
    let found =
        output_of(trunk_path().to_str().unwrap_or("trunk"), &["--version"]).unwrap_or_default();
    if found.split_whitespace().nth(1) != Some(TRUNK_VERSION) {
        eprintln!("xtask: installing trunk {TRUNK_VERSION} (a few minutes, once)");
        step(Command::new("cargo").args([
            "install",
            "trunk",
            "--version",
            TRUNK_VERSION,
            "--locked",
        ]))?;
    }
    Ok(())
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The real MQTT broker the gateway's tests start on a free port.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

fn ensure_chromium() -> Result<()> {
    ensure_debian_package(CHROMIUM, "chromium", "the end-to-end test")
}

fn ensure_mosquitto() -> Result<()> {
    ensure_debian_package(MOSQUITTO, "mosquitto", "the gateway's MQTT test")
}

/// Installs a Debian package through apt when its program is missing (as
/// root; otherwise says what to run).
fn ensure_debian_package(program: &str, package: &str, needed_by: &str) -> Result<()> {
    if Path::new(program).exists() {
        return Ok(());
    }
    let is_root = output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        bail!(
            "{needed_by} needs Debian's {package}: run `sudo apt-get install -y {package}` and try again"
        );
    }
    eprintln!("xtask: installing Debian's {package} for {needed_by}");
    step(Command::new("apt-get").arg("update"))?;
    step(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// binaryen's wasm-opt from npm (Debian's 108 breaks the module), for `dist`.
pub fn ensure_web_tools(root: &Path) -> Result<()> {
    if output_of("node", &["--version"]).is_none() {
        bail!("`cargo xtask dist` needs Node.js 18 or newer on PATH (for binaryen's wasm-opt)");
    }
    let tools = root.join("web").join("tools");
    if !tools.join("node_modules").join("binaryen").exists() {
        step(
            Command::new("npm")
                .current_dir(&tools)
                .args(["ci", "--no-audit", "--no-fund"]),
        )?;
    }
    Ok(())
}

fn ensure_node_packages(root: &Path) -> Result<()> {
    if output_of("node", &["--version"]).is_none() {
        bail!("the end-to-end test needs Node.js 18 or newer on PATH");
    }
    let e2e = root.join("tests").join("e2e");
    if !e2e.join("node_modules").join("playwright-core").exists()
        || !e2e.join("node_modules").join("pngjs").exists()
    {
        step(
            Command::new("npm")
                .current_dir(&e2e)
                .args(["ci", "--no-audit", "--no-fund"]),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::locked_wasm_bindgen_version;

    #[test]
    fn finds_the_locked_wasm_bindgen_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"0.2.1\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_wasm_bindgen_version(lock).as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_wasm_bindgen_version("nothing"), None);
    }
}
