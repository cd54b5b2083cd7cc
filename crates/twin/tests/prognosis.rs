//! Remaining life as the twin sees it, on real diagnoses of the simulated
//! demo line: P1's outer-race fault (onset 20 s, ramp 240 s) is a trend
//! that ends in zone D; M1 stays healthy and keeps its rated life; the
//! robot's cycle counter gives a life by usage.

mod common;

use common::twin_fed_until;
use linetwin_core::line::Line;
use linetwin_forecast::rul::DegradationState;
use linetwin_twin::prognosis::prognose;

#[test]
fn a_growing_fault_gets_a_trend_life_and_a_healthy_motor_its_rated_one() {
    let line = Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json"))
        .expect("demo line");
    // Half-way up the ramp: P1 is degrading but not yet in zone D.
    let twin = twin_fed_until(&line, 150.0);
    let p1 = prognose(&twin, line.asset("P1").unwrap());
    assert_eq!(p1.state, DegradationState::Degrading, "{p1:?}");
    assert_eq!(p1.sensor.as_deref(), Some("P1-DE-V"));
    // The simulated ramp reaches its full severity at 260 s; zone D comes
    // before then. The prediction is made at ~150 s.
    let until_ramp_end_h = (260.0 - 150.0) / 3600.0;
    assert!(
        p1.median_h > 0.0 && p1.median_h < 3.0 * until_ramp_end_h,
        "{p1:?}"
    );
    assert!(p1.low_h <= p1.median_h && p1.median_h <= p1.high_h);
    assert!(p1.evidence.contains("zone D"), "{}", p1.evidence);

    let m1 = prognose(&twin, line.asset("M1").unwrap());
    assert_eq!(m1.state, DegradationState::NoDegradation, "{m1:?}");
    assert!(m1.basis.contains("rated life"));
    assert!(m1.median_h > 1000.0, "{m1:?}");

    let robot = prognose(&twin, line.asset("R1").unwrap());
    let usage = robot.usage.expect("the robot counts its cycles");
    assert!(
        usage.rate_per_h > 0.0 && usage.remaining_h.is_some(),
        "{usage:?}"
    );
}
