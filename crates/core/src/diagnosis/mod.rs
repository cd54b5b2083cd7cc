//! Vibration diagnosis of one acceleration record: what a vibration analyst
//! would look at, computed the same way natively and in the browser.
//!
//! The chain (details, formulas and thresholds in `docs/diagnostics.md`):
//!
//! 1. [`quality`]: refuse what cannot be judged (non-finite samples, a flat
//!    line, too few samples) and flag clipping.
//! 2. [`indicators`]: r.m.s., peak, crest factor and kurtosis, in g.
//! 3. [`spectrum`]: the record is cut into overlapping segments of about
//!    40 shaft revolutions (a power of two long, 50 % overlap, spread evenly
//!    over the whole record, so any length is used in full). A Hann-windowed
//!    Welch average gives the acceleration power spectrum, from which come
//!    the velocity spectrum, the ISO 20816-3 band r.m.s. and the 1×/2×/3×
//!    shaft orders (unbalance, misalignment).
//! 4. [`envelope`]: the same segments, Tukey-windowed, feed an FFT filter
//!    bank: the fast kurtogram (Antoni 2007) picks the most impulsive band,
//!    whose analytic signal (inverse FFT of the positive-frequency bins) gives
//!    the squared envelope and, averaged over segments, its spectrum. A second
//!    envelope spectrum comes from the cepstrum-pre-whitened record, which
//!    does not depend on band selection.
//! 5. [`matching`]: peaks of the envelope spectra against the bearing defect
//!    frequencies, their harmonics within a speed tolerance and the sidebands
//!    that identify each mode, each in dB above its local noise floor, lines
//!    shared by two patterns explained away; and the harmonic series of BPFO
//!    and BPFI in the acceleration spectrum against control series.
//! 6. [`verdict`]: one verdict, a NAMUR NE 107 health state with a 0-100
//!    score, and the reasons behind them in words.

pub mod envelope;
pub mod indicators;
pub mod matching;
pub mod quality;
pub mod spectrum;
pub mod verdict;

use rustfft::num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::bearing::DefectFrequencies;
use crate::dsp::{FftCache, STANDARD_GRAVITY};
use crate::iso::{MachineGroup, Support, Zone};
use crate::line::{BearingGeometry, FaultMode};

pub use envelope::EnvelopeBand;
pub use indicators::TimeIndicators;
pub use quality::{Clipping, SignalQuality};

/// What the engine needs to know about one record.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosisInput<'a> {
    /// Acceleration samples, in the unit `unit_scale_to_m_s2` converts from.
    pub samples: &'a [f32],
    pub sample_rate_hz: f64,
    /// Metres per second squared per sample unit: [`STANDARD_GRAVITY`] for g.
    pub unit_scale_to_m_s2: f64,
    /// Speed of the shaft the sensor watches; 0 or less when unknown.
    pub shaft_rpm: f64,
    /// The rolling bearing under the sensor, for the bearing fault modes.
    pub bearing: Option<&'a BearingGeometry>,
    /// ISO 20816-3 class, for the evaluation zone.
    pub iso: Option<(MachineGroup, Support)>,
}

impl<'a> DiagnosisInput<'a> {
    /// A record in g, without bearing geometry or ISO class.
    pub fn new(samples: &'a [f32], sample_rate_hz: f64, shaft_rpm: f64) -> Self {
        DiagnosisInput {
            samples,
            sample_rate_hz,
            unit_scale_to_m_s2: STANDARD_GRAVITY,
            shaft_rpm,
            bearing: None,
            iso: None,
        }
    }

    pub fn with_bearing(mut self, bearing: &'a BearingGeometry) -> Self {
        self.bearing = Some(bearing);
        self
    }

    pub fn with_iso(mut self, group: MachineGroup, support: Support) -> Self {
        self.iso = Some((group, support));
        self
    }

    pub fn with_unit_scale(mut self, unit_scale_to_m_s2: f64) -> Self {
        self.unit_scale_to_m_s2 = unit_scale_to_m_s2;
        self
    }
}

/// The overall verdict: the same words as [`FaultMode`], plus `none`, and
/// `bearing` when the evidence shows a bearing defect but does not tell
/// where it is (two locations fit about as well): an honest "somewhere in
/// this bearing" is more use to a planner than a confident wrong part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    None,
    /// A bearing defect, location uncertain.
    Bearing,
    OuterRace,
    InnerRace,
    Ball,
    Cage,
    Unbalance,
    Misalignment,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::None => "none",
            Verdict::Bearing => "bearing",
            Verdict::OuterRace => "outer_race",
            Verdict::InnerRace => "inner_race",
            Verdict::Ball => "ball",
            Verdict::Cage => "cage",
            Verdict::Unbalance => "unbalance",
            Verdict::Misalignment => "misalignment",
        }
    }

    /// Words for people: "outer race defect".
    pub fn label(self) -> &'static str {
        match self {
            Verdict::None => "no fault",
            Verdict::Bearing => "bearing defect, location uncertain",
            Verdict::OuterRace => "outer race defect",
            Verdict::InnerRace => "inner race defect",
            Verdict::Ball => "rolling element (ball) defect",
            Verdict::Cage => "cage defect",
            Verdict::Unbalance => "unbalance",
            Verdict::Misalignment => "misalignment",
        }
    }

    /// The one fault mode named; `None` for no fault and for a bearing
    /// defect of uncertain location.
    pub fn mode(self) -> Option<FaultMode> {
        match self {
            Verdict::None | Verdict::Bearing => None,
            Verdict::OuterRace => Some(FaultMode::OuterRace),
            Verdict::InnerRace => Some(FaultMode::InnerRace),
            Verdict::Ball => Some(FaultMode::Ball),
            Verdict::Cage => Some(FaultMode::Cage),
            Verdict::Unbalance => Some(FaultMode::Unbalance),
            Verdict::Misalignment => Some(FaultMode::Misalignment),
        }
    }
}

impl Verdict {
    /// Any fault, named or not.
    pub fn is_fault(self) -> bool {
        self != Verdict::None
    }

    /// A verdict about a bearing (its location known or not).
    pub fn is_bearing(self) -> bool {
        matches!(
            self,
            Verdict::Bearing
                | Verdict::OuterRace
                | Verdict::InnerRace
                | Verdict::Ball
                | Verdict::Cage
        )
    }
}

impl From<FaultMode> for Verdict {
    fn from(mode: FaultMode) -> Self {
        match mode {
            FaultMode::OuterRace => Verdict::OuterRace,
            FaultMode::InnerRace => Verdict::InnerRace,
            FaultMode::Ball => Verdict::Ball,
            FaultMode::Cage => Verdict::Cage,
            FaultMode::Unbalance => Verdict::Unbalance,
            FaultMode::Misalignment => Verdict::Misalignment,
            // Neither has a tone of its own for the spectrum to name: a
            // starved film shows as heat and broadband noise, wear as a
            // growing mesh tone the level and the trend judge.
            FaultMode::LubricationLoss | FaultMode::UsageWear => Verdict::None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Health in the words of NAMUR NE 107, best to worst as a machine state;
/// `check_function` means the input could not be judged (or only in part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Normal,
    MaintenanceRequired,
    OutOfSpecification,
    Failure,
    CheckFunction,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Normal => "normal",
            HealthState::MaintenanceRequired => "maintenance_required",
            HealthState::OutOfSpecification => "out_of_specification",
            HealthState::Failure => "failure",
            HealthState::CheckFunction => "check_function",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HealthState::Normal => "normal",
            HealthState::MaintenanceRequired => "maintenance required",
            HealthState::OutOfSpecification => "out of specification",
            HealthState::Failure => "failure",
            HealthState::CheckFunction => "check function",
        }
    }

    /// Severity rank for "worst of": NE 107 puts function check above out of
    /// specification and below failure.
    pub fn rank(self) -> u8 {
        match self {
            HealthState::Normal => 0,
            HealthState::MaintenanceRequired => 1,
            HealthState::OutOfSpecification => 2,
            HealthState::CheckFunction => 3,
            HealthState::Failure => 4,
        }
    }
}

impl std::fmt::Display for HealthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Role of a spectral line in a fault pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Fundamental,
    Harmonic,
    Sideband,
}

/// One spectral line looked for, and what was found there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// "BPFO", "2×BPFO", "BPFI-1×", "1×"...
    pub label: String,
    pub kind: EvidenceKind,
    /// Multiple of the fault's base frequency (for a sideband, of its carrier).
    pub harmonic: u32,
    /// Where the line was expected (kinematic frequency, speed-corrected).
    pub expected_hz: f64,
    /// Where the strongest bin near it was found.
    pub frequency_hz: f64,
    /// Power of that bin over the median of its neighbourhood, in dB.
    pub level_db_above_floor: f64,
    /// Whether the level passes the significance threshold of the spectrum.
    pub significant: bool,
    /// Another pattern's line at the same frequency ("3×BPFO", "11× shaft"):
    /// such a line cannot tell the two apart and does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<String>,
    /// Amplitude of the line when it has a physical one (velocity in mm/s r.m.s. for shaft orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amplitude: Option<f64>,
}

/// What the engine concluded about one fault mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeFinding {
    pub mode: FaultMode,
    pub present: bool,
    /// 0 (no support) to 1 (textbook pattern); `present` needs at least 0.5
    /// and the mode's pattern rule.
    pub confidence: f64,
    /// The evidence's total weight: the dB by which counting lines pass the
    /// threshold, weighted 1.5 for a main line, 1 for a harmonic, 0.6 for a
    /// sideband, each at most 20 dB. Confidence is 1 - exp(-strength / 12);
    /// modes are ranked by it.
    pub strength_db: f64,
    /// Which spectrum the evidence comes from ("envelope 2.6-3.4 kHz", "velocity spectrum").
    pub source: String,
    /// The pattern rule in words, and whether it held.
    pub rule: String,
    pub evidence: Vec<Evidence>,
}

/// Overall velocity r.m.s. in the ISO 20816-3 band, and the zone when the
/// machine's class is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VelocityAssessment {
    pub rms_mm_s: f64,
    pub band_low_hz: f64,
    pub band_high_hz: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<Zone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<MachineGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<Support>,
    /// Zone boundaries A/B, B/C, C/D in mm/s for that class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundaries_mm_s: Option<[f64; 3]>,
}

/// Shaft speed used and the 1×, 2×, 3× orders of the velocity spectrum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShaftOrders {
    /// Nominal shaft frequency from the speed given.
    pub nominal_hz: f64,
    /// The 1× line found near it (the running speed actually seen).
    pub measured_hz: f64,
    /// Velocity r.m.s. of 1×, 2×, 3× in mm/s.
    pub orders_mm_s: [f64; 3],
}

/// The whole diagnosis of one record. Serialises to JSON as-is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub verdict: Verdict,
    /// Confidence of the verdict (of "no fault" it is 1 - the strongest
    /// rejected mode's confidence).
    pub confidence: f64,
    pub health: HealthState,
    /// 100 as new, 0 failed; `None` when the record could not be judged.
    pub score: Option<f64>,
    /// Why: every number that set the state, in words.
    pub reasons: Vec<String>,
    pub quality: SignalQuality,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicators: Option<TimeIndicators>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity: Option<VelocityAssessment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shaft: Option<ShaftOrders>,
    /// Kinematic defect frequencies at the given speed (for plot markers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defect_frequencies: Option<DefectFrequencies>,
    /// Band chosen by the kurtogram for envelope analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_band: Option<EnvelopeBand>,
    /// One finding per fault mode that could be examined.
    pub findings: Vec<ModeFinding>,
}

impl Evidence {
    /// Significant and not explained by another pattern: it counts.
    pub fn counts(&self) -> bool {
        self.significant && self.explained_by.is_none()
    }
}

impl Diagnosis {
    pub fn finding(&self, mode: FaultMode) -> Option<&ModeFinding> {
        self.findings.iter().find(|f| f.mode == mode)
    }

    /// The finding behind the verdict: the named mode's, or for a bearing
    /// defect of uncertain location the strongest bearing mode present.
    pub fn verdict_finding(&self) -> Option<&ModeFinding> {
        match (self.verdict.mode(), self.verdict) {
            (Some(mode), _) => self.finding(mode),
            (None, Verdict::Bearing) => self
                .findings
                .iter()
                .filter(|f| f.present && f.mode.needs_bearing())
                .max_by(|a, b| a.strength_db.total_cmp(&b.strength_db)),
            (None, _) => None,
        }
    }
}

/// A one-sided spectrum ready to plot: `values[k]` at `k * bin_hz`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotSpectrum {
    pub bin_hz: f64,
    pub unit: String,
    pub values: Vec<f32>,
}

/// The spectra behind a diagnosis, for the inspector's plots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisSpectra {
    /// Velocity r.m.s. per bin in mm/s, high-passed at the ISO band's lower
    /// edge, up to 2 kHz (or Nyquist): the sum of squares over 10-1000 Hz is
    /// the square of the ISO band r.m.s.
    pub velocity: PlotSpectrum,
    /// Squared-envelope spectrum of the kurtogram band, amplitude in g².
    pub envelope: PlotSpectrum,
    /// Squared-envelope spectrum of the cepstrum-pre-whitened record (dimensionless).
    pub envelope_whitened: PlotSpectrum,
    /// Spectral kurtosis per kurtogram level, for a kurtogram plot.
    pub kurtogram: Vec<envelope::KurtogramLevel>,
}

/// The diagnosis engine. Keeps FFT plans and work buffers between calls, so
/// a stream of equal-sized blocks allocates little after the first.
#[derive(Default)]
pub struct Diagnoser {
    ffts: FftCache,
    work: Work,
}

/// Reusable buffers.
#[derive(Default)]
pub(crate) struct Work {
    /// Positive-frequency bins of every Tukey-windowed segment, one after another.
    pub segment_bins: Vec<Complex32>,
    pub buffer: Vec<Complex32>,
    pub scratch: Vec<Complex32>,
    pub windows: WindowCache,
}

/// Hann and Tukey windows by length.
#[derive(Default)]
pub(crate) struct WindowCache {
    entries: Vec<(usize, Vec<f32>, Vec<f32>)>,
}

/// Taper of the Tukey window on envelope segments: 5 % at each end.
pub(crate) const TUKEY_TAPER: f64 = 0.1;

impl WindowCache {
    /// (Hann, Tukey) of length `n`.
    pub fn get(&mut self, n: usize) -> (&[f32], &[f32]) {
        let i = match self.entries.iter().position(|(len, _, _)| *len == n) {
            Some(i) => i,
            None => {
                self.entries
                    .push((n, crate::dsp::hann(n), crate::dsp::tukey(n, TUKEY_TAPER)));
                self.entries.len() - 1
            }
        };
        let (_, hann, tukey) = &self.entries[i];
        (hann, tukey)
    }
}

impl Diagnoser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Diagnoses one record. Never panics; unusable input gives
    /// [`HealthState::CheckFunction`] with the reason.
    pub fn diagnose(&mut self, input: &DiagnosisInput) -> Diagnosis {
        verdict::run(&mut self.ffts, &mut self.work, input, false).0
    }

    /// Same as [`Diagnoser::diagnose`], plus the spectra it was made from.
    pub fn diagnose_with_spectra(
        &mut self,
        input: &DiagnosisInput,
    ) -> (Diagnosis, DiagnosisSpectra) {
        verdict::run(&mut self.ffts, &mut self.work, input, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The viewer diagnoses off the render path: the engine must move between threads.
    #[test]
    fn diagnoser_is_send() {
        fn is_send<T: Send + 'static>() {}
        is_send::<Diagnoser>();
        is_send::<Diagnosis>();
        is_send::<DiagnosisSpectra>();
    }

    #[test]
    fn verdicts_use_the_fault_mode_words() {
        for mode in [
            FaultMode::OuterRace,
            FaultMode::InnerRace,
            FaultMode::Ball,
            FaultMode::Cage,
            FaultMode::Unbalance,
            FaultMode::Misalignment,
        ] {
            let verdict = Verdict::from(mode);
            assert_eq!(
                serde_json::to_value(verdict).unwrap(),
                serde_json::to_value(mode).unwrap()
            );
            assert_eq!(serde_json::to_value(verdict).unwrap(), verdict.as_str());
            assert_eq!(verdict.mode(), Some(mode));
        }
        assert_eq!(serde_json::to_value(Verdict::None).unwrap(), "none");
        assert_eq!(
            serde_json::to_value(HealthState::MaintenanceRequired).unwrap(),
            "maintenance_required"
        );
        assert_eq!(
            serde_json::to_value(HealthState::CheckFunction).unwrap(),
            HealthState::CheckFunction.as_str()
        );
    }
}
