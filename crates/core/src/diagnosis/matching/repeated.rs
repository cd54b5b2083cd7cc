//! A ball's impact rate seen twice: in the pre-whitened envelopes of two
//! disjoint frequency bands.

use super::patterns::{EXCESS_SCALE_DB, MAX_EXCESS_DB, Scored, weight};
use crate::diagnosis::{Evidence, EvidenceKind, ModeFinding};
use crate::line::FaultMode;

/// A ball defect found by repetition across bands.
///
/// A defective ball strikes the races at 2×BSF, but its spin rate wanders
/// (it slides in and out of the load zone, it is pushed around by the
/// cage), so its higher harmonics and cage-rate sidebands smear into the
/// floor and often only the impact rate itself stands out (Randall &
/// Antoni 2011 call ball faults the hardest to see). One line in one
/// envelope is not a pattern, but an impact excites every resonance it
/// reaches: the same line in the envelopes of two bands that share no
/// frequency is two observations of one cause, whose floors are
/// independent. The chance that noise puts a line above the threshold at
/// the same place (within [`SAME_PLACE_BINS`]) in both is about the square
/// of the per-band chance (10⁻³ per bin, see `floor`) times the few bins
/// each placement may choose from, as strict as the two-line rule of one
/// envelope.
///
/// Each band is its ball finding (as `evaluate_spectrum` made it: lines
/// other patterns explain are marked), the threshold of its spectrum and
/// the band in words. Counts a main line (BSF or 2×BSF) that counts in
/// both, plus any other harmonic or sideband that counts in both; each
/// band's line is one piece of evidence.
pub fn ball_in_two_bands(low: BandBall<'_>, high: BandBall<'_>) -> Option<Scored> {
    let (a, b) = (&low.ball.finding, &high.ball.finding);
    if a.mode != FaultMode::Ball || b.mode != FaultMode::Ball {
        return None;
    }
    let both: Vec<(&Evidence, &Evidence)> = a
        .evidence
        .iter()
        .filter(|e| e.counts())
        .filter_map(|e| {
            b.evidence
                .iter()
                .find(|f| {
                    f.label == e.label
                        && f.counts()
                        && (f.frequency_hz - e.frequency_hz).abs()
                            <= SAME_PLACE_BINS * low.bin_hz.max(high.bin_hz)
                })
                .map(|f| (e, f))
        })
        .collect();
    let holds = both
        .iter()
        .any(|(e, _)| e.kind == EvidenceKind::Fundamental);
    let mut evidence = Vec::new();
    let mut excess = 0.0;
    for (e, f) in &both {
        for (line, band) in [(e, &low), (f, &high)] {
            excess += weight(line.kind)
                * (line.level_db_above_floor - band.threshold_db).min(MAX_EXCESS_DB);
            let mut line = (*line).clone();
            line.label = format!("{} in {}", line.label, band.band);
            evidence.push(line);
        }
    }
    let raw = 1.0 - (-excess / EXCESS_SCALE_DB).exp();
    let confidence = if holds { raw } else { raw.min(0.49) };
    Some(Scored {
        finding: ModeFinding {
            mode: FaultMode::Ball,
            present: holds && confidence >= 0.5,
            confidence,
            strength_db: excess,
            source: format!("pre-whitened envelopes {} and {}", low.band, high.band),
            rule: format!(
                "BSF or 2×BSF counting in the pre-whitened envelopes of two disjoint bands, no other pattern explaining it: {}",
                if holds { "holds" } else { "does not hold" }
            ),
            evidence,
        },
        excess: if holds {
            excess
        } else {
            excess.min(EXCESS_SCALE_DB * 0.69)
        },
        holds,
    })
}

/// The two bands' lines must lie this close (in bins of the coarser
/// spectrum): each band places its family with its own speed factor
/// within ±2 %, so without this the "same line" could be several bins
/// apart and the chance of a coincidence would be that much larger.
const SAME_PLACE_BINS: f64 = 2.0;

/// One band's ball finding, for [`ball_in_two_bands`].
#[derive(Debug, Clone, Copy)]
pub struct BandBall<'a> {
    pub ball: &'a Scored,
    pub threshold_db: f64,
    /// The spectrum's resolution.
    pub bin_hz: f64,
    /// "0.2-3.0 kHz".
    pub band: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(label: &str, kind: EvidenceKind, level: f64) -> Evidence {
        Evidence {
            label: label.into(),
            kind,
            harmonic: 2,
            expected_hz: 139.0,
            frequency_hz: 139.0,
            level_db_above_floor: level,
            significant: level >= 6.0,
            explained_by: None,
            amplitude: None,
        }
    }

    fn ball(lines: Vec<Evidence>) -> Scored {
        Scored {
            finding: ModeFinding {
                mode: FaultMode::Ball,
                present: false,
                confidence: 0.4,
                strength_db: 0.0,
                source: String::new(),
                rule: String::new(),
                evidence: lines,
            },
            excess: 0.0,
            holds: false,
        }
    }

    fn band<'a>(ball: &'a Scored, band: &'a str) -> BandBall<'a> {
        BandBall {
            ball,
            threshold_db: 6.0,
            bin_hz: 0.5,
            band,
        }
    }

    #[test]
    fn the_impact_rate_in_both_bands_is_a_ball_defect() {
        let low = ball(vec![line("2×BSF", EvidenceKind::Fundamental, 11.0)]);
        let high = ball(vec![line("2×BSF", EvidenceKind::Fundamental, 12.0)]);
        let found =
            ball_in_two_bands(band(&low, "0.2-3.0 kHz"), band(&high, "3.0-6.0 kHz")).unwrap();
        assert!(found.finding.present, "{:?}", found.finding);
        assert_eq!(found.finding.evidence.len(), 2);
        assert!((found.finding.strength_db - 1.5 * 11.0).abs() < 1e-9);
        assert_eq!(found.finding.evidence[0].label, "2×BSF in 0.2-3.0 kHz");
    }

    #[test]
    fn one_band_alone_or_an_explained_line_is_not() {
        let strong = ball(vec![line("2×BSF", EvidenceKind::Fundamental, 20.0)]);
        let quiet = ball(vec![line("2×BSF", EvidenceKind::Fundamental, 4.0)]);
        let alone = ball_in_two_bands(band(&strong, "a"), band(&quiet, "b")).unwrap();
        assert!(!alone.finding.present && !alone.holds);
        let mut explained = line("2×BSF", EvidenceKind::Fundamental, 20.0);
        explained.explained_by = Some("3×BPFO".into());
        let claimed = ball(vec![explained]);
        let both = ball_in_two_bands(band(&strong, "a"), band(&claimed, "b")).unwrap();
        assert!(!both.finding.present);
        let mut elsewhere = line("2×BSF", EvidenceKind::Fundamental, 20.0);
        elsewhere.frequency_hz += 2.0;
        let apart = ball(vec![elsewhere]);
        let far = ball_in_two_bands(band(&strong, "a"), band(&apart, "b")).unwrap();
        assert!(
            !far.holds,
            "2 Hz apart at 0.5 Hz per bin is not the same line"
        );
        let sidebands = ball(vec![line("2×BSF-FTF", EvidenceKind::Sideband, 20.0)]);
        let no_main = ball_in_two_bands(band(&sidebands, "a"), band(&sidebands, "b")).unwrap();
        assert!(!no_main.holds, "sidebands alone are not the impact rate");
    }
}
