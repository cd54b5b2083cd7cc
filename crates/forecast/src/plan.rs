//! The line as the simulation sees it, maintenance actions and plans.
//!
//! What each action does to a component (the *why* is in
//! `docs/prognostics.md`):
//!
//! | action | effect on the component | cost and outage |
//! |---|---|---|
//! | replace | as new: a fresh life from its Weibull | part + labour; `duration_h`, the line stops if `line_stop` |
//! | lubricate | remaining life × 1.3 when starved lubrication is the fault, × 1.1 otherwise (imperfect repair) | a quarter of the labour; no stop |
//! | realign / balance | remaining life × 2 when misalignment or unbalance is the fault (the cause is removed), × 1.05 otherwise | half the labour; half the duration, a stop if `line_stop` |
//! | reduce speed by p | remaining life × 1/(1-p): a bearing lasts a number of revolutions (ISO 281) | the line makes p less while it runs so |
//! | reduce load by p | remaining life × 1/(1-p)³: rating life goes as (C/P)³ | as for speed |
//! | run to failure | nothing until it fails | at failure: part + labour + failure cost, `failure_downtime_h` unplanned |
//! | replace every T h of age | age replacement (time-based maintenance) | as replace, each time |
//!
//! Deferring an action by N days is the same action N days later.
//! A failure is always followed by a corrective replacement; a planned
//! replacement of a component that a failure has already renewed is skipped.

use linetwin_core::rng::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::weibull::Weibull;

/// What is wearing a component out now, as far as the diagnosis says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    #[default]
    None,
    Bearing,
    Unbalance,
    Misalignment,
    Lubrication,
}

/// The component's remaining life as of now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LifeNow {
    /// Healthy: the residual of its Weibull life at its age.
    Weibull { life: Weibull, age_h: f64 },
    /// Degrading: the RUL distribution as evenly spaced quantiles (0 %..100 %).
    Quantiles { hours: Vec<f64> },
}

impl LifeNow {
    pub fn sample(&self, rng: &mut SplitMix64) -> f64 {
        match self {
            LifeNow::Weibull { life, age_h } => life.sample_residual(*age_h, rng),
            LifeNow::Quantiles { hours } => sample_quantiles(hours, rng.uniform()),
        }
    }

    /// Age of the component now, where known (for age-based policies).
    pub fn age_h(&self) -> f64 {
        match self {
            LifeNow::Weibull { age_h, .. } => *age_h,
            LifeNow::Quantiles { .. } => 0.0,
        }
    }
}

fn sample_quantiles(hours: &[f64], u: f64) -> f64 {
    match hours.len() {
        0 => f64::INFINITY,
        1 => hours[0],
        n => {
            let position = u * (n - 1) as f64;
            let below = (position.floor() as usize).min(n - 2);
            let fraction = position - below as f64;
            hours[below] + (hours[below + 1] - hours[below]) * fraction
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetModel {
    pub id: String,
    /// Life of a new component.
    pub new_life: Weibull,
    pub now: LifeNow,
    #[serde(default)]
    pub fault: FaultKind,
    pub part_cost: f64,
    pub labour_h: f64,
    /// Planned replacement, hours.
    pub duration_h: f64,
    pub line_stop: bool,
    /// Extra cost of an unplanned failure (secondary damage, expediting).
    pub failure_cost: f64,
    pub failure_downtime_h: f64,
    /// Hours of production the buffers beside it absorb.
    #[serde(default)]
    pub buffer_h: f64,
}

/// Units that back each other up: the stage runs while any of them runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub units: Vec<usize>,
}

/// Where planned stops may go: every `every_days` from `first_day`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    pub first_day: f64,
    pub every_days: f64,
    pub max_stop_h: f64,
}

impl Calendar {
    /// Planned-stop days within `horizon_days`, with day 0 (stop now) first.
    pub fn stop_days(&self, horizon_days: f64) -> Vec<f64> {
        let mut days = vec![0.0];
        let step = self.every_days.max(1.0);
        let mut day = self.first_day.max(0.0);
        while day < horizon_days {
            if day > 0.0 {
                days.push(day);
            }
            day += step;
        }
        days
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineModel {
    pub assets: Vec<AssetModel>,
    /// The line runs while every stage runs (stages in series).
    pub stages: Vec<Stage>,
    pub production_value_per_h: f64,
    pub labour_rate_per_h: f64,
    pub horizon_h: f64,
    pub calendar: Calendar,
}

impl LineModel {
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.id == id)
    }

    /// Stages from the line's flows: assets feeding the same asset with the
    /// same medium back each other up (two pumps on one product header);
    /// every other asset is a stage of its own, because the line needs
    /// every medium and every machine on the product's path.
    pub fn stages_from_flows(ids: &[String], flows: &[(String, String, String)]) -> Vec<Stage> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut placed = vec![false; ids.len()];
        for (i, (_, to, medium)) in flows.iter().enumerate() {
            let mut feeders: Vec<usize> = flows
                .iter()
                .skip(i)
                .filter(|(_, t, m)| t == to && m == medium)
                .filter_map(|(f, _, _)| ids.iter().position(|id| id == f))
                .collect();
            feeders.dedup();
            if feeders.len() >= 2 && feeders.iter().all(|f| !placed[*f]) {
                for f in &feeders {
                    placed[*f] = true;
                }
                groups.push(feeders);
            }
        }
        for (i, done) in placed.iter().enumerate() {
            if !done {
                groups.push(vec![i]);
            }
        }
        groups.sort_by_key(|g| g[0]);
        groups.into_iter().map(|units| Stage { units }).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionKind {
    Replace,
    Lubricate,
    Realign,
    ReduceSpeed { percent: f64 },
    ReduceLoad { percent: f64 },
    RunToFailure,
    AgeReplacement { interval_h: f64 },
}

impl ActionKind {
    pub fn label(&self) -> String {
        match self {
            ActionKind::Replace => "replace".into(),
            ActionKind::Lubricate => "lubricate".into(),
            ActionKind::Realign => "realign / balance".into(),
            ActionKind::ReduceSpeed { percent } => format!("reduce speed {percent:.0} %"),
            ActionKind::ReduceLoad { percent } => format!("reduce load {percent:.0} %"),
            ActionKind::RunToFailure => "run to failure".into(),
            ActionKind::AgeReplacement { interval_h } => {
                format!("replace every {interval_h:.0} h of age")
            }
        }
    }

    /// Factor on the remaining life, given what is wearing it.
    pub fn life_factor(&self, fault: FaultKind) -> f64 {
        let fraction = |percent: f64| (percent / 100.0).clamp(0.0, 0.9);
        match self {
            ActionKind::Lubricate if fault == FaultKind::Lubrication => 1.3,
            ActionKind::Lubricate => 1.1,
            ActionKind::Realign
                if matches!(fault, FaultKind::Unbalance | FaultKind::Misalignment) =>
            {
                2.0
            }
            ActionKind::Realign => 1.05,
            ActionKind::ReduceSpeed { percent } => 1.0 / (1.0 - fraction(*percent)),
            ActionKind::ReduceLoad { percent } => (1.0 / (1.0 - fraction(*percent))).powi(3),
            ActionKind::Replace | ActionKind::RunToFailure | ActionKind::AgeReplacement { .. } => {
                1.0
            }
        }
    }

    /// Output the line loses while the action is in force.
    pub fn output_loss(&self) -> f64 {
        match self {
            ActionKind::ReduceSpeed { percent } | ActionKind::ReduceLoad { percent } => {
                (percent / 100.0).clamp(0.0, 0.9)
            }
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub asset: String,
    pub kind: ActionKind,
    /// Hours from now.
    pub at_h: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("plan `{plan}`, action {index}: no asset `{asset}` in the line")]
    UnknownAsset {
        plan: String,
        index: usize,
        asset: String,
    },
    #[error("plan `{plan}`, action {index}: {reason}")]
    Invalid {
        plan: String,
        index: usize,
        reason: String,
    },
}

impl Plan {
    pub fn do_nothing() -> Plan {
        Plan {
            name: "do nothing".into(),
            actions: Vec::new(),
        }
    }

    pub fn validate(&self, model: &LineModel) -> Result<(), PlanError> {
        for (index, action) in self.actions.iter().enumerate() {
            let invalid = |reason: &str| PlanError::Invalid {
                plan: self.name.clone(),
                index,
                reason: reason.to_owned(),
            };
            if model.index_of(&action.asset).is_none() {
                return Err(PlanError::UnknownAsset {
                    plan: self.name.clone(),
                    index,
                    asset: action.asset.clone(),
                });
            }
            if !(action.at_h.is_finite() && action.at_h >= 0.0) {
                return Err(invalid("the date must be now or later"));
            }
            match action.kind {
                ActionKind::ReduceSpeed { percent } | ActionKind::ReduceLoad { percent }
                    if !(percent > 0.0 && percent < 90.0) =>
                {
                    return Err(invalid("a reduction is between 0 and 90 %"));
                }
                ActionKind::AgeReplacement { interval_h }
                    if interval_h.is_nan() || interval_h <= 0.0 =>
                {
                    return Err(invalid("the replacement interval must be positive"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn flow(from: &str, to: &str, medium: &str) -> (String, String, String) {
        (from.into(), to.into(), medium.into())
    }

    #[test]
    fn two_feeders_of_one_medium_back_each_other_up() {
        let stages = LineModel::stages_from_flows(
            &ids(&["PA", "PB", "F", "C"]),
            &[
                flow("PA", "F", "product"),
                flow("PB", "F", "product"),
                flow("F", "C", "bottles"),
            ],
        );
        assert_eq!(
            stages,
            vec![
                Stage { units: vec![0, 1] },
                Stage { units: vec![2] },
                Stage { units: vec![3] }
            ]
        );
    }

    #[test]
    fn different_media_into_one_asset_are_all_needed() {
        let stages = LineModel::stages_from_flows(
            &ids(&["P", "CP", "F"]),
            &[flow("P", "F", "product"), flow("CP", "F", "air")],
        );
        assert_eq!(stages.len(), 3);
    }

    #[test]
    fn load_reduction_follows_the_cube_law() {
        let factor = ActionKind::ReduceLoad { percent: 20.0 }.life_factor(FaultKind::Bearing);
        assert!((factor - 1.953_125).abs() < 1e-9);
        assert_eq!(ActionKind::Realign.life_factor(FaultKind::Unbalance), 2.0);
    }

    #[test]
    fn quantile_sampling_interpolates() {
        assert_eq!(sample_quantiles(&[0.0, 10.0, 20.0], 0.25), 5.0);
        assert_eq!(sample_quantiles(&[0.0, 10.0, 20.0], 1.0), 20.0);
    }

    #[test]
    fn calendar_offers_now_then_every_weekend() {
        let calendar = Calendar {
            first_day: 6.0,
            every_days: 7.0,
            max_stop_h: 16.0,
        };
        assert_eq!(calendar.stop_days(21.0), vec![0.0, 6.0, 13.0, 20.0]);
    }
}
