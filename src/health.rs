//! Health of every asset, computed here in the browser from the stream: the
//! velocity r.m.s. of each vibration block in the ISO band, its ISO 20816-3
//! zone, the latest scalar readings, and whether the data is fresh.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bevy::platform::time::Instant;
use bevy::prelude::*;
use linetwin_core::diagnosis::{
    Diagnoser, Diagnosis, DiagnosisInput, DiagnosisSpectra, HealthState,
};
use linetwin_core::dsp::acceleration_scale;
use linetwin_core::iso::{self, Zone};
use linetwin_core::line::{Line, SensorKind};
use linetwin_core::protocol::WaveformBlock;

use crate::line_source::LineDescription;
use crate::stream::{ReadingsReceived, WaveformReceived};

/// Data older than this no longer describes the machine: the asset turns grey.
/// Waveforms come every few seconds, so this spans several missed blocks.
pub const STALE_AFTER: Duration = Duration::from_secs(15);

/// Diagnosis work allowed in one frame: a share of the last frame's time,
/// within bounds. Blocks beyond it wait for the next frame, so rendering keeps
/// its pace however many arrive at once; on a device whose frames are slow
/// anyway (software rendering), more work fits in each.
pub fn diagnosis_budget(last_frame: Duration) -> Duration {
    last_frame
        .mul_f64(0.3)
        .clamp(Duration::from_millis(8), Duration::from_millis(50))
}

/// Points kept per trend: two hours at one block every 2 s... within reason.
const TREND_POINTS: usize = 3600;

/// Colour level from the ISO zone and the fault diagnosis: the worse wins.
/// A diagnosed fault asks for planned maintenance (at least C); failure is D.
/// An unjudgeable block (check function) neither raises nor lowers it.
pub fn combined_level(iso_zone: Option<Zone>, health: Option<HealthState>) -> Option<Zone> {
    let from_fault = match health {
        Some(HealthState::MaintenanceRequired | HealthState::OutOfSpecification) => Some(Zone::C),
        Some(HealthState::Failure) => Some(Zone::D),
        Some(HealthState::Normal | HealthState::CheckFunction) | None => None,
    };
    match (iso_zone, from_fault) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Blocks whose median velocity becomes a sensor's baseline.
pub const BASELINE_BLOCKS: usize = 10;

/// The machine's own normal level, learned from its first blocks in this
/// session, for ISO 20816-3's baseline-change rule: a rise of a quarter of
/// the B/C boundary above it deserves attention even inside zone B.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    learning: Vec<f64>,
    pub value_mm_s: Option<f64>,
}

impl Baseline {
    pub fn learn(&mut self, velocity_mm_s: f64) {
        if self.value_mm_s.is_some() || !velocity_mm_s.is_finite() {
            return;
        }
        self.learning.push(velocity_mm_s);
        if self.learning.len() == BASELINE_BLOCKS {
            self.learning.sort_by(f64::total_cmp);
            self.value_mm_s = Some(self.learning[BASELINE_BLOCKS / 2]);
            self.learning = Vec::new();
        }
    }
}

/// One point of a sensor's trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    pub t: f64,
    /// Velocity r.m.s. (vibration) or the reading (scalars).
    pub value: f64,
    pub kurtosis: Option<f64>,
}

/// How an asset is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthStatus {
    NoData,
    Stale,
    Zone(Zone),
}

impl HealthStatus {
    pub fn label(self) -> &'static str {
        match self {
            HealthStatus::NoData => "no data",
            HealthStatus::Stale => "stale",
            HealthStatus::Zone(zone) => zone.letter(),
        }
    }

    pub fn colour(self) -> Color {
        match self {
            HealthStatus::NoData | HealthStatus::Stale => Color::srgb(0.55, 0.57, 0.6),
            HealthStatus::Zone(Zone::A) => Color::srgb(0.16, 0.68, 0.32),
            HealthStatus::Zone(Zone::B) => Color::srgb(0.93, 0.80, 0.18),
            HealthStatus::Zone(Zone::C) => Color::srgb(0.96, 0.50, 0.10),
            HealthStatus::Zone(Zone::D) => Color::srgb(0.86, 0.13, 0.11),
        }
    }
}

/// Latest state of one sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorState {
    pub kind: SensorKind,
    pub unit: String,
    /// The reading (scalars) or the ISO velocity r.m.s. in mm/s (vibration).
    pub value: Option<f64>,
    /// Colour level: worst of the ISO zone and the fault diagnosis.
    pub zone: Option<Zone>,
    /// The ISO 20816-3 zone of the velocity alone.
    pub iso_zone: Option<Zone>,
    pub diagnosis: Option<Arc<Diagnosis>>,
    pub spectra: Option<Arc<DiagnosisSpectra>>,
    /// The last block, for the inspector's waveform plot.
    pub waveform: Option<Arc<[f32]>>,
    pub waveform_rate_hz: f64,
    pub trend: VecDeque<TrendPoint>,
    pub baseline: Baseline,
    /// The baseline-change limit, once a baseline is known.
    pub baseline_limit_mm_s: Option<f64>,
    pub shaft_rpm: Option<f64>,
    /// `Time<Real>` seconds when it last changed.
    pub updated_at: Option<f64>,
    /// Why there is no value, when there is none.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssetHealth {
    pub sensors: BTreeMap<String, SensorState>,
    /// Status as last published; changes are announced as [`ZoneChanged`].
    pub status: HealthStatus,
}

impl SensorState {
    pub fn new(kind: SensorKind, unit: &str) -> Self {
        SensorState {
            kind,
            unit: unit.to_owned(),
            value: None,
            zone: None,
            iso_zone: None,
            diagnosis: None,
            spectra: None,
            waveform: None,
            waveform_rate_hz: 0.0,
            trend: VecDeque::new(),
            baseline: Baseline::default(),
            baseline_limit_mm_s: None,
            shaft_rpm: None,
            updated_at: None,
            problem: None,
        }
    }

    fn push_trend(&mut self, point: TrendPoint) {
        if self.trend.len() == TREND_POINTS {
            self.trend.pop_front();
        }
        self.trend.push_back(point);
    }
}

impl AssetHealth {
    /// One line on why the asset has its colour, from its worst sensor.
    pub fn explanation(&self) -> String {
        let worst = self
            .sensors
            .iter()
            .filter(|(_, s)| s.kind == SensorKind::Vibration && s.zone.is_some())
            .max_by_key(|(_, s)| s.zone);
        let Some((id, sensor)) = worst else {
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

    /// Worst zone of the fresh vibration sensors; grey when none is fresh.
    pub fn evaluate(&self, now: f64) -> HealthStatus {
        let vibration = || {
            self.sensors
                .values()
                .filter(|s| s.kind == SensorKind::Vibration)
        };
        let fresh = |s: &&SensorState| {
            s.updated_at
                .is_some_and(|t| now - t <= STALE_AFTER.as_secs_f64())
        };
        if let Some(worst) = vibration().filter(fresh).filter_map(|s| s.zone).max() {
            HealthStatus::Zone(worst)
        } else if vibration().any(|s| s.updated_at.is_some()) {
            HealthStatus::Stale
        } else {
            HealthStatus::NoData
        }
    }

    /// A fresh sensor above its baseline-change limit: (sensor, velocity, limit).
    pub fn above_baseline(&self, now: f64) -> Option<(&str, f64, f64)> {
        self.sensors.iter().find_map(|(id, s)| {
            let fresh = s
                .updated_at
                .is_some_and(|t| now - t <= STALE_AFTER.as_secs_f64());
            match (s.value, s.baseline_limit_mm_s) {
                (Some(v), Some(limit)) if fresh && s.kind == SensorKind::Vibration && v > limit => {
                    Some((id.as_str(), v, limit))
                }
                _ => None,
            }
        })
    }

    /// Highest velocity among its vibration sensors, mm/s.
    pub fn worst_velocity(&self) -> Option<f64> {
        self.sensors
            .values()
            .filter(|s| s.kind == SensorKind::Vibration)
            .filter_map(|s| s.value)
            .max_by(f64::total_cmp)
    }

    pub fn last_update(&self) -> Option<f64> {
        self.sensors
            .values()
            .filter_map(|s| s.updated_at)
            .max_by(f64::total_cmp)
    }
}

/// Health of the whole line, keyed by asset id.
#[derive(Resource, Debug, Default)]
pub struct LineHealth {
    pub assets: BTreeMap<String, AssetHealth>,
    sensor_owner: HashMap<String, String>,
}

impl LineHealth {
    pub fn for_line(line: &Line) -> Self {
        let mut health = LineHealth::default();
        for asset in &line.assets {
            let sensors = asset
                .sensors
                .iter()
                .map(|s| {
                    let state = SensorState::new(s.kind, &s.unit);
                    (s.id.clone(), state)
                })
                .collect();
            for sensor in &asset.sensors {
                health
                    .sensor_owner
                    .insert(sensor.id.clone(), asset.id.clone());
            }
            health.assets.insert(
                asset.id.clone(),
                AssetHealth {
                    sensors,
                    status: HealthStatus::NoData,
                },
            );
        }
        health
    }

    fn sensor_mut(&mut self, sensor: &str) -> Option<&mut SensorState> {
        let asset = self.sensor_owner.get(sensor)?;
        self.assets.get_mut(asset)?.sensors.get_mut(sensor)
    }
}

/// An asset's status changed (for the alarm list, the page's events...).
#[derive(Message, Debug, Clone, PartialEq)]
pub struct ZoneChanged {
    pub asset: String,
    pub from: HealthStatus,
    pub to: HealthStatus,
    pub velocity_mm_s: Option<f64>,
}

/// Blocks waiting for diagnosis, newest per sensor: when blocks come faster
/// than they can be diagnosed, older ones are dropped, never queued up.
#[derive(Resource, Default)]
pub struct PendingBlocks {
    order: VecDeque<String>,
    latest: HashMap<String, WaveformBlock>,
}

impl PendingBlocks {
    /// Queues a block; returns true when it replaced one not yet diagnosed.
    pub fn push(&mut self, block: WaveformBlock) -> bool {
        let sensor = block.sensor.clone();
        let replaced = self.latest.insert(sensor.clone(), block).is_some();
        if !replaced {
            self.order.push_back(sensor);
        }
        replaced
    }

    pub fn pop(&mut self) -> Option<WaveformBlock> {
        let sensor = self.order.pop_front()?;
        self.latest.remove(&sensor)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// What the in-browser diagnosis has done, for the benchmark and `state()`.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct DiagnosisStats {
    pub blocks: u64,
    pub samples: u64,
    /// Seconds spent diagnosing.
    pub busy_s: f64,
    pub slowest_block_ms: f64,
    /// Blocks replaced by a newer one before their turn.
    pub superseded: u64,
}

#[derive(Resource, Default)]
struct Engine(Diagnoser);

/// Health systems, so others can run after them.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthSet;

pub struct HealthPlugin;

impl Plugin for HealthPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LineHealth>()
            .init_resource::<Engine>()
            .init_resource::<PendingBlocks>()
            .init_resource::<DiagnosisStats>()
            .add_message::<ZoneChanged>()
            .add_systems(
                Update,
                (
                    reset_for_line.run_if(resource_added::<LineDescription>),
                    (
                        record_readings,
                        queue_waveforms,
                        diagnose_pending,
                        publish_status,
                    )
                        .chain(),
                )
                    .chain()
                    .in_set(HealthSet),
            );
    }
}

fn reset_for_line(line: Res<LineDescription>, mut health: ResMut<LineHealth>) {
    *health = LineHealth::for_line(&line.0);
}

fn record_readings(
    mut incoming: MessageReader<ReadingsReceived>,
    mut health: ResMut<LineHealth>,
    time: Res<Time<Real>>,
) {
    let now = time.elapsed_secs_f64();
    for message in incoming.read() {
        for reading in &message.values {
            if let Some(sensor) = health.sensor_mut(&reading.sensor)
                && sensor.kind != SensorKind::Vibration
                && reading.value.is_finite()
            {
                sensor.value = Some(reading.value);
                sensor.updated_at = Some(now);
                sensor.push_trend(TrendPoint {
                    t: now,
                    value: reading.value,
                    kurtosis: None,
                });
            }
        }
    }
}

/// Diagnoses one block of a sensor of the line: ISO velocity and zone, time
/// indicators, envelope analysis against the bearing's defect frequencies.
pub fn diagnose_block(
    diagnoser: &mut Diagnoser,
    block: &WaveformBlock,
    asset: &linetwin_core::line::Asset,
    sensor: &linetwin_core::line::Sensor,
) -> Result<(Diagnosis, DiagnosisSpectra), String> {
    let scale = acceleration_scale(&sensor.unit).ok_or_else(|| {
        format!(
            "unit `{}` is not an acceleration unit this viewer knows",
            sensor.unit
        )
    })?;
    let sample_rate_hz = f64::from(block.sample_rate_hz);
    if sample_rate_hz < 2.0 * iso::BAND_HIGH_HZ {
        return Err(format!(
            "{sample_rate_hz} Hz sampling cannot see the ISO band up to 1 kHz"
        ));
    }
    if block.samples.len() < 1024 {
        return Err(format!(
            "a block of {} samples is too short for a spectrum",
            block.samples.len()
        ));
    }
    let shaft_rpm = block
        .shaft_rpm
        .map_or(f64::from(sensor.shaft_rpm(asset)), f64::from);
    let mut input = DiagnosisInput::new(&block.samples, sample_rate_hz, shaft_rpm)
        .with_unit_scale(scale)
        .with_iso(asset.iso.group, asset.iso.support);
    if let Some(bearing) = &sensor.bearing {
        input = input.with_bearing(bearing);
    }
    Ok(diagnoser.diagnose_with_spectra(&input))
}

fn queue_waveforms(
    mut incoming: MessageReader<WaveformReceived>,
    mut pending: ResMut<PendingBlocks>,
    mut stats: ResMut<DiagnosisStats>,
    line: Option<Res<LineDescription>>,
) {
    if line.is_none() {
        incoming.clear();
        return;
    }
    for WaveformReceived(block) in incoming.read() {
        if pending.push(block.clone()) {
            stats.superseded += 1;
        }
    }
}

fn diagnose_pending(
    mut pending: ResMut<PendingBlocks>,
    mut engine: ResMut<Engine>,
    mut health: ResMut<LineHealth>,
    mut stats: ResMut<DiagnosisStats>,
    line: Option<Res<LineDescription>>,
    time: Res<Time<Real>>,
) {
    let Some(line) = line else { return };
    let now = time.elapsed_secs_f64();
    let budget = diagnosis_budget(time.delta());
    let frame_start = Instant::now();
    // At least one block per frame, so a slow device still makes progress.
    while let Some(block) = pending.pop() {
        let Some((asset, sensor)) = line.0.sensor(&block.sensor) else {
            continue;
        };
        if sensor.kind != SensorKind::Vibration {
            continue;
        }
        let started = Instant::now();
        let diagnosed = diagnose_block(&mut engine.0, &block, asset, sensor);
        let seconds = started.elapsed().as_secs_f64();
        stats.blocks += 1;
        stats.samples += block.samples.len() as u64;
        stats.busy_s += seconds;
        stats.slowest_block_ms = stats.slowest_block_ms.max(seconds * 1000.0);
        let Some(state) = health.sensor_mut(&block.sensor) else {
            continue;
        };
        state.shaft_rpm = Some(
            block
                .shaft_rpm
                .map_or(f64::from(sensor.shaft_rpm(asset)), f64::from),
        );
        match diagnosed {
            Ok((diagnosis, spectra)) => {
                let velocity = diagnosis.velocity.as_ref().map(|v| v.rms_mm_s);
                state.iso_zone = diagnosis.velocity.as_ref().and_then(|v| v.zone);
                state.zone = combined_level(state.iso_zone, Some(diagnosis.health));
                state.value = velocity;
                state.updated_at = Some(now);
                state.problem = None;
                if let Some(v) = velocity {
                    state.baseline.learn(v);
                    let boundaries = iso::boundaries(asset.iso.group, asset.iso.support);
                    state.baseline_limit_mm_s = state
                        .baseline
                        .value_mm_s
                        .map(|b| boundaries.baseline_alarm(b));
                    state.push_trend(TrendPoint {
                        t: now,
                        value: v,
                        kurtosis: diagnosis.indicators.as_ref().map(|i| i.kurtosis),
                    });
                }
                state.diagnosis = Some(Arc::new(diagnosis));
                state.spectra = Some(Arc::new(spectra));
                state.waveform = Some(block.samples.into());
                state.waveform_rate_hz = f64::from(block.sample_rate_hz);
            }
            Err(problem) => state.problem = Some(problem),
        }
        if frame_start.elapsed() >= budget {
            break;
        }
    }
}

fn publish_status(
    mut health: ResMut<LineHealth>,
    time: Res<Time<Real>>,
    mut changes: MessageWriter<ZoneChanged>,
) {
    let now = time.elapsed_secs_f64();
    for (id, asset) in &mut health.assets {
        let status = asset.evaluate(now);
        if status != asset.status {
            changes.write(ZoneChanged {
                asset: id.clone(),
                from: asset.status,
                to: status,
                velocity_mm_s: asset.worst_velocity(),
            });
            asset.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vibration(zone: Option<Zone>, updated_at: Option<f64>) -> SensorState {
        SensorState {
            value: zone.map(|_| 1.0),
            zone,
            updated_at,
            ..SensorState::new(SensorKind::Vibration, "g")
        }
    }

    fn asset(sensors: Vec<SensorState>) -> AssetHealth {
        AssetHealth {
            sensors: sensors
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("s{i}"), s))
                .collect(),
            status: HealthStatus::NoData,
        }
    }

    #[test]
    fn worst_fresh_zone_wins() {
        let a = asset(vec![
            vibration(Some(Zone::A), Some(10.0)),
            vibration(Some(Zone::C), Some(9.0)),
        ]);
        assert_eq!(a.evaluate(12.0), HealthStatus::Zone(Zone::C));
    }

    #[test]
    fn stale_sensors_do_not_count_and_all_stale_is_grey() {
        let a = asset(vec![
            vibration(Some(Zone::A), Some(100.0)),
            vibration(Some(Zone::D), Some(10.0)),
        ]);
        assert_eq!(a.evaluate(101.0), HealthStatus::Zone(Zone::A));
        assert_eq!(a.evaluate(200.0), HealthStatus::Stale);
        assert_eq!(
            asset(vec![vibration(None, None)]).evaluate(0.0),
            HealthStatus::NoData
        );
    }

    #[test]
    fn grey_is_distinct_from_every_zone_colour() {
        let grey = HealthStatus::Stale.colour();
        for zone in [Zone::A, Zone::B, Zone::C, Zone::D] {
            assert_ne!(HealthStatus::Zone(zone).colour(), grey);
        }
    }

    #[test]
    fn a_diagnosed_fault_lifts_the_colour_to_at_least_c() {
        assert_eq!(
            combined_level(Some(Zone::A), Some(HealthState::Normal)),
            Some(Zone::A)
        );
        assert_eq!(
            combined_level(Some(Zone::B), Some(HealthState::MaintenanceRequired)),
            Some(Zone::C)
        );
        assert_eq!(
            combined_level(Some(Zone::D), Some(HealthState::MaintenanceRequired)),
            Some(Zone::D)
        );
        assert_eq!(
            combined_level(Some(Zone::A), Some(HealthState::Failure)),
            Some(Zone::D)
        );
        assert_eq!(
            combined_level(Some(Zone::B), Some(HealthState::CheckFunction)),
            Some(Zone::B)
        );
        assert_eq!(
            combined_level(None, Some(HealthState::OutOfSpecification)),
            Some(Zone::C)
        );
        assert_eq!(combined_level(None, None), None);
    }

    #[test]
    fn the_budget_follows_the_frame_rate_within_bounds() {
        assert_eq!(
            diagnosis_budget(Duration::from_millis(16)),
            Duration::from_millis(8)
        );
        assert_eq!(
            diagnosis_budget(Duration::from_millis(100)),
            Duration::from_millis(30)
        );
        assert_eq!(
            diagnosis_budget(Duration::from_secs(2)),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn baseline_is_the_median_of_the_first_blocks_then_stays() {
        let mut baseline = Baseline::default();
        for v in [1.0, 9.0, 1.1, 0.9, 1.2, 1.0, 0.8, 1.05, 0.95, 1.0] {
            assert_eq!(baseline.value_mm_s, None);
            baseline.learn(v);
        }
        assert_eq!(
            baseline.value_mm_s,
            Some(1.0),
            "one outlier does not move it"
        );
        baseline.learn(50.0);
        assert_eq!(baseline.value_mm_s, Some(1.0));
    }

    #[test]
    fn newer_blocks_replace_waiting_ones() {
        let block = |sensor: &str, t: f64| WaveformBlock {
            sensor: sensor.into(),
            t_start: t,
            sample_rate_hz: 1.0,
            shaft_rpm: None,
            samples: vec![],
        };
        let mut pending = PendingBlocks::default();
        assert!(!pending.push(block("a", 1.0)));
        assert!(!pending.push(block("b", 1.0)));
        assert!(pending.push(block("a", 2.0)));
        assert_eq!(pending.len(), 2);
        let first = pending.pop().unwrap();
        assert_eq!((first.sensor.as_str(), first.t_start), ("a", 2.0));
        assert_eq!(pending.pop().unwrap().sensor, "b");
        assert!(pending.is_empty());
    }

    #[test]
    fn blocks_the_viewer_cannot_judge_are_explained() {
        let line = Line::from_json("demo.json", include_str!("../assets/lines/demo.json")).unwrap();
        let (asset, sensor) = line.sensor("M1-DE-V").unwrap();
        let mut diagnoser = Diagnoser::new();
        let block = |rate: f32, n: usize| WaveformBlock {
            sensor: "M1-DE-V".into(),
            t_start: 0.0,
            sample_rate_hz: rate,
            shaft_rpm: None,
            samples: vec![0.0; n],
        };
        assert!(
            diagnose_block(&mut diagnoser, &block(1000.0, 4096), asset, sensor)
                .unwrap_err()
                .contains("1 kHz")
        );
        assert!(
            diagnose_block(&mut diagnoser, &block(12_800.0, 100), asset, sensor)
                .unwrap_err()
                .contains("too short")
        );
        let mut odd = sensor.clone();
        odd.unit = "psi".into();
        assert!(
            diagnose_block(&mut diagnoser, &block(12_800.0, 4096), asset, &odd)
                .unwrap_err()
                .contains("psi")
        );
    }
}
