//! `linetwin`: the command line of the linetwin diagnosis engine.
//!
//! ```text
//! linetwin diagnose FILE --fs HZ --rpm RPM [--bearing N,d,D,angle] [--bearing-unit mm|in]
//!                        [--unit g] [--iso 2,rigid] [--format f32|csv] [--column N] [--json]
//! linetwin diagnose --manifest FILE
//! linetwin rul --manifest FILE [--json]
//! linetwin validate --manifest FILE [--data-dir DIR] [--json] [--markdown FILE]
//! ```

mod input;
mod report;
mod rul;
mod validate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use linetwin_core::diagnosis::{Diagnoser, Diagnosis, DiagnosisInput};
use linetwin_core::dsp::acceleration_scale;
use linetwin_core::iso::{MachineGroup, Support};
use linetwin_core::line::BearingGeometry;

use input::{Format, LengthUnit};

/// linetwin: vibration diagnostics of equipment lines.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Diagnose an acceleration recording (float32 little-endian or CSV).
    Diagnose(DiagnoseArgs),
    /// Remaining useful life from indicator histories (runs to failure as prior).
    Rul(RulArgs),
    /// Score the diagnosis on a labelled set: confusion matrix, recall and
    /// precision per class, false alarms, wrong and uncertain locations.
    Validate(validate::ValidateArgs),
}

#[derive(Debug, Args)]
struct RulArgs {
    /// `{"records":[{"id","role":"history"|"predict","group","rpm","load_n",
    /// "indicator_kind","indicator":"file.f32","t_h":"file.f32"}]}`, files
    /// relative to it.
    #[arg(long)]
    manifest: PathBuf,
    /// One JSON line per predicted record.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct DiagnoseArgs {
    /// Recording: .f32/.bin (headerless float32 little-endian) or .csv/.txt
    /// (one sample per line, or the first numeric column; a header line is allowed).
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    file: Option<PathBuf>,
    /// Sampling rate in Hz.
    #[arg(
        long,
        required_unless_present = "manifest",
        allow_negative_numbers = true
    )]
    fs: Option<f64>,
    /// Shaft speed in revolutions per minute.
    #[arg(
        long,
        required_unless_present = "manifest",
        allow_negative_numbers = true
    )]
    rpm: Option<f64>,
    /// Rolling bearing: N,d,D,angle (rolling elements, ball and pitch
    /// diameters, contact angle in degrees; the angle may be left out).
    #[arg(long, allow_hyphen_values = true)]
    bearing: Option<String>,
    /// Unit of the bearing diameters.
    #[arg(long, value_enum, default_value = "mm")]
    bearing_unit: LengthUnit,
    /// Unit of the samples: g, m/s2 or mm/s2.
    #[arg(long, default_value = "g")]
    unit: String,
    /// ISO 20816-3 class for the evaluation zone: GROUP,SUPPORT (e.g. 2,rigid).
    #[arg(long)]
    iso: Option<String>,
    /// File format, when the extension does not tell.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Text files: the column to read, counting from 1 (default: the first numeric one).
    #[arg(long)]
    column: Option<usize>,
    /// One JSON object instead of the readable report.
    #[arg(long)]
    json: bool,
    /// Run every record of a manifest (`{"records":[{"id","file","fs_hz",
    /// "shaft_speed_rpm","units","bearing":{...}}]}`, files relative to it)
    /// and print one JSON line per record.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diagnose(args) => diagnose(&args),
        Command::Rul(args) => rul::run(&args.manifest, args.json).map(|()| ExitCode::SUCCESS),
        Command::Validate(args) => validate::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn parse_iso(text: &str) -> Result<(MachineGroup, Support)> {
    let (group, support) = text
        .split_once(',')
        .with_context(|| format!("--iso {text:?}: expected GROUP,SUPPORT such as 2,rigid"))?;
    let group = match group.trim() {
        "1" => MachineGroup::Group1,
        "2" => MachineGroup::Group2,
        other => bail!("--iso: machine group is {other:?}; ISO 20816-3 groups are 1 or 2"),
    };
    let support = match support.trim().to_ascii_lowercase().as_str() {
        "rigid" => Support::Rigid,
        "flexible" => Support::Flexible,
        other => bail!("--iso: support is {other:?}; it is rigid or flexible"),
    };
    Ok((group, support))
}

fn diagnose(args: &DiagnoseArgs) -> Result<ExitCode> {
    if let Some(manifest) = &args.manifest {
        return run_manifest(manifest);
    }
    let file = args.file.as_deref().context("no FILE given")?;
    let fs = input::positive(
        "--fs (sampling rate, Hz)",
        args.fs.context("--fs is required")?,
    )?;
    let rpm = input::positive(
        "--rpm (shaft speed)",
        args.rpm.context("--rpm is required")?,
    )?;
    let scale = acceleration_scale(&args.unit).with_context(|| {
        format!(
            "--unit {:?}: unknown acceleration unit; use g, m/s2 or mm/s2",
            args.unit
        )
    })?;
    let bearing = args
        .bearing
        .as_deref()
        .map(|b| input::parse_bearing(b, args.bearing_unit))
        .transpose()?;
    let iso = args.iso.as_deref().map(parse_iso).transpose()?;
    let format = match args.format {
        Some(f) => f,
        None => Format::from_extension(file)?,
    };
    let samples = input::read_samples(file, format, args.column)?;

    let mut input = DiagnosisInput::new(&samples, fs, rpm).with_unit_scale(scale);
    input.bearing = bearing.as_ref();
    input.iso = iso;
    let diagnosis = Diagnoser::new().diagnose(&input);
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut value = serde_json::to_value(&diagnosis)?;
        value["file"] = file.display().to_string().into();
        value["fs_hz"] = fs.into();
        value["shaft_rpm"] = rpm.into();
        writeln!(out, "{}", serde_json::to_string(&value)?)?;
    } else {
        report::print(
            &mut out,
            file,
            fs,
            rpm,
            bearing.as_ref(),
            &samples,
            &diagnosis,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One record of a manifest, ready to diagnose.
pub(crate) struct ManifestRecord {
    pub(crate) id: String,
    file: PathBuf,
    fs: f64,
    rpm: f64,
    scale: f64,
    n_samples: Option<u64>,
    bearing: Option<BearingGeometry>,
}

pub(crate) fn manifest_record(
    record: &serde_json::Value,
    index: usize,
    folder: &Path,
) -> Result<ManifestRecord> {
    let id = record["id"]
        .as_str()
        .map_or_else(|| format!("records[{index}]"), str::to_string);
    let field = |name: &str| -> Result<f64> {
        record[name]
            .as_f64()
            .with_context(|| format!("{id}: field {name:?} is missing or not a number"))
    };
    let file = record["file"]
        .as_str()
        .with_context(|| format!("{id}: field \"file\" is missing or not a string"))?;
    let fs = input::positive(&format!("{id}: fs_hz"), field("fs_hz")?)?;
    let rpm = input::positive(&format!("{id}: shaft_speed_rpm"), field("shaft_speed_rpm")?)?;
    let unit = record["units"].as_str().unwrap_or("g");
    let scale =
        acceleration_scale(unit).with_context(|| format!("{id}: unknown units {unit:?}"))?;
    let bearing = match &record["bearing"] {
        serde_json::Value::Null => None,
        b => {
            let get = |name: &str| -> Result<f64> {
                b[name]
                    .as_f64()
                    .with_context(|| format!("{id}: bearing.{name} is missing or not a number"))
            };
            let text = format!(
                "{},{},{},{}",
                get("n_rolling_elements")?,
                get("ball_diameter_in")?,
                get("pitch_diameter_in")?,
                b["contact_angle_deg"].as_f64().unwrap_or(0.0)
            );
            Some(
                input::parse_bearing(&text, LengthUnit::In)
                    .with_context(|| format!("{id}: bearing"))?,
            )
        }
    };
    Ok(ManifestRecord {
        id,
        file: folder.join(file),
        fs,
        rpm,
        scale,
        n_samples: record["n_samples"].as_u64(),
        bearing,
    })
}

impl ManifestRecord {
    /// Reads the record's file and diagnoses it.
    pub(crate) fn diagnose(&self, diagnoser: &mut Diagnoser) -> Result<Diagnosis> {
        let format = Format::from_extension(&self.file).unwrap_or(Format::F32);
        let samples = input::read_samples(&self.file, format, None)?;
        if let Some(n) = self.n_samples.filter(|&n| n != samples.len() as u64) {
            eprintln!(
                "warning: {}: manifest says {n} samples, the file holds {}",
                self.id,
                samples.len()
            );
        }
        let mut input =
            DiagnosisInput::new(&samples, self.fs, self.rpm).with_unit_scale(self.scale);
        input.bearing = self.bearing.as_ref();
        Ok(diagnoser.diagnose(&input))
    }
}

/// A manifest's records, and the folder its files are relative to.
pub(crate) fn read_manifest(path: &Path) -> Result<(Vec<serde_json::Value>, PathBuf)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let records = manifest["records"]
        .as_array()
        .with_context(|| format!("{}: no \"records\" array", path.display()))?
        .clone();
    Ok((
        records,
        path.parent().unwrap_or(Path::new(".")).to_path_buf(),
    ))
}

fn run_manifest(path: &Path) -> Result<ExitCode> {
    let (records, folder) = read_manifest(path)?;
    let folder = folder.as_path();
    let mut diagnoser = Diagnoser::new();
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for (index, record) in records.iter().enumerate() {
        let line = match manifest_record(record, index, folder).and_then(|r| {
            let diagnosis = r.diagnose(&mut diagnoser)?;
            let mut value = serde_json::json!({
                "id": r.id,
                "verdict": diagnosis.verdict,
                "health": diagnosis.health,
                "score": diagnosis.score,
                "confidence": diagnosis.confidence,
                "key_evidence": report::key_evidence(&diagnosis),
            });
            let full = serde_json::to_value(&diagnosis)?;
            if let (Some(obj), serde_json::Value::Object(rest)) = (value.as_object_mut(), full) {
                for (k, v) in rest {
                    obj.entry(k).or_insert(v);
                }
            }
            value["file"] = r.file.display().to_string().into();
            Ok(value)
        }) {
            Ok(value) => value,
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
                let id = record["id"]
                    .as_str()
                    .map_or_else(|| format!("records[{index}]"), str::to_string);
                serde_json::json!({ "id": id, "error": format!("{e:#}") })
            }
        };
        writeln!(out, "{}", serde_json::to_string(&line)?)?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
