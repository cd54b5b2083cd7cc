//! The top bar: line, connection, frames, diagnosis throughput and skipping.

use bevy_egui::egui;
use linetwin_core::line::Line;
use linetwin_twin::Twin;

use super::time_axis::format_data_time;
use crate::diagnosis::DiagnosisStats;
use crate::executor::Executor;
use crate::stream::{ConnectionState, StreamStats};

/// Data seconds after a skipped block during which the bar says so.
const SKIPPING_SHOWN_S: f64 = 30.0;

pub struct StatusSources<'a> {
    pub line: Option<&'a Line>,
    pub connection: &'a ConnectionState,
    pub stats: &'a StreamStats,
    pub diagnosis: &'a DiagnosisStats,
    pub executor: Option<&'a Executor>,
    pub twin: Option<&'a Twin>,
    pub notice: Option<&'a str>,
}

const GREEN: egui::Color32 = egui::Color32::from_rgb(60, 190, 90);
const AMBER: egui::Color32 = egui::Color32::from_rgb(230, 190, 60);
const RED: egui::Color32 = egui::Color32::from_rgb(220, 80, 60);
const REPLAY: egui::Color32 = egui::Color32::from_rgb(150, 120, 230);

pub fn connection_text(connection: &ConnectionState) -> (egui::Color32, String) {
    match connection {
        ConnectionState::Connected {
            replay: true,
            time_scale,
            ..
        } => (
            REPLAY,
            format!("REPLAY of a recording (×{time_scale}), not live"),
        ),
        ConnectionState::Connected { time_scale, .. } if *time_scale != 1.0 => {
            (GREEN, format!("live (simulated, ×{time_scale})"))
        }
        ConnectionState::Connected { .. } => (GREEN, "live".to_owned()),
        ConnectionState::Connecting { attempt: 0 } => (AMBER, "connecting…".to_owned()),
        ConnectionState::Connecting { attempt } => {
            (AMBER, format!("connecting (attempt {})…", attempt + 1))
        }
        ConnectionState::Reconnecting {
            retry_in, reason, ..
        } => (
            RED,
            format!(
                "disconnected: {reason}; retrying in {:.0} s",
                retry_in.as_secs_f32().ceil()
            ),
        ),
    }
}

pub fn show(ui: &mut egui::Ui, s: &StatusSources) {
    // Wraps rather than cuts off on a narrow screen.
    ui.horizontal_wrapped(|ui| {
        ui.strong("linetwin");
        if let Some(line) = s.line {
            ui.label(format!("— {}", line.name));
        }
        ui.separator();
        let (colour, text) = connection_text(s.connection);
        ui.colored_label(colour, "■");
        ui.label(text);
        if let Some(t) = s.twin.and_then(Twin::data_time) {
            let clock = s.twin.and_then(|t| t.clock().kind);
            ui.label(format!("data {}", format_data_time(t, clock)));
        }
        ui.separator();
        ui.label(format!("{} frames", s.stats.frames_received));
        if s.stats.frames_rejected > 0 {
            ui.colored_label(
                egui::Color32::from_rgb(230, 150, 60),
                format!("{} rejected", s.stats.frames_rejected),
            )
            .on_hover_text(s.stats.last_rejection.clone().unwrap_or_default());
        }
        ui.separator();
        let executor = s.executor.map_or("inline", Executor::label);
        let diagnosed = ui.label(format!(
            "diagnosis: {executor}, {} blocks",
            s.diagnosis.blocks
        ));
        if let Some(problem) = s.executor.and_then(|e| e.worker_problem.as_deref()) {
            diagnosed.on_hover_text(problem);
        }
        let now = s.twin.and_then(Twin::now);
        if s.diagnosis.skipping(now, SKIPPING_SHOWN_S) {
            ui.colored_label(
                AMBER,
                format!(
                    "skipping blocks ({} so far): diagnosis is behind",
                    s.diagnosis.superseded
                ),
            )
            .on_hover_text(
                "The newest block of each sensor is diagnosed; older ones waiting were dropped.",
            );
        }
        if let Some(text) = s.notice {
            ui.separator();
            ui.colored_label(AMBER, text);
        }
    });
}
