//! Matching spectral lines to fault patterns.
//!
//! Every line is judged by its level over the local noise floor: the median
//! of the spectrum within about ±½ shaft order, leaving out the line's own
//! ±2 bins. For an averaged spectrum of pure noise each bin divided by that
//! median follows a known law (a Gamma law of shape `segments`), so a
//! threshold can be set for a chosen false-alarm rate instead of by feel.

use super::{Evidence, EvidenceKind, ModeFinding};
use crate::bearing::DefectFrequencies;
use crate::line::FaultMode;

/// Median (the upper one for even counts); 0 for no values.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// False-alarm probability allowed for one bin of pure noise.
pub const BIN_FALSE_ALARM: f64 = 1e-3;
/// Added to the statistical threshold: real floors are not white noise.
pub const MARGIN_DB: f64 = 3.0;

/// Level in dB above the median that a bin of an average of `segments`
/// periodograms of noise exceeds with probability [`BIN_FALSE_ALARM`]
/// (Wilson-Hilferty approximation of the Gamma quantiles), plus
/// [`MARGIN_DB`]: 13.0 dB for one segment, 6.3 dB for 14.
pub fn significance_db(segments: usize) -> f64 {
    // Hann windows at 50 % overlap: successive segments are not independent.
    let k = if segments <= 1 {
        1.0
    } else {
        0.9 * segments as f64
    };
    let z = 3.09; // standard normal quantile of 1 - 1e-3
    let c = 1.0 / (9.0 * k);
    let quantile = (1.0 - c + z * c.sqrt()).powi(3);
    let median = (1.0 - c).powi(3);
    10.0 * (quantile / median).log10() + MARGIN_DB
}

/// The local floor of every bin 1..=`last` (index 0 is left at 0): the
/// median of `power` within ±`half` bins, leaving out ±`exclude`, exactly as
/// [`Spectrum`] defines it, with a sorted sliding window (a few dozen
/// operations per bin instead of a selection).
fn local_floors(power: &[f64], last: usize, half: usize, exclude: usize) -> Vec<f64> {
    let n = power.len();
    let mut floors = vec![0.0; last + 1];
    if n < 2 {
        return floors;
    }
    let mut window: Vec<f64> = Vec::with_capacity(2 * half + 2);
    let insert = |window: &mut Vec<f64>, v: f64| {
        let at = window.partition_point(|&w| w.total_cmp(&v).is_lt());
        window.insert(at, v);
    };
    let (mut lo, mut hi) = (1usize, 0usize); // window holds power[lo..=hi]
    let mut centre: Vec<f64> = Vec::with_capacity(2 * exclude + 1);
    for (k, floor) in floors.iter_mut().enumerate().skip(1) {
        let first = k.saturating_sub(half).max(1);
        let end = (k + half).min(n - 1);
        while hi < end {
            hi += 1;
            insert(&mut window, power[hi]);
        }
        while lo < first {
            let v = power[lo];
            let at = window.partition_point(|&w| w.total_cmp(&v).is_lt());
            window.remove(at);
            lo += 1;
        }
        centre.clear();
        centre.extend(
            (k.saturating_sub(exclude).max(first)..=(k + exclude).min(end)).map(|j| power[j]),
        );
        centre.sort_by(f64::total_cmp);
        let remaining = window.len() - centre.len();
        if remaining == 0 {
            continue;
        }
        // The (remaining / 2)-th smallest of window minus centre.
        let target = remaining / 2;
        let (mut rank, mut c) = (0usize, 0usize);
        for &v in &window {
            if c < centre.len() && v.total_cmp(&centre[c]).is_eq() {
                c += 1;
                continue;
            }
            if rank == target {
                *floor = v;
                break;
            }
            rank += 1;
        }
    }
    floors
}

/// A power spectrum with a memoised local floor.
pub struct Spectrum<'a> {
    power: &'a [f64],
    pub bin_hz: f64,
    pub threshold_db: f64,
    half_window: usize,
    floors: Vec<f64>,
    /// Floors of bins 1..=this are all known.
    known_up_to: usize,
    scratch: Vec<f64>,
}

/// Bins either side of a line that belong to it (Hann main lobe).
const LINE_HALF_WIDTH: usize = 2;

/// A line found near an expected frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub frequency_hz: f64,
    pub level_db: f64,
}

impl<'a> Spectrum<'a> {
    /// `floor_hz`: half-width of the floor's neighbourhood.
    pub fn new(power: &'a [f64], bin_hz: f64, segments: usize, floor_hz: f64) -> Self {
        let half_window = ((floor_hz / bin_hz).round() as usize).clamp(8, 60);
        Spectrum {
            power,
            bin_hz,
            threshold_db: significance_db(segments),
            half_window,
            floors: vec![f64::NAN; power.len()],
            known_up_to: 0,
            scratch: Vec::with_capacity(2 * half_window + 1),
        }
    }

    pub fn max_hz(&self) -> f64 {
        (self.power.len().saturating_sub(LINE_HALF_WIDTH + 1)) as f64 * self.bin_hz
    }

    fn floor(&mut self, k: usize) -> f64 {
        if self.floors[k].is_nan() {
            let first = k.saturating_sub(self.half_window).max(1);
            let last = (k + self.half_window).min(self.power.len() - 1);
            self.scratch.clear();
            let power = self.power;
            self.scratch.extend(
                (first..=last)
                    .filter(|&j| j.abs_diff(k) > LINE_HALF_WIDTH)
                    .map(|j| power[j]),
            );
            self.floors[k] = median(&mut self.scratch);
        }
        self.floors[k]
    }

    fn level_db(&mut self, k: usize) -> f64 {
        let floor = self.floor(k);
        if floor > 0.0 && self.power[k] > 0.0 {
            10.0 * (self.power[k] / floor).log10()
        } else {
            0.0
        }
    }

    /// For every bin up to `up_to_hz`: whether a bin within ±1 of it stands
    /// `level_db` above its floor.
    pub fn line_mask(&mut self, level_db: f64, up_to_hz: f64) -> Vec<bool> {
        let last = ((up_to_hz / self.bin_hz).ceil() as usize + 2).min(self.power.len() - 1);
        if last > self.known_up_to {
            let floors = local_floors(self.power, last, self.half_window, LINE_HALF_WIDTH);
            self.floors[1..=last].copy_from_slice(&floors[1..=last]);
            self.known_up_to = last;
        }
        let ratio = 10f64.powf(level_db / 10.0);
        let line: Vec<bool> = (0..=last)
            .map(|k| k > 0 && self.floors[k] > 0.0 && self.power[k] >= ratio * self.floors[k])
            .collect();
        (0..=last)
            .map(|k| line[k.saturating_sub(1)] || line[k] || line[(k + 1).min(last)])
            .collect()
    }

    /// The strongest bin within ±`tolerance_bins` of `f_hz`, and its level.
    pub fn find(&mut self, f_hz: f64, tolerance_bins: f64) -> Option<Found> {
        if f_hz.is_nan() || f_hz <= 0.0 || f_hz > self.max_hz() {
            return None;
        }
        let centre = f_hz / self.bin_hz;
        let first = ((centre - tolerance_bins).round().max(1.0)) as usize;
        let last = ((centre + tolerance_bins).round() as usize).min(self.power.len() - 2);
        let k = (first..=last).max_by(|&a, &b| self.power[a].total_cmp(&self.power[b]))?;
        Some(Found {
            frequency_hz: k as f64 * self.bin_hz,
            level_db: self.level_db(k),
        })
    }
}

/// Speed tolerance: real defect frequencies differ from the kinematic ones
/// by rolling-element slip (1-2 %) and by any error in the speed given.
pub const SPEED_TOLERANCE: f64 = 0.02;
/// A line's level counts at most this much above the threshold towards
/// confidence, so one huge line cannot stand for a whole pattern.
const MAX_EXCESS_DB: f64 = 20.0;
/// Confidence 1 - exp(-E / E0), E the weighted excess in dB.
const EXCESS_SCALE_DB: f64 = 12.0;

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

fn harmonic_label(name: &str, h: u32) -> String {
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
            for k in [-2.0, -1.0, 1.0, 2.0] {
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

fn weight(kind: EvidenceKind) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_picks_the_middle() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn sliding_floors_equal_the_direct_median() {
        let mut rng = crate::rng::SplitMix64::new(9);
        let mut power: Vec<f64> = (0..500).map(|_| rng.normal().abs()).collect();
        power[200] = 50.0;
        power[201] = power[100];
        let fast = local_floors(&power, 499, 12, 2);
        let mut spectrum = Spectrum::new(&power, 1.0, 4, 12.0);
        for (k, &floor) in fast.iter().enumerate().skip(1) {
            assert_eq!(floor, spectrum.floor(k), "bin {k}");
        }
    }

    #[test]
    fn threshold_falls_with_averaging() {
        let one = significance_db(1);
        let many = significance_db(14);
        assert!(one > 11.0 && one < 15.0, "{one}");
        assert!(many > 5.0 && many < 8.0, "{many}");
    }

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
