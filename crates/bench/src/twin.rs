//! The twin's ingest throughput: the demo line's frames (a diagnosed block
//! per vibration sensor every 2 s, every scalar reading every second) fed
//! through `linetwin_twin::Twin`, with real diagnoses replayed in a cycle.

use std::sync::Arc;

use linetwin_core::diagnosis::Diagnoser;
use linetwin_core::line::{Line, SensorKind};
use linetwin_core::protocol::{Clock, Reading};
use linetwin_core::sim::Simulator;
use linetwin_jobs::DiagnoseJob;
use linetwin_twin::{BlockFinding, Observation, Twin, TwinConfig};

const DEMO: &str = include_str!("../../../assets/lines/demo.json");
const BLOCK_INTERVAL_S: f64 = 2.0;
/// Distinct diagnosed block sets replayed in a cycle.
const CYCLE: usize = 4;

pub struct TwinWorkload {
    line: Line,
    /// `CYCLE` sets of one finding per vibration sensor.
    findings: Vec<Vec<BlockFinding>>,
    readings: Vec<Vec<Reading>>,
}

impl TwinWorkload {
    pub fn demo() -> Self {
        let line = Line::from_json("demo.json", DEMO).expect("the demo line is valid");
        let sim = Simulator::new(&line, 1);
        let mut diagnoser = Diagnoser::new();
        let mut findings = Vec::new();
        let mut readings = Vec::new();
        for i in 0..CYCLE {
            let t = 100.0 * i as f64;
            let mut set = Vec::new();
            for block in sim.waveforms(t) {
                let Some((asset, sensor)) = line.sensor(&block.sensor) else {
                    continue;
                };
                if sensor.kind != SensorKind::Vibration {
                    continue;
                }
                let Ok(job) = DiagnoseJob::for_block(&block, asset, sensor) else {
                    continue;
                };
                let result = job.run(&mut diagnoser, &block.samples);
                set.push(BlockFinding {
                    sensor: block.sensor.clone(),
                    t_start: 0.0,
                    duration_s: job.duration_s(block.samples.len()),
                    shaft_rpm: job.shaft_rpm,
                    diagnosis: Arc::new(result.diagnosis),
                });
            }
            findings.push(set);
            readings.push(sim.readings(t));
        }
        TwinWorkload {
            line,
            findings,
            readings,
        }
    }

    /// Feeds `seconds` of data time from `start`; returns the frames fed.
    pub fn feed(&self, twin: &mut Twin, start: f64, seconds: f64) -> u64 {
        let mut frames = 0;
        let mut t = start;
        let mut step = 0usize;
        while t < start + seconds {
            let set = step / 2 % CYCLE;
            twin.readings(t, &self.readings[set]);
            frames += 1;
            if step.is_multiple_of(2) {
                for finding in &self.findings[set] {
                    let mut finding = finding.clone();
                    finding.t_start = t;
                    twin.ingest(Observation::Block(Arc::new(finding)));
                    frames += 1;
                }
            }
            t += BLOCK_INTERVAL_S / 2.0;
            step += 1;
        }
        frames
    }

    pub fn new_twin(&self) -> Twin {
        let mut twin = Twin::new(&self.line, TwinConfig::default());
        twin.hello(Clock::Simulated, 1.0);
        twin
    }
}

/// Frames per second through the twin, for at least `min_ms` on `clock_ms`.
pub fn ingest_rate(min_ms: f64, clock_ms: impl Fn() -> f64) -> serde_json::Value {
    let workload = TwinWorkload::demo();
    let mut twin = workload.new_twin();
    let mut t = 0.0;
    let mut frames = 0;
    let started = clock_ms();
    while clock_ms() - started < min_ms {
        frames += workload.feed(&mut twin, t, 600.0);
        t += 600.0;
    }
    let seconds = (clock_ms() - started) / 1000.0;
    serde_json::json!({
        "frames": frames,
        "data_seconds": t,
        "seconds": seconds,
        "frames_per_second": frames as f64 / seconds,
        "history_bytes": twin.history().memory_bytes(),
    })
}

/// The history store's memory after feeding `days` of the demo line.
pub fn history_after(days: f64) -> serde_json::Value {
    let workload = TwinWorkload::demo();
    let mut twin = workload.new_twin();
    workload.feed(&mut twin, 0.0, days * 86_400.0);
    serde_json::json!({
        "days": days,
        "history_bytes": twin.history().memory_bytes(),
        "history_bound_bytes": twin.history().memory_bound_bytes(),
    })
}
