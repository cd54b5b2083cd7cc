//! Shared by the integration tests that need a twin fed real diagnoses.
#![allow(dead_code)]

use std::sync::Arc;

use linetwin_core::diagnosis::Diagnoser;
use linetwin_core::line::Line;
use linetwin_core::protocol::Clock;
use linetwin_core::sim::Simulator;
use linetwin_jobs::DiagnoseJob;
use linetwin_twin::{BlockFinding, Observation, Twin, TwinConfig};

/// The demo line the tests run on.
pub fn demo() -> Line {
    Line::from_json(
        "demo.json",
        include_str!("../../../../assets/lines/demo.json"),
    )
    .expect("demo")
}

/// A twin fed the simulated demo line's P1 and M1 drive-end blocks (really
/// diagnosed) and its cycle counters, every 2 s from 0 until `end_s`.
pub fn twin_fed_until(line: &Line, end_s: f64) -> Twin {
    twin_fed(line, &["P1-DE-V", "M1-DE-V"], 0.0, end_s, None)
}

/// Feeds `sensors`' blocks (and the cycle counters) every 2 s over
/// `[from_s, end_s)` into `twin`, or into a new one.
pub fn twin_fed(
    line: &Line,
    sensors: &[&str],
    from_s: f64,
    end_s: f64,
    twin: Option<Twin>,
) -> Twin {
    let sim = Simulator::new(line, 11);
    let mut diagnoser = Diagnoser::new();
    let mut twin = twin.unwrap_or_else(|| {
        let mut twin = Twin::new(line, TwinConfig::default());
        twin.hello(Clock::Simulated, 1.0);
        twin
    });
    let mut t = from_s;
    while t < end_s {
        for &sensor in sensors {
            let block = sim.waveform(sensor, t).expect("vibration sensor");
            let (asset, spec) = line.sensor(sensor).expect("in the line");
            let job = DiagnoseJob::for_block(&block, asset, spec).expect("judgeable");
            let result = job.run(&mut diagnoser, &block.samples);
            twin.ingest(Observation::Block(Arc::new(BlockFinding {
                sensor: sensor.to_owned(),
                t_start: t,
                duration_s: job.duration_s(block.samples.len()),
                shaft_rpm: job.shaft_rpm,
                diagnosis: Arc::new(result.diagnosis),
            })));
        }
        let readings: Vec<_> = sim
            .readings(t)
            .into_iter()
            .filter(|r| r.sensor.ends_with("-CYC"))
            .collect();
        twin.readings(t, &readings);
        t += 2.0;
    }
    twin
}
