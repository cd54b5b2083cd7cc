//! A plan as it is sent to the CMMS: the plan, what the whole-line Monte
//! Carlo said of it, who sends it and the data time it was made at. The
//! viewer builds one from a what-if result; the gateway checks it against
//! the line (`POST /api/plans/work-order`) and turns it into a
//! `linetwin.maintenance.planned` event.

use linetwin_core::line::Line;
use serde::{Deserialize, Serialize};

use crate::montecarlo::PlanResult;
use crate::plan::Plan;

/// Further ahead than this is not a plan a CMMS should hold.
pub const MAX_AHEAD_H: f64 = 5.0 * 365.0 * 24.0;
const MAX_ACTIONS: usize = 100;
const MAX_TEXT_LEN: usize = 500;
const MAX_NAME_LEN: usize = 100;

/// What the simulation said of the plan over its horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulated {
    pub paths: u64,
    pub expected_cost: f64,
    pub p90_cost: f64,
    pub expected_downtime_h: f64,
    pub p90_downtime_h: f64,
}

impl From<&PlanResult> for Simulated {
    fn from(result: &PlanResult) -> Self {
        Simulated {
            paths: result.paths as u64,
            expected_cost: result.expected_cost,
            p90_cost: result.p90_cost,
            expected_downtime_h: result.expected_downtime_h,
            p90_downtime_h: result.p90_downtime_h,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOrder {
    pub by: String,
    pub plan: Plan,
    #[serde(default)]
    pub simulated: Option<Simulated>,
    /// Whether the simulation recommended it among those compared, and why.
    #[serde(default)]
    pub recommended: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// Data time the plan was made at (its "now").
    pub t: f64,
}

impl PlanOrder {
    /// Checks the order against the line; the error names the field.
    pub fn check(&self, line: &Line) -> Result<(), String> {
        let by = self.by.trim();
        if by.is_empty() || by.len() > MAX_NAME_LEN {
            return Err(format!(
                "field `by`: must name who, in 1 to {MAX_NAME_LEN} bytes"
            ));
        }
        if self.plan.name.trim().is_empty() || self.plan.name.len() > MAX_TEXT_LEN {
            return Err(format!("field `plan.name`: 1 to {MAX_TEXT_LEN} bytes"));
        }
        if self.plan.actions.is_empty() {
            return Err("field `plan.actions`: a plan with no action is nothing to send".into());
        }
        if self.plan.actions.len() > MAX_ACTIONS {
            return Err(format!("field `plan.actions`: at most {MAX_ACTIONS}"));
        }
        let model = crate::line_model::from_line(line, &Default::default());
        self.plan
            .validate(&model)
            .map_err(|e| format!("field `plan`: {e}"))?;
        if let Some(index) = self.plan.actions.iter().position(|a| a.at_h > MAX_AHEAD_H) {
            return Err(format!(
                "field `plan.actions[{index}].at_h`: more than five years ahead"
            ));
        }
        if self.reason.as_ref().is_some_and(|r| r.len() > MAX_TEXT_LEN) {
            return Err(format!("field `reason`: at most {MAX_TEXT_LEN} bytes"));
        }
        if !self.t.is_finite() {
            return Err("field `t`: not a time".into());
        }
        if let Some(s) = &self.simulated {
            let numbers = [
                s.expected_cost,
                s.p90_cost,
                s.expected_downtime_h,
                s.p90_downtime_h,
            ];
            if numbers.iter().any(|n| !n.is_finite() || *n < 0.0) {
                return Err(
                    "field `simulated`: costs and downtimes are finite and not negative".into(),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line {
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json"))
            .expect("demo line")
    }

    pub(crate) const GOOD: &str = r#"{"by": "maria", "t": 1000.0, "recommended": true, "reason": "cheapest",
        "plan": {"name": "replace P1 at the next stop", "actions": [{"asset": "P1", "kind": {"kind": "replace"}, "at_h": 48.0}]},
        "simulated": {"paths": 10000, "expected_cost": 5200.0, "p90_cost": 9000.0, "expected_downtime_h": 4.0, "p90_downtime_h": 6.0}}"#;

    fn order(json: &str) -> PlanOrder {
        serde_json::from_str(json).expect("an order")
    }

    #[test]
    fn a_good_order_passes_and_round_trips() {
        let good = order(GOOD);
        good.check(&line()).expect("valid");
        let again: PlanOrder =
            serde_json::from_str(&serde_json::to_string(&good).expect("JSON")).expect("reads");
        assert_eq!(again, good);
    }

    #[test]
    fn bad_orders_are_refused_naming_the_field() {
        let line = line();
        let cases = [
            (
                GOOD.replace(r#""asset": "P1""#, r#""asset": "X9""#),
                "no asset `X9`",
            ),
            (
                GOOD.replace(r#""at_h": 48.0"#, r#""at_h": -1.0"#),
                "now or later",
            ),
            (
                GOOD.replace(r#""at_h": 48.0"#, r#""at_h": 99999999.0"#),
                "five years",
            ),
            (
                GOOD.replace(r#""by": "maria""#, r#""by": " ""#),
                "field `by`",
            ),
            (
                GOOD.replace(r#""expected_cost": 5200.0"#, r#""expected_cost": -5.0"#),
                "field `simulated`",
            ),
        ];
        for (json, expected) in cases {
            let error = order(&json).check(&line).expect_err("refused");
            assert!(error.contains(expected), "{error}");
        }
        let mut empty = order(GOOD);
        empty.plan.actions.clear();
        assert!(
            empty
                .check(&line)
                .expect_err("refused")
                .contains("no action")
        );
    }
}
