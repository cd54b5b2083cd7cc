//! `linetwin validate`: the diagnosis scored on a labelled set.
//!
//! The manifest is the holdout format (`records[]` with `id`, `file`,
//! `fs_hz`, `shaft_speed_rpm`, `units`, `bearing`) plus a `fault` per
//! record: a word (`"outer_race"`, `"none"`...) or an object with a
//! `location` (`{"location": "inner", ...}`, as the bearings manifest has
//! it). An optional `note` per record (a benchmark's grade, a remark) is
//! carried into the report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use linetwin_core::diagnosis::{Diagnoser, Diagnosis, HealthState, Verdict};
use linetwin_core::validation::{RecordResult, Report, parse_truth};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Labelled manifest: the holdout format plus a `fault` per record.
    #[arg(long)]
    manifest: PathBuf,
    /// Folder the records' files are in (default: the manifest's folder).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The whole report as one JSON object on standard output.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Also write the report as Markdown to this file (`-`: standard output).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Title of the Markdown report.
    #[arg(long, default_value = "Diagnosis validation")]
    title: String,
}

/// The record's truth from its `fault` field.
fn truth_of(record: &serde_json::Value, id: &str) -> Result<Verdict> {
    let label = match &record["fault"] {
        serde_json::Value::String(word) => word.as_str(),
        serde_json::Value::Null => {
            bail!(
                "{id}: field \"fault\" is missing: say what the record truly has (none, outer_race, inner_race, ball, cage, unbalance, misalignment)"
            )
        }
        serde_json::Value::Object(fault) => fault
            .get("location")
            .and_then(|l| l.as_str())
            .with_context(|| format!("{id}: fault.location is missing or not a string"))?,
        other => bail!("{id}: field \"fault\" is {other}, not a word or an object with a location"),
    };
    parse_truth(label).map_err(|e| anyhow::anyhow!("{id}: fault: {e}"))
}

/// The verdict's evidence and the method that found it, or for no fault
/// the strongest pattern that was rejected.
fn reason_of(d: &Diagnosis) -> String {
    if d.health == HealthState::CheckFunction && d.score.is_none() {
        return d.reasons.join("; ");
    }
    match d.verdict_finding() {
        Some(finding) => {
            let evidence = crate::report::key_evidence_lines(finding, 3).join(", ");
            let found = format!("{evidence} — {}", finding.source);
            // An open location says first which locations fit, up to
            // where its reason goes on to list the evidence.
            match d.reasons.first().filter(|_| d.verdict == Verdict::Bearing) {
                Some(why) => format!("{}; {found}", why.split(';').next().unwrap_or(why)),
                None => found,
            }
        }
        None => d
            .reasons
            .first()
            .cloned()
            .unwrap_or_else(|| "nothing examined".into()),
    }
}

pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let (records, folder) = crate::read_manifest(&args.manifest)?;
    let folder = args.data_dir.clone().unwrap_or(folder);
    if records.is_empty() {
        bail!("{}: no records to validate", args.manifest.display());
    }
    let mut diagnoser = Diagnoser::new();
    let mut results = Vec::with_capacity(records.len());
    let mut unreadable = 0;
    // Progress for a person at a terminal; logs get only the report.
    let progress = std::io::stderr().is_terminal();
    for (index, record) in records.iter().enumerate() {
        let id = record["id"]
            .as_str()
            .map_or_else(|| format!("records[{index}]"), str::to_string);
        // A record without its truth cannot be scored: that is the
        // manifest's error, not the record's outcome.
        let truth =
            truth_of(record, &id).with_context(|| format!("{}", args.manifest.display()))?;
        if progress {
            eprint!("\rvalidating {}/{}: {id}\x1b[K", index + 1, records.len());
        }
        let mut result = match crate::manifest_record(record, index, &folder)
            .and_then(|r| r.diagnose(&mut diagnoser))
        {
            Ok(d) if d.score.is_none() => RecordResult::not_judged(id, truth, reason_of(&d)),
            Ok(d) => RecordResult::judged(
                id,
                truth,
                d.verdict,
                d.confidence,
                d.health.as_str().to_owned(),
                reason_of(&d),
            ),
            Err(e) => {
                unreadable += 1;
                RecordResult::not_judged(id, truth, format!("{e:#}"))
            }
        };
        result.note = record["note"].as_str().map(str::to_owned);
        results.push(result);
    }
    if progress {
        eprintln!();
    }
    let report = Report::new(results);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        write!(out, "{}", report.table())?;
    }
    if let Some(path) = &args.markdown {
        let described = std::fs::read_to_string(&args.manifest)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|m| m["description"].as_str().map(|d| format!("{d}\n\n")))
            .unwrap_or_default();
        let source = format!(
            "{described}Generated by `linetwin validate --manifest {}` ({} records). Outcomes: *correct*; *location uncertain* (a bearing defect found, its location left open: counted apart from misses and wrong locations); *wrong location* (another part of the bearing); *wrong fault* (another kind of fault); *missed*; *false alarm* (a fault on a healthy record); *not judged* (unreadable or unusable).",
            display_name(&args.manifest),
            report.records.len()
        );
        let text = report.markdown(&args.title, &source);
        if path.as_os_str() == "-" {
            write!(out, "{text}")?;
        } else {
            std::fs::write(path, text)
                .with_context(|| format!("{}: cannot write the report", path.display()))?;
            eprintln!("report written to {}", path.display());
        }
    }
    Ok(if unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The manifest's path as given, with `/` separators, so a report
/// written on any machine reads the same.
fn display_name(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}
