//! The twin's track record in the app: every forecast the viewer shows is
//! handed to `linetwin_twin::track_record::TrackRecord` with its data time
//! (remaining lives at each refresh of `Prognoses`, the recommended plan
//! of each what-if, the zones of the forecast view), and the record looks
//! at the twin whenever data time moves on. A baseline to be learned afresh
//! (the gateway's word after maintenance) renews the asset. The decisions
//! are the crate's; this is glue.

use bevy::prelude::*;
use linetwin_forecast::outlook::Predicted;
use linetwin_twin::track_record::{TrackRecord, TrackRecordConfig, TrackSummary};

use crate::line_source::LineDescription;
use crate::prognosis::Prognoses;
use crate::stream::StreamEvent;
use crate::twin_state::{TwinSet, TwinState};
use crate::what_if::{ForecastView, RunWhatIf, WhatIf, WhatIfStatus};

/// The record and its summary, for the panels and `state().model_accuracy`.
#[derive(Resource, Debug, Default)]
pub struct ModelAccuracy {
    pub record: TrackRecord,
    pub summary: TrackSummary,
    /// Data time of the last prognoses handed over.
    prognoses_at: Option<f64>,
    /// Data time the record last looked at the twin.
    observed_at: Option<f64>,
    /// Data time of the latest what-if question (its lives are of then).
    asked_at: Option<f64>,
    /// The what-if run whose outcome was handed over.
    what_if_seen: u64,
    changed: bool,
}

pub struct TrackRecordPlugin;

impl Plugin for TrackRecordPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ModelAccuracy {
            record: TrackRecord::new(TrackRecordConfig::default()),
            ..ModelAccuracy::default()
        })
        .add_systems(
            Update,
            (
                maintenance,
                questions,
                remaining_lives,
                plan_outcomes,
                forecast_zones,
                observe,
                summarise,
            )
                .chain()
                .after(TwinSet)
                .after(crate::diagnosis::DiagnosisSet)
                .after(crate::prognosis::PrognosisSet)
                .run_if(resource_exists::<TwinState>)
                .run_if(resource_exists::<LineDescription>),
        );
    }
}

/// A baseline to be learned afresh is the gateway's word that the machine
/// was maintained (a person asked after maintenance, or a story's
/// replacement): the asset begins a new life at that time, placed on the
/// twin's axis as data is (`Twin::place_time`) and never after the twin's
/// data time (a maintenance ahead of the data would end lives that are
/// still being forecast). Before any data there is no life to end.
fn maintenance(
    mut events: MessageReader<StreamEvent>,
    mut twin: ResMut<TwinState>,
    line: Res<LineDescription>,
    mut accuracy: ResMut<ModelAccuracy>,
) {
    for event in events.read() {
        let StreamEvent::Baseline {
            sensor,
            t,
            value_mm_s: None,
            ..
        } = event
        else {
            continue;
        };
        let Some((asset, _)) = line.0.sensor(sensor) else {
            continue;
        };
        let Some(now) = twin.0.data_time() else {
            continue;
        };
        let Some(at) = twin.0.place_time(*t) else {
            continue;
        };
        accuracy.record.maintained(&asset.id, at.min(now));
        accuracy.changed = true;
    }
}

/// The data time of each what-if question: its lives are the prognoses of then.
fn questions(
    mut asked: MessageReader<RunWhatIf>,
    twin: Res<TwinState>,
    mut accuracy: ResMut<ModelAccuracy>,
) {
    if asked.read().last().is_some() {
        accuracy.asked_at = twin.0.data_time();
    }
}

fn remaining_lives(prognoses: Res<Prognoses>, mut accuracy: ResMut<ModelAccuracy>) {
    let Some(at) = prognoses.at else { return };
    if accuracy.prognoses_at == Some(at) {
        return;
    }
    accuracy.prognoses_at = Some(at);
    for p in prognoses.by_asset.values() {
        accuracy.record.record_rul(at, p);
    }
    accuracy.changed = true;
}

/// The recommended plan's outcome for the asset in question, once per run.
fn plan_outcomes(what_if: Res<WhatIf>, mut accuracy: ResMut<ModelAccuracy>) {
    let WhatIfStatus::Done(outcome) = &what_if.status else {
        return;
    };
    if accuracy.what_if_seen == what_if.runs {
        return;
    }
    accuracy.what_if_seen = what_if.runs;
    let (Some(asset), Some(best), Some(at)) = (
        what_if.focus.as_deref(),
        outcome.recommendation.as_ref().map(|r| r.best),
        accuracy.asked_at,
    ) else {
        return;
    };
    let Some(result) = outcome.results.get(best) else {
        return;
    };
    let plan = outcome.plan(&what_if.asked, best);
    if accuracy.record.record_plan(at, asset, plan, result, true) {
        accuracy.changed = true;
    }
}

/// The forecast view's predicted zones, when one is shown.
fn forecast_zones(
    forecast: Res<ForecastView>,
    what_if: Res<WhatIf>,
    mut accuracy: ResMut<ModelAccuracy>,
) {
    if !forecast.is_changed() {
        return;
    }
    let (Some(shown), WhatIfStatus::Done(outcome), Some(at)) =
        (&forecast.0, &what_if.status, accuracy.asked_at)
    else {
        return;
    };
    let predicted: Vec<Predicted> = shown
        .assets
        .iter()
        .map(|(asset, (zone, p))| Predicted {
            asset: asset.clone(),
            failure_probability: *p,
            zone: *zone,
        })
        .collect();
    let plan = outcome.plan(&what_if.asked, shown.plan);
    let kept =
        accuracy
            .record
            .record_zones(at, shown.day * 24.0, &shown.plan_name, plan, &predicted);
    accuracy.changed |= kept > 0;
}

fn observe(twin: Res<TwinState>, mut accuracy: ResMut<ModelAccuracy>) {
    let now = twin.0.data_time();
    if now.is_none() || accuracy.observed_at == now {
        return;
    }
    accuracy.observed_at = now;
    accuracy.record.observe(&twin.0);
}

/// Data seconds between two summaries when only time moved on.
const SUMMARY_EVERY_S: f64 = 1.0;

fn summarise(mut accuracy: ResMut<ModelAccuracy>) {
    let behind = match (accuracy.summary.now_s, accuracy.observed_at) {
        (Some(then), Some(now)) => now - then >= SUMMARY_EVERY_S,
        (None, Some(_)) => true,
        _ => false,
    };
    if std::mem::take(&mut accuracy.changed) || behind {
        accuracy.summary = accuracy.record.summary();
    }
}
