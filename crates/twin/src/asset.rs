//! One asset's state as a fold over its observations, applied in data-time
//! order: the latest state of each sensor, the baselines, and the alarms.
//! Its level comes from the sensors that are judged: vibration (ISO zone and
//! diagnosis) and temperature in `degC` ([`crate::temperature`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use linetwin_core::diagnosis::Diagnosis;
use linetwin_core::iso::{self, Zone, ZoneBoundaries};
use linetwin_core::line::{Asset, AssetKind, Sensor, SensorKind};
use serde::Serialize;

use crate::alarm::{AlarmId, AlarmWatch};
use crate::baseline::Baseline;
use crate::level::{AssetStatus, combined_level};
use crate::observation::Observation;
use crate::temperature::TemperatureWatch;

/// The latest state of one sensor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensorView {
    pub kind: SensorKind,
    pub unit: String,
    /// The reading (scalars) or the ISO velocity r.m.s. in mm/s (vibration).
    pub value: Option<f64>,
    /// Colour level: the worse of the ISO zone and the fault diagnosis
    /// (vibration), or of the temperature rules (temperature in `degC`).
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
    /// The temperature rules, for a temperature sensor in `degC`.
    pub temperature: Option<TemperatureWatch>,
    /// How fast a cycle counter counts.
    pub count_rate: CountRate,
    /// Its source said it is gone, and has not reported since.
    pub offline: Option<OfflineSince>,
}

/// When and why a sensor's source said it is gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineSince {
    pub t: f64,
    pub reason: String,
}

/// The rate of a cumulative counter, measured over at least
/// [`CountRate::WINDOW_S`] of data time: counters report whole cycles, so the
/// difference between two neighbouring readings says little.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CountRate {
    anchor: Option<(f64, f64)>,
    /// Counts per second over the last whole window.
    pub per_s: Option<f64>,
}

impl CountRate {
    pub const WINDOW_S: f64 = 20.0;

    pub fn observe(&mut self, t: f64, count: f64) {
        match self.anchor {
            Some((t0, c0)) if count < c0 || t < t0 => {
                // Reset or replaced: the old count says nothing about the new.
                self.anchor = Some((t, count));
                self.per_s = None;
            }
            Some((t0, c0)) if t - t0 >= Self::WINDOW_S => {
                self.per_s = Some((count - c0) / (t - t0));
                self.anchor = Some((t, count));
            }
            Some(_) => {}
            None => self.anchor = Some((t, count)),
        }
    }
}

impl SensorView {
    fn new(sensor: &Sensor, asset_kind: AssetKind) -> Self {
        let temperature = match sensor.kind {
            SensorKind::Temperature => TemperatureWatch::for_unit(asset_kind, &sensor.unit),
            _ => None,
        };
        SensorView {
            kind: sensor.kind,
            unit: sensor.unit.clone(),
            value: None,
            level: None,
            iso_zone: None,
            diagnosis: None,
            baseline: Baseline::default(),
            baseline_limit_mm_s: None,
            shaft_rpm: None,
            last_t: None,
            problem: None,
            temperature,
            count_rate: CountRate::default(),
            offline: None,
        }
    }

    /// It reported within the stale limit before `t`, and its source has
    /// not said it is gone since.
    pub fn fresh_at(&self, t: f64, stale_after_s: f64) -> bool {
        let gone = self.offline.as_ref().is_some_and(|o| o.t <= t);
        !gone && self.last_t.is_some_and(|last| t - last <= stale_after_s)
    }

    /// Whether it has a say in the asset's level: vibration, and temperature
    /// in a unit the rules are written for. Speeds, currents, pressures and
    /// counters are shown, not judged.
    pub fn judged(&self) -> bool {
        self.kind == SensorKind::Vibration || self.temperature.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssetState {
    pub id: String,
    pub ordinal: usize,
    boundaries: ZoneBoundaries,
    pub sensors: BTreeMap<String, SensorView>,
    pub watch: AlarmWatch,
    /// The stale limit it was last judged with, so that [`Self::explanation`]
    /// leaves out what no longer counts without being told the limit again.
    stale_after_s: f64,
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
                .map(|s| (s.id.clone(), SensorView::new(s, asset.kind)))
                .collect(),
            watch: AlarmWatch::default(),
            stale_after_s: f64::INFINITY,
        }
    }

    /// Applies one observation of one of its sensors; returns the alarms it raised.
    pub fn apply(&mut self, observation: &Observation, stale_after_s: f64) -> Vec<AlarmId> {
        let t = observation.t();
        self.stale_after_s = stale_after_s;
        let boundaries = self.boundaries;
        let Some(sensor) = self.sensors.get_mut(observation.sensor()) else {
            return Vec::new();
        };
        match observation {
            Observation::Reading { value, .. } => {
                if sensor.kind == SensorKind::Vibration || !value.is_finite() {
                    return Vec::new();
                }
                sensor.value = Some(*value);
                sensor.last_t = Some(t);
                sensor.offline = None;
                if sensor.kind == SensorKind::Cycles {
                    sensor.count_rate.observe(t, *value);
                }
                let Some(rules) = sensor.temperature.as_mut() else {
                    return Vec::new();
                };
                sensor.level = rules.observe(*value).map(|j| j.level);
            }
            Observation::BlockFailed { problem, .. } => {
                sensor.problem = Some(problem.clone());
                return Vec::new();
            }
            Observation::Offline { reason, .. } => {
                sensor.offline = Some(OfflineSince {
                    t,
                    reason: reason.clone(),
                });
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
                sensor.offline = None;
                if let Some(v) = velocity {
                    sensor.baseline.learn(t, v);
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

    /// A vibration sensor's baseline restored from a record (`value_mm_s`)
    /// or to be learned afresh from the next blocks (`None`); false for a
    /// sensor that is not this asset's, not a vibration sensor, or a value
    /// that is not a velocity.
    pub fn set_baseline(
        &mut self,
        sensor: &str,
        t: f64,
        value_mm_s: Option<f64>,
        by: Option<&str>,
    ) -> bool {
        let boundaries = self.boundaries;
        let Some(view) = self.sensors.get_mut(sensor) else {
            return false;
        };
        if view.kind != SensorKind::Vibration {
            return false;
        }
        let changed = match value_mm_s {
            Some(value) => view.baseline.restore(value, t, by),
            None => {
                view.baseline.relearn(t, by);
                true
            }
        };
        view.baseline_limit_mm_s = view
            .baseline
            .value_mm_s
            .map(|b| boundaries.baseline_alarm(b));
        changed
    }

    /// Alarm decisions at data time `t`, from the sensors as they are.
    fn judge(&mut self, t: f64, stale_after_s: f64) -> Vec<AlarmId> {
        let mut raised = Vec::new();
        let level = self.status_at(t, stale_after_s).zone();
        // Out for a moment so the message can be written from the state only
        // when an alarm is raised: temperatures are judged every second.
        let mut watch = std::mem::take(&mut self.watch);
        let who = (self.id.as_str(), self.ordinal);
        let explain = || self.explanation_at(t, stale_after_s);
        if let Some(id) = watch.observe_level(who, level, t, explain) {
            raised.push(id);
        }
        self.watch = watch;
        let who = (self.id.as_str(), self.ordinal);
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

    /// Sensors with a say in the level ([`SensorView::judged`]).
    fn judged(&self) -> impl Iterator<Item = (&String, &SensorView)> {
        self.sensors.iter().filter(|(_, s)| s.judged())
    }

    /// The one rule: the worst level among fresh judged sensors (vibration
    /// and temperature); grey (stale) when none is fresh, `NoData` when none
    /// ever reported.
    pub fn status_at(&self, t: f64, stale_after_s: f64) -> AssetStatus {
        let worst = self
            .judged()
            .filter(|(_, s)| s.fresh_at(t, stale_after_s))
            .filter_map(|(_, s)| s.level)
            .max();
        match worst {
            Some(zone) => AssetStatus::Level(zone),
            None if self.judged().any(|(_, s)| s.last_t.is_some()) => AssetStatus::Stale,
            None => AssetStatus::NoData,
        }
    }

    /// Why its judged sensors went silent, when their source said so
    /// (`None` while any judged sensor is fresh at `t`).
    pub fn offline_reason(&self, t: f64, stale_after_s: f64) -> Option<String> {
        if self.judged().any(|(_, s)| s.fresh_at(t, stale_after_s)) {
            return None;
        }
        let mut reasons: Vec<&str> = self
            .judged()
            .filter_map(|(_, s)| s.offline.as_ref())
            .filter(|o| o.t <= t)
            .map(|o| o.reason.as_str())
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        (!reasons.is_empty()).then(|| reasons.join("; "))
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

    /// The vibration sensor with the worst level, then the highest velocity:
    /// the one whose diagnosis describes the asset. A temperature that sets
    /// the colour is named by [`Self::explanation`].
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

    /// One line on why the asset has its colour, as of its latest data.
    pub fn explanation(&self) -> String {
        let t = self.last_update().unwrap_or(f64::NEG_INFINITY);
        self.explanation_at(t, self.stale_after_s)
    }

    /// Why the asset has its colour at data time `t`, worst reason first:
    /// its worst vibration sensor, and every fresh temperature at C or D
    /// (a normal temperature is named only when there is no vibration).
    pub fn explanation_at(&self, t: f64, stale_after_s: f64) -> String {
        let vibration = self.vibration_reason();
        // (level, vibration before temperature at the same level, text)
        let mut reasons: Vec<(Zone, u8, String)> = Vec::new();
        if let Some((level, text)) = &vibration {
            reasons.push((*level, 0, text.clone()));
        }
        for (id, sensor) in &self.sensors {
            let Some(rules) = &sensor.temperature else {
                continue;
            };
            let (Some(judgement), Some(text)) = (rules.latest, rules.reason(id)) else {
                continue;
            };
            if sensor.fresh_at(t, stale_after_s)
                && (judgement.level >= Zone::C || vibration.is_none())
            {
                reasons.push((judgement.level, 1, text));
            }
        }
        reasons.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut parts: Vec<String> = reasons.into_iter().map(|(_, _, text)| text).collect();
        if vibration.is_none() {
            parts.push("no vibration data".to_owned());
        }
        if self.suspects_lubrication() {
            parts.push("heat without a defect tone: suspect lubrication".to_owned());
        }
        parts.join("; ")
    }

    /// A temperature risen well above its own baseline while the vibration
    /// diagnosis names no defect: the pattern of a starved lubricant film
    /// (friction heats before anything is damaged enough to ring).
    pub fn suspects_lubrication(&self) -> bool {
        let heating = self.sensors.values().any(|s| {
            s.temperature
                .as_ref()
                .and_then(|w| w.latest)
                .is_some_and(|j| {
                    j.level >= Zone::C
                        && matches!(
                            j.rule,
                            crate::temperature::TemperatureRule::AboveBaseline { .. }
                        )
                })
        });
        let diagnosed: Vec<_> = self
            .vibration()
            .filter_map(|(_, s)| s.diagnosis.as_deref())
            .collect();
        heating && !diagnosed.is_empty() && diagnosed.iter().all(|d| !d.verdict.is_fault())
    }

    /// The worst vibration sensor's level and its reason.
    fn vibration_reason(&self) -> Option<(Zone, String)> {
        let (id, sensor) = self.worst_sensor()?;
        let level = sensor.level?;
        let velocity = sensor
            .value
            .map_or(String::new(), |v| format!("{v:.2} mm/s"));
        let iso = sensor
            .iso_zone
            .map_or(String::new(), |z| format!(" (ISO zone {})", z.letter()));
        let text = match sensor.diagnosis.as_deref() {
            Some(d) if d.verdict.is_fault() => format!(
                "{id}: {} diagnosed, {}; {velocity}{iso}",
                d.verdict.label(),
                d.health.label()
            ),
            _ => format!("{id}: {velocity}{iso}"),
        };
        Some((level, text))
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

#[cfg(test)]
mod count_rate_tests {
    use super::CountRate;

    #[test]
    fn a_counter_rate_is_measured_over_a_window_and_forgotten_on_reset() {
        let mut rate = CountRate::default();
        for second in 0..=20 {
            rate.observe(f64::from(second), (f64::from(second) / 4.0).floor());
        }
        assert_eq!(rate.per_s, Some(5.0 / 20.0));
        rate.observe(21.0, 0.0);
        assert_eq!(rate.per_s, None, "a reset says nothing about the rate");
        for second in 22..=41 {
            rate.observe(f64::from(second), 0.0);
        }
        assert_eq!(rate.per_s, Some(0.0), "a counter that stands still");
    }
}
