//! The built-in signal simulator: plausible readings for every sensor of a
//! line, from a physical model rather than canned data.
//!
//! Vibration (acceleration, g) is the sum of:
//! - shaft harmonics (1×, 2×, 3×) from residual unbalance and misalignment,
//!   plus each machine kind's own tone (vane pass, blade pass, gear mesh, 2× line);
//! - for a bearing defect, an impact each time a rolling element meets the
//!   defect, at the defect frequency from the bearing geometry and shaft speed
//!   with a little random slip, each impact ringing a structural resonance
//!   (a damped sinusoid of a few kHz), amplitude-modulated where the physics
//!   says so (inner race by shaft rotation through the load zone, ball by the cage);
//! - as the damage grows, low-frequency harmonics of the defect frequency and
//!   a rising 1× (wear, looseness), which is what finally moves the ISO zone;
//! - white noise.
//!
//! Every block is a pure function of (seed, sensor, start time): replays are exact.

use std::f64::consts::TAU;

use crate::bearing::DefectFrequencies;
use crate::dsp::STANDARD_GRAVITY;
use crate::line::{AssetKind, FaultMode, Line, ScriptedFault, SensorKind};
use crate::protocol::{Reading, WaveformBlock};
use crate::rng::{SplitMix64, hash_str};

/// Samples per waveform block: 1.28 s at 12.8 kHz, a power of two for the FFT.
pub const DEFAULT_BLOCK_LEN: usize = 16_384;

#[derive(Debug, Clone)]
struct VibrationChannel {
    sensor: String,
    asset_index: usize,
    kind: AssetKind,
    sample_rate_hz: f64,
    shaft_rpm: f64,
    defects: Option<DefectFrequencies>,
    /// Healthy 1× velocity, mm/s peak: every machine has some residual unbalance.
    unbalance_mm_s: f64,
    resonance_hz: f64,
    phases: [f64; 4],
    fault: Option<ScriptedFault>,
}

#[derive(Debug, Clone)]
struct ScalarChannel {
    sensor: String,
    asset_index: usize,
    kind: SensorKind,
    kind_of_asset: AssetKind,
    rated_rpm: f64,
    offset: f64,
    /// A cycle counter's reading at time zero (an integer) and its count per second.
    counter: Option<(f64, f64)>,
}

/// Simulates every sensor of a line.
#[derive(Debug, Clone)]
pub struct Simulator {
    seed: u64,
    block_len: usize,
    vibration: Vec<VibrationChannel>,
    scalars: Vec<ScalarChannel>,
}

impl Simulator {
    pub fn new(line: &Line, seed: u64) -> Self {
        Self::with_block_len(line, seed, DEFAULT_BLOCK_LEN)
    }

    pub fn with_block_len(line: &Line, seed: u64, block_len: usize) -> Self {
        let mut vibration = Vec::new();
        let mut scalars = Vec::new();
        for (asset_index, asset) in line.assets.iter().enumerate() {
            for sensor in &asset.sensors {
                let mut rng = SplitMix64::keyed(&[seed, hash_str(&sensor.id)]);
                let shaft_rpm = f64::from(sensor.shaft_rpm(asset));
                if sensor.kind == SensorKind::Vibration {
                    let fs = f64::from(sensor.sample_rate_hz);
                    vibration.push(VibrationChannel {
                        sensor: sensor.id.clone(),
                        asset_index,
                        kind: asset.kind,
                        sample_rate_hz: fs,
                        shaft_rpm,
                        defects: sensor
                            .bearing
                            .as_ref()
                            .map(|b| b.defect_frequencies(shaft_rpm)),
                        unbalance_mm_s: 0.7 + 0.6 * rng.uniform(),
                        // Keep the ring well below Nyquist so it is sampled faithfully.
                        resonance_hz: (2200.0 + 1400.0 * rng.uniform()).min(0.35 * fs),
                        phases: [0.0; 4].map(|_| TAU * rng.uniform()),
                        fault: line
                            .simulation
                            .faults
                            .iter()
                            .find(|f| f.sensor == sensor.id)
                            .cloned(),
                    });
                } else {
                    scalars.push(ScalarChannel {
                        sensor: sensor.id.clone(),
                        asset_index,
                        kind: sensor.kind,
                        kind_of_asset: asset.kind,
                        rated_rpm: shaft_rpm,
                        offset: rng.normal(),
                        counter: sensor.rated_life_cycles.map(|rated| {
                            // Part-way through its life, as a machine in service is.
                            let used = 0.3 + 0.4 * rng.uniform();
                            ((used * rated).floor(), cycles_per_s(asset.kind, shaft_rpm))
                        }),
                    });
                }
            }
        }
        Simulator {
            seed,
            block_len,
            vibration,
            scalars,
        }
    }

    pub fn vibration_sensors(&self) -> impl Iterator<Item = &str> {
        self.vibration.iter().map(|c| c.sensor.as_str())
    }

    /// Damage of the scripted fault on a sensor at time `t`, 0 (none) to 1 (severe).
    pub fn severity(&self, sensor: &str, t: f64) -> f64 {
        self.vibration
            .iter()
            .find(|c| c.sensor == sensor)
            .and_then(|c| c.fault.as_ref())
            .map_or(0.0, |fault| ramp(fault, t))
    }

    /// How far the asset's faults have grown at `t`, as (worst severity,
    /// temperature rise in kelvin).
    fn asset_condition(&self, asset_index: usize, t: f64) -> (f64, f64) {
        self.vibration
            .iter()
            .filter(|c| c.asset_index == asset_index)
            .filter_map(|c| c.fault.as_ref())
            .map(|f| {
                let s = ramp(f, t);
                (s, temperature_rise_k(f.mode, s))
            })
            .fold((0.0, 0.0), |(s, k), (s2, k2)| (s.max(s2), k.max(k2)))
    }

    /// Scalar readings of every non-vibration sensor at time `t`.
    pub fn readings(&self, t: f64) -> Vec<Reading> {
        let tick = t.floor() as u64;
        self.scalars
            .iter()
            .map(|c| {
                let mut rng = SplitMix64::keyed(&[self.seed, hash_str(&c.sensor), tick]);
                let (severity, rise_k) = self.asset_condition(c.asset_index, t);
                let drift = (TAU * t / 900.0 + c.offset).sin();
                let value = match c.kind {
                    SensorKind::Temperature => {
                        let rise = match c.kind_of_asset {
                            AssetKind::Motor | AssetKind::Compressor => 32.0,
                            AssetKind::Gearbox => 38.0,
                            AssetKind::Pump | AssetKind::Fan => 22.0,
                            _ => 15.0,
                        };
                        22.0 + rise + 2.0 * c.offset + 0.8 * drift + rise_k + 0.1 * rng.normal()
                    }
                    SensorKind::Speed => c.rated_rpm * (1.0 + 0.002 * drift) + 0.5 * rng.normal(),
                    SensorKind::Current => {
                        let rated = match c.kind_of_asset {
                            AssetKind::Compressor => 180.0,
                            AssetKind::Pump | AssetKind::Fan => 40.0,
                            _ => 12.0,
                        };
                        rated * (0.85 + 0.03 * drift + 0.06 * severity) + 0.2 * rng.normal()
                    }
                    SensorKind::Pressure => 3.5 + 0.05 * drift + 0.02 * rng.normal(),
                    SensorKind::Cycles => {
                        // Whole cycles completed by `t`: floor keeps the count
                        // an integer that never goes down as time goes on.
                        let (start, per_s) = c.counter.unwrap_or((0.0, 0.0));
                        return Reading {
                            sensor: c.sensor.clone(),
                            value: start + (per_s * t.max(0.0)).floor(),
                        };
                    }
                    SensorKind::Vibration => unreachable!("vibration sensors are not scalars"),
                };
                Reading {
                    sensor: c.sensor.clone(),
                    value: (value * 1000.0).round() / 1000.0,
                }
            })
            .collect()
    }

    /// Waveform blocks of every vibration sensor, starting at `t_start`.
    pub fn waveforms(&self, t_start: f64) -> Vec<WaveformBlock> {
        self.vibration
            .iter()
            .map(|c| self.waveform_of(c, t_start))
            .collect()
    }

    /// One sensor's block, or `None` for an unknown or non-vibration sensor.
    pub fn waveform(&self, sensor: &str, t_start: f64) -> Option<WaveformBlock> {
        self.vibration
            .iter()
            .find(|c| c.sensor == sensor)
            .map(|c| self.waveform_of(c, t_start))
    }

    fn waveform_of(&self, c: &VibrationChannel, t_start: f64) -> WaveformBlock {
        let mut rng = SplitMix64::keyed(&[self.seed, hash_str(&c.sensor), t_start.to_bits()]);
        let fs = c.sample_rate_hz;
        let n = self.block_len;
        // Speed wanders slowly around its rated value, as a real drive does.
        let rpm = c.shaft_rpm * (1.0 + 0.003 * (TAU * t_start / 600.0 + c.phases[3]).sin());
        let fr = rpm / 60.0;
        let mode = c.fault.as_ref().map(|f| f.mode);
        let s = c.fault.as_ref().map_or(0.0, |f| ramp(f, t_start));
        let mm_s_to_g = |v_mm_s: f64, f: f64| v_mm_s * 1e-3 * TAU * f / STANDARD_GRAVITY;

        // Periodic components as (frequency, acceleration amplitude in g, phase).
        let mut tones: Vec<(f64, f64, f64)> = Vec::new();
        let mut one_x = c.unbalance_mm_s;
        let mut two_x = 0.35 * c.unbalance_mm_s;
        let mut three_x = 0.12 * c.unbalance_mm_s;
        match mode {
            Some(FaultMode::Unbalance) => one_x += 6.0 * s,
            Some(FaultMode::Misalignment) => {
                one_x += 1.5 * s;
                two_x += 5.0 * s;
                three_x += 1.5 * s;
            }
            // Starved contacts make noise and heat, not tones.
            Some(FaultMode::LubricationLoss) => {}
            Some(FaultMode::UsageWear) => one_x += 1.5 * s,
            Some(_) => one_x += 2.0 * s * s,
            None => {}
        }
        tones.push((fr, mm_s_to_g(one_x, fr), c.phases[0]));
        tones.push((2.0 * fr, mm_s_to_g(two_x, 2.0 * fr), c.phases[1]));
        tones.push((3.0 * fr, mm_s_to_g(three_x, 3.0 * fr), c.phases[2]));
        let (kind_hz, kind_mm_s) = match c.kind {
            AssetKind::Pump => (6.0 * fr, 0.5),
            AssetKind::Fan => (8.0 * fr, 0.45),
            AssetKind::Gearbox => (31.0 * fr, 0.3),
            AssetKind::Compressor => (4.0 * fr, 0.4),
            AssetKind::Motor => (100.0, 0.2),
            _ => (0.0, 0.0),
        };
        if kind_hz > 0.0 && kind_hz < fs / 2.0 {
            tones.push((kind_hz, mm_s_to_g(kind_mm_s, kind_hz), c.phases[3]));
        }
        if mode == Some(FaultMode::UsageWear) {
            // Worn teeth: the mesh tone grows and shaft-rate sidebands appear
            // around it (a robot's reducer meshes at about 12× its input).
            let mesh_hz = if kind_hz > 0.0 { kind_hz } else { 12.0 * fr };
            if mesh_hz + fr < fs / 2.0 {
                tones.push((mesh_hz, mm_s_to_g(4.0 * s, mesh_hz), TAU * rng.uniform()));
                for side in [mesh_hz - fr, mesh_hz + fr] {
                    tones.push((side, mm_s_to_g(2.0 * s, side), TAU * rng.uniform()));
                }
            }
        }

        let impact_rate = match (mode, c.defects) {
            (Some(FaultMode::OuterRace), Some(d)) => Some(d.bpfo),
            (Some(FaultMode::InnerRace), Some(d)) => Some(d.bpfi),
            (Some(FaultMode::Ball), Some(d)) => Some(2.0 * d.bsf),
            (Some(FaultMode::Cage), Some(d)) => Some(d.ftf),
            _ => None,
        }
        .map(|f| f * rpm / c.shaft_rpm);
        if let Some(f_defect) = impact_rate {
            // Damage spreads: the impacts' own low-frequency lines grow with it.
            for k in 1..=3 {
                let f = k as f64 * f_defect;
                if f < fs / 2.0 {
                    tones.push((f, mm_s_to_g(6.0 * s * s / k as f64, f), TAU * rng.uniform()));
                }
            }
        }

        let noise_g = match mode {
            Some(FaultMode::LubricationLoss) => 0.012 * (1.0 + 8.0 * s),
            _ => 0.012 * (1.0 + 2.0 * s),
        };
        let mut samples: Vec<f64> = (0..n)
            .map(|i| {
                let t = t_start + i as f64 / fs;
                let periodic: f64 = tones
                    .iter()
                    .map(|&(f, a, phase)| a * (TAU * f * t + phase).sin())
                    .sum();
                periodic + noise_g * rng.normal()
            })
            .collect();

        if let (Some(f_defect), Some(defects)) = (impact_rate, c.defects) {
            let amplitude = 2.5 * s;
            let zeta: f64 = 0.06;
            let omega_n = TAU * c.resonance_hz;
            let omega_d = omega_n * (1.0 - zeta * zeta).sqrt();
            let ring_len = ((6.0 / (zeta * omega_n)) * fs).ceil() as usize;
            let period = 1.0 / f_defect;
            let block_end = t_start + n as f64 / fs;
            let mut k = ((t_start - ring_len as f64 / fs) / period).floor();
            loop {
                // Rolling elements slip a little: impacts are not exactly periodic.
                let t_impact = (k + 0.01 * rng.normal()) * period;
                k += 1.0;
                if t_impact >= block_end {
                    break;
                }
                let modulation = match mode {
                    Some(FaultMode::InnerRace) => {
                        0.5 * (1.0 + (TAU * defects.shaft_hz * rpm / c.shaft_rpm * t_impact).cos())
                    }
                    Some(FaultMode::Ball) => {
                        0.5 * (1.0 + (TAU * defects.ftf * rpm / c.shaft_rpm * t_impact).cos())
                    }
                    _ => 1.0,
                };
                let first = ((t_impact - t_start) * fs).ceil().max(0.0) as usize;
                for (i, sample) in samples.iter_mut().enumerate().skip(first).take(ring_len) {
                    let tau = t_start + i as f64 / fs - t_impact;
                    *sample += amplitude
                        * modulation
                        * (-zeta * omega_n * tau).exp()
                        * (omega_d * tau).sin();
                }
            }
        }

        WaveformBlock {
            sensor: c.sensor.clone(),
            t_start,
            sample_rate_hz: fs as f32,
            shaft_rpm: Some(rpm as f32),
            samples: samples.into_iter().map(|x| x as f32).collect(),
        }
    }
}

/// How fast a cycle counter on an asset of this kind counts while it runs.
fn cycles_per_s(kind: AssetKind, shaft_rpm: f64) -> f64 {
    match kind {
        // One palletising pick every four seconds, one J1 swing each.
        AssetKind::Robot => 0.25,
        // 21 600 bottles an hour, one capping cycle each.
        AssetKind::Capper => 6.0,
        // Elsewhere a counter counts shaft revolutions.
        _ => shaft_rpm / 60.0,
    }
}

/// How much hotter a machine runs with a fault of this severity: friction
/// grows with bearing damage; a starved film heats early and strongly; worn
/// gears a little; a rotor fault barely.
fn temperature_rise_k(mode: FaultMode, severity: f64) -> f64 {
    match mode {
        FaultMode::LubricationLoss => 35.0 * severity,
        FaultMode::UsageWear => 8.0 * severity,
        _ => 30.0 * severity.powi(2),
    }
}

fn ramp(fault: &ScriptedFault, t: f64) -> f64 {
    if fault.until_s.is_some_and(|until| t >= until) {
        return 0.0;
    }
    ((t - fault.onset_s) / fault.ramp_s).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::{Diagnoser, DiagnosisInput};
    use crate::dsp::{FftCache, WindowedSpectrum};
    use crate::iso::Zone;

    const DEMO: &str = include_str!("../../../assets/lines/demo.json");

    fn demo() -> Line {
        Line::from_json("demo.json", DEMO).unwrap()
    }

    /// ISO velocity and zone as the viewer computes them: through the diagnosis.
    fn zone_at(line: &Line, sim: &Simulator, sensor: &str, t: f64) -> (f64, Zone) {
        let (asset, _) = line.sensor(sensor).unwrap();
        let block = sim.waveform(sensor, t).unwrap();
        let input = DiagnosisInput::new(
            &block.samples,
            f64::from(block.sample_rate_hz),
            f64::from(block.shaft_rpm.unwrap()),
        )
        .with_iso(asset.iso.group, asset.iso.support);
        let velocity = Diagnoser::new().diagnose(&input).velocity.unwrap();
        (velocity.rms_mm_s, velocity.zone.unwrap())
    }

    #[test]
    fn blocks_replay_exactly_from_the_seed() {
        let line = demo();
        let a = Simulator::new(&line, 42).waveforms(100.0);
        let b = Simulator::new(&line, 42).waveforms(100.0);
        let c = Simulator::new(&line, 43).waveforms(100.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a.len(),
            line.sensors()
                .filter(|(_, s)| s.kind == SensorKind::Vibration)
                .count()
        );
    }

    #[test]
    fn healthy_machines_sit_in_zone_a_or_b() {
        let line = demo();
        let sim = Simulator::new(&line, 1);
        for sensor in sim.vibration_sensors() {
            let (v, zone) = zone_at(&line, &sim, sensor, 0.0);
            assert!(zone <= Zone::B, "{sensor}: {v:.2} mm/s is zone {zone:?}");
            assert!(v > 0.05, "{sensor}: {v:.2} mm/s is implausibly quiet");
        }
    }

    #[test]
    fn scripted_fault_walks_through_the_zones() {
        let line = demo();
        let sim = Simulator::new(&line, 1);
        let fault = &line.simulation.faults[0];
        let mut zones = Vec::new();
        for fraction in [0.0, 0.5, 0.8, 1.0] {
            let t = fault.onset_s + fraction * fault.ramp_s;
            zones.push(zone_at(&line, &sim, &fault.sensor, t));
        }
        assert!(zones[0].1 <= Zone::B, "{zones:?}");
        assert_eq!(zones[3].1, Zone::D, "{zones:?}");
        assert!(
            zones.windows(2).all(|w| w[0].0 < w[1].0),
            "velocity grows: {zones:?}"
        );
    }

    /// The defect frequency must appear in the envelope of the resonance band:
    /// the classic bearing diagnosis, here with a plain squared envelope.
    #[test]
    fn outer_race_defect_shows_at_bpfo_in_the_envelope() {
        let line = demo();
        let fault = &line.simulation.faults[0];
        assert_eq!(fault.mode, FaultMode::OuterRace);
        let sim = Simulator::new(&line, 5);
        let t = fault.onset_s + 0.3 * fault.ramp_s;
        let block = sim.waveform(&fault.sensor, t).unwrap();
        let (asset, sensor) = line.sensor(&fault.sensor).unwrap();
        let rpm = f64::from(block.shaft_rpm.unwrap());
        let bpfo = sensor
            .bearing
            .as_ref()
            .unwrap()
            .defect_frequencies(rpm)
            .bpfo;
        assert!(rpm > 0.9 * f64::from(asset.rated_speed_rpm));
        // High-pass by differencing twice, then square: the envelope.
        let envelope: Vec<f32> = block
            .samples
            .windows(3)
            .map(|w| (w[2] - 2.0 * w[1] + w[0]).powi(2))
            .collect();
        let spectrum = WindowedSpectrum::compute(
            &mut FftCache::default(),
            &envelope,
            f64::from(block.sample_rate_hz),
        );
        let df = spectrum.bin_hz();
        let peak_bin = (((0.5 * bpfo) / df) as usize..((4.5 * bpfo) / df) as usize)
            .max_by(|&a, &b| spectrum.bins[a].norm().total_cmp(&spectrum.bins[b].norm()))
            .unwrap();
        let peak_hz = peak_bin as f64 * df;
        let harmonic = (peak_hz / bpfo).round();
        assert!(
            harmonic >= 1.0 && (peak_hz - harmonic * bpfo).abs() < 3.0 * df * harmonic,
            "peak {peak_hz:.1} Hz, BPFO {bpfo:.1} Hz"
        );
    }

    #[test]
    /// Impacts make the waveform spiky (high kurtosis) while the defect is
    /// young; late in life they smear into continuous vibration, as in real
    /// run-to-failure data, so the check is made mid-way.
    fn growing_defect_makes_the_waveform_impulsive() {
        let line = demo();
        let sim = Simulator::new(&line, 5);
        let fault = &line.simulation.faults[0];
        let before = sim.waveform(&fault.sensor, 0.0).unwrap();
        let after = sim
            .waveform(&fault.sensor, fault.onset_s + 0.3 * fault.ramp_s)
            .unwrap();
        let kurtosis = |x: &[f32]| {
            let n = x.len() as f64;
            let m = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let m2 = x.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / n;
            let m4 = x.iter().map(|&v| (f64::from(v) - m).powi(4)).sum::<f64>() / n;
            m4 / (m2 * m2)
        };
        assert!(
            kurtosis(&before.samples) < 3.5,
            "{}",
            kurtosis(&before.samples)
        );
        assert!(
            kurtosis(&after.samples) > 4.0,
            "{}",
            kurtosis(&after.samples)
        );
    }

    #[test]
    fn temperature_rises_with_the_fault() {
        let line = demo();
        let sim = Simulator::new(&line, 9);
        let fault = &line.simulation.faults[0];
        let (asset, _) = line.sensor(&fault.sensor).unwrap();
        let temp_sensor = asset
            .sensors
            .iter()
            .find(|s| s.kind == SensorKind::Temperature)
            .expect("faulted asset has a temperature sensor");
        let value_at = |t: f64| {
            sim.readings(t)
                .into_iter()
                .find(|r| r.sensor == temp_sensor.id)
                .unwrap()
                .value
        };
        let healthy = value_at(fault.onset_s - 1.0);
        let failed = value_at(fault.onset_s + fault.ramp_s);
        assert!(failed > healthy + 20.0, "{healthy} -> {failed}");
        assert_eq!(
            sim.readings(0.0).len(),
            line.sensors()
                .filter(|(_, s)| s.kind != SensorKind::Vibration)
                .count()
        );
    }

    #[test]
    fn cycle_counters_start_part_way_through_life_and_only_count_up() {
        let line = demo();
        let per_s = [("R1-CYC", 0.25), ("C1-CYC", 6.0)];
        for seed in [1, 2, 3] {
            let sim = Simulator::new(&line, seed);
            for (sensor, rate) in per_s {
                let rated = line.sensor(sensor).unwrap().1.rated_life_cycles.unwrap();
                let value_at = |t: f64| {
                    sim.readings(t)
                        .into_iter()
                        .find(|r| r.sensor == sensor)
                        .unwrap()
                        .value
                };
                let start = value_at(0.0);
                assert!(
                    (0.3 * rated..=0.7 * rated).contains(&start),
                    "{sensor}: {start} of {rated}"
                );
                let mut previous = start;
                // Uneven steps, as a sped-up clock gives them.
                for t in (1..4000).map(|i| f64::from(i) * 0.37) {
                    let value = value_at(t);
                    assert!(value >= previous, "{sensor} went down at {t} s");
                    assert_eq!(value.fract(), 0.0, "{sensor}: {value} is not whole");
                    previous = value;
                }
                let hour = value_at(3600.0) - start;
                assert!(
                    (hour - 3600.0 * rate).abs() <= 1.0,
                    "{sensor}: {hour} cycles in an hour"
                );
            }
        }
        let a = Simulator::new(&line, 1).readings(0.0);
        let b = Simulator::new(&line, 2).readings(0.0);
        let start_of = |r: &[Reading]| r.iter().find(|r| r.sensor == "R1-CYC").unwrap().value;
        assert_ne!(start_of(&a), start_of(&b), "the seed chooses the age");
    }

    /// The demo line with one fault of `mode` on `sensor`, from 0 s over 1000 s.
    fn with_fault(sensor: &str, mode: FaultMode) -> (Line, Simulator) {
        let mut line = demo();
        line.simulation.faults = vec![ScriptedFault {
            sensor: sensor.into(),
            mode,
            onset_s: 0.0,
            ramp_s: 1000.0,
            until_s: None,
        }];
        let sim = Simulator::new(&line, 5);
        (line, sim)
    }

    fn reading(sim: &Simulator, sensor: &str, t: f64) -> f64 {
        sim.readings(t)
            .into_iter()
            .find(|r| r.sensor == sensor)
            .unwrap()
            .value
    }

    fn diagnose(line: &Line, sim: &Simulator, sensor: &str, t: f64) -> crate::diagnosis::Diagnosis {
        let (asset, spec) = line.sensor(sensor).unwrap();
        let block = sim.waveform(sensor, t).unwrap();
        let mut input = DiagnosisInput::new(
            &block.samples,
            f64::from(block.sample_rate_hz),
            f64::from(block.shaft_rpm.unwrap()),
        )
        .with_iso(asset.iso.group, asset.iso.support);
        if let Some(bearing) = spec.bearing.as_ref() {
            input = input.with_bearing(bearing);
        }
        Diagnoser::new().diagnose(&input)
    }

    #[test]
    fn lubrication_loss_heats_the_bearing_and_raises_broadband_noise_without_a_tone() {
        let (line, sim) = with_fault("M1-DE-V", FaultMode::LubricationLoss);
        let healthy_c = reading(&sim, "M1-T", 0.0);
        let starved_c = reading(&sim, "M1-T", 1000.0);
        assert!(
            starved_c > healthy_c + 25.0,
            "{healthy_c} -> {starved_c} °C"
        );
        let half_c = reading(&sim, "M1-T", 500.0);
        assert!(
            half_c > healthy_c + 12.0,
            "heat comes early: {half_c} °C at half"
        );

        let before = diagnose(&line, &sim, "M1-DE-V", 0.0);
        let after = diagnose(&line, &sim, "M1-DE-V", 1000.0);
        let rms = |d: &crate::diagnosis::Diagnosis| d.indicators.as_ref().unwrap().rms_g;
        assert!(
            rms(&after) > 3.0 * rms(&before),
            "{} -> {} g",
            rms(&before),
            rms(&after)
        );
        assert!(
            !after.verdict.is_bearing(),
            "no defect tone to name: {:?}",
            after.verdict
        );
        // The other assets do not warm up.
        assert!((reading(&sim, "P1-T", 1000.0) - reading(&sim, "P1-T", 0.0)).abs() < 5.0);
    }

    #[test]
    fn usage_wear_grows_the_mesh_tone_and_moves_the_zone() {
        let (line, sim) = with_fault("R1-J1-V", FaultMode::UsageWear);
        let zone = |t: f64| {
            let d = diagnose(&line, &sim, "R1-J1-V", t);
            let v = d.velocity.unwrap();
            (v.rms_mm_s, v.zone.unwrap())
        };
        let (new_mm_s, new_zone) = zone(0.0);
        let (worn_mm_s, worn_zone) = zone(1000.0);
        assert!(new_zone <= Zone::B, "{new_mm_s} mm/s");
        assert!(
            worn_zone >= Zone::C,
            "{new_mm_s} -> {worn_mm_s} mm/s is {worn_zone:?}"
        );
        let temperature_rise = reading(&sim, "R1-T", 1000.0) - reading(&sim, "R1-T", 0.0);
        assert!(
            (4.0..15.0).contains(&temperature_rise),
            "{temperature_rise} K"
        );
    }

    #[test]
    fn unknown_sensor_has_no_waveform() {
        let sim = Simulator::new(&demo(), 1);
        assert!(sim.waveform("nope", 0.0).is_none());
        assert_eq!(sim.severity("nope", 1e9), 0.0);
    }
}
