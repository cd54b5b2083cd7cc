//! The readable report.

use std::io::Write;
use std::path::Path;

use linetwin_core::diagnosis::{Diagnosis, EvidenceKind, ModeFinding, Verdict};
use linetwin_core::line::BearingGeometry;

/// The verdict's strongest significant lines, in words.
pub fn key_evidence(d: &Diagnosis) -> Vec<String> {
    let Some(finding) = d.verdict_finding() else {
        return Vec::new();
    };
    key_evidence_lines(finding, 5)
        .into_iter()
        .map(|line| format!("{line} ({})", finding.source))
        .collect()
}

/// A finding's strongest lines that count, strongest first.
pub fn key_evidence_lines(finding: &ModeFinding, most: usize) -> Vec<String> {
    let mut lines: Vec<_> = finding.evidence.iter().filter(|e| e.counts()).collect();
    lines.sort_by(|a, b| b.level_db_above_floor.total_cmp(&a.level_db_above_floor));
    lines
        .iter()
        .take(most)
        .map(|e| match e.amplitude {
            Some(a) => format!(
                "{} {:.1} Hz {:.2} mm/s {:.0} dB",
                e.label, e.frequency_hz, a, e.level_db_above_floor
            ),
            None => format!(
                "{} {:.1} Hz {:.0} dB",
                e.label, e.frequency_hz, e.level_db_above_floor
            ),
        })
        .collect()
}

pub fn print(
    out: &mut impl Write,
    file: &Path,
    fs: f64,
    rpm: f64,
    bearing: Option<&BearingGeometry>,
    samples: &[f32],
    d: &Diagnosis,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} samples at {} Hz ({:.2} s), shaft {} rpm ({:.2} Hz)",
        file.display(),
        samples.len(),
        fs,
        samples.len() as f64 / fs,
        rpm,
        rpm / 60.0
    )?;
    if let Some(b) = bearing {
        writeln!(
            out,
            "bearing: {} rolling elements, ball {:.3} mm, pitch {:.3} mm, contact angle {}°",
            b.rolling_elements, b.ball_diameter_mm, b.pitch_diameter_mm, b.contact_angle_deg
        )?;
    }
    writeln!(out)?;
    let verdict = if d.verdict == Verdict::None {
        "no fault found".to_string()
    } else {
        d.verdict.label().to_string()
    };
    writeln!(
        out,
        "verdict:    {verdict} [{}] (confidence {:.0} %)",
        d.verdict,
        100.0 * d.confidence
    )?;
    writeln!(
        out,
        "health:     {} [{}], score {}",
        d.health.label(),
        d.health,
        d.score.map_or("-".to_string(), |s| format!("{s:.0}/100"))
    )?;
    writeln!(out, "why:")?;
    for reason in &d.reasons {
        writeln!(out, "  - {reason}")?;
    }
    writeln!(out)?;
    if let Some(t) = &d.indicators {
        writeln!(
            out,
            "indicators: r.m.s. {:.3} g, peak {:.3} g, crest factor {:.1}, kurtosis {:.1}",
            t.rms_g, t.peak_g, t.crest_factor, t.kurtosis
        )?;
    }
    if let Some(v) = &d.velocity {
        let zone = v.zone.map_or(String::new(), |z| {
            format!(", ISO 20816-3 zone {}", z.letter())
        });
        writeln!(
            out,
            "velocity:   {:.2} mm/s r.m.s. over {:.0}-{:.0} Hz{zone}",
            v.rms_mm_s, v.band_low_hz, v.band_high_hz
        )?;
    }
    if let Some(s) = &d.shaft {
        writeln!(
            out,
            "shaft:      1× at {:.2} Hz; 1×/2×/3× {:.2}/{:.2}/{:.2} mm/s",
            s.measured_hz, s.orders_mm_s[0], s.orders_mm_s[1], s.orders_mm_s[2]
        )?;
    }
    if let Some(f) = &d.defect_frequencies {
        writeln!(
            out,
            "defects:    BPFO {:.2} Hz, BPFI {:.2} Hz, BSF {:.2} Hz (2×BSF {:.2}), FTF {:.2} Hz",
            f.bpfo,
            f.bpfi,
            f.bsf,
            2.0 * f.bsf,
            f.ftf
        )?;
    }
    if let Some(b) = &d.envelope_band {
        writeln!(
            out,
            "envelope:   band {:.0}-{:.0} Hz (kurtogram level {}, spectral kurtosis {:.2})",
            b.low_hz, b.high_hz, b.level, b.spectral_kurtosis
        )?;
    }
    if !d.findings.is_empty() {
        writeln!(out, "\nfindings:")?;
        for f in &d.findings {
            let lines: Vec<String> = f
                .evidence
                .iter()
                .filter(|e| e.counts())
                .map(|e| {
                    let kind = if e.kind == EvidenceKind::Sideband {
                        "sb "
                    } else {
                        ""
                    };
                    format!(
                        "{kind}{} {:.1} Hz {:.0} dB",
                        e.label, e.frequency_hz, e.level_db_above_floor
                    )
                })
                .collect();
            let explained = f
                .evidence
                .iter()
                .filter(|e| e.significant && e.explained_by.is_some())
                .count();
            writeln!(
                out,
                "  {:<13} {:<7} {:>3.0} %  {}",
                f.mode_name(),
                if f.present { "PRESENT" } else { "-" },
                100.0 * f.confidence,
                if lines.is_empty() {
                    "no significant line".to_string()
                } else {
                    lines.join(", ")
                }
            )?;
            writeln!(out, "  {:<13} {}; in the {}", "", f.rule, f.source)?;
            if explained > 0 {
                writeln!(
                    out,
                    "  {:<13} ({explained} more significant lines belong to other patterns)",
                    ""
                )?;
            }
        }
    }
    Ok(())
}

trait ModeName {
    fn mode_name(&self) -> &'static str;
}

impl ModeName for linetwin_core::diagnosis::ModeFinding {
    fn mode_name(&self) -> &'static str {
        Verdict::from(self.mode).as_str()
    }
}
