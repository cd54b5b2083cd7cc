//! Inputs the engine must survive: unusable records give a clear
//! `check_function` state and reasons, never a panic; clipping is flagged
//! without fooling the verdict; odd parameters are handled.

use linetwin_core::diagnosis::{Diagnoser, Diagnosis, DiagnosisInput, HealthState, Verdict};
use linetwin_core::dsp::STANDARD_GRAVITY;
use linetwin_core::iso::{MachineGroup, Support, Zone};
use linetwin_core::line::{BearingGeometry, Line};
use linetwin_core::sim::Simulator;

const DEMO: &str = include_str!("../../../assets/lines/demo.json");

/// A block of the demo line's faulted sensor, its bearing and its ISO class.
fn faulted_block(fraction: f64) -> (Vec<f32>, f64, f64, BearingGeometry, (MachineGroup, Support)) {
    faulted_record(fraction, linetwin_core::sim::DEFAULT_BLOCK_LEN)
}

fn faulted_record(
    fraction: f64,
    len: usize,
) -> (Vec<f32>, f64, f64, BearingGeometry, (MachineGroup, Support)) {
    let line = Line::from_json("demo.json", DEMO).unwrap();
    let sim = Simulator::with_block_len(&line, 11, len);
    let fault = &line.simulation.faults[0];
    let (asset, sensor) = line.sensor(&fault.sensor).unwrap();
    let block = sim
        .waveform(&fault.sensor, fault.onset_s + fraction * fault.ramp_s)
        .unwrap();
    (
        block.samples,
        f64::from(block.sample_rate_hz),
        f64::from(block.shaft_rpm.unwrap()),
        sensor.bearing.clone().unwrap(),
        (asset.iso.group, asset.iso.support),
    )
}

fn unusable(d: &Diagnosis, words: &str) {
    assert_eq!(d.health, HealthState::CheckFunction, "{d:?}");
    assert_eq!(d.verdict, Verdict::None);
    assert!(d.score.is_none());
    assert!(
        d.reasons.iter().any(|r| r.contains(words)),
        "{:?} should mention {words:?}",
        d.reasons
    );
}

#[test]
fn unusable_records_are_a_function_check() {
    let mut diagnoser = Diagnoser::new();
    unusable(
        &diagnoser.diagnose(&DiagnosisInput::new(&[], 12_800.0, 1500.0)),
        "too short",
    );
    unusable(
        &diagnoser.diagnose(&DiagnosisInput::new(&[0.1; 100], 12_800.0, 1500.0)),
        "too short",
    );
    unusable(
        &diagnoser.diagnose(&DiagnosisInput::new(&vec![0.0; 16_384], 12_800.0, 1500.0)),
        "flat",
    );
    unusable(
        &diagnoser.diagnose(&DiagnosisInput::new(&vec![0.37; 16_384], 12_800.0, 1500.0)),
        "flat",
    );
    let (mut samples, fs, rpm, _, _) = faulted_block(0.5);
    samples[100] = f32::NAN;
    samples[200] = f32::INFINITY;
    samples[300] = f32::NEG_INFINITY;
    let d = diagnoser.diagnose(&DiagnosisInput::new(&samples, fs, rpm));
    unusable(&d, "NaN");
    assert_eq!(d.quality.non_finite, 3);
    for fs in [0.0, -12_800.0, f64::NAN, f64::INFINITY] {
        unusable(
            &diagnoser.diagnose(&DiagnosisInput::new(&samples[400..], fs, rpm)),
            "sampling rate",
        );
    }
    let good = &samples[400..];
    unusable(
        &diagnoser.diagnose(&DiagnosisInput::new(good, fs, rpm).with_unit_scale(0.0)),
        "unit scale",
    );
    // 1024 samples at 48 kHz is 21 ms: too short.
    unusable(
        &diagnoser.diagnose(&DiagnosisInput::new(&good[..2048], 48_000.0, rpm)),
        "too short",
    );
}

#[test]
fn unknown_speed_still_gives_indicators_and_iso_zone() {
    let (samples, fs, _, bearing, (group, support)) = faulted_block(1.0);
    let mut diagnoser = Diagnoser::new();
    for rpm in [0.0, -1500.0, f64::NAN] {
        let input = DiagnosisInput::new(&samples, fs, rpm)
            .with_bearing(&bearing)
            .with_iso(group, support);
        let d = diagnoser.diagnose(&input);
        assert_ne!(
            d.health,
            HealthState::CheckFunction,
            "{rpm}: {:?}",
            d.reasons
        );
        assert!(d.findings.is_empty(), "no speed, no patterns");
        assert!(d.indicators.is_some());
        assert_eq!(
            d.velocity.as_ref().unwrap().zone,
            Some(Zone::D),
            "the full fault is in zone D"
        );
        assert!(
            d.reasons.iter().any(|r| r.contains("unknown")),
            "{:?}",
            d.reasons
        );
    }
}

#[test]
fn slow_shafts_in_short_blocks_are_judged_on_what_can_be_judged() {
    // A 60 rpm conveyor in a 1.28 s block: barely more than one revolution.
    let (samples, fs, _, bearing, (group, support)) = faulted_block(0.0);
    let d = Diagnoser::new().diagnose(
        &DiagnosisInput::new(&samples, fs, 60.0)
            .with_bearing(&bearing)
            .with_iso(group, support),
    );
    assert_ne!(d.health, HealthState::CheckFunction);
    assert!(d.findings.is_empty());
    assert!(
        d.reasons.iter().any(|r| r.contains("revolutions")),
        "{:?}",
        d.reasons
    );
}

#[test]
fn clipping_is_flagged_and_does_not_fool_the_verdict() {
    let (samples, fs, rpm, bearing, _) = faulted_block(0.6);
    let peak = samples.iter().fold(0f32, |m, x| m.max(x.abs()));
    let rail = 0.5 * peak;
    let clipped: Vec<f32> = samples.iter().map(|x| x.clamp(-rail, rail)).collect();
    let mut diagnoser = Diagnoser::new();
    let clean = diagnoser.diagnose(&DiagnosisInput::new(&samples, fs, rpm).with_bearing(&bearing));
    assert!(clean.quality.clipping.is_none());
    let d = diagnoser.diagnose(&DiagnosisInput::new(&clipped, fs, rpm).with_bearing(&bearing));
    let clipping = d.quality.clipping.as_ref().expect("clipping flagged");
    assert!((clipping.high - f64::from(rail)).abs() < 1e-6);
    assert_eq!(
        d.verdict,
        Verdict::OuterRace,
        "the impacts' timing survives clipping: {:?}",
        d.reasons
    );
    assert_eq!(d.health, HealthState::CheckFunction);
    assert!(d.reasons.iter().any(|r| r.contains("clipped")));
}

#[test]
fn units_scale_the_amplitudes_not_the_verdict() {
    let (samples, fs, rpm, bearing, _) = faulted_block(0.5);
    let in_m_s2: Vec<f32> = samples
        .iter()
        .map(|&x| (f64::from(x) * STANDARD_GRAVITY) as f32)
        .collect();
    let mut diagnoser = Diagnoser::new();
    let g = diagnoser.diagnose(&DiagnosisInput::new(&samples, fs, rpm).with_bearing(&bearing));
    let si = diagnoser.diagnose(
        &DiagnosisInput::new(&in_m_s2, fs, rpm)
            .with_bearing(&bearing)
            .with_unit_scale(1.0),
    );
    assert_eq!(g.verdict, si.verdict);
    let (a, b) = (g.indicators.unwrap(), si.indicators.unwrap());
    assert!((a.rms_g - b.rms_g).abs() < 1e-6 * a.rms_g.max(1.0));
    let (va, vb) = (g.velocity.unwrap().rms_mm_s, si.velocity.unwrap().rms_mm_s);
    assert!((va - vb).abs() < 1e-4 * va);
}

#[test]
fn degenerate_bearings_and_any_length_do_not_panic() {
    let (samples, fs, rpm, _, _) = faulted_block(0.5);
    let mut diagnoser = Diagnoser::new();
    for (d, pitch, n) in [
        (50.0, 40.0, 9),
        (0.0, 40.0, 9),
        (8.0, 40.0, 0),
        (f64::NAN, 40.0, 9),
        (8.0, 0.0, 9),
    ] {
        let bearing = BearingGeometry {
            designation: String::new(),
            rolling_elements: n,
            ball_diameter_mm: d,
            pitch_diameter_mm: pitch,
            contact_angle_deg: 0.0,
        };
        let _ = diagnoser.diagnose(&DiagnosisInput::new(&samples, fs, rpm).with_bearing(&bearing));
    }
    // Lengths that are not powers of two, short and long.
    let (long, _, _, bearing, _) = faulted_record(0.5, 400_000);
    for n in [1300, 1500, 5000, 16_383, 16_385, 50_001] {
        let d = diagnoser.diagnose(&DiagnosisInput::new(&long[..n], fs, rpm));
        assert_ne!(d.health, HealthState::CheckFunction, "{n}: {:?}", d.reasons);
    }
    let d = diagnoser.diagnose(&DiagnosisInput::new(&long, fs, rpm).with_bearing(&bearing));
    assert_eq!(d.verdict, Verdict::OuterRace);
}

#[test]
fn diagnosis_round_trips_through_json_in_snake_case() {
    let (samples, fs, rpm, bearing, (group, support)) = faulted_block(1.0);
    let (d, spectra) = Diagnoser::new().diagnose_with_spectra(
        &DiagnosisInput::new(&samples, fs, rpm)
            .with_bearing(&bearing)
            .with_iso(group, support),
    );
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"verdict\":\"outer_race\""), "{json}");
    assert!(json.contains("\"health\":\"failure\""), "{json}");
    let back: Diagnosis = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (back.verdict, back.health, back.score),
        (d.verdict, d.health, d.score)
    );
    assert_eq!(
        (back.findings.len(), &back.reasons),
        (d.findings.len(), &d.reasons)
    );
    // The plotted velocity spectrum adds up to the ISO band value.
    let v = &spectra.velocity;
    let band: f64 = v
        .values
        .iter()
        .enumerate()
        .filter(|(k, _)| (10.0..=1000.0).contains(&(*k as f64 * v.bin_hz)))
        .map(|(_, &x)| f64::from(x).powi(2))
        .sum::<f64>()
        .sqrt();
    let rms = d.velocity.as_ref().unwrap().rms_mm_s;
    assert!((band - rms).abs() < 1e-3 * rms, "{band} vs {rms}");
    assert!(spectra.envelope.bin_hz > 0.0 && !spectra.envelope.values.is_empty());
    assert!(!spectra.envelope_whitened.values.is_empty());
    assert!(!spectra.kurtogram.is_empty());
    // Every reason that set the colour is there in words.
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("outer race") && r.contains("BPFO"))
    );
    assert!(d.reasons.iter().any(|r| r.contains("ISO 20816-3 zone D")));
}
