//! From the findings to one verdict, a health state with its score, and the
//! reasons in words.

use crate::diagnosis::{Diagnosis, Evidence, HealthState, ModeFinding, Verdict};
use crate::iso::{Support, Zone, ZoneBoundaries};

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

/// A rival location is one whose evidence reaches this share of the
/// winner's: 2/3, i.e. the winner's lead is under half the rival's
/// evidence. Evidence is a sum of dB over the threshold, so a lead smaller
/// than that is within what one line more or less (a harmonic that
/// happens to fall on a shaft line, a sideband at the floor) can change.
pub const LOCATION_RIVAL_SHARE: f64 = 2.0 / 3.0;

/// The strongest other bearing location that is also present and whose
/// evidence is nearly as strong: then the location is uncertain.
pub fn location_rival<'a>(
    findings: &'a [ModeFinding],
    best: &ModeFinding,
) -> Option<&'a ModeFinding> {
    if !best.mode.needs_bearing() {
        return None;
    }
    findings
        .iter()
        .filter(|f| f.present && f.mode != best.mode && f.mode.needs_bearing())
        .filter(|f| f.strength_db >= LOCATION_RIVAL_SHARE * best.strength_db)
        .max_by(|a, b| a.strength_db.total_cmp(&b.strength_db))
}

/// Verdict, health, score and reasons from the findings.
pub(super) fn conclude(diagnosis: &mut Diagnosis, notes: Vec<String>) {
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
            let rival = location_rival(&diagnosis.findings, finding);
            let verdict = if rival.is_some() {
                Verdict::Bearing
            } else {
                Verdict::from(finding.mode)
            };
            diagnosis.verdict = verdict;
            diagnosis.confidence = finding.confidence;
            // A confirmed fault: 69 at confidence 0.5 down to 40 at 1.
            let fault_score = 69.0 - 58.0 * (finding.confidence - 0.5);
            score = score.min(fault_score);
            match rival {
                Some(rival) => reasons.push(format!(
                    "{} (confidence {:.0} % that there is one): {} ({:.0} dB of evidence) and {} ({:.0} dB) fit about as well; {}",
                    verdict.label(),
                    100.0 * finding.confidence,
                    Verdict::from(finding.mode).label(),
                    finding.strength_db,
                    Verdict::from(rival.mode).label(),
                    rival.strength_db,
                    describe_evidence(finding)
                )),
                None => reasons.push(format!(
                    "{} (confidence {:.0} %): {}",
                    verdict.label(),
                    100.0 * finding.confidence,
                    describe_evidence(finding)
                )),
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::FaultMode;

    fn finding(mode: FaultMode, strength_db: f64, present: bool) -> ModeFinding {
        ModeFinding {
            mode,
            present,
            confidence: 1.0 - (-strength_db / 12.0f64).exp(),
            strength_db,
            source: "envelope".into(),
            rule: String::new(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn a_nearly_as_strong_second_location_makes_the_location_uncertain() {
        let outer = finding(FaultMode::OuterRace, 30.0, true);
        let close = [outer.clone(), finding(FaultMode::Ball, 25.0, true)];
        assert_eq!(
            location_rival(&close, &outer).map(|f| f.mode),
            Some(FaultMode::Ball)
        );
        let weak = [outer.clone(), finding(FaultMode::Ball, 15.0, true)];
        assert!(location_rival(&weak, &outer).is_none(), "a clear lead");
        let absent = [outer.clone(), finding(FaultMode::Ball, 29.0, false)];
        assert!(
            location_rival(&absent, &outer).is_none(),
            "a rival must be present"
        );
        let shaft = finding(FaultMode::Unbalance, 30.0, true);
        let mixed = [shaft.clone(), finding(FaultMode::Misalignment, 29.0, true)];
        assert!(
            location_rival(&mixed, &shaft).is_none(),
            "shaft faults are not bearing locations"
        );
    }
}
