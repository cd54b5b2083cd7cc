//! One asset's state as a fold over its observations, applied in data-time
//! order: the latest state of each sensor, the baseline, and the alarms.

use std::collections::BTreeMap;
use std::sync::Arc;

use linetwin_core::diagnosis::Diagnosis;
use linetwin_core::iso::{self, Zone, ZoneBoundaries};
use linetwin_core::line::{Asset, SensorKind};
use serde::Serialize;

use crate::alarm::{AlarmId, AlarmWatch};
use crate::baseline::Baseline;
use crate::level::{AssetStatus, combined_level};
use crate::observation::Observation;

/// The latest state of one sensor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensorView {
    pub kind: SensorKind,
    pub unit: String,
    /// The reading (scalars) or the ISO velocity r.m.s. in mm/s (vibration).
    pub value: Option<f64>,
    /// Colour level: the worse of the ISO zone and the fault diagnosis.
    pub level: Option<Zone>,
    /// The ISO 20816-3 zone of the velocity alone.
    pub iso_zone: Option<Zone>,
    #[serde(skip)]
    pub diagnosis: Option<Arc<Diagnosis>>,
    pub baseline: Baseline,
    /// The baseline-change limit, once a baseline is known.
    pub baseline_limit_mm_s: Option<f64>,
    pub shaft_rpm: Option<f64>,
    /// Data time of its latest observation.
    pub last_t: Option<f64>,
    /// Why its latest block could not be judged.
    pub problem: Option<String>,
}

impl SensorView {
    fn new(kind: SensorKind, unit: &str) -> Self {
        SensorView {
            kind,
            unit: unit.to_owned(),
            value: None,
            level: None,
            iso_zone: None,
            diagnosis: None,
            baseline: Baseline::default(),
            baseline_limit_mm_s: None,
            shaft_rpm: None,
            last_t: None,
            problem: None,
        }
    }

    pub fn fresh_at(&self, t: f64, stale_after_s: f64) -> bool {
        self.last_t.is_some_and(|last| t - last <= stale_after_s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssetState {
    pub id: String,
    pub ordinal: usize,
    boundaries: ZoneBoundaries,
    pub sensors: BTreeMap<String, SensorView>,
    pub watch: AlarmWatch,
}

impl AssetState {
    pub fn new(asset: &Asset, ordinal: usize) -> Self {
        AssetState {
            id: asset.id.clone(),
            ordinal,
            boundaries: iso::boundaries(asset.iso.group, asset.iso.support),
            sensors: asset
                .sensors
                .iter()
                .map(|s| (s.id.clone(), SensorView::new(s.kind, &s.unit)))
                .collect(),
            watch: AlarmWatch::default(),
        }
    }

    /// Applies one observation of one of its sensors; returns the alarms it raised.
    pub fn apply(&mut self, observation: &Observation, stale_after_s: f64) -> Vec<AlarmId> {
        let t = observation.t();
        let boundaries = self.boundaries;
        let Some(sensor) = self.sensors.get_mut(observation.sensor()) else {
            return Vec::new();
        };
        match observation {
            Observation::Reading { value, .. } => {
                if sensor.kind != SensorKind::Vibration && value.is_finite() {
                    sensor.value = Some(*value);
                    sensor.last_t = Some(t);
                }
                return Vec::new();
            }
            Observation::BlockFailed { problem, .. } => {
                sensor.problem = Some(problem.clone());
                return Vec::new();
            }
            Observation::Block(block) => {
                let diagnosis = &block.diagnosis;
                let velocity = diagnosis.velocity.as_ref().map(|v| v.rms_mm_s);
                sensor.iso_zone = diagnosis.velocity.as_ref().and_then(|v| v.zone);
                sensor.level = combined_level(sensor.iso_zone, Some(diagnosis.health));
                sensor.value = velocity;
                sensor.shaft_rpm = Some(block.shaft_rpm);
                sensor.last_t = Some(t);
                sensor.problem = None;
                if let Some(v) = velocity {
                    sensor.baseline.learn(v);
                    sensor.baseline_limit_mm_s = sensor
                        .baseline
                        .value_mm_s
                        .map(|b| boundaries.baseline_alarm(b));
                }
                sensor.diagnosis = Some(Arc::clone(diagnosis));
            }
        }
        self.judge(t, stale_after_s)
    }

    /// Alarm decisions at data time `t`, from the sensors as they are.
    fn judge(&mut self, t: f64, stale_after_s: f64) -> Vec<AlarmId> {
        let mut raised = Vec::new();
        let level = self.status_at(t, stale_after_s).zone();
        let who = (self.id.as_str(), self.ordinal);
        let explanation = self.explanation();
        if let Some(id) = self.watch.observe_level(who, level, t, || explanation) {
            raised.push(id);
        }
        let above = self.above_baseline(t, stale_after_s);
        let message = || match &above {
            Some((sensor, v, limit)) => format!(
                "{sensor}: {v:.2} mm/s is above its baseline-change limit {limit:.2} mm/s (ISO 20816-3: baseline + 25 % of B/C)"
            ),
            None => String::new(),
        };
        if let Some(id) =
            self.watch
                .observe_baseline(who, above.is_some(), level.unwrap_or(Zone::A), t, message)
        {
            raised.push(id);
        }
        raised
    }

    fn vibration(&self) -> impl Iterator<Item = (&String, &SensorView)> {
        self.sensors
            .iter()
            .filter(|(_, s)| s.kind == SensorKind::Vibration)
    }

    /// The one rule: the worst level among fresh vibration sensors; grey
    /// (stale) when none is fresh, `NoData` when none ever reported.
    pub fn status_at(&self, t: f64, stale_after_s: f64) -> AssetStatus {
        let worst = self
            .vibration()
            .filter(|(_, s)| s.fresh_at(t, stale_after_s))
            .filter_map(|(_, s)| s.level)
            .max();
        match worst {
            Some(zone) => AssetStatus::Level(zone),
            None if self.vibration().any(|(_, s)| s.last_t.is_some()) => AssetStatus::Stale,
            None => AssetStatus::NoData,
        }
    }

    /// A fresh vibration sensor above its baseline-change limit: (sensor, velocity, limit).
    pub fn above_baseline(&self, t: f64, stale_after_s: f64) -> Option<(String, f64, f64)> {
        self.vibration()
            .find_map(|(id, s)| match (s.value, s.baseline_limit_mm_s) {
                (Some(v), Some(limit)) if s.fresh_at(t, stale_after_s) && v > limit => {
                    Some((id.clone(), v, limit))
                }
                _ => None,
            })
    }

    /// The vibration sensor that sets the colour (worst level, then highest velocity).
    pub fn worst_sensor(&self) -> Option<(&String, &SensorView)> {
        self.vibration()
            .filter(|(_, s)| s.level.is_some())
            .max_by(|a, b| {
                a.1.level.cmp(&b.1.level).then(
                    a.1.value
                        .unwrap_or(0.0)
                        .total_cmp(&b.1.value.unwrap_or(0.0)),
                )
            })
    }

    /// One line on why the asset has its colour, from its worst sensor.
    pub fn explanation(&self) -> String {
        let Some((id, sensor)) = self.worst_sensor() else {
            return "no vibration data".to_owned();
        };
        let velocity = sensor
            .value
            .map_or(String::new(), |v| format!("{v:.2} mm/s"));
        let iso = sensor
            .iso_zone
            .map_or(String::new(), |z| format!(" (ISO zone {})", z.letter()));
        match sensor.diagnosis.as_deref() {
            Some(d) if d.verdict.mode().is_some() => format!(
                "{id}: {} diagnosed, {}; {velocity}{iso}",
                d.verdict.label(),
                d.health.label()
            ),
            _ => format!("{id}: {velocity}{iso}"),
        }
    }

    /// Highest velocity among its vibration sensors, mm/s.
    pub fn worst_velocity(&self) -> Option<f64> {
        self.vibration()
            .filter_map(|(_, s)| s.value)
            .max_by(f64::total_cmp)
    }

    pub fn last_update(&self) -> Option<f64> {
        self.sensors
            .values()
            .filter_map(|s| s.last_t)
            .max_by(f64::total_cmp)
    }
}
