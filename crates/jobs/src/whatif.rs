//! A what-if job: the whole-line Monte Carlo of several maintenance plans,
//! plus the twin's own proposal, run in slices of paths so the worker
//! reports progress and hears a cancel.

use linetwin_forecast::montecarlo::{MonteCarlo, PlanResult, SimulationConfig};
use linetwin_forecast::order::{PlanOrder, Simulated};
use linetwin_forecast::plan::{LineModel, Plan, PlanError};
use linetwin_forecast::schedule::{Proposal, Recommendation, propose, recommend};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfJob {
    pub model: LineModel,
    pub plans: Vec<Plan>,
    pub config: SimulationConfig,
    /// Assets the twin's proposal considers (the degrading ones); when not
    /// empty the proposal is simulated as one more plan.
    #[serde(default)]
    pub propose_for: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfOutcome {
    pub results: Vec<PlanResult>,
    pub recommendation: Option<Recommendation>,
    pub proposal: Option<Proposal>,
}

impl WhatIfOutcome {
    /// The plan behind result `index`, when it does something.
    pub fn plan<'a>(&'a self, asked: &'a [Plan], index: usize) -> Option<&'a Plan> {
        let result = self.results.get(index)?;
        asked
            .get(index)
            .or_else(|| {
                self.proposal
                    .as_ref()
                    .filter(|_| index == asked.len())
                    .map(|p| &p.plan)
            })
            .filter(|p| p.name == result.plan && !p.actions.is_empty())
    }

    /// Result `index` as an order for the CMMS, sent by `by` at data time
    /// `t`; `asked` are the plans the job was given (the twin's proposal,
    /// simulated last, is in the outcome). `None` for an index without a
    /// plan, or a plan with nothing to do.
    pub fn order(&self, asked: &[Plan], index: usize, by: &str, t: f64) -> Option<PlanOrder> {
        let result = self.results.get(index)?;
        let plan = self.plan(asked, index)?;
        let recommendation = self.recommendation.as_ref().filter(|r| r.best == index);
        Some(PlanOrder {
            by: by.to_owned(),
            plan: plan.clone(),
            simulated: Some(Simulated::from(result)),
            recommended: recommendation.is_some(),
            reason: recommendation.map(|r| r.reason.clone()),
            t,
        })
    }
}

/// Paths per slice: about 20 ms of work for a 15-asset line in wasm, so a
/// cancel is heard quickly and progress moves smoothly.
pub const PATHS_PER_SLICE: usize = 500;

pub struct WhatIfRun {
    simulation: MonteCarlo,
    proposal: Option<Proposal>,
}

impl WhatIfJob {
    pub fn start(self) -> Result<WhatIfRun, PlanError> {
        let candidates: Vec<usize> = self
            .propose_for
            .iter()
            .filter_map(|id| self.model.index_of(id))
            .collect();
        let proposal = (!candidates.is_empty()).then(|| propose(&self.model, &candidates));
        let mut plans = self.plans;
        if let Some(p) = &proposal {
            plans.push(p.plan.clone());
        }
        Ok(WhatIfRun {
            simulation: MonteCarlo::new(self.model, plans, self.config)?,
            proposal,
        })
    }
}

impl WhatIfRun {
    /// One slice; `Some` with the outcome once every plan is done.
    pub fn step(&mut self) -> Option<WhatIfOutcome> {
        if !self.simulation.step(PATHS_PER_SLICE) {
            return None;
        }
        let results = self.simulation.take_results();
        Some(WhatIfOutcome {
            recommendation: recommend(&results),
            results,
            proposal: self.proposal.take(),
        })
    }

    pub fn progress(&self) -> (u64, u64) {
        (self.simulation.done_paths(), self.simulation.total_paths())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linetwin_forecast::plan::{Action, ActionKind};

    fn outcome_of(plans: &[Plan]) -> WhatIfOutcome {
        let line = linetwin_core::line::Line::from_json(
            "demo.json",
            include_str!("../../../assets/lines/demo.json"),
        )
        .expect("demo line");
        let model = linetwin_forecast::line_model::from_line(&line, &Default::default());
        let job = WhatIfJob {
            model,
            plans: plans.to_vec(),
            config: SimulationConfig {
                paths: 200,
                ..SimulationConfig::default()
            },
            propose_for: vec!["P1".into()],
        };
        let mut run = job.start().expect("valid");
        loop {
            if let Some(outcome) = run.step() {
                return outcome;
            }
        }
    }

    #[test]
    fn a_result_becomes_the_order_of_its_own_plan_with_its_numbers() {
        let replace = Plan {
            name: "replace P1 in 2 days".into(),
            actions: vec![Action {
                asset: "P1".into(),
                kind: ActionKind::Replace,
                at_h: 48.0,
            }],
        };
        let asked = [Plan::do_nothing(), replace.clone()];
        let outcome = outcome_of(&asked);
        assert_eq!(outcome.results.len(), 3, "the twin's proposal comes last");

        let order = outcome.order(&asked, 1, "maria", 500.0).expect("an order");
        assert_eq!(order.plan, replace);
        assert_eq!(order.t, 500.0);
        let simulated = order.simulated.expect("its numbers");
        assert_eq!(simulated.expected_cost, outcome.results[1].expected_cost);
        assert_eq!(simulated.paths, 200);
        let best = outcome.recommendation.as_ref().expect("one").best;
        assert_eq!(order.recommended, best == 1);
        assert_eq!(order.reason.is_some(), best == 1);

        let proposal = outcome.order(&asked, 2, "maria", 500.0);
        assert_eq!(
            proposal.map(|o| o.plan),
            outcome
                .proposal
                .as_ref()
                .map(|p| p.plan.clone())
                .filter(|p| !p.actions.is_empty())
        );
        assert_eq!(
            outcome.order(&asked, 0, "maria", 500.0),
            None,
            "nothing to do"
        );
        assert_eq!(outcome.order(&asked, 3, "maria", 500.0), None);
    }
}
