//! The timeline bar under the 3D view: the history's span with its alarms
//! and captions marked, the cursor, and the way back to live. In the past
//! the bar is amber and a banner over the scene says so, so that past and
//! live cannot be confused.

use bevy_egui::egui;
use linetwin_core::iso::Zone;
use linetwin_core::protocol::Clock;
use linetwin_twin::Severity;

use super::egui_colour;
use super::time_axis::format_data_time;
use crate::colours::zone_colour;
use crate::timeline::{CaptionLog, TimeCursor};

/// The colour of the past, everywhere it is shown.
pub const PAST: egui::Color32 = egui::Color32::from_rgb(196, 120, 0);

/// What the user asked of the bar: `Some(None)` live, `Some(Some(t))` a time.
pub type SeekRequest = Option<Option<f64>>;

pub fn show(
    ui: &mut egui::Ui,
    cursor: &TimeCursor,
    captions: &CaptionLog,
    now: Option<f64>,
    clock: Option<Clock>,
) -> SeekRequest {
    let mut request = None;
    let Some((from, to)) = cursor.span else {
        ui.label("Timeline: no history yet");
        return None;
    };
    ui.horizontal_wrapped(|ui| {
        if let Some(t) = cursor.at {
            if ui
                .add(
                    egui::Button::new(
                        egui::RichText::new("⏵ Back to live")
                            .strong()
                            .color(egui::Color32::BLACK),
                    )
                    .fill(PAST)
                    .min_size(egui::vec2(120.0, 32.0)),
                )
                .clicked()
            {
                request = Some(None);
            }
            let behind = now.map_or(String::new(), |now| {
                format!(
                    " · {} before live",
                    super::age_label(now - t).trim_end_matches(" ago")
                )
            });
            ui.colored_label(
                PAST,
                egui::RichText::new(format!("PAST {}{behind}", format_data_time(t, clock)))
                    .strong(),
            );
        } else {
            ui.add(
                egui::Button::new(
                    egui::RichText::new("LIVE")
                        .strong()
                        .color(egui::Color32::from_rgb(60, 200, 90)),
                )
                .min_size(egui::vec2(80.0, 32.0)),
            )
            .on_hover_text("Click or drag on the timeline to look back");
        }
        let width = ui.available_width().max(120.0);
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(width - 8.0, 32.0), egui::Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        let fill = if cursor.is_past() {
            egui::Color32::from_rgb(70, 45, 0)
        } else {
            egui::Color32::from_gray(40)
        };
        painter.rect_filled(rect, 3.0, fill);
        let span = (to - from).max(1e-6);
        let x_of = |t: f64| rect.left() + ((t - from) / span).clamp(0.0, 1.0) as f32 * rect.width();
        let t_of =
            |x: f32| from + f64::from((x - rect.left()) / rect.width()).clamp(0.0, 1.0) * span;
        for mark in &cursor.alarms {
            let shown_as = match mark.severity {
                Severity::Advisory => Zone::B,
                Severity::Warning => Zone::C,
                Severity::Critical => Zone::D,
            };
            let x = x_of(mark.t);
            painter.line_segment(
                [
                    egui::pos2(x, rect.top() + 2.0),
                    egui::pos2(x, rect.bottom() - 12.0),
                ],
                egui::Stroke::new(3.0, egui_colour(zone_colour(shown_as))),
            );
        }
        for (t, _) in &captions.0 {
            let x = x_of(*t);
            let y = rect.bottom() - 6.0;
            painter.add(egui::Shape::convex_polygon(
                vec![
                    egui::pos2(x, y - 5.0),
                    egui::pos2(x + 4.0, y + 3.0),
                    egui::pos2(x - 4.0, y + 3.0),
                ],
                egui::Color32::WHITE,
                egui::Stroke::NONE,
            ));
        }
        painter.text(
            rect.left_top() + egui::vec2(4.0, 2.0),
            egui::Align2::LEFT_TOP,
            format_data_time(from, clock),
            egui::FontId::proportional(11.0),
            egui::Color32::from_gray(170),
        );
        painter.text(
            rect.right_top() + egui::vec2(-4.0, 2.0),
            egui::Align2::RIGHT_TOP,
            format_data_time(to, clock),
            egui::FontId::proportional(11.0),
            egui::Color32::from_gray(170),
        );
        if let Some(t) = cursor.at {
            let x = x_of(t);
            painter.line_segment(
                [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
                egui::Stroke::new(3.0, PAST),
            );
        }
        if let Some(pointer) = response.hover_pos() {
            let t = t_of(pointer.x);
            let near: Vec<String> = cursor
                .alarms
                .iter()
                .filter(|m| (x_of(m.t) - pointer.x).abs() < 4.0)
                .map(|m| format!("{} {}", m.severity.label(), m.asset))
                .chain(
                    captions
                        .0
                        .iter()
                        .filter(|(c, _)| (x_of(*c) - pointer.x).abs() < 4.0)
                        .map(|(_, text)| text.clone()),
                )
                .collect();
            let text = std::iter::once(format_data_time(t, clock))
                .chain(near)
                .collect::<Vec<_>>()
                .join("\n");
            response.clone().on_hover_text_at_pointer(text);
        }
        if (response.clicked() || response.dragged())
            && let Some(pointer) = response.interact_pointer_pos()
        {
            // The right end is live: a click there goes back to it.
            request = Some((pointer.x < rect.right() - 6.0).then(|| t_of(pointer.x)));
        }
    });
    request
}

/// Over the 3D view while in the past.
pub fn past_banner(ctx: &egui::Context, t: f64, clock: Option<Clock>, viewport: egui::Rect) {
    egui::Area::new("past-banner".into())
        .fixed_pos(egui::pos2(viewport.left() + 12.0, viewport.top() + 48.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(PAST)
                .inner_margin(8.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.colored_label(
                        egui::Color32::BLACK,
                        egui::RichText::new(format!(
                            "PAST — the line as it was at {}: not live data",
                            format_data_time(t, clock)
                        ))
                        .strong()
                        .size(16.0),
                    );
                });
        });
}
