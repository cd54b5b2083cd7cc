//! Monte Carlo of maintenance plans over the whole line.
//!
//! Each path draws every component's life, walks its actions and failures
//! through the horizon, and turns the components' outages into line
//! downtime through the stages (series of parallel units) and buffers.
//! Path `p` of asset `i` draws from its own random stream keyed by
//! (seed, p, i): every plan sees the same lives (common random numbers, so
//! differences between plans are not noise) and a run sliced for progress
//! gives the same answer as one in a piece.

use linetwin_core::rng::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::plan::{ActionKind, LineModel, Plan, PlanError};
use crate::stats::quantile_sorted;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationConfig {
    pub paths: usize,
    pub seed: u64,
    /// Assets whose RUL trajectory is kept (costly: one value per path and date).
    #[serde(default)]
    pub trajectories: Vec<String>,
    /// Points of the date grid (failure probability, trajectories).
    #[serde(default = "default_grid")]
    pub grid_points: usize,
}

fn default_grid() -> usize {
    53
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            paths: 10_000,
            seed: 1,
            trajectories: Vec::new(),
            grid_points: default_grid(),
        }
    }
}

/// Paths whose trajectories are kept: quantiles need no more.
const TRAJECTORY_PATHS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetOutcome {
    pub asset: String,
    /// Probability of at least one failure by each grid date.
    pub failure_probability: Vec<f64>,
    pub expected_failures: f64,
    /// Hours from now to its first failure after the plan's last action on
    /// it (10-90 % band); beyond the horizon it is extrapolated.
    pub life_after_actions_h: Band,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    pub asset: String,
    /// RUL at each grid date: median and 10-90 % band.
    pub rul_h: Vec<Band>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    pub plan: String,
    pub paths: usize,
    pub expected_downtime_h: f64,
    pub p90_downtime_h: f64,
    pub expected_unplanned_downtime_h: f64,
    pub expected_production_lost: f64,
    pub expected_maintenance_cost: f64,
    pub expected_failure_cost: f64,
    pub expected_cost: f64,
    pub p90_cost: f64,
    /// Grid dates, hours from now.
    pub grid_h: Vec<f64>,
    pub assets: Vec<AssetOutcome>,
    pub trajectories: Vec<Trajectory>,
}

/// An outage of one asset: [start, end) hours, and whether it was planned.
#[derive(Debug, Clone, Copy)]
struct Outage {
    start: f64,
    end: f64,
    planned: bool,
}

/// What one path of one asset did.
#[derive(Default)]
struct AssetPath {
    outages: Vec<Outage>,
    failures: Vec<f64>,
    maintenance_cost: f64,
    failure_cost: f64,
    slow_hours_weighted: f64,
    life_after_actions_h: f64,
}

struct Accumulator {
    downtime: Vec<f64>,
    unplanned: f64,
    production: f64,
    maintenance: f64,
    failure: f64,
    cost: Vec<f64>,
    first_failure_counts: Vec<Vec<u32>>,
    failures: Vec<u64>,
    life_after: Vec<Vec<f32>>,
    trajectories: Vec<Vec<Vec<f32>>>,
}

/// A run of several plans, advanced a slice of paths at a time.
pub struct MonteCarlo {
    model: LineModel,
    plans: Vec<Plan>,
    config: SimulationConfig,
    grid_h: Vec<f64>,
    trajectory_assets: Vec<usize>,
    plan_index: usize,
    path: usize,
    accumulator: Accumulator,
    results: Vec<PlanResult>,
    scratch: Vec<AssetPath>,
}

impl MonteCarlo {
    pub fn new(
        model: LineModel,
        plans: Vec<Plan>,
        config: SimulationConfig,
    ) -> Result<Self, PlanError> {
        for plan in &plans {
            plan.validate(&model)?;
        }
        let points = config.grid_points.max(2);
        let grid_h = (0..points)
            .map(|i| model.horizon_h * i as f64 / (points - 1) as f64)
            .collect();
        let trajectory_assets: Vec<usize> = config
            .trajectories
            .iter()
            .filter_map(|id| model.index_of(id))
            .collect();
        let accumulator = Accumulator::new(&model, &trajectory_assets, points);
        let scratch = (0..model.assets.len())
            .map(|_| AssetPath::default())
            .collect();
        Ok(MonteCarlo {
            model,
            plans,
            config,
            grid_h,
            trajectory_assets,
            plan_index: 0,
            path: 0,
            accumulator,
            results: Vec::new(),
            scratch,
        })
    }

    pub fn total_paths(&self) -> u64 {
        (self.plans.len() * self.config.paths) as u64
    }

    pub fn done_paths(&self) -> u64 {
        (self.plan_index * self.config.paths + self.path) as u64
    }

    pub fn is_done(&self) -> bool {
        self.plan_index >= self.plans.len()
    }

    /// Simulates up to `budget` more paths; true when every plan is done.
    pub fn step(&mut self, budget: usize) -> bool {
        let mut left = budget;
        while left > 0 && !self.is_done() {
            let take = left.min(self.config.paths - self.path);
            for p in self.path..self.path + take {
                self.simulate_path(p);
            }
            self.path += take;
            left -= take;
            if self.path >= self.config.paths {
                let accumulator = std::mem::replace(
                    &mut self.accumulator,
                    Accumulator::new(&self.model, &self.trajectory_assets, self.grid_h.len()),
                );
                let name = self.plans[self.plan_index].name.clone();
                self.results.push(accumulator.finish(
                    name,
                    &self.model,
                    &self.grid_h,
                    &self.trajectory_assets,
                ));
                self.plan_index += 1;
                self.path = 0;
            }
        }
        self.is_done()
    }

    pub fn run(mut self) -> Vec<PlanResult> {
        while !self.step(usize::MAX) {}
        self.results
    }

    pub fn into_results(self) -> Vec<PlanResult> {
        self.results
    }

    /// The finished plans' results, leaving none behind.
    pub fn take_results(&mut self) -> Vec<PlanResult> {
        std::mem::take(&mut self.results)
    }

    fn simulate_path(&mut self, path: usize) {
        let plan = &self.plans[self.plan_index];
        let horizon = self.model.horizon_h;
        for (i, asset_path) in self.scratch.iter_mut().enumerate() {
            let mut rng = SplitMix64::keyed(&[self.config.seed, path as u64, i as u64]);
            simulate_asset(&self.model, i, plan, &mut rng, asset_path);
        }
        let downtime = line_downtime(&self.model, &self.scratch, horizon);
        let acc = &mut self.accumulator;
        let value = self.model.production_value_per_h;
        let mut production = downtime.0 * value;
        let (mut maintenance, mut failure) = (0.0, 0.0);
        for (i, asset_path) in self.scratch.iter().enumerate() {
            production += asset_path.slow_hours_weighted * value;
            maintenance += asset_path.maintenance_cost;
            failure += asset_path.failure_cost;
            acc.failures[i] += asset_path
                .failures
                .iter()
                .filter(|f| **f <= horizon)
                .count() as u64;
            if let Some(first) = asset_path.failures.first().filter(|f| **f <= horizon) {
                let bin = self.grid_h.partition_point(|g| g < first);
                if let Some(count) = acc.first_failure_counts[i].get_mut(bin) {
                    *count += 1;
                }
            }
            acc.life_after[i].push(asset_path.life_after_actions_h as f32);
        }
        if path < TRAJECTORY_PATHS {
            for (k, &i) in self.trajectory_assets.iter().enumerate() {
                let failures = &self.scratch[i].failures;
                for (g, date) in self.grid_h.iter().enumerate() {
                    let next = failures
                        .iter()
                        .find(|f| **f >= *date)
                        .copied()
                        .unwrap_or(f64::INFINITY);
                    acc.trajectories[k][g].push((next - date) as f32);
                }
            }
        }
        acc.downtime.push(downtime.0);
        acc.unplanned += downtime.1;
        acc.production += production;
        acc.maintenance += maintenance;
        acc.failure += failure;
        acc.cost.push(production + maintenance + failure);
    }
}

/// Walks one asset's component through the horizon (and to its first
/// failure beyond it, for the life after the actions).
fn simulate_asset(
    model: &LineModel,
    index: usize,
    plan: &Plan,
    rng: &mut SplitMix64,
    out: &mut AssetPath,
) {
    let asset = &model.assets[index];
    let horizon = model.horizon_h;
    let labour = model.labour_rate_per_h;
    out.outages.clear();
    out.failures.clear();
    out.maintenance_cost = 0.0;
    out.failure_cost = 0.0;
    out.slow_hours_weighted = 0.0;
    let mut actions: Vec<(f64, ActionKind)> = plan
        .actions
        .iter()
        .filter(|a| a.asset == asset.id)
        .map(|a| (a.at_h, a.kind))
        .collect();
    actions.sort_by(|a, b| a.0.total_cmp(&b.0));
    let age_policy = actions.iter().find_map(|(_, k)| match k {
        ActionKind::AgeReplacement { interval_h } => Some(*interval_h),
        _ => None,
    });
    let last_action_h = actions
        .iter()
        .filter(|(_, k)| {
            !matches!(
                k,
                ActionKind::AgeReplacement { .. } | ActionKind::RunToFailure
            )
        })
        .map(|(t, _)| *t)
        .fold(0.0, f64::max);
    let mut installed_at = -asset.now.age_h();
    let mut failure_at = asset.now.sample(rng);
    let mut renewed_by_failure = false;
    let mut slow: Option<(f64, f64)> = None; // (since, output loss)
    let mut next_action = 0;
    let mut life_after: Option<f64> = None;
    let end_slow = |slow: &mut Option<(f64, f64)>, at: f64, out: &mut AssetPath| {
        if let Some((since, loss)) = slow.take() {
            out.slow_hours_weighted += loss * (at.min(horizon) - since).max(0.0);
        }
    };
    // Bounded: lives are positive, so events advance time; the guard only
    // protects against degenerate inputs (zero-length lives).
    for _ in 0..100_000 {
        let action_at = actions.get(next_action).map_or(f64::INFINITY, |a| a.0);
        let age_due = age_policy.map_or(f64::INFINITY, |t| installed_at + t);
        let next = failure_at.min(action_at).min(age_due);
        if next > horizon {
            if life_after.is_none() {
                life_after = Some(failure_at);
            }
            break;
        }
        if failure_at <= action_at && failure_at <= age_due {
            out.failures.push(failure_at);
            out.failure_cost += asset.part_cost + asset.labour_h * labour + asset.failure_cost;
            out.outages.push(Outage {
                start: failure_at,
                end: failure_at + asset.failure_downtime_h,
                planned: false,
            });
            end_slow(&mut slow, failure_at, out);
            if failure_at >= last_action_h && life_after.is_none() {
                life_after = Some(failure_at);
            }
            installed_at = failure_at + asset.failure_downtime_h;
            failure_at = installed_at + asset.new_life.sample_residual(0.0, rng);
            renewed_by_failure = true;
        } else if age_due <= action_at {
            replace(asset, age_due, labour, out);
            end_slow(&mut slow, age_due, out);
            installed_at = age_due + asset.duration_h;
            failure_at = installed_at + asset.new_life.sample_residual(0.0, rng);
        } else {
            let (at, kind) = actions[next_action];
            next_action += 1;
            match kind {
                ActionKind::Replace if !renewed_by_failure => {
                    replace(asset, at, labour, out);
                    end_slow(&mut slow, at, out);
                    installed_at = at + asset.duration_h;
                    failure_at = installed_at + asset.new_life.sample_residual(0.0, rng);
                }
                ActionKind::Lubricate => {
                    out.maintenance_cost += 0.25 * asset.labour_h * labour;
                    failure_at = at + (failure_at - at) * kind.life_factor(asset.fault);
                }
                ActionKind::Realign => {
                    out.maintenance_cost += 0.5 * asset.labour_h * labour;
                    if asset.line_stop {
                        out.outages.push(Outage {
                            start: at,
                            end: at + 0.5 * asset.duration_h,
                            planned: true,
                        });
                    }
                    failure_at = at + (failure_at - at) * kind.life_factor(asset.fault);
                }
                ActionKind::ReduceSpeed { .. } | ActionKind::ReduceLoad { .. } => {
                    end_slow(&mut slow, at, out);
                    slow = Some((at, kind.output_loss()));
                    failure_at = at + (failure_at - at) * kind.life_factor(asset.fault);
                }
                ActionKind::Replace
                | ActionKind::RunToFailure
                | ActionKind::AgeReplacement { .. } => {}
            }
        }
    }
    end_slow(&mut slow, horizon, out);
    // The first failure beyond the horizon is still wanted for trajectories.
    if out.failures.last().is_none_or(|f| *f <= horizon) {
        out.failures.push(failure_at);
    }
    out.life_after_actions_h = life_after.unwrap_or(failure_at);
}

fn replace(asset: &crate::plan::AssetModel, at: f64, labour: f64, out: &mut AssetPath) {
    out.maintenance_cost += asset.part_cost + asset.labour_h * labour;
    if asset.line_stop {
        out.outages.push(Outage {
            start: at,
            end: at + asset.duration_h,
            planned: true,
        });
    }
}

/// Line downtime within the horizon, and its unplanned part, hours.
fn line_downtime(model: &LineModel, paths: &[AssetPath], horizon: f64) -> (f64, f64) {
    let mut line: Vec<Outage> = Vec::new();
    for stage in &model.stages {
        let effective = |i: usize| -> Vec<Outage> {
            let buffer = model.assets[i].buffer_h;
            paths[i]
                .outages
                .iter()
                .filter_map(|o| {
                    // A deliberate stop stops the line; a breakdown first
                    // drains the buffer beside it.
                    let start = if o.planned { o.start } else { o.start + buffer };
                    (start < o.end && start < horizon).then_some(Outage {
                        start,
                        end: o.end.min(horizon),
                        planned: o.planned,
                    })
                })
                .collect()
        };
        let mut down = effective(stage.units[0]);
        for &unit in &stage.units[1..] {
            down = intersect(&down, &effective(unit));
        }
        line.extend(down);
    }
    let mut total = 0.0;
    let mut unplanned = 0.0;
    line.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut current: Option<Outage> = None;
    for outage in line {
        match &mut current {
            Some(c) if outage.start <= c.end => {
                c.end = c.end.max(outage.end);
                c.planned &= outage.planned;
            }
            _ => {
                if let Some(c) = current.take() {
                    total += c.end - c.start;
                    if !c.planned {
                        unplanned += c.end - c.start;
                    }
                }
                current = Some(outage);
            }
        }
    }
    if let Some(c) = current {
        total += c.end - c.start;
        if !c.planned {
            unplanned += c.end - c.start;
        }
    }
    (total, unplanned)
}

/// Times when both units are down.
fn intersect(a: &[Outage], b: &[Outage]) -> Vec<Outage> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let start = x.start.max(y.start);
            let end = x.end.min(y.end);
            if start < end {
                out.push(Outage {
                    start,
                    end,
                    planned: x.planned && y.planned,
                });
            }
        }
    }
    out
}

impl Accumulator {
    fn new(model: &LineModel, trajectory_assets: &[usize], grid: usize) -> Self {
        let n = model.assets.len();
        Accumulator {
            downtime: Vec::new(),
            unplanned: 0.0,
            production: 0.0,
            maintenance: 0.0,
            failure: 0.0,
            cost: Vec::new(),
            first_failure_counts: vec![vec![0; grid]; n],
            failures: vec![0; n],
            life_after: vec![Vec::new(); n],
            trajectories: vec![vec![Vec::new(); grid]; trajectory_assets.len()],
        }
    }

    fn finish(
        mut self,
        plan: String,
        model: &LineModel,
        grid_h: &[f64],
        trajectory_assets: &[usize],
    ) -> PlanResult {
        let paths = self.downtime.len().max(1);
        let n = paths as f64;
        let p90 = |values: &mut Vec<f64>| {
            values.sort_by(f64::total_cmp);
            if values.is_empty() {
                0.0
            } else {
                quantile_sorted(values, 0.9)
            }
        };
        let band = |values: &mut Vec<f32>| {
            let mut sorted: Vec<f64> = values.iter().map(|v| f64::from(*v)).collect();
            sorted.sort_by(f64::total_cmp);
            if sorted.is_empty() {
                return Band {
                    median: 0.0,
                    low: 0.0,
                    high: 0.0,
                };
            }
            Band {
                median: quantile_sorted(&sorted, 0.5),
                low: quantile_sorted(&sorted, 0.1),
                high: quantile_sorted(&sorted, 0.9),
            }
        };
        let assets = model
            .assets
            .iter()
            .enumerate()
            .map(|(i, asset)| {
                let mut cumulative = 0u64;
                let failure_probability = self.first_failure_counts[i]
                    .iter()
                    .map(|c| {
                        cumulative += u64::from(*c);
                        cumulative as f64 / n
                    })
                    .collect();
                AssetOutcome {
                    asset: asset.id.clone(),
                    failure_probability,
                    expected_failures: self.failures[i] as f64 / n,
                    life_after_actions_h: band(&mut self.life_after[i]),
                }
            })
            .collect();
        let trajectories = trajectory_assets
            .iter()
            .zip(self.trajectories.iter_mut())
            .map(|(&i, per_date)| Trajectory {
                asset: model.assets[i].id.clone(),
                rul_h: per_date.iter_mut().map(band).collect(),
            })
            .collect();
        PlanResult {
            plan,
            paths: self.downtime.len(),
            expected_downtime_h: self.downtime.iter().sum::<f64>() / n,
            p90_downtime_h: p90(&mut self.downtime),
            expected_unplanned_downtime_h: self.unplanned / n,
            expected_production_lost: self.production / n,
            expected_maintenance_cost: self.maintenance / n,
            expected_failure_cost: self.failure / n,
            expected_cost: self.cost.iter().sum::<f64>() / n,
            p90_cost: p90(&mut self.cost),
            grid_h: grid_h.to_vec(),
            assets,
            trajectories,
        }
    }
}
