//! The twin's past at one moment, for the viewer's timeline: each asset's
//! level, velocity and verdict at a data time, read back from the history
//! store; the alarms in force then; and the marks along the time axis.
//!
//! A past level is what the history recorded for each block (its mark) and,
//! for temperatures, the reading judged by the sensor's rules as they stand
//! (the baseline is learned from the first minute, so that is also what it
//! was at the time, except during that first minute).

use std::collections::BTreeMap;

use linetwin_core::diagnosis::Verdict;
use linetwin_core::iso::Zone;
use linetwin_core::line::{Line, SensorKind};
use serde::Serialize;

use crate::alarm::{AlarmId, Severity};
use crate::level::AssetStatus;
use crate::twin::Twin;

/// One asset as it was at the moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PastAsset {
    pub status: AssetStatus,
    /// Its worst vibration sensor's velocity, mm/s r.m.s.
    pub velocity_mm_s: Option<f64>,
    pub verdict: Verdict,
    /// Why it had that colour, in words.
    pub why: String,
}

/// The line at one data time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moment {
    pub t: f64,
    pub assets: BTreeMap<String, PastAsset>,
    /// The alarms in force at `t`: raised by then and not yet cleared.
    pub alarms: Vec<AlarmId>,
}

impl Moment {
    pub fn status(&self, asset: &str) -> AssetStatus {
        self.assets
            .get(asset)
            .map_or(AssetStatus::NoData, |a| a.status)
    }
}

/// The widest roll-up bucket of the history store (3 h).
const COARSEST_BUCKET_S: f64 = 10_800.0;

/// One sensor's say at the moment: (level, velocity, verdict, reason).
type Say = (Zone, Option<f64>, Verdict, String);

/// The line as the twin's history remembers it at data time `t`.
pub fn moment_at(twin: &Twin, line: &Line, t: f64) -> Moment {
    let stale_after_s = twin.config().stale_after_s;
    let history = twin.history();
    let mut assets = BTreeMap::new();
    for asset in &line.assets {
        let state = twin.asset(&asset.id);
        let mut heard_before = false;
        let mut says: Vec<Say> = Vec::new();
        for sensor in &asset.sensors {
            let field = match sensor.kind {
                SensorKind::Vibration => "velocity_mm_s",
                SensorKind::Temperature => "value",
                _ => continue,
            };
            let watch = state
                .and_then(|s| s.sensors.get(&sensor.id))
                .and_then(|v| v.temperature.as_ref());
            if sensor.kind == SensorKind::Temperature && watch.is_none() {
                continue;
            }
            // Far enough back to reach into the coarsest bucket that holds `t`.
            let from = t - COARSEST_BUCKET_S - stale_after_s;
            let Some(points) = history.query(&sensor.id, field, from, t, 0.0) else {
                continue;
            };
            // The newest point at or before `t` (a bucket that began by then).
            let Some(point) = points.iter().rev().find(|p| p.t <= t) else {
                continue;
            };
            heard_before = true;
            if t - point.t_end.min(t) > stale_after_s {
                continue;
            }
            let value = f64::from(point.mean);
            match (sensor.kind, watch) {
                (SensorKind::Vibration, _) => {
                    let Some(level) = point.mark.level() else {
                        continue;
                    };
                    let verdict = point.mark.verdict();
                    let named = if verdict.is_fault() {
                        format!("{} diagnosed, ", verdict.label())
                    } else {
                        String::new()
                    };
                    let velocity = value.is_finite().then_some(value);
                    let text = format!(
                        "{}: {named}{} (zone {})",
                        sensor.id,
                        velocity.map_or("no velocity".to_owned(), |v| format!("{v:.2} mm/s")),
                        level.letter()
                    );
                    says.push((level, velocity, verdict, text));
                }
                (_, Some(watch)) if value.is_finite() => {
                    let judgement = watch.judge(value);
                    let text = format!("{}: {value:.1} °C", sensor.id);
                    says.push((judgement.level, None, Verdict::None, text));
                }
                _ => {}
            }
        }
        // Worst first; vibration (with a velocity) before temperature at a tie.
        says.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.is_some().cmp(&a.1.is_some())));
        let status = match says.first() {
            Some((level, ..)) => AssetStatus::Level(*level),
            None if heard_before => AssetStatus::Stale,
            None => AssetStatus::NoData,
        };
        let velocity_mm_s = says.iter().find_map(|s| s.1);
        let verdict = says
            .iter()
            .find(|s| s.2.is_fault())
            .map_or(Verdict::None, |s| s.2);
        let why = if says.is_empty() {
            match status {
                AssetStatus::Stale => "no fresh data at this time".to_owned(),
                _ => "nothing recorded yet at this time".to_owned(),
            }
        } else {
            says.iter()
                .map(|s| s.3.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        assets.insert(
            asset.id.clone(),
            PastAsset {
                status,
                velocity_mm_s,
                verdict,
                why,
            },
        );
    }
    let alarms = twin
        .alarms()
        .into_iter()
        .filter(|a| a.raised_at <= t && a.cleared_at.is_none_or(|c| c > t))
        .map(|a| a.id)
        .collect();
    Moment { t, assets, alarms }
}

/// Something to mark on the time axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmMark {
    pub t: f64,
    pub asset: String,
    pub severity: Severity,
    pub id: AlarmId,
}

/// Every alarm the twin remembers, by the data time it was raised.
pub fn alarm_marks(twin: &Twin) -> Vec<AlarmMark> {
    let mut marks: Vec<AlarmMark> = twin
        .alarms()
        .into_iter()
        .map(|a| AlarmMark {
            t: a.raised_at,
            asset: a.asset.clone(),
            severity: a.severity,
            id: a.id,
        })
        .collect();
    marks.sort_by(|a, b| a.t.total_cmp(&b.t));
    marks
}

/// The data times the history covers, oldest to newest.
pub fn span(twin: &Twin, line: &Line) -> Option<(f64, f64)> {
    let history = twin.history();
    line.sensors()
        .filter_map(|(_, sensor)| {
            let field = if sensor.kind == SensorKind::Vibration {
                "velocity_mm_s"
            } else {
                "value"
            };
            let points = history.query(&sensor.id, field, f64::MIN, f64::MAX, f64::MAX)?;
            Some((points.first()?.t, points.last()?.t_end))
        })
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// Where a cursor may be: within the span, or live.
pub fn clamp_cursor(t: f64, span: Option<(f64, f64)>) -> Option<f64> {
    let (from, to) = span?;
    t.is_finite().then(|| t.clamp(from, to))
}
