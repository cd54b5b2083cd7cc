//! Property tests of the diagnosis on synthetic signals: random speeds
//! (600-3600 rpm), bearing geometries, sampling rates, resonances, noise
//! levels and fault strengths, drawn from fixed seeds so every run is the
//! same. An injected defect must be found at its frequency; a clean machine
//! must stay clean. `cargo test -p linetwin-core --test properties -- --nocapture`
//! prints a line per case.
//!
//! The tests run a short fixed slice of seeds (`SLICE`); `cargo xtask
//! properties --seeds N` runs N seeds per test (release build), the long
//! run, through `LINETWIN_PROPERTY_SEEDS`.

use std::f64::consts::TAU;

use linetwin_core::diagnosis::{Diagnoser, DiagnosisInput, EvidenceKind, HealthState, Verdict};
use linetwin_core::dsp::STANDARD_GRAVITY;
use linetwin_core::iso::{MachineGroup, Support};
use linetwin_core::line::{BearingGeometry, FaultMode};
use linetwin_core::rng::SplitMix64;

/// Seeds each test runs when no longer run is asked for.
const SLICE: u64 = 3;

/// The seeds of a test: its own base seed first (the first cases it
/// always had), then others derived from it, `LINETWIN_PROPERTY_SEEDS` of them
/// (default [`SLICE`]).
fn seeds(base: u64) -> Vec<u64> {
    let count = std::env::var("LINETWIN_PROPERTY_SEEDS")
        .ok()
        .map(|n| {
            n.parse::<u64>()
                .unwrap_or_else(|_| panic!("LINETWIN_PROPERTY_SEEDS={n:?} is not a count"))
        })
        .unwrap_or(SLICE)
        .max(1);
    (0..count)
        .map(|k| base ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect()
}

/// Misses allowed among `cases`: none in the fixed slice (a miss there
/// is a regression on a known case); in a long run, 2 %: over thousands
/// of random machines a few land where two patterns nearly coincide at
/// low defect rates, and the long run measures that rate.
fn allowed_misses(cases: usize) -> usize {
    if std::env::var_os("LINETWIN_PROPERTY_SEEDS").is_some() {
        cases / 50
    } else {
        0
    }
}

/// One synthetic machine.
#[derive(Debug, Clone)]
struct Machine {
    fs: f64,
    n: usize,
    rpm: f64,
    bearing: BearingGeometry,
    /// Healthy 1× velocity, mm/s peak; 2× and 3× are fractions of it.
    one_x_mm_s: f64,
    /// White measurement noise, g r.m.s.
    noise_g: f64,
    /// Structural noise: white noise through a resonance, g r.m.s.
    structural_g: f64,
    resonance_hz: f64,
    damping: f64,
    /// Supply-frequency tone (electrical), g peak.
    supply: (f64, f64),
}

fn random_machine(rng: &mut SplitMix64) -> Machine {
    let fs = [12_000.0, 12_800.0, 20_000.0, 25_600.0][(rng.uniform() * 4.0) as usize];
    let seconds = 1.3 + 1.5 * rng.uniform();
    let balls = 7 + (rng.uniform() * 10.0) as u32;
    let pitch = 30.0 + 70.0 * rng.uniform();
    let ratio = 0.15 + 0.12 * rng.uniform();
    let angle = if rng.uniform() < 0.7 {
        0.0
    } else {
        40.0 * rng.uniform()
    };
    Machine {
        fs,
        n: (seconds * fs) as usize,
        rpm: 600.0 + 3000.0 * rng.uniform(),
        bearing: BearingGeometry {
            designation: "synthetic".into(),
            rolling_elements: balls,
            ball_diameter_mm: ratio * pitch,
            pitch_diameter_mm: pitch,
            contact_angle_deg: angle,
        },
        one_x_mm_s: 0.3 + 0.8 * rng.uniform(),
        noise_g: 0.005 + 0.03 * rng.uniform(),
        structural_g: 0.01 + 0.05 * rng.uniform(),
        resonance_hz: (1500.0 + 3000.0 * rng.uniform()).min(0.38 * fs),
        damping: 0.03 + 0.05 * rng.uniform(),
        supply: (
            [100.0, 120.0][(rng.uniform() * 2.0) as usize],
            0.02 * rng.uniform(),
        ),
    }
}

/// The healthy part: shaft harmonics, a supply tone, structural and
/// measurement noise, in g.
fn healthy_signal(m: &Machine, rng: &mut SplitMix64) -> Vec<f64> {
    let fr = m.rpm / 60.0;
    let g_of = |v_mm_s: f64, f: f64| v_mm_s * 1e-3 * TAU * f / STANDARD_GRAVITY;
    let tones = [
        (fr, g_of(m.one_x_mm_s, fr), TAU * rng.uniform()),
        (
            2.0 * fr,
            g_of(0.35 * m.one_x_mm_s * rng.uniform(), 2.0 * fr),
            TAU * rng.uniform(),
        ),
        (
            3.0 * fr,
            g_of(0.12 * m.one_x_mm_s * rng.uniform(), 3.0 * fr),
            TAU * rng.uniform(),
        ),
        (m.supply.0, m.supply.1, TAU * rng.uniform()),
    ];
    // Two-pole resonator driven by white noise, scaled to structural_g r.m.s.
    let r = (-m.damping * TAU * m.resonance_hz / m.fs).exp();
    let (a1, a2) = (2.0 * r * (TAU * m.resonance_hz / m.fs).cos(), -r * r);
    let mut structural = Vec::with_capacity(m.n);
    let (mut y1, mut y2) = (0.0, 0.0);
    for _ in 0..m.n {
        let y = rng.normal() + a1 * y1 + a2 * y2;
        structural.push(y);
        (y2, y1) = (y1, y);
    }
    let rms = (structural.iter().map(|y| y * y).sum::<f64>() / m.n as f64).sqrt();
    (0..m.n)
        .map(|i| {
            let t = i as f64 / m.fs;
            tones
                .iter()
                .map(|&(f, a, p)| a * (TAU * f * t + p).sin())
                .sum::<f64>()
                + m.structural_g * structural[i] / rms
                + m.noise_g * rng.normal()
        })
        .collect()
}

/// Adds a defect: an impact each time a rolling element meets it, ringing
/// the resonance, with random slip between impacts (intervals jitter by
/// `slip`, cumulatively, as real rolling elements do), the true rate off the
/// kinematic one by `rate_error`, and the modulation of each mode (inner
/// race by shaft rotation through the load zone, ball by the cage).
/// Returns the true impact rate.
fn add_defect(
    m: &Machine,
    x: &mut [f64],
    mode: FaultMode,
    amplitude_g: f64,
    slip: f64,
    rate_error: f64,
    rng: &mut SplitMix64,
) -> f64 {
    let d = m.bearing.defect_frequencies(m.rpm);
    let rate = match mode {
        FaultMode::OuterRace => d.bpfo,
        FaultMode::InnerRace => d.bpfi,
        FaultMode::Ball => 2.0 * d.bsf,
        _ => unreachable!(),
    } * (1.0 + rate_error);
    let omega_n = TAU * m.resonance_hz;
    let zeta = m.damping;
    let omega_d = omega_n * (1.0 - zeta * zeta).sqrt();
    let ring = ((7.0 / (zeta * omega_n)) * m.fs).ceil() as usize;
    let phase = TAU * rng.uniform();
    let mut t = rng.uniform() / rate;
    let duration = m.n as f64 / m.fs;
    while t < duration {
        let modulation = match mode {
            FaultMode::InnerRace => 0.5 * (1.0 + (TAU * d.shaft_hz * t + phase).cos()),
            FaultMode::Ball => 0.5 * (1.0 + (TAU * d.ftf * (1.0 + rate_error) * t + phase).cos()),
            _ => 1.0,
        };
        let a = amplitude_g * modulation * (1.0 + 0.1 * rng.normal());
        let first = (t * m.fs).ceil() as usize;
        for (i, sample) in x.iter_mut().enumerate().skip(first).take(ring) {
            let tau = i as f64 / m.fs - t;
            *sample += a * (-zeta * omega_n * tau).exp() * (omega_d * tau).sin();
        }
        t += (1.0 + slip * rng.normal()) / rate;
    }
    rate
}

/// Whether a mode's impact rate cannot be told from another pattern on this
/// machine by nature: within 2 % of a low harmonic of another defect
/// frequency (for some geometries BSF equals BPFO), or of a shaft harmonic
/// (BPFI of an 8-ball bearing can be 5.00 × the shaft rate). Such machines
/// are not drawn for the defect tests.
fn ambiguous(m: &Machine, mode: FaultMode) -> bool {
    let d = m.bearing.defect_frequencies(m.rpm);
    let all = [
        (FaultMode::OuterRace, d.bpfo),
        (FaultMode::InnerRace, d.bpfi),
        (FaultMode::Ball, 2.0 * d.bsf),
        (FaultMode::Ball, d.bsf),
    ];
    let f = all
        .iter()
        .find(|(m, _)| *m == mode)
        .map(|(_, f)| *f)
        .unwrap();
    let near = |a: f64, b: f64| (a - b).abs() <= 0.02 * a.max(b);
    let other_pattern = all.iter().filter(|(m, _)| *m != mode).any(|&(_, g)| {
        (1..=3).any(|h1| (1..=3).any(|h2| near(f64::from(h1) * f, f64::from(h2) * g)))
    });
    let shaft = (1..=20).any(|h| near(f, f64::from(h) * d.shaft_hz));
    other_pattern || shaft
}

fn machine_for(rng: &mut SplitMix64, mode: FaultMode) -> Machine {
    loop {
        let m = random_machine(rng);
        if !ambiguous(&m, mode) {
            return m;
        }
    }
}

fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

#[test]
fn injected_race_defects_are_found_at_their_frequency() {
    let mut diagnoser = Diagnoser::new();
    let mut failures = Vec::new();
    let per_seed = 16;
    let seeds = seeds(0x0B5E_55ED);
    let cases = per_seed * seeds.len();
    let mut generators: Vec<SplitMix64> = seeds.iter().map(|&s| SplitMix64::new(s)).collect();
    for case in 0..cases {
        let rng = &mut generators[case / per_seed];
        let mode = if case % 2 == 0 {
            FaultMode::OuterRace
        } else {
            FaultMode::InnerRace
        };
        let m = machine_for(rng, mode);
        let mut x = healthy_signal(&m, rng);
        let noise = m.structural_g.hypot(m.noise_g);
        // Impact peaks 4 to 10 times the broadband noise r.m.s. (at 3 the
        // kurtogram starts to lose the resonance band to structural noise).
        let amplitude = noise * (4.0 + 6.0 * rng.uniform());
        let slip = 0.002 + 0.008 * rng.uniform();
        let rate_error = 0.01 * (2.0 * rng.uniform() - 1.0);
        let rate = add_defect(&m, &mut x, mode, amplitude, slip, rate_error, rng);
        let samples = to_f32(&x);
        let d = diagnoser
            .diagnose(&DiagnosisInput::new(&samples, m.fs, m.rpm).with_bearing(&m.bearing));
        let finding = d.finding(mode).expect("the mode is examined");
        let main = finding
            .evidence
            .iter()
            .find(|e| e.kind == EvidenceKind::Fundamental && e.harmonic == 1);
        let at_frequency = main.is_some_and(|e| {
            (e.frequency_hz - rate).abs() <= 0.005 * rate + 2.0 * m.fs / m.n as f64
        });
        println!(
            "case {case:2}: {mode:?} at {rate:6.1} Hz, {:4.0} rpm, fs {}, {} balls, SNR {:.1}, slip {:.1} % -> {} ({:.0} %), found {:?}",
            m.rpm,
            m.fs,
            m.bearing.rolling_elements,
            amplitude / noise,
            100.0 * slip,
            d.verdict,
            100.0 * d.confidence,
            main.map(|e| (e.frequency_hz, e.level_db_above_floor)),
        );
        if d.verdict != Verdict::from(mode) || !at_frequency {
            if std::env::var("VERBOSE").is_ok() {
                println!(
                    "{:?}\n{:#?}",
                    m.bearing.defect_frequencies(m.rpm),
                    d.findings
                );
            }
            failures.push(format!(
                "case {case}: {mode:?} at {rate:.1} Hz gave {} {:?}",
                d.verdict, main
            ));
        } else if d.health == HealthState::Normal {
            failures.push(format!("case {case}: {mode:?} diagnosed but health normal"));
        }
    }
    println!(
        "race defects: {} of {cases} found ({} seeds)",
        cases - failures.len(),
        seeds.len()
    );
    assert!(
        failures.len() <= allowed_misses(cases),
        "{} of {cases} missed: {failures:#?}",
        failures.len()
    );
}

#[test]
fn injected_ball_defects_are_found_at_twice_the_spin_frequency() {
    let mut diagnoser = Diagnoser::new();
    let mut found = 0;
    let per_seed = 8;
    let seeds = seeds(0xBA11);
    let cases = per_seed * seeds.len();
    let mut generators: Vec<SplitMix64> = seeds.iter().map(|&s| SplitMix64::new(s)).collect();
    for case in 0..cases {
        let rng = &mut generators[case / per_seed];
        let m = machine_for(rng, FaultMode::Ball);
        let mut x = healthy_signal(&m, rng);
        let noise = m.structural_g.hypot(m.noise_g);
        let amplitude = noise * (4.0 + 6.0 * rng.uniform());
        let rate = add_defect(&m, &mut x, FaultMode::Ball, amplitude, 0.004, 0.0, rng);
        let samples = to_f32(&x);
        let d = diagnoser
            .diagnose(&DiagnosisInput::new(&samples, m.fs, m.rpm).with_bearing(&m.bearing));
        let ball = d.finding(FaultMode::Ball).expect("ball mode examined");
        let two_bsf = ball
            .evidence
            .iter()
            .find(|e| e.harmonic == 2 && e.kind == EvidenceKind::Fundamental);
        let ok = d.verdict == Verdict::Ball
            && two_bsf.is_some_and(|e| {
                e.counts()
                    && (e.frequency_hz - rate).abs() <= 0.005 * rate + 2.0 * m.fs / m.n as f64
            });
        found += usize::from(ok);
        if !ok && std::env::var("VERBOSE").is_ok() {
            let dfs = m.bearing.defect_frequencies(m.rpm);
            println!("{dfs:?}");
            for f in d
                .findings
                .iter()
                .filter(|f| f.present || f.mode == FaultMode::Ball)
            {
                println!(
                    "  {:?} {:.2} {} | {}",
                    f.mode, f.confidence, f.source, f.rule
                );
                for e in &f.evidence {
                    println!(
                        "     {} {:.1} {:.1} dB {} {:?}",
                        e.label,
                        e.frequency_hz,
                        e.level_db_above_floor,
                        e.significant,
                        e.explained_by
                    );
                }
            }
        }
        println!(
            "ball case {case:2}: 2×BSF {rate:6.1} Hz, {:4.0} rpm -> {} ({:.0} %)",
            m.rpm,
            d.verdict,
            100.0 * d.confidence
        );
    }
    println!(
        "ball defects: {found} of {cases} found ({} seeds)",
        seeds.len()
    );
    // Ball defects are modulated and weaker in the envelope; most must still be found.
    assert!(
        found * 4 >= cases * 3,
        "ball defects found in {found} of {cases} cases"
    );
}

#[test]
fn clean_machines_stay_clean() {
    let mut diagnoser = Diagnoser::new();
    let mut false_alarms = Vec::new();
    let mut flagged = Vec::new();
    let per_seed = 20;
    let seeds = seeds(0x000C_1EA2);
    let cases = per_seed * seeds.len();
    let mut generators: Vec<SplitMix64> = seeds.iter().map(|&s| SplitMix64::new(s)).collect();
    for case in 0..cases {
        let rng = &mut generators[case / per_seed];
        let m = random_machine(rng);
        let x = healthy_signal(&m, rng);
        let samples = to_f32(&x);
        let input = DiagnosisInput::new(&samples, m.fs, m.rpm)
            .with_bearing(&m.bearing)
            .with_iso(MachineGroup::Group2, Support::Rigid);
        let d = diagnoser.diagnose(&input);
        let line = format!("case {case}: {} {} {:?}", d.verdict, d.health, d.reasons);
        if d.verdict != Verdict::None {
            false_alarms.push(line);
        } else if d.health != HealthState::Normal {
            flagged.push(line);
        }
    }
    println!(
        "clean machines: {} of {cases} clean, {} fault verdicts, {} flagged by the input checks ({} seeds)",
        cases - false_alarms.len() - flagged.len(),
        false_alarms.len(),
        flagged.len(),
        seeds.len()
    );
    assert!(
        false_alarms.is_empty(),
        "{} of {cases} false alarms: {false_alarms:#?}",
        false_alarms.len()
    );
    // A flag says "check the input", not "fault": in a long run a rare
    // chance pattern may pass for clipping (three samples at mirrored
    // extremes look the same whether a rail or chance put them there).
    assert!(
        flagged.len() <= allowed_misses(cases) / 10,
        "{} of {cases} flagged: {flagged:#?}",
        flagged.len()
    );
}

/// Shaft families: a strong 1× is unbalance, a strong 2× (and 3×) misalignment.
#[test]
fn shaft_faults_show_in_the_velocity_spectrum() {
    let mut rng = SplitMix64::new(0x5AF7);
    let mut diagnoser = Diagnoser::new();
    for case in 0..20 {
        let m = random_machine(&mut rng);
        let fr = m.rpm / 60.0;
        let misaligned = case % 2 == 1;
        let mut x = healthy_signal(&m, &mut rng);
        let g_of = |v_mm_s: f64, f: f64| v_mm_s * 1e-3 * TAU * f / STANDARD_GRAVITY;
        let extra = 3.0 + 6.0 * rng.uniform();
        let tones: Vec<(f64, f64)> = if misaligned {
            vec![
                (fr, g_of(0.3 * extra, fr)),
                (2.0 * fr, g_of(extra, 2.0 * fr)),
                (3.0 * fr, g_of(0.3 * extra, 3.0 * fr)),
            ]
        } else {
            vec![(fr, g_of(extra, fr))]
        };
        for (i, v) in x.iter_mut().enumerate() {
            let t = i as f64 / m.fs;
            *v += tones
                .iter()
                .map(|&(f, a)| a * (TAU * f * t + 0.3).sin())
                .sum::<f64>();
        }
        let samples = to_f32(&x);
        let d = diagnoser.diagnose(
            &DiagnosisInput::new(&samples, m.fs, m.rpm)
                .with_bearing(&m.bearing)
                .with_iso(MachineGroup::Group2, Support::Rigid),
        );
        let expected = if misaligned {
            Verdict::Misalignment
        } else {
            Verdict::Unbalance
        };
        assert_eq!(d.verdict, expected, "case {case}: {:?}", d.reasons);
        assert_ne!(d.health, HealthState::Normal);
    }
}

/// The built-in simulator's scripted outer-race fault is found once it has grown.
#[test]
fn simulator_outer_race_fault_is_diagnosed() {
    let line = linetwin_core::line::Line::from_json(
        "demo.json",
        include_str!("../../../assets/lines/demo.json"),
    )
    .unwrap();
    let sim = linetwin_core::sim::Simulator::new(&line, 3);
    let fault = &line.simulation.faults[0];
    let (asset, sensor) = line.sensor(&fault.sensor).unwrap();
    let bearing = sensor.bearing.as_ref().unwrap();
    let mut diagnoser = Diagnoser::new();
    for (fraction, expected) in [
        (-0.05, Verdict::None),
        (0.3, Verdict::OuterRace),
        (0.6, Verdict::OuterRace),
        (1.0, Verdict::OuterRace),
    ] {
        let block = sim
            .waveform(&fault.sensor, fault.onset_s + fraction * fault.ramp_s)
            .unwrap();
        let input = DiagnosisInput::new(
            &block.samples,
            f64::from(block.sample_rate_hz),
            f64::from(block.shaft_rpm.unwrap()),
        )
        .with_bearing(bearing)
        .with_iso(asset.iso.group, asset.iso.support);
        let d = diagnoser.diagnose(&input);
        println!(
            "simulator at {:.0} % of the ramp: {} {} {:?}",
            100.0 * fraction,
            d.verdict,
            d.health,
            d.score
        );
        assert_eq!(d.verdict, expected, "at {fraction}: {:?}", d.reasons);
    }
}
