//! The kiosk's screen: a banner readable from three metres (how many assets
//! in each state, the worst ones, the stream's health and the data's age),
//! the tour's caption, and a calm line when all is well. No editing
//! controls. The banner shifts by a few pixels every minute so that it does
//! not burn into a screen left on for weeks.

use bevy_egui::egui;
use linetwin_core::iso::Zone;
use linetwin_core::line::Line;
use linetwin_twin::attention::TourStop;
use linetwin_twin::{AssetStatus, Twin};

use super::egui_colour;
use super::status_bar::connection_text;
use crate::colours::status_colour;
use crate::kiosk::Kiosk;
use crate::stream::ConnectionState;

const BIG: f32 = 30.0;
const MEDIUM: f32 = 22.0;

pub struct KioskSources<'a> {
    pub line: &'a Line,
    pub twin: Option<&'a Twin>,
    pub connection: &'a ConnectionState,
    pub kiosk: &'a Kiosk,
}

/// Draws the banner and the caption; returns the rect left for the scene.
pub fn show(root: &mut egui::Ui, s: &KioskSources) -> egui::Rect {
    let shift = ((s.kiosk.wall_s / 60.0) as i64 % 5) as f32 * 2.0;
    egui::Panel::top("kiosk-banner").show(root, |ui| {
        ui.add_space(4.0 + shift);
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(&s.line.name).size(BIG).strong());
            ui.add_space(24.0);
            let counts = &s.kiosk.counts;
            for (status, n, word) in [
                (AssetStatus::Level(Zone::A), counts.a, "A"),
                (AssetStatus::Level(Zone::B), counts.b, "B"),
                (AssetStatus::Level(Zone::C), counts.c, "C"),
                (AssetStatus::Level(Zone::D), counts.d, "D"),
                (AssetStatus::Stale, counts.stale, "stale"),
                (AssetStatus::NoData, counts.none, "no data yet"),
            ] {
                if n == 0 && matches!(status, AssetStatus::Stale | AssetStatus::NoData) {
                    continue;
                }
                ui.label(
                    egui::RichText::new(format!("■ {n} {word}"))
                        .size(BIG)
                        .color(egui_colour(status_colour(status))),
                );
                ui.add_space(10.0);
            }
            ui.add_space(24.0);
            let (colour, text) = connection_text(s.connection);
            let age = s
                .twin
                .and_then(|t| Some(t.now()? - t.data_time()?))
                .filter(|age| *age >= 1.0)
                .map_or(String::new(), |age| format!(" · data {age:.0} s old"));
            ui.label(
                egui::RichText::new(format!("{text}{age}"))
                    .size(MEDIUM)
                    .color(colour),
            );
        });
        for attention in s.kiosk.attention.iter().take(3) {
            ui.label(
                egui::RichText::new(format!(
                    "■ {} {} — {}",
                    attention.asset,
                    attention.status.label(),
                    attention.why
                ))
                .size(MEDIUM)
                .color(egui_colour(status_colour(attention.status))),
            );
        }
        ui.add_space(4.0);
    });
    egui::Panel::bottom("kiosk-caption").show(root, |ui| {
        ui.add_space(6.0);
        match s.kiosk.tour.stop() {
            TourStop::Asset(id) => {
                let name = s.line.asset(id).map_or("", |a| a.name.as_str());
                let status = s.twin.map_or(AssetStatus::NoData, |t| t.status(id));
                let why = s
                    .kiosk
                    .attention
                    .iter()
                    .find(|a| &a.asset == id)
                    .map_or("", |a| a.why.as_str());
                ui.label(
                    egui::RichText::new(format!("{id} · {name} — {}", status.label()))
                        .size(BIG)
                        .strong()
                        .color(egui_colour(status_colour(status))),
                );
                ui.label(egui::RichText::new(why).size(MEDIUM));
            }
            TourStop::Overview if s.kiosk.attention.is_empty() && s.kiosk.counts.none > 0 => {
                ui.label(
                    egui::RichText::new(format!(
                        "Waiting for the first data from {} of {} assets",
                        s.kiosk.counts.none,
                        s.line.assets.len()
                    ))
                    .size(BIG),
                );
            }
            TourStop::Overview if s.kiosk.attention.is_empty() => {
                ui.label(
                    egui::RichText::new(format!("All {} assets are healthy", s.line.assets.len()))
                        .size(BIG)
                        .color(egui_colour(status_colour(AssetStatus::Level(Zone::A)))),
                );
            }
            TourStop::Overview => {
                let n = s.kiosk.attention.len();
                ui.label(
                    egui::RichText::new(format!(
                        "Overview — {n} asset{} need{} attention",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "s" } else { "" }
                    ))
                    .size(BIG),
                );
            }
        }
        ui.add_space(6.0 + shift);
    });
    root.available_rect_before_wrap()
}
