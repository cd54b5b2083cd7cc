//! Panels (bevy_egui): status bar, asset list with the colour legend, the
//! details and inspector of the selected asset, and the alarm list. The
//! panels have their own camera ([`egui_camera`]); the 3D view is fitted to
//! the space they leave. Also projects assets to the screen for their
//! floating labels and for `window.linetwin.state()`.

mod alarm_panel;
mod asset_panel;
pub mod egui_camera;
pub mod inspector;
pub mod kiosk_panel;
mod labels;
pub mod layout;
mod status_bar;
pub mod time_axis;
pub mod timeline_bar;
pub mod track_record_panel;
pub mod what_if_panel;

use std::collections::BTreeMap;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use linetwin_core::access::Action;

use crate::camera::OrbitCamera;
use crate::diagnosis::{DiagnosisStats, Inspection};
use crate::executor::Executor;
use crate::line_source::{LineDescription, LineStatus};
use crate::prognosis::Prognoses;
use crate::scene::{BeaconPoint, PickPoint, TwinAsset};
use crate::selection::{PointerGuard, Selection};
use crate::stream::{Connection, GatewayNotice, StreamStats};
use crate::twin_state::{AcknowledgeAlarm, TwinState};
use crate::what_if::{CancelWhatIf, ForecastView, RunWhatIf, ShowForecast, WhatIf};

/// Where each asset's pick point appears in the window, logical pixels, and
/// whether a click there reaches the 3D view (not under a panel).
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct ScreenPositions(pub BTreeMap<String, (Vec2, bool)>);

/// Where each asset's beacon lamp appears in the window, logical pixels.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct BeaconPositions(pub BTreeMap<String, Vec2>);

/// The part of the window not covered by panels, in egui points.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub struct FreeViewport(pub Option<egui::Rect>);

/// The gateway's latest notice and the data time it came at.
#[derive(Resource, Debug, Clone, Default)]
struct LatestNotice(Option<(String, Option<f64>)>);

/// Data seconds a gateway notice stays in the status bar.
const NOTICE_SHOWN_S: f64 = 30.0;

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ScreenPositions>()
            .init_resource::<BeaconPositions>()
            .init_resource::<layout::Layout>()
            .init_resource::<FreeViewport>()
            .init_resource::<LatestNotice>()
            .add_systems(Startup, egui_camera::spawn_egui_camera)
            .add_systems(
                Update,
                (remember_notices, remember_captions, project_assets),
            )
            .init_resource::<what_if_panel::WhatIfWindow>()
            .init_resource::<track_record_panel::AccuracyWindow>()
            .add_systems(
                EguiPrimaryContextPass,
                (
                    draw_panels.run_if(not(resource_exists::<crate::kiosk::Kiosk>)),
                    draw_what_if.run_if(not(resource_exists::<crate::kiosk::Kiosk>)),
                    draw_accuracy.run_if(not(resource_exists::<crate::kiosk::Kiosk>)),
                    draw_kiosk.run_if(resource_exists::<crate::kiosk::Kiosk>),
                    egui_camera::fit_3d_viewport,
                )
                    .chain(),
            );
    }
}

fn remember_notices(
    mut notices: MessageReader<GatewayNotice>,
    mut latest: ResMut<LatestNotice>,
    twin: Option<Res<TwinState>>,
) {
    if let Some(GatewayNotice(text)) = notices.read().last() {
        latest.0 = Some((text.clone(), twin.and_then(|t| t.0.now())));
    }
}

/// The latest caption stays a resource while the panels show it (its time
/// already on the twin's axis, which continues across a story's restarts).
fn remember_captions(mut captions: MessageReader<crate::stream::Caption>, mut commands: Commands) {
    if let Some(caption) = captions.read().last() {
        commands.insert_resource(caption.clone());
    }
}

/// A demo's narration over the 3D view, while the data's time is within its
/// span; the scenario clock and chapter above it.
fn narrator_strip(
    ctx: &egui::Context,
    caption: &crate::stream::Caption,
    now: Option<f64>,
    viewport: egui::Rect,
) {
    let Some(now) = now else { return };
    if !(caption.t..caption.t + caption.duration_s).contains(&now) {
        return;
    }
    egui::Area::new("narrator".into())
        .fixed_pos(egui::pos2(viewport.left() + 16.0, viewport.bottom() - 96.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(egui::Color32::from_black_alpha(200))
                .inner_margin(10.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_max_width(viewport.width() - 48.0);
                    ui.small(format!(
                        "scenario {} · {}",
                        time_axis::format_data_time(now, None),
                        caption.chapter.as_deref().unwrap_or("")
                    ));
                    ui.label(
                        egui::RichText::new(&caption.text)
                            .size(18.0)
                            .color(egui::Color32::WHITE),
                    );
                });
        });
}

/// Pause, resume, restart and chapters of the story the gateway tells.
fn story_remote(
    ctx: &egui::Context,
    story: &mut crate::scenario_remote::Story,
    viewport: egui::Rect,
) {
    let Some(info) = story.info.clone() else {
        return;
    };
    egui::Area::new("story-remote".into())
        .fixed_pos(egui::pos2(
            viewport.center().x - 200.0,
            viewport.top() + 8.0,
        ))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(egui::Color32::from_black_alpha(190))
                .inner_margin(6.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(egui::RichText::new(&info.name).strong());
                        if story.paused {
                            if ui.button("▶ Resume").clicked() {
                                crate::scenario_remote::send("resume");
                                story.paused = false;
                            }
                        } else if ui.button("⏸ Pause").clicked() {
                            crate::scenario_remote::send("pause");
                            story.paused = true;
                        }
                        if ui.button("⟲ Restart").clicked() {
                            crate::scenario_remote::send("restart");
                        }
                        egui::ComboBox::from_id_salt("story-chapter")
                            .selected_text("Chapter…")
                            .show_ui(ui, |ui| {
                                for (i, (_, title)) in info.chapters.iter().enumerate() {
                                    if ui.selectable_label(false, title).clicked() {
                                        crate::scenario_remote::send(&format!("chapter/{i}"));
                                    }
                                }
                            });
                    });
                });
        });
}

fn project_assets(
    cameras: Query<(&Camera, &GlobalTransform), With<OrbitCamera>>,
    assets: Query<(&TwinAsset, &PickPoint, &BeaconPoint, &GlobalTransform)>,
    free: Res<FreeViewport>,
    layout: Res<layout::Layout>,
    mut screen: ResMut<ScreenPositions>,
    mut beacons: ResMut<BeaconPositions>,
) {
    let Ok((camera, camera_transform)) = cameras.single() else {
        return;
    };
    screen.0.clear();
    beacons.0.clear();
    for (asset, pick, beacon, transform) in &assets {
        if let Ok(position) =
            camera.world_to_viewport(camera_transform, transform.transform_point(beacon.0))
        {
            beacons.0.insert(asset.id.clone(), position);
        }
        let world = transform.transform_point(pick.0);
        if let Ok(position) = camera.world_to_viewport(camera_transform, world) {
            // Panels are laid out in points, which a zoomed wall screen makes larger.
            let point = position / layout.plan.zoom;
            let clickable = free
                .0
                .is_some_and(|rect| rect.shrink(4.0).contains(egui::pos2(point.x, point.y)));
            screen.0.insert(asset.id.clone(), (position, clickable));
        }
    }
}

pub fn egui_colour(colour: Color) -> egui::Color32 {
    let [r, g, b, _] = colour.to_srgba().to_u8_array();
    egui::Color32::from_rgb(r, g, b)
}

/// "3 s ago", "2 min ago": how old a value is, for a person.
pub fn age_label(seconds: f64) -> String {
    match seconds {
        s if s < 1.0 => "just now".to_owned(),
        s if s < 120.0 => format!("{s:.0} s ago"),
        s if s < 7200.0 => format!("{:.0} min ago", s / 60.0),
        s => format!("{:.0} h ago", s / 3600.0),
    }
}

/// What the panels show besides the live twin: the past at the timeline's
/// cursor, what lies ahead (remaining lives, the forecast on show), and the
/// story being told.
#[derive(bevy::ecs::system::SystemParam)]
pub struct Outlook<'w> {
    prognoses: Option<Res<'w, Prognoses>>,
    forecast: Option<Res<'w, ForecastView>>,
    caption: Option<Res<'w, crate::stream::Caption>>,
    story: Option<ResMut<'w, crate::scenario_remote::Story>>,
    cursor: Res<'w, crate::timeline::TimeCursor>,
    captions: Res<'w, crate::timeline::CaptionLog>,
    seeks: MessageWriter<'w, crate::timeline::Seek>,
    layout: ResMut<'w, layout::Layout>,
    accuracy: Option<Res<'w, crate::track_record::ModelAccuracy>>,
}

/// Sending a what-if plan to the gateway's record.
#[derive(bevy::ecs::system::SystemParam)]
pub struct RecordSending<'w> {
    requests: MessageWriter<'w, crate::gateway_record::RecordRequest>,
    record: Option<Res<'w, crate::gateway_record::GatewayRecord>>,
    twin: Option<Res<'w, TwinState>>,
    permissions: Res<'w, crate::access::Permissions>,
}

/// The alarm list's actions and the gateway's record.
#[derive(bevy::ecs::system::SystemParam)]
pub struct RecordActions<'w> {
    acknowledge: MessageWriter<'w, AcknowledgeAlarm>,
    requests: MessageWriter<'w, crate::gateway_record::RecordRequest>,
    record: Option<Res<'w, crate::gateway_record::GatewayRecord>>,
    permissions: Res<'w, crate::access::Permissions>,
}

#[allow(clippy::too_many_arguments)]
fn draw_panels(
    mut contexts: EguiContexts,
    line: Option<Res<LineDescription>>,
    status: Res<LineStatus>,
    connection: Res<Connection>,
    stats: Res<StreamStats>,
    diagnosis: Res<DiagnosisStats>,
    executor: Option<Res<Executor>>,
    twin: Option<Res<TwinState>>,
    inspection: Res<Inspection>,
    notice: Res<LatestNotice>,
    screen: Res<ScreenPositions>,
    mut actions: RecordActions,
    mut selection: ResMut<Selection>,
    mut guard: ResMut<PointerGuard>,
    mut free: ResMut<FreeViewport>,
    mut outlook: Outlook,
) {
    let mut requests = crate::access::Offers::new(&actions.permissions);
    let Ok(ctx) = contexts.ctx_mut() else { return };
    let twin = twin.as_deref().map(|t| &t.0);
    let now = twin.and_then(|t| t.now());
    let clock = twin.and_then(|t| t.clock().kind);
    let past = outlook
        .cursor
        .moment
        .as_ref()
        .filter(|_| outlook.cursor.is_past());
    layout::apply(ctx, &mut outlook.layout);
    outlook.layout.follow_selection(selection.0.as_deref());
    let screen_width = ctx.content_rect().width();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "linetwin-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );

    egui::Panel::top("status-bar").show(&mut root, |ui| {
        // First, so they stay put while the status text below re-wraps.
        if outlook.layout.plan.narrow {
            ui.horizontal(|ui| {
                layout::drawer_buttons(ui, &mut outlook.layout, selection.0.is_some());
            });
        }
        let notice = notice.0.as_ref().filter(|(_, at)| match (at, now) {
            (Some(at), Some(now)) => now - at < NOTICE_SHOWN_S,
            _ => true,
        });
        status_bar::show(
            ui,
            &status_bar::StatusSources {
                line: line.as_deref().map(|l| l.0.as_ref()),
                connection: &connection.0,
                stats: &stats,
                diagnosis: &diagnosis,
                executor: executor.as_deref(),
                twin,
                notice: notice.map(|(text, _)| text.as_str()),
            },
        );
        if let Some(who) = actions.permissions.signed_in_as() {
            ui.horizontal(|ui| {
                ui.weak(format!("signed in as {who}"));
                if ui.small_button("Sign out").clicked() {
                    crate::access::sign_out();
                }
            });
        }
    });
    if outlook.cursor.span.is_some() {
        let style = root.style().clone();
        let frame = egui::Frame::side_top_panel(&style).fill(if past.is_some() {
            egui::Color32::from_rgb(60, 38, 0)
        } else {
            style.visuals.panel_fill
        });
        let request = egui::Panel::bottom("timeline")
            .frame(frame)
            .show(&mut root, |ui| {
                timeline_bar::show(ui, &outlook.cursor, &outlook.captions, now, clock)
            })
            .inner;
        if let Some(wanted) = request {
            outlook.seeks.write(crate::timeline::Seek(wanted));
        }
    }
    let recorded = actions
        .record
        .as_deref()
        .is_some_and(|r| !r.alarms.is_empty());
    if let (Some(twin), Some(_)) = (twin, line.as_ref())
        && (!twin.alarms().is_empty() || recorded)
    {
        egui::Panel::bottom("alarms")
            .resizable(true)
            .default_size(130.0)
            .show(&mut root, |ui| {
                let alarm_actions = alarm_panel::AlarmActions {
                    acknowledge: &mut actions.acknowledge,
                    record: actions.record.as_deref(),
                    requests: &mut requests,
                };
                alarm_panel::show(ui, twin, &mut selection, alarm_actions, past);
            });
    }
    if let Some(line) = line.as_deref() {
        if outlook.layout.shows(layout::Drawer::Assets) {
            let panel = egui::Panel::left("assets").resizable(!outlook.layout.plan.narrow);
            outlook
                .layout
                .sized(panel, 270.0, screen_width)
                .show(&mut root, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        asset_panel::asset_list(ui, &line.0, twin, past, &mut selection);
                        ui.separator();
                        asset_panel::legend(ui);
                    });
                });
        }
        let selected = selection
            .0
            .clone()
            .and_then(|id| line.0.asset(&id).cloned());
        if let (Some(asset), Some(twin)) = (selected, twin)
            && outlook.layout.shows(layout::Drawer::Details)
        {
            let panel = egui::Panel::right("details").resizable(!outlook.layout.plan.narrow);
            outlook
                .layout
                .sized(panel, 380.0, screen_width)
                .show(&mut root, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        let prognosis = outlook
                            .prognoses
                            .as_ref()
                            .and_then(|p| p.by_asset.get(&asset.id));
                        let close = asset_panel::details(
                            ui,
                            &asset,
                            twin,
                            &inspection,
                            prognosis,
                            outlook.accuracy.as_deref(),
                            past,
                            &mut requests,
                        );
                        if close {
                            selection.0 = None;
                        }
                    });
                });
        }
    }
    let viewport = root.available_rect_before_wrap();
    free.0 = Some(viewport);
    outlook.layout.free = Some(viewport);
    if let Some(caption) = outlook.caption.as_deref() {
        narrator_strip(ctx, caption, now, viewport);
    }
    if let Some(moment) = past {
        timeline_bar::past_banner(ctx, moment.t, clock, viewport);
    }
    if let Some(mut story) = outlook.story
        && story.info.is_some()
        && actions.permissions.may(Action::ControlDemo)
    {
        story_remote(ctx, &mut story, viewport);
    }

    match &*status {
        LineStatus::Loaded => labels::show(
            ctx,
            &screen,
            twin,
            outlook.forecast.as_deref(),
            past,
            viewport,
        ),
        LineStatus::Loading => centre_message(ctx, "Loading the line description…", None),
        LineStatus::Retrying { reason, attempt } => {
            centre_message(
                ctx,
                "Cannot load the line description",
                Some(&format!("{reason}\nRetrying (attempt {}).", attempt + 1)),
            );
        }
    }

    if let Some(answer) = actions
        .record
        .as_deref()
        .and_then(|r| r.last_answer.as_deref())
    {
        record_answer(ctx, answer, viewport);
    }
    actions.requests.write_batch(requests.made);

    let pointer = ctx.pointer_latest_pos();
    guard.over_ui = ctx.is_pointer_over_egui() || pointer.is_some_and(|p| !viewport.contains(p));
}

/// What the gateway said of the latest request, in a corner of the scene.
fn record_answer(ctx: &egui::Context, answer: &str, viewport: egui::Rect) {
    egui::Area::new("record-answer".into())
        .fixed_pos(viewport.left_bottom() + egui::vec2(8.0, -28.0))
        .interactable(false)
        .show(ctx, |ui| {
            ui.small(answer);
        });
}

/// The kiosk's screen instead of the panels.
#[allow(clippy::too_many_arguments)]
fn draw_kiosk(
    mut contexts: EguiContexts,
    line: Option<Res<LineDescription>>,
    connection: Res<Connection>,
    twin: Option<Res<TwinState>>,
    kiosk: Res<crate::kiosk::Kiosk>,
    screen: Res<ScreenPositions>,
    mut free: ResMut<FreeViewport>,
    mut guard: ResMut<PointerGuard>,
    mut layout: ResMut<layout::Layout>,
) {
    let Ok(ctx) = contexts.ctx_mut() else { return };
    let Some(line) = line else { return };
    // A 4K wall screen is zoomed like the panels are.
    layout::apply(ctx, &mut layout);
    let twin = twin.as_deref().map(|t| &t.0);
    let mut root = egui::Ui::new(
        ctx.clone(),
        "linetwin-kiosk-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let viewport = kiosk_panel::show(
        &mut root,
        &kiosk_panel::KioskSources {
            line: &line.0,
            twin,
            connection: &connection.0,
            kiosk: &kiosk,
        },
    );
    free.0 = Some(viewport);
    labels::show(ctx, &screen, twin, None, None, viewport);
    // Nobody edits a kiosk: clicks never select.
    guard.over_ui = true;
}

/// The what-if window, its opening button, and the forecast banner.
#[allow(clippy::too_many_arguments)]
fn draw_what_if(
    mut contexts: EguiContexts,
    line: Option<Res<LineDescription>>,
    prognoses: Res<Prognoses>,
    what_if: Res<WhatIf>,
    forecast: Res<ForecastView>,
    mut window: ResMut<what_if_panel::WhatIfWindow>,
    mut run: MessageWriter<RunWhatIf>,
    mut cancel: MessageWriter<CancelWhatIf>,
    mut show: MessageWriter<ShowForecast>,
    free: Res<FreeViewport>,
    mut record: RecordSending,
) {
    let Ok(ctx) = contexts.ctx_mut() else { return };
    let Some(line) = line else { return };
    let Some(viewport) = free.0 else { return };
    egui::Area::new("what-if-button".into())
        .fixed_pos(egui::pos2(viewport.right() - 110.0, viewport.top() + 8.0))
        .show(ctx, |ui| {
            if ui.button("What if…").clicked() {
                window.open = !window.open;
            }
        });
    if let Some(f) = &forecast.0 {
        egui::Area::new("forecast-banner".into())
            .fixed_pos(egui::pos2(viewport.left() + 12.0, viewport.top() + 8.0))
            .show(ctx, |ui| {
                egui::Frame::new()
                    .fill(egui::Color32::from_rgb(70, 40, 120))
                    .inner_margin(8.0)
                    .corner_radius(4.0)
                    .show(ui, |ui| {
                        ui.colored_label(
                            egui::Color32::WHITE,
                            egui::RichText::new(format!(
                                "FORECAST — day {:.0} under “{}”: colours are predicted failure risk, not live data",
                                f.day, f.plan_name
                            ))
                            .strong(),
                        );
                    });
            });
    }
    if !window.open {
        return;
    }
    let sending = what_if_panel::Sending {
        possible: record.record.is_some()
            && record.twin.is_some()
            && record.permissions.may(Action::SendPlan),
        sent: record.record.as_deref().map(|r| &r.plans_sent),
    };
    let requests = what_if_panel::show(
        ctx,
        &mut window,
        &line.0,
        &prognoses,
        &what_if,
        &forecast,
        &sending,
    );
    let now = record.twin.as_deref().and_then(|t| t.0.data_time());
    if let (Some(index), Some(t)) = (requests.send_plan, now)
        && let Some(order) = what_if.order(index, crate::gateway_record::VIEWER, t)
    {
        record
            .requests
            .write(crate::gateway_record::RecordRequest::SendPlan(Box::new(
                order,
            )));
    }
    if let Some(request) = requests.run {
        run.write(request);
    }
    if requests.cancel {
        cancel.write(CancelWhatIf);
    }
    if let Some(wanted) = requests.forecast {
        show.write(ShowForecast(wanted));
    }
}

/// The line-wide "Model accuracy" window and its button, under "What if…"
/// (beside it, a story's remote would cover it on a narrow view).
fn draw_accuracy(
    mut contexts: EguiContexts,
    accuracy: Option<Res<crate::track_record::ModelAccuracy>>,
    twin: Option<Res<TwinState>>,
    mut window: ResMut<track_record_panel::AccuracyWindow>,
    free: Res<FreeViewport>,
) {
    let Ok(ctx) = contexts.ctx_mut() else { return };
    let (Some(accuracy), Some(viewport)) = (accuracy, free.0) else {
        return;
    };
    egui::Area::new("accuracy-button".into())
        .fixed_pos(egui::pos2(viewport.right() - 140.0, viewport.top() + 44.0))
        .show(ctx, |ui| {
            if ui
                .button("Model accuracy")
                .on_hover_text("How the twin's forecasts turned out")
                .clicked()
            {
                window.open = !window.open;
            }
        });
    if window.open {
        let clock = twin.and_then(|t| t.0.clock().kind);
        track_record_panel::window(ctx, &mut window, &accuracy, clock);
    }
}

fn centre_message(ctx: &egui::Context, title: &str, detail: Option<&str>) {
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            if let Some(detail) = detail {
                ui.label(detail);
            } else {
                ui.spinner();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::age_label;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age_label(0.2), "just now");
        assert_eq!(age_label(42.0), "42 s ago");
        assert_eq!(age_label(600.0), "10 min ago");
        assert_eq!(age_label(36_000.0), "10 h ago");
    }
}
