//! `linetwin-fuzz [--inputs N] [--seed S] [--target NAME]... [--report FILE]`:
//! the fuzzing campaign (`cargo xtask fuzz` runs it in release). Exits 1
//! when any decoder panicked; the crashing inputs are in the report.

use std::process::ExitCode;

use anyhow::{Context, bail};
use linetwin_fuzz::alloc::CountingAllocator;
use linetwin_fuzz::{fuzz, targets};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

struct Options {
    inputs: u64,
    seed: u64,
    only: Vec<String>,
    report: Option<std::path::PathBuf>,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        inputs: 10_000_000,
        seed: 1,
        only: Vec::new(),
        report: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--inputs" => options.inputs = value()?.parse().context("--inputs: a count")?,
            "--seed" => options.seed = value()?.parse().context("--seed: a number")?,
            "--target" => options.only.push(value()?),
            "--report" => options.report = Some(value()?.into()),
            other => bail!(
                "unknown argument `{other}`: linetwin-fuzz [--inputs N] [--seed S] [--target NAME]... [--report FILE]"
            ),
        }
    }
    Ok(options)
}

fn run() -> anyhow::Result<bool> {
    let options = options()?;
    if let Some(mb) = std::env::var("LINETWIN_FUZZ_TRAP_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        linetwin_fuzz::alloc::trap_above(mb << 20);
    }
    let mut all = targets::all()?;
    if let Some(unknown) = options
        .only
        .iter()
        .find(|name| !all.iter().any(|t| t.name == name.as_str()))
    {
        let names: Vec<&str> = all.iter().map(|t| t.name).collect();
        bail!("no target `{unknown}`: targets are {}", names.join(", "));
    }
    let mut reports = Vec::new();
    for target in all
        .iter_mut()
        .filter(|t| options.only.is_empty() || options.only.iter().any(|n| n == t.name))
    {
        eprintln!(
            "fuzz: {} ({}): {} inputs",
            target.name, target.reads, options.inputs
        );
        let name = target.name;
        let report = fuzz(target, options.inputs, options.seed, |done| {
            if done % 1_000_000 == 0 {
                eprintln!("fuzz: {name}: {done} inputs");
            }
        });
        eprintln!(
            "fuzz: {name}: {} inputs in {:.0} s ({:.0}/s), {} accepted, {} refused, {} panics, at most {} kB allocated by one input, {} bytes retained, {} MB resident at the peak",
            report.inputs,
            report.seconds,
            report.inputs as f64 / report.seconds.max(1e-9),
            report.accepted,
            report.refused,
            report.panics,
            report.max_input_alloc_bytes.unwrap_or(0) / 1024,
            report.retained_bytes.unwrap_or(0),
            report.peak_resident_bytes.unwrap_or(0) >> 20,
        );
        for crash in &report.crashes {
            eprintln!("fuzz: {name}: PANIC {}", crash.message);
        }
        reports.push(report);
    }
    if let Some(path) = &options.report {
        let json = serde_json::json!({
            "seed": options.seed,
            "inputs_per_target": options.inputs,
            "targets": reports.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&json).context("the report")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("fuzz: report in {}", path.display());
    }
    Ok(reports.iter().all(|r| r.panics == 0))
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("fuzz: a decoder panicked (see above)");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("linetwin-fuzz: {err:#}");
            ExitCode::from(2)
        }
    }
}
