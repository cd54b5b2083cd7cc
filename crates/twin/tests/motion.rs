//! The scene's motion comes from the data: machines turn at the speed their
//! blocks were judged at, the robot at its counter's rate, and everything
//! stops when its data goes stale.

mod common;

use common::{demo, twin_fed_until};
use linetwin_twin::motion::{Pace, StopReason};

#[test]
fn machines_turn_at_their_judged_speed_and_the_robot_at_its_counted_rate() {
    let line = demo();
    let twin = twin_fed_until(&line, 120.0);
    let motor = line.asset("M1").expect("M1");
    let Pace::Turning { rev_per_s } = twin.pace(motor) else {
        panic!("M1 runs: {:?}", twin.pace(motor));
    };
    let judged_rpm = twin.asset("M1").expect("M1").sensors["M1-DE-V"]
        .shaft_rpm
        .expect("judged");
    assert!((rev_per_s * 60.0 - judged_rpm).abs() < 1e-9);
    assert!(
        (0.9..1.1).contains(&(judged_rpm / f64::from(motor.rated_speed_rpm))),
        "{judged_rpm} rpm against {} rated",
        motor.rated_speed_rpm
    );

    // The simulator's robot picks every four seconds.
    let robot = line.asset("R1").expect("R1");
    let Pace::Cycling { cycles_per_s } = twin.pace(robot) else {
        panic!("R1 cycles: {:?}", twin.pace(robot));
    };
    assert!(
        (0.2..0.3).contains(&cycles_per_s),
        "{cycles_per_s} cycles/s"
    );

    // Nothing has come from the fan's sensors in this feed.
    let fan = line.asset("FN1").expect("FN1");
    assert_eq!(
        twin.pace(fan),
        Pace::Stopped {
            reason: StopReason::NoData
        }
    );
}

#[test]
fn everything_stops_once_the_stream_goes_quiet() {
    let line = demo();
    let mut twin = twin_fed_until(&line, 60.0);
    let motor = line.asset("M1").expect("M1");
    assert!(twin.pace(motor).is_moving());
    let stale_after = twin.config().stale_after_s;
    twin.silent_for(stale_after + 5.0);
    for id in ["M1", "P1", "R1"] {
        let asset = line.asset(id).expect("in the line");
        assert_eq!(
            twin.pace(asset),
            Pace::Stopped {
                reason: StopReason::Stale
            },
            "{id}"
        );
    }
}
