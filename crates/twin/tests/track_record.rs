//! The track record on real diagnoses of the simulated demo line: the
//! line's own story (P1's outer-race fault, onset 20 s, ramp 240 s, run to
//! zone D) resolves remaining-life forecasts with a finite error; the
//! `bearing-found-early` scenario (the bearing replaced at 480 s) finds
//! the fault long before the replacement and censors the open lives.

mod common;

use common::{demo, twin_fed};
use linetwin_core::line::Line;
use linetwin_core::scenario::Scenario;
use linetwin_twin::Twin;
use linetwin_twin::prognosis::prognose;
use linetwin_twin::track_record::{Outcome, TrackRecord, TrackRecordConfig};

/// Data seconds between two prognoses here (the viewer: 5 s), a multiple
/// of the 2 s between blocks.
const STEP_S: f64 = 6.0;

/// Feeds `sensors` over `[from_s, end_s)` a step at a time, as the viewer
/// does: prognoses into the record, then the record looks at the twin.
fn run(
    line: &Line,
    sensors: &[&str],
    from_s: f64,
    end_s: f64,
    mut twin: Option<Twin>,
    record: &mut TrackRecord,
) -> Twin {
    let mut t = from_s;
    while t < end_s {
        let fed = twin_fed(line, sensors, t, t + STEP_S, twin.take());
        let now = fed.data_time().expect("data");
        for asset in &line.assets {
            record.record_rul(now, &prognose(&fed, asset));
        }
        record.observe(&fed);
        twin = Some(fed);
        t += STEP_S;
    }
    twin.expect("fed")
}

/// P1's forecasts and what became of them (`--nocapture` shows them).
fn print_forecasts(record: &TrackRecord) {
    for f in record.forecasts("P1") {
        println!(
            "  made at {:.1} s: {} → {:?}",
            f.made_at_s,
            f.kind.describe(),
            f.outcome
        );
    }
}

#[test]
fn a_fault_run_to_failure_resolves_its_remaining_life_forecasts() {
    let line = demo();
    let mut record = TrackRecord::new(TrackRecordConfig::default());
    run(
        &line,
        &["P1-DE-V", "M1-DE-V"],
        0.0,
        300.0,
        None,
        &mut record,
    );
    let summary = record.summary();
    let p1 = &summary.assets["P1"];
    println!(
        "P1: {} kept, {:?}\n{:?}",
        p1.forecasts, p1.remaining_life, p1.detection
    );
    print_forecasts(&record);
    let failed_at = record.failed_since("P1").expect("P1 reaches zone D");
    assert!(failed_at < 300.0, "{failed_at}");
    let rul = &p1.remaining_life;
    assert!(rul.resolved >= 2, "{rul:?}");
    let error = rul.median_abs_error_h.expect("an error figure");
    assert!(error.is_finite() && error >= 0.0);
    assert!(rul.median_abs_relative_error.is_some_and(f64::is_finite));
    assert!(rul.band_coverage.is_some());
    assert!(rul.from_trend_resolved >= 1, "{rul:?}");
    // Every resolved life has a finite error and the failure's time.
    for forecast in record.forecasts("P1") {
        if let Outcome::Failed {
            at_s,
            error_h,
            actual_h,
            ..
        } = forecast.outcome
        {
            assert_eq!(at_s, failed_at);
            assert!(error_h.is_finite() && actual_h >= 0.0, "{forecast:?}");
        }
    }
    // Flagged (the envelope finds the defect) well before zone D.
    assert_eq!(p1.detection.found_before_failure, 1, "{:?}", p1.detection);
    assert!(p1.detection.median_lead_s.is_some_and(|s| s > 30.0));
    // The healthy motor's forecasts stay open: nothing came of them yet.
    let m1 = &summary.assets["M1"];
    assert_eq!(m1.remaining_life.resolved + m1.remaining_life.censored, 0);
    assert!(m1.open >= 1);
}

#[test]
fn bearing_found_early_gives_a_lead_time_and_censors_the_replaced_lives() {
    let mut line = demo();
    let story = Scenario::from_json(
        "bearing-found-early.json",
        include_str!("../../../assets/scenarios/bearing-found-early.json"),
        &line,
    )
    .expect("the story fits the demo line");
    line.simulation = story.simulation_script(&line);
    let replaced_at = story.actions[0].at_s;
    let sensors = ["P1-DE-V"];
    let mut record = TrackRecord::new(TrackRecordConfig::default());
    let mut twin = run(&line, &sensors, 0.0, replaced_at, None, &mut record);
    // What the gateway tells every viewer when the story replaces the
    // bearing: the baseline is to be learned afresh.
    for sensor in line.asset("P1").unwrap().sensors.iter() {
        twin.set_baseline(&sensor.id, replaced_at, None, Some("scenario"));
    }
    record.maintained("P1", replaced_at);
    run(&line, &sensors, replaced_at, 600.0, Some(twin), &mut record);
    let summary = record.summary();
    let p1 = &summary.assets["P1"];
    println!(
        "P1: {} kept, {} open\n{:?}\n{:?}",
        p1.forecasts, p1.open, p1.remaining_life, p1.detection
    );
    print_forecasts(&record);
    assert_eq!(
        p1.detection.found_before_maintenance, 1,
        "{:?}",
        p1.detection
    );
    let lead = p1.detection.lead_times_s[0];
    // Onset at 40 s, found within the next minutes, replaced at 480 s.
    assert!(lead > 200.0 && lead < replaced_at - 40.0, "{lead}");
    let rul = &p1.remaining_life;
    assert!(rul.censored >= 1, "{rul:?}");
    assert!(rul.resolved + rul.outlived + rul.censored >= 2, "{rul:?}");
}
