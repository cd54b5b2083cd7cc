//! The twin's timing rules, on real diagnoses of the simulated demo line:
//! alarms depend on the data's own times, never on how fast, how late or in
//! which order (within the reorder window) the data arrived.

use std::sync::{Arc, OnceLock};

use linetwin_core::diagnosis::Diagnoser;
use linetwin_core::iso::Zone;
use linetwin_core::line::Line;
use linetwin_core::protocol::Clock;
use linetwin_core::sim::Simulator;
use linetwin_jobs::DiagnoseJob;
use linetwin_twin::{
    AssetStatus, BlockFinding, Observation, Severity, Twin, TwinConfig, TwinEvent,
};

const BLOCK_INTERVAL_S: f64 = 2.0;
const SENSORS: [&str; 3] = ["P1-DE-V", "P1-NDE-V", "M1-DE-V"];
const END_S: f64 = 420.0;

fn line() -> &'static Line {
    static LINE: OnceLock<Line> = OnceLock::new();
    LINE.get_or_init(|| {
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json"))
            .expect("demo line")
    })
}

/// The demo's outer-race fault on P1 (onset 20 s, 240 s ramp) and a healthy
/// M1, diagnosed once by the real engine, in data-time order.
fn stream() -> &'static [Observation] {
    static STREAM: OnceLock<Vec<Observation>> = OnceLock::new();
    STREAM.get_or_init(|| {
        let line = line();
        let sim = Simulator::new(line, 11);
        let mut diagnoser = Diagnoser::new();
        let mut out = Vec::new();
        let mut t = 0.0;
        while t < END_S {
            for sensor in SENSORS {
                let block = sim.waveform(sensor, t).expect("vibration sensor");
                let (asset, spec) = line.sensor(sensor).expect("in the line");
                let job = DiagnoseJob::for_block(&block, asset, spec).expect("judgeable");
                let result = job.run(&mut diagnoser, &block.samples);
                out.push(Observation::Block(Arc::new(BlockFinding {
                    sensor: sensor.to_owned(),
                    t_start: t,
                    duration_s: job.duration_s(block.samples.len()),
                    shaft_rpm: job.shaft_rpm,
                    diagnosis: Arc::new(result.diagnosis),
                })));
            }
            for reading in sim.readings(t).into_iter().filter(|r| r.sensor == "P1-T") {
                out.push(Observation::Reading {
                    sensor: reading.sensor,
                    t,
                    value: reading.value,
                });
            }
            t += BLOCK_INTERVAL_S;
        }
        out
    })
}

type AlarmRecord = (String, Severity, Zone, f64, Option<f64>, String);

fn alarm_records(twin: &Twin) -> Vec<AlarmRecord> {
    twin.alarms()
        .into_iter()
        .map(|a| {
            (
                a.asset.clone(),
                a.severity,
                a.level,
                a.raised_at,
                a.cleared_at,
                a.message.clone(),
            )
        })
        .collect()
}

fn new_twin() -> Twin {
    let mut twin = Twin::new(line(), TwinConfig::default());
    twin.hello(Clock::Simulated, 1.0);
    twin
}

/// Feeds the stream as a viewer would at `time_scale`: between arrivals it
/// tells the twin how long it has been silent, every `frame_s` wall seconds.
fn feed_live(observations: &[Observation], time_scale: f64, frame_s: f64) -> Twin {
    let mut twin = new_twin();
    twin.hello(Clock::Simulated, time_scale);
    let mut previous_t: Option<f64> = None;
    for o in observations {
        if let Some(last) = previous_t {
            let wall_gap = (o.t() - last).max(0.0) / time_scale;
            let mut wall = frame_s;
            while wall < wall_gap {
                twin.silent_for(wall);
                wall += frame_s;
            }
        }
        twin.ingest(o.clone());
        previous_t = Some(previous_t.map_or(o.t(), |p: f64| p.max(o.t())));
    }
    twin
}

#[test]
fn the_fault_raises_alarms_on_p1_and_none_on_the_healthy_motor() {
    let twin = feed_live(stream(), 1.0, 0.5);
    let alarms = alarm_records(&twin);
    let p1: Vec<_> = alarms.iter().filter(|a| a.0 == "P1").collect();
    assert!(!p1.is_empty(), "no alarm for P1: {alarms:?}");
    let first = p1[0];
    assert!(
        first.3 > 20.0 && first.3 < 120.0,
        "raised at {} s, the fault starts at 20 s",
        first.3
    );
    assert!(first.5.contains("outer race"), "{}", first.5);
    assert!(
        p1.iter().any(|a| a.1 == Severity::Critical),
        "the grown fault reaches D: {p1:?}"
    );
    assert!(
        alarms
            .iter()
            .all(|a| a.0 != "M1" || a.1 == Severity::Advisory),
        "{alarms:?}"
    );
    assert_eq!(twin.status("M1").zone().map(|z| z <= Zone::B), Some(true));
}

#[test]
fn the_same_alarms_at_1x_at_50x_with_a_gap_and_shuffled_within_the_window() {
    let reference = alarm_records(&feed_live(stream(), 1.0, 0.25));
    assert!(!reference.is_empty());

    let fast = alarm_records(&feed_live(stream(), 50.0, 1.0 / 30.0));
    assert_eq!(fast, reference, "at 50x");

    // A minute of silence in the middle (the gateway was away), then the
    // backlog arrives at once: the twin turns things grey meanwhile but
    // judges the late data at its own times.
    let mut twin = new_twin();
    let (before, after) = stream().split_at(stream().len() / 2);
    for o in before {
        twin.ingest(o.clone());
    }
    let mut went_stale = false;
    for wall in 1..=60 {
        for event in twin.silent_for(f64::from(wall)) {
            went_stale |= matches!(event, TwinEvent::SensorStale { .. });
        }
    }
    assert!(went_stale, "a minute of silence turns sensors stale");
    assert_eq!(twin.status("P1"), AssetStatus::Stale);
    for o in after {
        twin.ingest(o.clone());
    }
    assert_eq!(alarm_records(&twin), reference, "after a gap");

    // Shuffled: within each block interval, reversed order; and every other
    // interval's frames swapped with the next interval's first frame.
    let mut shuffled: Vec<Observation> = Vec::new();
    for chunk in stream().chunks(SENSORS.len() + 1) {
        shuffled.extend(chunk.iter().rev().cloned());
    }
    for i in (SENSORS.len()..shuffled.len() - 1).step_by(2 * (SENSORS.len() + 1)) {
        shuffled.swap(i, i + 1);
    }
    assert_ne!(
        shuffled.iter().map(Observation::t).collect::<Vec<_>>(),
        stream().iter().map(Observation::t).collect::<Vec<_>>()
    );
    let twin = feed_live(&shuffled, 1.0, 0.5);
    assert_eq!(
        alarm_records(&twin),
        reference,
        "shuffled within the window"
    );
    assert_eq!(twin.counters().late, 0);
}

#[test]
fn staleness_is_judged_on_data_time() {
    let mut twin = new_twin();
    // M1 stops reporting at 100 s; P1 goes on until 200 s.
    let mut stale_since = None;
    for o in stream().iter().filter(|o| o.t() < 200.0) {
        if o.sensor() == "M1-DE-V" && o.t() > 100.0 {
            continue;
        }
        for event in twin.ingest(o.clone()) {
            if let TwinEvent::SensorStale { sensor, since, .. } = event
                && sensor == "M1-DE-V"
            {
                stale_since = Some(since);
            }
        }
    }
    let last_m1 = stream()
        .iter()
        .filter(|o| o.sensor() == "M1-DE-V" && o.t() <= 100.0)
        .map(Observation::t)
        .fold(0.0, f64::max);
    assert_eq!(
        stale_since,
        Some(last_m1 + 15.0),
        "stale exactly 15 data seconds after its last block"
    );
    assert_eq!(twin.status("M1"), AssetStatus::Stale);
    assert!(matches!(twin.status("P1"), AssetStatus::Level(_)));
}

#[test]
fn data_older_than_the_window_only_goes_into_the_history() {
    let mut twin = new_twin();
    let observations: Vec<_> = stream()
        .iter()
        .filter(|o| o.sensor() == "M1-DE-V")
        .cloned()
        .collect();
    for o in &observations[20..] {
        twin.ingest(o.clone());
    }
    let before = alarm_records(&twin);
    let history_before = twin.history().raw_len("M1-DE-V");
    twin.ingest(observations[0].clone());
    assert_eq!(twin.counters().late, 1);
    assert_eq!(alarm_records(&twin), before);
    assert_eq!(twin.history().raw_len("M1-DE-V"), history_before + 1);
}

/// A twin fed P1's drive-end blocks, and those blocks.
fn fed_with_p1_drive_end() -> (Twin, Vec<Observation>) {
    let mut twin = new_twin();
    let p1: Vec<_> = stream()
        .iter()
        .filter(|o| o.sensor() == "P1-DE-V")
        .cloned()
        .collect();
    for o in &p1 {
        twin.ingest(o.clone());
    }
    (twin, p1)
}

#[test]
fn a_restarted_gateway_clock_continues_the_twin_and_keeps_its_alarms() {
    let (mut twin, p1) = fed_with_p1_drive_end();
    let alarms = alarm_records(&twin);
    let end = twin.data_time().unwrap();
    twin.hello(Clock::Simulated, 1.0);
    for o in p1.iter().take(5) {
        twin.ingest(o.clone());
    }
    assert_eq!(twin.clock().epochs, 1);
    assert!(
        twin.data_time().unwrap() >= end,
        "time keeps running forward"
    );
    assert_eq!(&alarm_records(&twin)[..alarms.len()], &alarms[..]);
    assert!(matches!(twin.status("P1"), AssetStatus::Level(_)));
}

#[test]
fn a_caption_that_comes_first_after_a_story_goes_back_opens_the_epoch() {
    let (mut twin, p1) = fed_with_p1_drive_end();
    let end = twin.data_time().unwrap();
    // The story jumps back to 100 s: its hello, then the chapter's caption
    // before any data.
    twin.hello(Clock::Simulated, 1.0);
    let caption = twin.place_time(100.0).expect("placed");
    assert_eq!(twin.clock().epochs, 1);
    assert!(caption >= end, "shown now, not {caption} on the old axis");
    // The data that follows lands just after it, in the same epoch.
    let after = p1.iter().find(|o| o.t() > 100.0).expect("data after 100 s");
    twin.ingest(after.clone());
    assert_eq!(twin.clock().epochs, 1);
    let placed = twin.data_time().unwrap();
    assert!(
        (placed - (caption + after.t() - 100.0)).abs() < 1e-9,
        "{placed} against {caption}"
    );
    assert_eq!(twin.place_time(f64::NAN), None);
}

#[test]
fn acknowledgements_are_kept_by_id_and_unknown_ids_are_refused() {
    let mut twin = feed_live(stream(), 1.0, 1.0);
    let first = twin.alarms()[0].id;
    let unacknowledged = twin.unacknowledged();
    assert!(matches!(
        twin.acknowledge(first),
        Some(TwinEvent::AlarmAcknowledged { .. })
    ));
    assert!(twin.acknowledge(first).is_none(), "once");
    assert!(twin.acknowledge(u64::MAX).is_none());
    assert_eq!(twin.unacknowledged(), unacknowledged - 1);
    let snapshot = linetwin_twin::TwinSnapshot::of(&twin);
    assert!(
        snapshot
            .alarms
            .iter()
            .any(|a| a.id == first && a.acknowledged)
    );
    let json = serde_json::to_value(&snapshot).unwrap();
    assert_eq!(json["assets"]["P1"]["sensors"]["P1-DE-V"]["fresh"], true);
}

#[test]
fn a_slow_diagnosis_does_not_make_its_block_late() {
    let reference = alarm_records(&feed_live(stream(), 1.0, 0.5));
    let mut twin = new_twin();
    // Each block is received (ticketed) in order, but its diagnosis comes
    // back only after the next seven blocks and their readings arrived.
    let mut waiting = std::collections::VecDeque::new();
    for o in stream() {
        match o {
            Observation::Block(block) => {
                let ticket = twin
                    .block_received(&block.sensor, block.t_start)
                    .expect("known sensor");
                waiting.push_back((ticket, (**block).clone()));
                if waiting.len() > 7 {
                    let (ticket, finding) = waiting.pop_front().unwrap();
                    twin.block_diagnosed(ticket, finding);
                }
            }
            other => {
                twin.ingest(other.clone());
            }
        }
    }
    for (ticket, finding) in waiting {
        twin.block_diagnosed(ticket, finding);
    }
    assert_eq!(twin.counters().late, 0);
    assert_eq!(alarm_records(&twin), reference);
}

#[test]
fn a_block_that_never_comes_back_holds_the_window_only_for_a_while() {
    let mut twin = new_twin();
    let first = stream().iter().find(|o| o.sensor() == "M1-DE-V").unwrap();
    let Observation::Block(block) = first else {
        panic!("a block")
    };
    let ticket = twin.block_received(&block.sensor, block.t_start).unwrap();
    for o in stream()
        .iter()
        .filter(|o| o.sensor() == "P1-DE-V" && o.t() < 300.0)
    {
        twin.ingest(o.clone());
    }
    assert_eq!(
        twin.counters().blocks_dropped,
        1,
        "given up after the maximum lag"
    );
    twin.block_diagnosed(ticket, (**block).clone());
    assert_eq!(
        twin.counters().late,
        1,
        "its result only goes into the history"
    );
}

#[test]
fn a_time_far_ahead_is_refused_and_does_not_make_everything_late() {
    let mut twin = new_twin();
    for o in stream().iter().take(10) {
        twin.ingest(o.clone());
    }
    twin.ingest(Observation::Reading {
        sensor: "P1-T".into(),
        t: 1e12,
        value: 50.0,
    });
    assert_eq!(twin.counters().bad_time, 1);
    let before = twin.counters().late;
    for o in stream().iter().skip(10).take(10) {
        twin.ingest(o.clone());
    }
    assert_eq!(twin.counters().late, before);
}

#[test]
fn a_source_that_says_it_is_gone_greys_its_sensors_at_once_with_its_reason() {
    let mut twin = new_twin();
    for o in stream().iter().filter(|o| o.t() <= 100.0) {
        twin.ingest(o.clone());
    }
    assert!(matches!(twin.status("M1"), AssetStatus::Level(_)));

    // The node that carries M1's vibration dies a moment after its last block.
    let events = twin.offline(100.5, &["M1-DE-V".to_owned()], "node press-1 offline");
    let stale: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TwinEvent::SensorStale {
                sensor,
                since,
                reason,
                ..
            } => Some((sensor.as_str(), *since, reason.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(
        stale,
        [("M1-DE-V", 100.5, Some("node press-1 offline"))],
        "stale at once, not 15 s later"
    );
    assert_eq!(twin.status("M1"), AssetStatus::Stale);
    assert!(
        matches!(twin.status("P1"), AssetStatus::Level(_)),
        "another node's sensors are untouched"
    );
    let attention = linetwin_twin::attention::needing_attention(&twin, &["M1".to_owned()]);
    assert_eq!(attention.len(), 1);
    assert_eq!(attention[0].why, "node press-1 offline");
    let snapshot = linetwin_twin::TwinSnapshot::of(&twin);
    assert_eq!(snapshot.assets["M1"].why, "node press-1 offline");
    assert_eq!(
        snapshot.assets["M1"].sensors["M1-DE-V"].offline.as_deref(),
        Some("node press-1 offline")
    );

    // Its next block brings it back.
    let mut back = false;
    for o in stream().iter().filter(|o| o.t() > 100.0 && o.t() <= 120.0) {
        for event in twin.ingest(o.clone()) {
            back |= matches!(&event, TwinEvent::SensorFresh { sensor, .. } if sensor == "M1-DE-V");
        }
    }
    assert!(back, "fresh again with its next data");
    assert!(matches!(twin.status("M1"), AssetStatus::Level(_)));
    let snapshot = linetwin_twin::TwinSnapshot::of(&twin);
    assert_eq!(snapshot.assets["M1"].sensors["M1-DE-V"].offline, None);
    assert_ne!(snapshot.assets["M1"].why, "node press-1 offline");
}

fn baselines_learned(events: &[TwinEvent]) -> Vec<(String, f64, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            TwinEvent::BaselineLearned {
                sensor,
                value_mm_s,
                commissioned_by,
                ..
            } => Some((sensor.clone(), *value_mm_s, commissioned_by.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_recorded_baseline_keeps_a_restarted_twin_from_learning_a_worn_machine_as_normal() {
    // The first run learns P1's healthy level before the fault grows.
    let mut first = new_twin();
    let mut events = Vec::new();
    for o in stream() {
        events.extend(first.ingest(o.clone()));
    }
    let learned = baselines_learned(&events);
    let healthy = learned
        .iter()
        .find(|(sensor, ..)| sensor == "P1-DE-V")
        .map(|(_, v, _)| *v)
        .expect("P1-DE-V's baseline is learned and told once");
    assert_eq!(
        learned.iter().filter(|(s, ..)| s == "P1-DE-V").count(),
        1,
        "{learned:?}"
    );

    // A twin that starts once the fault has grown learns the worn level...
    let late: Vec<_> = stream()
        .iter()
        .filter(|o| o.t() >= 300.0)
        .cloned()
        .collect();
    let mut forgetful = new_twin();
    for o in &late {
        forgetful.ingest(o.clone());
    }
    let worn = forgetful.asset("P1").unwrap().sensors["P1-DE-V"]
        .baseline
        .value_mm_s
        .expect("learned from the late blocks");
    assert!(
        worn > 2.0 * healthy,
        "worn {worn} against healthy {healthy}"
    );

    // ...one given the record keeps the healthy one, and says the level rose.
    let mut restored = new_twin();
    assert!(restored.set_baseline("P1-DE-V", 18.0, Some(healthy), None));
    let mut events = Vec::new();
    for o in &late {
        events.extend(restored.ingest(o.clone()));
    }
    let sensor = &restored.asset("P1").unwrap().sensors["P1-DE-V"];
    assert_eq!(sensor.baseline.value_mm_s, Some(healthy));
    assert!(
        baselines_learned(&events)
            .iter()
            .all(|(s, ..)| s != "P1-DE-V"),
        "a restored baseline is not told as news"
    );
    assert!(
        restored
            .alarms()
            .iter()
            .any(|a| a.message.contains("above its baseline-change limit")),
        "{:?}",
        alarm_records(&restored)
    );
    assert!(
        !forgetful
            .alarms()
            .iter()
            .any(|a| a.message.contains("above its baseline-change limit")),
        "the forgetful twin took the worn level as normal"
    );

    // After the repair, someone has it learned afresh: the next blocks.
    let end = restored.data_time().unwrap();
    assert!(restored.set_baseline("P1-DE-V", end, None, Some("maria")));
    let sensor = &restored.asset("P1").unwrap().sensors["P1-DE-V"];
    assert_eq!(sensor.baseline.value_mm_s, None);
    assert_eq!(sensor.baseline_limit_mm_s, None);
    let mut events = Vec::new();
    for o in stream()
        .iter()
        .filter(|o| o.sensor() == "P1-DE-V" && o.t() < 60.0)
    {
        let mut o = o.clone();
        if let Observation::Block(block) = &mut o {
            Arc::make_mut(block).t_start += end + 2.0;
        }
        events.extend(restored.ingest(o));
    }
    let relearned = baselines_learned(&events);
    assert_eq!(relearned.len(), 1, "{relearned:?}");
    assert_eq!(relearned[0].2.as_deref(), Some("maria"));
    assert!((relearned[0].1 - healthy).abs() < 0.5 * healthy);

    // Nonsense is refused and changes nothing.
    assert!(!restored.set_baseline("P1-T", 0.0, Some(1.0), None));
    assert!(!restored.set_baseline("nope", 0.0, Some(1.0), None));
    assert!(!restored.set_baseline("P1-DE-V", 0.0, Some(f64::NAN), None));
}
