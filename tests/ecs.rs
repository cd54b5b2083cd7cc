//! The viewer's logic without a GPU: the scene is built from a description,
//! colours follow the frames that arrive, silence turns assets grey, and the
//! selection is marked. Frames go in through the same channel the browser's
//! WebSocket task uses.

use std::sync::Arc;
use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use futures_channel::mpsc::UnboundedSender;
use linetwin::TwinLogicPlugins;
use linetwin::colours::status_colour;
use linetwin::line_source::LineDescription;
use linetwin::scene::{HealthPaint, SelectionMarker, TwinAsset};
use linetwin::selection::Selection;
use linetwin::stream::{Inbound, Inbox, StreamStats};
use linetwin::twin_state::TwinState;
use linetwin_core::iso::Zone;
use linetwin_core::line::Line;
use linetwin_core::protocol::{Clock, TextMessage};
use linetwin_core::sim::Simulator;
use linetwin_twin::AssetStatus;

fn demo_line() -> Line {
    Line::from_json("demo.json", include_str!("../assets/lines/demo.json")).expect("demo line")
}

struct Harness {
    app: App,
    frames: UnboundedSender<Inbound>,
    line: Line,
}

impl Harness {
    fn new() -> Self {
        Self::with_line(demo_line())
    }

    fn with_line(line: Line) -> Self {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, AssetPlugin::default()))
            .init_asset::<Mesh>()
            .init_asset::<StandardMaterial>()
            .init_asset::<WorldAsset>()
            .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
                100,
            )))
            .add_plugins(TwinLogicPlugins);
        let (frames, inbox) = Inbox::channel();
        app.insert_resource(inbox);
        app.insert_resource(LineDescription(Arc::new(line.clone())));
        app.update();
        app.update();
        frames.send_hello();
        Harness { app, frames, line }
    }

    /// The status colour the asset shows (its beacon lamp's).
    fn colour_of(&mut self, asset_id: &str) -> Color {
        let world = self.app.world_mut();
        let handle = world
            .query::<(&TwinAsset, &HealthPaint)>()
            .iter(world)
            .find(|(asset, _)| asset.id == asset_id)
            .map(|(_, paint)| paint.beacon.clone())
            .expect("asset is in the scene");
        world
            .resource::<Assets<StandardMaterial>>()
            .get(&handle)
            .expect("material exists")
            .base_color
    }

    fn status_of(&self, asset_id: &str) -> AssetStatus {
        self.app.world().resource::<TwinState>().0.status(asset_id)
    }

    fn send_waveform(&self, sensor: &str, sim: &Simulator, t: f64) {
        let block = sim.waveform(sensor, t).expect("vibration sensor");
        self.frames
            .unbounded_send(Inbound::Binary(block.encode()))
            .expect("channel open");
    }
}

trait SendHello {
    fn send_hello(&self);
}

impl SendHello for UnboundedSender<Inbound> {
    fn send_hello(&self) {
        let hello = TextMessage::hello("bottling-line-1", Clock::Simulated, 1.0).to_json();
        self.unbounded_send(Inbound::Text(hello))
            .expect("channel open");
    }
}

#[test]
fn scene_is_built_from_the_description() {
    let mut h = Harness::new();
    let world = h.app.world_mut();
    let spawned: Vec<(String, usize)> = world
        .query::<(&TwinAsset, &Children)>()
        .iter(world)
        .map(|(asset, children)| (asset.id.clone(), children.len()))
        .collect();
    assert_eq!(spawned.len(), h.line.assets.len());
    for asset in &h.line.assets {
        let parts = spawned
            .iter()
            .find(|(id, _)| *id == asset.id)
            .map(|(_, n)| *n);
        assert!(
            parts.is_some_and(|n| n >= 4),
            "{} has {parts:?} parts",
            asset.id
        );
    }
    // Nothing has reported yet: everything is grey.
    assert_eq!(h.colour_of("P1"), status_colour(AssetStatus::NoData));
}

#[test]
fn colour_follows_the_readings() {
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    let fault = h.line.simulation.faults[0].clone();
    // Both at the same data time: the twin judges freshness on data time.
    h.send_waveform("M1-DE-V", &sim, fault.onset_s + fault.ramp_s);
    h.send_waveform(&fault.sensor, &sim, fault.onset_s + fault.ramp_s);
    h.app.update();

    assert_eq!(h.status_of("P1"), AssetStatus::Level(Zone::D));
    assert_eq!(
        h.colour_of("P1"),
        status_colour(AssetStatus::Level(Zone::D))
    );
    let healthy = h.status_of("M1");
    assert!(
        matches!(healthy, AssetStatus::Level(Zone::A | Zone::B)),
        "{healthy:?}"
    );
    assert_eq!(h.colour_of("M1"), status_colour(healthy));
    assert_eq!(
        h.status_of("F1"),
        AssetStatus::NoData,
        "no frame for F1 yet"
    );
    assert_eq!(h.app.world().resource::<StreamStats>().waveforms, 2);
}

#[test]
fn silence_turns_assets_grey_and_new_data_brings_colour_back() {
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    h.send_waveform("M1-DE-V", &sim, 0.0);
    h.app.update();
    assert!(matches!(h.status_of("M1"), AssetStatus::Level(_)));

    h.app
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs(16)));
    h.app.update();
    assert_eq!(h.status_of("M1"), AssetStatus::Stale);
    assert_eq!(h.colour_of("M1"), status_colour(AssetStatus::Stale));

    h.app
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
            100,
        )));
    h.send_waveform("M1-DE-V", &sim, 30.0);
    h.app.update();
    assert!(matches!(h.status_of("M1"), AssetStatus::Level(_)));
}

#[test]
fn machines_move_with_their_data_and_stand_still_in_silence() {
    use linetwin::motion::{AssetMotion, Conveyed, MovingPart};
    use linetwin_twin::{Pace, StopReason};
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    h.send_waveform("M1-DE-V", &sim, 0.0);
    for _ in 0..5 {
        h.app.update();
    }
    let motion_of = |h: &mut Harness, id: &str| {
        let world = h.app.world_mut();
        world
            .query::<(&TwinAsset, &AssetMotion)>()
            .iter(world)
            .find(|(asset, _)| asset.id == id)
            .map(|(_, m)| m.clone())
            .expect("every asset has its motion")
    };
    let motor = motion_of(&mut h, "M1");
    assert!(
        matches!(motor.pace, Some(Pace::Turning { rev_per_s }) if rev_per_s > 20.0),
        "{motor:?}"
    );
    assert!(motor.turns > 0.0);
    let world = h.app.world_mut();
    let moved = world
        .query::<(&MovingPart, &Transform)>()
        .iter(world)
        .filter(|(part, transform)| transform.rotation != part.part.rotation)
        .count();
    assert!(moved > 0, "the motor's shaft has turned");
    let bottles = world.query::<&Conveyed>().iter(world).count();
    assert!(bottles > 20, "{bottles} loads on the conveyors");
    assert_eq!(
        motion_of(&mut h, "F1").pace,
        Some(Pace::Stopped {
            reason: StopReason::NoData
        })
    );

    h.app
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs(16)));
    h.app.update();
    let stopped = motion_of(&mut h, "M1");
    assert_eq!(
        stopped.pace,
        Some(Pace::Stopped {
            reason: StopReason::Stale
        })
    );
    h.app.update();
    assert_eq!(
        motion_of(&mut h, "M1").turns,
        stopped.turns,
        "no data, no motion"
    );
}

#[test]
fn malformed_frames_are_dropped_and_the_stream_goes_on() {
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    h.frames
        .unbounded_send(Inbound::Binary(b"LTW1 garbage".to_vec()))
        .unwrap();
    h.frames
        .unbounded_send(Inbound::Text("{not json".into()))
        .unwrap();
    h.send_waveform("M1-DE-V", &sim, 0.0);
    h.app.update();
    let stats = h.app.world().resource::<StreamStats>().clone();
    assert_eq!(stats.frames_rejected, 2);
    assert!(matches!(h.status_of("M1"), AssetStatus::Level(_)));
}

#[test]
fn selection_shows_its_marker() {
    let mut h = Harness::new();
    h.app.world_mut().resource_mut::<Selection>().0 = Some("CV2".into());
    h.app.update();
    let world = h.app.world_mut();
    let mut visible_under = Vec::new();
    let markers: Vec<(Entity, Visibility)> = world
        .query_filtered::<(&ChildOf, &Visibility), With<SelectionMarker>>()
        .iter(world)
        .map(|(p, v)| (p.parent(), *v))
        .collect();
    for (parent, visibility) in markers {
        if visibility == Visibility::Visible {
            visible_under.push(world.get::<TwinAsset>(parent).map(|a| a.id.clone()));
        }
    }
    assert_eq!(visible_under, vec![Some("CV2".to_owned())]);
}

#[test]
fn a_worsening_asset_raises_one_alarm_that_can_be_acknowledged() {
    use linetwin::twin_state::AcknowledgeAlarm;
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    let fault = h.line.simulation.faults[0].clone();
    h.send_waveform(&fault.sensor, &sim, fault.onset_s + fault.ramp_s);
    h.app.update();
    let alarm = h
        .app
        .world()
        .resource::<TwinState>()
        .0
        .alarms()
        .into_iter()
        .find(|a| a.asset == "P1")
        .cloned()
        .expect("an alarm for P1");
    assert_eq!(alarm.level, Zone::D);
    assert!(alarm.message.contains(&fault.sensor), "{}", alarm.message);
    assert!(
        alarm.message.contains("outer race"),
        "the diagnosis explains it: {}",
        alarm.message
    );

    h.app.world_mut().write_message(AcknowledgeAlarm(alarm.id));
    h.send_waveform(&fault.sensor, &sim, fault.onset_s + fault.ramp_s + 2.0);
    h.app.update();
    let twin = &h.app.world().resource::<TwinState>().0;
    let for_p1: Vec<_> = twin
        .alarms()
        .into_iter()
        .filter(|a| a.asset == "P1")
        .collect();
    assert_eq!(for_p1.len(), 1, "a lasting condition raises once");
    assert!(twin.is_acknowledged(for_p1[0].id));
}

#[test]
fn an_asset_with_a_gltf_model_shows_it_with_its_beacon_and_halo() {
    let mut line = demo_line();
    let pump = line.assets.iter_mut().find(|a| a.id == "P1").unwrap();
    pump.model = Some("models/pump.glb".into());
    let mut h = Harness::with_line(line);
    let world = h.app.world_mut();
    let (root, paint) = world
        .query::<(Entity, &TwinAsset, &HealthPaint)>()
        .iter(world)
        .find(|(_, asset, _)| asset.id == "P1")
        .map(|(e, _, p)| (e, p.clone()))
        .unwrap();
    let children: Vec<Entity> = world.get::<Children>(root).unwrap().iter().collect();
    let models = children
        .iter()
        .filter(|c| world.get::<WorldAssetRoot>(**c).is_some())
        .count();
    let wearing = |handle: &Handle<StandardMaterial>| {
        children
            .iter()
            .filter(|c| {
                world
                    .get::<MeshMaterial3d<StandardMaterial>>(**c)
                    .is_some_and(|m| m.0 == *handle)
            })
            .count()
    };
    assert_eq!(models, 1, "the glTF scene replaces the built-in shape");
    assert_eq!(wearing(&paint.beacon), 1, "a beacon lamp shows the health");
    assert_eq!(wearing(&paint.halo), 1, "and a halo on the floor");
    assert_eq!(wearing(&paint.body), 0, "the model keeps its own materials");
    assert_eq!(
        children.len(),
        5,
        "model, beacon lamp and mast, halo and selection marker only"
    );
}

#[test]
fn a_rise_above_the_learned_baseline_is_an_advisory_alarm() {
    use linetwin_twin::Severity;
    use linetwin_twin::baseline::BASELINE_BLOCKS;
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    for i in 0..BASELINE_BLOCKS {
        h.send_waveform("M1-DE-V", &sim, 2.0 * i as f64);
        h.app.update();
    }
    let twin = &h.app.world().resource::<TwinState>().0;
    let sensor = &twin.asset("M1").unwrap().sensors["M1-DE-V"];
    let (baseline, limit) = (
        sensor.baseline.value_mm_s.expect("baseline learned"),
        sensor.baseline_limit_mm_s.unwrap(),
    );
    assert!(
        (limit - baseline - 0.25 * 2.8).abs() < 1e-9,
        "group 2 rigid: a quarter of B/C above the baseline"
    );

    let mut louder = sim.waveform("M1-DE-V", 40.0).unwrap();
    let gain = ((limit + 0.3) / baseline) as f32;
    louder.samples.iter_mut().for_each(|x| *x *= gain);
    h.frames
        .unbounded_send(Inbound::Binary(louder.encode()))
        .unwrap();
    h.app.update();
    let twin = &h.app.world().resource::<TwinState>().0;
    let advisory = twin
        .alarms()
        .into_iter()
        .find(|a| a.asset == "M1" && a.severity == Severity::Advisory);
    assert!(
        advisory.is_some_and(|a| a.message.contains("baseline")),
        "{:?}",
        twin.alarms()
    );
}

#[test]
fn a_restarted_gateway_continues_the_twin_even_with_old_data_in_the_same_frame() {
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    for i in 0..5 {
        h.send_waveform("M1-DE-V", &sim, 200.0 + 2.0 * f64::from(i));
        h.app.update();
    }
    // In one frame: the old gateway's last reading, the new gateway's hello,
    // and its first block, its clock started again from zero.
    let reading = TextMessage::Readings {
        t: 210.0,
        values: vec![linetwin_core::protocol::Reading {
            sensor: "M1-T".into(),
            value: 50.0,
        }],
    };
    h.frames
        .unbounded_send(Inbound::Text(reading.to_json()))
        .expect("channel open");
    h.frames.send_hello();
    h.send_waveform("M1-DE-V", &sim, 0.0);
    h.app.update();
    let twin = &h.app.world().resource::<TwinState>().0;
    assert_eq!(twin.clock().epochs, 1, "the restart was seen");
    assert_eq!(
        twin.counters().late,
        0,
        "the new gateway's block was not late"
    );
    assert!(matches!(h.status_of("M1"), AssetStatus::Level(_)));
}

#[test]
fn a_what_if_for_the_faulted_pump_recommends_acting_and_colours_the_forecast() {
    use linetwin::prognosis::Prognoses;
    use linetwin::what_if::{ForecastView, RunWhatIf, ShowForecast, WhatIf, WhatIfStatus};
    use linetwin_forecast::plan::ActionKind;
    let mut h = Harness::new();
    let sim = Simulator::new(&h.line, 3);
    // Half-way up P1's ramp (onset 20 s, 240 s): degrading, not failed.
    let mut t = 0.0;
    while t < 150.0 {
        h.send_waveform("P1-DE-V", &sim, t);
        h.send_waveform("M1-DE-V", &sim, t);
        h.app.update();
        t += 2.0;
    }
    let p1 = h.app.world().resource::<Prognoses>().by_asset["P1"].clone();
    assert_eq!(p1.state.label(), "degrading", "{p1:?}");

    h.app.world_mut().write_message(RunWhatIf {
        asset: Some("P1".into()),
        action: ActionKind::Replace,
        day: Some(3.0),
        paths: 2000,
    });
    for _ in 0..5 {
        h.app.update();
    }
    let what_if = h.app.world().resource::<WhatIf>();
    let WhatIfStatus::Done(outcome) = &what_if.status else {
        panic!("the what-if did not finish: {:?}", what_if.status);
    };
    let names: Vec<&str> = outcome.results.iter().map(|r| r.plan.as_str()).collect();
    assert_eq!(names[0], "do nothing");
    assert!(names.iter().any(|n| n.contains("now")), "{names:?}");
    assert!(
        names.contains(&"replace P1 on day 3"),
        "the user's own date: {names:?}"
    );
    assert_eq!(*names.last().unwrap(), "the twin's proposal");
    let recommendation = outcome.recommendation.as_ref().expect("a recommendation");
    assert_ne!(
        recommendation.best, 0,
        "acting beats doing nothing: {}",
        recommendation.reason
    );

    // Thirty days on, doing nothing has failed P1; the scene shows it red.
    h.app
        .world_mut()
        .write_message(ShowForecast(Some((30.0, 0))));
    h.app.update();
    h.app.update();
    let forecast = h
        .app
        .world()
        .resource::<ForecastView>()
        .0
        .clone()
        .expect("a forecast");
    assert_eq!(forecast.assets["P1"].0, Zone::D, "{forecast:?}");
    assert_eq!(
        h.colour_of("P1"),
        status_colour(AssetStatus::Level(Zone::D))
    );
    assert_eq!(
        forecast.assets["M1"].0,
        Zone::A,
        "a healthy motor stays green a month on"
    );
    h.app.world_mut().write_message(ShowForecast(None));
    h.app.update();
    h.app.update();
    assert!(h.app.world().resource::<ForecastView>().0.is_none());
    assert_eq!(h.colour_of("P1"), status_colour(h.status_of("P1")));

    // The track record kept what was said: P1's remaining lives, the
    // recommended plan's outcome and the zones shown a month on.
    use linetwin::track_record::ModelAccuracy;
    use linetwin_twin::track_record::Outcome;
    let accuracy = h.app.world().resource::<ModelAccuracy>();
    let kinds: Vec<&str> = accuracy
        .record
        .forecasts("P1")
        .iter()
        .map(|f| f.kind.label())
        .collect();
    for kind in ["remaining life", "plan outcome", "zone at a date"] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
    let zones = accuracy
        .summary
        .assets
        .values()
        .map(|a| a.open)
        .sum::<usize>();
    assert!(zones >= h.line.assets.len(), "a zone for every asset");
    let found = accuracy.record.found_at("P1").expect("P1's fault found");
    // P1 maintained (its baseline learned afresh, as the gateway says after
    // a replacement): its lives are censored, the fault's lead time kept;
    // the recommended plan acts on P1, so its outcome stays open, while
    // "do nothing"'s zone for P1 is censored. Told at 150 s, a little ahead
    // of the data: the record takes it at the twin's data time.
    let replaced_at = 150.0;
    let data_time = h.app.world().resource::<TwinState>().0.data_time();
    let maintained_at = data_time.expect("data came").min(replaced_at);
    for sensor in ["P1-DE-V", "P1-NDE-V"] {
        let relearn = TextMessage::Baseline {
            sensor: sensor.into(),
            t: replaced_at,
            value_mm_s: None,
            by: Some("maria".into()),
        };
        h.frames
            .unbounded_send(Inbound::Text(relearn.to_json()))
            .expect("channel open");
    }
    h.app.update();
    h.app.update();
    let accuracy = h.app.world().resource::<ModelAccuracy>();
    let p1 = &accuracy.summary.assets["P1"];
    assert!(p1.remaining_life.censored >= 1, "{p1:?}");
    assert_eq!(p1.detection.found_before_maintenance, 1);
    assert_eq!(p1.detection.lead_times_s, vec![maintained_at - found]);
    let outcomes: Vec<(&str, &Outcome)> = accuracy
        .record
        .forecasts("P1")
        .into_iter()
        .map(|f| (f.kind.label(), &f.outcome))
        .collect();
    assert!(
        outcomes
            .iter()
            .any(|(kind, o)| *kind == "plan outcome" && **o == Outcome::Open),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|(kind, o)| *kind == "zone at a date" && matches!(o, Outcome::Censored { .. })),
        "{outcomes:?}"
    );
    assert_eq!(accuracy.summary.line.zone.censored, 1);
}
