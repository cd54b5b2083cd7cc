//! `linetwin rul --manifest FILE [--json]`: remaining useful life from
//! health-indicator histories, with earlier runs to failure as the prior.
//!
//! The manifest: `{"records": [{"id", "role": "history" | "predict",
//! "group", "rpm", "load_n", "indicator_kind", "indicator": "file.f32",
//! "t_h": "file.f32"}]}`, paths relative to the manifest, both files
//! float32 little-endian with one value per snapshot.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use linetwin_forecast::fleet::{FleetPrior, FleetRun, condition_factor};
use linetwin_forecast::rul::{RulConfig, RulError, estimate_rul, prior_only_rul};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    records: Vec<Record>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    History,
    Predict,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    id: String,
    role: Role,
    group: String,
    rpm: f64,
    load_n: f64,
    indicator_kind: String,
    indicator: PathBuf,
    t_h: PathBuf,
}

struct Loaded<'a> {
    record: &'a Record,
    t_h: Vec<f64>,
    values: Vec<f64>,
}

pub fn run(manifest_path: &Path, json: bool) -> Result<()> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("{}: cannot read the manifest", manifest_path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let manifest: Manifest = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        anyhow::anyhow!(
            "{}: field `{}`: {}",
            manifest_path.display(),
            e.path(),
            e.inner()
        )
    })?;
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let mut loaded = Vec::new();
    for (i, record) in manifest.records.iter().enumerate() {
        loaded.push(load(base, i, record)?);
    }
    let history: Vec<&Loaded> = loaded
        .iter()
        .filter(|l| l.record.role == Role::History)
        .collect();
    for target in loaded.iter().filter(|l| l.record.role == Role::Predict) {
        let record = target.record;
        let prior = prior_for(record, &history)?;
        // Hours in the files are elapsed since the component was new.
        let config = RulConfig {
            age_at_start_h: target.t_h.first().copied().unwrap_or(0.0).max(0.0),
            ..RulConfig::default()
        };
        let rul = match estimate_rul(&target.t_h, &target.values, Some(&prior), &config) {
            Ok(rul) => rul,
            // Too short a history is still a component of known age.
            Err(RulError::TooFew { usable, .. }) => {
                let age = target.t_h.last().copied().unwrap_or(0.0);
                prior_only_rul(&prior, age, usable, &config)
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("record `{}`: cannot predict", record.id));
            }
        };
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "id": record.id,
                    "rul_h": rul.median_h,
                    "rul_h_low": rul.low_h,
                    "rul_h_high": rul.high_h,
                    "at_h": rul.at_h,
                    "state": rul.state.label(),
                    "detected_at_h": rul.detected_at_h,
                    "evidence": rul.evidence,
                })
            );
        } else {
            println!(
                "{}: RUL {:.1} h (10-90 %: {:.1}-{:.1} h) at {:.1} h, {}\n  {}",
                record.id,
                rul.median_h,
                rul.low_h,
                rul.high_h,
                rul.at_h,
                rul.state.label(),
                rul.evidence
            );
        }
    }
    Ok(())
}

/// The fleet for one prediction: runs of the same indicator in the same
/// operating group; failing that, every run of the indicator, its hours
/// rescaled to the record's speed and load (ISO 281 life law).
fn prior_for(record: &Record, history: &[&Loaded]) -> Result<FleetPrior> {
    let same_kind: Vec<&&Loaded> = history
        .iter()
        .filter(|h| h.record.indicator_kind == record.indicator_kind)
        .collect();
    if same_kind.is_empty() {
        bail!(
            "record `{}`: field `indicator_kind`: no history record has indicator_kind `{}` to set the prior",
            record.id,
            record.indicator_kind
        );
    }
    let same_group: Vec<&&Loaded> = same_kind
        .iter()
        .copied()
        .filter(|h| h.record.group == record.group)
        .collect();
    let fleet = if same_group.is_empty() {
        same_kind
    } else {
        same_group
    };
    let mut runs = Vec::new();
    for h in fleet {
        // One unusable run (too short to learn from) must not stop every
        // prediction; it is reported and left out.
        let run = match FleetRun::learn(&h.record.id, &h.t_h, &h.values) {
            Ok(run) => run,
            Err(error) => {
                eprintln!(
                    "warning: history record `{}` left out: {error}",
                    h.record.id
                );
                continue;
            }
        };
        let factor = condition_factor(h.record.rpm, h.record.load_n, record.rpm, record.load_n);
        runs.push(run.scaled(factor));
    }
    FleetPrior::from_runs(&runs)
        .with_context(|| format!("record `{}`: no usable history", record.id))
}

fn load<'a>(base: &Path, index: usize, record: &'a Record) -> Result<Loaded<'a>> {
    let at = |field: &str| format!("records[{index}] (`{}`): field `{field}`", record.id);
    if record.id.trim().is_empty() {
        bail!("records[{index}]: field `id`: must not be empty");
    }
    for (field, value) in [("rpm", record.rpm), ("load_n", record.load_n)] {
        if !(value.is_finite() && value > 0.0) {
            bail!("{}: must be a positive number, not {value}", at(field));
        }
    }
    let read = |field: &str, path: &Path| -> Result<Vec<f64>> {
        let full = base.join(path);
        let bytes = std::fs::read(&full)
            .with_context(|| format!("{}: cannot read {}", at(field), full.display()))?;
        if bytes.len() % 4 != 0 {
            bail!(
                "{}: {} is {} bytes, not a whole number of float32 values",
                at(field),
                full.display(),
                bytes.len()
            );
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect())
    };
    let values = read("indicator", &record.indicator)?;
    let t_h = read("t_h", &record.t_h)?;
    if values.len() != t_h.len() {
        bail!(
            "{}: {} values but `t_h` has {}: one value per snapshot in each",
            at("indicator"),
            values.len(),
            t_h.len()
        );
    }
    if let Some(i) = t_h.iter().position(|t| !t.is_finite()) {
        bail!(
            "{}: snapshot {i} is not a finite number of hours",
            at("t_h")
        );
    }
    if let Some(i) = t_h.windows(2).position(|w| w[1] < w[0]) {
        bail!("{}: time goes backwards at snapshot {}", at("t_h"), i + 1);
    }
    Ok(Loaded {
        record,
        t_h,
        values,
    })
}
