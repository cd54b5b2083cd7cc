//! What the embedding page can see: `window.linetwin.state()` returns a JSON
//! snapshot, and the page receives `linetwin:selection` and `linetwin:zone`
//! CustomEvents. Used by the end-to-end test and by anyone embedding the viewer.

use bevy::prelude::*;
use serde_json::{Value, json};

use crate::alarms::{AlarmBook, AlarmRaised};
use crate::health::{AssetHealth, DiagnosisStats, HealthStatus, LineHealth, ZoneChanged};
use crate::line_source::{LineDescription, LineStatus};
use crate::selection::{Selection, SelectionChanged};
use crate::stream::{Connection, StreamStats};
use crate::ui::ScreenPositions;

/// Everything the snapshot is made from, borrowed from the world.
pub struct SnapshotSources<'a> {
    pub line: Option<&'a LineDescription>,
    pub line_status: &'a LineStatus,
    pub connection: &'a Connection,
    pub stats: &'a StreamStats,
    pub health: &'a LineHealth,
    pub selection: &'a Selection,
    pub screen: &'a ScreenPositions,
    pub alarms: &'a AlarmBook,
    pub diagnosis: &'a DiagnosisStats,
    pub frames_rendered: u32,
    pub now: f64,
}

fn status_json(status: HealthStatus) -> Value {
    match status {
        HealthStatus::Zone(zone) => json!(zone.letter()),
        HealthStatus::Stale => json!("stale"),
        HealthStatus::NoData => json!("none"),
    }
}

pub fn snapshot(s: &SnapshotSources) -> Value {
    let assets: serde_json::Map<String, Value> = s
        .health
        .assets
        .iter()
        .map(|(id, asset): (&String, &AssetHealth)| {
            let screen = s.screen.0.get(id);
            let worst = asset
                .sensors
                .values()
                .filter(|x| x.diagnosis.is_some())
                .max_by_key(|x| x.zone);
            let diagnosis = worst.and_then(|x| x.diagnosis.as_deref());
            let entry = json!({
                "zone": status_json(asset.status),
                "iso_zone": worst.and_then(|x| x.iso_zone).map(|z| z.letter()),
                "verdict": diagnosis.map(|d| d.verdict.as_str()),
                "health": diagnosis.map(|d| d.health.as_str()),
                "score": diagnosis.and_then(|d| d.score),
                "why": asset.explanation(),
                "velocity_mm_s": asset.worst_velocity(),
                "last_update_s": asset.last_update(),
                "age_s": asset.last_update().map(|t| s.now - t),
                "screen": screen.map(|(p, _)| [p.x, p.y]),
                "clickable": screen.is_some_and(|(_, clickable)| *clickable),
            });
            (id.clone(), entry)
        })
        .collect();
    let connection = &s.connection.0;
    json!({
        "line_id": s.line.map(|l| l.0.id.clone()),
        "line_status": match s.line_status {
            LineStatus::Loading => "loading".to_owned(),
            LineStatus::Loaded => "loaded".to_owned(),
            LineStatus::Retrying { reason, .. } => format!("retrying: {reason}"),
        },
        "connection": connection.label(),
        "frames": { "received": s.stats.frames_received, "rejected": s.stats.frames_rejected },
        "readings": s.stats.readings,
        "waveforms": s.stats.waveforms,
        "assets": assets,
        "selection": s.selection.0,
        "inspector": s.selection.0.as_ref().and_then(|id| s.health.assets.get(id)).map(|asset| json!({
            "asset": s.selection.0,
            "sensors_with_spectra": asset.sensors.values().filter(|x| x.spectra.is_some()).count(),
        })),
        "alarms": s.alarms.alarms().iter().map(|a| json!({
            "id": a.id, "asset": a.asset, "severity": a.severity.label(), "level": a.level.letter(),
            "message": a.message, "acknowledged": a.acknowledged, "active": a.active, "age_s": s.now - a.raised_at,
        })).collect::<Vec<_>>(),
        "diagnosis": {
            "blocks": s.diagnosis.blocks,
            "samples": s.diagnosis.samples,
            "busy_ms": s.diagnosis.busy_s * 1000.0,
            "slowest_block_ms": s.diagnosis.slowest_block_ms,
            "superseded": s.diagnosis.superseded,
            "samples_per_busy_second": if s.diagnosis.busy_s > 0.0 { s.diagnosis.samples as f64 / s.diagnosis.busy_s } else { 0.0 },
        },
        "frames_rendered": s.frames_rendered,
        "now_s": s.now,
    })
}

pub struct WebApiPlugin;

impl Plugin for WebApiPlugin {
    fn build(&self, app: &mut App) {
        #[cfg(target_arch = "wasm32")]
        app.add_systems(Startup, web::install)
            .add_systems(PreUpdate, web::forward_acknowledgements)
            .add_systems(Last, (web::publish_snapshot, web::dispatch_events));
        #[cfg(not(target_arch = "wasm32"))]
        let _ = app;
    }
}

/// Detail of a `linetwin:zone` event.
pub fn zone_event_detail(change: &ZoneChanged) -> Value {
    json!({
        "asset": change.asset,
        "zone": status_json(change.to),
        "previous": status_json(change.from),
        "velocity_mm_s": change.velocity_mm_s,
    })
}

/// Detail of a `linetwin:alarm` event.
pub fn alarm_event_detail(raised: &AlarmRaised) -> Value {
    let a = &raised.0;
    json!({ "id": a.id, "asset": a.asset, "severity": a.severity.label(), "level": a.level.letter(), "message": a.message })
}

/// Detail of a `linetwin:selection` event.
pub fn selection_event_detail(change: &SelectionChanged) -> Value {
    json!({ "asset": change.0 })
}

#[cfg(target_arch = "wasm32")]
mod web {
    use std::cell::RefCell;

    use bevy::diagnostic::FrameCount;
    use bevy::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    use super::*;

    thread_local! {
        static SNAPSHOT: RefCell<String> = RefCell::new("{}".to_owned());
        static ACK_REQUESTS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
        static FIRST_FRAME_MS: RefCell<Option<f64>> = const { RefCell::new(None) };
    }

    pub(super) fn install() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let api = js_sys::Object::new();
        let state = Closure::<dyn Fn() -> JsValue>::new(|| {
            SNAPSHOT.with(|s| js_sys::JSON::parse(&s.borrow()).unwrap_or(JsValue::NULL))
        });
        let _ = js_sys::Reflect::set(&api, &"state".into(), state.as_ref());
        let acknowledge = Closure::<dyn Fn(f64)>::new(|id: f64| {
            if id.is_finite() && id >= 0.0 {
                ACK_REQUESTS.with(|r| r.borrow_mut().push(id as u64));
            }
        });
        let _ = js_sys::Reflect::set(&api, &"acknowledge".into(), acknowledge.as_ref());
        acknowledge.forget();
        let _ = js_sys::Reflect::set(&api, &"version".into(), &env!("CARGO_PKG_VERSION").into());
        // The closure lives as long as the page.
        state.forget();
        let _ = js_sys::Reflect::set(&window, &"linetwin".into(), &api);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn publish_snapshot(
        line: Option<Res<LineDescription>>,
        line_status: Res<LineStatus>,
        connection: Res<Connection>,
        stats: Res<StreamStats>,
        health: Res<LineHealth>,
        selection: Res<Selection>,
        screen: Option<Res<ScreenPositions>>,
        alarms: Res<AlarmBook>,
        diagnosis: Res<DiagnosisStats>,
        frames: Res<FrameCount>,
        time: Res<Time<Real>>,
    ) {
        let no_screen = ScreenPositions::default();
        let screen = screen.as_deref().unwrap_or(&no_screen);
        let sources = SnapshotSources {
            line: line.as_deref(),
            line_status: &line_status,
            connection: &connection,
            stats: &stats,
            health: &health,
            selection: &selection,
            screen,
            alarms: &alarms,
            diagnosis: &diagnosis,
            frames_rendered: frames.0,
            now: time.elapsed_secs_f64(),
        };
        let mut value = snapshot(&sources);
        // Page load to the first frame with the line in it, as the browser measures time.
        let first_frame_ms = FIRST_FRAME_MS.with(|first| {
            let mut first = first.borrow_mut();
            if first.is_none() && !screen.0.is_empty() {
                *first = web_sys::window()
                    .and_then(|w| w.performance())
                    .map(|p| p.now());
            }
            *first
        });
        value["first_frame_ms"] = first_frame_ms.into();
        SNAPSHOT.with(|s| *s.borrow_mut() = value.to_string());
    }

    pub(super) fn forward_acknowledgements(
        mut acknowledge: MessageWriter<crate::alarms::AcknowledgeAlarm>,
    ) {
        for id in ACK_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            acknowledge.write(crate::alarms::AcknowledgeAlarm(id));
        }
    }

    pub(super) fn dispatch_events(
        mut selections: MessageReader<SelectionChanged>,
        mut zones: MessageReader<ZoneChanged>,
        mut alarms: MessageReader<AlarmRaised>,
    ) {
        for raised in alarms.read() {
            dispatch("linetwin:alarm", &alarm_event_detail(raised));
        }
        for change in selections.read() {
            dispatch("linetwin:selection", &selection_event_detail(change));
        }
        for change in zones.read() {
            dispatch("linetwin:zone", &zone_event_detail(change));
        }
    }

    fn dispatch(name: &str, detail: &serde_json::Value) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&js_sys::JSON::parse(&detail.to_string()).unwrap_or(JsValue::NULL));
        if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
            let _ = window.dispatch_event(event.unchecked_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::ConnectionState;
    use linetwin_core::iso::Zone;
    use linetwin_core::line::Line;
    use std::sync::Arc;

    #[test]
    fn snapshot_reports_connection_assets_and_selection() {
        let line = Line::from_json("demo.json", include_str!("../assets/lines/demo.json")).unwrap();
        let mut health = LineHealth::for_line(&line);
        health.assets.get_mut("P1").unwrap().status = HealthStatus::Zone(Zone::C);
        let description = LineDescription(Arc::new(line));
        let mut screen = ScreenPositions::default();
        screen
            .0
            .insert("P1".into(), (Vec2::new(100.0, 200.0), true));
        let sources = SnapshotSources {
            line: Some(&description),
            line_status: &LineStatus::Loaded,
            connection: &Connection(ConnectionState::Connected {
                line_id: "bottling-line-1".into(),
                time_scale: 1.0,
            }),
            stats: &StreamStats {
                frames_received: 12,
                frames_rejected: 1,
                ..default()
            },
            health: &health,
            selection: &Selection(Some("P1".into())),
            screen: &screen,
            alarms: &AlarmBook::default(),
            diagnosis: &DiagnosisStats {
                blocks: 4,
                samples: 4000,
                busy_s: 0.002,
                ..default()
            },
            frames_rendered: 30,
            now: 5.0,
        };
        let value = snapshot(&sources);
        assert_eq!(value["connection"], "connected");
        assert_eq!(value["frames"]["received"], 12);
        assert_eq!(value["frames"]["rejected"], 1);
        assert_eq!(value["assets"]["P1"]["zone"], "C");
        assert_eq!(value["assets"]["P1"]["screen"][0], 100.0);
        assert_eq!(value["assets"]["P1"]["clickable"], true);
        assert_eq!(value["assets"]["M1"]["zone"], "none");
        assert_eq!(value["selection"], "P1");
        assert_eq!(value["line_id"], "bottling-line-1");
        assert_eq!(value["inspector"]["asset"], "P1");
        assert_eq!(value["diagnosis"]["samples_per_busy_second"], 2_000_000.0);
        assert_eq!(value["alarms"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn event_details_name_asset_and_zones() {
        let change = ZoneChanged {
            asset: "P1".into(),
            from: HealthStatus::Zone(Zone::B),
            to: HealthStatus::Stale,
            velocity_mm_s: Some(2.0),
        };
        let detail = zone_event_detail(&change);
        assert_eq!(detail["zone"], "stale");
        assert_eq!(detail["previous"], "B");
        assert_eq!(
            selection_event_detail(&SelectionChanged(None))["asset"],
            Value::Null
        );
    }
}
