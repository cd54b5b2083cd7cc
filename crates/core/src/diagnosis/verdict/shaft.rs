//! Shaft-order faults in the velocity spectrum: the 1×, 2× and 3× lines,
//! unbalance and misalignment.

use std::f64::consts::TAU;

use crate::diagnosis::matching;
use crate::diagnosis::spectrum;
use crate::diagnosis::{Evidence, EvidenceKind, ModeFinding, ShaftOrders};
use crate::dsp::STANDARD_GRAVITY;
use crate::iso::{self, MachineGroup, Support, ZoneBoundaries};
use crate::line::FaultMode;

/// Without an ISO class, shaft-order faults are judged against the
/// strictest ISO 20816-3 table (group 2, rigid).
pub const DEFAULT_ISO: (MachineGroup, Support) = (MachineGroup::Group2, Support::Rigid);
/// The 1× line is searched this far from the nominal speed (motor slip,
/// speed given as a nameplate value).
const ONE_X_TOLERANCE: f64 = 0.03;

/// 1×, 2×, 3× in the velocity spectrum; unbalance and misalignment.
pub(super) fn shaft_findings(
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
