//! The twin's own plan, and the recommendation between plans.
//!
//! **Condition-based dates.** For each degrading component the date
//! minimises the relative cost of its current life cycle,
//! `J(T) = Cp R(T) + Cf F(T) - g* ∫0^T R(u) du`, where `F` is the
//! distribution of its time to failure *now* (its RUL), `Cp` and `Cf` the
//! planned and unplanned costs including lost production, and `g*` the
//! long-run cost rate of the new component that follows (its optimal age
//! replacement). This is the renewal-reward argument of the age-replacement
//! policy applied to a component whose life is already partly known: time
//! the old component keeps running is worth `g*` per hour.
//!
//! **Shared stops.** Dates are the planning calendar's stops (and "now").
//! A replacement joins an earlier stop when the life it gives up costs less
//! than the line stop it saves (Wildeman, Dekker & Smit 1997's grouping
//! argument, applied greedily in date order).

use serde::{Deserialize, Serialize};

use crate::montecarlo::PlanResult;
use crate::plan::{Action, ActionKind, AssetModel, LifeNow, LineModel, Plan};
use crate::weibull::{integrate, optimal_age_replacement, run_to_failure_cost_rate};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub plan: Plan,
    /// One sentence per asset considered.
    pub reasons: Vec<String>,
}

/// Failure-time distribution of a component now.
fn cdf(now: &LifeNow, t: f64) -> f64 {
    match now {
        LifeNow::Weibull { life, age_h } => life.conditional_failure(*age_h, t),
        LifeNow::Quantiles { hours } => {
            if hours.is_empty() || t < hours[0] {
                return 0.0;
            }
            let n = hours.len();
            match hours.iter().position(|h| *h > t) {
                None => 1.0,
                Some(k) => {
                    let (a, b) = (hours[k - 1], hours[k]);
                    let within = if b > a { (t - a) / (b - a) } else { 1.0 };
                    ((k - 1) as f64 + within) / (n - 1) as f64
                }
            }
        }
    }
}

struct Costs {
    planned: f64,
    unplanned: f64,
    long_run_rate: f64,
}

fn costs(model: &LineModel, asset: &AssetModel) -> Costs {
    let labour = asset.labour_h * model.labour_rate_per_h;
    let stop = if asset.line_stop {
        asset.duration_h
    } else {
        0.0
    };
    let planned = asset.part_cost + labour + stop * model.production_value_per_h;
    let unplanned = asset.part_cost
        + labour
        + asset.failure_cost
        + (asset.failure_downtime_h - asset.buffer_h).max(0.0) * model.production_value_per_h;
    let long_run_rate = optimal_age_replacement(&asset.new_life, planned, unplanned).map_or_else(
        || run_to_failure_cost_rate(&asset.new_life, unplanned),
        |(_, rate)| rate,
    );
    Costs {
        planned,
        unplanned,
        long_run_rate,
    }
}

/// `J(T)` above, for a replacement `t_h` hours from now.
fn cycle_cost(now: &LifeNow, costs: &Costs, t_h: f64) -> f64 {
    let failed = cdf(now, t_h);
    let running = integrate(|u| 1.0 - cdf(now, u), 0.0, t_h, 400);
    costs.planned * (1.0 - failed) + costs.unplanned * failed - costs.long_run_rate * running
}

/// The twin's plan for the `candidates` (indices of degrading assets).
pub fn propose(model: &LineModel, candidates: &[usize]) -> Proposal {
    let horizon_days = model.horizon_h / 24.0;
    let days = model.calendar.stop_days(horizon_days);
    let mut chosen: Vec<(usize, f64, f64)> = Vec::new(); // (asset, day, J)
    let mut reasons = Vec::new();
    for &i in candidates {
        let asset = &model.assets[i];
        let c = costs(model, asset);
        let best = days
            .iter()
            .map(|d| (*d, cycle_cost(&asset.now, &c, d * 24.0)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let never = cycle_cost(&asset.now, &c, 20.0 * model.horizon_h);
        match best {
            Some((day, j)) if j < never => {
                reasons.push(format!(
                    "{}: replace on {}: the cost-optimal stop (risk of failing before it {:.0} %)",
                    asset.id,
                    day_label(day),
                    100.0 * cdf(&asset.now, day * 24.0)
                ));
                chosen.push((i, day, j));
            }
            _ => reasons.push(format!(
                "{}: no replacement within the horizon pays for itself",
                asset.id
            )),
        }
    }
    chosen.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Greedy grouping: each later line-stopping replacement may join the
    // stop of an earlier one.
    let mut stops: Vec<(f64, f64)> = Vec::new(); // (day, stop hours)
    let mut actions = Vec::new();
    for (i, day, j) in chosen {
        let asset = &model.assets[i];
        let c = costs(model, asset);
        let mut at_day = day;
        if asset.line_stop {
            let joinable = stops
                .iter_mut()
                .filter(|(d, hours)| {
                    *d < day && hours.max(asset.duration_h) <= model.calendar.max_stop_h
                })
                .map(|(d, hours)| {
                    let given_up = cycle_cost(&asset.now, &c, *d * 24.0) - j;
                    let saved = hours.min(asset.duration_h) * model.production_value_per_h;
                    (d, hours, saved - given_up, saved)
                })
                .filter(|(_, _, gain, _)| *gain > 0.0)
                .max_by(|a, b| a.2.total_cmp(&b.2));
            match joinable {
                Some((d, hours, gain, saved)) => {
                    *hours = hours.max(asset.duration_h);
                    at_day = *d;
                    reasons.push(format!(
                        "{}: moved to the stop on {}: sharing it saves {:.0} of line stop, {:.0} more than the life given up",
                        asset.id,
                        day_label(*d),
                        saved,
                        gain
                    ));
                }
                None => stops.push((day, asset.duration_h)),
            }
        }
        actions.push(Action {
            asset: asset.id.clone(),
            kind: ActionKind::Replace,
            at_h: at_day * 24.0,
        });
    }
    Proposal {
        plan: Plan {
            name: "the twin's proposal".into(),
            actions,
        },
        reasons,
    }
}

pub fn day_label(day: f64) -> String {
    if day <= 0.0 {
        "day 0 (now)".to_owned()
    } else {
        format!("day {day:.0}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Index into the results.
    pub best: usize,
    pub reason: String,
}

/// Costs closer than this are a tie, settled by downtime risk.
const TIE: f64 = 0.02;

/// The plan to choose, and why, in words.
pub fn recommend(results: &[PlanResult]) -> Option<Recommendation> {
    let cheapest = results
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.expected_cost.total_cmp(&b.1.expected_cost))?;
    let tied: Vec<(usize, &PlanResult)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.expected_cost <= cheapest.1.expected_cost * (1.0 + TIE))
        .collect();
    let (best, chosen) = tied
        .iter()
        .min_by(|a, b| a.1.p90_downtime_h.total_cmp(&b.1.p90_downtime_h))
        .copied()
        .unwrap_or(cheapest);
    let runner_up = results
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .min_by(|a, b| a.1.expected_cost.total_cmp(&b.1.expected_cost));
    let mut reason = format!(
        "“{}”: expected cost {:.0} (P90 {:.0}), downtime {:.1} h expected, {:.1} h P90",
        chosen.plan,
        chosen.expected_cost,
        chosen.p90_cost,
        chosen.expected_downtime_h,
        chosen.p90_downtime_h
    );
    if let Some((_, other)) = runner_up {
        if (other.expected_cost - chosen.expected_cost).abs() < 1e-9
            && (other.p90_downtime_h - chosen.p90_downtime_h).abs() < 1e-9
        {
            reason.push_str(&format!("; the same outcome as “{}”", other.plan));
        } else if tied.len() > 1 {
            reason.push_str(&format!(
                "; costs within {:.0} % of “{}”, and the lower downtime risk",
                TIE * 100.0,
                other.plan
            ));
        } else {
            reason.push_str(&format!(
                "; {:.0} less than “{}” ({:.0})",
                other.expected_cost - chosen.expected_cost,
                other.plan,
                other.expected_cost
            ));
        }
    }
    Some(Recommendation { best, reason })
}

/// The questions a maintenance manager asks of one asset: what if we do
/// nothing, or `action` now, at the next planned stop, or four weeks on
/// (deferred to the calendar's stop after that).
pub fn standard_plans(model: &LineModel, asset: &str, action: ActionKind) -> Vec<Plan> {
    let days = model.calendar.stop_days(model.horizon_h / 24.0);
    let next_stop = days.iter().copied().find(|d| *d > 0.0).unwrap_or(0.0);
    let deferred = days.iter().copied().find(|d| *d >= 28.0).unwrap_or(28.0);
    let mut plans = vec![Plan::do_nothing()];
    if matches!(action, ActionKind::RunToFailure) {
        return plans;
    }
    for (when, day) in [
        ("now".to_owned(), 0.0),
        (format!("at the next stop (day {next_stop:.0})"), next_stop),
        (format!("deferred 4 weeks (day {deferred:.0})"), deferred),
    ] {
        plans.push(Plan {
            name: format!("{} {asset} {when}", action.label()),
            actions: vec![Action {
                asset: asset.to_owned(),
                kind: action,
                at_h: day * 24.0,
            }],
        });
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Calendar, FaultKind, Stage};
    use crate::weibull::Weibull;

    #[test]
    fn standard_plans_ask_now_next_stop_and_four_weeks_on() {
        let life = Weibull::new(2.0, 1000.0).unwrap();
        let model = LineModel {
            assets: vec![AssetModel {
                id: "P1".into(),
                new_life: life,
                now: LifeNow::Weibull { life, age_h: 0.0 },
                fault: FaultKind::None,
                part_cost: 1.0,
                labour_h: 1.0,
                duration_h: 1.0,
                line_stop: true,
                failure_cost: 1.0,
                failure_downtime_h: 1.0,
                buffer_h: 0.0,
            }],
            stages: vec![Stage { units: vec![0] }],
            production_value_per_h: 1.0,
            labour_rate_per_h: 1.0,
            horizon_h: 24.0 * 365.0,
            calendar: Calendar {
                first_day: 6.0,
                every_days: 7.0,
                max_stop_h: 16.0,
            },
        };
        let plans = standard_plans(&model, "P1", ActionKind::Replace);
        let days: Vec<f64> = plans
            .iter()
            .skip(1)
            .map(|p| p.actions[0].at_h / 24.0)
            .collect();
        assert_eq!(plans[0].name, "do nothing");
        assert_eq!(days, vec![0.0, 6.0, 34.0]);
        assert!(plans[2].name.contains("next stop"), "{}", plans[2].name);
    }
}
