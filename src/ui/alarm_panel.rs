//! The alarm list: severity, data age, asset, message, acknowledge.

use bevy::prelude::*;
use bevy_egui::egui;
use linetwin_core::iso::Zone;
use linetwin_twin::{Severity, Twin};

use super::{age_label, egui_colour};
use crate::colours::zone_colour;
use crate::selection::Selection;
use crate::twin_state::AcknowledgeAlarm;

pub fn show(
    ui: &mut egui::Ui,
    twin: &Twin,
    selection: &mut Selection,
    acknowledge: &mut MessageWriter<AcknowledgeAlarm>,
) {
    let now = twin.now().unwrap_or(0.0);
    ui.horizontal(|ui| {
        ui.heading("Alarms");
        ui.label(format!("{} unacknowledged", twin.unacknowledged()));
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        for alarm in twin.alarms().into_iter().rev() {
            ui.horizontal(|ui| {
                let shown_as = match alarm.severity {
                    Severity::Advisory => Zone::B,
                    Severity::Warning => Zone::C,
                    Severity::Critical => Zone::D,
                };
                ui.colored_label(
                    egui_colour(zone_colour(shown_as)),
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
                let text = if alarm.active() {
                    alarm.message.clone()
                } else {
                    format!("{} (cleared)", alarm.message)
                };
                ui.label(text);
                if !twin.is_acknowledged(alarm.id) && ui.small_button("Acknowledge").clicked() {
                    acknowledge.write(AcknowledgeAlarm(alarm.id));
                }
            });
        }
    });
}
