//! Each asset's remaining life as the twin sees it now: from the trend of
//! its vibration (ISO velocity against the zone C/D boundary, from the
//! learned baseline), by usage from its cycle counter, and otherwise from
//! the rated life of its kind of component in the line description (the
//! fleet prior). Hours throughout; the twin's data time is in seconds.

use linetwin_core::diagnosis::Verdict;
use linetwin_core::iso;
use linetwin_core::line::{Asset, SensorKind};
use linetwin_forecast::plan::{FaultKind, LifeNow};
use linetwin_forecast::rul::{
    DegradationState, Rul, RulConfig, Threshold, estimate_rul, hours_in_words,
};
use linetwin_forecast::usage::{UsageLife, usage_life};
use linetwin_forecast::weibull::Weibull;
use serde::Serialize;

use crate::twin::Twin;

/// Samples of each live RUL distribution: enough for a 10-90 % band to
/// a few percent, cheap enough to redo for every asset every few seconds.
const LIVE_SAMPLES: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetPrognosis {
    pub asset: String,
    pub state: DegradationState,
    pub median_h: f64,
    pub low_h: f64,
    pub high_h: f64,
    /// `vibration trend` or `rated life (fleet prior)`.
    pub basis: &'static str,
    /// The sensor whose trend sets it, when degrading.
    pub sensor: Option<String>,
    pub detected_at_s: Option<f64>,
    pub evidence: String,
    /// By usage, from its cycle counter, when it has one.
    pub usage: Option<UsageLife>,
    #[serde(skip)]
    pub life_now: LifeNow,
    #[serde(skip)]
    pub fault: FaultKind,
}

/// The prognosis of one asset at the twin's current data time.
pub fn prognose(twin: &Twin, asset: &Asset) -> AssetPrognosis {
    let params = asset.maintenance_or_default();
    let rated = Weibull::new(params.life_shape, params.life_scale_h).unwrap_or(Weibull {
        shape: 1.5,
        scale_h: 40_000.0,
    });
    let history = twin.history();
    let state = twin.asset(&asset.id);
    let cd = iso::boundaries(asset.iso.group, asset.iso.support).cd;
    let mut watched_h = 0.0f64;
    let mut degrading = None;
    for sensor in asset
        .sensors
        .iter()
        .filter(|s| s.kind == SensorKind::Vibration)
    {
        let Some(points) = history.query(&sensor.id, "velocity_mm_s", f64::MIN, f64::MAX, 0.0)
        else {
            continue;
        };
        let (t_h, values): (Vec<f64>, Vec<f64>) = points
            .iter()
            .filter(|p| p.mean.is_finite())
            .map(|p| (p.t_end / 3600.0, f64::from(p.mean)))
            .unzip();
        if let (Some(first), Some(last)) = (t_h.first(), t_h.last()) {
            watched_h = watched_h.max(last - first);
        }
        let baseline = state
            .and_then(|s| s.sensors.get(&sensor.id))
            .and_then(|v| v.baseline.value_mm_s);
        let Some(baseline) = baseline else { continue };
        let config = RulConfig {
            threshold: Threshold::Absolute { value: cd },
            baseline: Some(baseline),
            samples: LIVE_SAMPLES,
            ..RulConfig::default()
        };
        let Ok(rul) = estimate_rul(&t_h, &values, None, &config) else {
            continue;
        };
        if rul.state == DegradationState::Degrading
            && degrading
                .as_ref()
                .is_none_or(|(_, best): &(String, linetwin_forecast::Rul)| {
                    rul.median_h < best.median_h
                })
        {
            degrading = Some((sensor.id.clone(), rul));
        }
    }
    let fault = if state.is_some_and(|s| s.suspects_lubrication()) {
        FaultKind::Lubrication
    } else {
        state
            .and_then(|s| s.worst_sensor())
            .and_then(|(_, v)| v.diagnosis.as_deref())
            .map(|d| d.verdict)
            .filter(|verdict| verdict.is_fault())
            .map_or(FaultKind::None, |verdict| match verdict {
                Verdict::Unbalance => FaultKind::Unbalance,
                Verdict::Misalignment => FaultKind::Misalignment,
                _ => FaultKind::Bearing,
            })
    };
    let usage = asset
        .sensors
        .iter()
        .filter(|s| s.kind == SensorKind::Cycles)
        .find_map(|s| {
            let rated = s.rated_life_cycles?;
            let points = history.query(&s.id, "value", f64::MIN, f64::MAX, 0.0)?;
            let readings: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (p.t_end / 3600.0, f64::from(p.max)))
                .collect();
            usage_life(&readings, rated)
        });
    match degrading {
        Some((sensor, rul)) => AssetPrognosis {
            asset: asset.id.clone(),
            state: DegradationState::Degrading,
            median_h: rul.median_h,
            low_h: rul.low_h,
            high_h: rul.high_h,
            basis: "vibration trend",
            detected_at_s: rul.detected_at_h.map(|h| h * 3600.0),
            evidence: degrading_evidence(&sensor, &rul, cd),
            sensor: Some(sensor),
            usage,
            life_now: LifeNow::Quantiles {
                hours: rul.quantiles,
            },
            fault,
        },
        None => match usage.as_ref().and_then(|u| usage_clock(u, rated.shape)) {
            // A counted component wears by its cycles: its rated life in
            // cycles, at the rate it is counting now, is its life in hours.
            Some((life, age_h)) => AssetPrognosis {
                asset: asset.id.clone(),
                state: DegradationState::NoDegradation,
                median_h: life.residual_quantile(age_h, 0.5),
                low_h: life.residual_quantile(age_h, 0.1),
                high_h: life.residual_quantile(age_h, 0.9),
                basis: "usage (cycle counter)",
                sensor: None,
                detected_at_s: None,
                evidence: format!(
                    "no degradation in its vibration trend; remaining life by usage: {:.0} of {:.0} rated cycles used, counting {:.0} per hour (Weibull shape {:.1} on the cycle clock)",
                    usage.as_ref().map_or(0.0, |u| u.cycles),
                    usage.as_ref().map_or(0.0, |u| u.rated_cycles),
                    usage.as_ref().map_or(0.0, |u| u.rate_per_h),
                    life.shape
                ),
                usage,
                life_now: LifeNow::Weibull { life, age_h },
                fault,
            },
            None => {
                let age_h = params.age_h + watched_h;
                AssetPrognosis {
                    asset: asset.id.clone(),
                    state: DegradationState::NoDegradation,
                    median_h: rated.residual_quantile(age_h, 0.5),
                    low_h: rated.residual_quantile(age_h, 0.1),
                    high_h: rated.residual_quantile(age_h, 0.9),
                    basis: "rated life (fleet prior)",
                    sensor: None,
                    detected_at_s: None,
                    evidence: format!(
                        "no degradation in its vibration trend; remaining life from the rated life of its kind of component (Weibull shape {:.1}, scale {:.0} h) at {} of age",
                        rated.shape,
                        rated.scale_h,
                        hours_in_words(age_h)
                    ),
                    usage,
                    life_now: LifeNow::Weibull { life: rated, age_h },
                    fault,
                }
            }
        },
    }
}

/// The component's life on the cycle clock, in hours at today's rate:
/// the rated cycles are its characteristic life, the count its age.
fn usage_clock(usage: &UsageLife, shape: f64) -> Option<(Weibull, f64)> {
    (usage.rate_per_h > 0.0).then_some(())?;
    let life = Weibull::new(shape, usage.rated_cycles / usage.rate_per_h)?;
    Some((life, usage.cycles / usage.rate_per_h))
}

/// The evidence for a degrading sensor, on the twin's clock (data seconds).
fn degrading_evidence(sensor: &str, rul: &Rul, cd_mm_s: f64) -> String {
    let since = rul.detected_at_h.map_or(String::new(), |h| {
        format!(", rising since data time {:.0} s", h * 3600.0)
    });
    let doubling = rul
        .growth_per_h
        .filter(|g| *g > 0.0)
        .map_or(String::new(), |g| {
            format!(
                ", doubling every {}",
                hours_in_words(std::f64::consts::LN_2 / g)
            )
        });
    format!(
        "{sensor}: velocity {:.2}× its baseline {:.2} mm/s{since}{doubling}; at this trend it reaches ISO zone D ({cd_mm_s:.1} mm/s) in {} (10–90 %: {} – {})",
        rul.level_ratio,
        rul.baseline,
        hours_in_words(rul.median_h),
        hours_in_words(rul.low_h),
        hours_in_words(rul.high_h)
    )
}
