//! linetwin-forecast: what will happen, and what if we act.
//!
//! - [`weibull`]: lives of components, conditional residual life, and the
//!   classical age-replacement cost rate (the known answer the simulation is
//!   checked against).
//! - [`rul`]: remaining useful life of one component from its
//!   health-indicator history: a two-phase model (healthy, then exponential
//!   degradation with Bayesian updating), with the fleet's lives as prior.
//!   See `docs/prognostics.md`.
//! - [`fleet`]: what earlier runs to failure teach (onset ages, degradation
//!   durations, failure levels, growth rates).
//! - [`usage`]: remaining life by usage from a cycle counter.
//! - [`plan`], [`montecarlo`]: maintenance actions, plans and the whole-line
//!   Monte Carlo (series/parallel stages, buffers, downtime, cost).
//! - [`order`]: a plan as sent to the CMMS, checked against the line.
//! - [`schedule`]: the twin's own proposal (cost-optimal dates, grouped into
//!   shared stops of the planning calendar) and the recommendation.
//!
//! Hours are the unit of time everywhere in this crate. No Bevy, no I/O and
//! no clock: every answer is a function of its inputs (and a seed).

pub mod fleet;
pub mod line_model;
pub mod montecarlo;
pub mod order;
pub mod outlook;
pub mod plan;
pub mod rul;
pub mod schedule;
pub mod stats;
pub mod usage;
pub mod weibull;

pub use fleet::{FleetPrior, FleetRun};
pub use montecarlo::{MonteCarlo, PlanResult, SimulationConfig};
pub use plan::{Action, ActionKind, AssetModel, LifeNow, LineModel, Plan};
pub use rul::{DegradationState, Rul, RulConfig, Threshold, estimate_rul};
pub use weibull::Weibull;
