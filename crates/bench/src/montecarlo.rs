//! Monte Carlo throughput: a line of 50 assets (40 stages in series, ten
//! of them pairs in parallel, one buffer) over a one-year horizon, one plan
//! with a replacement and a speed reduction, paths per second. The goal is
//! 10 000 paths in under a second in the browser.

use linetwin_forecast::montecarlo::{MonteCarlo, SimulationConfig};
use linetwin_forecast::plan::{
    Action, ActionKind, AssetModel, Calendar, FaultKind, LifeNow, LineModel, Plan, Stage,
};
use linetwin_forecast::weibull::Weibull;

pub const ASSETS: usize = 50;

pub fn line_of_fifty() -> LineModel {
    let assets: Vec<AssetModel> = (0..ASSETS)
        .map(|i| {
            let life = Weibull {
                shape: 1.5 + (i % 4) as f64 * 0.3,
                scale_h: 8_000.0 + 1_000.0 * (i % 7) as f64,
            };
            let now = if i % 10 == 3 {
                // A few degrading components, as the twin would hand them over.
                LifeNow::Quantiles {
                    hours: (0..21).map(|q| 100.0 + 40.0 * q as f64).collect(),
                }
            } else {
                LifeNow::Weibull {
                    life,
                    age_h: 2_000.0 + 300.0 * i as f64,
                }
            };
            AssetModel {
                id: format!("A{i}"),
                new_life: life,
                now,
                fault: FaultKind::Bearing,
                part_cost: 500.0 + 50.0 * i as f64,
                labour_h: 4.0,
                duration_h: 3.0,
                line_stop: true,
                failure_cost: 4_000.0,
                failure_downtime_h: 12.0,
                buffer_h: if i == 20 { 0.5 } else { 0.0 },
            }
        })
        .collect();
    let mut stages = Vec::new();
    let mut i = 0;
    while i < ASSETS {
        if i % 5 == 0 && i + 1 < ASSETS {
            stages.push(Stage {
                units: vec![i, i + 1],
            });
            i += 2;
        } else {
            stages.push(Stage { units: vec![i] });
            i += 1;
        }
    }
    LineModel {
        assets,
        stages,
        production_value_per_h: 5_000.0,
        labour_rate_per_h: 65.0,
        horizon_h: 24.0 * 365.0,
        calendar: Calendar {
            first_day: 6.0,
            every_days: 7.0,
            max_stop_h: 16.0,
        },
    }
}

fn plan() -> Plan {
    Plan {
        name: "replace A3, slow A13".into(),
        actions: vec![
            Action {
                asset: "A3".into(),
                kind: ActionKind::Replace,
                at_h: 6.0 * 24.0,
            },
            Action {
                asset: "A13".into(),
                kind: ActionKind::ReduceSpeed { percent: 20.0 },
                at_h: 0.0,
            },
        ],
    }
}

/// Runs batches of 10 000 paths until `min_ms` have passed.
pub fn paths_per_second(min_ms: f64, clock_ms: impl Fn() -> f64) -> serde_json::Value {
    let model = line_of_fifty();
    let paths = 10_000;
    let config = SimulationConfig {
        paths,
        seed: 7,
        ..SimulationConfig::default()
    };
    let started = clock_ms();
    let mut runs = 0u64;
    let mut checksum = 0.0;
    let mut first_ms = 0.0;
    while runs == 0 || clock_ms() - started < min_ms {
        let run_started = clock_ms();
        let results = MonteCarlo::new(model.clone(), vec![plan()], config.clone())
            .expect("a valid plan")
            .run();
        if runs == 0 {
            first_ms = clock_ms() - run_started;
        }
        checksum += results[0].expected_cost;
        runs += 1;
    }
    let seconds = (clock_ms() - started) / 1000.0;
    serde_json::json!({
        "assets": ASSETS,
        "horizon_days": 365,
        "paths_per_run": paths,
        "runs": runs,
        "paths_per_second": (runs as f64 * paths as f64) / seconds,
        "ms_per_10000_paths": seconds * 1000.0 / runs as f64,
        "first_run_ms": first_ms,
        "checksum": checksum,
    })
}
