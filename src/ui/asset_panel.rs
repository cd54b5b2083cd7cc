//! The asset list with the colour legend, and the details of one asset.

use bevy_egui::egui;
use linetwin_core::iso;
use linetwin_core::line::{Asset, Line, SensorKind};
use linetwin_twin::timeline::Moment;
use linetwin_twin::{AssetStatus, Twin};

use super::what_if_panel::format_hours;
use super::{age_label, egui_colour, inspector};
use crate::colours::status_colour;
use crate::diagnosis::Inspection;
use crate::selection::Selection;
use linetwin_forecast::rul::DegradationState;
use linetwin_twin::prognosis::AssetPrognosis;

/// The assets, as they are or (`past`) as they were at the timeline's cursor.
pub fn asset_list(
    ui: &mut egui::Ui,
    line: &Line,
    twin: Option<&Twin>,
    past: Option<&Moment>,
    selection: &mut Selection,
) {
    match past {
        Some(moment) => ui.heading(
            egui::RichText::new(format!(
                "Assets at {}",
                super::time_axis::format_data_time(moment.t, twin.and_then(|t| t.clock().kind))
            ))
            .color(super::timeline_bar::PAST),
        ),
        None => ui.heading("Assets"),
    };
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() * 0.6)
        .show(ui, |ui| {
            for asset in &line.assets {
                let (status, velocity) = match past {
                    Some(moment) => (
                        moment.status(&asset.id),
                        moment.assets.get(&asset.id).and_then(|a| a.velocity_mm_s),
                    ),
                    None => (
                        twin.map_or(AssetStatus::NoData, |t| t.status(&asset.id)),
                        twin.and_then(|t| t.asset(&asset.id))
                            .and_then(|a| a.worst_velocity()),
                    ),
                };
                let selected = selection.0.as_deref() == Some(asset.id.as_str());
                ui.horizontal(|ui| {
                    ui.colored_label(egui_colour(status_colour(status)), "■");
                    let text = match (status, velocity) {
                        (AssetStatus::Level(_), Some(v)) => {
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

pub fn legend(ui: &mut egui::Ui) {
    ui.heading("Colours");
    ui.label("The worse of two judgements, computed in this browser: vibration velocity r.m.s. (10–1000 Hz) against the ISO 20816-3 zones of the machine's group and support, and the fault diagnosis (a bearing or shaft fault means at least C):");
    for (status, meaning) in [
        (AssetStatus::Level(iso::Zone::A), "A — as new"),
        (AssetStatus::Level(iso::Zone::B), "B — acceptable long-term"),
        (
            AssetStatus::Level(iso::Zone::C),
            "C — unsatisfactory: plan maintenance",
        ),
        (
            AssetStatus::Level(iso::Zone::D),
            "D — severe: risk of damage",
        ),
        (
            AssetStatus::NoData,
            "grey — no data, or none for 15 s of data time",
        ),
    ] {
        ui.horizontal(|ui| {
            ui.colored_label(egui_colour(status_colour(status)), "■");
            ui.label(meaning);
        });
    }
    ui.small("Drag: orbit · right-drag: pan · wheel/pinch: zoom · click: details · Esc: close");
}

/// The sensor's baseline in a line, and the button that has it learned
/// afresh after maintenance (the gateway records it and tells every viewer).
fn baseline_row(
    ui: &mut egui::Ui,
    sensor: &str,
    view: &linetwin_twin::SensorView,
    requests: &mut crate::access::Offers,
) {
    ui.horizontal(|ui| {
        let baseline = &view.baseline;
        let text = match (baseline.value_mm_s, baseline.commissioned_by.as_deref()) {
            (Some(v), Some(by)) => format!("baseline {v:.2} mm/s, learned afresh for {by}"),
            (Some(v), None) => format!("baseline {v:.2} mm/s"),
            (None, Some(by)) => format!(
                "baseline: learning afresh for {by} ({} blocks to go)",
                baseline.blocks_to_go()
            ),
            (None, None) => format!("baseline: learning ({} blocks to go)", baseline.blocks_to_go()),
        };
        ui.small(text);
        let relearn = crate::gateway_record::RecordRequest::RelearnBaseline(sensor.to_owned());
        if requests.offers(&relearn)
            && ui
                .small_button("Learn afresh")
            .on_hover_text(
                "After maintenance: the next blocks become this machine's normal level (ISO 20816-3 baseline), for every viewer and the gateway",
            )
            .clicked()
        {
            requests.push(relearn);
        }
    });
}

/// Returns true when the user closed the panel.
#[allow(clippy::too_many_arguments)]
pub fn details(
    ui: &mut egui::Ui,
    asset: &Asset,
    twin: &Twin,
    inspection: &Inspection,
    prognosis: Option<&AssetPrognosis>,
    accuracy: Option<&crate::track_record::ModelAccuracy>,
    past: Option<&Moment>,
    requests: &mut crate::access::Offers,
) -> bool {
    let mut close = false;
    let now = twin.now().unwrap_or(0.0);
    let state = twin.asset(&asset.id);
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
    if let Some(moment) = past {
        let then = moment.assets.get(&asset.id);
        ui.group(|ui| {
            ui.colored_label(
                super::timeline_bar::PAST,
                egui::RichText::new(format!(
                    "At {}: {}",
                    super::time_axis::format_data_time(moment.t, twin.clock().kind),
                    moment.status(&asset.id).label()
                ))
                .strong(),
            );
            if let Some(then) = then {
                ui.label(&then.why);
            }
            ui.small("Below: the latest data, with the moment marked on the trends.");
        });
    }
    let status = twin.status(&asset.id);
    let boundaries = iso::boundaries(asset.iso.group, asset.iso.support);
    ui.horizontal(|ui| {
        ui.colored_label(egui_colour(status_colour(status)), "■");
        match status {
            AssetStatus::Level(zone) => {
                ui.strong(format!("Zone {} — {}", zone.letter(), zone.meaning()))
            }
            AssetStatus::Stale => match state
                .and_then(|s| s.offline_reason(now, twin.config().stale_after_s))
            {
                Some(reason) => ui.strong(format!("Stale: {reason}")),
                None => ui.strong(format!(
                    "Stale: no vibration or temperature data for more than {:.0} s of data time",
                    twin.config().stale_after_s
                )),
            },
            AssetStatus::NoData => ui.strong("No data yet"),
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
    if let Some(p) = prognosis {
        remaining_life(ui, p);
    }
    if let Some(accuracy) = accuracy {
        super::track_record_panel::asset_section(ui, &asset.id, accuracy, twin.clock().kind);
    }
    ui.separator();
    ui.heading("Sensors");
    let worst = state
        .and_then(|s| s.worst_sensor())
        .map(|(id, _)| id.clone());
    for sensor in &asset.sensors {
        let view = state.and_then(|s| s.sensors.get(&sensor.id));
        ui.group(|ui| {
            ui.strong(format!("{} — {}", sensor.id, sensor.mount));
            match (sensor.kind, view.and_then(|v| v.value)) {
                (SensorKind::Vibration, Some(v)) => {
                    let zone = view.and_then(|s| s.level).map_or("?", |z| z.letter());
                    ui.label(format!("velocity {v:.2} mm/s r.m.s., zone {zone}"));
                    if let Some(rpm) = view.and_then(|s| s.shaft_rpm) {
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
            if let Some(at) = view.and_then(|s| s.last_t) {
                ui.small(age_label(now - at));
            }
            if let Some(gone) = view.and_then(|s| s.offline.as_ref()) {
                ui.colored_label(
                    egui::Color32::from_gray(150),
                    format!("{} — its data stopped", gone.reason),
                );
            }
            if let Some(problem) = view.and_then(|s| s.problem.as_ref()) {
                ui.colored_label(egui::Color32::from_rgb(230, 150, 60), problem);
            }
            if let Some(bearing) = &sensor.bearing {
                let f = bearing.defect_frequencies(f64::from(sensor.shaft_rpm(asset)));
                ui.small(format!(
                    "bearing {}: BPFO {:.1} · BPFI {:.1} · BSF {:.1} · FTF {:.1} Hz",
                    bearing.designation, f.bpfo, f.bpfi, f.bsf, f.ftf
                ));
            }
            if let Some(view) = view {
                if sensor.kind == SensorKind::Vibration {
                    if past.is_none() {
                        baseline_row(ui, &sensor.id, view, requests);
                    }
                    egui::CollapsingHeader::new("Inspector: why, spectra, trends")
                        .id_salt(("inspector", &sensor.id))
                        .default_open(worst.as_deref() == Some(sensor.id.as_str()))
                        .show(ui, |ui| {
                            inspector::sensor_inspector(
                                ui,
                                asset,
                                sensor,
                                view,
                                inspection.0.get(&sensor.id),
                                twin,
                                past.map(|m| m.t),
                            );
                        });
                } else {
                    inspector::scalar_trend(ui, sensor, twin, past.map(|m| m.t));
                }
            }
        });
    }
    close
}

/// Remaining life: by condition (trend or rated life) and by usage.
fn remaining_life(ui: &mut egui::Ui, p: &AssetPrognosis) {
    ui.separator();
    ui.heading("Remaining life");
    let text = format!(
        "{} (10–90 %: {} – {}) · {}",
        format_hours(p.median_h),
        format_hours(p.low_h),
        format_hours(p.high_h),
        p.basis
    );
    if p.state == DegradationState::Degrading {
        ui.colored_label(
            egui::Color32::from_rgb(230, 150, 60),
            egui::RichText::new(text).strong(),
        );
    } else {
        ui.label(text);
    }
    ui.small(&p.evidence);
    if let Some(usage) = &p.usage {
        ui.label(format!(
            "By usage: {} left at {:.0} cycles/h ({:.0} % of {:.0} rated cycles used)",
            usage
                .remaining_h
                .map_or("no wear by usage (counter still)".to_owned(), format_hours),
            usage.rate_per_h,
            100.0 * usage.used_fraction,
            usage.rated_cycles
        ));
    }
}
