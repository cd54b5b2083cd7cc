//! What-if questions in the app: a request becomes a Monte Carlo job for
//! the worker (`linetwin_jobs::WhatIfJob`), its progress and outcome are
//! kept here, and the forecast view picks a date and a plan to show in the
//! scene. Every number comes from `linetwin_forecast`; this is glue.

use std::collections::BTreeMap;

use bevy::prelude::*;
use linetwin_core::iso::Zone;
use linetwin_forecast::line_model::from_line;
use linetwin_forecast::montecarlo::SimulationConfig;
use linetwin_forecast::outlook;
use linetwin_forecast::plan::{ActionKind, Plan};
use linetwin_forecast::rul::DegradationState;
use linetwin_forecast::schedule::standard_plans;
use linetwin_jobs::{JobId, JobSpec, Reply, WhatIfJob, WhatIfOutcome};

use crate::executor::Executor;
use crate::line_source::LineDescription;
use crate::prognosis::Prognoses;

/// Ids of what-if jobs start here, apart from diagnosis jobs.
pub const WHAT_IF_IDS: JobId = 1 << 56;

/// Paths per plan: the benchmark's goal size, a few seconds in the worker.
pub const DEFAULT_PATHS: usize = 10_000;

/// A question: the plans for one asset (none: only the twin's proposal
/// against doing nothing).
#[derive(Message, Debug, Clone, PartialEq)]
pub struct RunWhatIf {
    pub asset: Option<String>,
    pub action: ActionKind,
    /// A date of the user's own for the action, days from now, beside the
    /// standard ones.
    pub day: Option<f64>,
    pub paths: usize,
}

#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelWhatIf;

/// The page's form of a question (`window.linetwin.whatIf({...})`):
/// `{"asset": "P1" | null, "action": "replace" | "lubricate" | "realign" |
/// "reduce_speed" | "reduce_load" | "run_to_failure", "percent": 20,
/// "paths": 10000}`, every field optional.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PageRequest {
    #[serde(default)]
    asset: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    percent: Option<f64>,
    #[serde(default)]
    day: Option<f64>,
    #[serde(default)]
    paths: Option<usize>,
}

impl RunWhatIf {
    /// Reads the page's request; the error names the field and the reason.
    pub fn from_page_json(
        text: &str,
        line: &linetwin_core::line::Line,
    ) -> Result<RunWhatIf, String> {
        let request: PageRequest =
            serde_json::from_str(text).map_err(|e| format!("whatIf: {e}"))?;
        if let Some(asset) = &request.asset
            && line.asset(asset).is_none()
        {
            return Err(format!(
                "whatIf: field `asset`: no asset `{asset}` in the line"
            ));
        }
        let percent = request.percent.unwrap_or(20.0);
        if !(percent > 0.0 && percent < 90.0) {
            return Err(format!(
                "whatIf: field `percent`: {percent} is not between 0 and 90"
            ));
        }
        let action = match request.action.as_deref().unwrap_or("replace") {
            "replace" => ActionKind::Replace,
            "lubricate" => ActionKind::Lubricate,
            "realign" | "balance" => ActionKind::Realign,
            "reduce_speed" => ActionKind::ReduceSpeed { percent },
            "reduce_load" => ActionKind::ReduceLoad { percent },
            "run_to_failure" => ActionKind::RunToFailure,
            other => {
                return Err(format!(
                    "whatIf: field `action`: `{other}` is not one of replace, lubricate, realign, reduce_speed, reduce_load, run_to_failure"
                ));
            }
        };
        if let Some(day) = request.day
            && !(day.is_finite() && day >= 0.0)
        {
            return Err(format!("whatIf: field `day`: {day} is not a day from now"));
        }
        Ok(RunWhatIf {
            asset: request.asset,
            action,
            day: request.day,
            paths: request.paths.unwrap_or(DEFAULT_PATHS),
        })
    }
}

/// Show the scene at a future date under one of the plans (`None`: live).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct ShowForecast(pub Option<(f64, usize)>);

#[derive(Debug, Clone, PartialEq, Default)]
pub enum WhatIfStatus {
    #[default]
    Idle,
    Running {
        id: JobId,
        done: u64,
        total: u64,
    },
    Done(Box<WhatIfOutcome>),
    Failed(String),
    Cancelled,
}

impl WhatIfStatus {
    pub fn label(&self) -> &'static str {
        match self {
            WhatIfStatus::Idle => "idle",
            WhatIfStatus::Running { .. } => "running",
            WhatIfStatus::Done(_) => "done",
            WhatIfStatus::Failed(_) => "failed",
            WhatIfStatus::Cancelled => "cancelled",
        }
    }
}

impl WhatIf {
    /// Result `index`'s plan as an order for the CMMS, at data time `t`.
    pub fn order(
        &self,
        index: usize,
        by: &str,
        t: f64,
    ) -> Option<linetwin_forecast::order::PlanOrder> {
        match &self.status {
            WhatIfStatus::Done(outcome) => outcome.order(&self.asked, index, by, t),
            _ => None,
        }
    }

    /// Whether result `index`'s plan does anything (there is something to send).
    pub fn has_actions(&self, outcome: &WhatIfOutcome, index: usize) -> bool {
        outcome.plan(&self.asked, index).is_some()
    }
}

#[derive(Resource, Debug, Default)]
pub struct WhatIf {
    pub status: WhatIfStatus,
    /// The asset the question was about (its trajectories are kept).
    pub focus: Option<String>,
    /// The plans asked about (the twin's proposal comes with the outcome).
    pub asked: Vec<Plan>,
    next_id: JobId,
    pub runs: u64,
}

/// The date and plan the scene shows, and each asset's predicted state.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct ForecastView(pub Option<Forecast>);

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub day: f64,
    pub plan: usize,
    pub plan_name: String,
    pub assets: BTreeMap<String, (Zone, f64)>,
}

impl ForecastView {
    /// What the scene shows for an asset: its predicted level while a
    /// forecast is on, its live status otherwise.
    pub fn shown(&self, id: &str, live: linetwin_twin::AssetStatus) -> linetwin_twin::AssetStatus {
        self.0
            .as_ref()
            .and_then(|f| f.assets.get(id))
            .map_or(live, |(zone, _)| linetwin_twin::AssetStatus::Level(*zone))
    }
}

pub struct WhatIfPlugin;

impl Plugin for WhatIfPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<WhatIf>()
            .init_resource::<ForecastView>()
            .add_message::<RunWhatIf>()
            .add_message::<CancelWhatIf>()
            .add_message::<ShowForecast>()
            .add_systems(
                Update,
                (start, cancel, collect, show_forecast)
                    .chain()
                    .after(crate::diagnosis::DiagnosisSet)
                    .run_if(resource_exists::<Executor>),
            );
    }
}

fn start(
    mut requests: MessageReader<RunWhatIf>,
    line: Option<Res<LineDescription>>,
    prognoses: Res<Prognoses>,
    mut executor: ResMut<Executor>,
    mut what_if: ResMut<WhatIf>,
    mut forecast: ResMut<ForecastView>,
) {
    let Some(request) = requests.read().last().cloned() else {
        return;
    };
    let Some(line) = line else {
        what_if.status = WhatIfStatus::Failed("the line description has not loaded yet".into());
        return;
    };
    if let WhatIfStatus::Running { id, .. } = what_if.status {
        executor.cancel(id);
    }
    let lives = prognoses
        .by_asset
        .iter()
        .map(|(id, p)| (id.clone(), (p.life_now.clone(), p.fault)))
        .collect();
    let model = from_line(&line.0, &lives);
    let mut plans: Vec<Plan> = match &request.asset {
        Some(asset) => standard_plans(&model, asset, request.action),
        None => vec![Plan::do_nothing()],
    };
    if let (Some(asset), Some(day)) = (&request.asset, request.day)
        && !matches!(request.action, ActionKind::RunToFailure)
    {
        plans.push(Plan {
            name: format!("{} {asset} on day {day:.0}", request.action.label()),
            actions: vec![linetwin_forecast::plan::Action {
                asset: asset.clone(),
                kind: request.action,
                at_h: day * 24.0,
            }],
        });
    }
    let propose_for: Vec<String> = prognoses
        .by_asset
        .values()
        .filter(|p| p.state == DegradationState::Degrading)
        .map(|p| p.asset.clone())
        .collect();
    let focus = request
        .asset
        .clone()
        .or_else(|| propose_for.first().cloned());
    what_if.asked = plans.clone();
    let job = WhatIfJob {
        model,
        plans,
        config: SimulationConfig {
            paths: request.paths.clamp(100, 200_000),
            seed: 1,
            trajectories: focus.iter().cloned().collect(),
            ..SimulationConfig::default()
        },
        propose_for,
    };
    let id = WHAT_IF_IDS + what_if.next_id;
    what_if.next_id += 1;
    what_if.runs += 1;
    what_if.focus = focus;
    what_if.status = WhatIfStatus::Running {
        id,
        done: 0,
        total: 0,
    };
    forecast.0 = None;
    executor.submit(id, JobSpec::WhatIf(Box::new(job)), Vec::new());
}

fn cancel(
    mut requests: MessageReader<CancelWhatIf>,
    mut executor: ResMut<Executor>,
    mut what_if: ResMut<WhatIf>,
) {
    if requests.read().last().is_none() {
        return;
    }
    if let WhatIfStatus::Running { id, .. } = what_if.status {
        executor.cancel(id);
        what_if.status = WhatIfStatus::Cancelled;
    }
}

fn collect(mut executor: ResMut<Executor>, mut what_if: ResMut<WhatIf>) {
    for (reply, _) in executor.take_what_if_replies() {
        let WhatIfStatus::Running { id: running, .. } = what_if.status else {
            continue;
        };
        if reply.id() != Some(running) {
            continue;
        }
        what_if.status = match reply {
            Reply::Progress { id, done, total } => WhatIfStatus::Running { id, done, total },
            Reply::Done { output, .. } => match *output {
                linetwin_jobs::message::Output::WhatIf(outcome) => WhatIfStatus::Done(outcome),
                _ => WhatIfStatus::Failed("the worker answered with something else".into()),
            },
            Reply::Failed { reason, .. } => WhatIfStatus::Failed(reason),
            Reply::Cancelled { .. } => WhatIfStatus::Cancelled,
            Reply::Ready => continue,
        };
    }
}

fn show_forecast(
    mut requests: MessageReader<ShowForecast>,
    what_if: Res<WhatIf>,
    mut forecast: ResMut<ForecastView>,
) {
    let Some(ShowForecast(wanted)) = requests.read().last().copied() else {
        return;
    };
    forecast.0 = match (wanted, &what_if.status) {
        (Some((day, plan)), WhatIfStatus::Done(outcome)) => {
            outcome.results.get(plan).map(|result| Forecast {
                day,
                plan,
                plan_name: result.plan.clone(),
                assets: outlook::at(result, day * 24.0)
                    .into_iter()
                    .map(|p| (p.asset, (p.zone, p.failure_probability)))
                    .collect(),
            })
        }
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> linetwin_core::line::Line {
        linetwin_core::line::Line::from_json("demo.json", include_str!("../assets/lines/demo.json"))
            .unwrap()
    }

    #[test]
    fn page_requests_are_read_and_bad_ones_named() {
        let line = demo();
        let request = RunWhatIf::from_page_json(
            r#"{"asset":"P1","action":"reduce_load","percent":25}"#,
            &line,
        )
        .unwrap();
        assert_eq!(request.asset.as_deref(), Some("P1"));
        assert_eq!(request.action, ActionKind::ReduceLoad { percent: 25.0 });
        assert_eq!(request.paths, DEFAULT_PATHS);
        let proposal = RunWhatIf::from_page_json("{}", &line).unwrap();
        assert_eq!(proposal.asset, None);
        for (text, words) in [
            (r#"{"asset":"PX"}"#, "no asset `PX`"),
            (r#"{"action":"pray"}"#, "field `action`"),
            (r#"{"percent":120}"#, "field `percent`"),
            (r#"{"day":-3}"#, "field `day`"),
            (r#"{"assets":"P1"}"#, "unknown field"),
        ] {
            let error = RunWhatIf::from_page_json(text, &line).unwrap_err();
            assert!(error.contains(words), "{text}: {error}");
        }
    }
}
