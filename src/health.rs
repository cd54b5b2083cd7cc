//! Health of every asset, computed here in the browser from the stream: the
//! velocity r.m.s. of each vibration block in the ISO band, its ISO 20816-3
//! zone, the latest scalar readings, and whether the data is fresh.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bevy::prelude::*;
use linetwin_core::dsp::{FftCache, acceleration_scale, velocity_rms_mm_s};
use linetwin_core::iso::{self, Zone};
use linetwin_core::line::{Line, SensorKind};

use crate::line_source::LineDescription;
use crate::stream::{ReadingsReceived, WaveformReceived};

/// Data older than this no longer describes the machine: the asset turns grey.
/// Waveforms come every few seconds, so this spans several missed blocks.
pub const STALE_AFTER: Duration = Duration::from_secs(15);

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
    pub zone: Option<Zone>,
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

impl AssetHealth {
    /// Worst zone of the fresh vibration sensors; grey when none is fresh.
    pub fn evaluate(&self, now: f64) -> HealthStatus {
        let vibration = || self.sensors.values().filter(|s| s.kind == SensorKind::Vibration);
        let fresh = |s: &&SensorState| s.updated_at.is_some_and(|t| now - t <= STALE_AFTER.as_secs_f64());
        if let Some(worst) = vibration().filter(fresh).filter_map(|s| s.zone).max() {
            HealthStatus::Zone(worst)
        } else if vibration().any(|s| s.updated_at.is_some()) {
            HealthStatus::Stale
        } else {
            HealthStatus::NoData
        }
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
        self.sensors.values().filter_map(|s| s.updated_at).max_by(f64::total_cmp)
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
                    let state = SensorState {
                        kind: s.kind,
                        unit: s.unit.clone(),
                        value: None,
                        zone: None,
                        shaft_rpm: None,
                        updated_at: None,
                        problem: None,
                    };
                    (s.id.clone(), state)
                })
                .collect();
            for sensor in &asset.sensors {
                health.sensor_owner.insert(sensor.id.clone(), asset.id.clone());
            }
            health.assets.insert(asset.id.clone(), AssetHealth { sensors, status: HealthStatus::NoData });
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

#[derive(Resource, Default)]
struct Fft(FftCache);

pub struct HealthPlugin;

impl Plugin for HealthPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LineHealth>()
            .init_resource::<Fft>()
            .add_message::<ZoneChanged>()
            .add_systems(
                Update,
                (
                    reset_for_line.run_if(resource_added::<LineDescription>),
                    (record_readings, analyse_waveforms, publish_status).chain(),
                )
                    .chain(),
            );
    }
}

fn reset_for_line(line: Res<LineDescription>, mut health: ResMut<LineHealth>) {
    *health = LineHealth::for_line(&line.0);
}

fn record_readings(mut incoming: MessageReader<ReadingsReceived>, mut health: ResMut<LineHealth>, time: Res<Time<Real>>) {
    let now = time.elapsed_secs_f64();
    for message in incoming.read() {
        for reading in &message.values {
            if let Some(sensor) = health.sensor_mut(&reading.sensor) {
                if sensor.kind != SensorKind::Vibration && reading.value.is_finite() {
                    sensor.value = Some(reading.value);
                    sensor.updated_at = Some(now);
                }
            }
        }
    }
}

/// The ISO velocity and zone of one acceleration block.
pub fn assess_block(
    ffts: &mut FftCache,
    samples: &[f32],
    sample_rate_hz: f64,
    unit: &str,
    shaft_rpm: f64,
    boundaries: iso::ZoneBoundaries,
) -> Result<(f64, Zone), String> {
    let scale = acceleration_scale(unit).ok_or_else(|| format!("unit `{unit}` is not an acceleration unit this viewer knows"))?;
    if sample_rate_hz < 2.0 * iso::BAND_HIGH_HZ {
        return Err(format!("{sample_rate_hz} Hz sampling cannot see the ISO band up to 1 kHz"));
    }
    if samples.len() < 1024 {
        return Err(format!("a block of {} samples is too short for a spectrum", samples.len()));
    }
    let velocity = velocity_rms_mm_s(ffts, samples, sample_rate_hz, scale, iso::band_low_hz(shaft_rpm), iso::BAND_HIGH_HZ);
    Ok((velocity, boundaries.zone_of(velocity)))
}

fn analyse_waveforms(
    mut incoming: MessageReader<WaveformReceived>,
    mut health: ResMut<LineHealth>,
    mut fft: ResMut<Fft>,
    line: Option<Res<LineDescription>>,
    time: Res<Time<Real>>,
) {
    let Some(line) = line else {
        incoming.clear();
        return;
    };
    let now = time.elapsed_secs_f64();
    for WaveformReceived(block) in incoming.read() {
        let Some((asset, sensor)) = line.0.sensor(&block.sensor) else { continue };
        if sensor.kind != SensorKind::Vibration {
            continue;
        }
        let shaft_rpm = block.shaft_rpm.map_or(f64::from(sensor.shaft_rpm(asset)), f64::from);
        let boundaries = iso::boundaries(asset.iso.group, asset.iso.support);
        let assessed = assess_block(&mut fft.0, &block.samples, f64::from(block.sample_rate_hz), &sensor.unit, shaft_rpm, boundaries);
        let Some(state) = health.sensor_mut(&block.sensor) else { continue };
        state.shaft_rpm = Some(shaft_rpm);
        match assessed {
            Ok((velocity, zone)) => {
                state.value = Some(velocity);
                state.zone = Some(zone);
                state.updated_at = Some(now);
                state.problem = None;
            }
            Err(problem) => state.problem = Some(problem),
        }
    }
}

fn publish_status(mut health: ResMut<LineHealth>, time: Res<Time<Real>>, mut changes: MessageWriter<ZoneChanged>) {
    let now = time.elapsed_secs_f64();
    for (id, asset) in &mut health.assets {
        let status = asset.evaluate(now);
        if status != asset.status {
            changes.write(ZoneChanged { asset: id.clone(), from: asset.status, to: status, velocity_mm_s: asset.worst_velocity() });
            asset.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linetwin_core::iso::{MachineGroup, Support};

    fn vibration(zone: Option<Zone>, updated_at: Option<f64>) -> SensorState {
        SensorState { kind: SensorKind::Vibration, unit: "g".into(), value: zone.map(|_| 1.0), zone, shaft_rpm: None, updated_at, problem: None }
    }

    fn asset(sensors: Vec<SensorState>) -> AssetHealth {
        AssetHealth { sensors: sensors.into_iter().enumerate().map(|(i, s)| (format!("s{i}"), s)).collect(), status: HealthStatus::NoData }
    }

    #[test]
    fn worst_fresh_zone_wins() {
        let a = asset(vec![vibration(Some(Zone::A), Some(10.0)), vibration(Some(Zone::C), Some(9.0))]);
        assert_eq!(a.evaluate(12.0), HealthStatus::Zone(Zone::C));
    }

    #[test]
    fn stale_sensors_do_not_count_and_all_stale_is_grey() {
        let a = asset(vec![vibration(Some(Zone::A), Some(100.0)), vibration(Some(Zone::D), Some(10.0))]);
        assert_eq!(a.evaluate(101.0), HealthStatus::Zone(Zone::A));
        assert_eq!(a.evaluate(200.0), HealthStatus::Stale);
        assert_eq!(asset(vec![vibration(None, None)]).evaluate(0.0), HealthStatus::NoData);
    }

    #[test]
    fn grey_is_distinct_from_every_zone_colour() {
        let grey = HealthStatus::Stale.colour();
        for zone in [Zone::A, Zone::B, Zone::C, Zone::D] {
            assert_ne!(HealthStatus::Zone(zone).colour(), grey);
        }
    }

    #[test]
    fn block_assessment_rejects_what_it_cannot_judge() {
        let b = iso::boundaries(MachineGroup::Group2, Support::Rigid);
        let mut ffts = FftCache::default();
        let samples = vec![0.0f32; 4096];
        assert!(assess_block(&mut ffts, &samples, 12_800.0, "psi", 1500.0, b).unwrap_err().contains("psi"));
        assert!(assess_block(&mut ffts, &samples, 1_000.0, "g", 1500.0, b).is_err());
        assert!(assess_block(&mut ffts, &samples[..100], 12_800.0, "g", 1500.0, b).is_err());
        assert_eq!(assess_block(&mut ffts, &samples, 12_800.0, "g", 1500.0, b).unwrap().1, Zone::A);
    }
}
