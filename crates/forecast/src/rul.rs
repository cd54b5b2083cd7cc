//! Remaining useful life of one component from its health-indicator history.
//!
//! Two phases (see `docs/prognostics.md` for the why):
//! 1. **Healthy**: the indicator sits at its baseline. Nothing in the data
//!    says when it will fail, so the answer is the fleet's: the residual of
//!    the onset age (Weibull, given the age reached) plus a degradation
//!    duration (log-normal), both learned from earlier runs to failure.
//! 2. **Degrading**: the smoothed log ratio to the baseline has stayed above
//!    the detection limit. The log ratio is fitted as a straight line in time
//!    (Gebraeel's exponential degradation model) by Bayesian linear
//!    regression with the fleet's growth rate as prior, and extrapolated to
//!    a failure level (absolute, or the fleet's distribution of levels at
//!    failure). While the trend is short it is shrunk toward the fleet's
//!    degradation durations.
//!
//! Every answer is a distribution, reported as a median and an interval.

use linetwin_core::rng::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::fleet::FleetPrior;
use crate::stats::{median, quantile_sorted, robust_sd};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulError {
    #[error(
        "{times} times but {values} indicator values: the files must have one value per snapshot each"
    )]
    LengthMismatch { times: usize, values: usize },
    #[error("time goes backwards at snapshot {index} ({before} h then {after} h)")]
    TimeNotIncreasing {
        index: usize,
        before: f64,
        after: f64,
    },
    #[error("only {usable} usable snapshots (finite, positive); at least {needed} are needed")]
    TooFew { usable: usize, needed: usize },
    #[error("no fleet history to set the prior, and no absolute failure level")]
    NoPrior,
}

/// Where failure is, on the indicator's scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Threshold {
    /// A fixed level (e.g. the ISO 20816-3 zone C/D boundary in mm/s).
    Absolute { value: f64 },
    /// The fleet's distribution of levels at failure, relative to each
    /// run's baseline.
    Fleet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulConfig {
    pub threshold: Threshold,
    /// The healthy level when already known (the twin's learned baseline).
    pub baseline: Option<f64>,
    /// Age of the component at the first snapshot, hours.
    pub age_at_start_h: f64,
    /// The interval reported: quantiles (low, high) of the RUL.
    pub interval: (f64, f64),
    pub samples: usize,
    pub seed: u64,
}

impl Default for RulConfig {
    fn default() -> Self {
        RulConfig {
            threshold: Threshold::Fleet,
            baseline: None,
            age_at_start_h: 0.0,
            interval: (0.1, 0.9),
            samples: 4000,
            seed: 0x5EED,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DegradationState {
    #[serde(rename = "no degradation")]
    NoDegradation,
    #[serde(rename = "degrading")]
    Degrading,
}

impl DegradationState {
    pub fn label(self) -> &'static str {
        match self {
            DegradationState::NoDegradation => "no degradation",
            DegradationState::Degrading => "degrading",
        }
    }
}

/// What the answer rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Healthy: the fleet's lives alone.
    FleetPrior,
    /// Degrading: the fitted trend (shrunk toward the fleet while short).
    Trend,
}

/// Number of quantiles kept of the RUL distribution (0 %, 5 %, ... 100 %).
pub const RUL_QUANTILES: usize = 21;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rul {
    /// Time of the last snapshot, hours.
    pub at_h: f64,
    pub median_h: f64,
    pub low_h: f64,
    pub high_h: f64,
    pub state: DegradationState,
    pub basis: Basis,
    pub detected_at_h: Option<f64>,
    /// The indicator now (smoothed) over its baseline.
    pub level_ratio: f64,
    pub baseline: f64,
    /// Growth of the log ratio per hour while degrading (the fit's mean).
    pub growth_per_h: Option<f64>,
    /// The evidence, in words.
    pub evidence: String,
    /// The distribution: RUL at 0 %, 5 %, ..., 100 %.
    pub quantiles: Vec<f64>,
}

/// A least-squares line with Gaussian posterior: `y = a + b τ`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub mean: [f64; 2],
    pub covariance: [[f64; 2]; 2],
    pub noise_sd: f64,
}

/// The shape of one indicator history.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub start_h: f64,
    pub now_h: f64,
    pub baseline: f64,
    /// Scatter of the smoothed log ratio while healthy.
    pub noise_sd: f64,
    pub limit_log_ratio: f64,
    pub detected_at_h: Option<f64>,
    /// Smoothed log ratio at the last snapshot.
    pub current_log_ratio: f64,
    /// Snapshots since detection, as (hours since detection, log ratio).
    pub degradation: Vec<(f64, f64)>,
    pub fit: Option<Fit>,
}

/// Snapshots in the rolling median that sets the current level.
const SMOOTHING: usize = 9;
/// The detection limit is never below a 12 % rise: smaller changes are
/// within what load and temperature do to a healthy machine.
const MIN_LIMIT_LOG_RATIO: f64 = 0.113;
/// Multiples of the healthy scatter the smoothed level must exceed.
const LIMIT_SIGMAS: f64 = 4.0;
/// The exceedance must have lasted this many snapshots.
const SUSTAINED: usize = 3;
/// A value below a fifth of the typical one is a disconnected sensor, not
/// a healthier machine.
const DROPOUT_FRACTION: f64 = 0.2;
const MIN_SNAPSHOTS: usize = 10;

/// Cleans, finds the baseline and the onset, and fits the degradation.
pub fn analyse(t_h: &[f64], values: &[f64], baseline: Option<f64>) -> Result<Analysis, RulError> {
    if t_h.len() != values.len() {
        return Err(RulError::LengthMismatch {
            times: t_h.len(),
            values: values.len(),
        });
    }
    for (index, pair) in t_h.windows(2).enumerate() {
        if pair[1] < pair[0] {
            return Err(RulError::TimeNotIncreasing {
                index: index + 1,
                before: pair[0],
                after: pair[1],
            });
        }
    }
    let typical = median(
        &values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect::<Vec<_>>(),
    )
    .unwrap_or(0.0);
    let points: Vec<(f64, f64)> = t_h
        .iter()
        .zip(values)
        .filter(|(t, v)| t.is_finite() && v.is_finite() && **v > DROPOUT_FRACTION * typical)
        .map(|(t, v)| (*t, *v))
        .collect();
    if points.len() < MIN_SNAPSHOTS {
        return Err(RulError::TooFew {
            usable: points.len(),
            needed: MIN_SNAPSHOTS,
        });
    }
    let start_h = points[0].0;
    let now_h = points[points.len() - 1].0;
    // Run-in: the first fifth of the history settles (bearings bed in and the
    // level rises); the baseline is the level after it, and before the
    // recent part where degradation may be under way.
    let span = now_h - start_h;
    let in_window = |t: f64| t >= start_h + 0.2 * span && t <= start_h + 0.6 * span;
    let window: Vec<f64> = points
        .iter()
        .filter(|(t, _)| in_window(*t))
        .map(|(_, v)| *v)
        .collect();
    let baseline = match baseline.filter(|b| b.is_finite() && *b > 0.0) {
        Some(known) => known,
        None if window.len() >= 5 => median(&window).unwrap_or(typical),
        None => median(
            &points[..points.len() * 3 / 5]
                .iter()
                .map(|p| p.1)
                .collect::<Vec<_>>(),
        )
        .unwrap_or(typical),
    };
    let log_ratio: Vec<f64> = points.iter().map(|(_, v)| (v / baseline).ln()).collect();
    let smoothed = rolling_median(&log_ratio, SMOOTHING);
    let healthy_smoothed: Vec<f64> = points
        .iter()
        .zip(&smoothed)
        .filter(|((t, _), _)| in_window(*t))
        .map(|(_, s)| *s)
        .collect();
    let noise_sd = robust_sd(&healthy_smoothed).unwrap_or(0.0).max(0.005);
    let limit_log_ratio = (LIMIT_SIGMAS * noise_sd).max(MIN_LIMIT_LOG_RATIO);
    let run = smoothed
        .iter()
        .rev()
        .take_while(|s| **s > limit_log_ratio)
        .count();
    let detected_index = (run >= SUSTAINED).then(|| points.len() - run);
    let detected_at_h = detected_index.map(|i| points[i].0);
    let degradation: Vec<(f64, f64)> = detected_index.map_or(Vec::new(), |i| {
        points[i..]
            .iter()
            .zip(&log_ratio[i..])
            .map(|((t, _), y)| (t - points[i].0, *y))
            .collect()
    });
    let raw_noise = robust_sd(
        &points
            .iter()
            .zip(&log_ratio)
            .filter(|((t, _), _)| in_window(*t))
            .map(|(_, y)| *y)
            .collect::<Vec<_>>(),
    )
    .unwrap_or(0.05)
    .max(0.01);
    let fit = (degradation.len() >= SUSTAINED).then(|| {
        fit_line(
            &degradation,
            [limit_log_ratio, 0.0],
            [0.3, f64::INFINITY],
            raw_noise,
        )
    });
    Ok(Analysis {
        start_h,
        now_h,
        baseline,
        noise_sd,
        limit_log_ratio,
        detected_at_h,
        current_log_ratio: smoothed[smoothed.len() - 1],
        degradation,
        fit,
    })
}

/// Median of each point and the `width - 1` before it.
fn rolling_median(values: &[f64], width: usize) -> Vec<f64> {
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(width);
            median(&values[from..=i]).unwrap_or(values[i])
        })
        .collect()
}

/// Bayesian linear regression of `y = a + b τ` with independent normal
/// priors (an infinite sd is a flat prior) and known noise (at least the
/// residual scatter of the fit itself).
pub fn fit_line(
    points: &[(f64, f64)],
    prior_mean: [f64; 2],
    prior_sd: [f64; 2],
    noise_sd: f64,
) -> Fit {
    let precision = |sd: f64| if sd.is_finite() { 1.0 / (sd * sd) } else { 0.0 };
    let fit_with = |noise: f64| {
        let w = 1.0 / (noise * noise);
        let (mut s1, mut st, mut stt, mut sy, mut sty) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (t, y) in points {
            s1 += w;
            st += w * t;
            stt += w * t * t;
            sy += w * y;
            sty += w * t * y;
        }
        let p0 = precision(prior_sd[0]);
        let p1 = precision(prior_sd[1]);
        let m = [[s1 + p0, st], [st, stt + p1]];
        let rhs = [sy + p0 * prior_mean[0], sty + p1 * prior_mean[1]];
        let det = (m[0][0] * m[1][1] - m[0][1] * m[1][0]).max(1e-300);
        let covariance = [
            [m[1][1] / det, -m[0][1] / det],
            [-m[1][0] / det, m[0][0] / det],
        ];
        let mean = [
            covariance[0][0] * rhs[0] + covariance[0][1] * rhs[1],
            covariance[1][0] * rhs[0] + covariance[1][1] * rhs[1],
        ];
        Fit {
            mean,
            covariance,
            noise_sd: noise,
        }
    };
    let first = fit_with(noise_sd);
    let residual = (points
        .iter()
        .map(|(t, y)| (y - first.mean[0] - first.mean[1] * t).powi(2))
        .sum::<f64>()
        / (points.len().saturating_sub(2).max(1)) as f64)
        .sqrt();
    if residual > noise_sd {
        fit_with(residual)
    } else {
        first
    }
}

/// The RUL of the component whose history this is, at its last snapshot.
pub fn estimate_rul(
    t_h: &[f64],
    values: &[f64],
    prior: Option<&FleetPrior>,
    config: &RulConfig,
) -> Result<Rul, RulError> {
    let analysis = analyse(t_h, values, config.baseline)?;
    let mut rng = SplitMix64::keyed(&[config.seed, values.len() as u64]);
    let elapsed = analysis.now_h - analysis.start_h;
    let age_now = config.age_at_start_h + elapsed;
    let failure_level = match config.threshold {
        Threshold::Absolute { value } => Some((value / analysis.baseline).ln()),
        Threshold::Fleet => None,
    };
    if failure_level.is_none() && prior.is_none() {
        return Err(RulError::NoPrior);
    }
    let cap = prior
        .map_or(0.0, |p| 5.0 * p.onset.scale_h)
        .max(10.0 * elapsed.max(1.0));
    let mut samples: Vec<f64> = Vec::with_capacity(config.samples);
    let (state, basis) = match (analysis.detected_at_h, &analysis.fit) {
        (Some(detected), Some(fit)) => {
            let since = analysis.now_h - detected;
            let fit = with_growth_prior(&analysis, fit, prior);
            let chol = cholesky(fit.covariance);
            let trend_weight = match prior {
                Some(p) if p.duration_ln_sd.is_finite() => {
                    let n = analysis.degradation.len() as f64;
                    n / (n + TREND_SHRINKAGE_POINTS)
                }
                _ => 1.0,
            };
            for _ in 0..config.samples {
                let from_fleet = prior.filter(|_| rng.uniform() >= trend_weight);
                let rul = if let Some(p) = from_fleet {
                    sample_remaining_duration(p, since, &mut rng).min(cap)
                } else {
                    let (z0, z1) = (rng.normal(), rng.normal());
                    let a = fit.mean[0] + chol[0][0] * z0;
                    let b = fit.mean[1] + chol[1][0] * z0 + chol[1][1] * z1;
                    let level = failure_level.unwrap_or_else(|| {
                        sample_failure_level(prior, analysis.current_log_ratio, &mut rng)
                    });
                    let level = level.max(analysis.current_log_ratio + 0.01);
                    if b > 1e-12 {
                        (detected + (level - a) / b - analysis.now_h).clamp(0.0, cap)
                    } else {
                        cap
                    }
                };
                samples.push(rul);
            }
            (DegradationState::Degrading, Basis::Trend)
        }
        _ => {
            let Some(p) = prior else {
                // Healthy, no fleet: nothing to say but that it is healthy.
                return Ok(healthy_without_prior(&analysis));
            };
            for _ in 0..config.samples {
                let onset = p.onset.sample_residual(age_now, &mut rng);
                let duration = sample_remaining_duration(p, 0.0, &mut rng);
                samples.push((onset + duration).min(cap));
            }
            (DegradationState::NoDegradation, Basis::FleetPrior)
        }
    };
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(&samples, p);
    let quantiles = (0..RUL_QUANTILES)
        .map(|i| q(i as f64 / (RUL_QUANTILES - 1) as f64))
        .collect();
    let evidence = describe(&analysis, prior, failure_level, state);
    Ok(Rul {
        at_h: analysis.now_h,
        median_h: q(0.5),
        low_h: q(config.interval.0),
        high_h: q(config.interval.1),
        state,
        basis,
        detected_at_h: analysis.detected_at_h,
        level_ratio: analysis.current_log_ratio.exp(),
        baseline: analysis.baseline,
        growth_per_h: analysis.fit.as_ref().map(|f| f.mean[1]),
        evidence,
        quantiles,
    })
}

/// The fleet's answer alone, for a component of age `age_h` whose history
/// is too short to judge: it is treated as healthy (nothing says
/// otherwise), and the evidence says why.
pub fn prior_only_rul(prior: &FleetPrior, age_h: f64, snapshots: usize, config: &RulConfig) -> Rul {
    let mut rng = SplitMix64::keyed(&[config.seed, snapshots as u64]);
    let cap = 5.0 * prior.onset.scale_h;
    let mut samples: Vec<f64> = (0..config.samples.max(1))
        .map(|_| {
            let onset = prior.onset.sample_residual(age_h.max(0.0), &mut rng);
            (onset + sample_remaining_duration(prior, 0.0, &mut rng)).min(cap)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(&samples, p);
    Rul {
        at_h: age_h,
        median_h: q(0.5),
        low_h: q(config.interval.0),
        high_h: q(config.interval.1),
        state: DegradationState::NoDegradation,
        basis: Basis::FleetPrior,
        detected_at_h: None,
        level_ratio: 1.0,
        baseline: f64::NAN,
        growth_per_h: None,
        evidence: format!(
            "only {snapshots} usable snapshots, too few to judge a trend (at least {MIN_SNAPSHOTS}); remaining life from the fleet prior of {} runs at {age_h:.1} h of age",
            prior.runs
        ),
        quantiles: (0..RUL_QUANTILES)
            .map(|i| q(i as f64 / (RUL_QUANTILES - 1) as f64))
            .collect(),
    }
}

/// Snapshots of trend at which it weighs as much as the fleet's durations.
const TREND_SHRINKAGE_POINTS: f64 = 20.0;

fn with_growth_prior(analysis: &Analysis, fit: &Fit, prior: Option<&FleetPrior>) -> Fit {
    match prior.and_then(|p| p.growth_ln) {
        Some((ln_mean, ln_sd)) => {
            let growth = ln_mean.exp();
            fit_line(
                &analysis.degradation,
                [analysis.limit_log_ratio, growth],
                [0.3, growth * ln_sd.max(0.5)],
                fit.noise_sd,
            )
        }
        None => fit.clone(),
    }
}

fn sample_failure_level(prior: Option<&FleetPrior>, current: f64, rng: &mut SplitMix64) -> f64 {
    let Some(p) = prior else {
        return current;
    };
    // Conditioned on not having failed yet: the level lies above today's.
    for _ in 0..16 {
        let level = p.failure_ln_mean + p.failure_ln_sd * rng.normal();
        if level > current {
            return level;
        }
    }
    current + p.failure_ln_sd * rng.normal().abs()
}

/// A degradation duration given that `since_h` of it have passed.
fn sample_remaining_duration(p: &FleetPrior, since_h: f64, rng: &mut SplitMix64) -> f64 {
    let normal_cdf = |x: f64| 0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2));
    let floor = if since_h > 0.0 {
        normal_cdf((since_h.ln() - p.duration_ln_mean) / p.duration_ln_sd)
    } else {
        0.0
    };
    let u = floor + (1.0 - floor) * rng.uniform();
    let z = inverse_normal_cdf(u.clamp(1e-12, 1.0 - 1e-12));
    ((p.duration_ln_mean + p.duration_ln_sd * z).exp() - since_h).max(0.0)
}

fn healthy_without_prior(analysis: &Analysis) -> Rul {
    Rul {
        at_h: analysis.now_h,
        median_h: f64::INFINITY,
        low_h: f64::INFINITY,
        high_h: f64::INFINITY,
        state: DegradationState::NoDegradation,
        basis: Basis::FleetPrior,
        detected_at_h: None,
        level_ratio: analysis.current_log_ratio.exp(),
        baseline: analysis.baseline,
        growth_per_h: None,
        evidence: format!(
            "no degradation: {:.2}x its baseline (limit {:.2}x); no fleet history to estimate a life from",
            analysis.current_log_ratio.exp(),
            analysis.limit_log_ratio.exp()
        ),
        quantiles: Vec::new(),
    }
}

fn describe(
    analysis: &Analysis,
    prior: Option<&FleetPrior>,
    failure_level: Option<f64>,
    state: DegradationState,
) -> String {
    let now = analysis.current_log_ratio.exp();
    let limit = analysis.limit_log_ratio.exp();
    let fleet = prior.map_or(String::new(), |p| format!("fleet of {} runs", p.runs));
    let failure = match (failure_level, prior) {
        (Some(level), _) => format!("failure level {:.2}x", level.exp()),
        (None, Some(p)) => format!(
            "failure level about {:.2}x ({fleet})",
            p.failure_ln_mean.exp()
        ),
        (None, None) => String::new(),
    };
    match state {
        DegradationState::Degrading => {
            let growth = analysis.fit.as_ref().map_or(0.0, |f| f.mean[1] * 100.0);
            format!(
                "degradation detected at {:.1} h: the indicator rose above {limit:.2}x its baseline {:.4}; now {now:.2}x, growing {growth:.2} %/h; {failure}",
                analysis.detected_at_h.unwrap_or(analysis.now_h),
                analysis.baseline
            )
        }
        DegradationState::NoDegradation => format!(
            "no degradation: the indicator is {now:.2}x its baseline {:.4} (limit {limit:.2}x); remaining life from the {}",
            analysis.baseline,
            prior.map_or("component's rated life".to_owned(), |p| format!(
                "fleet prior ({fleet}: onset Weibull scale {:.0} h, shape {})",
                p.onset.scale_h, p.onset.shape
            ))
        ),
    }
}

fn cholesky(c: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let l00 = c[0][0].max(0.0).sqrt();
    let l10 = if l00 > 0.0 { c[1][0] / l00 } else { 0.0 };
    let l11 = (c[1][1] - l10 * l10).max(0.0).sqrt();
    [[l00, 0.0], [l10, l11]]
}

/// "12 min", "5.2 h", "41 d", "> 10 y": a span of hours for a person.
pub fn hours_in_words(hours: f64) -> String {
    match hours {
        h if !h.is_finite() || h > 87_600.0 => "> 10 y".to_owned(),
        h if h < 1.0 => format!("{:.0} min", h * 60.0),
        h if h < 48.0 => format!("{h:.1} h"),
        h => format!("{:.0} d", h / 24.0),
    }
}

/// Abramowitz & Stegun 7.1.26 (error below 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let sign = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// Acklam's rational approximation (relative error below 1.2e-9).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let low = 0.024_25;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -inverse_normal_cdf(1.0 - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::FleetRun;

    /// A synthetic run: flat at 1.0 with 3 % noise, then exponential growth
    /// from `onset` at `rate` per hour, one snapshot per hour.
    fn run(hours: usize, onset: f64, rate: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = SplitMix64::new(seed);
        let t: Vec<f64> = (0..hours).map(|h| h as f64).collect();
        let x = t
            .iter()
            .map(|&h| (1.0 + 0.03 * rng.normal()) * (rate * (h - onset).max(0.0)).exp())
            .collect();
        (t, x)
    }

    #[test]
    fn a_flat_history_is_healthy_and_answered_from_the_prior() {
        let (t, x) = run(300, 1e9, 0.0, 1);
        let fleet: Vec<FleetRun> = (0..3)
            .map(|i| {
                let (t, x) = run(1000, 900.0, 0.02, 10 + i);
                FleetRun::learn("h", &t, &x).unwrap()
            })
            .collect();
        let prior = FleetPrior::from_runs(&fleet).unwrap();
        let rul = estimate_rul(&t, &x, Some(&prior), &RulConfig::default()).unwrap();
        assert_eq!(rul.state, DegradationState::NoDegradation);
        assert_eq!(rul.basis, Basis::FleetPrior);
        assert!(
            rul.low_h < rul.median_h && rul.median_h < rul.high_h,
            "{rul:?}"
        );
        assert!(rul.evidence.contains("fleet prior"), "{}", rul.evidence);
    }

    #[test]
    fn a_growing_indicator_is_extrapolated_to_the_absolute_level() {
        // ln ratio grows 0.02/h from hour 200; failure at ratio e^2 => hour 300.
        let (t, x) = run(260, 200.0, 0.02, 3);
        let config = RulConfig {
            threshold: Threshold::Absolute { value: 2f64.exp() },
            baseline: Some(1.0),
            ..RulConfig::default()
        };
        let rul = estimate_rul(&t, &x, None, &config).unwrap();
        assert_eq!(rul.state, DegradationState::Degrading);
        let truth = 300.0 - 259.0;
        assert!((rul.median_h - truth).abs() < 0.25 * truth, "{rul:?}");
        assert!(rul.low_h <= truth && truth <= rul.high_h, "{rul:?}");
        let detected = rul.detected_at_h.unwrap();
        assert!((200.0..240.0).contains(&detected), "{detected}");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            analyse(&[0.0, 1.0], &[1.0], None),
            Err(RulError::LengthMismatch { .. })
        ));
        let t: Vec<f64> = (0..20)
            .map(|i| if i == 5 { 0.0 } else { i as f64 })
            .collect();
        assert!(matches!(
            analyse(&t, &[1.0; 20], None),
            Err(RulError::TimeNotIncreasing { index: 5, .. })
        ));
        assert!(matches!(
            analyse(&[0.0; 3], &[f64::NAN; 3], None),
            Err(RulError::TooFew { .. })
        ));
        let (t, x) = run(100, 1e9, 0.0, 2);
        assert_eq!(
            estimate_rul(&t, &x, None, &RulConfig::default()),
            Err(RulError::NoPrior)
        );
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(hours_in_words(0.25), "15 min");
        assert_eq!(hours_in_words(5.24), "5.2 h");
        assert_eq!(hours_in_words(24.0 * 41.0), "41 d");
        assert_eq!(hours_in_words(f64::INFINITY), "> 10 y");
    }

    #[test]
    fn the_normal_helpers_agree_with_each_other() {
        for p in [0.001, 0.1, 0.5, 0.8, 0.999] {
            let z = inverse_normal_cdf(p);
            let back = 0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2));
            assert!((back - p).abs() < 1e-6, "{p} {z} {back}");
        }
    }
}
