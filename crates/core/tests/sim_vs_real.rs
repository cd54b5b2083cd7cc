//! The built-in simulator against real recordings: for the healthy CWRU
//! record 97, the outer-race records 131 and 133 and the inner-race record
//! 106 (drive-end channel, SKF 6205, `shared/data/bearings`), a line whose
//! one asset has the same bearing geometry, shaft speed, sampling rate and
//! record length is simulated healthy and with a scripted fault of the same
//! kind at full severity, and both records go through the same diagnosis.
//!
//! Asserted, for seeds 1, 2 and 3 (the seed draws the simulated machine's
//! unbalance, resonance and phases):
//! - the same verdict as the real record (`none` for the healthy pair);
//! - the 1× line and the fault's envelope lines at the same frequencies,
//!   within 1 % or 2 bins, whichever is wider;
//! - the levels within the factors stated per case in [`cases`]: where the
//!   simulator agrees with the rig the factor is tight (a record twice or
//!   half as strong fails); where it does not (the velocity, a healthy
//!   machine's levels, an inner race's envelope line prominence) the factor
//!   holds the measured disagreement with a margin and says how large it is.
//!
//! `comparison_catches_a_wrong_geometry_and_a_level_error` shows the
//! comparison can fail: a simulated bearing with 8 or 10 balls instead of 9
//! fails the frequency match, and the simulated record scaled by 2 or by ½
//! fails the level ratios.
//!
//! The measured table (also in `docs/diagnostics.md`, "Simulator against
//! real recordings"):
//! `cargo test -p linetwin-core --test sim_vs_real -- --nocapture`

mod common;

use common::{data_dir, read_f32};

use linetwin_core::diagnosis::{Diagnoser, DiagnosisInput, EvidenceKind, Verdict};
use linetwin_core::dsp::{self, FftCache, WindowedSpectrum};
use linetwin_core::line::{FaultMode, Line};
use linetwin_core::sim::Simulator;

/// One real record's drive-end channel at 12 kHz, with its manifest speed.
struct RealRecord {
    samples: Vec<f32>,
    fs: f64,
    rpm: f64,
}

fn real_record(id: &str) -> RealRecord {
    let dir = data_dir();
    let text =
        std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json is readable");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let record = manifest["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the manifest"));
    let file = record["channels"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .filter_map(|c| c["file"].as_str())
                .find(|f| f.ends_with("_de.f32"))
        })
        .expect("drive-end channel");
    let fs = record["fs_hz"].as_f64().expect("fs_hz");
    let rpm = record["shaft_speed_rpm"].as_f64().expect("shaft_speed_rpm");
    let raw = read_f32(&dir.join(file));
    // The normal record is sampled at 48 kHz: low-pass and decimate to 12 kHz
    // like the fault records (as `cwru.rs` does).
    if fs > 12_000.0 {
        let factor = (fs / 12_000.0).round() as usize;
        RealRecord {
            samples: dsp::decimate(&raw, factor),
            fs: fs / factor as f64,
            rpm,
        }
    } else {
        RealRecord {
            samples: raw,
            fs,
            rpm,
        }
    }
}

const SENSOR: &str = "M1-DE-V";
const SEEDS: [u64; 3] = [1, 2, 3];
/// Start of the simulated block: the scripted fault starts at 0 s and
/// reaches full severity after 1 s.
const T_BLOCK: f64 = 60.0;

/// The CWRU rig as a line: one motor, an accelerometer on its drive-end
/// bearing (SKF 6205: 9 balls of 0.3126 in on a 1.537 in pitch circle, 0°),
/// and optionally a scripted fault on that bearing.
fn rig_line(balls: u32, rpm: f64, fs: f64, fault: Option<FaultMode>) -> Line {
    let faults: Vec<serde_json::Value> = fault
        .map(|mode| {
            serde_json::json!({ "sensor": SENSOR, "mode": mode, "onset_s": 0.0, "ramp_s": 1.0 })
        })
        .into_iter()
        .collect();
    let json = serde_json::json!({
        "id": "cwru-rig",
        "name": "CWRU bearing test rig",
        "assets": [{
            "id": "M1",
            "kind": "motor",
            "name": "2 hp induction motor",
            "position_m": [0.0, 0.0, 0.0],
            "size_m": [0.5, 0.4, 0.4],
            "rated_speed_rpm": rpm,
            "iso": { "group": 2, "support": "rigid" },
            "sensors": [{
                "id": SENSOR,
                "kind": "vibration",
                "unit": "g",
                "sample_rate_hz": fs,
                "mount": "drive-end bearing housing, 12 o'clock",
                "bearing": {
                    "designation": "SKF 6205-2RS JEM",
                    "rolling_elements": balls,
                    "ball_diameter_mm": 0.3126 * 25.4,
                    "pitch_diameter_mm": 1.537 * 25.4,
                    "contact_angle_deg": 0.0
                }
            }]
        }],
        "simulation": { "faults": faults }
    });
    Line::from_json("cwru-rig.json", &json.to_string()).expect("the rig line is valid")
}

/// A simulated block as long as the real record, at the same speed and rate.
fn simulate(real: &RealRecord, balls: u32, fault: Option<FaultMode>, seed: u64) -> Measured {
    let line = rig_line(balls, real.rpm, real.fs, fault);
    let sim = Simulator::with_block_len(&line, seed, real.samples.len());
    let expected_severity = if fault.is_some() { 1.0 } else { 0.0 };
    assert_eq!(sim.severity(SENSOR, T_BLOCK), expected_severity);
    let block = sim.waveform(SENSOR, T_BLOCK).expect("the sensor simulates");
    let bearing = line.assets[0].sensors[0].bearing.as_ref().unwrap();
    measure(
        &block.samples,
        f64::from(block.sample_rate_hz),
        f64::from(block.shaft_rpm.expect("the simulator sends its speed")),
        bearing,
        fault.map(Verdict::from),
    )
}

fn measure_real(real: &RealRecord, fault: Option<FaultMode>) -> Measured {
    let line = rig_line(9, real.rpm, real.fs, None);
    let bearing = line.assets[0].sensors[0].bearing.as_ref().unwrap();
    measure(
        &real.samples,
        real.fs,
        real.rpm,
        bearing,
        fault.map(Verdict::from),
    )
}

/// A spectral line of the fault's pattern as the diagnosis reports it.
#[derive(Debug, Clone)]
struct LineSeen {
    label: String,
    hz: f64,
    db: f64,
    significant: bool,
}

/// What is compared, for one record.
#[derive(Debug, Clone)]
struct Measured {
    verdict: Verdict,
    /// Overall acceleration r.m.s., g.
    rms_g: f64,
    /// Acceleration r.m.s. from 1 kHz to Nyquist, g: the resonance band
    /// where bearing impacts ring.
    high_g: f64,
    /// Acceleration r.m.s. below 1 kHz, g (shown, not compared).
    low_g: f64,
    kurtosis: f64,
    /// ISO 20816-3 velocity r.m.s. over 10-1000 Hz, mm/s.
    velocity_mm_s: f64,
    /// The 1× line found by the diagnosis.
    one_x_hz: f64,
    /// Frequency resolution of the diagnosis' spectra.
    bin_hz: f64,
    envelope: String,
    /// The fault pattern's harmonics and sidebands, from the finding of the
    /// mode being compared (empty for the healthy case).
    lines: Vec<LineSeen>,
}

impl Measured {
    fn line(&self, label: &str) -> Option<&LineSeen> {
        self.lines.iter().find(|l| l.label == label)
    }

    fn level(&self, quantity: Quantity) -> f64 {
        match quantity {
            Quantity::RmsG => self.rms_g,
            Quantity::HighBandG => self.high_g,
            Quantity::VelocityMmS => self.velocity_mm_s,
        }
    }
}

/// Acceleration r.m.s. between `low_hz` and `high_hz` from one Hann-windowed
/// spectrum of the whole record.
fn band_rms(samples: &[f32], fs: f64, low_hz: f64, high_hz: f64) -> f64 {
    let spectrum = WindowedSpectrum::compute(&mut FftCache::default(), samples, fs);
    let df = spectrum.bin_hz();
    (1..spectrum.bins.len())
        .filter(|&k| (low_hz..=high_hz).contains(&(k as f64 * df)))
        .map(|k| spectrum.bin_power(k))
        .sum::<f64>()
        .sqrt()
}

fn measure(
    samples: &[f32],
    fs: f64,
    rpm: f64,
    bearing: &linetwin_core::line::BearingGeometry,
    mode: Option<Verdict>,
) -> Measured {
    let input = DiagnosisInput::new(samples, fs, rpm).with_bearing(bearing);
    let (d, spectra) = Diagnoser::new().diagnose_with_spectra(&input);
    let indicators = d.indicators.as_ref().expect("indicators");
    let lines = mode
        .and_then(Verdict::mode)
        .and_then(|m| d.finding(m))
        .map(|finding| {
            finding
                .evidence
                .iter()
                .filter(|e| e.harmonic <= 3 || e.kind == EvidenceKind::Sideband)
                .map(|e| LineSeen {
                    label: e.label.clone(),
                    hz: e.frequency_hz,
                    db: e.level_db_above_floor,
                    significant: e.significant,
                })
                .collect()
        })
        .unwrap_or_default();
    Measured {
        verdict: d.verdict,
        rms_g: indicators.rms_g,
        high_g: band_rms(samples, fs, 1000.0, fs / 2.0),
        low_g: band_rms(samples, fs, 0.0, 1000.0),
        kurtosis: indicators.kurtosis,
        velocity_mm_s: d.velocity.as_ref().expect("velocity").rms_mm_s,
        one_x_hz: d.shaft.as_ref().expect("1× line").measured_hz,
        bin_hz: spectra.envelope.bin_hz,
        envelope: d.envelope_band.as_ref().map_or("-".into(), |b| {
            format!("{:.1}-{:.1} kHz", b.low_hz / 1e3, b.high_hz / 1e3)
        }),
        lines,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Quantity {
    RmsG,
    HighBandG,
    VelocityMmS,
}

impl Quantity {
    fn name(self) -> &'static str {
        match self {
            Quantity::RmsG => "acceleration r.m.s.",
            Quantity::HighBandG => "acceleration r.m.s. 1-6 kHz",
            Quantity::VelocityMmS => "ISO velocity 10-1000 Hz",
        }
    }
}

/// One real record against the simulator, with its stated tolerances.
struct Case {
    real: &'static str,
    fault: Option<FaultMode>,
    /// Pattern lines whose frequency and level are compared.
    lines: &'static [&'static str],
    /// Largest allowed |sim - real| of a line's level above its floor, dB.
    line_db: f64,
    /// Allowed sim/real ratio per quantity: within [1/k, k].
    ratios: &'static [(Quantity, f64)],
}

/// Frequencies agree within 1 % or 2 bins, whichever is wider.
fn frequency_tolerance_hz(hz: f64, bin_hz: f64) -> f64 {
    (0.01 * hz).max(2.0 * bin_hz)
}

const OUTER_LINES: &[&str] = &["BPFO", "2×BPFO", "3×BPFO"];
const INNER_LINES: &[&str] = &[
    "BPFI",
    "2×BPFI",
    "3×BPFI",
    "BPFI-1×",
    "BPFI+1×",
    "2×BPFI-1×",
    "2×BPFI+1×",
];

/// The stated tolerances, from the measured ratios (seeds 1-3, in the
/// comments) with a margin. See `docs/diagnostics.md` for why each
/// disagreement is what it is.
fn cases() -> Vec<Case> {
    vec![
        // Healthy: the simulator's motor is an industrial one with 0.7-1.3 mm/s
        // residual unbalance and 0.012 g white noise; the CWRU motor is far
        // smoother at low frequency (1× 0.016 mm/s) and carries more
        // broadband vibration above 1 kHz.
        Case {
            real: "cwru_97",
            fault: None,
            lines: &[],
            line_db: 0.0,
            ratios: &[
                // measured 0.32-0.35
                (Quantity::RmsG, 4.0),
                // measured 0.18
                (Quantity::HighBandG, 8.0),
                // measured 5.0-5.9
                (Quantity::VelocityMmS, 8.0),
            ],
        },
        // Outer race, 0.007 in, 1 hp and 3 hp.
        Case {
            real: "cwru_131",
            fault: Some(FaultMode::OuterRace),
            lines: OUTER_LINES,
            // measured -3.3 to -0.6 dB
            line_db: 6.0,
            ratios: &[
                // measured 1.04-1.08
                (Quantity::RmsG, 1.5),
                // measured 0.59-0.64
                (Quantity::HighBandG, 2.0),
                // measured 33-34: the simulator's defect grows low-frequency
                // lines (ISO zone D at full severity); the rig's does not
                (Quantity::VelocityMmS, 50.0),
            ],
        },
        Case {
            real: "cwru_133",
            fault: Some(FaultMode::OuterRace),
            lines: OUTER_LINES,
            // measured -2.8 to -0.5 dB
            line_db: 6.0,
            ratios: &[
                // measured 1.04-1.08
                (Quantity::RmsG, 1.5),
                // measured 0.60-0.64
                (Quantity::HighBandG, 2.0),
                // measured 32-32.5
                (Quantity::VelocityMmS, 50.0),
            ],
        },
        // Inner race, 0.007 in, 1 hp.
        Case {
            real: "cwru_106",
            fault: Some(FaultMode::InnerRace),
            lines: INNER_LINES,
            // measured -12.2 dB (BPFI) to +7.7 dB (a sideband): the simulator
            // modulates every inner-race impact fully by the load zone, which
            // moves power from BPFI to its ±1× sidebands; CWRU 106 is barely
            // modulated (sidebands 11-22 dB below their carrier, in the sim
            // 3-4.5 dB)
            line_db: 15.0,
            ratios: &[
                // measured 2.7-2.8: the simulator's low-frequency lines again
                (Quantity::RmsG, 4.0),
                // measured 0.93-1.00
                (Quantity::HighBandG, 1.5),
                // measured 26-28
                (Quantity::VelocityMmS, 50.0),
            ],
        },
    ]
}

/// Everything in which `sim` disagrees with `real` beyond the case's tolerances.
fn disagreements(case: &Case, real: &Measured, sim: &Measured) -> Vec<String> {
    let mut out = Vec::new();
    let expected = case.fault.map_or(Verdict::None, Verdict::from);
    if real.verdict != expected {
        out.push(format!(
            "real verdict {} (expected {expected})",
            real.verdict
        ));
    }
    if sim.verdict != real.verdict {
        out.push(format!(
            "verdict: sim {}, real {}",
            sim.verdict, real.verdict
        ));
    }
    let tolerance = frequency_tolerance_hz(real.one_x_hz, real.bin_hz);
    if (sim.one_x_hz - real.one_x_hz).abs() > tolerance {
        out.push(format!(
            "frequency of 1×: sim {:.2} Hz, real {:.2} Hz (±{tolerance:.2})",
            sim.one_x_hz, real.one_x_hz
        ));
    }
    for &label in case.lines {
        let (Some(r), Some(s)) = (real.line(label), sim.line(label)) else {
            out.push(format!("{label}: not reported (real or sim)"));
            continue;
        };
        if !(r.significant && s.significant) {
            out.push(format!(
                "{label}: significant in real {}, sim {}",
                r.significant, s.significant
            ));
        }
        let tolerance = frequency_tolerance_hz(r.hz, real.bin_hz);
        if (s.hz - r.hz).abs() > tolerance {
            out.push(format!(
                "frequency of {label}: sim {:.2} Hz, real {:.2} Hz (±{tolerance:.2})",
                s.hz, r.hz
            ));
        }
        if (s.db - r.db).abs() > case.line_db {
            out.push(format!(
                "level of {label}: sim {:.1} dB, real {:.1} dB (±{:.0} dB)",
                s.db, r.db, case.line_db
            ));
        }
    }
    for &(quantity, k) in case.ratios {
        let ratio = sim.level(quantity) / real.level(quantity);
        if !(1.0 / k..=k).contains(&ratio) {
            out.push(format!(
                "level of {}: sim/real {ratio:.3}, allowed {:.3}-{k}",
                quantity.name(),
                1.0 / k
            ));
        }
    }
    out
}

fn row(case: &str, source: &str, m: &Measured, lines: &[&str]) {
    let lines: Vec<String> = lines
        .iter()
        .map(|&label| {
            m.line(label).map_or(format!("{label} -"), |l| {
                format!("{label} {:.1} Hz {:.1} dB", l.hz, l.db)
            })
        })
        .collect();
    println!(
        "| {case} | {source} | {} | {:.2} | {:.3} | {:.3} | {:.3} | {:.1} | {:.2} | {} | {} |",
        m.verdict,
        m.one_x_hz,
        m.rms_g,
        m.low_g,
        m.high_g,
        m.kurtosis,
        m.velocity_mm_s,
        m.envelope,
        lines.join(", ")
    );
}

#[test]
fn simulator_matches_cwru_records() {
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    println!();
    println!(
        "| case | record | verdict | 1× Hz | acc. r.m.s. g | 0-1 kHz g | 1-6 kHz g | kurtosis | velocity mm/s | envelope band | fault lines |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for case in cases() {
        let record = real_record(case.real);
        let real = measure_real(&record, case.fault);
        let name = format!(
            "{} / {}",
            case.real.trim_start_matches("cwru_"),
            case.fault.map_or("healthy".into(), |m| {
                serde_json::to_value(m)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        );
        row(&name, "real", &real, case.lines);
        let mut ratios: Vec<(Quantity, f64, f64)> = case
            .ratios
            .iter()
            .map(|&(q, _)| (q, f64::INFINITY, 0.0))
            .collect();
        let mut db = (f64::INFINITY, f64::NEG_INFINITY);
        // Largest frequency difference of any compared line: Hz, bins, %.
        let mut df = (0.0_f64, 0.0_f64, 0.0_f64);
        for seed in SEEDS {
            let sim = simulate(&record, 9, case.fault, seed);
            row(&name, &format!("sim, seed {seed}"), &sim, case.lines);
            for (q, lo, hi) in &mut ratios {
                let r = sim.level(*q) / real.level(*q);
                *lo = lo.min(r);
                *hi = hi.max(r);
            }
            let mut pairs = vec![(real.one_x_hz, sim.one_x_hz)];
            for &label in case.lines {
                if let (Some(r), Some(s)) = (real.line(label), sim.line(label)) {
                    db = (db.0.min(s.db - r.db), db.1.max(s.db - r.db));
                    pairs.push((r.hz, s.hz));
                }
            }
            for (r, s) in pairs {
                let d = (s - r).abs();
                df = (
                    df.0.max(d),
                    df.1.max(d / real.bin_hz),
                    df.2.max(100.0 * d / r),
                );
            }
            failures.extend(
                disagreements(&case, &real, &sim)
                    .into_iter()
                    .map(|f| format!("{name}, seed {seed}: {f}")),
            );
        }
        let mut text: Vec<String> = ratios
            .iter()
            .zip(case.ratios)
            .map(|((q, lo, hi), (_, k))| format!("{} {lo:.2}-{hi:.2} (allowed ×/÷ {k})", q.name()))
            .collect();
        text.push(format!(
            "frequencies within {:.2} Hz ({:.1} bins of {:.3} Hz, {:.2} %)",
            df.0, df.1, real.bin_hz, df.2
        ));
        if !case.lines.is_empty() {
            text.push(format!(
                "line levels {:+.1} to {:+.1} dB (allowed ±{})",
                db.0, db.1, case.line_db
            ));
        }
        summary.push(format!("{name}: sim/real {}", text.join(", ")));
    }
    println!();
    for line in &summary {
        println!("{line}");
    }
    assert!(failures.is_empty(), "disagreements: {failures:#?}");
}

/// The comparison is not vacuous: a simulated bearing with the wrong ball
/// count puts its lines at the wrong frequencies, and a simulated record
/// twice or half as strong breaks the level ratios.
#[test]
fn comparison_catches_a_wrong_geometry_and_a_level_error() {
    let cases = cases();
    for case in cases.iter().filter(|c| c.fault.is_some()) {
        let record = real_record(case.real);
        let real = measure_real(&record, case.fault);

        let sim = simulate(&record, 9, case.fault, 1);
        let right = disagreements(case, &real, &sim);
        assert!(right.is_empty(), "{}: {right:#?}", case.real);

        for balls in [8, 10] {
            let wrong = disagreements(case, &real, &simulate(&record, balls, case.fault, 1));
            assert!(
                wrong.iter().any(|f| f.starts_with("frequency of BPF")),
                "{}: {balls} balls must fail the frequency match: {wrong:#?}",
                case.real
            );
        }

        let line = rig_line(9, record.rpm, record.fs, case.fault);
        let block = Simulator::with_block_len(&line, 1, record.samples.len())
            .waveform(SENSOR, T_BLOCK)
            .unwrap();
        let bearing = line.assets[0].sensors[0].bearing.as_ref().unwrap();
        for scale in [2.0_f32, 0.5] {
            let scaled: Vec<f32> = block.samples.iter().map(|x| x * scale).collect();
            let sim = measure(
                &scaled,
                f64::from(block.sample_rate_hz),
                f64::from(block.shaft_rpm.unwrap()),
                bearing,
                case.fault.map(Verdict::from),
            );
            let wrong = disagreements(case, &real, &sim);
            assert!(
                wrong.iter().any(|f| f.starts_with("level of acceleration")),
                "{}: a simulated record scaled by {scale} must fail the acceleration levels: {wrong:#?}",
                case.real
            );
        }
    }
}
