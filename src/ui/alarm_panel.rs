//! The alarm list: severity, data age, asset, message, acknowledge; in the
//! past, the alarms as they stood at the timeline's cursor.

use bevy::prelude::*;
use bevy_egui::egui;
use linetwin_core::iso::Zone;
use linetwin_twin::timeline::Moment;
use linetwin_twin::{Severity, Twin};

use super::{age_label, egui_colour};
use crate::access::Offers;
use crate::colours::zone_colour;
use crate::gateway_record::{GatewayRecord, RecordRequest};
use crate::selection::Selection;
use crate::twin_state::AcknowledgeAlarm;

/// What the alarm list sends: acknowledgements, and requests to the record.
pub struct AlarmActions<'a, 'b, 'w> {
    pub acknowledge: &'a mut MessageWriter<'w, AcknowledgeAlarm>,
    pub record: Option<&'a GatewayRecord>,
    pub requests: &'a mut Offers<'b>,
}

pub fn show(
    ui: &mut egui::Ui,
    twin: &Twin,
    selection: &mut Selection,
    actions: AlarmActions,
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
                    && actions
                        .requests
                        .offers(&RecordRequest::Acknowledge(alarm.id))
                    && ui.small_button("Acknowledge").clicked()
                {
                    actions.acknowledge.write(AcknowledgeAlarm(alarm.id));
                }
                if past.is_none()
                    && let Some(record) = actions.record
                {
                    work_order(ui, record, alarm.id, actions.requests);
                }
            });
        }
        if past.is_none()
            && let Some(record) = actions.record
        {
            earlier(ui, twin, record, now, selection, actions.requests);
        }
    });
}

/// The record's episodes this page's twin has not raised itself: from
/// before the page was loaded (or before the gateway restarted).
fn earlier(
    ui: &mut egui::Ui,
    twin: &Twin,
    record: &GatewayRecord,
    now: f64,
    selection: &mut Selection,
    requests: &mut Offers,
) {
    let earlier: Vec<_> = record
        .alarms
        .iter()
        .filter(|a| twin.alarm(a.id).is_none())
        .collect();
    if earlier.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(format!("In the gateway's record ({})", earlier.len()))
        .id_salt("record-alarms")
        .show(ui, |ui| {
            for alarm in earlier {
                ui.horizontal(|ui| {
                    ui.label(format!("■ {}", alarm.severity));
                    ui.label(age_label(now - alarm.raised_at));
                    if ui.link(&alarm.asset).clicked() {
                        selection.0 = Some(alarm.asset.clone());
                    }
                    match alarm.cleared_at {
                        Some(_) => ui.label(format!("{} (cleared)", alarm.message)),
                        None => ui.label(&alarm.message),
                    };
                    match &alarm.acknowledged_by {
                        Some(by) => {
                            ui.weak(format!("acknowledged by {by}"));
                        }
                        None => {
                            let ack = RecordRequest::Acknowledge(alarm.id);
                            if !record.is_waiting(&ack)
                                && requests.offers(&ack)
                                && ui.small_button("Acknowledge").clicked()
                            {
                                requests.push(ack);
                            }
                        }
                    }
                    work_order(ui, record, alarm.id, requests);
                });
            }
        });
}

/// The alarm's work order as the gateway's record has it, or the button
/// that asks for one.
fn work_order(
    ui: &mut egui::Ui,
    record: &GatewayRecord,
    id: linetwin_twin::AlarmId,
    requests: &mut Offers,
) {
    let ask = RecordRequest::AskForMaintenance(id);
    match record.work_orders.get(&id).map(String::as_str) {
        Some("failed") => {
            ui.colored_label(
                egui::Color32::from_rgb(230, 80, 60),
                "work order failed (see /api/work-orders)",
            );
        }
        Some(status) => {
            ui.weak(format!("work order {status}"));
        }
        None if record.is_waiting(&ask) => {
            ui.weak("asking…");
        }
        None if !requests.offers(&ask) => {}
        None => {
            if ui
                .small_button("Ask for maintenance")
                .on_hover_text("The gateway sends a maintenance notification to the CMMS")
                .clicked()
            {
                requests.push(ask);
            }
        }
    }
}
