//! The what-if window: pick an asset (or the twin's proposal) and an
//! action, run the Monte Carlo in the worker with progress and cancel, and
//! compare the plans: cost and downtime, the recommendation, failure
//! probability by date and the RUL band; then scrub the scene into the
//! future under one plan.

use bevy_egui::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};
use linetwin_core::line::Line as PlantLine;
use linetwin_forecast::plan::ActionKind;
use linetwin_forecast::rul::DegradationState;

use crate::prognosis::Prognoses;
use crate::what_if::{DEFAULT_PATHS, ForecastView, RunWhatIf, WhatIf, WhatIfStatus};

/// What the window's controls hold between frames.
#[derive(bevy::prelude::Resource, Debug, Clone)]
pub struct WhatIfWindow {
    pub open: bool,
    /// `None`: the twin's proposal.
    pub asset: Option<String>,
    pub action: ActionChoice,
    pub percent: f64,
    /// A date of the user's own, days from now.
    pub own_day: Option<f64>,
    pub forecast_on: bool,
    pub forecast_day: f64,
    pub forecast_plan: usize,
}

impl Default for WhatIfWindow {
    fn default() -> Self {
        WhatIfWindow {
            open: false,
            asset: None,
            action: ActionChoice::Replace,
            percent: 20.0,
            own_day: None,
            forecast_on: false,
            forecast_day: 30.0,
            forecast_plan: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionChoice {
    Replace,
    Lubricate,
    Realign,
    ReduceSpeed,
    ReduceLoad,
    RunToFailure,
}

impl ActionChoice {
    const ALL: [ActionChoice; 6] = [
        ActionChoice::Replace,
        ActionChoice::Lubricate,
        ActionChoice::Realign,
        ActionChoice::ReduceSpeed,
        ActionChoice::ReduceLoad,
        ActionChoice::RunToFailure,
    ];

    pub fn action(self, percent: f64) -> ActionKind {
        match self {
            ActionChoice::Replace => ActionKind::Replace,
            ActionChoice::Lubricate => ActionKind::Lubricate,
            ActionChoice::Realign => ActionKind::Realign,
            ActionChoice::ReduceSpeed => ActionKind::ReduceSpeed { percent },
            ActionChoice::ReduceLoad => ActionKind::ReduceLoad { percent },
            ActionChoice::RunToFailure => ActionKind::RunToFailure,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ActionChoice::Replace => "replace",
            ActionChoice::Lubricate => "lubricate",
            ActionChoice::Realign => "realign / balance",
            ActionChoice::ReduceSpeed => "reduce speed by…",
            ActionChoice::ReduceLoad => "reduce load by…",
            ActionChoice::RunToFailure => "run to failure",
        }
    }
}

/// A remaining life for a person ("12 min", "41 d").
pub fn format_hours(hours: f64) -> String {
    linetwin_forecast::rul::hours_in_words(hours)
}

pub struct Requests {
    pub run: Option<RunWhatIf>,
    pub cancel: bool,
    /// `Some(None)`: back to live; `Some(Some(..))`: this date and plan.
    pub forecast: Option<Option<(f64, usize)>>,
    /// Send this result's plan to the CMMS.
    pub send_plan: Option<usize>,
}

/// Which plans can be sent, and which were.
pub struct Sending<'a> {
    /// The gateway's record is there to take them.
    pub possible: bool,
    /// Plan names sent, with their event id.
    pub sent: Option<&'a std::collections::BTreeMap<String, String>>,
}

pub fn show(
    ctx: &egui::Context,
    window: &mut WhatIfWindow,
    line: &PlantLine,
    prognoses: &Prognoses,
    what_if: &WhatIf,
    forecast: &ForecastView,
    sending: &Sending,
) -> Requests {
    let mut requests = Requests {
        run: None,
        cancel: false,
        forecast: None,
        send_plan: None,
    };
    let mut open = window.open;
    egui::Window::new("What if…")
        .open(&mut open)
        .default_width(520.0)
        .default_pos(egui::pos2(300.0, 80.0))
        .vscroll(true)
        .show(ctx, |ui| {
            controls(ui, window, line, prognoses, what_if, &mut requests);
            if let WhatIfStatus::Done(outcome) = &what_if.status {
                ui.separator();
                results(ui, outcome, what_if, sending, &mut requests);
                ui.separator();
                forecast_controls(ui, window, outcome, line, &mut requests);
            }
        });
    if window.open && !open && forecast.0.is_some() {
        requests.forecast = Some(None);
    }
    window.open = open;
    requests
}

fn controls(
    ui: &mut egui::Ui,
    window: &mut WhatIfWindow,
    line: &PlantLine,
    prognoses: &Prognoses,
    what_if: &WhatIf,
    requests: &mut Requests,
) {
    let asset_label = |id: &Option<String>| match id {
        None => "the twin's proposal".to_owned(),
        Some(id) => match prognoses.by_asset.get(id) {
            Some(p) if p.state == DegradationState::Degrading => {
                format!("{id} — degrading, {} left", format_hours(p.median_h))
            }
            _ => id.clone(),
        },
    };
    egui::Grid::new("what-if-controls")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Asset");
            egui::ComboBox::from_id_salt("what-if-asset")
                .selected_text(asset_label(&window.asset))
                .width(260.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut window.asset, None, asset_label(&None));
                    for asset in &line.assets {
                        let choice = Some(asset.id.clone());
                        let text = asset_label(&choice);
                        ui.selectable_value(&mut window.asset, choice, text);
                    }
                });
            ui.end_row();
            if window.asset.is_some() {
                ui.label("Action");
                ui.horizontal(|ui| {
                    egui::ComboBox::from_id_salt("what-if-action")
                        .selected_text(window.action.label())
                        .show_ui(ui, |ui| {
                            for choice in ActionChoice::ALL {
                                ui.selectable_value(&mut window.action, choice, choice.label());
                            }
                        });
                    if matches!(
                        window.action,
                        ActionChoice::ReduceSpeed | ActionChoice::ReduceLoad
                    ) {
                        ui.add(
                            egui::DragValue::new(&mut window.percent)
                                .range(1.0..=80.0)
                                .suffix(" %"),
                        );
                    }
                });
                ui.end_row();
            }
        });
    ui.label(match &window.asset {
        Some(id) => format!(
            "Compares doing nothing with “{}” on {id} now, at the next planned stop, and four weeks on; the twin's own proposal runs beside them.",
            window.action.label().trim_end_matches('…')
        ),
        None => "Compares doing nothing with the twin's proposal: each degrading asset at its cost-optimal stop, grouped where sharing a stop pays.".to_owned(),
    });
    ui.horizontal(|ui| match &what_if.status {
        WhatIfStatus::Running { done, total, .. } => {
            let fraction = if *total > 0 {
                *done as f32 / *total as f32
            } else {
                0.0
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(300.0)
                    .text(format!(
                        "simulating {done} of {total} paths (in the worker)"
                    )),
            );
            if ui.button("Cancel").clicked() {
                requests.cancel = true;
            }
        }
        status => {
            if ui.button("▶ Run").clicked() {
                requests.run = Some(RunWhatIf {
                    asset: window.asset.clone(),
                    action: window.action.action(window.percent),
                    day: window.own_day,
                    paths: DEFAULT_PATHS,
                });
            }
            match status {
                WhatIfStatus::Failed(reason) => {
                    ui.colored_label(egui::Color32::from_rgb(220, 80, 60), reason);
                }
                WhatIfStatus::Cancelled => {
                    ui.label("cancelled");
                }
                _ => {}
            }
        }
    });
}

const PLAN_COLOURS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(200, 70, 60),
    egui::Color32::from_rgb(70, 140, 220),
    egui::Color32::from_rgb(60, 170, 90),
    egui::Color32::from_rgb(220, 160, 40),
    egui::Color32::from_rgb(150, 90, 200),
    egui::Color32::from_rgb(120, 120, 120),
];

fn results(
    ui: &mut egui::Ui,
    outcome: &linetwin_jobs::WhatIfOutcome,
    what_if: &WhatIf,
    sending: &Sending,
    requests: &mut Requests,
) {
    let focus = what_if.focus.as_deref();
    if let Some(recommendation) = &outcome.recommendation {
        ui.colored_label(
            egui::Color32::from_rgb(60, 190, 90),
            egui::RichText::new(format!("Recommended: {}", recommendation.reason)).strong(),
        );
    }
    if let Some(proposal) = &outcome.proposal {
        ui.collapsing("Why the twin proposes its plan", |ui| {
            for reason in &proposal.reasons {
                ui.label(format!("• {reason}"));
            }
        });
    }
    let focus_index = |r: &linetwin_forecast::PlanResult| {
        focus.and_then(|f| r.assets.iter().position(|a| a.asset == f))
    };
    egui::Grid::new("what-if-table")
        .striped(true)
        .num_columns(8)
        .show(ui, |ui| {
            for heading in [
                "plan",
                "cost (expected)",
                "cost P90",
                "downtime h",
                "P90 h",
                "failures",
                "life after",
                "",
            ] {
                ui.strong(heading);
            }
            ui.end_row();
            for (i, result) in outcome.results.iter().enumerate() {
                let best = outcome.recommendation.as_ref().is_some_and(|r| r.best == i);
                let name = if best {
                    format!("★ {}", result.plan)
                } else {
                    result.plan.clone()
                };
                ui.colored_label(PLAN_COLOURS[i % PLAN_COLOURS.len()], name);
                ui.label(format!("{:.0}", result.expected_cost));
                ui.label(format!("{:.0}", result.p90_cost));
                ui.label(format!("{:.1}", result.expected_downtime_h));
                ui.label(format!("{:.1}", result.p90_downtime_h));
                match focus_index(result).map(|k| &result.assets[k]) {
                    Some(a) => {
                        ui.label(format!("{:.2}", a.expected_failures));
                        let life = &a.life_after_actions_h;
                        ui.label(format_hours(life.median)).on_hover_text(format!(
                            "time to its next failure after the plan's actions: median {}, 10–90 %: {} – {}",
                            format_hours(life.median),
                            format_hours(life.low),
                            format_hours(life.high)
                        ));
                    }
                    None => {
                        ui.label("");
                        ui.label("");
                    }
                }
                let has_actions = what_if.has_actions(outcome, i);
                match sending.sent.and_then(|s| s.get(&result.plan)) {
                    Some(id) => {
                        ui.weak("sent").on_hover_text(format!("event {id}"));
                    }
                    None if sending.possible && has_actions => {
                        if ui
                            .small_button("Send to CMMS")
                            .on_hover_text("The gateway sends this plan, its dates and these numbers to the CMMS")
                            .clicked()
                        {
                            requests.send_plan = Some(i);
                        }
                    }
                    None => {
                        ui.label("");
                    }
                }
                ui.end_row();
            }
        });
    let Some(focus) = focus else { return };
    ui.label(egui::RichText::new(format!("{focus}: probability of failure by date")).strong());
    Plot::new("what-if-failure-probability")
        .height(150.0)
        .x_axis_label("days from now")
        .include_y(0.0)
        .include_y(1.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |plot| {
            for (i, result) in outcome.results.iter().enumerate() {
                let Some(k) = focus_index(result) else {
                    continue;
                };
                let points: Vec<[f64; 2]> = result
                    .grid_h
                    .iter()
                    .zip(&result.assets[k].failure_probability)
                    .map(|(h, p)| [h / 24.0, *p])
                    .collect();
                plot.line(
                    Line::new(result.plan.clone(), PlotPoints::from(points))
                        .color(PLAN_COLOURS[i % PLAN_COLOURS.len()]),
                );
            }
        });
    ui.label(
        egui::RichText::new(format!(
            "{focus}: remaining life by date, median and 10–90 % band (days)"
        ))
        .strong(),
    );
    Plot::new("what-if-rul")
        .height(150.0)
        .x_axis_label("days from now")
        .include_y(0.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |plot| {
            for (i, result) in outcome.results.iter().enumerate() {
                let Some(trajectory) = result.trajectories.iter().find(|t| t.asset == focus) else {
                    continue;
                };
                let colour = PLAN_COLOURS[i % PLAN_COLOURS.len()];
                let series =
                    |pick: fn(&linetwin_forecast::montecarlo::Band) -> f64| -> Vec<[f64; 2]> {
                        result
                            .grid_h
                            .iter()
                            .zip(&trajectory.rul_h)
                            .map(|(h, b)| [h / 24.0, (pick(b) / 24.0).min(3650.0)])
                            .collect()
                    };
                plot.line(
                    Line::new(result.plan.clone(), PlotPoints::from(series(|b| b.median)))
                        .color(colour),
                );
                for band in [series(|b| b.low), series(|b| b.high)] {
                    plot.line(
                        Line::new(result.plan.clone(), PlotPoints::from(band))
                            .color(colour.gamma_multiply(0.45)),
                    );
                }
            }
        });
}

fn forecast_controls(
    ui: &mut egui::Ui,
    window: &mut WhatIfWindow,
    outcome: &linetwin_jobs::WhatIfOutcome,
    line: &PlantLine,
    requests: &mut Requests,
) {
    let horizon_days = line.maintenance.horizon_days;
    let before = (
        window.forecast_on,
        window.forecast_day,
        window.forecast_plan,
    );
    ui.horizontal(|ui| {
        ui.checkbox(&mut window.forecast_on, "Show the forecast in the scene at");
        ui.add(
            egui::Slider::new(&mut window.forecast_day, 0.0..=horizon_days)
                .suffix(" days")
                .integer(),
        );
    });
    ui.horizontal(|ui| {
        ui.label("under");
        let name = |i: usize| {
            outcome
                .results
                .get(i)
                .map_or("", |r| r.plan.as_str())
                .to_owned()
        };
        egui::ComboBox::from_id_salt("forecast-plan")
            .selected_text(name(window.forecast_plan))
            .show_ui(ui, |ui| {
                for i in 0..outcome.results.len() {
                    ui.selectable_value(&mut window.forecast_plan, i, name(i));
                }
            });
    });
    if before
        != (
            window.forecast_on,
            window.forecast_day,
            window.forecast_plan,
        )
    {
        requests.forecast = Some(
            window
                .forecast_on
                .then_some((window.forecast_day, window.forecast_plan)),
        );
    }
}
