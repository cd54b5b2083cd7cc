//! The chain put together: from samples to findings, one verdict, a health
//! state and score, and the reasons in words.

use std::f64::consts::TAU;

use super::envelope::{self, EnvelopeSpectrum};
use super::matching::{self, Spectrum};
use super::spectrum::{self, SegmentPlan};
use super::{
    Diagnosis, DiagnosisInput, DiagnosisSpectra, Evidence, EvidenceKind, HealthState, ModeFinding,
    PlotSpectrum, ShaftOrders, VelocityAssessment, Verdict, Work, indicators, quality,
};
use crate::dsp::{FftCache, STANDARD_GRAVITY};
use crate::iso::{self, MachineGroup, Support, Zone, ZoneBoundaries};
use crate::line::FaultMode;

/// Shaft analyses need segments of at least this many revolutions.
pub const MIN_REVOLUTIONS: f64 = 8.0;
/// Velocity spectrum for plots stops here.
const VELOCITY_PLOT_HZ: f64 = 2000.0;
/// Without an ISO class, shaft-order faults are judged against the
/// strictest ISO 20816-3 table (group 2, rigid).
pub const DEFAULT_ISO: (MachineGroup, Support) = (MachineGroup::Group2, Support::Rigid);
/// The 1× line is searched this far from the nominal speed (motor slip,
/// speed given as a nameplate value).
const ONE_X_TOLERANCE: f64 = 0.03;

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

/// 1×, 2×, 3× in the velocity spectrum; unbalance and misalignment.
fn shaft_findings(
    power: &[f64],
    bin_hz: f64,
    segments: usize,
    fr: f64,
    v_rms: f64,
    boundaries: Option<ZoneBoundaries>,
) -> (ShaftOrders, Vec<ModeFinding>, f64) {
    let threshold = matching::significance_db(segments);
    let to_velocity = |p: f64, f: f64| p.sqrt() * STANDARD_GRAVITY * 1000.0 / (TAU * f);
    let one = spectrum::line_near(power, bin_hz, fr, ONE_X_TOLERANCE * fr);
    // Trust the 1× line for the running speed only when it stands out.
    let measured = one
        .filter(|l| l.level_db >= threshold)
        .map_or(fr, |l| l.frequency_hz);
    let lines: Vec<Option<spectrum::Line>> = (1..=3)
        .map(|h| {
            if h == 1 {
                one
            } else {
                spectrum::line_near(power, bin_hz, h as f64 * measured, 1.5 * bin_hz)
            }
        })
        .collect();
    let mut v = [0.0; 3];
    let mut evidence = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let h = i as u32 + 1;
        if let Some(l) = line {
            v[i] = to_velocity(l.power, l.frequency_hz);
            evidence.push(Evidence {
                label: format!("{h}×"),
                kind: if h == 1 {
                    EvidenceKind::Fundamental
                } else {
                    EvidenceKind::Harmonic
                },
                harmonic: h,
                expected_hz: h as f64 * measured,
                frequency_hz: l.frequency_hz,
                level_db_above_floor: l.level_db,
                significant: l.level_db >= threshold,
                explained_by: None,
                amplitude: Some(v[i]),
            });
        }
    }
    let b = boundaries.unwrap_or_else(|| iso::boundaries(DEFAULT_ISO.0, DEFAULT_ISO.1));
    let sig = |h: u32| evidence.iter().any(|e| e.harmonic == h && e.significant);
    let source = "velocity spectrum".to_string();

    // Unbalance: a once-per-revolution force, so 1× dominates.
    let dominance = if v_rms > 0.0 {
        (v[0] / v_rms).powi(2).min(1.0)
    } else {
        0.0
    };
    let x = v[0] / b.ab;
    let holds = sig(1) && v[0] >= b.ab && dominance >= 0.5 && v[1] < 0.5 * v[0];
    let raw = 1.0 - (-2.0 * x * dominance).exp();
    let unbalance = ModeFinding {
        mode: FaultMode::Unbalance,
        present: holds && raw >= 0.5,
        confidence: if holds { raw } else { raw.min(0.49) },
        strength_db: strength(raw),
        source: source.clone(),
        rule: format!(
            "1× at least {:.1} mm/s (zone A/B boundary), at least half the band's energy, 2× under half of 1×: {}",
            b.ab,
            if holds { "holds" } else { "does not hold" }
        ),
        evidence: evidence.clone(),
    };

    // Misalignment: the coupling bends twice per revolution, so 2× (and 3×) grow.
    let y = v[1] / (0.5 * b.ab);
    let r = if v[0] > 0.0 {
        (v[1] + 0.5 * v[2]) / v[0]
    } else {
        0.0
    };
    let holds = sig(2) && v[1] >= 0.5 * b.ab && v[1] >= 0.5 * v[0];
    let raw = 1.0 - (-1.4 * y * r).exp();
    let misalignment = ModeFinding {
        mode: FaultMode::Misalignment,
        present: holds && raw >= 0.5,
        confidence: if holds { raw } else { raw.min(0.49) },
        strength_db: strength(raw),
        source,
        rule: format!(
            "2× at least {:.1} mm/s (half the zone A/B boundary) and at least half of 1×: {}",
            0.5 * b.ab,
            if holds { "holds" } else { "does not hold" }
        ),
        evidence,
    };
    (
        ShaftOrders {
            nominal_hz: fr,
            measured_hz: measured,
            orders_mm_s: v,
        },
        vec![unbalance, misalignment],
        measured,
    )
}

/// The strength (see [`ModeFinding::strength_db`]) that gives a confidence.
fn strength(confidence: f64) -> f64 {
    -12.0 * (1.0 - confidence).max(1e-9).ln()
}

/// Score of a velocity against its class: 100 at rest, 85 at the A/B
/// boundary, 70 at B/C, 40 at C/D, 15 at twice C/D, 0 at three times.
pub fn iso_score(v: f64, b: &ZoneBoundaries) -> f64 {
    let points = [
        (0.0, 100.0),
        (b.ab, 85.0),
        (b.bc, 70.0),
        (b.cd, 40.0),
        (2.0 * b.cd, 15.0),
        (3.0 * b.cd, 0.0),
    ];
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if v <= x1 {
            return y0 + (y1 - y0) * (v - x0) / (x1 - x0);
        }
    }
    0.0
}

/// Health state of a score: 70 and above normal, 40 maintenance required,
/// 15 out of specification, below that failure.
pub fn state_of(score: f64) -> HealthState {
    if score >= 70.0 {
        HealthState::Normal
    } else if score >= 40.0 {
        HealthState::MaintenanceRequired
    } else if score >= 15.0 {
        HealthState::OutOfSpecification
    } else {
        HealthState::Failure
    }
}

fn describe_evidence(finding: &ModeFinding) -> String {
    let mut sig: Vec<&Evidence> = finding.evidence.iter().filter(|e| e.counts()).collect();
    sig.sort_by(|a, b| b.level_db_above_floor.total_cmp(&a.level_db_above_floor));
    let lines: Vec<String> = sig
        .iter()
        .take(4)
        .map(|e| match e.amplitude {
            Some(a) => format!(
                "{} {:.1} Hz {:.2} mm/s ({:.0} dB)",
                e.label, e.frequency_hz, a, e.level_db_above_floor
            ),
            None => format!(
                "{} {:.1} Hz {:.0} dB",
                e.label, e.frequency_hz, e.level_db_above_floor
            ),
        })
        .collect();
    let more = sig.len().saturating_sub(4);
    format!(
        "{}{} above the noise floor in the {}",
        lines.join(", "),
        if more > 0 {
            format!(" and {more} more lines")
        } else {
            String::new()
        },
        finding.source
    )
}

/// Verdict, health, score and reasons from the findings.
fn conclude(diagnosis: &mut Diagnosis, notes: Vec<String>) {
    let mut reasons = Vec::new();
    let mut score: f64 = 100.0;
    let mut state_floor = HealthState::Normal;

    // The verdict: the most confident mode whose pattern holds.
    let best = diagnosis
        .findings
        .iter()
        .filter(|f| f.present)
        .max_by(|a, b| a.strength_db.total_cmp(&b.strength_db))
        .cloned();
    let strongest_rejected = diagnosis
        .findings
        .iter()
        .filter(|f| !f.present)
        .map(|f| f.confidence)
        .fold(0.0, f64::max);
    match &best {
        Some(finding) => {
            let verdict = Verdict::from(finding.mode);
            diagnosis.verdict = verdict;
            diagnosis.confidence = finding.confidence;
            // A confirmed fault: 69 at confidence 0.5 down to 40 at 1.
            let fault_score = 69.0 - 58.0 * (finding.confidence - 0.5);
            score = score.min(fault_score);
            reasons.push(format!(
                "{} (confidence {:.0} %): {}",
                verdict.label(),
                100.0 * finding.confidence,
                describe_evidence(finding)
            ));
            for other in diagnosis
                .findings
                .iter()
                .filter(|f| f.present && f.mode != finding.mode)
            {
                reasons.push(format!(
                    "also {} (confidence {:.0} %): {}",
                    Verdict::from(other.mode).label(),
                    100.0 * other.confidence,
                    describe_evidence(other)
                ));
            }
        }
        None => {
            diagnosis.verdict = Verdict::None;
            diagnosis.confidence = 1.0 - strongest_rejected;
            if !diagnosis.findings.is_empty() {
                reasons.push(format!(
                    "no fault pattern found ({} examined; strongest {})",
                    diagnosis.findings.len(),
                    diagnosis
                        .findings
                        .iter()
                        .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
                        .map(|f| format!(
                            "{} at {:.0} %",
                            Verdict::from(f.mode).as_str(),
                            100.0 * f.confidence
                        ))
                        .unwrap_or_default()
                ));
            }
        }
    }

    if let Some(v) = &diagnosis.velocity {
        match (v.zone, v.boundaries_mm_s) {
            (Some(zone), Some([ab, bc, cd])) => {
                let b = ZoneBoundaries { ab, bc, cd };
                let s = iso_score(v.rms_mm_s, &b);
                let class = format!(
                    "group {}, {}",
                    v.group.map_or(0, u8::from),
                    v.support.map_or("", |s| if s == Support::Rigid {
                        "rigid"
                    } else {
                        "flexible"
                    })
                );
                reasons.push(format!(
                    "ISO 20816-3 zone {} ({}): {:.2} mm/s r.m.s. over {:.0}-{:.0} Hz, boundaries {ab}/{bc}/{cd} mm/s for {class}: score {s:.0}",
                    zone.letter(),
                    zone.meaning(),
                    v.rms_mm_s,
                    v.band_low_hz,
                    v.band_high_hz,
                ));
                score = score.min(s);
                if best.is_some() && zone >= Zone::C {
                    let cap = if zone == Zone::D { 14.0 } else { 39.0 };
                    if score > cap {
                        score = cap;
                        reasons.push(format!(
                            "a diagnosed fault with vibration in zone {}: at least {}",
                            zone.letter(),
                            state_of(cap).label()
                        ));
                    }
                }
            }
            _ => reasons.push(format!(
                "velocity {:.2} mm/s r.m.s. over {:.0}-{:.0} Hz (no ISO class given, no zone)",
                v.rms_mm_s, v.band_low_hz, v.band_high_hz
            )),
        }
    }

    if let Some(c) = &diagnosis.quality.clipping {
        reasons.push(format!(
            "clipped: {} samples at the rails {:+.3}/{:+.3} (input unit); peak, crest factor, kurtosis and velocity are underestimated, the fault pattern (timing) is still valid",
            c.samples_at_rails, c.high, c.low
        ));
        state_floor = HealthState::CheckFunction;
    }
    reasons.extend(notes);

    let mut state = state_of(score);
    if state_floor.rank() > state.rank() {
        state = state_floor;
    }
    diagnosis.health = state;
    diagnosis.score = Some((score * 10.0).round() / 10.0);
    diagnosis.reasons = reasons;
}
