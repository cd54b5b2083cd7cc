//! The alarm list: severity, data age, asset, message, acknowledge; in the
//! past, the alarms as they stood at the timeline's cursor.

use bevy::prelude::*;
use bevy_egui::egui;
use linetwin_core::iso::Zone;
use linetwin_twin::timeline::Moment;
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
    past: Option<&Moment>,
) {
    let now = past.map_or(twin.now().unwrap_or(0.0), |m| m.t);
    ui.horizontal(|ui| match past {
        Some(moment) => {
            ui.heading(egui::RichText::new("Alarms then").color(super::timeline_bar::PAST));
            ui.label(format!("{} in force at the cursor", moment.alarms.len()));
        }
        None => {
            ui.heading("Alarms");
            ui.label(format!("{} unacknowledged", twin.unacknowledged()));
        }
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        let shown = twin
            .alarms()
            .into_iter()
            .filter(|a| past.is_none_or(|m| a.raised_at <= m.t));
        for alarm in shown.rev() {
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
                let text = match past {
                    Some(moment) if moment.alarms.contains(&alarm.id) => {
                        format!("{} (in force then)", alarm.message)
                    }
                    Some(_) => format!("{} (cleared by then)", alarm.message),
                    None if alarm.active() => alarm.message.clone(),
                    None => format!("{} (cleared)", alarm.message),
                };
                ui.label(text);
                if let Some(by) = twin.acknowledged_by(alarm.id) {
                    ui.weak(format!("acknowledged by {by}"));
                } else if !twin.is_acknowledged(alarm.id)
                    && ui.small_button("Acknowledge").clicked()
                {
                    acknowledge.write(AcknowledgeAlarm(alarm.id));
                }
            });
        }
    });
}
