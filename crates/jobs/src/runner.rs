//! The job queue a worker (or the inline executor) drives: jobs wait in
//! order, run in slices so a cancel or a newer job is heard between slices,
//! and every slice reports progress or an outcome.

use std::collections::VecDeque;

use linetwin_core::diagnosis::Diagnoser;

use crate::message::{JobId, JobSpec, Output, Reply, Request};
use crate::whatif::WhatIfRun;

/// What one slice of a job did.
pub enum Slice {
    Progress { done: u64, total: u64 },
    Done(Box<Output>, Vec<f32>),
    Failed(String),
}

/// A job in progress. Each `step` does a bounded piece of work.
pub trait Task: Send + Sync {
    fn step(&mut self, engines: &mut Engines) -> Slice;
}

/// Long-lived state jobs share (FFT plans, work buffers).
#[derive(Default)]
pub struct Engines {
    pub diagnoser: Diagnoser,
}

struct DiagnoseTask {
    job: crate::diagnose::DiagnoseJob,
    samples: Vec<f32>,
}

impl Task for DiagnoseTask {
    fn step(&mut self, engines: &mut Engines) -> Slice {
        let result = self.job.run(&mut engines.diagnoser, &self.samples);
        let (output, payload) = Output::diagnosed(result, std::mem::take(&mut self.samples));
        Slice::Done(Box::new(output), payload)
    }
}

struct WhatIfTask {
    run: Result<WhatIfRun, String>,
}

impl Task for WhatIfTask {
    fn step(&mut self, _: &mut Engines) -> Slice {
        let run = match &mut self.run {
            Ok(run) => run,
            Err(reason) => return Slice::Failed(reason.clone()),
        };
        match run.step() {
            Some(outcome) => Slice::Done(Box::new(Output::WhatIf(Box::new(outcome))), Vec::new()),
            None => {
                let (done, total) = run.progress();
                Slice::Progress { done, total }
            }
        }
    }
}

fn task_for(spec: JobSpec, payload: Vec<f32>) -> Box<dyn Task> {
    match spec {
        JobSpec::Diagnose(job) => Box::new(DiagnoseTask {
            job,
            samples: payload,
        }),
        JobSpec::WhatIf(job) => Box::new(WhatIfTask {
            run: job.start().map_err(|e| e.to_string()),
        }),
    }
}

/// A job waiting its turn; `latest` is its latest-wins key, if it has one.
struct Queued {
    id: JobId,
    latest: Option<String>,
    task: Box<dyn Task>,
}

#[derive(Default)]
pub struct Runner {
    engines: Engines,
    queue: VecDeque<Queued>,
    running: Option<(JobId, Box<dyn Task>)>,
}

impl Runner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a request. A cancel is answered at once; a job that replaces
    /// a waiting one of the same latest-wins key (a newer block of the same
    /// sensor) answers for the one it replaced, so a worker that falls
    /// behind works on the newest data, never on a growing backlog.
    pub fn handle(&mut self, request: Request, payload: Vec<f32>) -> Vec<Reply> {
        match request {
            Request::Submit { id, spec } => {
                let latest = spec.latest_wins_key().map(str::to_owned);
                let mut replies = Vec::new();
                if let Some(key) = &latest {
                    self.queue.retain(|queued| {
                        let replaced = queued.latest.as_ref() == Some(key);
                        if replaced {
                            replies.push(Reply::Cancelled { id: queued.id });
                        }
                        !replaced
                    });
                }
                self.queue.push_back(Queued {
                    id,
                    latest,
                    task: task_for(spec, payload),
                });
                replies
            }
            Request::Cancel { id } => {
                if self.cancel(id) {
                    vec![Reply::Cancelled { id }]
                } else {
                    Vec::new()
                }
            }
        }
    }

    pub fn push(&mut self, id: JobId, task: Box<dyn Task>) {
        self.queue.push_back(Queued {
            id,
            latest: None,
            task,
        });
    }

    /// Drops a waiting or running job; false if it is not here (already done).
    pub fn cancel(&mut self, id: JobId) -> bool {
        if self
            .running
            .as_ref()
            .is_some_and(|(running, _)| *running == id)
        {
            self.running = None;
            return true;
        }
        let before = self.queue.len();
        self.queue.retain(|queued| queued.id != id);
        self.queue.len() != before
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    /// Runs one slice of the current (or next) job.
    pub fn step(&mut self) -> Option<(Reply, Vec<f32>)> {
        let (id, mut task) = match self.running.take() {
            Some(running) => running,
            None => self.queue.pop_front().map(|q| (q.id, q.task))?,
        };
        Some(match task.step(&mut self.engines) {
            Slice::Progress { done, total } => {
                // Round robin: a long job (a what-if) goes behind the jobs
                // waiting, so blocks keep being diagnosed while it runs.
                if self.queue.is_empty() {
                    self.running = Some((id, task));
                } else {
                    self.queue.push_back(Queued {
                        id,
                        latest: None,
                        task,
                    });
                }
                (Reply::Progress { id, done, total }, Vec::new())
            }
            Slice::Done(output, payload) => (
                Reply::Done {
                    id,
                    output,
                    elapsed_ms: None,
                },
                payload,
            ),
            Slice::Failed(reason) => (Reply::Failed { id, reason }, Vec::new()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts to `total` one slice at a time: the queue's mechanics alone.
    struct Counting {
        done: u64,
        total: u64,
    }

    impl Task for Counting {
        fn step(&mut self, _: &mut Engines) -> Slice {
            self.done += 1;
            if self.done < self.total {
                Slice::Progress {
                    done: self.done,
                    total: self.total,
                }
            } else {
                Slice::Failed(format!("counted to {}", self.total))
            }
        }
    }

    #[test]
    fn a_newer_block_of_a_sensor_replaces_its_waiting_one() {
        use crate::diagnose::DiagnoseJob;
        use crate::message::JobSpec;
        use linetwin_core::line::Line;
        use linetwin_core::sim::Simulator;
        let line =
            Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap();
        let sim = Simulator::new(&line, 1);
        let submit = |runner: &mut Runner, id: JobId, sensor: &str, t: f64| {
            let block = sim.waveform(sensor, t).unwrap();
            let (asset, spec) = line.sensor(sensor).unwrap();
            let job = DiagnoseJob::for_block(&block, asset, spec).unwrap();
            runner.handle(
                Request::Submit {
                    id,
                    spec: JobSpec::Diagnose(job),
                },
                block.samples,
            )
        };
        let mut runner = Runner::new();
        assert!(submit(&mut runner, 1, "P1-DE-V", 0.0).is_empty());
        assert!(submit(&mut runner, 2, "M1-DE-V", 0.0).is_empty());
        assert_eq!(
            submit(&mut runner, 3, "P1-DE-V", 2.0),
            vec![Reply::Cancelled { id: 1 }]
        );
        let done: Vec<Option<JobId>> = std::iter::from_fn(|| runner.step())
            .map(|(r, _)| r.id())
            .collect();
        assert_eq!(
            done,
            vec![Some(2), Some(3)],
            "the newest block of each sensor, in order"
        );
    }

    fn counting(total: u64) -> Box<dyn Task> {
        Box::new(Counting { done: 0, total })
    }

    #[test]
    fn long_jobs_report_progress_and_let_short_ones_through_between_slices() {
        let mut runner = Runner::new();
        runner.push(1, counting(3));
        runner.push(2, counting(1));
        let replies: Vec<Reply> = std::iter::from_fn(|| runner.step())
            .map(|(r, _)| r)
            .collect();
        assert_eq!(
            replies,
            vec![
                Reply::Progress {
                    id: 1,
                    done: 1,
                    total: 3
                },
                Reply::Failed {
                    id: 2,
                    reason: "counted to 1".into()
                },
                Reply::Progress {
                    id: 1,
                    done: 2,
                    total: 3
                },
                Reply::Failed {
                    id: 1,
                    reason: "counted to 3".into()
                },
            ]
        );
        assert!(runner.is_idle());
    }

    #[test]
    fn a_cancel_stops_a_running_job_between_slices_and_drops_a_waiting_one() {
        let mut runner = Runner::new();
        runner.push(1, counting(100));
        runner.push(2, counting(100));
        runner.push(3, counting(1));
        runner.step();
        assert_eq!(
            runner.handle(Request::Cancel { id: 1 }, Vec::new()),
            vec![Reply::Cancelled { id: 1 }]
        );
        assert_eq!(
            runner.handle(Request::Cancel { id: 2 }, Vec::new()),
            vec![Reply::Cancelled { id: 2 }]
        );
        assert_eq!(
            runner.handle(Request::Cancel { id: 9 }, Vec::new()),
            Vec::<Reply>::new(),
            "unknown or finished"
        );
        let next = runner.step().map(|(r, _)| r.id());
        assert_eq!(next, Some(Some(3)));
        assert!(runner.is_idle());
    }

    fn what_if_job(paths: usize) -> JobSpec {
        use linetwin_forecast::montecarlo::SimulationConfig;
        use linetwin_forecast::plan::{
            AssetModel, Calendar, FaultKind, LifeNow, LineModel, Plan, Stage,
        };
        use linetwin_forecast::weibull::Weibull;
        let life = Weibull::new(2.0, 2000.0).unwrap();
        let asset = AssetModel {
            id: "P1".into(),
            new_life: life,
            now: LifeNow::Quantiles {
                hours: (0..21).map(|i| 50.0 + 10.0 * i as f64).collect(),
            },
            fault: FaultKind::Bearing,
            part_cost: 1000.0,
            labour_h: 4.0,
            duration_h: 4.0,
            line_stop: true,
            failure_cost: 5000.0,
            failure_downtime_h: 24.0,
            buffer_h: 0.0,
        };
        let model = LineModel {
            assets: vec![asset],
            stages: vec![Stage { units: vec![0] }],
            production_value_per_h: 1000.0,
            labour_rate_per_h: 50.0,
            horizon_h: 24.0 * 90.0,
            calendar: Calendar {
                first_day: 2.0,
                every_days: 7.0,
                max_stop_h: 16.0,
            },
        };
        JobSpec::WhatIf(Box::new(crate::whatif::WhatIfJob {
            model,
            plans: vec![Plan::do_nothing()],
            config: SimulationConfig {
                paths,
                ..SimulationConfig::default()
            },
            propose_for: vec!["P1".into()],
        }))
    }

    #[test]
    fn a_what_if_reports_progress_then_compares_its_plans_and_the_proposal() {
        let mut runner = Runner::new();
        runner.handle(
            Request::Submit {
                id: 1,
                spec: what_if_job(2000),
            },
            Vec::new(),
        );
        let replies: Vec<Reply> = std::iter::from_fn(|| runner.step())
            .map(|(r, _)| r)
            .collect();
        let progress: Vec<u64> = replies
            .iter()
            .filter_map(|r| match r {
                Reply::Progress { done, total, .. } => {
                    assert_eq!(*total, 4000, "two plans of 2000 paths");
                    Some(*done)
                }
                _ => None,
            })
            .collect();
        assert!(
            progress.len() >= 6 && progress.windows(2).all(|w| w[0] < w[1]),
            "{progress:?}"
        );
        let Some(Reply::Done { output, .. }) = replies.last() else {
            panic!("no outcome: {:?}", replies.last());
        };
        let Output::WhatIf(outcome) = output.as_ref() else {
            panic!("not a what-if outcome");
        };
        assert_eq!(outcome.results.len(), 2);
        assert_eq!(outcome.results[1].plan, "the twin's proposal");
        let recommendation = outcome.recommendation.as_ref().unwrap();
        assert_eq!(recommendation.best, 1, "{}", recommendation.reason);
    }

    #[test]
    fn a_running_what_if_stops_at_a_cancel() {
        let mut runner = Runner::new();
        runner.handle(
            Request::Submit {
                id: 5,
                spec: what_if_job(100_000),
            },
            Vec::new(),
        );
        assert!(matches!(runner.step(), Some((Reply::Progress { .. }, _))));
        assert_eq!(
            runner.handle(Request::Cancel { id: 5 }, Vec::new()),
            vec![Reply::Cancelled { id: 5 }]
        );
        assert!(runner.is_idle());
    }
}
