//! The simulation against answers known in closed form, and its
//! determinism. Tolerances are about four standard errors of each estimate
//! at the path counts used (computed in the comments), so a failure means a
//! wrong model, not bad luck; and the seed is fixed, so it cannot flicker.

use linetwin_forecast::montecarlo::{MonteCarlo, PlanResult, SimulationConfig};
use linetwin_forecast::plan::{
    Action, ActionKind, AssetModel, Calendar, FaultKind, LifeNow, LineModel, Plan, Stage,
};
use linetwin_forecast::schedule::{propose, recommend};
use linetwin_forecast::weibull::Weibull;

fn unit(id: &str, life: Weibull, failure_downtime_h: f64) -> AssetModel {
    AssetModel {
        id: id.into(),
        new_life: life,
        now: LifeNow::Weibull { life, age_h: 0.0 },
        fault: FaultKind::None,
        part_cost: 1.0,
        labour_h: 0.0,
        duration_h: 0.0,
        line_stop: true,
        failure_cost: 4.0,
        failure_downtime_h,
        buffer_h: 0.0,
    }
}

fn line(assets: Vec<AssetModel>, stages: Vec<Stage>, horizon_h: f64) -> LineModel {
    LineModel {
        assets,
        stages,
        production_value_per_h: 0.0,
        labour_rate_per_h: 0.0,
        horizon_h,
        calendar: Calendar {
            first_day: 6.0,
            every_days: 7.0,
            max_stop_h: 16.0,
        },
    }
}

fn simulate(model: &LineModel, plans: Vec<Plan>, paths: usize, seed: u64) -> Vec<PlanResult> {
    MonteCarlo::new(
        model.clone(),
        plans,
        SimulationConfig {
            paths,
            seed,
            ..SimulationConfig::default()
        },
    )
    .expect("valid plans")
    .run()
}

/// Weibull(scale 1000, shape 2.5), preventive cost 1, failure cost 5:
/// replacing at age 493 costs 0.00346 per hour, running to failure 0.00564.
/// 40 paths of 250 000 h hold ~22 000 renewal cycles: the cost rate's
/// standard error is below 0.5 %, so 2 % is four of them.
#[test]
fn age_replacement_cost_rate_matches_the_closed_form() {
    let life = Weibull::new(2.5, 1000.0).unwrap();
    let horizon = 250_000.0;
    let model = line(
        vec![unit("U", life, 0.0)],
        vec![Stage { units: vec![0] }],
        horizon,
    );
    let age_policy = Plan {
        name: "age 493".into(),
        actions: vec![Action {
            asset: "U".into(),
            kind: ActionKind::AgeReplacement { interval_h: 493.0 },
            at_h: 0.0,
        }],
    };
    let results = simulate(&model, vec![age_policy, Plan::do_nothing()], 40, 11);
    let rate = |r: &PlanResult| r.expected_cost / horizon;
    let (age, to_failure) = (rate(&results[0]), rate(&results[1]));
    println!("cost rate: age replacement {age:.6}, run to failure {to_failure:.6}");
    assert!(
        (age - 0.00346).abs() < 0.02 * 0.00346,
        "age replacement {age}"
    );
    assert!(
        (to_failure - 0.00564).abs() < 0.02 * 0.00564,
        "run to failure {to_failure}"
    );
}

/// MTBF 1000 h (exponential), MTTR 10 h. 1e6 h paths: a single unit's
/// unavailability 0.0099 is measured to ~1 % relative per path; the
/// parallel pair's 9.8e-5 comes from ~20 overlaps per path, 30 paths give
/// ~600 overlaps, a relative standard error of 4 %, so 20 % is five of them.
#[test]
fn availability_of_series_and_parallel_units_matches_the_closed_form() {
    let life = Weibull::new(1.0, 1000.0).unwrap();
    let horizon = 1_000_000.0;
    let units = |n: usize| {
        (0..n)
            .map(|i| unit(&format!("U{i}"), life, 10.0))
            .collect::<Vec<_>>()
    };
    let availability = |model: &LineModel| {
        let result = &simulate(model, vec![Plan::do_nothing()], 30, 5)[0];
        1.0 - result.expected_downtime_h / horizon
    };
    let single = availability(&line(units(1), vec![Stage { units: vec![0] }], horizon));
    let series = availability(&line(
        units(3),
        (0..3).map(|i| Stage { units: vec![i] }).collect(),
        horizon,
    ));
    let parallel = availability(&line(units(2), vec![Stage { units: vec![0, 1] }], horizon));
    println!(
        "availability: single {single:.6}, three in series {series:.6}, two in parallel {parallel:.6}"
    );
    assert!((single - 0.990099).abs() < 0.0004, "single {single}");
    assert!((series - 0.970590).abs() < 0.0008, "series {series}");
    assert!(
        ((1.0 - parallel) - 0.000098).abs() < 0.2 * 0.000098,
        "parallel {parallel}"
    );
}

fn degrading_line() -> LineModel {
    let life = Weibull::new(2.0, 20_000.0).unwrap();
    let mut pump = unit("P1", life, 24.0);
    // Fails within days: RUL quantiles from 2 to 20 days.
    pump.now = LifeNow::Quantiles {
        hours: (0..21).map(|i| 48.0 + 21.6 * i as f64).collect(),
    };
    pump.part_cost = 2_000.0;
    pump.labour_h = 6.0;
    pump.duration_h = 4.0;
    pump.failure_cost = 8_000.0;
    let motor = AssetModel {
        id: "M1".into(),
        part_cost: 800.0,
        duration_h: 3.0,
        ..unit("M1", life, 12.0)
    };
    let mut model = line(
        vec![pump, motor],
        vec![Stage { units: vec![0] }, Stage { units: vec![1] }],
        24.0 * 365.0,
    );
    model.production_value_per_h = 5_000.0;
    model.labour_rate_per_h = 65.0;
    model
}

#[test]
fn a_fixed_seed_gives_identical_results_however_the_run_is_sliced() {
    let model = degrading_line();
    let plans = || vec![Plan::do_nothing(), propose(&model, &[0]).plan];
    let whole = simulate(&model, plans(), 3000, 42);
    let mut sliced = MonteCarlo::new(
        model.clone(),
        plans(),
        SimulationConfig {
            paths: 3000,
            seed: 42,
            ..SimulationConfig::default()
        },
    )
    .unwrap();
    while !sliced.step(777) {}
    assert_eq!(whole, sliced.into_results());
    let other_seed = simulate(&model, plans(), 3000, 43);
    assert_ne!(whole[0].expected_cost, other_seed[0].expected_cost);
}

#[test]
fn replacing_a_degrading_pump_at_the_proposed_stop_beats_running_it_to_failure() {
    let model = degrading_line();
    let proposal = propose(&model, &[0]);
    assert_eq!(proposal.plan.actions.len(), 1, "{proposal:?}");
    let at_day = proposal.plan.actions[0].at_h / 24.0;
    assert!(
        at_day <= 6.0,
        "a pump failing in 2-20 days is replaced by the first stop, not {at_day}"
    );
    let deferred = Plan {
        name: "replace in 4 weeks".into(),
        actions: vec![Action {
            asset: "P1".into(),
            kind: ActionKind::Replace,
            at_h: 28.0 * 24.0,
        }],
    };
    let results = simulate(
        &model,
        vec![Plan::do_nothing(), proposal.plan.clone(), deferred],
        4000,
        3,
    );
    let pump_fails_by_horizon = |r: &PlanResult| *r.assets[0].failure_probability.last().unwrap();
    assert!(pump_fails_by_horizon(&results[0]) > 0.99);
    assert!(
        pump_fails_by_horizon(&results[1]) < 0.5,
        "{:?}",
        results[1].assets[0]
    );
    assert!(results[1].expected_unplanned_downtime_h < results[0].expected_unplanned_downtime_h);
    let recommendation = recommend(&results).unwrap();
    assert_eq!(
        results[recommendation.best].plan, "the twin's proposal",
        "{}",
        recommendation.reason
    );
    assert!(
        recommendation.reason.contains("less than"),
        "{}",
        recommendation.reason
    );
}

#[test]
fn replacements_a_week_apart_share_one_stop_when_stops_are_dear() {
    let mut model = degrading_line();
    let mut second = model.assets[0].clone();
    second.id = "P2".into();
    // Due about a week after P1.
    second.now = LifeNow::Quantiles {
        hours: (0..21).map(|i| 250.0 + 21.6 * i as f64).collect(),
    };
    model.assets.push(second);
    model.stages.push(Stage { units: vec![2] });
    let grouped = propose(&model, &[0, 2]);
    let days: Vec<f64> = grouped.plan.actions.iter().map(|a| a.at_h / 24.0).collect();
    assert_eq!(days[0], days[1], "{grouped:?}");
    model.production_value_per_h = 0.0;
    let apart = propose(&model, &[0, 2]);
    let days: Vec<f64> = apart.plan.actions.iter().map(|a| a.at_h / 24.0).collect();
    assert_ne!(days[0], days[1], "{apart:?}");
}

#[test]
fn a_plan_naming_an_unknown_asset_is_refused_with_its_name() {
    let plan = Plan {
        name: "typo".into(),
        actions: vec![Action {
            asset: "PX".into(),
            kind: ActionKind::Replace,
            at_h: 0.0,
        }],
    };
    let error = MonteCarlo::new(degrading_line(), vec![plan], SimulationConfig::default())
        .err()
        .expect("refused");
    assert!(error.to_string().contains("`PX`"), "{error}");
}

#[test]
fn two_plans_with_the_same_outcome_are_called_the_same() {
    let model = degrading_line();
    let now = |name: &str| Plan {
        name: name.into(),
        actions: vec![Action {
            asset: "P1".into(),
            kind: ActionKind::Replace,
            at_h: 0.0,
        }],
    };
    let results = simulate(
        &model,
        vec![Plan::do_nothing(), now("A"), now("B")],
        1000,
        9,
    );
    let recommendation = recommend(&results).unwrap();
    assert_eq!(
        results[recommendation.best].plan, "A",
        "the first of equals"
    );
    assert!(
        recommendation.reason.contains("the same outcome as “B”"),
        "{}",
        recommendation.reason
    );
}
