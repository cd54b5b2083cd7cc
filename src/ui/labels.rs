//! Asset ids floating over the 3D view, framed in their status colour (the
//! predicted one while a forecast is shown, the past one while the timeline
//! is in the past, as the scene is).

use bevy_egui::egui;
use linetwin_twin::timeline::Moment;
use linetwin_twin::{AssetStatus, Twin};

use super::{ScreenPositions, egui_colour};
use crate::colours::status_colour;
use crate::what_if::ForecastView;

pub fn show(
    ctx: &egui::Context,
    screen: &ScreenPositions,
    twin: Option<&Twin>,
    forecast: Option<&ForecastView>,
    past: Option<&Moment>,
    viewport: egui::Rect,
) {
    let painter = ctx
        .layer_painter(egui::LayerId::new(
            egui::Order::Background,
            egui::Id::new("asset-labels"),
        ))
        .with_clip_rect(viewport);
    for (id, (position, _)) in &screen.0 {
        let live = match past {
            Some(moment) => moment.status(id),
            None => twin.map_or(AssetStatus::NoData, |t| t.status(id)),
        };
        let status = forecast.map_or(live, |f| f.shown(id, live));
        // Screen positions are logical pixels; a zoomed screen has fewer points.
        let zoom = ctx.zoom_factor();
        let at = egui::pos2(position.x / zoom, position.y / zoom - 28.0);
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
            egui::Stroke::new(1.5, egui_colour(status_colour(status))),
            egui::StrokeKind::Inside,
        );
        painter.galley(
            rect.min + egui::vec2(5.0, 2.0),
            galley,
            egui::Color32::WHITE,
        );
    }
}
