//! What earlier runs to failure teach about a component kind: when
//! degradation began, how long it lasted, the level at failure and how fast
//! it grew. These set the prior of every prediction (see `docs/prognostics.md`).

use serde::{Deserialize, Serialize};

use crate::rul::{Analysis, RulError, analyse};
use crate::stats::{mean, median, sd};
use crate::weibull::Weibull;

/// The Weibull slope of rolling-bearing lives that ISO 281's reliability
/// factor a1 assumes. A handful of lives cannot identify a slope (its
/// estimate scatters by a factor of two), so the prior keeps this one and
/// fits only the scale.
pub const BEARING_LIFE_SHAPE: f64 = 1.5;

/// One earlier component, run to failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetRun {
    pub id: String,
    /// Life: hours from the first snapshot to the last (the failure).
    pub life_h: f64,
    /// Hours at which degradation was detected (the life when never).
    pub onset_h: f64,
    /// Log of the indicator over its baseline at failure.
    pub failure_log_ratio: f64,
    /// Growth of the log ratio per hour during degradation, when measurable.
    pub growth_per_h: Option<f64>,
}

impl FleetRun {
    /// Learns from a whole run to failure (the last snapshot is the failure).
    pub fn learn(id: &str, t_h: &[f64], values: &[f64]) -> Result<FleetRun, RulError> {
        let analysis = analyse(t_h, values, None)?;
        Ok(FleetRun::from_analysis(id, &analysis))
    }

    /// Times are hours since the component was new (the manifest's
    /// elapsed hours), so a history that starts late still counts its
    /// whole life; a negative start is taken as the origin.
    fn from_analysis(id: &str, analysis: &Analysis) -> FleetRun {
        let origin = analysis.start_h.min(0.0);
        let life_h = analysis.now_h - origin;
        let onset_h = analysis.detected_at_h.map_or(life_h, |t| t - origin);
        FleetRun {
            id: id.to_owned(),
            life_h,
            onset_h,
            failure_log_ratio: analysis.current_log_ratio,
            growth_per_h: analysis
                .fit
                .as_ref()
                .map(|f| f.mean[1])
                .filter(|b| *b > 0.0),
        }
    }

    /// The same run as it would have been at other operating conditions:
    /// rolling-bearing life in hours goes as (C/P)^3 / n (ISO 281), so the
    /// hours scale by `(rpm_from/rpm_to) * (load_from/load_to)^3`.
    pub fn scaled(&self, factor: f64) -> FleetRun {
        FleetRun {
            life_h: self.life_h * factor,
            onset_h: self.onset_h * factor,
            growth_per_h: self.growth_per_h.map(|g| g / factor),
            ..self.clone()
        }
    }
}

/// Life-scaling factor between operating conditions (ISO 281 rating life in hours).
pub fn condition_factor(rpm_from: f64, load_from: f64, rpm_to: f64, load_to: f64) -> f64 {
    let speed = if rpm_from > 0.0 && rpm_to > 0.0 {
        rpm_from / rpm_to
    } else {
        1.0
    };
    let load = if load_from > 0.0 && load_to > 0.0 {
        (load_from / load_to).powi(3)
    } else {
        1.0
    };
    speed * load
}

/// The prior a prediction starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetPrior {
    /// Age at which degradation begins.
    pub onset: Weibull,
    /// Hours from detection to failure: log-normal (mean, sd of ln hours).
    pub duration_ln_mean: f64,
    pub duration_ln_sd: f64,
    /// Log ratio at failure: normal (mean, sd).
    pub failure_ln_mean: f64,
    pub failure_ln_sd: f64,
    /// Growth rate of the log ratio, per hour: log-normal, when known.
    pub growth_ln: Option<(f64, f64)>,
    pub runs: usize,
}

/// Spread assumed when one run (or runs that agree by chance) cannot
/// measure it: a factor of about 1.6 either way on durations, 0.5 on log levels.
const DEFAULT_LN_SD: f64 = 0.5;

impl FleetPrior {
    pub fn from_runs(runs: &[FleetRun]) -> Option<FleetPrior> {
        if runs.is_empty() {
            return None;
        }
        let onsets: Vec<f64> = runs.iter().map(|r| r.onset_h.max(1e-6)).collect();
        let onset = Weibull::fit_scale(BEARING_LIFE_SHAPE, &onsets)?;
        let durations: Vec<f64> = runs
            .iter()
            .map(|r| (r.life_h - r.onset_h).max(r.life_h * 0.01).max(1e-6).ln())
            .collect();
        let failures: Vec<f64> = runs.iter().map(|r| r.failure_log_ratio).collect();
        let growths: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.growth_per_h)
            .map(f64::ln)
            .collect();
        let spread = |values: &[f64]| sd(values).unwrap_or(DEFAULT_LN_SD).max(0.25);
        Some(FleetPrior {
            onset,
            duration_ln_mean: mean(&durations)?,
            duration_ln_sd: spread(&durations),
            failure_ln_mean: mean(&failures)?,
            failure_ln_sd: spread(&failures),
            growth_ln: median(&growths).map(|m| (m, spread(&growths))),
            runs: runs.len(),
        })
    }
}
