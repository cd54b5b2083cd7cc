//! The ISO 20816-3 overall velocity as the diagnosis computes it (the number
//! that sets the viewer's colour): pure tones of known velocity, tones
//! outside the band, tones adding in power, and degenerate blocks.

use std::f64::consts::TAU;

use linetwin_core::diagnosis::{Diagnoser, DiagnosisInput};
use linetwin_core::dsp::STANDARD_GRAVITY;

const FS: f64 = 12_800.0;
const RPM: f64 = 1480.0;

/// Acceleration in g of a vibration whose velocity is `v_peak_mm_s` at `f`.
fn tone(v_peak_mm_s: f64, f: f64) -> Vec<f32> {
    let a_peak_g = v_peak_mm_s * 1e-3 * TAU * f / STANDARD_GRAVITY;
    (0..16_384)
        .map(|i| (a_peak_g * (TAU * f * i as f64 / FS).sin()) as f32)
        .collect()
}

fn iso_velocity(samples: &[f32]) -> f64 {
    let diagnosis = Diagnoser::new().diagnose(&DiagnosisInput::new(samples, FS, RPM));
    diagnosis
        .velocity
        .expect("a velocity for a usable block")
        .rms_mm_s
}

#[test]
fn a_pure_tone_reads_peak_over_root_two_across_the_band() {
    for f in [24.6, 49.3, 150.0, 733.0] {
        let v = iso_velocity(&tone(4.0, f));
        assert!((v - 4.0 / 2f64.sqrt()).abs() < 0.06, "{f} Hz: {v}");
    }
}

#[test]
fn tones_outside_the_band_do_not_count() {
    let v = iso_velocity(&tone(4.0, 2500.0));
    assert!(v < 0.05, "{v}");
}

#[test]
fn tones_add_in_power() {
    let both: Vec<f32> = tone(3.0, 49.0)
        .iter()
        .zip(tone(4.0, 98.0))
        .map(|(a, b)| a + b)
        .collect();
    let v = iso_velocity(&both);
    assert!((v - 5.0 / 2f64.sqrt()).abs() < 0.08, "{v}");
}

#[test]
fn empty_and_tiny_blocks_have_no_velocity_and_do_not_panic() {
    let mut diagnoser = Diagnoser::new();
    for samples in [&[][..], &[1.0][..]] {
        let diagnosis = diagnoser.diagnose(&DiagnosisInput::new(samples, FS, RPM));
        assert!(diagnosis.velocity.is_none_or(|v| v.rms_mm_s.is_finite()));
    }
}
