//! A what-if job: the whole-line Monte Carlo of several maintenance plans,
//! plus the twin's own proposal, run in slices of paths so the worker
//! reports progress and hears a cancel.

use linetwin_forecast::montecarlo::{MonteCarlo, PlanResult, SimulationConfig};
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
