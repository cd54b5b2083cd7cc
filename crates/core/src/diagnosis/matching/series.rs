//! Harmonic series of a defect frequency in the acceleration spectrum,
//! against control series, and the choice between findings of one mode.

use super::floor::Spectrum;
use super::patterns::{EXCESS_SCALE_DB, SPEED_TOLERANCE, Scored, harmonic_label};
use crate::diagnosis::{Evidence, EvidenceKind, ModeFinding};
use crate::line::FaultMode;

/// Harmonics examined in a harmonic series.
pub const SERIES_HARMONICS: u32 = 40;
/// A harmonic counts when its line stands this far above the spectrum's
/// significance threshold.
const SERIES_LINE_DB: f64 = 4.0;
/// Ratios of the base frequency for the control series: none is a simple
/// ratio, so their hit counts measure how many lines fall on any series by
/// chance in this spectrum.
const CONTROL_RATIOS: [f64; 10] = [0.77, 0.81, 0.85, 0.89, 0.93, 1.07, 1.11, 1.15, 1.19, 1.23];
/// Standard deviations above the control mean for a series to count.
pub const SERIES_Z: f64 = 4.0;

/// A harmonic series of a defect frequency in the acceleration spectrum.
///
/// A defect struck at a very steady rate rings the structure with a train
/// of impacts whose spectrum is a series of lines at every harmonic of the
/// defect frequency, up through the resonances. The test counts how many of
/// the first [`SERIES_HARMONICS`] harmonics (one speed factor for all,
/// within [`SPEED_TOLERANCE`]) hold a line, and compares the count with the
/// same count for control series at unrelated frequencies: dense line
/// spectra (shaft harmonics, supply harmonics) raise the controls too.
pub fn harmonic_series(
    spectrum: &mut Spectrum,
    mode: FaultMode,
    name: &str,
    base_hz: f64,
) -> Option<Scored> {
    let max_hz = spectrum.max_hz();
    let harmonics =
        SERIES_HARMONICS.min((max_hz / (base_hz * (1.0 + SPEED_TOLERANCE))).floor() as u32);
    if base_hz.is_nan() || base_hz <= 0.0 || harmonics < 10 {
        return None;
    }
    let line_db = spectrum.threshold_db + SERIES_LINE_DB;
    let top_ratio = CONTROL_RATIOS.iter().copied().fold(1.0, f64::max);
    let mask = spectrum.line_mask(
        line_db,
        f64::from(harmonics) * base_hz * top_ratio * (1.0 + SPEED_TOLERANCE),
    );
    let bin_hz = spectrum.bin_hz;
    let count = |f0: f64| -> (u32, f64) {
        // One bin of movement at the top harmonic per step; the mask's ±1 bin covers between.
        let step = bin_hz / (f64::from(harmonics) * f0);
        let steps = (SPEED_TOLERANCE / step).ceil() as i64;
        let mut best = (0u32, 1.0);
        for i in -steps..=steps {
            let s = 1.0 + i as f64 * step;
            let hits = (1..=harmonics)
                .filter(|&h| {
                    mask.get((f64::from(h) * f0 * s / bin_hz).round() as usize)
                        .copied()
                        .unwrap_or(false)
                })
                .count() as u32;
            if (hits, -(s - 1.0).abs()) > (best.0, -(best.1 - 1.0f64).abs()) {
                best = (hits, s);
            }
        }
        best
    };
    let (hits, speed) = count(base_hz);
    let controls: Vec<f64> = CONTROL_RATIOS
        .iter()
        .map(|r| f64::from(count(r * base_hz).0))
        .collect();
    let mean = controls.iter().sum::<f64>() / controls.len() as f64;
    let sd = (controls.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / controls.len() as f64)
        .sqrt()
        .max(1.5);
    let z = (f64::from(hits) - mean) / sd;
    let holds = z >= SERIES_Z && f64::from(hits) >= 0.5 * f64::from(harmonics);
    let raw = (1.0 - (-(z - 2.0).max(0.0) / 2.0).exp()).clamp(0.0, 1.0);
    let confidence = if holds { raw } else { raw.min(0.49) };
    let evidence: Vec<Evidence> = (1..=harmonics)
        .filter_map(|h| {
            let expected = f64::from(h) * base_hz * speed;
            let found = spectrum.find(expected, 1.0)?;
            (found.level_db >= line_db).then(|| Evidence {
                label: harmonic_label(name, h),
                kind: if h == 1 {
                    EvidenceKind::Fundamental
                } else {
                    EvidenceKind::Harmonic
                },
                harmonic: h,
                expected_hz: expected,
                frequency_hz: found.frequency_hz,
                level_db_above_floor: found.level_db,
                significant: true,
                explained_by: None,
                amplitude: None,
            })
        })
        .collect();
    Some(Scored {
        finding: ModeFinding {
            mode,
            present: holds && confidence >= 0.5,
            confidence,
            strength_db: -EXCESS_SCALE_DB * (1.0 - confidence).max(1e-9).ln(),
            source: format!(
                "acceleration spectrum: {hits} of the first {harmonics} {name} harmonics (to {:.1} kHz) hold a line {line_db:.0} dB above the floor, against {mean:.1} ± {sd:.1} for control series",
                f64::from(harmonics) * base_hz * speed / 1000.0
            ),
            rule: format!(
                "a {name} harmonic series at least {SERIES_Z} standard deviations above the control series, on at least half the harmonics: {}",
                if holds { "holds" } else { "does not hold" }
            ),
            evidence,
        },
        excess: -EXCESS_SCALE_DB * (1.0 - raw).max(1e-9).ln(),
        holds,
    })
}

/// Keeps, per mode, the better of two findings: the one whose pattern is
/// present, then the one with more excess.
pub fn keep_best(best: &mut Vec<Scored>, candidates: Vec<Scored>) {
    for c in candidates {
        match best.iter_mut().find(|b| b.finding.mode == c.finding.mode) {
            Some(b) => {
                if (c.finding.present, c.excess) > (b.finding.present, b.excess) {
                    *b = c;
                }
            }
            None => best.push(c),
        }
    }
}
