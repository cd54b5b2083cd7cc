//! "Model accuracy": how the twin's forecasts turned out, in each asset's
//! panel and in a line-wide window (the numbers are
//! `linetwin_twin::track_record`'s; this only lays them out).

use bevy_egui::egui;
use linetwin_core::protocol::Clock;
use linetwin_twin::track_record::{AccuracySummary, Forecast, Outcome};

use super::time_axis::format_data_time;
use super::what_if_panel::format_hours;
use crate::track_record::ModelAccuracy;

/// Forecasts listed in an asset's panel.
const ASSET_ROWS: usize = 8;

/// Whether the line-wide window is open.
#[derive(bevy::prelude::Resource, Debug, Clone, Default)]
pub struct AccuracyWindow {
    pub open: bool,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("—".to_owned(), |r| format!("{:.0} %", 100.0 * r))
}

fn hours(h: Option<f64>) -> String {
    h.map_or("—".to_owned(), format_hours)
}

fn seconds(s: Option<f64>) -> String {
    s.map_or("—".to_owned(), |s| format_hours(s / 3600.0))
}

/// The summary's figures as lines of words.
fn figures(ui: &mut egui::Ui, summary: &AccuracySummary) {
    let rul = &summary.remaining_life;
    ui.label(format!(
        "{} forecasts made, {} open · remaining life: {} resolved by a failure, {} outlived their band, {} censored by maintenance",
        summary.forecasts, summary.open, rul.resolved, rul.outlived, rul.censored
    ));
    ui.label(format!(
        "10–90 % band held: {} ({} of {}; about 80 % for an honest band) · median error {} ({} of the actual)",
        percent(rul.band_coverage),
        rul.in_band,
        rul.resolved + rul.outlived,
        hours(rul.median_abs_error_h),
        percent(rul.median_abs_relative_error),
    ));
    if rul.from_trend_resolved > 0 {
        ui.small(format!(
            "From a degrading trend alone: {} resolved, band held {}, median error {} ({})",
            rul.from_trend_resolved,
            percent(rul.from_trend_band_coverage),
            hours(rul.from_trend_median_abs_error_h),
            percent(rul.from_trend_median_abs_relative_error),
        ));
    }
    let detection = &summary.detection;
    ui.label(format!(
        "Faults found before failure: {} · missed: {} · found, then maintained: {} · median lead time {}",
        detection.found_before_failure,
        detection.missed,
        detection.found_before_maintenance,
        seconds(detection.median_lead_s),
    ));
    if summary.zone.resolved + summary.zone.censored + summary.zone.unknown > 0 {
        ui.label(format!(
            "Zone at a date: {} checked, right {} (Brier {}) · {} censored · {} with no level then",
            summary.zone.resolved,
            percent(summary.zone.hit_rate),
            summary
                .zone
                .mean_brier
                .map_or("—".to_owned(), |b| format!("{b:.2}")),
            summary.zone.censored,
            summary.zone.unknown,
        ));
    }
    if summary.plan.resolved + summary.plan.censored > 0 {
        ui.label(format!(
            "Plan outcomes: {} checked, right {} (Brier {}) · {} censored",
            summary.plan.resolved,
            percent(summary.plan.hit_rate),
            summary
                .plan
                .mean_brier
                .map_or("—".to_owned(), |b| format!("{b:.2}")),
            summary.plan.censored,
        ));
    }
}

/// What became of it, in a few words.
fn outcome_words(f: &Forecast) -> String {
    match &f.outcome {
        Outcome::Open => "open".to_owned(),
        Outcome::Failed {
            actual_h,
            error_h,
            in_band,
            ..
        } => format!(
            "failed after {} ({}, {})",
            format_hours(*actual_h),
            // The median less the actual life: positive, it failed sooner.
            if *error_h > 0.0 {
                format!("{} sooner than the median", format_hours(*error_h))
            } else if *error_h < 0.0 {
                format!("{} later than the median", format_hours(-error_h))
            } else {
                "at the median".to_owned()
            },
            if *in_band { "in band" } else { "outside band" }
        ),
        Outcome::Outlived { lived_h, .. } => {
            format!("outlived its band ({} and on)", format_hours(*lived_h))
        }
        Outcome::Checked {
            actual,
            hit,
            failed,
            ..
        } => format!(
            "{} (then {}{})",
            if *hit { "right" } else { "wrong" },
            actual.map_or("no level", |z| z.letter()),
            if *failed { ", failed" } else { "" }
        ),
        Outcome::Censored { lived_h, .. } => {
            format!("maintained after {} (censored)", format_hours(*lived_h))
        }
        Outcome::Unknown { .. } => "no level at the date".to_owned(),
    }
}

fn forecast_table<'a>(
    ui: &mut egui::Ui,
    id: &str,
    rows: impl Iterator<Item = &'a Forecast>,
    with_asset: bool,
    clock: Option<Clock>,
) {
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        if with_asset {
            ui.strong("asset");
        }
        for heading in ["made", "forecast", "what came"] {
            ui.strong(heading);
        }
        ui.end_row();
        for f in rows {
            if with_asset {
                ui.label(&f.asset);
            }
            ui.label(format_data_time(f.made_at_s, clock));
            ui.label(format!("{}: {}", f.kind.label(), f.kind.describe()));
            ui.label(outcome_words(f));
            ui.end_row();
        }
    });
}

/// The "Model accuracy" section of an asset's panel.
pub fn asset_section(
    ui: &mut egui::Ui,
    asset: &str,
    accuracy: &ModelAccuracy,
    clock: Option<Clock>,
) {
    ui.separator();
    ui.heading("Model accuracy");
    let Some(summary) = accuracy.summary.assets.get(asset) else {
        ui.weak("No forecast of this asset kept yet.");
        return;
    };
    figures(ui, summary);
    if let Some(since) = summary.detection.open_since_s {
        ui.small(format!(
            "A fault flagged since {}: its lead time counts until the failure or the maintenance.",
            format_data_time(since, clock)
        ));
    }
    let forecasts = accuracy.record.forecasts(asset);
    egui::CollapsingHeader::new(format!(
        "Its latest forecasts ({} of {})",
        forecasts.len().min(ASSET_ROWS),
        forecasts.len()
    ))
    .id_salt(("accuracy-forecasts", asset))
    .show(ui, |ui| {
        forecast_table(
            ui,
            &format!("accuracy-{asset}"),
            forecasts.into_iter().take(ASSET_ROWS),
            false,
            clock,
        );
    });
}

/// The line-wide "Model accuracy" window.
pub fn window(
    ctx: &egui::Context,
    window: &mut AccuracyWindow,
    accuracy: &ModelAccuracy,
    clock: Option<Clock>,
) {
    let summary = &accuracy.summary;
    egui::Window::new("Model accuracy")
        .open(&mut window.open)
        .default_width(640.0)
        .default_pos(egui::pos2(320.0, 100.0))
        .vscroll(true)
        .show(ctx, |ui| {
            ui.small("Every forecast the twin made in this viewer, kept with its data time and checked when the future came: a failure (zone D), a maintenance (its open lives censored: neither hit nor miss), or the forecast's date.");
            ui.separator();
            ui.heading("The line");
            figures(ui, &summary.line);
            ui.separator();
            ui.heading("By asset");
            egui::Grid::new("accuracy-assets")
                .striped(true)
                .show(ui, |ui| {
                    for heading in [
                        "asset",
                        "kept",
                        "resolved",
                        "censored",
                        "band held",
                        "median error",
                        "lead time",
                    ] {
                        ui.strong(heading);
                    }
                    ui.end_row();
                    for (asset, s) in &summary.assets {
                        let rul = &s.remaining_life;
                        ui.label(asset);
                        ui.label(s.forecasts.to_string());
                        ui.label((rul.resolved + rul.outlived).to_string());
                        ui.label(rul.censored.to_string());
                        ui.label(percent(rul.band_coverage));
                        ui.label(hours(rul.median_abs_error_h));
                        ui.label(seconds(s.detection.median_lead_s));
                        ui.end_row();
                    }
                });
            ui.separator();
            ui.heading("Latest resolved");
            if summary.recent.is_empty() {
                ui.weak("Nothing resolved yet: no asset has failed, been maintained or reached a forecast's date.");
            } else {
                forecast_table(ui, "accuracy-recent", summary.recent.iter(), true, clock);
            }
        });
}
