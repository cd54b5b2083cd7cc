//! The timeline's view of the past: the line at a moment, read back from
//! the history store, agrees with what the live twin showed then.

mod common;

use common::{demo, twin_fed, twin_fed_until};
use linetwin_core::iso::Zone;
use linetwin_twin::AssetStatus;
use linetwin_twin::timeline::{alarm_marks, clamp_cursor, moment_at, span};

#[test]
fn the_past_shows_the_levels_and_alarms_of_its_time() {
    let line = demo();
    let twin = twin_fed_until(&line, 300.0);
    let now = twin.now().expect("fed");

    // Now, the past view agrees with the live twin.
    let latest = moment_at(&twin, &line, now);
    for id in ["P1", "M1"] {
        assert_eq!(latest.status(id), twin.status(id), "{id} at {now}");
    }
    assert_eq!(latest.status("P1"), AssetStatus::Level(Zone::D));
    assert!(
        latest.assets["P1"].why.contains("P1-DE-V"),
        "{}",
        latest.assets["P1"].why
    );

    // Early on, P1 was healthy and nothing was raised.
    let early = moment_at(&twin, &line, 10.0);
    assert!(
        matches!(early.status("P1"), AssetStatus::Level(z) if z <= Zone::B),
        "{:?}",
        early.assets["P1"]
    );
    assert!(early.alarms.is_empty());
    // Assets never heard from have no data, then or now.
    assert_eq!(early.status("CV1"), AssetStatus::NoData);
    assert_eq!(
        moment_at(&twin, &line, -50.0).status("P1"),
        AssetStatus::NoData
    );

    // Each alarm is in force from when it was raised until it cleared.
    let marks = alarm_marks(&twin);
    assert!(marks.iter().any(|m| m.asset == "P1"), "{marks:?}");
    assert!(marks.windows(2).all(|w| w[0].t <= w[1].t));
    let first = &marks[0];
    assert!(moment_at(&twin, &line, first.t).alarms.contains(&first.id));
    assert!(
        !moment_at(&twin, &line, first.t - 0.5)
            .alarms
            .contains(&first.id)
    );

    let (from, to) = span(&twin, &line).expect("history");
    assert!(from <= 2.0 && to >= now - 2.0, "{from}..{to} vs {now}");
    assert_eq!(clamp_cursor(1e9, Some((from, to))), Some(to));
    assert_eq!(clamp_cursor(f64::NAN, Some((from, to))), None);
    assert_eq!(clamp_cursor(5.0, None), None);
}

#[test]
fn a_sensor_silent_at_the_moment_shows_stale() {
    let line = demo();
    let twin = twin_fed_until(&line, 60.0);
    // M1 falls silent; P1 goes on for two more minutes.
    let twin = twin_fed(&line, &["P1-DE-V"], 60.0, 180.0, Some(twin));
    let moment = moment_at(&twin, &line, 170.0);
    assert_eq!(moment.status("M1"), AssetStatus::Stale);
    assert!(matches!(moment.status("P1"), AssetStatus::Level(_)));
    assert!(matches!(
        moment_at(&twin, &line, 50.0).status("M1"),
        AssetStatus::Level(_)
    ));
}
