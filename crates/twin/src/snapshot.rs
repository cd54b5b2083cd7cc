//! The twin at one moment, as plain serialisable data: what `state()`, the
//! kiosk and later the forecasts read.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alarm::{AlarmId, Severity};
use crate::clock::DataClock;
use crate::level::AssetStatus;
use crate::twin::{Twin, TwinCounters};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwinSnapshot {
    /// Time statuses are judged at (the latest data, or later during silence).
    pub now: Option<f64>,
    /// The latest data time.
    pub data_time: Option<f64>,
    pub clock: DataClock,
    pub assets: BTreeMap<String, AssetSnapshot>,
    pub alarms: Vec<AlarmSnapshot>,
    pub counters: TwinCounters,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetSnapshot {
    pub status: AssetStatus,
    /// The sensor that sets the colour.
    pub worst_sensor: Option<String>,
    pub iso_zone: Option<&'static str>,
    pub verdict: Option<&'static str>,
    pub health: Option<&'static str>,
    pub score: Option<f64>,
    pub why: String,
    pub velocity_mm_s: Option<f64>,
    pub last_update: Option<f64>,
    pub sensors: BTreeMap<String, SensorSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensorSnapshot {
    pub value: Option<f64>,
    pub level: Option<&'static str>,
    pub fresh: bool,
    pub last_t: Option<f64>,
    pub baseline_mm_s: Option<f64>,
    pub baseline_limit_mm_s: Option<f64>,
    pub problem: Option<String>,
    /// Why its source said it is gone, while it is.
    pub offline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmSnapshot {
    pub id: AlarmId,
    pub asset: String,
    pub severity: Severity,
    pub level: &'static str,
    pub raised_at: f64,
    pub cleared_at: Option<f64>,
    pub message: String,
    pub acknowledged: bool,
    pub acknowledged_by: Option<String>,
    pub active: bool,
}

impl TwinSnapshot {
    pub fn of(twin: &Twin) -> TwinSnapshot {
        let now = twin.now();
        let stale = twin.config().stale_after_s;
        let assets = twin
            .assets()
            .map(|asset| {
                let worst = asset.worst_sensor();
                let diagnosis = worst.and_then(|(_, s)| s.diagnosis.as_deref());
                let sensors = asset
                    .sensors
                    .iter()
                    .map(|(id, s)| {
                        let snapshot = SensorSnapshot {
                            value: s.value,
                            level: s.level.map(|z| z.letter()),
                            fresh: now.is_some_and(|now| s.fresh_at(now, stale)),
                            last_t: s.last_t,
                            baseline_mm_s: s.baseline.value_mm_s,
                            baseline_limit_mm_s: s.baseline_limit_mm_s,
                            problem: s.problem.clone(),
                            offline: s.offline.as_ref().map(|o| o.reason.clone()),
                        };
                        (id.clone(), snapshot)
                    })
                    .collect();
                let snapshot = AssetSnapshot {
                    status: twin.status(&asset.id),
                    worst_sensor: worst.map(|(id, _)| id.clone()),
                    iso_zone: worst.and_then(|(_, s)| s.iso_zone).map(|z| z.letter()),
                    verdict: diagnosis.map(|d| d.verdict.as_str()),
                    health: diagnosis.map(|d| d.health.as_str()),
                    score: diagnosis.and_then(|d| d.score),
                    // A source that said it is gone says more than the last data.
                    why: now
                        .and_then(|now| asset.offline_reason(now, stale))
                        .unwrap_or_else(|| asset.explanation()),
                    velocity_mm_s: asset.worst_velocity(),
                    last_update: asset.last_update(),
                    sensors,
                };
                (asset.id.clone(), snapshot)
            })
            .collect();
        let alarms = twin
            .alarms()
            .into_iter()
            .map(|a| AlarmSnapshot {
                id: a.id,
                asset: a.asset.clone(),
                severity: a.severity,
                level: a.level.letter(),
                raised_at: a.raised_at,
                cleared_at: a.cleared_at,
                message: a.message.clone(),
                acknowledged: twin.is_acknowledged(a.id),
                acknowledged_by: twin.acknowledged_by(a.id).map(str::to_owned),
                active: a.active(),
            })
            .collect();
        TwinSnapshot {
            now,
            data_time: twin.data_time(),
            clock: twin.clock().clone(),
            assets,
            alarms,
            counters: twin.counters(),
        }
    }
}
