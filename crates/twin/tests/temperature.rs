//! Temperatures in the twin: a `degC` reading has a level of its own that
//! colours the asset while it is fresh, raises alarms through the same
//! hysteresis as vibration, and is named in the asset's explanation.

use std::sync::{Arc, OnceLock};

use linetwin_core::diagnosis::{Diagnoser, DiagnosisInput};
use linetwin_core::iso::Zone;
use linetwin_core::line::Line;
use linetwin_core::protocol::Clock;
use linetwin_core::sim::Simulator;
use linetwin_twin::temperature::BASELINE_READINGS;
use linetwin_twin::{AssetStatus, BlockFinding, Observation, Severity, Twin, TwinConfig};

const DEMO: &str = include_str!("../../../assets/lines/demo.json");

fn demo() -> Line {
    Line::from_json("demo.json", DEMO).expect("demo line")
}

fn twin_of(line: &Line) -> Twin {
    let mut twin = Twin::new(line, TwinConfig::default());
    twin.hello(Clock::Simulated, 1.0);
    twin
}

fn reading(twin: &mut Twin, sensor: &str, t: f64, value: f64) {
    twin.ingest(Observation::Reading {
        sensor: sensor.to_owned(),
        t,
        value,
    });
}

/// A healthy M1 drive-end block, diagnosed once by the real engine.
fn healthy_m1_block() -> &'static BlockFinding {
    static BLOCK: OnceLock<BlockFinding> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let line = demo();
        let (asset, _) = line.sensor("M1-DE-V").expect("in the demo");
        let block = Simulator::new(&line, 3)
            .waveform("M1-DE-V", 0.0)
            .expect("vibration sensor");
        let fs = f64::from(block.sample_rate_hz);
        let rpm = f64::from(block.shaft_rpm.expect("the simulator sends speed"));
        let input = DiagnosisInput::new(&block.samples, fs, rpm)
            .with_iso(asset.iso.group, asset.iso.support);
        BlockFinding {
            sensor: block.sensor.clone(),
            t_start: 0.0,
            duration_s: block.samples.len() as f64 / fs,
            shaft_rpm: rpm,
            diagnosis: Arc::new(Diagnoser::new().diagnose(&input)),
        }
    })
}

fn m1_block_at(twin: &mut Twin, t_start: f64) {
    let mut finding = healthy_m1_block().clone();
    finding.t_start = t_start;
    twin.ingest(Observation::Block(Arc::new(finding)));
}

/// Feeds `BASELINE_READINGS` readings at 1 Hz from `t = 0`; returns the next time.
fn learn(twin: &mut Twin, sensor: &str, value: f64) -> f64 {
    for i in 0..BASELINE_READINGS {
        reading(twin, sensor, i as f64, value);
    }
    BASELINE_READINGS as f64
}

fn newest_alarm(twin: &Twin, asset: &str) -> (Severity, String) {
    let alarm = twin
        .alarms()
        .into_iter()
        .rfind(|a| a.asset == asset)
        .expect("an alarm");
    (alarm.severity, alarm.message.clone())
}

#[test]
fn a_hot_gearbox_sump_warns_then_trips_and_the_alarms_say_why() {
    let line = demo();
    let mut twin = twin_of(&line);
    let t = learn(&mut twin, "G1-T", 80.0);
    assert_eq!(twin.status("G1"), AssetStatus::Level(Zone::A));
    assert!(twin.alarms().is_empty());

    reading(&mut twin, "G1-T", t, 92.0);
    assert_eq!(twin.status("G1"), AssetStatus::Level(Zone::C));
    let (severity, message) = newest_alarm(&twin, "G1");
    assert_eq!(severity, Severity::Warning);
    assert!(
        message.starts_with("G1-T: 92.0 °C is above the gearbox warning limit 85 °C"),
        "{message}"
    );

    reading(&mut twin, "G1-T", t + 1.0, 97.0);
    assert_eq!(twin.status("G1"), AssetStatus::Level(Zone::D));
    let (severity, message) = newest_alarm(&twin, "G1");
    assert_eq!(severity, Severity::Critical);
    assert!(
        message.contains("above the gearbox trip limit 95 °C"),
        "{message}"
    );

    let snapshot = linetwin_twin::TwinSnapshot::of(&twin);
    let g1 = &snapshot.assets["G1"];
    assert!(g1.why.starts_with("G1-T: 97.0 °C"), "{}", g1.why);
    assert_eq!(g1.sensors["G1-T"].level, Some("D"));
}

#[test]
fn heat_above_the_baseline_with_a_quiet_spectrum_suspects_lubrication() {
    let line = demo();
    let mut twin = twin_of(&line);
    let t = learn(&mut twin, "M1-T", 55.0);
    m1_block_at(&mut twin, t);
    reading(&mut twin, "M1-T", t + 1.0, 56.0);
    let m1 = twin.asset("M1").unwrap();
    assert!(!m1.suspects_lubrication(), "{}", m1.explanation());

    reading(&mut twin, "M1-T", t + 2.0, 74.0);
    let m1 = twin.asset("M1").unwrap();
    assert!(m1.suspects_lubrication());
    let why = m1.explanation();
    assert!(
        why.starts_with("M1-T: 74.0 °C, 19.0 K above its baseline"),
        "{why}"
    );
    assert!(why.ends_with("suspect lubrication"), "{why}");
}

#[test]
fn a_rise_above_its_own_baseline_warns_well_below_the_absolute_limit() {
    let line = demo();
    let mut twin = twin_of(&line);
    let t = learn(&mut twin, "M1-T", 55.1);
    reading(&mut twin, "M1-T", t, 73.4);
    assert_eq!(
        twin.status("M1"),
        AssetStatus::Level(Zone::C),
        "73 °C is within the 90 °C limit"
    );
    let why = twin.asset("M1").unwrap().explanation();
    assert!(
        why.starts_with("M1-T: 73.4 °C, 18.3 K above its baseline 55.1 °C"),
        "{why}"
    );
    reading(&mut twin, "M1-T", t + 1.0, 81.0);
    assert_eq!(twin.status("M1"), AssetStatus::Level(Zone::D));
    assert_eq!(newest_alarm(&twin, "M1").0, Severity::Critical);
}

#[test]
fn a_stale_temperature_no_longer_sets_the_colour_or_the_explanation() {
    let line = demo();
    let mut twin = twin_of(&line);
    reading(&mut twin, "M1-T", 0.0, 100.0);
    m1_block_at(&mut twin, 0.0);
    assert_eq!(twin.status("M1"), AssetStatus::Level(Zone::C));
    assert!(
        twin.asset("M1")
            .unwrap()
            .explanation()
            .starts_with("M1-T: 100.0 °C")
    );

    // The vibration keeps coming; the temperature sensor has gone quiet.
    for i in 1..=20 {
        m1_block_at(&mut twin, 2.0 * f64::from(i));
    }
    let status = twin.status("M1");
    assert!(
        matches!(status, AssetStatus::Level(Zone::A | Zone::B)),
        "{status:?}"
    );
    let why = twin.asset("M1").unwrap().explanation();
    assert!(why.starts_with("M1-DE-V: "), "{why}");
    assert!(!why.contains("M1-T"), "{why}");
}

#[test]
fn a_temperature_alone_is_heard_and_goes_stale_but_a_current_is_not_judged() {
    let line = demo();
    let mut twin = twin_of(&line);
    reading(&mut twin, "M1-I", 0.0, 10.0);
    assert_eq!(
        twin.status("M1"),
        AssetStatus::NoData,
        "a current gives no level"
    );

    reading(&mut twin, "M1-T", 1.0, 50.0);
    assert_eq!(twin.status("M1"), AssetStatus::Level(Zone::A));
    let why = twin.asset("M1").unwrap().explanation();
    assert_eq!(why, "M1-T: 50.0 °C; no vibration data");

    reading(&mut twin, "M1-I", 30.0, 10.0);
    assert_eq!(twin.status("M1"), AssetStatus::Stale);
}

#[test]
fn other_units_and_non_finite_values_are_never_judged() {
    let mut line = demo();
    let p2 = line.assets.iter_mut().find(|a| a.id == "P2").unwrap();
    let sensor = p2.sensors.iter_mut().find(|s| s.id == "P2-T").unwrap();
    sensor.unit = "degF".into();
    let mut twin = twin_of(&line);
    reading(&mut twin, "P2-T", 0.0, 200.0);
    assert_eq!(twin.status("P2"), AssetStatus::NoData);
    let view = &twin.asset("P2").unwrap().sensors["P2-T"];
    assert_eq!(view.value, Some(200.0), "shown");
    assert_eq!(view.level, None, "not judged");

    for value in [f64::NAN, f64::INFINITY] {
        reading(&mut twin, "G1-T", 1.0, value);
    }
    assert_eq!(twin.status("G1"), AssetStatus::NoData);
    assert!(twin.alarms().is_empty());
}

/// The browser test needs every healthy demo asset green: the simulator's
/// temperatures must sit well inside these rules, over a whole drift period.
#[test]
fn healthy_demo_temperatures_stay_in_zone_a_and_the_faulted_pump_runs_hot() {
    let line = demo();
    let fault = &line.simulation.faults[0];
    let (faulted, _) = line.sensor(&fault.sensor).unwrap();
    for seed in [1, 7] {
        let sim = Simulator::new(&line, seed);
        let mut twin = twin_of(&line);
        let mut worst_healthy: Option<(Zone, String)> = None;
        for second in 0..900 {
            let t = f64::from(second);
            twin.readings(t, &sim.readings(t));
            for asset in twin.assets().filter(|a| a.id != faulted.id) {
                for (id, view) in &asset.sensors {
                    if let Some(level) = view.level
                        && worst_healthy.as_ref().is_none_or(|(w, _)| level > *w)
                    {
                        worst_healthy = Some((level, format!("{id} at {t} s: {:?}", view.value)));
                    }
                }
            }
            if t == fault.onset_s + fault.ramp_s {
                let hot = &twin.asset(&faulted.id).unwrap();
                let level = hot
                    .sensors
                    .values()
                    .filter(|s| s.temperature.is_some())
                    .filter_map(|s| s.level)
                    .max();
                assert!(level >= Some(Zone::C), "seed {seed}: {}", hot.explanation());
            }
        }
        let (level, which) = worst_healthy.expect("temperatures were judged");
        assert_eq!(level, Zone::A, "seed {seed}: {which}");
    }
}
