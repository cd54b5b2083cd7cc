//! Panels (bevy_egui): connection bar, asset list with the colour legend,
//! and the details of the selected asset. Also projects assets to the screen
//! for their floating labels and for `window.linetwin.state()`.

use std::collections::BTreeMap;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use linetwin_core::iso;
use linetwin_core::line::{Asset, Line, SensorKind};

use crate::alarms::{AcknowledgeAlarm, AlarmBook, Severity};
use crate::health::{AssetHealth, HealthStatus, LineHealth, STALE_AFTER};
use crate::inspector;
use crate::line_source::{LineDescription, LineStatus};
use crate::scene::{PickPoint, TwinAsset};
use crate::selection::{PointerGuard, Selection};
use crate::stream::{Connection, ConnectionState, GatewayNotice, StreamStats};

/// Where each asset's pick point appears in the window, logical pixels, and
/// whether a click there reaches the 3D view (not under a panel).
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct ScreenPositions(pub BTreeMap<String, (Vec2, bool)>);

/// The part of the window not covered by panels.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub struct FreeViewport(pub Option<egui::Rect>);

#[derive(Resource, Debug, Clone, Default)]
struct LatestNotice(Option<(String, f64)>);

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ScreenPositions>()
            .init_resource::<FreeViewport>()
            .init_resource::<LatestNotice>()
            .add_systems(Update, (remember_notices, project_assets))
            .add_systems(EguiPrimaryContextPass, draw_panels);
    }
}

fn remember_notices(
    mut notices: MessageReader<GatewayNotice>,
    mut latest: ResMut<LatestNotice>,
    time: Res<Time<Real>>,
) {
    if let Some(GatewayNotice(text)) = notices.read().last() {
        latest.0 = Some((text.clone(), time.elapsed_secs_f64()));
    }
}

fn project_assets(
    cameras: Query<(&Camera, &GlobalTransform)>,
    assets: Query<(&TwinAsset, &PickPoint, &GlobalTransform)>,
    free: Res<FreeViewport>,
    mut screen: ResMut<ScreenPositions>,
) {
    let Ok((camera, camera_transform)) = cameras.single() else {
        return;
    };
    screen.0.clear();
    for (asset, pick, transform) in &assets {
        let world = transform.transform_point(pick.0);
        if let Ok(position) = camera.world_to_viewport(camera_transform, world) {
            let clickable = free.0.is_some_and(|rect| {
                rect.shrink(4.0)
                    .contains(egui::pos2(position.x, position.y))
            });
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

#[allow(clippy::too_many_arguments)]
fn draw_panels(
    mut contexts: EguiContexts,
    line: Option<Res<LineDescription>>,
    status: Res<LineStatus>,
    connection: Res<Connection>,
    stats: Res<StreamStats>,
    health: Res<LineHealth>,
    notice: Res<LatestNotice>,
    screen: Res<ScreenPositions>,
    alarms: Res<AlarmBook>,
    mut acknowledge: MessageWriter<AcknowledgeAlarm>,
    mut selection: ResMut<Selection>,
    mut guard: ResMut<PointerGuard>,
    mut free: ResMut<FreeViewport>,
    time: Res<Time<Real>>,
) {
    let Ok(ctx) = contexts.ctx_mut() else { return };
    let now = time.elapsed_secs_f64();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "linetwin-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );

    egui::Panel::top("status-bar").show(&mut root, |ui| {
        status_bar(
            ui,
            line.as_deref().map(|l| l.0.as_ref()),
            &connection.0,
            &stats,
            notice.0.as_ref().filter(|(_, at)| now - at < 30.0),
        );
    });
    if line.is_some() && !alarms.alarms().is_empty() {
        egui::Panel::bottom("alarms")
            .resizable(true)
            .default_size(130.0)
            .show(&mut root, |ui| {
                alarm_list(ui, &alarms, now, &mut selection, &mut acknowledge);
            });
    }
    if let Some(line) = line.as_deref() {
        egui::Panel::left("assets")
            .resizable(true)
            .default_size(270.0)
            .show(&mut root, |ui| {
                asset_list(ui, &line.0, &health, &mut selection);
                ui.separator();
                legend(ui);
            });
        let selected = selection
            .0
            .clone()
            .and_then(|id| line.0.asset(&id).cloned());
        if let Some(asset) = selected {
            egui::Panel::right("details")
                .resizable(true)
                .default_size(380.0)
                .show(&mut root, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        if details(ui, &asset, health.assets.get(&asset.id), now) {
                            selection.0 = None;
                        }
                    });
                });
        }
    }
    let viewport = root.available_rect_before_wrap();
    free.0 = Some(viewport);

    match &*status {
        LineStatus::Loaded => labels(ctx, &screen, &health, viewport),
        LineStatus::Loading => centre_message(ctx, "Loading the line description…", None),
        LineStatus::Retrying { reason, attempt } => {
            centre_message(
                ctx,
                "Cannot load the line description",
                Some(&format!("{reason}\nRetrying (attempt {}).", attempt + 1)),
            );
        }
    }

    let pointer = ctx.pointer_latest_pos();
    guard.over_ui = ctx.is_pointer_over_egui() || pointer.is_some_and(|p| !viewport.contains(p));
}

fn status_bar(
    ui: &mut egui::Ui,
    line: Option<&Line>,
    connection: &ConnectionState,
    stats: &StreamStats,
    notice: Option<&(String, f64)>,
) {
    ui.horizontal(|ui| {
        ui.strong("linetwin");
        if let Some(line) = line {
            ui.label(format!("— {}", line.name));
        }
        ui.separator();
        let (colour, text) = match connection {
            ConnectionState::Connected { time_scale, .. } if *time_scale != 1.0 => (
                egui::Color32::from_rgb(60, 190, 90),
                format!("live (simulated, ×{time_scale})"),
            ),
            ConnectionState::Connected { .. } => {
                (egui::Color32::from_rgb(60, 190, 90), "live".to_owned())
            }
            ConnectionState::Connecting { attempt: 0 } => (
                egui::Color32::from_rgb(230, 190, 60),
                "connecting…".to_owned(),
            ),
            ConnectionState::Connecting { attempt } => (
                egui::Color32::from_rgb(230, 190, 60),
                format!("connecting (attempt {})…", attempt + 1),
            ),
            ConnectionState::Reconnecting {
                retry_in, reason, ..
            } => (
                egui::Color32::from_rgb(220, 80, 60),
                format!(
                    "disconnected: {reason}; retrying in {:.0} s",
                    retry_in.as_secs_f32().ceil()
                ),
            ),
        };
        ui.colored_label(colour, "■");
        ui.label(text);
        ui.separator();
        ui.label(format!("{} frames", stats.frames_received));
        if stats.frames_rejected > 0 {
            ui.colored_label(
                egui::Color32::from_rgb(230, 150, 60),
                format!("{} rejected", stats.frames_rejected),
            )
            .on_hover_text(stats.last_rejection.clone().unwrap_or_default());
        }
        if let Some((text, _)) = notice {
            ui.separator();
            ui.colored_label(egui::Color32::from_rgb(230, 190, 60), text);
        }
    });
}

fn asset_list(ui: &mut egui::Ui, line: &Line, health: &LineHealth, selection: &mut Selection) {
    ui.heading("Assets");
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() * 0.6)
        .show(ui, |ui| {
            for asset in &line.assets {
                let status = health
                    .assets
                    .get(&asset.id)
                    .map_or(HealthStatus::NoData, |a| a.status);
                let velocity = health
                    .assets
                    .get(&asset.id)
                    .and_then(AssetHealth::worst_velocity);
                let selected = selection.0.as_deref() == Some(asset.id.as_str());
                ui.horizontal(|ui| {
                    ui.colored_label(egui_colour(status.colour()), "■");
                    let text = match (status, velocity) {
                        (HealthStatus::Zone(_), Some(v)) => {
                            format!("{} · {} · {:.1} mm/s", asset.id, status.label(), v)
                        }
                        _ => format!("{} · {}", asset.id, status.label()),
                    };
                    if ui
                        .selectable_label(selected, text)
                        .on_hover_text(&asset.name)
                        .clicked()
                    {
                        selection.0 = if selected {
                            None
                        } else {
                            Some(asset.id.clone())
                        };
                    }
                });
            }
        });
}

fn alarm_list(
    ui: &mut egui::Ui,
    book: &AlarmBook,
    now: f64,
    selection: &mut Selection,
    acknowledge: &mut MessageWriter<AcknowledgeAlarm>,
) {
    ui.horizontal(|ui| {
        ui.heading("Alarms");
        ui.label(format!("{} unacknowledged", book.unacknowledged()));
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        for alarm in book.alarms().iter().rev() {
            ui.horizontal(|ui| {
                let shown_as = match alarm.severity {
                    Severity::Advisory => iso::Zone::B,
                    Severity::Warning => iso::Zone::C,
                    Severity::Critical => iso::Zone::D,
                };
                ui.colored_label(
                    egui_colour(HealthStatus::Zone(shown_as).colour()),
                    format!("■ {}", alarm.severity.label()),
                );
                ui.label(age_label(now - alarm.raised_at));
                if ui
                    .link(&alarm.asset)
                    .on_hover_text("Show in the inspector")
                    .clicked()
                {
                    selection.0 = Some(alarm.asset.clone());
                }
                let text = if alarm.active {
                    alarm.message.clone()
                } else {
                    format!("{} (cleared)", alarm.message)
                };
                ui.label(text);
                if !alarm.acknowledged && ui.small_button("Acknowledge").clicked() {
                    acknowledge.write(AcknowledgeAlarm(alarm.id));
                }
            });
        }
    });
}

fn legend(ui: &mut egui::Ui) {
    ui.heading("Colours");
    ui.label("The worse of two judgements, computed in this browser: vibration velocity r.m.s. (10–1000 Hz) against the ISO 20816-3 zones of the machine's group and support, and the fault diagnosis (a bearing or shaft fault means at least C):");
    for (status, meaning) in [
        (HealthStatus::Zone(iso::Zone::A), "A — as new"),
        (HealthStatus::Zone(iso::Zone::B), "B — acceptable long-term"),
        (
            HealthStatus::Zone(iso::Zone::C),
            "C — unsatisfactory: plan maintenance",
        ),
        (
            HealthStatus::Zone(iso::Zone::D),
            "D — severe: risk of damage",
        ),
        (HealthStatus::NoData, "grey — no data, or none for 15 s"),
    ] {
        ui.horizontal(|ui| {
            ui.colored_label(egui_colour(status.colour()), "■");
            ui.label(meaning);
        });
    }
    ui.small("Drag: orbit · right-drag: pan · wheel/pinch: zoom · click: details · Esc: close");
}

/// Returns true when the user closed the panel.
fn details(ui: &mut egui::Ui, asset: &Asset, health: Option<&AssetHealth>, now: f64) -> bool {
    let mut close = false;
    ui.horizontal(|ui| {
        ui.heading(&asset.name);
        if ui
            .small_button("Close")
            .on_hover_text("Esc also closes")
            .clicked()
        {
            close = true;
        }
    });
    ui.label(format!(
        "{} · {} · {:.0} rpm rated",
        asset.id,
        asset.kind.label(),
        asset.rated_speed_rpm
    ));
    let status = health.map_or(HealthStatus::NoData, |h| h.status);
    let boundaries = iso::boundaries(asset.iso.group, asset.iso.support);
    ui.horizontal(|ui| {
        ui.colored_label(egui_colour(status.colour()), "■");
        match status {
            HealthStatus::Zone(zone) => {
                ui.strong(format!("Zone {} — {}", zone.letter(), zone.meaning()))
            }
            HealthStatus::Stale => ui.strong(format!(
                "Stale: no vibration data for more than {} s",
                STALE_AFTER.as_secs()
            )),
            HealthStatus::NoData => ui.strong("No vibration data yet"),
        };
    });
    ui.small(format!(
        "ISO 20816-3 group {}, {:?} support: A ≤ {} · B ≤ {} · C ≤ {} mm/s · D above",
        u8::from(asset.iso.group),
        asset.iso.support,
        boundaries.ab,
        boundaries.bc,
        boundaries.cd
    ));
    ui.separator();
    ui.heading("Sensors");
    for sensor in &asset.sensors {
        let state = health.and_then(|h| h.sensors.get(&sensor.id));
        ui.group(|ui| {
            ui.strong(format!("{} — {}", sensor.id, sensor.mount));
            let value = state.and_then(|s| s.value);
            match (sensor.kind, value) {
                (SensorKind::Vibration, Some(v)) => {
                    let zone = state.and_then(|s| s.zone).map_or("?", |z| z.letter());
                    ui.label(format!("velocity {v:.2} mm/s r.m.s., zone {zone}"));
                    if let Some(rpm) = state.and_then(|s| s.shaft_rpm) {
                        ui.small(format!("at {rpm:.0} rpm"));
                    }
                }
                (_, Some(v)) => {
                    ui.label(format!("{v:.2} {}", sensor.unit));
                }
                (_, None) => {
                    ui.weak("no reading yet");
                }
            }
            if let Some(at) = state.and_then(|s| s.updated_at) {
                ui.small(age_label(now - at));
            }
            if let Some(problem) = state.and_then(|s| s.problem.as_ref()) {
                ui.colored_label(egui::Color32::from_rgb(230, 150, 60), problem);
            }
            if let Some(bearing) = &sensor.bearing {
                let f = bearing.defect_frequencies(f64::from(sensor.shaft_rpm(asset)));
                ui.small(format!(
                    "bearing {}: BPFO {:.1} · BPFI {:.1} · BSF {:.1} · FTF {:.1} Hz",
                    bearing.designation, f.bpfo, f.bpfi, f.bsf, f.ftf
                ));
            }
            if let Some(state) = state {
                if sensor.kind == SensorKind::Vibration {
                    let worst = health.is_some_and(|h| {
                        h.status != HealthStatus::NoData
                            && state.zone.is_some()
                            && h.sensors.values().filter_map(|s| s.zone).max() == state.zone
                    });
                    egui::CollapsingHeader::new("Inspector: why, spectra, trends")
                        .id_salt(("inspector", &sensor.id))
                        .default_open(worst)
                        .show(ui, |ui| {
                            inspector::sensor_inspector(ui, asset, sensor, state);
                        });
                } else {
                    inspector::scalar_trend(ui, sensor, state);
                }
            }
        });
    }
    close
}

/// Asset ids floating over the 3D view, in their health colour.
fn labels(
    ctx: &egui::Context,
    screen: &ScreenPositions,
    health: &LineHealth,
    viewport: egui::Rect,
) {
    let painter = ctx
        .layer_painter(egui::LayerId::new(
            egui::Order::Background,
            egui::Id::new("asset-labels"),
        ))
        .with_clip_rect(viewport);
    for (id, (position, _)) in &screen.0 {
        let status = health
            .assets
            .get(id)
            .map_or(HealthStatus::NoData, |a| a.status);
        let at = egui::pos2(position.x, position.y - 28.0);
        let galley = painter.layout_no_wrap(
            id.clone(),
            egui::FontId::proportional(13.0),
            egui::Color32::WHITE,
        );
        let rect = egui::Rect::from_center_size(at, galley.size() + egui::vec2(10.0, 4.0));
        painter.rect_filled(rect, 3.0, egui::Color32::from_black_alpha(170));
        painter.rect_stroke(
            rect,
            3.0,
            egui::Stroke::new(1.5, egui_colour(status.colour())),
            egui::StrokeKind::Inside,
        );
        painter.galley(
            rect.min + egui::vec2(5.0, 2.0),
            galley,
            egui::Color32::WHITE,
        );
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
