//! Bearing fault patterns in an envelope spectrum: each mode's lines placed
//! with one speed factor, explained away greedily and scored.

use super::floor::{Found, Spectrum};
use crate::bearing::DefectFrequencies;
use crate::diagnosis::{Evidence, EvidenceKind, ModeFinding};
use crate::line::FaultMode;

/// Speed tolerance: real defect frequencies differ from the kinematic ones
/// by rolling-element slip (1-2 %) and by any error in the speed given.
pub const SPEED_TOLERANCE: f64 = 0.02;
/// A line's level counts at most this much above the threshold towards
/// confidence, so one huge line cannot stand for a whole pattern.
pub(super) const MAX_EXCESS_DB: f64 = 20.0;
/// Confidence 1 - exp(-E / E0), E the weighted excess in dB.
pub(super) const EXCESS_SCALE_DB: f64 = 12.0;

#[derive(Debug, Clone, Copy)]
struct Pattern {
    mode: FaultMode,
    /// Name of the base frequency: "BPFO".
    name: &'static str,
    base_hz: f64,
    harmonics: u32,
    /// The harmonics that are the fault's own impact rate (BSF and 2×BSF: a
    /// ball defect strikes both races once per spin, the outer race hit
    /// often transmits better); one of them must count.
    main: &'static [u32],
    /// Sidebands: name of the modulation, its frequency, whether it slips
    /// with the rolling elements, and which harmonics carry them.
    sidebands: Option<(&'static str, f64, bool, &'static [u32])>,
}

fn patterns(d: &DefectFrequencies, shaft_hz: f64) -> [Pattern; 4] {
    [
        Pattern {
            mode: FaultMode::OuterRace,
            name: "BPFO",
            base_hz: d.bpfo,
            harmonics: 5,
            main: &[1],
            sidebands: None,
        },
        Pattern {
            mode: FaultMode::InnerRace,
            name: "BPFI",
            base_hz: d.bpfi,
            harmonics: 4,
            main: &[1],
            sidebands: Some(("1×", shaft_hz, false, &[1, 2])),
        },
        Pattern {
            mode: FaultMode::Ball,
            name: "BSF",
            base_hz: d.bsf,
            harmonics: 6,
            main: &[1, 2],
            sidebands: Some(("FTF", d.ftf, true, &[1, 2, 4])),
        },
        Pattern {
            mode: FaultMode::Cage,
            name: "FTF",
            base_hz: d.ftf,
            harmonics: 3,
            main: &[1],
            sidebands: None,
        },
    ]
}

pub(super) fn harmonic_label(name: &str, h: u32) -> String {
    if h == 1 {
        name.to_string()
    } else {
        format!("{h}×{name}")
    }
}

/// A mode's finding in one spectrum, with the weighted excess that ranks it.
#[derive(Debug, Clone)]
pub struct Scored {
    pub finding: ModeFinding,
    pub excess: f64,
    /// The mode's pattern rule holds (confidence may still be under 0.5).
    pub holds: bool,
}

/// A pattern placed in one spectrum: its speed factor and its lines.
struct Placed {
    pattern: Pattern,
    speed: f64,
    evidence: Vec<Evidence>,
}

/// Two lines closer than this cannot be told apart.
fn coincide(a_hz: f64, b_hz: f64, bin_hz: f64) -> bool {
    (a_hz - b_hz).abs() <= 1.5 * bin_hz + 0.003 * a_hz.max(b_hz)
}

fn place(pattern: &Pattern, spectrum: &mut Spectrum) -> Option<Placed> {
    let base = pattern.base_hz;
    let first_main = f64::from(*pattern.main.first()?);
    if base.is_nan() || base <= 0.0 || base * first_main > spectrum.max_hz() {
        return None;
    }
    let threshold = spectrum.threshold_db;
    // One speed factor for the whole family: harmonics stay integer multiples.
    let top = f64::from(pattern.harmonics) * base;
    let step = (0.5 * spectrum.bin_hz / top).max(1e-4);
    let steps = (SPEED_TOLERANCE / step).ceil() as i64;
    let mut best = (f64::NEG_INFINITY, 1.0);
    for i in -steps..=steps {
        let s = 1.0 + i as f64 * step;
        let score: f64 = (1..=pattern.harmonics)
            .filter_map(|h| spectrum.find(f64::from(h) * base * s, 1.0))
            .map(|found| found.level_db.clamp(0.0, threshold + MAX_EXCESS_DB))
            .sum::<f64>()
            // Prefer the nominal speed on ties.
            - 1e-3 * (s - 1.0).abs();
        if score > best.0 {
            best = (score, s);
        }
    }
    let s = best.1;
    let mut evidence = Vec::new();
    let mut push = |label: String, kind, harmonic, expected: f64, found: Found| {
        evidence.push(Evidence {
            label,
            kind,
            harmonic,
            expected_hz: expected,
            frequency_hz: found.frequency_hz,
            level_db_above_floor: found.level_db,
            significant: found.level_db >= threshold,
            explained_by: None,
            amplitude: None,
        })
    };
    for h in 1..=pattern.harmonics {
        let expected = f64::from(h) * base * s;
        if let Some(found) = spectrum.find(expected, 1.0) {
            let kind = if pattern.main.contains(&h) {
                EvidenceKind::Fundamental
            } else {
                EvidenceKind::Harmonic
            };
            push(harmonic_label(pattern.name, h), kind, h, expected, found);
        }
    }
    if let Some((name, spacing, slips, carriers)) = pattern.sidebands {
        let spacing = if slips { spacing * s } else { spacing };
        for &h in carriers {
            let carrier = f64::from(h) * base * s;
            for sign in [-1.0, 1.0] {
                let expected = carrier + sign * spacing;
                if let Some(found) = spectrum.find(expected, 1.0) {
                    let label = format!(
                        "{}{}{name}",
                        harmonic_label(pattern.name, h),
                        if sign < 0.0 { "-" } else { "+" }
                    );
                    push(label, EvidenceKind::Sideband, h, expected, found);
                }
            }
        }
    }
    Some(Placed {
        pattern: *pattern,
        speed: s,
        evidence,
    })
}

/// Finds every bearing mode's pattern in one envelope spectrum.
///
/// Patterns overlap: 3×BPFO and 2×BPFI are 0.6 % apart on a 6205, a
/// fault's harmonics carry ±1× and ±2× shaft-rate sidebands, and the
/// envelope often holds a comb of shaft harmonics. So the lines are
/// explained greedily: first the shaft comb (when 1× or 2× is significant),
/// then the patterns in order of their main line's level, each claiming its
/// harmonics and their ±1×, ±2× sidebands once its own rule holds. A line
/// an earlier pattern claimed is marked `explained_by` and does not count:
/// only lines that tell the modes apart decide.
pub fn evaluate_spectrum(
    spectrum: &mut Spectrum,
    d: &DefectFrequencies,
    shaft_hz: f64,
    description: &str,
) -> Vec<Scored> {
    let threshold = spectrum.threshold_db;
    let bin_hz = spectrum.bin_hz;
    let max_hz = spectrum.max_hz();
    let mut placed: Vec<Placed> = patterns(d, shaft_hz)
        .iter()
        .filter_map(|p| place(p, spectrum))
        .collect();
    // Claimed lines: (frequency, label).
    let mut claimed: Vec<(f64, String)> = Vec::new();
    // The shaft comb claims its harmonics up to the highest one that still
    // leaves most of those below it significant: a real comb (looseness,
    // rubbing) has many, while the 1× and 2× lines of an inner-race
    // defect's modulation must not claim 5× when BPFI sits there.
    if shaft_hz > 0.0 {
        let mut top = 0;
        let mut hits = 0;
        for h in (1..)
            .take_while(|&h| f64::from(h) * shaft_hz <= max_hz)
            .take(60)
        {
            if spectrum
                .find(f64::from(h) * shaft_hz, 1.0)
                .is_some_and(|f| f.level_db >= threshold)
            {
                hits += 1;
                if 5 * hits >= 3 * h {
                    top = h;
                }
            }
        }
        claimed.extend((1..=top).map(|h| (f64::from(h) * shaft_hz, format!("{h}× shaft"))));
    }
    // Order: the strongest main line first; on a tie (two patterns sharing
    // their main line) the one with more evidence that no other pattern
    // predicts (a ball's cage-rate sidebands, an outer race's odd
    // harmonics...). The cage goes last,
    // since a ball defect's cage-rate modulation puts FTF lines in the
    // envelope too.
    let narrow: Vec<Vec<(f64, String)>> = placed
        .iter()
        .map(|p| predicted_lines(p, shaft_hz, false))
        .collect();
    let exclusive: Vec<f64> = placed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.evidence
                .iter()
                .filter(|e| {
                    e.significant
                        && !claimed
                            .iter()
                            .any(|(f, _)| coincide(e.frequency_hz, *f, bin_hz))
                })
                .filter(|e| {
                    !narrow.iter().enumerate().any(|(j, lines)| {
                        j != i
                            && lines
                                .iter()
                                .any(|(f, _)| coincide(e.frequency_hz, *f, bin_hz))
                    })
                })
                .map(|e| weight(e.kind) * (e.level_db_above_floor - threshold).min(MAX_EXCESS_DB))
                .sum()
        })
        .collect();
    let mut order: Vec<usize> = (0..placed.len()).collect();
    let main_level: Vec<f64> = placed
        .iter()
        .map(|p| {
            p.evidence
                .iter()
                .filter(|e| e.kind == EvidenceKind::Fundamental)
                .map(|e| e.level_db_above_floor)
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    order.sort_by(|&a, &b| {
        let cage = |i: usize| placed[i].pattern.mode == FaultMode::Cage;
        let tied = (main_level[a] - main_level[b]).abs() < 1.0;
        cage(a).cmp(&cage(b)).then(if tied {
            exclusive[b].total_cmp(&exclusive[a])
        } else {
            main_level[b].total_cmp(&main_level[a])
        })
    });
    let mut scored: Vec<Option<Scored>> = vec![None; placed.len()];
    for i in order {
        let p = &mut placed[i];
        for e in &mut p.evidence {
            e.explained_by = claimed
                .iter()
                .find(|(f, _)| coincide(e.frequency_hz, *f, bin_hz))
                .map(|(_, label)| label.clone());
        }
        let result = score(p, threshold, description);
        if result.holds {
            claimed.extend(predicted_lines(p, shaft_hz, true));
        }
        scored[i] = Some(result);
    }
    scored.into_iter().flatten().collect()
}

/// The lines a pattern predicts. Narrow: the harmonics and sidebands it
/// tests. Broad (what it claims once its rule holds): harmonics up to twice
/// those it tests, for the races each with ±1×, ±2× shaft-rate sidebands
/// (load and run-out modulation), its own sidebands around every one, and
/// for a ball the cage-rate lines that modulate it.
fn predicted_lines(placed: &Placed, shaft_hz: f64, broad: bool) -> Vec<(f64, String)> {
    let p = &placed.pattern;
    let base = p.base_hz * placed.speed;
    let top = if broad { 2 * p.harmonics } else { p.harmonics };
    let races = matches!(p.mode, FaultMode::OuterRace | FaultMode::InnerRace);
    let mut lines = Vec::new();
    for h in 1..=top {
        let carrier = f64::from(h) * base;
        let label = harmonic_label(p.name, h);
        lines.push((carrier, label.clone()));
        if broad && races && shaft_hz > 0.0 {
            for k in [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0] {
                lines.push((carrier + k * shaft_hz, format!("{label}{k:+}×")));
            }
        }
        if let Some((name, spacing, slips, carriers)) = p.sidebands
            && (broad || carriers.contains(&h))
        {
            let spacing = if slips {
                spacing * placed.speed
            } else {
                spacing
            };
            for k in [-1.0, 1.0] {
                lines.push((
                    carrier + k * spacing,
                    format!("{label}{}{name}", if k < 0.0 { "-" } else { "+" }),
                ));
            }
            if broad && slips && h <= 2 {
                lines.push((spacing * f64::from(h), harmonic_label(name, h)));
            }
        }
    }
    lines
}

pub(super) fn weight(kind: EvidenceKind) -> f64 {
    match kind {
        EvidenceKind::Fundamental => 1.5,
        EvidenceKind::Harmonic => 1.0,
        EvidenceKind::Sideband => 0.6,
    }
}

fn score(placed: &Placed, threshold: f64, description: &str) -> Scored {
    let evidence = &placed.evidence;
    let counting = |kind: EvidenceKind| {
        evidence
            .iter()
            .filter(|e| e.counts() && e.kind == kind)
            .count()
    };
    let main = counting(EvidenceKind::Fundamental);
    let harmonics = main + counting(EvidenceKind::Harmonic);
    let sidebands = counting(EvidenceKind::Sideband);
    let (rule, holds) = match placed.pattern.mode {
        FaultMode::OuterRace => (
            "BPFO and at least one more BPFO harmonic",
            main >= 1 && harmonics >= 2,
        ),
        FaultMode::InnerRace => (
            "BPFI, with another BPFI harmonic or a ±1× sideband",
            main >= 1 && (harmonics >= 2 || sidebands >= 1),
        ),
        FaultMode::Ball => (
            "BSF or 2×BSF, with another BSF harmonic or a ±FTF sideband",
            main >= 1 && (harmonics >= 2 || sidebands >= 1),
        ),
        _ => (
            "FTF and 2×FTF",
            main >= 1 && evidence.iter().any(|e| e.counts() && e.harmonic == 2),
        ),
    };
    let excess: f64 = evidence
        .iter()
        .filter(|e| e.counts())
        .map(|e| weight(e.kind) * (e.level_db_above_floor - threshold).min(MAX_EXCESS_DB))
        .sum();
    let raw = 1.0 - (-excess / EXCESS_SCALE_DB).exp();
    let confidence = if holds { raw } else { raw.min(0.49) };
    Scored {
        finding: ModeFinding {
            mode: placed.pattern.mode,
            present: holds && confidence >= 0.5,
            confidence,
            strength_db: excess,
            source: description.to_string(),
            rule: format!(
                "{rule}, counting only lines no other pattern explains: {}",
                if holds { "holds" } else { "does not hold" }
            ),
            evidence: evidence.clone(),
        },
        excess: if holds {
            excess
        } else {
            excess.min(EXCESS_SCALE_DB * 0.69)
        },
        holds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_of_lines_is_found_with_a_speed_error() {
        // Flat floor of 1 with lines at 1.01 × (100, 200, 300) Hz.
        let bin_hz = 0.5;
        let mut power = vec![1.0; 2000];
        for h in 1..=3 {
            power[(h as f64 * 101.0 / bin_hz).round() as usize] = 100.0;
        }
        let mut spectrum = Spectrum::new(&power, bin_hz, 8, 15.0);
        let d = DefectFrequencies {
            shaft_hz: 30.0,
            bpfo: 100.0,
            bpfi: 170.0,
            bsf: 65.0,
            ftf: 12.0,
        };
        let findings: Vec<ModeFinding> = evaluate_spectrum(&mut spectrum, &d, 30.0, "test")
            .into_iter()
            .map(|s| s.finding)
            .collect();
        let outer = findings
            .iter()
            .find(|f| f.mode == FaultMode::OuterRace)
            .unwrap();
        assert!(outer.present, "{outer:?}");
        assert!((outer.evidence[0].frequency_hz - 101.0).abs() < 0.6);
        assert!((outer.evidence[0].level_db_above_floor - 20.0).abs() < 0.1);
        assert!(
            findings
                .iter()
                .filter(|f| f.mode != FaultMode::OuterRace)
                .all(|f| !f.present),
            "{findings:?}"
        );
    }
}
