//! The diagnosis chain the viewer runs on every waveform block, timed on the
//! demo line's own blocks (16384 samples at 12.8 kHz, every vibration sensor,
//! the scripted fault half-grown). The same code runs natively and in wasm32,
//! so the two numbers compare like with like.

pub mod montecarlo;
pub mod twin;

use linetwin_core::diagnosis::{Diagnoser, DiagnosisInput};
use linetwin_core::dsp::acceleration_scale;
use linetwin_core::line::{Line, SensorKind};
use linetwin_core::protocol::WaveformBlock;
use linetwin_core::sim::Simulator;

const DEMO: &str = include_str!("../../../assets/lines/demo.json");

pub struct Workload {
    line: Line,
    blocks: Vec<WaveformBlock>,
}

impl Workload {
    pub fn demo() -> Self {
        let line = Line::from_json("demo.json", DEMO).expect("the demo line is valid");
        let fault = &line.simulation.faults[0];
        let t = fault.onset_s + 0.5 * fault.ramp_s;
        let blocks = Simulator::new(&line, 1).waveforms(t);
        Workload { line, blocks }
    }

    pub fn samples_per_round(&self) -> usize {
        self.blocks.iter().map(|b| b.samples.len()).sum()
    }

    /// Diagnoses every block once; returns a checksum so nothing is optimised away.
    pub fn round(&self, diagnoser: &mut Diagnoser) -> f64 {
        let mut checksum = 0.0;
        for block in &self.blocks {
            let Some((asset, sensor)) = self.line.sensor(&block.sensor) else {
                continue;
            };
            if sensor.kind != SensorKind::Vibration {
                continue;
            }
            let shaft_rpm = block
                .shaft_rpm
                .map_or(f64::from(sensor.shaft_rpm(asset)), f64::from);
            let mut input =
                DiagnosisInput::new(&block.samples, f64::from(block.sample_rate_hz), shaft_rpm)
                    .with_unit_scale(acceleration_scale(&sensor.unit).unwrap_or(1.0))
                    .with_iso(asset.iso.group, asset.iso.support);
            if let Some(bearing) = &sensor.bearing {
                input = input.with_bearing(bearing);
            }
            let (diagnosis, spectra) = diagnoser.diagnose_with_spectra(&input);
            checksum +=
                diagnosis.score.unwrap_or(0.0) + f64::from(spectra.envelope.values.len() as u32);
        }
        checksum
    }
}

/// Runs rounds until `min_ms` have passed on `clock_ms`; returns a JSON report.
pub fn run(min_ms: f64, clock_ms: impl Fn() -> f64, target: &str) -> String {
    let workload = Workload::demo();
    let mut diagnoser = Diagnoser::new();
    // One warm-up round plans the FFTs, as the viewer's first block does.
    let mut checksum = workload.round(&mut diagnoser);
    let started = clock_ms();
    let mut rounds = 0u64;
    while clock_ms() - started < min_ms {
        checksum += workload.round(&mut diagnoser);
        rounds += 1;
    }
    let elapsed_s = (clock_ms() - started) / 1000.0;
    let samples = rounds as f64 * workload.samples_per_round() as f64;
    serde_json::json!({
        "target": target,
        "block_samples": workload.blocks.first().map_or(0, |b| b.samples.len()),
        "blocks_per_round": workload.blocks.len(),
        "rounds": rounds,
        "seconds": elapsed_s,
        "samples_per_second": samples / elapsed_s,
        "ms_per_block": elapsed_s * 1000.0 / (rounds as f64 * workload.blocks.len() as f64),
        "checksum": checksum,
    })
    .to_string()
}

#[cfg(target_arch = "wasm32")]
mod web {
    use wasm_bindgen::prelude::*;

    /// Benchmark entry point for Node or a browser.
    #[wasm_bindgen]
    pub fn bench(min_ms: f64) -> String {
        super::run(min_ms, js_sys::Date::now, "wasm32 (simd128)")
    }

    /// Monte Carlo paths per second in wasm32 (50 assets, one year).
    #[wasm_bindgen]
    pub fn bench_montecarlo(min_ms: f64) -> String {
        super::montecarlo::paths_per_second(min_ms, js_sys::Date::now).to_string()
    }

    /// The twin's ingest throughput in wasm32.
    #[wasm_bindgen]
    pub fn bench_twin(min_ms: f64) -> String {
        super::twin::ingest_rate(min_ms, js_sys::Date::now).to_string()
    }
}
