//! What the embedding page can see: `window.linetwin.state()` returns a JSON
//! snapshot, and the page receives `linetwin:selection` and `linetwin:zone`
//! CustomEvents. Used by the end-to-end test and by anyone embedding the viewer.

use bevy::prelude::*;
use linetwin_twin::{AssetStatus, Twin, TwinEvent, TwinSnapshot};
use serde_json::{Value, json};

use crate::diagnosis::{DiagnosisStats, Inspection};
use crate::line_source::{LineDescription, LineStatus};
use crate::prognosis::Prognoses;
use crate::selection::{Selection, SelectionChanged};
use crate::stream::{Connection, StreamStats};
use crate::ui::ScreenPositions;
use crate::what_if::{ForecastView, WhatIf, WhatIfStatus};

/// Everything the snapshot is made from, borrowed from the world.
pub struct SnapshotSources<'a> {
    pub line: Option<&'a LineDescription>,
    pub line_status: &'a LineStatus,
    pub connection: &'a Connection,
    pub stats: &'a StreamStats,
    pub twin: Option<&'a Twin>,
    pub inspection: &'a Inspection,
    pub selection: &'a Selection,
    pub screen: &'a ScreenPositions,
    pub diagnosis: &'a DiagnosisStats,
    pub executor: &'a str,
    pub frames_rendered: u32,
    pub prognoses: Option<&'a Prognoses>,
    pub what_if: Option<&'a WhatIf>,
    pub forecast: Option<&'a ForecastView>,
    pub kiosk: Option<&'a crate::kiosk::Kiosk>,
    pub caption: Option<&'a crate::stream::Caption>,
    pub story: Option<&'a crate::scenario_remote::Story>,
    pub cursor: Option<&'a crate::timeline::TimeCursor>,
    pub captions: Option<&'a crate::timeline::CaptionLog>,
    pub record: Option<&'a crate::gateway_record::GatewayRecord>,
    pub accuracy: Option<&'a crate::track_record::ModelAccuracy>,
}

/// Each asset's motion (its pace, or "still" in the past, and the turns and
/// belt metres shown so far) and where its beacon lamp is on screen.
pub fn motion_json(
    motion: &crate::motion::MotionReport,
    beacons: &crate::ui::BeaconPositions,
) -> Value {
    motion
        .0
        .iter()
        .map(|(id, m)| {
            let entry = json!({
                "pace": m.pace.map_or_else(|| json!({ "state": "still" }), |p| json!(p)),
                "turns": m.turns,
                "belt_m": m.belt_m,
                "beacon": beacons.0.get(id).map(|p| [p.x, p.y]),
            });
            (id.clone(), entry)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The timeline: live or the past moment on show, with what it showed.
fn timeline_json(
    cursor: &crate::timeline::TimeCursor,
    captions: Option<&crate::timeline::CaptionLog>,
) -> Value {
    let moment = cursor.moment.as_ref().filter(|_| cursor.is_past());
    json!({
        "mode": if cursor.is_past() { "past" } else { "live" },
        "t": cursor.at,
        "span": cursor.span,
        "alarm_marks": cursor.alarms.iter().map(|m| json!({ "t": m.t, "asset": m.asset, "severity": m.severity.label() })).collect::<Vec<_>>(),
        "caption_marks": captions.map_or(0, |c| c.0.len()),
        "captions": captions.map(|c| c.0.iter().map(|(t, text)| json!({ "t": t, "text": text })).collect::<Vec<_>>()),
        "waiting_for_link": cursor.pending.as_ref().map(|l| json!({ "t": l.t, "asset": l.asset })),
        "assets": moment.map(|m| m.assets.iter().map(|(id, a)| (id.clone(), json!({
            "zone": a.status.label(), "velocity_mm_s": a.velocity_mm_s, "verdict": a.verdict.as_str(), "why": a.why,
        }))).collect::<serde_json::Map<_, _>>()),
        "alarms_in_force": moment.map(|m| m.alarms.clone()),
    })
}

fn status_json(status: AssetStatus) -> Value {
    json!(status.label())
}

pub fn snapshot(s: &SnapshotSources) -> Value {
    let twin = s.twin.map(TwinSnapshot::of);
    let now = twin.as_ref().and_then(|t| t.now);
    let assets: serde_json::Map<String, Value> = twin
        .iter()
        .flat_map(|t| t.assets.iter())
        .map(|(id, asset)| {
            let screen = s.screen.0.get(id);
            let rul = s.prognoses.and_then(|p| p.by_asset.get(id)).map(|p| {
                json!({
                    "median_h": p.median_h, "low_h": p.low_h, "high_h": p.high_h,
                    "state": p.state.label(), "basis": p.basis, "sensor": p.sensor,
                    "detected_at_s": p.detected_at_s,
                    "evidence": p.evidence,
                    "usage": p.usage.as_ref().map(|u| json!({
                        "remaining_h": u.remaining_h, "rate_per_h": u.rate_per_h,
                        "cycles": u.cycles, "rated_cycles": u.rated_cycles,
                    })),
                })
            });
            let forecast = s
                .forecast
                .and_then(|f| f.0.as_ref())
                .and_then(|f| f.assets.get(id))
                .map(|(zone, p)| json!({ "zone": zone.letter(), "failure_probability": p }));
            let entry = json!({
                "rul": rul,
                "forecast": forecast,
                "zone": status_json(asset.status),
                "iso_zone": asset.iso_zone,
                "verdict": asset.verdict,
                "health": asset.health,
                "score": asset.score,
                "why": asset.why,
                // Sensors whose source said it is gone, with its reason.
                "offline": asset.sensors.iter()
                    .filter_map(|(id, s)| Some((id.clone(), Value::from(s.offline.clone()?))))
                    .collect::<serde_json::Map<_, _>>(),
                // Each vibration sensor's baseline, and who had it learned afresh.
                "baselines": s.twin.and_then(|t| t.asset(id)).map(|a| a.sensors.iter()
                    .filter(|(_, v)| v.kind == linetwin_core::line::SensorKind::Vibration)
                    .map(|(sensor, v)| (sensor.clone(), json!({
                        "value_mm_s": v.baseline.value_mm_s,
                        "commissioned_by": v.baseline.commissioned_by,
                    })))
                    .collect::<serde_json::Map<_, _>>()),
                "velocity_mm_s": asset.velocity_mm_s,
                "last_update_s": asset.last_update,
                "age_s": asset.last_update.zip(now).map(|(t, now)| now - t),
                "screen": screen.map(|(p, _)| [p.x, p.y]),
                "clickable": screen.is_some_and(|(_, clickable)| *clickable),
            });
            (id.clone(), entry)
        })
        .collect();
    let inspector = s.selection.0.as_ref().and_then(|id| s.line?.0.asset(id)).map(|asset| {
        json!({
            "asset": asset.id,
            "sensors_with_spectra": asset.sensors.iter().filter(|x| s.inspection.0.contains_key(&x.id)).count(),
        })
    });
    let alarms: Vec<Value> = twin
        .iter()
        .flat_map(|t| t.alarms.iter())
        .map(|a| {
            json!({
                "id": a.id, "asset": a.asset, "severity": a.severity.label(), "level": a.level,
                "message": a.message, "acknowledged": a.acknowledged,
                "acknowledged_by": a.acknowledged_by, "active": a.active,
                "raised_at": a.raised_at, "cleared_at": a.cleared_at,
                "age_s": now.map(|now| now - a.raised_at),
                "work_order": s.record.and_then(|r| r.work_orders.get(&a.id)),
            })
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
        "replay": matches!(connection, crate::stream::ConnectionState::Connected { replay: true, .. }),
        "frames": { "received": s.stats.frames_received, "rejected": s.stats.frames_rejected },
        "readings": s.stats.readings,
        "waveforms": s.stats.waveforms,
        "data_time": twin.as_ref().and_then(|t| t.data_time),
        "clock": twin.as_ref().map(|t| json!({ "kind": t.clock.kind, "time_scale": t.clock.time_scale, "epochs": t.clock.epochs })),
        "twin": twin.as_ref().map(|t| json!(t.counters)),
        "history": s.twin.map(|t| json!({
            "bytes": t.history().memory_bytes(), "bound_bytes": t.history().memory_bound_bytes(),
            "span_s": t.history().config().span_s(),
        })),
        "assets": assets,
        "selection": s.selection.0,
        "inspector": inspector,
        "alarms": alarms,
        "record": s.record.map(|r| json!({
            "alarm_ids": r.alarms.iter().map(|a| a.id).collect::<Vec<_>>(),
            "last_answer": r.last_answer,
            "plans_sent": r.plans_sent,
            "waiting": r.waiting.len(),
        })),
        "diagnosis": {
            "executor": s.executor,
            "blocks": s.diagnosis.blocks,
            "samples": s.diagnosis.samples,
            "busy_ms": s.diagnosis.busy_s * 1000.0,
            "slowest_block_ms": s.diagnosis.slowest_block_ms,
            "superseded": s.diagnosis.superseded,
            "failed": s.diagnosis.failed,
            "in_flight": s.diagnosis.in_flight,
            "samples_per_busy_second": if s.diagnosis.busy_s > 0.0 { s.diagnosis.samples as f64 / s.diagnosis.busy_s } else { 0.0 },
        },
        "frames_rendered": s.frames_rendered,
        "now_s": now,
        "what_if": s.what_if.map(what_if_json),
        "caption": s.caption.filter(|c| now.is_some_and(|n| n >= c.t && n < c.t + c.duration_s)).map(|c| json!({
            "t": c.t, "text": c.text, "chapter": c.chapter,
        })),
        // The latest caption even once its time is over: at a demo's
        // speed-up it may show for less time than a page polls.
        "last_caption": s.caption.map(|c| json!({ "t": c.t, "text": c.text, "chapter": c.chapter })),
        "scenario": s.story.and_then(|st| st.info.as_ref()).map(|info| json!({
            "id": info.id, "name": info.name, "chapters": info.chapters,
        })),
        "kiosk": s.kiosk.map(|k| json!({
            "tour_s": k.options.tour_s,
            "assets": k.options.assets,
            "stop": k.tour.stop(),
            "attention": k.attention,
            "counts": k.counts,
        })),
        "timeline": s.cursor.map(|c| timeline_json(c, s.captions)),
        "forecast": s.forecast.and_then(|f| f.0.as_ref()).map(|f| json!({
            "day": f.day, "plan": f.plan, "plan_name": f.plan_name,
        })),
        // The twin's track record: how its forecasts turned out, line-wide
        // (`line`), per asset (`assets`) and the latest resolved (`recent`).
        "model_accuracy": s.accuracy.map(|a| serde_json::to_value(&a.summary).unwrap_or_default()),
    })
}

fn what_if_json(what_if: &WhatIf) -> Value {
    let mut value = json!({
        "status": what_if.status.label(),
        "runs": what_if.runs,
        "focus": what_if.focus,
    });
    match &what_if.status {
        WhatIfStatus::Running { done, total, .. } => {
            value["done"] = json!(done);
            value["total"] = json!(total);
        }
        WhatIfStatus::Failed(reason) => value["error"] = json!(reason),
        WhatIfStatus::Done(outcome) => {
            let focus = what_if.focus.as_deref();
            value["plans"] = outcome
                .results
                .iter()
                .map(|r| {
                    let asset = focus.and_then(|f| r.assets.iter().find(|a| a.asset == f));
                    json!({
                        "plan": r.plan, "paths": r.paths,
                        "expected_cost": r.expected_cost, "p90_cost": r.p90_cost,
                        "expected_downtime_h": r.expected_downtime_h, "p90_downtime_h": r.p90_downtime_h,
                        "expected_unplanned_downtime_h": r.expected_unplanned_downtime_h,
                        "expected_production_lost": r.expected_production_lost,
                        "expected_maintenance_cost": r.expected_maintenance_cost,
                        "expected_failure_cost": r.expected_failure_cost,
                        "focus": asset.map(|a| json!({
                            "asset": a.asset,
                            "expected_failures": a.expected_failures,
                            "failure_probability_at_horizon": a.failure_probability.last(),
                            "life_after_actions_h": a.life_after_actions_h.median,
                        })),
                        "has_trajectory": r.trajectories.iter().any(|t| Some(t.asset.as_str()) == focus),
                    })
                })
                .collect();
            value["recommendation"] = json!(outcome.recommendation.as_ref().map(|r| json!({
                "best": r.best,
                "plan": outcome.results.get(r.best).map(|p| p.plan.clone()),
                "reason": r.reason,
            })));
            value["proposal"] = json!(outcome.proposal.as_ref().map(|p| json!({
                "actions": p.plan.actions.iter().map(|a| json!({
                    "asset": a.asset, "action": a.kind.label(), "day": a.at_h / 24.0,
                })).collect::<Vec<_>>(),
                "reasons": p.reasons,
            })));
        }
        WhatIfStatus::Idle | WhatIfStatus::Cancelled => {}
    }
    value
}

/// Detail of a `linetwin:zone` event, for a level change.
pub fn zone_event_detail(event: &TwinEvent) -> Option<Value> {
    let TwinEvent::LevelChanged {
        asset,
        from,
        to,
        at,
        velocity_mm_s,
    } = event
    else {
        return None;
    };
    Some(json!({
        "asset": asset,
        "zone": status_json(*to),
        "previous": status_json(*from),
        "velocity_mm_s": velocity_mm_s,
        "data_time": at,
    }))
}

/// Detail of a `linetwin:alarm` event, for a raised alarm.
pub fn alarm_event_detail(event: &TwinEvent) -> Option<Value> {
    let TwinEvent::AlarmRaised(a) = event else {
        return None;
    };
    Some(
        json!({ "id": a.id, "asset": a.asset, "severity": a.severity.label(), "level": a.level.letter(), "message": a.message, "data_time": a.raised_at }),
    )
}

/// Detail of a `linetwin:selection` event.
pub fn selection_event_detail(change: &SelectionChanged) -> Value {
    json!({ "asset": change.0 })
}

pub struct WebApiPlugin;

impl Plugin for WebApiPlugin {
    fn build(&self, app: &mut App) {
        #[cfg(target_arch = "wasm32")]
        app.add_systems(Startup, web::install)
            .add_systems(
                PreUpdate,
                (
                    web::forward_acknowledgements,
                    web::forward_what_if,
                    web::forward_record_requests,
                ),
            )
            .add_systems(Last, (web::publish_snapshot, web::dispatch_events));
        #[cfg(not(target_arch = "wasm32"))]
        let _ = app;
    }
}

#[cfg(target_arch = "wasm32")]
mod web {
    use std::cell::RefCell;

    use bevy::diagnostic::FrameCount;
    use bevy::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    use super::*;
    use crate::executor::Executor;
    use crate::twin_state::TwinState;

    thread_local! {
        static SNAPSHOT: RefCell<String> = RefCell::new("{}".to_owned());
        static ACK_REQUESTS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
        static SELECT_REQUESTS: RefCell<Vec<Option<String>>> = const { RefCell::new(Vec::new()) };
        static FIRST_FRAME_MS: RefCell<Option<f64>> = const { RefCell::new(None) };
        static WHAT_IF_REQUESTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
        static FORECAST_REQUESTS: RefCell<Vec<Option<(f64, usize)>>> = const { RefCell::new(Vec::new()) };
        static CANCEL_REQUESTS: RefCell<u32> = const { RefCell::new(0) };
        static WINDOW_REQUESTS: RefCell<Option<bool>> = const { RefCell::new(None) };
        static STORY_COMMANDS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
        static SEEK_REQUESTS: RefCell<Vec<Option<f64>>> = const { RefCell::new(Vec::new()) };
        static RECORD_REQUESTS: RefCell<Vec<PageRecordRequest>> = const { RefCell::new(Vec::new()) };
    }

    /// What the page asks of the gateway's record.
    enum PageRecordRequest {
        AskForMaintenance(u64),
        RelearnBaseline(String),
        /// The what-if result with this index.
        SendPlan(usize),
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
        // `select(id)` selects an asset, `select(null)` clears the selection.
        let select = Closure::<dyn Fn(JsValue)>::new(|id: JsValue| {
            SELECT_REQUESTS.with(|r| r.borrow_mut().push(id.as_string()));
        });
        let _ = js_sys::Reflect::set(&api, &"select".into(), select.as_ref());
        select.forget();
        // `whatIf({asset, action, percent, day, paths})` runs a what-if (see
        // `RunWhatIf::from_page_json`); `whatIf(null)` asks for the twin's
        // proposal alone. Errors show in `state().what_if.error`.
        let what_if = Closure::<dyn Fn(JsValue)>::new(|spec: JsValue| {
            let text = if spec.is_null() || spec.is_undefined() {
                "{}".to_owned()
            } else {
                js_sys::JSON::stringify(&spec)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default()
            };
            WHAT_IF_REQUESTS.with(|r| r.borrow_mut().push(text));
        });
        let _ = js_sys::Reflect::set(&api, &"whatIf".into(), what_if.as_ref());
        what_if.forget();
        let cancel = Closure::<dyn Fn()>::new(|| CANCEL_REQUESTS.with(|c| *c.borrow_mut() += 1));
        let _ = js_sys::Reflect::set(&api, &"cancelWhatIf".into(), cancel.as_ref());
        cancel.forget();
        // `forecast(day, plan)` shows the scene `day` days ahead under the
        // what-if's plan number `plan`; `forecast(null)` goes back to live.
        let forecast = Closure::<dyn Fn(JsValue, JsValue)>::new(|day: JsValue, plan: JsValue| {
            let wanted = day
                .as_f64()
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(|d| (d, plan.as_f64().unwrap_or(0.0).max(0.0) as usize));
            FORECAST_REQUESTS.with(|r| r.borrow_mut().push(wanted));
        });
        let _ = js_sys::Reflect::set(&api, &"forecast".into(), forecast.as_ref());
        forecast.forget();
        // `whatIfWindow(open)` shows or hides the what-if window (a shown
        // forecast stays).
        let window_open = Closure::<dyn Fn(JsValue)>::new(|open: JsValue| {
            WINDOW_REQUESTS.with(|w| *w.borrow_mut() = Some(open.is_truthy()));
        });
        let _ = js_sys::Reflect::set(&api, &"whatIfWindow".into(), window_open.as_ref());
        window_open.forget();
        // `scenario("pause" | "resume" | "restart" | "chapter/N")`: the demo's remote.
        let story = Closure::<dyn Fn(JsValue)>::new(|command: JsValue| {
            if let Some(command) = command.as_string() {
                STORY_COMMANDS.with(|c| c.borrow_mut().push(command));
            }
        });
        let _ = js_sys::Reflect::set(&api, &"scenario".into(), story.as_ref());
        story.forget();
        // `seek(t)` moves the timeline to data time `t`; `seek(null)` is live.
        let seek = Closure::<dyn Fn(JsValue)>::new(|t: JsValue| {
            SEEK_REQUESTS.with(|r| r.borrow_mut().push(t.as_f64().filter(|t| t.is_finite())));
        });
        let _ = js_sys::Reflect::set(&api, &"seek".into(), seek.as_ref());
        seek.forget();
        // `askForMaintenance(alarmId)`, `relearnBaseline(sensor)` and
        // `sendPlan(index)` (a what-if result's plan) go to the gateway's
        // record; its answer shows in `state().record.last_answer`.
        let ask = Closure::<dyn Fn(f64)>::new(|id: f64| {
            if id.is_finite() && id >= 0.0 {
                RECORD_REQUESTS.with(|r| {
                    r.borrow_mut()
                        .push(PageRecordRequest::AskForMaintenance(id as u64))
                });
            }
        });
        let _ = js_sys::Reflect::set(&api, &"askForMaintenance".into(), ask.as_ref());
        ask.forget();
        let relearn = Closure::<dyn Fn(JsValue)>::new(|sensor: JsValue| {
            if let Some(sensor) = sensor.as_string() {
                RECORD_REQUESTS.with(|r| {
                    r.borrow_mut()
                        .push(PageRecordRequest::RelearnBaseline(sensor))
                });
            }
        });
        let _ = js_sys::Reflect::set(&api, &"relearnBaseline".into(), relearn.as_ref());
        relearn.forget();
        let send_plan = Closure::<dyn Fn(f64)>::new(|index: f64| {
            if index.is_finite() && index >= 0.0 {
                RECORD_REQUESTS.with(|r| {
                    r.borrow_mut()
                        .push(PageRecordRequest::SendPlan(index as usize))
                });
            }
        });
        let _ = js_sys::Reflect::set(&api, &"sendPlan".into(), send_plan.as_ref());
        send_plan.forget();
        let _ = js_sys::Reflect::set(&api, &"version".into(), &env!("CARGO_PKG_VERSION").into());
        // The closure lives as long as the page.
        state.forget();
        let _ = js_sys::Reflect::set(&window, &"linetwin".into(), &api);
    }

    /// The parts of the snapshot beyond the live chain.
    #[derive(bevy::ecs::system::SystemParam)]
    pub(super) struct Extras<'w> {
        prognoses: Option<Res<'w, Prognoses>>,
        what_if: Option<Res<'w, WhatIf>>,
        forecast: Option<Res<'w, ForecastView>>,
        kiosk: Option<Res<'w, crate::kiosk::Kiosk>>,
        caption: Option<Res<'w, crate::stream::Caption>>,
        story: Option<Res<'w, crate::scenario_remote::Story>>,
        cursor: Option<Res<'w, crate::timeline::TimeCursor>>,
        captions: Option<Res<'w, crate::timeline::CaptionLog>>,
        record: Option<Res<'w, crate::gateway_record::GatewayRecord>>,
        accuracy: Option<Res<'w, crate::track_record::ModelAccuracy>>,
        motion: Option<Res<'w, crate::motion::MotionReport>>,
        beacons: Option<Res<'w, crate::ui::BeaconPositions>>,
        layout: Option<Res<'w, crate::ui::layout::Layout>>,
        permissions: Option<Res<'w, crate::access::Permissions>>,
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn publish_snapshot(
        line: Option<Res<LineDescription>>,
        line_status: Res<LineStatus>,
        connection: Res<Connection>,
        stats: Res<StreamStats>,
        twin: Option<Res<TwinState>>,
        inspection: Res<Inspection>,
        selection: Res<Selection>,
        screen: Option<Res<ScreenPositions>>,
        diagnosis: Res<DiagnosisStats>,
        executor: Option<Res<Executor>>,
        frames: Res<FrameCount>,
        extras: Extras,
    ) {
        let no_screen = ScreenPositions::default();
        let screen = screen.as_deref().unwrap_or(&no_screen);
        let sources = SnapshotSources {
            line: line.as_deref(),
            line_status: &line_status,
            connection: &connection,
            stats: &stats,
            twin: twin.as_deref().map(|t| &t.0),
            inspection: &inspection,
            selection: &selection,
            screen,
            diagnosis: &diagnosis,
            executor: executor.as_deref().map_or("none", Executor::label),
            frames_rendered: frames.0,
            prognoses: extras.prognoses.as_deref(),
            what_if: extras.what_if.as_deref(),
            forecast: extras.forecast.as_deref(),
            kiosk: extras.kiosk.as_deref(),
            caption: extras.caption.as_deref(),
            story: extras.story.as_deref(),
            cursor: extras.cursor.as_deref(),
            captions: extras.captions.as_deref(),
            record: extras.record.as_deref(),
            accuracy: extras.accuracy.as_deref(),
        };
        let mut value = snapshot(&sources);
        if let (Some(motion), Some(beacons)) = (extras.motion.as_deref(), extras.beacons.as_deref())
        {
            value["motion"] = super::motion_json(motion, beacons);
        }
        if let Some(layout) = extras.layout.as_deref() {
            value["layout"] = layout.to_json();
        }
        // Who the gateway takes this page for, and what it offers them.
        if let Some(permissions) = extras.permissions.as_deref() {
            value["access"] = serde_json::to_value(permissions).unwrap_or_default();
        }
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
        value["memory"] = memory_json();
        SNAPSHOT.with(|s| *s.borrow_mut() = value.to_string());
    }

    /// The wasm module's linear memory and the JS heap (Chromium only), bytes.
    fn memory_json() -> serde_json::Value {
        let wasm = wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .ok()
            .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
            .map(|b| b.byte_length());
        let js_heap = web_sys::window()
            .and_then(|w| w.performance())
            .and_then(|p| js_sys::Reflect::get(&p, &"memory".into()).ok())
            .and_then(|m| js_sys::Reflect::get(&m, &"usedJSHeapSize".into()).ok())
            .and_then(|v| v.as_f64());
        serde_json::json!({ "wasm_bytes": wasm, "js_heap_bytes": js_heap })
    }

    pub(super) fn forward_acknowledgements(
        mut acknowledge: MessageWriter<crate::twin_state::AcknowledgeAlarm>,
        line: Option<Res<LineDescription>>,
        mut selection: ResMut<Selection>,
        mut seeks: MessageWriter<crate::timeline::Seek>,
    ) {
        for wanted in SEEK_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            seeks.write(crate::timeline::Seek(wanted));
        }
        for id in ACK_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            acknowledge.write(crate::twin_state::AcknowledgeAlarm(id));
        }
        for wanted in SELECT_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            let known = wanted
                .as_deref()
                .is_none_or(|id| line.as_ref().is_some_and(|l| l.0.asset(id).is_some()));
            if known {
                selection.0 = wanted;
            }
        }
    }

    /// The page's requests to the gateway's record, as the app's messages.
    pub(super) fn forward_record_requests(
        what_if: Res<WhatIf>,
        twin: Option<Res<TwinState>>,
        mut record: MessageWriter<crate::gateway_record::RecordRequest>,
    ) {
        use crate::gateway_record::{RecordRequest, VIEWER};
        for request in RECORD_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            let request = match request {
                PageRecordRequest::AskForMaintenance(id) => RecordRequest::AskForMaintenance(id),
                PageRecordRequest::RelearnBaseline(sensor) => {
                    RecordRequest::RelearnBaseline(sensor)
                }
                PageRecordRequest::SendPlan(index) => {
                    let t = twin.as_deref().and_then(|t| t.0.data_time());
                    match t.and_then(|t| what_if.order(index, VIEWER, t)) {
                        Some(order) => RecordRequest::SendPlan(Box::new(order)),
                        None => {
                            warn!(
                                "sendPlan({index}): no what-if result with a plan that does something"
                            );
                            continue;
                        }
                    }
                }
            };
            record.write(request);
        }
    }

    /// The page's what-if requests, as the app's messages.
    pub(super) fn forward_what_if(
        line: Option<Res<LineDescription>>,
        mut run: MessageWriter<crate::what_if::RunWhatIf>,
        mut cancel: MessageWriter<crate::what_if::CancelWhatIf>,
        mut show: MessageWriter<crate::what_if::ShowForecast>,
        mut what_if: ResMut<WhatIf>,
        mut window: ResMut<crate::ui::what_if_panel::WhatIfWindow>,
    ) {
        for text in WHAT_IF_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            let Some(line) = line.as_ref() else {
                what_if.status =
                    WhatIfStatus::Failed("the line description has not loaded yet".into());
                continue;
            };
            match crate::what_if::RunWhatIf::from_page_json(&text, &line.0) {
                Ok(request) => {
                    window.open = true;
                    window.asset = request.asset.clone();
                    run.write(request);
                }
                Err(reason) => what_if.status = WhatIfStatus::Failed(reason),
            }
        }
        if let Some(open) = WINDOW_REQUESTS.with(|w| w.borrow_mut().take()) {
            window.open = open;
        }
        for command in STORY_COMMANDS.with(|c| std::mem::take(&mut *c.borrow_mut())) {
            crate::scenario_remote::send(&command);
        }
        if CANCEL_REQUESTS.with(|c| std::mem::take(&mut *c.borrow_mut())) > 0 {
            cancel.write(crate::what_if::CancelWhatIf);
        }
        for wanted in FORECAST_REQUESTS.with(|r| std::mem::take(&mut *r.borrow_mut())) {
            if let Some((day, plan)) = wanted {
                window.forecast_on = true;
                window.forecast_day = day;
                window.forecast_plan = plan;
            } else {
                window.forecast_on = false;
            }
            show.write(crate::what_if::ShowForecast(wanted));
        }
    }

    pub(super) fn dispatch_events(
        mut selections: MessageReader<SelectionChanged>,
        mut changes: MessageReader<crate::twin_state::TwinChanged>,
    ) {
        for crate::twin_state::TwinChanged(event) in changes.read() {
            if let Some(detail) = alarm_event_detail(event) {
                dispatch("linetwin:alarm", &detail);
            }
            if let Some(detail) = zone_event_detail(event) {
                dispatch("linetwin:zone", &detail);
            }
        }
        for change in selections.read() {
            dispatch("linetwin:selection", &selection_event_detail(change));
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
    use linetwin_twin::TwinConfig;
    use std::sync::Arc;

    #[test]
    fn snapshot_reports_connection_assets_and_selection() {
        let line = Line::from_json("demo.json", include_str!("../assets/lines/demo.json")).unwrap();
        let twin = Twin::new(&line, TwinConfig::default());
        let prognoses = Prognoses {
            by_asset: line
                .assets
                .iter()
                .map(|a| (a.id.clone(), linetwin_twin::prognosis::prognose(&twin, a)))
                .collect(),
            at: None,
        };
        let cursor = crate::timeline::TimeCursor {
            at: Some(1.0),
            moment: Some(linetwin_twin::timeline::moment_at(&twin, &line, 1.0)),
            ..default()
        };
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
                replay: false,
            }),
            stats: &StreamStats {
                frames_received: 12,
                frames_rejected: 1,
                ..default()
            },
            twin: Some(&twin),
            inspection: &Inspection::default(),
            selection: &Selection(Some("P1".into())),
            screen: &screen,
            diagnosis: &DiagnosisStats {
                blocks: 4,
                samples: 4000,
                busy_s: 0.002,
                ..default()
            },
            executor: "inline",
            frames_rendered: 30,
            prognoses: Some(&prognoses),
            what_if: Some(&WhatIf::default()),
            forecast: Some(&ForecastView::default()),
            kiosk: None,
            caption: None,
            story: None,
            cursor: Some(&cursor),
            captions: None,
            record: None,
            accuracy: None,
        };
        let value = snapshot(&sources);
        assert_eq!(value["assets"]["M1"]["rul"]["state"], "no degradation");
        assert!(value["assets"]["M1"]["rul"]["median_h"].as_f64().unwrap() > 0.0);
        assert_eq!(value["what_if"]["status"], "idle");
        assert_eq!(value["forecast"], Value::Null);
        assert_eq!(value["connection"], "connected");
        assert_eq!(value["frames"]["received"], 12);
        assert_eq!(value["frames"]["rejected"], 1);
        assert_eq!(value["assets"]["P1"]["zone"], "none");
        assert_eq!(value["assets"]["P1"]["screen"][0], 100.0);
        assert_eq!(value["assets"]["P1"]["clickable"], true);
        assert_eq!(value["assets"]["M1"]["clickable"], false);
        assert_eq!(value["selection"], "P1");
        assert_eq!(value["line_id"], "bottling-line-1");
        assert_eq!(value["inspector"]["asset"], "P1");
        assert_eq!(value["inspector"]["sensors_with_spectra"], 0);
        assert_eq!(value["diagnosis"]["samples_per_busy_second"], 2_000_000.0);
        assert_eq!(value["diagnosis"]["executor"], "inline");
        assert_eq!(value["alarms"].as_array().map(Vec::len), Some(0));
        assert_eq!(value["timeline"]["mode"], "past");
        assert_eq!(value["timeline"]["t"], 1.0);
        assert!(value["timeline"]["assets"]["P1"]["zone"].is_string());
        assert_eq!(value["model_accuracy"], Value::Null);
    }

    #[test]
    fn snapshot_reports_the_model_accuracy() {
        let line = Line::from_json("demo.json", include_str!("../assets/lines/demo.json")).unwrap();
        let twin = Twin::new(&line, TwinConfig::default());
        // P1: a life of 1 h (0.5-2 h) said at 0 s, zone D at 0.8 h; M1
        // replaced while its prior stood.
        let mut accuracy = crate::track_record::ModelAccuracy::default();
        for asset in ["P1", "M1"] {
            let mut p = linetwin_twin::prognosis::prognose(&twin, line.asset(asset).unwrap());
            (p.median_h, p.low_h, p.high_h) = (1.0, 0.5, 2.0);
            assert!(accuracy.record.record_rul(0.0, &p));
        }
        accuracy
            .record
            .observe_asset("P1", 0.5 * 3600.0, AssetStatus::Level(Zone::C), Some(600.0));
        accuracy
            .record
            .observe_asset("P1", 0.8 * 3600.0, AssetStatus::Level(Zone::D), None);
        accuracy.record.maintained("M1", 3000.0);
        accuracy.summary = accuracy.record.summary();
        let description = LineDescription(Arc::new(line));
        let sources = SnapshotSources {
            line: Some(&description),
            line_status: &LineStatus::Loaded,
            connection: &Connection(ConnectionState::Connecting { attempt: 0 }),
            stats: &StreamStats::default(),
            twin: Some(&twin),
            inspection: &Inspection::default(),
            selection: &Selection(None),
            screen: &ScreenPositions::default(),
            diagnosis: &DiagnosisStats::default(),
            executor: "inline",
            frames_rendered: 0,
            prognoses: None,
            what_if: None,
            forecast: None,
            kiosk: None,
            caption: None,
            story: None,
            cursor: None,
            captions: None,
            record: None,
            accuracy: Some(&accuracy),
        };
        let value = snapshot(&sources);
        let accuracy = &value["model_accuracy"];
        let rul = &accuracy["line"]["remaining_life"];
        assert_eq!(rul["resolved"], 1);
        assert_eq!(rul["censored"], 1);
        assert_eq!(rul["band_coverage"], 1.0);
        assert!((rul["median_abs_error_h"].as_f64().unwrap() - 0.2).abs() < 1e-9);
        let detection = &accuracy["assets"]["P1"]["detection"];
        assert_eq!(detection["found_before_failure"], 1);
        assert_eq!(detection["lead_times_s"][0], 0.8 * 3600.0 - 600.0);
        assert_eq!(accuracy["recent"][0]["asset"], "M1");
        assert_eq!(accuracy["recent"][0]["outcome"], "censored");
        assert_eq!(accuracy["recent"][1]["outcome"], "failed");
        assert_eq!(accuracy["recent"][1]["in_band"], true);
    }

    #[test]
    fn motion_reports_each_pace_and_still_in_the_past() {
        let mut report = crate::motion::MotionReport::default();
        report.0.insert(
            "M1".into(),
            crate::motion::AssetMotion {
                pace: Some(linetwin_twin::Pace::Turning { rev_per_s: 24.25 }),
                turns: 3.5,
                ..default()
            },
        );
        report.0.insert(
            "P1".into(),
            crate::motion::AssetMotion {
                pace: Some(linetwin_twin::Pace::Stopped {
                    reason: linetwin_twin::StopReason::Stale,
                }),
                ..default()
            },
        );
        report
            .0
            .insert("R1".into(), crate::motion::AssetMotion::default());
        let mut beacons = crate::ui::BeaconPositions::default();
        beacons.0.insert("M1".into(), Vec2::new(40.0, 50.0));
        let value = motion_json(&report, &beacons);
        assert_eq!(value["M1"]["pace"]["state"], "turning");
        assert_eq!(value["M1"]["pace"]["rev_per_s"], 24.25);
        assert_eq!(value["M1"]["turns"], 3.5);
        assert_eq!(value["M1"]["beacon"], json!([40.0, 50.0]));
        assert_eq!(value["P1"]["pace"]["reason"], "stale");
        assert_eq!(value["P1"]["beacon"], Value::Null);
        assert_eq!(value["R1"]["pace"]["state"], "still");
    }

    #[test]
    fn event_details_name_asset_zones_and_data_time() {
        let change = TwinEvent::LevelChanged {
            asset: "P1".into(),
            from: AssetStatus::Level(Zone::B),
            to: AssetStatus::Stale,
            at: 42.0,
            velocity_mm_s: Some(2.0),
        };
        let detail = zone_event_detail(&change).unwrap();
        assert_eq!(detail["zone"], "stale");
        assert_eq!(detail["previous"], "B");
        assert_eq!(detail["data_time"], 42.0);
        assert!(alarm_event_detail(&change).is_none());
        assert_eq!(
            selection_event_detail(&SelectionChanged(None))["asset"],
            Value::Null
        );
    }
}
