//! The chain put together: from samples to findings, one verdict, a health
//! state and score, and the reasons in words.

mod conclusion;
mod shaft;

use super::envelope::{self, EnvelopeSpectrum};
use super::matching::{self, Spectrum};
use super::spectrum::{self, SegmentPlan};
use super::{
    Diagnosis, DiagnosisInput, DiagnosisSpectra, HealthState, PlotSpectrum, VelocityAssessment,
    Verdict, Work, indicators, quality,
};
use crate::dsp::{FftCache, STANDARD_GRAVITY};
use crate::iso;
use crate::line::FaultMode;
use conclusion::conclude;
use shaft::shaft_findings;

pub use conclusion::{iso_score, state_of};
pub use shaft::DEFAULT_ISO;

/// Shaft analyses need segments of at least this many revolutions.
pub const MIN_REVOLUTIONS: f64 = 8.0;
/// Velocity spectrum for plots stops here.
const VELOCITY_PLOT_HZ: f64 = 2000.0;

pub(crate) fn run(
    ffts: &mut FftCache,
    work: &mut Work,
    input: &DiagnosisInput,
    want_spectra: bool,
) -> (Diagnosis, DiagnosisSpectra) {
    let quality = quality::check(
        input.samples,
        input.sample_rate_hz,
        input.unit_scale_to_m_s2,
    );
    let mut spectra = DiagnosisSpectra::default();
    let mut diagnosis = Diagnosis {
        verdict: Verdict::None,
        confidence: 0.0,
        health: HealthState::CheckFunction,
        score: None,
        reasons: Vec::new(),
        quality,
        indicators: None,
        velocity: None,
        shaft: None,
        defect_frequencies: None,
        envelope_band: None,
        findings: Vec::new(),
    };
    if !diagnosis.quality.usable() {
        diagnosis.reasons = diagnosis
            .quality
            .unusable
            .iter()
            .map(|r| format!("not analysed: {r}"))
            .collect();
        return (diagnosis, spectra);
    }
    let fs = input.sample_rate_hz;
    let samples = input.samples;
    let to_g = input.unit_scale_to_m_s2 / STANDARD_GRAVITY;
    let indicators = indicators::compute(samples, to_g);
    diagnosis.indicators = Some(indicators);
    let mut notes: Vec<String> = Vec::new();

    let shaft_hz =
        (input.shaft_rpm.is_finite() && input.shaft_rpm > 0.0).then_some(input.shaft_rpm / 60.0);
    if shaft_hz.is_none() {
        notes.push(format!(
            "shaft speed {} rpm unknown: shaft and bearing patterns not examined",
            input.shaft_rpm
        ));
    }
    let Some(plan) = SegmentPlan::new(samples.len(), fs, shaft_hz) else {
        diagnosis.reasons.push("not analysed: too short".into());
        return (diagnosis, spectra);
    };
    let bin_hz = plan.bin_hz(fs);
    let power =
        spectrum::analyse_segments(ffts, work, samples, &plan, indicators.mean_g / to_g, to_g);

    // ISO 20816-3 overall velocity.
    let band_low = iso::band_low_hz(input.shaft_rpm.max(0.0));
    let band_high = iso::BAND_HIGH_HZ.min(0.5 * fs);
    let velocity =
        spectrum::velocity_per_bin(&power, bin_hz, band_low, VELOCITY_PLOT_HZ.min(0.5 * fs));
    let v_rms = spectrum::band_rms(&velocity, bin_hz, band_low, band_high);
    let class = input.iso.map(|(g, s)| (g, s, iso::boundaries(g, s)));
    diagnosis.velocity = Some(VelocityAssessment {
        rms_mm_s: v_rms,
        band_low_hz: band_low,
        band_high_hz: band_high,
        zone: class.map(|(_, _, b)| b.zone_of(v_rms)),
        group: class.map(|(g, _, _)| g),
        support: class.map(|(_, s, _)| s),
        boundaries_mm_s: class.map(|(_, _, b)| [b.ab, b.bc, b.cd]),
    });
    if want_spectra {
        spectra.velocity = PlotSpectrum {
            bin_hz,
            unit: "mm/s rms".into(),
            values: velocity.iter().map(|&v| v as f32).collect(),
        };
    }

    let revolutions = shaft_hz.map_or(0.0, |f| f / bin_hz);
    let shaft_ok = shaft_hz.is_some() && revolutions >= MIN_REVOLUTIONS;
    if shaft_hz.is_some() && !shaft_ok {
        notes.push(format!(
            "segments hold {revolutions:.1} shaft revolutions, fewer than the {MIN_REVOLUTIONS} needed: shaft and bearing patterns not examined (send longer blocks)"
        ));
    }

    // Shaft orders in the velocity spectrum.
    let mut measured_shaft_hz = shaft_hz.unwrap_or(0.0);
    if let (true, Some(fr)) = (shaft_ok, shaft_hz) {
        let (orders, findings, measured) = shaft_findings(
            &power,
            bin_hz,
            plan.starts.len(),
            fr,
            v_rms,
            class.map(|c| c.2),
        );
        measured_shaft_hz = measured;
        diagnosis.shaft = Some(orders);
        diagnosis.findings.extend(findings);
    }

    // Envelope analysis: the kurtogram over the bands wide enough to hold
    // the patterns (2.5 × the highest defect frequency) and starting above
    // them, the envelope spectrum of its band, and the pre-whitened one.
    let defects = input
        .bearing
        .filter(|_| shaft_ok)
        .map(|b| b.defect_frequencies(input.shaft_rpm));
    diagnosis.defect_frequencies = defects;
    let f_max = defects.map_or(20.0 * shaft_hz.unwrap_or(50.0), |d| {
        d.bpfi.max(2.0 * d.bsf).max(d.bpfo)
    });
    let floor_hz = 0.5 * shaft_hz.unwrap_or(50.0);
    let mut scored: Vec<matching::Scored> = Vec::new();
    let (levels, band) = envelope::kurtogram(ffts, work, &plan, fs, 2.5 * f_max, f_max);
    diagnosis.envelope_band = band;
    if let Some(band) = band.filter(|_| defects.is_some() || want_spectra) {
        let ses =
            envelope::envelope_spectrum(ffts, work, &plan, fs, band.low_hz, band.high_hz, false);
        if let Some(d) = &defects {
            let mut spectrum = Spectrum::new(&ses.power, ses.bin_hz, ses.segments, floor_hz);
            matching::keep_best(
                &mut scored,
                matching::evaluate_spectrum(&mut spectrum, d, measured_shaft_hz, &ses.describe()),
            );
        }
        if want_spectra {
            spectra.envelope = PlotSpectrum {
                bin_hz: ses.bin_hz,
                unit: "g²".into(),
                values: ses.amplitudes(),
            };
        }
    }
    let mut ses_white: Option<EnvelopeSpectrum> = None;
    if defects.is_some() || want_spectra {
        let ses = envelope::envelope_spectrum(ffts, work, &plan, fs, f_max, 0.5 * fs, true);
        if let Some(d) = &defects {
            let mut spectrum = Spectrum::new(&ses.power, ses.bin_hz, ses.segments, floor_hz);
            matching::keep_best(
                &mut scored,
                matching::evaluate_spectrum(&mut spectrum, d, measured_shaft_hz, &ses.describe()),
            );
        }
        ses_white = Some(ses);
    }
    if let Some(d) = &defects {
        // The ball's impact rate, repeated in two disjoint bands (see
        // `matching::ball_in_two_bands`): below and above a quarter of
        // the sampling rate, each wide enough for the patterns.
        let split = 0.25 * fs;
        if split - f_max >= 2.5 * f_max {
            let mut halves = Vec::with_capacity(2);
            for (low, high) in [(f_max, split), (split, 0.5 * fs)] {
                let ses = envelope::envelope_spectrum(ffts, work, &plan, fs, low, high, true);
                let mut spectrum = Spectrum::new(&ses.power, ses.bin_hz, ses.segments, floor_hz);
                let ball = matching::evaluate_spectrum(
                    &mut spectrum,
                    d,
                    measured_shaft_hz,
                    &ses.describe(),
                )
                .into_iter()
                .find(|s| s.finding.mode == FaultMode::Ball);
                halves.push((
                    ball,
                    spectrum.threshold_db,
                    ses.bin_hz,
                    envelope::describe_band(ses.low_hz, ses.high_hz),
                ));
            }
            if let [(Some(a), ta, fa, na), (Some(b), tb, fb, nb)] = halves.as_slice() {
                let band = |ball, threshold_db, bin_hz, band| matching::BandBall {
                    ball,
                    threshold_db,
                    bin_hz,
                    band,
                };
                if let Some(ball) =
                    matching::ball_in_two_bands(band(a, *ta, *fa, na), band(b, *tb, *fb, nb))
                {
                    matching::keep_best(&mut scored, vec![ball]);
                }
            }
        }
    }
    if let Some(d) = &defects {
        // Harmonic series of the race defect frequencies in the acceleration spectrum.
        let mut spectrum = Spectrum::new(&power, bin_hz, plan.starts.len(), floor_hz);
        for (mode, name, f) in [
            (FaultMode::OuterRace, "BPFO", d.bpfo),
            (FaultMode::InnerRace, "BPFI", d.bpfi),
        ] {
            if let Some(series) = matching::harmonic_series(&mut spectrum, mode, name, f) {
                matching::keep_best(&mut scored, vec![series]);
            }
        }
    }
    diagnosis
        .findings
        .extend(scored.into_iter().map(|s| s.finding));
    if want_spectra {
        if let Some(ses) = &ses_white {
            spectra.envelope_whitened = PlotSpectrum {
                bin_hz: ses.bin_hz,
                unit: "1".into(),
                values: ses.amplitudes(),
            };
        }
        spectra.kurtogram = levels;
    }

    conclude(&mut diagnosis, notes);
    (diagnosis, spectra)
}
