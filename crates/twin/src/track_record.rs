//! The twin's track record: every forecast it makes, kept with its data
//! time and inputs, and checked against what happened when the future
//! arrives. Pure: the caller passes data times (seconds) in, forecasts keep
//! the forecast code's hours.
//!
//! Three kinds of forecast are kept ([`ForecastKind`]):
//! - **remaining life** (`prognose`): median and 10-90 % band, its basis;
//! - **zone at a date** (the forecast view: a plan's predicted level of an
//!   asset at a date);
//! - **plan outcome** (a what-if's recommended plan): the probability that
//!   the asset fails by the first date of the simulation's grid under it.
//!
//! What "the future arrived" means ([`Outcome`]):
//! - the asset **failed**: its level, as the twin paints it, reached D (ISO
//!   zone D, a diagnosis of failure or a temperature trip). Open
//!   remaining-life forecasts resolve with their error; plan forecasts
//!   whose date it came by with "it happened" (one first seen after the
//!   date, past a gap in the data, did not happen by then). The asset
//!   stays failed until it is maintained, or until its level has stayed
//!   below D for [`TrackRecordConfig::recovery_s`]; no remaining-life
//!   forecast is kept while it is failed.
//! - the asset was **maintained** (a baseline to be learned afresh: the
//!   gateway says so after maintenance or a replacement): its open
//!   remaining-life forecasts are *censored* (it lived at least so long;
//!   counted apart, never as hits or misses), and so are its zone and plan
//!   forecasts whose plan did not act on it. A new life begins.
//! - a remaining-life forecast **outlived** its band: data time passed the
//!   forecast's 90 % bound with the asset not failed. The truth is outside
//!   the band whatever comes next: a band miss, with no error figure.
//! - the **date** of a zone or plan forecast arrived: the predicted zone is
//!   compared with the asset's level then; the probability with whether it
//!   had failed by then (Brier score): it failed after the forecast was
//!   made and by the date, or was failed when the forecast was made (a
//!   what-if's forecasts are dated at its question, and may be handed over
//!   after a failure that came meanwhile).
//!
//! Detection: a fault is *found* when the twin first flags the asset (an
//! advisory or warning alarm raised in this life, or a remaining-life
//! forecast that says "degrading", at the data time the twin said so; a
//! critical alarm is zone D, the failure itself). The lead time
//! is from then to the failure or the maintenance that ends the life; a
//! failure that nothing flagged before it is a missed detection. A flag the
//! twin withdraws (no alarm in force and no longer degrading) is forgotten.
//!
//! Bounds: per asset at most [`TrackRecordConfig::max_open_per_asset`] open
//! forecasts, kept in the order they were made. When full, a remaining-life
//! forecast goes: the one closest in time to the remaining life before it,
//! never the first or the newest, so the kept ones stay spread over the
//! span (a healthy asset's hourly fleet prior fills the list in days and
//! outlives nothing for years). Zone and plan forecasts end at their dates;
//! only when no remaining life can go does the oldest of them (all counted
//! as thinned). Kept too: the latest
//! [`TrackRecordConfig::max_resolved_per_asset`] resolved ones and the
//! latest [`TrackRecordConfig::max_detections_per_asset`] detections. The
//! counts and rates of the summary cover everything ever resolved; the
//! medians cover the resolved forecasts still kept.
//!
//! Deduplication: a remaining-life forecast every few seconds says little
//! new. One is kept when it is the asset's first in its life, when its
//! state (degrading or not) or basis changed, when its median differs from
//! the last kept one carried forward (its median minus the time since) by
//! more than [`TrackRecordConfig::material_change`] and at least
//! [`TrackRecordConfig::min_interval_s`] has passed, or at the latest every
//! [`TrackRecordConfig::max_interval_s`].

use std::collections::{BTreeMap, VecDeque};

use linetwin_core::iso::Zone;
use linetwin_forecast::montecarlo::PlanResult;
use linetwin_forecast::outlook::Predicted;
use linetwin_forecast::plan::Plan;
use linetwin_forecast::rul::DegradationState;
use serde::Serialize;

use crate::level::AssetStatus;
use crate::prognosis::AssetPrognosis;
use crate::twin::Twin;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackRecordConfig {
    /// Data seconds between two kept remaining-life forecasts of an asset
    /// that changed materially (a change of state or basis is kept at once).
    pub min_interval_s: f64,
    /// A remaining-life forecast is kept at least this often, changed or not.
    pub max_interval_s: f64,
    /// A relative change of the median (against the last kept one carried
    /// forward) that is worth keeping.
    pub material_change: f64,
    /// A failed asset whose level stays below D this long (data seconds)
    /// without maintenance is no longer failed.
    pub recovery_s: f64,
    pub max_open_per_asset: usize,
    pub max_resolved_per_asset: usize,
    pub max_detections_per_asset: usize,
}

impl Default for TrackRecordConfig {
    fn default() -> Self {
        TrackRecordConfig {
            min_interval_s: 60.0,
            max_interval_s: 3600.0,
            material_change: 0.2,
            // As long as an alarm takes to clear (`alarm::CLEAR_AFTER_S`).
            recovery_s: crate::alarm::CLEAR_AFTER_S,
            max_open_per_asset: 64,
            max_resolved_per_asset: 64,
            max_detections_per_asset: 16,
        }
    }
}

/// What was forecast, with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ForecastKind {
    /// Hours from the forecast's time to failure (ISO zone D).
    RemainingLife {
        median_h: f64,
        low_h: f64,
        high_h: f64,
        basis: String,
        state: DegradationState,
        sensor: Option<String>,
        evidence: String,
    },
    /// The asset's predicted level at data time `date_s` under `plan`.
    ZoneAt {
        date_s: f64,
        plan: String,
        zone: Zone,
        failure_probability: f64,
        /// The plan acts on this asset (its maintenance is expected).
        plan_acts: bool,
    },
    /// What `plan` was expected to do to the asset: the probability that
    /// it fails by data time `by_s` (the first date of the simulation's
    /// grid), its expected failures over the horizon and its life after
    /// the plan's actions.
    PlanOutcome {
        plan: String,
        recommended: bool,
        plan_acts: bool,
        by_s: f64,
        failure_probability: f64,
        expected_failures: f64,
        life_after_median_h: f64,
        life_after_low_h: f64,
        life_after_high_h: f64,
        paths: usize,
    },
}

impl ForecastKind {
    pub fn label(&self) -> &'static str {
        match self {
            ForecastKind::RemainingLife { .. } => "remaining life",
            ForecastKind::ZoneAt { .. } => "zone at a date",
            ForecastKind::PlanOutcome { .. } => "plan outcome",
        }
    }

    /// The forecast in a few words.
    pub fn describe(&self) -> String {
        match self {
            ForecastKind::RemainingLife {
                median_h,
                low_h,
                high_h,
                ..
            } => format!("{median_h:.3} h [{low_h:.3}–{high_h:.3}]"),
            ForecastKind::ZoneAt {
                date_s, zone, plan, ..
            } => format!("zone {} at {date_s:.0} s under “{plan}”", zone.letter()),
            ForecastKind::PlanOutcome {
                plan,
                failure_probability,
                by_s,
                ..
            } => format!(
                "P(failure by {by_s:.0} s) {:.0} % under “{plan}”",
                100.0 * failure_probability
            ),
        }
    }
}

/// What became of a forecast.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Open,
    /// Remaining life: the asset failed at `at_s`, `actual_h` after the
    /// forecast. `error_h` is predicted median minus actual (positive: it
    /// lived less than said); `relative_error` divides it by the actual.
    Failed {
        at_s: f64,
        actual_h: f64,
        error_h: f64,
        relative_error: Option<f64>,
        in_band: bool,
    },
    /// Remaining life: still not failed at `at_s`, past the 90 % bound (a
    /// band miss; it lived at least `lived_h`).
    Outlived {
        at_s: f64,
        lived_h: f64,
    },
    /// Zone or plan: checked at `at_s`. `actual` is the asset's level then
    /// (zone forecasts), `failed` whether it had failed by then (since the
    /// forecast, or already when it was made); `hit` whether the forecast was right (the zone, or the
    /// more likely of fail / not fail); `brier` = (p − failed)².
    Checked {
        at_s: f64,
        actual: Option<Zone>,
        failed: bool,
        hit: bool,
        brier: f64,
    },
    /// Maintained at `at_s` before the truth came: it lived at least
    /// `lived_h` after the forecast. Neither hit nor miss.
    Censored {
        at_s: f64,
        lived_h: f64,
    },
    /// Zone: the asset had no level at the date (stale, no data).
    Unknown {
        at_s: f64,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Failed { .. } => "failed",
            Outcome::Outlived { .. } => "outlived its band",
            Outcome::Checked { hit: true, .. } => "hit",
            Outcome::Checked { hit: false, .. } => "miss",
            Outcome::Censored { .. } => "censored (maintained)",
            Outcome::Unknown { .. } => "no level at the date",
        }
    }

    /// Data time it was resolved at.
    pub fn at_s(&self) -> Option<f64> {
        match self {
            Outcome::Open => None,
            Outcome::Failed { at_s, .. }
            | Outcome::Outlived { at_s, .. }
            | Outcome::Checked { at_s, .. }
            | Outcome::Censored { at_s, .. }
            | Outcome::Unknown { at_s } => Some(*at_s),
        }
    }
}

/// One forecast: what, of which asset, when, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub id: u64,
    pub asset: String,
    /// Data time it was made at.
    pub made_at_s: f64,
    #[serde(flatten)]
    pub kind: ForecastKind,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The asset failed by the forecast's date, counting a failure in
    /// force when it was made (zone and plan).
    #[serde(skip)]
    failed_before_date: bool,
}

/// A fault found, and how long before the end of the asset's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub asset: String,
    /// When the twin first flagged it; `None`: nothing was flagged before
    /// the failure (a missed detection).
    pub found_at_s: Option<f64>,
    pub ended_at_s: f64,
    /// `failure` or `maintenance`.
    pub ended_by: &'static str,
    /// Data seconds from found to the end.
    pub lead_s: Option<f64>,
}

/// Running totals: everything ever resolved, whatever is still kept.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    stored: u64,
    thinned: u64,
    rul_failed: u64,
    rul_in_band: u64,
    rul_outlived: u64,
    rul_censored: u64,
    trend_failed: u64,
    trend_in_band: u64,
    trend_outlived: u64,
    zone_checked: u64,
    zone_hits: u64,
    zone_censored: u64,
    zone_unknown: u64,
    zone_brier: f64,
    plan_checked: u64,
    plan_hits: u64,
    plan_censored: u64,
    plan_brier: f64,
    found_before_failure: u64,
    missed: u64,
    found_before_maintenance: u64,
    withdrawn: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.stored += o.stored;
        self.thinned += o.thinned;
        self.rul_failed += o.rul_failed;
        self.rul_in_band += o.rul_in_band;
        self.rul_outlived += o.rul_outlived;
        self.rul_censored += o.rul_censored;
        self.trend_failed += o.trend_failed;
        self.trend_in_band += o.trend_in_band;
        self.trend_outlived += o.trend_outlived;
        self.zone_checked += o.zone_checked;
        self.zone_hits += o.zone_hits;
        self.zone_censored += o.zone_censored;
        self.zone_unknown += o.zone_unknown;
        self.zone_brier += o.zone_brier;
        self.plan_checked += o.plan_checked;
        self.plan_hits += o.plan_hits;
        self.plan_censored += o.plan_censored;
        self.plan_brier += o.plan_brier;
        self.found_before_failure += o.found_before_failure;
        self.missed += o.missed;
        self.found_before_maintenance += o.found_before_maintenance;
        self.withdrawn += o.withdrawn;
    }
}

/// The last kept remaining-life forecast of an asset, for deduplication.
#[derive(Debug, Clone, PartialEq)]
struct LastRul {
    t_s: f64,
    median_h: f64,
    state: DegradationState,
    basis: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct AssetRecord {
    open: Vec<Forecast>,
    resolved: VecDeque<Forecast>,
    detections: VecDeque<Detection>,
    /// Data time of its last maintenance (the same one told again, by
    /// several sensors or a reconnection's greeting, is one).
    maintained_at_s: Option<f64>,
    /// Data time its current episode began (the last maintenance or
    /// failure): only alarms raised since flag a fault.
    life_began_s: Option<f64>,
    failed_since: Option<f64>,
    /// Below D since, while failed.
    recovering_since: Option<f64>,
    /// When the twin first flagged a fault in this life.
    found_at_s: Option<f64>,
    /// The latest prognosis said degrading.
    degrading: bool,
    last_rul: Option<LastRul>,
    counts: Counts,
}

/// Every forecast of the line and what became of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackRecord {
    config: TrackRecordConfig,
    assets: BTreeMap<String, AssetRecord>,
    next_id: u64,
    /// The latest data time seen.
    now_s: Option<f64>,
}

impl TrackRecord {
    pub fn new(config: TrackRecordConfig) -> Self {
        TrackRecord {
            config,
            ..TrackRecord::default()
        }
    }

    pub fn config(&self) -> &TrackRecordConfig {
        &self.config
    }

    fn asset_mut(&mut self, asset: &str) -> &mut AssetRecord {
        self.assets.entry(asset.to_owned()).or_default()
    }

    fn advance(&mut self, t_s: f64) {
        self.now_s = Some(self.now_s.map_or(t_s, |n| n.max(t_s)));
    }

    /// A remaining-life forecast made at data time `t_s`. Returns whether
    /// it was kept (see the module's deduplication rule).
    pub fn record_rul(&mut self, t_s: f64, p: &AssetPrognosis) -> bool {
        if !(t_s.is_finite() && p.median_h.is_finite()) {
            return false;
        }
        self.advance(t_s);
        let config = self.config;
        let id = self.next_id;
        let record = self.asset_mut(&p.asset);
        let degrading = p.state == DegradationState::Degrading;
        record.degrading = degrading;
        if degrading && record.found_at_s.is_none() && record.failed_since.is_none() {
            record.found_at_s = Some(t_s);
        }
        if record.failed_since.is_some() {
            // The future already came: nothing to forecast until it is renewed.
            return false;
        }
        let keep = match &record.last_rul {
            None => true,
            Some(last) => {
                let since_s = t_s - last.t_s;
                let carried = (last.median_h - since_s / 3600.0).max(0.0);
                let change = (p.median_h - carried).abs() / carried.max(p.median_h).max(1e-9);
                last.state != p.state
                    || last.basis != p.basis
                    || since_s >= config.max_interval_s
                    || (since_s >= config.min_interval_s && change > config.material_change)
            }
        };
        if !keep {
            return false;
        }
        record.last_rul = Some(LastRul {
            t_s,
            median_h: p.median_h,
            state: p.state,
            basis: p.basis.to_owned(),
        });
        let forecast = Forecast {
            id,
            asset: p.asset.clone(),
            made_at_s: t_s,
            kind: ForecastKind::RemainingLife {
                median_h: p.median_h,
                low_h: p.low_h,
                high_h: p.high_h,
                basis: p.basis.to_owned(),
                state: p.state,
                sensor: p.sensor.clone(),
                evidence: p.evidence.clone(),
            },
            outcome: Outcome::Open,
            failed_before_date: false,
        };
        self.store(forecast);
        true
    }

    /// The predicted levels shown at data time `t_s` for `hours_ahead`
    /// under `plan_name` (`plan`: its actions; `None` when it does
    /// nothing). A forecast of the same asset, plan and date (within a
    /// minute) already open is not kept twice. Returns how many were kept.
    pub fn record_zones(
        &mut self,
        t_s: f64,
        hours_ahead: f64,
        plan_name: &str,
        plan: Option<&Plan>,
        predicted: &[Predicted],
    ) -> usize {
        if !(t_s.is_finite() && hours_ahead.is_finite() && hours_ahead >= 0.0) {
            return 0;
        }
        self.advance(t_s);
        let at_s = t_s + hours_ahead * 3600.0;
        let mut kept = 0;
        for p in predicted {
            let duplicate = self.assets.get(&p.asset).is_some_and(|r| {
                r.open.iter().any(|f| {
                    matches!(&f.kind, ForecastKind::ZoneAt { date_s: a, plan: n, .. }
                        if n == plan_name && (a - at_s).abs() < 60.0)
                })
            });
            if duplicate || !p.failure_probability.is_finite() {
                continue;
            }
            let failed_before_date = self.failed_by(&p.asset, at_s);
            let forecast = Forecast {
                id: self.next_id,
                asset: p.asset.clone(),
                made_at_s: t_s,
                kind: ForecastKind::ZoneAt {
                    date_s: at_s,
                    plan: plan_name.to_owned(),
                    zone: p.zone,
                    failure_probability: p.failure_probability,
                    plan_acts: acts_on(plan, &p.asset),
                },
                outcome: Outcome::Open,
                failed_before_date,
            };
            self.store(forecast);
            kept += 1;
        }
        kept
    }

    /// What a what-if's plan (`result`, with its actions `plan`) was
    /// expected to do to `asset`, at data time `t_s`. False when the
    /// result says nothing checkable of it.
    pub fn record_plan(
        &mut self,
        t_s: f64,
        asset: &str,
        plan: Option<&Plan>,
        result: &PlanResult,
        recommended: bool,
    ) -> bool {
        let Some(outcome) = result.assets.iter().find(|a| a.asset == asset) else {
            return false;
        };
        // The first date the simulation states a probability for.
        let (Some(&by_h), Some(&p)) = (result.grid_h.get(1), outcome.failure_probability.get(1))
        else {
            return false;
        };
        if !(t_s.is_finite() && by_h > 0.0 && p.is_finite()) {
            return false;
        }
        self.advance(t_s);
        let by_s = t_s + by_h * 3600.0;
        let failed_before_date = self.failed_by(asset, by_s);
        let forecast = Forecast {
            id: self.next_id,
            asset: asset.to_owned(),
            made_at_s: t_s,
            kind: ForecastKind::PlanOutcome {
                plan: result.plan.clone(),
                recommended,
                plan_acts: acts_on(plan, asset),
                by_s,
                failure_probability: p,
                expected_failures: outcome.expected_failures,
                life_after_median_h: outcome.life_after_actions_h.median,
                life_after_low_h: outcome.life_after_actions_h.low,
                life_after_high_h: outcome.life_after_actions_h.high,
                paths: result.paths,
            },
            outcome: Outcome::Open,
            failed_before_date,
        };
        self.store(forecast);
        true
    }

    /// Whether the asset's failure in force came by `date_s`: it was failed
    /// when a zone or plan forecast was asked, or failed between the
    /// question and now (a what-if's forecasts are dated at the question
    /// and handed over when the worker answers: `AssetRecord::failed` never
    /// saw them).
    fn failed_by(&self, asset: &str, date_s: f64) -> bool {
        self.assets
            .get(asset)
            .and_then(|r| r.failed_since)
            .is_some_and(|s| s <= date_s)
    }

    fn store(&mut self, forecast: Forecast) {
        self.next_id += 1;
        let max_open = self.config.max_open_per_asset.max(2);
        let record = self.asset_mut(&forecast.asset);
        record.counts.stored += 1;
        // In the order they were made (a what-if's are dated at its
        // question, before the remaining lives kept since), so the gaps
        // below are gaps in time.
        let at = record
            .open
            .partition_point(|f| f.made_at_s <= forecast.made_at_s);
        record.open.insert(at, forecast);
        if record.open.len() > max_open {
            // Thin remaining lives only: a healthy asset's come hourly and
            // outlive nothing for years, while zone and plan forecasts end
            // at their dates. Drop the remaining life closest in time to the
            // one before it (never the first or the newest), so the kept ones
            // span the same time; failing that, the oldest zone or plan one.
            let lives: Vec<usize> = (0..record.open.len())
                .filter(|&i| matches!(record.open[i].kind, ForecastKind::RemainingLife { .. }))
                .collect();
            let victim = lives
                .windows(2)
                .take(lives.len().saturating_sub(2))
                .map(|w| {
                    (
                        w[1],
                        record.open[w[1]].made_at_s - record.open[w[0]].made_at_s,
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
                .or_else(|| {
                    (0..record.open.len()).find(|&i| {
                        !matches!(record.open[i].kind, ForecastKind::RemainingLife { .. })
                    })
                })
                .unwrap_or(0);
            record.open.remove(victim);
            record.counts.thinned += 1;
        }
    }

    /// The asset was maintained at data time `t_s` (its baseline is to be
    /// learned afresh): a new life begins. A maintenance at or before the
    /// last one is the same one told again, and changes nothing.
    pub fn maintained(&mut self, asset: &str, t_s: f64) {
        if !t_s.is_finite() {
            return;
        }
        self.advance(t_s);
        let max_resolved = self.config.max_resolved_per_asset;
        let max_detections = self.config.max_detections_per_asset;
        let record = self.asset_mut(asset);
        if record.maintained_at_s.is_some_and(|m| t_s <= m) {
            return;
        }
        record.maintained_at_s = Some(t_s);
        if record.failed_since.is_none()
            && let Some(found) = record.found_at_s
        {
            record.counts.found_before_maintenance += 1;
            push_bounded(
                &mut record.detections,
                Detection {
                    asset: asset.to_owned(),
                    found_at_s: Some(found),
                    ended_at_s: t_s,
                    ended_by: "maintenance",
                    lead_s: Some((t_s - found).max(0.0)),
                },
                max_detections,
            );
        }
        let open = std::mem::take(&mut record.open);
        for mut f in open {
            let censor = match &f.kind {
                ForecastKind::RemainingLife { .. } => {
                    record.counts.rul_censored += 1;
                    true
                }
                ForecastKind::ZoneAt { plan_acts, .. } if !plan_acts => {
                    record.counts.zone_censored += 1;
                    true
                }
                ForecastKind::PlanOutcome { plan_acts, .. } if !plan_acts => {
                    record.counts.plan_censored += 1;
                    true
                }
                _ => false,
            };
            if censor {
                f.outcome = Outcome::Censored {
                    at_s: t_s,
                    lived_h: ((t_s - f.made_at_s) / 3600.0).max(0.0),
                };
                push_bounded(&mut record.resolved, f, max_resolved);
            } else {
                record.open.push(f);
            }
        }
        record.life_began_s = Some(t_s);
        record.failed_since = None;
        record.recovering_since = None;
        record.found_at_s = None;
        record.degrading = false;
        record.last_rul = None;
    }

    /// Looks at the twin at its latest data time: failures, recoveries,
    /// faults flagged or withdrawn, forecasts whose date came or whose
    /// band was outlived. Call it whenever the twin's data time moves on.
    pub fn observe(&mut self, twin: &Twin) {
        let Some(t) = twin.data_time() else {
            return;
        };
        self.advance(t);
        for state in twin.assets() {
            let status = twin.status(&state.id);
            let life_began = self.assets.get(&state.id).and_then(|r| r.life_began_s);
            let flagged = state
                .watch
                .alarms()
                .iter()
                // A critical alarm is zone D: the failure itself, not its warning.
                .filter(|a| a.active() && a.severity != crate::alarm::Severity::Critical)
                .filter(|a| life_began.is_none_or(|b| a.raised_at > b))
                .map(|a| a.raised_at)
                .reduce(f64::min);
            self.observe_asset(&state.id, t, status, flagged);
        }
    }

    /// One asset at data time `t`: its level and, if any alarm raised in
    /// this life is in force, the earliest one's raise time.
    pub fn observe_asset(
        &mut self,
        asset: &str,
        t: f64,
        status: AssetStatus,
        alarm_since: Option<f64>,
    ) {
        if !t.is_finite() {
            return;
        }
        self.advance(t);
        let config = self.config;
        let record = self.asset_mut(asset);
        let failed_now = status == AssetStatus::Level(Zone::D);
        // The earlier of an alarm in force and an earlier flag that still stands.
        match (alarm_since, record.degrading) {
            (Some(since), _) if record.failed_since.is_none() => {
                record.found_at_s = Some(record.found_at_s.map_or(since, |f| f.min(since)));
            }
            (None, false) if record.found_at_s.is_some() && !failed_now => {
                record.found_at_s = None;
                record.counts.withdrawn += 1;
            }
            _ => {}
        }
        match record.failed_since {
            None if failed_now => record.failed(asset, t, &config),
            Some(_) if failed_now => record.recovering_since = None,
            Some(_) => {
                if matches!(status, AssetStatus::Level(_)) {
                    let since = *record.recovering_since.get_or_insert(t);
                    if t - since >= config.recovery_s {
                        record.failed_since = None;
                        record.recovering_since = None;
                        record.found_at_s = None;
                        record.last_rul = None;
                    }
                }
            }
            None => {}
        }
        record.check_dates(t, status, &config);
    }

    /// Every asset's summary and the line's.
    pub fn summary(&self) -> TrackSummary {
        let mut line_counts = Counts::default();
        let mut all: Vec<&Forecast> = Vec::new();
        let mut detections: Vec<&Detection> = Vec::new();
        let mut open = 0;
        let mut assets = BTreeMap::new();
        for (id, record) in &self.assets {
            line_counts.add(&record.counts);
            all.extend(record.resolved.iter());
            detections.extend(record.detections.iter());
            open += record.open.len();
            assets.insert(
                id.clone(),
                summarise(
                    &record.counts,
                    record.open.len(),
                    record.resolved.iter(),
                    record.detections.iter(),
                    record.found_at_s,
                ),
            );
        }
        let line = summarise(
            &line_counts,
            open,
            all.iter().copied(),
            detections.iter().copied(),
            None,
        );
        all.sort_by(|a, b| {
            let at = |f: &Forecast| f.outcome.at_s().unwrap_or(f.made_at_s);
            at(b).total_cmp(&at(a)).then(b.id.cmp(&a.id))
        });
        TrackSummary {
            now_s: self.now_s,
            line,
            assets,
            recent: all.into_iter().take(RECENT).cloned().collect(),
        }
    }

    /// The asset's forecasts, open and kept resolved, newest first.
    pub fn forecasts(&self, asset: &str) -> Vec<&Forecast> {
        let Some(record) = self.assets.get(asset) else {
            return Vec::new();
        };
        let mut all: Vec<&Forecast> = record.open.iter().chain(record.resolved.iter()).collect();
        all.sort_by(|a, b| b.made_at_s.total_cmp(&a.made_at_s).then(b.id.cmp(&a.id)));
        all
    }

    /// The asset's detections, oldest first.
    pub fn detections(&self, asset: &str) -> impl Iterator<Item = &Detection> {
        self.assets
            .get(asset)
            .into_iter()
            .flat_map(|r| r.detections.iter())
    }

    /// When the twin flagged the asset in its current life, if it has.
    pub fn found_at(&self, asset: &str) -> Option<f64> {
        self.assets.get(asset).and_then(|r| r.found_at_s)
    }

    /// Since when the asset is failed, if it is.
    pub fn failed_since(&self, asset: &str) -> Option<f64> {
        self.assets.get(asset).and_then(|r| r.failed_since)
    }
}

/// Resolved forecasts in the line's summary table.
pub const RECENT: usize = 12;

impl AssetRecord {
    fn failed(&mut self, asset: &str, t: f64, config: &TrackRecordConfig) {
        self.failed_since = Some(t);
        self.life_began_s = Some(t);
        self.recovering_since = None;
        let detection = match self.found_at_s.filter(|f| *f < t) {
            Some(found) => {
                self.counts.found_before_failure += 1;
                Detection {
                    asset: asset.to_owned(),
                    found_at_s: Some(found),
                    ended_at_s: t,
                    ended_by: "failure",
                    lead_s: Some(t - found),
                }
            }
            None => {
                self.counts.missed += 1;
                Detection {
                    asset: asset.to_owned(),
                    found_at_s: None,
                    ended_at_s: t,
                    ended_by: "failure",
                    lead_s: None,
                }
            }
        };
        push_bounded(
            &mut self.detections,
            detection,
            config.max_detections_per_asset,
        );
        self.found_at_s = None;
        let open = std::mem::take(&mut self.open);
        for mut f in open {
            match &f.kind {
                ForecastKind::RemainingLife {
                    median_h,
                    low_h,
                    high_h,
                    state,
                    ..
                } => {
                    let actual_h = ((t - f.made_at_s) / 3600.0).max(0.0);
                    let error_h = median_h - actual_h;
                    let in_band = *low_h <= actual_h && actual_h <= *high_h;
                    self.counts.rul_failed += 1;
                    self.counts.rul_in_band += u64::from(in_band);
                    if *state == DegradationState::Degrading {
                        self.counts.trend_failed += 1;
                        self.counts.trend_in_band += u64::from(in_band);
                    }
                    f.outcome = Outcome::Failed {
                        at_s: t,
                        actual_h,
                        error_h,
                        relative_error: (actual_h > 0.0).then(|| error_h / actual_h),
                        in_band,
                    };
                    push_bounded(&mut self.resolved, f, config.max_resolved_per_asset);
                }
                // Failed by its date. A failure first seen after the date
                // (a gap in the data skipped it) is not: `check_dates`
                // scores it as not failed by then.
                ForecastKind::PlanOutcome {
                    failure_probability,
                    by_s,
                    ..
                } if t <= *by_s => {
                    let p = *failure_probability;
                    let brier = (p - 1.0).powi(2);
                    let hit = p >= 0.5;
                    self.counts.plan_checked += 1;
                    self.counts.plan_hits += u64::from(hit);
                    self.counts.plan_brier += brier;
                    f.outcome = Outcome::Checked {
                        at_s: t,
                        actual: Some(Zone::D),
                        failed: true,
                        hit,
                        brier,
                    };
                    push_bounded(&mut self.resolved, f, config.max_resolved_per_asset);
                }
                ForecastKind::ZoneAt { date_s, .. } => {
                    f.failed_before_date |= t <= *date_s;
                    self.open.push(f);
                }
                ForecastKind::PlanOutcome { .. } => self.open.push(f),
            }
        }
    }

    /// Zone and plan forecasts whose date came, remaining-life forecasts
    /// past their 90 % bound.
    fn check_dates(&mut self, t: f64, status: AssetStatus, config: &TrackRecordConfig) {
        let open = std::mem::take(&mut self.open);
        let failed_since = self.failed_since;
        // Failed by the date: marked so (failed when it was made, or since
        // and renewed before the date), or failed now since it was made and
        // by the date.
        let failed_by = |f: &Forecast, date_s: f64| {
            f.failed_before_date || failed_since.is_some_and(|s| s >= f.made_at_s && s <= date_s)
        };
        for mut f in open {
            let outcome = match &f.kind {
                ForecastKind::RemainingLife { high_h, state, .. }
                    if self.failed_since.is_none() && t > f.made_at_s + high_h * 3600.0 =>
                {
                    self.counts.rul_outlived += 1;
                    self.counts.trend_outlived += u64::from(*state == DegradationState::Degrading);
                    Some(Outcome::Outlived {
                        at_s: t,
                        lived_h: (t - f.made_at_s) / 3600.0,
                    })
                }
                ForecastKind::ZoneAt {
                    date_s,
                    zone,
                    failure_probability,
                    ..
                } if t >= *date_s => match status.zone() {
                    Some(actual) => {
                        let failed = failed_by(&f, *date_s);
                        let brier = (failure_probability - f64::from(u8::from(failed))).powi(2);
                        let hit = *zone == actual;
                        self.counts.zone_checked += 1;
                        self.counts.zone_hits += u64::from(hit);
                        self.counts.zone_brier += brier;
                        Some(Outcome::Checked {
                            at_s: t,
                            actual: Some(actual),
                            failed,
                            hit,
                            brier,
                        })
                    }
                    None => {
                        self.counts.zone_unknown += 1;
                        Some(Outcome::Unknown { at_s: t })
                    }
                },
                ForecastKind::PlanOutcome {
                    by_s,
                    failure_probability,
                    ..
                } if t >= *by_s => {
                    let failed = failed_by(&f, *by_s);
                    let brier = (failure_probability - f64::from(u8::from(failed))).powi(2);
                    let hit = (*failure_probability >= 0.5) == failed;
                    self.counts.plan_checked += 1;
                    self.counts.plan_hits += u64::from(hit);
                    self.counts.plan_brier += brier;
                    Some(Outcome::Checked {
                        at_s: t,
                        actual: status.zone(),
                        failed,
                        hit,
                        brier,
                    })
                }
                _ => None,
            };
            match outcome {
                Some(outcome) => {
                    f.outcome = outcome;
                    push_bounded(&mut self.resolved, f, config.max_resolved_per_asset);
                }
                None => self.open.push(f),
            }
        }
    }
}

fn acts_on(plan: Option<&Plan>, asset: &str) -> bool {
    plan.is_some_and(|p| p.actions.iter().any(|a| a.asset == asset))
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T, cap: usize) {
    list.push_back(item);
    while list.len() > cap.max(1) {
        list.pop_front();
    }
}

/// How the twin's forecasts of one asset, or of the line, have done.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccuracySummary {
    /// Forecasts made since the start (kept by the deduplication; thinned
    /// ones included).
    pub forecasts: u64,
    pub open: usize,
    /// Open forecasts dropped to stay within the bound.
    pub thinned: u64,
    pub remaining_life: RulSummary,
    pub zone: ZoneSummary,
    pub plan: PlanSummary,
    pub detection: DetectionSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RulSummary {
    /// Resolved by a failure (with an error).
    pub resolved: u64,
    /// Past their 90 % bound alive (band misses, no error figure).
    pub outlived: u64,
    /// Maintained before the truth came: neither hit nor miss.
    pub censored: u64,
    /// Of the resolved and outlived, the truth inside the 10-90 % band.
    pub in_band: u64,
    /// `in_band / (resolved + outlived)`: about 0.8 for an honest band.
    pub band_coverage: Option<f64>,
    /// Median |predicted − actual| of the kept resolved ones, hours.
    pub median_abs_error_h: Option<f64>,
    /// Median |predicted − actual| / actual.
    pub median_abs_relative_error: Option<f64>,
    /// The same for the forecasts made from a degrading trend alone (the
    /// fleet prior of a healthy machine is a different claim).
    pub from_trend_resolved: u64,
    pub from_trend_band_coverage: Option<f64>,
    pub from_trend_median_abs_error_h: Option<f64>,
    pub from_trend_median_abs_relative_error: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ZoneSummary {
    pub resolved: u64,
    pub hits: u64,
    pub hit_rate: Option<f64>,
    pub mean_brier: Option<f64>,
    pub censored: u64,
    /// The asset had no level at the date.
    pub unknown: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanSummary {
    pub resolved: u64,
    pub hits: u64,
    pub hit_rate: Option<f64>,
    pub mean_brier: Option<f64>,
    pub censored: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DetectionSummary {
    /// Failures flagged before they came.
    pub found_before_failure: u64,
    /// Failures nothing flagged before.
    pub missed: u64,
    /// Faults flagged, then ended by maintenance.
    pub found_before_maintenance: u64,
    /// Flags the twin withdrew (no alarm in force, no longer degrading).
    pub withdrawn: u64,
    /// Median lead time of the kept detections, data seconds and hours.
    pub median_lead_s: Option<f64>,
    pub median_lead_h: Option<f64>,
    /// The kept lead times, oldest first, data seconds.
    pub lead_times_s: Vec<f64>,
    /// A fault flagged now and not yet ended (asset summaries only).
    pub open_since_s: Option<f64>,
}

/// The whole track record in numbers, for panels and `state()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackSummary {
    pub now_s: Option<f64>,
    pub line: AccuracySummary,
    pub assets: BTreeMap<String, AccuracySummary>,
    /// The latest resolved forecasts of the line, newest first.
    pub recent: Vec<Forecast>,
}

fn summarise<'a>(
    counts: &Counts,
    open: usize,
    resolved: impl Iterator<Item = &'a Forecast>,
    detections: impl Iterator<Item = &'a Detection>,
    open_since_s: Option<f64>,
) -> AccuracySummary {
    let (mut abs_errors, mut rel_errors) = (Vec::new(), Vec::new());
    let (mut trend_abs, mut trend_rel) = (Vec::new(), Vec::new());
    for f in resolved {
        if let Outcome::Failed {
            error_h,
            relative_error,
            ..
        } = f.outcome
        {
            let trend = matches!(
                f.kind,
                ForecastKind::RemainingLife {
                    state: DegradationState::Degrading,
                    ..
                }
            );
            abs_errors.push(error_h.abs());
            if trend {
                trend_abs.push(error_h.abs());
            }
            if let Some(r) = relative_error {
                rel_errors.push(r.abs());
                if trend {
                    trend_rel.push(r.abs());
                }
            }
        }
    }
    let lead_times_s: Vec<f64> = detections.filter_map(|d| d.lead_s).collect();
    let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let mean = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
    let median_lead_s = median(&lead_times_s);
    AccuracySummary {
        forecasts: counts.stored,
        open,
        thinned: counts.thinned,
        remaining_life: RulSummary {
            resolved: counts.rul_failed,
            outlived: counts.rul_outlived,
            censored: counts.rul_censored,
            in_band: counts.rul_in_band,
            band_coverage: rate(counts.rul_in_band, counts.rul_failed + counts.rul_outlived),
            median_abs_error_h: median(&abs_errors),
            median_abs_relative_error: median(&rel_errors),
            from_trend_resolved: counts.trend_failed,
            from_trend_band_coverage: rate(
                counts.trend_in_band,
                counts.trend_failed + counts.trend_outlived,
            ),
            from_trend_median_abs_error_h: median(&trend_abs),
            from_trend_median_abs_relative_error: median(&trend_rel),
        },
        zone: ZoneSummary {
            resolved: counts.zone_checked,
            hits: counts.zone_hits,
            hit_rate: rate(counts.zone_hits, counts.zone_checked),
            mean_brier: mean(counts.zone_brier, counts.zone_checked),
            censored: counts.zone_censored,
            unknown: counts.zone_unknown,
        },
        plan: PlanSummary {
            resolved: counts.plan_checked,
            hits: counts.plan_hits,
            hit_rate: rate(counts.plan_hits, counts.plan_checked),
            mean_brier: mean(counts.plan_brier, counts.plan_checked),
            censored: counts.plan_censored,
        },
        detection: DetectionSummary {
            found_before_failure: counts.found_before_failure,
            missed: counts.missed,
            found_before_maintenance: counts.found_before_maintenance,
            withdrawn: counts.withdrawn,
            median_lead_s,
            median_lead_h: median_lead_s.map(|s| s / 3600.0),
            lead_times_s,
            open_since_s,
        },
    }
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linetwin_forecast::montecarlo::{AssetOutcome, Band};
    use linetwin_forecast::plan::{Action, ActionKind, FaultKind, LifeNow};
    use linetwin_forecast::weibull::Weibull;

    const H: f64 = 3600.0;

    fn prognosis(
        asset: &str,
        median_h: f64,
        low_h: f64,
        high_h: f64,
        degrading: bool,
    ) -> AssetPrognosis {
        AssetPrognosis {
            asset: asset.to_owned(),
            state: if degrading {
                DegradationState::Degrading
            } else {
                DegradationState::NoDegradation
            },
            median_h,
            low_h,
            high_h,
            basis: if degrading {
                "vibration trend"
            } else {
                "rated life (fleet prior)"
            },
            sensor: degrading.then(|| format!("{asset}-DE-V")),
            detected_at_s: None,
            evidence: "test".to_owned(),
            usage: None,
            life_now: LifeNow::Weibull {
                life: Weibull {
                    shape: 1.5,
                    scale_h: 40_000.0,
                },
                age_h: 0.0,
            },
            fault: FaultKind::None,
        }
    }

    fn level(zone: Zone) -> AssetStatus {
        AssetStatus::Level(zone)
    }

    #[test]
    fn a_failure_resolves_remaining_life_with_its_error_and_band() {
        let mut record = TrackRecord::default();
        assert!(record.record_rul(0.0, &prognosis("P1", 1.0, 0.5, 2.0, true)));
        // Within the band, later than said: lived 0.8 h of the 1.0 h median.
        record.observe_asset("P1", 0.5 * H, level(Zone::C), None);
        record.observe_asset("P1", 0.8 * H, level(Zone::D), None);
        let summary = record.summary();
        let rul = &summary.assets["P1"].remaining_life;
        assert_eq!((rul.resolved, rul.outlived, rul.censored), (1, 0, 0));
        assert_eq!(rul.band_coverage, Some(1.0));
        assert!(
            (rul.median_abs_error_h.unwrap() - 0.2).abs() < 1e-9,
            "{rul:?}"
        );
        assert!((rul.median_abs_relative_error.unwrap() - 0.25).abs() < 1e-9);
        let resolved = &record.forecasts("P1")[0];
        match resolved.outcome {
            Outcome::Failed {
                at_s,
                actual_h,
                error_h,
                in_band,
                ..
            } => {
                assert_eq!(at_s, 0.8 * H);
                assert!((actual_h - 0.8).abs() < 1e-9 && (error_h - 0.2).abs() < 1e-9);
                assert!(in_band);
            }
            ref other => panic!("{other:?}"),
        }
        assert_eq!(summary.line.remaining_life, *rul);
        assert_eq!(rul.from_trend_resolved, 1);
        assert_eq!(rul.from_trend_band_coverage, Some(1.0));
        // Degrading from the first forecast: found 0.8 h before the failure.
        let detection = &summary.assets["P1"].detection;
        assert_eq!(detection.found_before_failure, 1);
        assert_eq!(detection.median_lead_s, Some(0.8 * H));
    }

    #[test]
    fn a_failure_before_the_band_is_a_miss_and_unflagged_failures_are_missed_detections() {
        let mut record = TrackRecord::default();
        record.record_rul(0.0, &prognosis("M1", 10.0, 5.0, 20.0, false));
        record.observe_asset("M1", 2.0 * H, level(Zone::D), None);
        let summary = record.summary();
        let rul = &summary.line.remaining_life;
        assert_eq!(rul.resolved, 1);
        assert_eq!(rul.band_coverage, Some(0.0));
        assert!((rul.median_abs_error_h.unwrap() - 8.0).abs() < 1e-9);
        assert_eq!(summary.line.detection.missed, 1);
        // A healthy machine's prior is not a trend's claim.
        assert_eq!(
            (rul.from_trend_resolved, rul.from_trend_band_coverage),
            (0, None)
        );
        assert_eq!(summary.line.detection.found_before_failure, 0);
        assert_eq!(summary.line.detection.median_lead_s, None);
    }

    #[test]
    fn maintenance_censors_open_lives_and_ends_the_detection_lead() {
        let mut record = TrackRecord::default();
        record.record_rul(0.0, &prognosis("P1", 5.0, 1.0, 9.0, false));
        // A warning alarm raised at 100 s: the fault is found.
        record.observe_asset("P1", 110.0, level(Zone::C), Some(100.0));
        record.record_rul(120.0, &prognosis("P1", 0.5, 0.2, 2.0, true));
        record.observe_asset("P1", 300.0, level(Zone::C), Some(100.0));
        record.maintained("P1", 480.0);
        let summary = record.summary();
        let asset = &summary.assets["P1"];
        assert_eq!(asset.remaining_life.censored, 2);
        assert_eq!(asset.remaining_life.resolved, 0);
        // Censored lives are neither hits nor misses.
        assert_eq!(asset.remaining_life.band_coverage, None);
        assert_eq!(asset.open, 0);
        assert_eq!(asset.detection.found_before_maintenance, 1);
        assert_eq!(asset.detection.lead_times_s, vec![380.0]);
        let lived: Vec<f64> = record
            .forecasts("P1")
            .iter()
            .map(|f| match f.outcome {
                Outcome::Censored { lived_h, .. } => lived_h,
                ref other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lived, vec![360.0 / H, 480.0 / H]);
        // A new life: the alarm of the old one flags nothing now.
        record.observe_asset("P1", 500.0, level(Zone::C), None);
        assert_eq!(record.found_at("P1"), None);
        assert!(record.record_rul(505.0, &prognosis("P1", 5.0, 1.0, 9.0, false)));
        // The same maintenance told again (another sensor, a greeting) is one.
        record.maintained("P1", 480.0);
        assert_eq!(record.summary().assets["P1"].open, 1);
    }

    #[test]
    fn a_life_outlived_past_its_band_is_a_band_miss_without_an_error() {
        let mut record = TrackRecord::default();
        record.record_rul(0.0, &prognosis("P1", 0.05, 0.02, 0.1, true));
        record.observe_asset("P1", 0.1 * H, level(Zone::C), None);
        assert_eq!(record.summary().line.remaining_life.outlived, 0);
        record.observe_asset("P1", 0.1 * H + 1.0, level(Zone::C), None);
        let rul = record.summary().line.remaining_life;
        assert_eq!((rul.resolved, rul.outlived), (0, 1));
        assert_eq!(rul.band_coverage, Some(0.0));
        assert_eq!(rul.median_abs_error_h, None);
        // A later failure does not resolve it again.
        record.observe_asset("P1", 0.2 * H, level(Zone::D), None);
        assert_eq!(record.summary().line.remaining_life.resolved, 0);
    }

    #[test]
    fn forecasts_every_few_seconds_are_kept_when_they_say_something_new() {
        let mut record = TrackRecord::default();
        // Healthy and unchanged for ten minutes: one kept.
        let kept = (0..120)
            .filter(|i| {
                record.record_rul(
                    f64::from(*i) * 5.0,
                    &prognosis("M1", 40_000.0, 9000.0, 90_000.0, false),
                )
            })
            .count();
        assert_eq!(kept, 1);
        // ...and one an hour.
        assert!(record.record_rul(3600.0, &prognosis("M1", 40_000.0, 9000.0, 90_000.0, false)));
        // Degrading now: kept at once, whatever the interval.
        assert!(record.record_rul(3605.0, &prognosis("M1", 1.0, 0.5, 2.0, true)));
        // A consistent forecast (its median less the time since) says nothing new...
        assert!(!record.record_rul(
            3605.0 + 120.0,
            &prognosis("M1", 1.0 - 120.0 / H, 0.5, 2.0, true)
        ));
        // ...a changed one does, but not within the minimum interval.
        assert!(!record.record_rul(3605.0 + 30.0, &prognosis("M1", 0.3, 0.1, 0.6, true)));
        assert!(record.record_rul(3605.0 + 180.0, &prognosis("M1", 0.3, 0.1, 0.6, true)));
        assert_eq!(record.summary().assets["M1"].forecasts, 4);
    }

    #[test]
    fn open_forecasts_are_bounded_and_stay_spread_over_their_span() {
        let config = TrackRecordConfig {
            max_interval_s: 1.0,
            max_open_per_asset: 8,
            ..TrackRecordConfig::default()
        };
        let mut record = TrackRecord::new(config);
        for i in 0..100 {
            record.record_rul(
                f64::from(i) * 10.0,
                &prognosis("M1", 40_000.0, 9000.0, 90_000.0, false),
            );
        }
        let summary = &record.summary().assets["M1"];
        assert_eq!(
            (summary.open, summary.forecasts, summary.thinned),
            (8, 100, 92)
        );
        let times: Vec<f64> = record.forecasts("M1").iter().map(|f| f.made_at_s).collect();
        assert_eq!(times.first(), Some(&990.0), "the newest is kept");
        assert_eq!(times.last(), Some(&0.0), "the first is kept");
        let gaps: Vec<f64> = times.windows(2).map(|w| w[0] - w[1]).collect();
        assert!(gaps.iter().all(|g| *g <= 250.0), "spread: {times:?}");
        // Resolved ones too: at most the bound kept, every one counted.
        let config = TrackRecordConfig {
            max_interval_s: 1.0,
            max_resolved_per_asset: 5,
            ..TrackRecordConfig::default()
        };
        let mut record = TrackRecord::new(config);
        for i in 0..20 {
            let t = f64::from(i) * 100.0;
            record.record_rul(t, &prognosis("P1", 1.0, 0.5, 2.0, false));
            record.maintained("P1", t + 50.0);
        }
        assert_eq!(record.forecasts("P1").len(), 5);
        assert_eq!(record.summary().line.remaining_life.censored, 20);
    }

    fn predicted(asset: &str, p: f64) -> Predicted {
        Predicted {
            asset: asset.to_owned(),
            failure_probability: p,
            zone: linetwin_forecast::outlook::predicted_zone(p),
        }
    }

    #[test]
    fn zones_at_a_date_are_checked_when_it_comes() {
        let mut record = TrackRecord::default();
        let replace_p1 = Plan {
            name: "replace P1 now".into(),
            actions: vec![Action {
                asset: "P1".into(),
                kind: ActionKind::Replace,
                at_h: 0.0,
            }],
        };
        let rows = [
            predicted("P1", 0.01),
            predicted("M1", 0.3),
            predicted("FN1", 0.9),
        ];
        assert_eq!(
            record.record_zones(0.0, 1.0, &replace_p1.name, Some(&replace_p1), &rows),
            3
        );
        // The same forecast shown again is not kept twice.
        assert_eq!(
            record.record_zones(10.0, 1.0, &replace_p1.name, Some(&replace_p1), &rows),
            0
        );
        // P1 replaced as the plan said: still checked. FN1 maintained off-plan: censored.
        record.maintained("P1", 60.0);
        record.maintained("FN1", 60.0);
        record.observe_asset("P1", 1800.0, level(Zone::A), None);
        assert_eq!(
            record.summary().line.zone.resolved,
            0,
            "not before the date"
        );
        record.observe_asset("P1", 3610.0, level(Zone::A), None);
        record.observe_asset("M1", 3610.0, level(Zone::B), None);
        let line = record.summary().line.zone;
        assert_eq!((line.resolved, line.hits, line.censored), (2, 1, 1));
        assert_eq!(line.hit_rate, Some(0.5));
        // Brier: P1 (0.01 − 0)², M1 (0.3 − 0)².
        assert!((line.mean_brier.unwrap() - (0.0001 + 0.09) / 2.0).abs() < 1e-12);
        // No level at the date: unknown, not a miss.
        record.record_zones(4000.0, 0.5, "do nothing", None, &[predicted("CV1", 0.0)]);
        record.observe_asset("CV1", 6000.0, AssetStatus::Stale, None);
        let line = record.summary().line.zone;
        assert_eq!((line.resolved, line.unknown), (2, 1));
    }

    fn plan_result(plan: &str, asset: &str, p_first: f64) -> PlanResult {
        PlanResult {
            plan: plan.into(),
            paths: 1000,
            expected_downtime_h: 0.0,
            p90_downtime_h: 0.0,
            expected_unplanned_downtime_h: 0.0,
            expected_production_lost: 0.0,
            expected_maintenance_cost: 0.0,
            expected_failure_cost: 0.0,
            expected_cost: 0.0,
            p90_cost: 0.0,
            grid_h: vec![0.0, 1.0, 2.0],
            assets: vec![AssetOutcome {
                asset: asset.into(),
                failure_probability: vec![0.0, p_first, 1.0],
                expected_failures: 1.0,
                life_after_actions_h: Band {
                    median: 0.5,
                    low: 0.2,
                    high: 1.5,
                },
            }],
            trajectories: Vec::new(),
        }
    }

    #[test]
    fn a_plan_outcome_is_checked_by_a_failure_or_its_date() {
        let mut record = TrackRecord::default();
        let result = plan_result("do nothing", "P1", 0.8);
        assert!(record.record_plan(0.0, "P1", None, &result, true));
        assert!(
            !record.record_plan(0.0, "XX", None, &result, true),
            "nothing of XX"
        );
        record.observe_asset("P1", 1000.0, level(Zone::D), None);
        let plan = record.summary().line.plan;
        assert_eq!((plan.resolved, plan.hits), (1, 1));
        assert!((plan.mean_brier.unwrap() - 0.04).abs() < 1e-12);
        // Survived to the date against 80 %: a miss.
        let result = plan_result("do nothing", "M1", 0.8);
        record.record_plan(0.0, "M1", None, &result, false);
        record.observe_asset("M1", H, level(Zone::B), None);
        let plan = record.summary().line.plan;
        assert_eq!((plan.resolved, plan.hits), (2, 1));
        // Maintained off the plan: censored.
        record.record_plan(
            2.0 * H,
            "FN1",
            None,
            &plan_result("do nothing", "FN1", 0.1),
            true,
        );
        record.maintained("FN1", 2.5 * H);
        assert_eq!(record.summary().line.plan.censored, 1);
    }

    #[test]
    fn a_full_list_of_hourly_lives_keeps_a_zone_forecast_to_its_date() {
        let mut record = TrackRecord::default();
        let healthy = prognosis("M1", 40_000.0, 9000.0, 90_000.0, false);
        for i in 0..70 {
            assert!(record.record_rul(f64::from(i) * H, &healthy));
        }
        assert_eq!(record.summary().assets["M1"].open, 64, "full");
        // A what-if asked at 66 h, shown after the lives of 67-69 h: dated
        // at the question, for ten hours on.
        let rows = [predicted("M1", 0.02)];
        assert_eq!(
            record.record_zones(66.0 * H, 10.0, "do nothing", None, &rows),
            1
        );
        for i in 70..80 {
            record.record_rul(f64::from(i) * H, &healthy);
            record.observe_asset("M1", f64::from(i) * H, level(Zone::A), None);
        }
        let summary = record.summary();
        let zone = &summary.line.zone;
        assert_eq!((zone.resolved, zone.hits), (1, 1), "{zone:?}");
        assert_eq!(summary.assets["M1"].open, 64);
        // Only remaining lives were thinned, and they stay in time order.
        assert!(
            record
                .forecasts("M1")
                .iter()
                .all(|f| matches!(f.kind, ForecastKind::RemainingLife { .. })
                    || f.outcome != Outcome::Open)
        );
        let open = &record.assets["M1"].open;
        assert!(open.windows(2).all(|w| w[0].made_at_s <= w[1].made_at_s));
        assert_eq!(
            open.first().map(|f| f.made_at_s),
            Some(0.0),
            "the first is kept"
        );

        // No remaining life to thin: the oldest zone forecast goes, counted.
        let mut record = TrackRecord::new(TrackRecordConfig {
            max_open_per_asset: 3,
            ..TrackRecordConfig::default()
        });
        for i in 0..4 {
            let rows = [predicted("P1", 0.1)];
            record.record_zones(f64::from(i) * 100.0, 1.0, "do nothing", None, &rows);
        }
        let summary = &record.summary().assets["P1"];
        assert_eq!((summary.open, summary.thinned), (3, 1));
        assert_eq!(
            record.forecasts("P1").last().map(|f| f.made_at_s),
            Some(100.0)
        );
    }

    #[test]
    fn a_failure_after_the_question_and_before_the_date_counts_as_failed_by_then() {
        // The failure came while the worker answered: asked at 0, failed
        // at 0.5 h, the plan and zones handed over after, dated at 0.
        let mut record = TrackRecord::default();
        record.observe_asset("P1", 0.5 * H, level(Zone::D), None);
        assert!(record.record_plan(0.0, "P1", None, &plan_result("do nothing", "P1", 0.8), true));
        record.record_zones(0.0, 1.0, "do nothing", None, &[predicted("P1", 0.9)]);
        record.observe_asset("P1", H, level(Zone::D), None);
        let line = record.summary().line;
        assert_eq!((line.plan.resolved, line.plan.hits), (1, 1));
        assert!((line.plan.mean_brier.unwrap() - 0.04).abs() < 1e-12);
        assert!((line.zone.mean_brier.unwrap() - 0.01).abs() < 1e-12);
        // Failed when asked, and recovered before the date: failed by then.
        let mut record = TrackRecord::default();
        record.observe_asset("M1", 100.0, level(Zone::D), None);
        record.record_plan(
            200.0,
            "M1",
            None,
            &plan_result("do nothing", "M1", 0.9),
            true,
        );
        record.observe_asset("M1", 300.0, level(Zone::C), None);
        record.observe_asset("M1", 400.0, level(Zone::C), None);
        assert_eq!(record.failed_since("M1"), None, "recovered");
        record.observe_asset("M1", 200.0 + H, level(Zone::C), None);
        match &record.forecasts("M1")[0].outcome {
            Outcome::Checked { failed, hit, .. } => assert!(*failed && *hit),
            other => panic!("{other:?}"),
        }
        // Failed after the question and renewed before the date: failed by then.
        let mut record = TrackRecord::default();
        record.record_plan(
            0.0,
            "FN1",
            None,
            &plan_result("do nothing", "FN1", 0.3),
            true,
        );
        record.record_zones(0.0, 1.0, "do nothing", None, &[predicted("FN1", 0.3)]);
        record.observe_asset("FN1", 0.2 * H, level(Zone::D), None);
        assert_eq!(record.summary().line.plan.resolved, 1, "at the failure");
        record.observe_asset("FN1", 0.3 * H, level(Zone::C), None);
        record.observe_asset("FN1", 0.4 * H, level(Zone::C), None);
        record.observe_asset("FN1", H, level(Zone::C), None);
        let zone = record.summary().line.zone;
        assert_eq!(zone.resolved, 1);
        assert!((zone.mean_brier.unwrap() - 0.49).abs() < 1e-12, "{zone:?}");
    }

    #[test]
    fn a_failure_first_seen_after_the_date_did_not_happen_by_then() {
        // A gap in the data: nothing between the forecasts and 2 h, when
        // the asset is in D. By 1 h it had not been seen to fail.
        let mut record = TrackRecord::default();
        record.record_plan(0.0, "P1", None, &plan_result("do nothing", "P1", 0.8), true);
        record.record_zones(0.0, 1.0, "do nothing", None, &[predicted("P1", 0.8)]);
        record.observe_asset("P1", 2.0 * H, level(Zone::D), None);
        assert_eq!(record.failed_since("P1"), Some(2.0 * H));
        let line = record.summary().line;
        assert_eq!((line.plan.resolved, line.plan.hits), (1, 0));
        assert!((line.plan.mean_brier.unwrap() - 0.64).abs() < 1e-12);
        assert!((line.zone.mean_brier.unwrap() - 0.64).abs() < 1e-12);
        for f in record.forecasts("P1") {
            match &f.outcome {
                Outcome::Checked { failed, .. } => assert!(!failed, "{f:?}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_failed_asset_gets_no_new_lives_until_renewed_or_recovered() {
        let mut record = TrackRecord::default();
        record.observe_asset("P1", 100.0, level(Zone::D), None);
        assert_eq!(record.failed_since("P1"), Some(100.0));
        assert!(!record.record_rul(105.0, &prognosis("P1", 0.0, 0.0, 0.1, true)));
        // Below D for less than the recovery time: still failed.
        record.observe_asset("P1", 110.0, level(Zone::C), None);
        record.observe_asset("P1", 150.0, level(Zone::C), None);
        assert_eq!(record.failed_since("P1"), Some(100.0));
        record.observe_asset("P1", 175.0, level(Zone::C), None);
        assert_eq!(record.failed_since("P1"), None);
        assert!(record.record_rul(180.0, &prognosis("P1", 1.0, 0.5, 2.0, false)));
        // Maintenance renews a failed asset at once.
        record.observe_asset("M1", 100.0, level(Zone::D), None);
        record.maintained("M1", 120.0);
        assert_eq!(record.failed_since("M1"), None);
        assert!(record.record_rul(125.0, &prognosis("M1", 1.0, 0.5, 2.0, false)));
    }

    #[test]
    fn a_flag_the_twin_withdraws_is_forgotten() {
        let mut record = TrackRecord::default();
        record.observe_asset("M1", 10.0, level(Zone::B), Some(8.0));
        assert_eq!(record.found_at("M1"), Some(8.0));
        record.observe_asset("M1", 80.0, level(Zone::A), None);
        assert_eq!(record.found_at("M1"), None);
        assert_eq!(record.summary().line.detection.withdrawn, 1);
        // Degrading keeps a flag up without an alarm.
        record.record_rul(100.0, &prognosis("M1", 1.0, 0.5, 2.0, true));
        record.observe_asset("M1", 101.0, level(Zone::A), None);
        assert_eq!(record.found_at("M1"), Some(100.0));
        assert_eq!(
            record.summary().assets["M1"].detection.open_since_s,
            Some(100.0)
        );
    }

    #[test]
    fn the_summary_serialises_with_the_documented_names() {
        let mut record = TrackRecord::default();
        record.record_rul(0.0, &prognosis("P1", 1.0, 0.5, 2.0, true));
        record.observe_asset("P1", 0.8 * H, level(Zone::D), None);
        let value = serde_json::to_value(record.summary()).unwrap();
        let line = &value["line"];
        assert_eq!(line["remaining_life"]["resolved"], 1);
        assert_eq!(line["remaining_life"]["band_coverage"], 1.0);
        assert!(line["remaining_life"]["median_abs_error_h"].is_number());
        assert!(line["zone"]["hit_rate"].is_null());
        assert_eq!(line["detection"]["found_before_failure"], 1);
        let recent = &value["recent"][0];
        assert_eq!(recent["kind"], "remaining_life");
        assert_eq!(recent["outcome"], "failed");
        assert_eq!(recent["asset"], "P1");
        assert_eq!(recent["in_band"], true);
        assert_eq!(recent["state"], "degrading");
    }
}
