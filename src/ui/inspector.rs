//! The inspector of a vibration sensor (bevy_egui + egui_plot): why it has
//! its colour, the waveform, the velocity spectrum with the ISO band, the
//! envelope spectrum with bearing defect markers, and trends.

use bevy_egui::egui;
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints, VLine};
use linetwin_core::diagnosis::PlotSpectrum;
use linetwin_core::iso;
use linetwin_core::line::{Asset, Sensor};

use linetwin_twin::history::HistoryPoint;
use linetwin_twin::{SensorView, Twin};

use super::time_axis::{axis_name, format_data_time};
use crate::diagnosis::Inspected;

/// How far back the trend plots look, data seconds.
const TREND_SPAN_S: f64 = 2.0 * 3600.0;
/// Trend plots ask the history for about this many points.
const TREND_POINTS: f64 = 600.0;

const PLOT_HEIGHT: f32 = 110.0;
/// Plots draw at most this many points: more only costs frame time.
const MAX_POINTS: usize = 1500;

/// Keeps every `step`-th point's extreme so peaks survive thinning.
pub fn thin(values: &[f32], x_of: impl Fn(usize) -> f64, max_points: usize) -> Vec<[f64; 2]> {
    if values.len() <= max_points {
        return values
            .iter()
            .enumerate()
            .map(|(i, v)| [x_of(i), f64::from(*v)])
            .collect();
    }
    let step = values.len().div_ceil(max_points);
    values
        .chunks(step)
        .enumerate()
        .map(|(c, chunk)| {
            let (offset, peak) = chunk
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map_or((0, 0.0), |(i, v)| (i, *v));
            [x_of(c * step + offset), f64::from(peak)]
        })
        .collect()
}

fn spectrum_points(spectrum: &PlotSpectrum, max_hz: f64) -> Vec<[f64; 2]> {
    let bins = ((max_hz / spectrum.bin_hz.max(1e-9)) as usize + 1).min(spectrum.values.len());
    thin(
        &spectrum.values[..bins],
        |k| k as f64 * spectrum.bin_hz,
        MAX_POINTS,
    )
}

/// Markers for the bearing defect frequencies and their first harmonics.
pub fn defect_markers(
    diagnosis: &linetwin_core::diagnosis::Diagnosis,
    max_hz: f64,
) -> Vec<(String, f64, egui::Color32)> {
    let Some(f) = diagnosis.defect_frequencies else {
        return Vec::new();
    };
    let families = [
        ("BPFO", f.bpfo, egui::Color32::from_rgb(240, 90, 80)),
        ("BPFI", f.bpfi, egui::Color32::from_rgb(90, 170, 250)),
        ("BSF", f.bsf, egui::Color32::from_rgb(250, 200, 70)),
        ("FTF", f.ftf, egui::Color32::from_rgb(170, 120, 250)),
    ];
    let mut markers = Vec::new();
    for (name, base, colour) in families {
        for harmonic in 1..=3 {
            let hz = base * f64::from(harmonic);
            if base > 0.0 && hz <= max_hz {
                markers.push((format!("{harmonic}×{name}"), hz, colour));
            }
        }
    }
    markers
}

pub fn sensor_inspector(
    ui: &mut egui::Ui,
    asset: &Asset,
    sensor: &Sensor,
    state: &SensorView,
    inspected: Option<&Inspected>,
    twin: &Twin,
    cursor: Option<f64>,
) {
    let Some(diagnosis) = state.diagnosis.as_ref() else {
        ui.weak("No waveform diagnosed yet.");
        return;
    };
    ui.label(egui::RichText::new("Why this colour").strong());
    ui.label(format!(
        "Diagnosis: {} (confidence {:.0} %), NE 107: {}{}",
        diagnosis.verdict.label(),
        diagnosis.confidence * 100.0,
        diagnosis.health.label(),
        diagnosis
            .score
            .map_or(String::new(), |s| format!(", score {s:.0}/100"))
    ));
    for reason in &diagnosis.reasons {
        ui.small(format!("• {reason}"));
    }
    if state.baseline.value_mm_s.is_none() {
        ui.small(format!(
            "• baseline: learning from its first {} blocks ({} to go)",
            linetwin_twin::baseline::BASELINE_BLOCKS,
            state.baseline.blocks_to_go()
        ));
    }
    if let (Some(baseline), Some(limit)) = (state.baseline.value_mm_s, state.baseline_limit_mm_s) {
        let learned = match &state.baseline.commissioned_by {
            Some(by) => format!("learned afresh for {by}"),
            None => "median of its first blocks".to_owned(),
        };
        ui.small(format!(
            "• baseline {baseline:.2} mm/s ({learned}, {} blocks); ISO 20816-3 baseline-change limit {limit:.2} mm/s",
            linetwin_twin::baseline::BASELINE_BLOCKS
        ));
    }
    if let Some(ind) = &diagnosis.indicators {
        ui.small(format!(
            "r.m.s. {:.3} g · peak {:.2} g · crest {:.1} · kurtosis {:.1}",
            ind.rms_g, ind.peak_g, ind.crest_factor, ind.kurtosis
        ));
    }

    let clock = twin.clock().kind;
    if let Some(inspected) = inspected {
        ui.label(
            egui::RichText::new(format!(
                "Waveform (g), block at {}",
                format_data_time(inspected.t_start, clock)
            ))
            .strong(),
        );
        let waveform = &inspected.waveform;
        let rate = inspected.sample_rate_hz.max(1.0);
        let points = thin(waveform, |i| i as f64 / rate, MAX_POINTS);
        Plot::new(("waveform", &sensor.id))
            .height(PLOT_HEIGHT)
            .x_axis_label("s into the block")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(Line::new("acceleration", PlotPoints::from(points)));
            });
    }

    if let Some(spectra) = inspected.map(|i| &i.spectra) {
        let low = iso::band_low_hz(
            state
                .shaft_rpm
                .unwrap_or(f64::from(sensor.shaft_rpm(asset))),
        );
        ui.label(
            egui::RichText::new("Velocity spectrum (mm/s r.m.s.), ISO band between the grey lines")
                .strong(),
        );
        let velocity = spectrum_points(&spectra.velocity, 1200.0);
        Plot::new(("velocity", &sensor.id))
            .height(PLOT_HEIGHT)
            .x_axis_label("Hz")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(Line::new("velocity", PlotPoints::from(velocity)));
                plot.vline(VLine::new("ISO band", low).color(egui::Color32::from_gray(160)));
                plot.vline(
                    VLine::new("ISO band", iso::BAND_HIGH_HZ).color(egui::Color32::from_gray(160)),
                );
            });

        let max_hz = diagnosis
            .defect_frequencies
            .map_or(500.0, |f| (f.bpfi * 3.3).max(f.bpfo * 3.3))
            .min(spectra.envelope.bin_hz * spectra.envelope.values.len() as f64);
        let band = diagnosis.envelope_band.as_ref().map_or(String::new(), |b| {
            format!(" of the {:.0}–{:.0} Hz band", b.low_hz, b.high_hz)
        });
        ui.label(
            egui::RichText::new(format!(
                "Envelope spectrum{band}, defect frequencies marked"
            ))
            .strong(),
        );
        let envelope = spectrum_points(&spectra.envelope, max_hz);
        let markers = defect_markers(diagnosis, max_hz);
        Plot::new(("envelope", &sensor.id))
            .height(PLOT_HEIGHT * 1.3)
            .x_axis_label("Hz")
            .legend(Legend::default())
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new("envelope", PlotPoints::from(envelope))
                        .color(egui::Color32::LIGHT_GRAY),
                );
                for (name, hz, colour) in markers {
                    let family = name.split('×').nth(1).unwrap_or(&name).to_owned();
                    plot.vline(VLine::new(family, hz).color(colour.gamma_multiply(0.8)));
                }
            });
    }

    trend_plot(
        ui,
        twin,
        &sensor.id,
        ("velocity_mm_s", "velocity mm/s"),
        Some(("kurtosis", "kurtosis")),
        cursor,
    );
}

/// Trend of a scalar sensor (temperature, current...).
pub fn scalar_trend(ui: &mut egui::Ui, sensor: &Sensor, twin: &Twin, cursor: Option<f64>) {
    trend_plot(
        ui,
        twin,
        &sensor.id,
        ("value", sensor.unit.as_str()),
        None,
        cursor,
    );
}

fn mean_points(points: &[HistoryPoint]) -> Vec<[f64; 2]> {
    points
        .iter()
        .map(|p| [(p.t + p.t_end) / 2.0, f64::from(p.mean)])
        .collect()
}

/// A trend from the history store, on the data's own clock; the
/// timeline's cursor, when in the past, is marked (and kept in view).
fn trend_plot(
    ui: &mut egui::Ui,
    twin: &Twin,
    sensor: &str,
    (field, name): (&str, &str),
    second: Option<(&str, &str)>,
    cursor: Option<f64>,
) {
    let Some(latest) = twin.data_time() else {
        return;
    };
    let now = match cursor {
        Some(t) if t < latest - TREND_SPAN_S => (t + TREND_SPAN_S / 2.0).min(latest),
        _ => latest,
    };
    let from = now - TREND_SPAN_S;
    let resolution = TREND_SPAN_S / TREND_POINTS;
    let history = twin.history();
    let Some(main) = history.query(sensor, field, from, now, resolution) else {
        return;
    };
    if main.len() < 2 {
        return;
    }
    let second =
        second.and_then(|(f, n)| Some((n, history.query(sensor, f, from, now, resolution)?)));
    let clock = twin.clock().kind;
    ui.label(
        egui::RichText::new(format!(
            "Trend: {name}{}",
            second
                .as_ref()
                .map_or(String::new(), |(n, _)| format!(" and {n}"))
        ))
        .strong(),
    );
    Plot::new(("trend", sensor))
        .height(PLOT_HEIGHT)
        .x_axis_label(axis_name(clock))
        .x_axis_formatter(move |mark, _| format_data_time(mark.value, clock))
        .label_formatter(move |hover| match hover {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n{} · {:.2}",
                format_data_time(position.x, clock),
                position.y
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new(
                name.to_owned(),
                PlotPoints::from(mean_points(&main)),
            ));
            if let Some((n, points)) = &second {
                plot.line(Line::new(
                    (*n).to_owned(),
                    PlotPoints::from(mean_points(points)),
                ));
            }
            if let Some(t) = cursor {
                plot.vline(
                    VLine::new("timeline cursor", t)
                        .color(super::timeline_bar::PAST)
                        .width(2.0),
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::thin;

    #[test]
    fn thinning_keeps_peaks_and_bounds_points() {
        let mut values = vec![0.0f32; 10_000];
        values[5_003] = -7.0;
        let points = thin(&values, |i| i as f64, 500);
        assert!(points.len() <= 500);
        assert!(points.iter().any(|p| p[1] == -7.0 && p[0] == 5_003.0));
        assert_eq!(thin(&values[..10], |i| i as f64, 500).len(), 10);
    }
}
