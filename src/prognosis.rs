//! Remaining life of every asset, kept up to date on data time: the
//! decisions are `linetwin_twin::prognosis::prognose`; this only decides
//! when to ask again.

use std::collections::BTreeMap;

use bevy::prelude::*;
use linetwin_twin::prognosis::{AssetPrognosis, prognose};

use crate::line_source::LineDescription;
use crate::twin_state::{TwinSet, TwinState};

/// Data seconds between two prognoses: a trend does not change faster,
/// and fitting every asset's history each frame would cost frames.
pub const REFRESH_S: f64 = 5.0;

#[derive(Resource, Debug, Default)]
pub struct Prognoses {
    pub by_asset: BTreeMap<String, AssetPrognosis>,
    /// Data time of the last refresh.
    pub at: Option<f64>,
}

/// The refresh, so others can run after it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrognosisSet;

pub struct PrognosisPlugin;

impl Plugin for PrognosisPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Prognoses>().add_systems(
            Update,
            refresh
                .in_set(PrognosisSet)
                .after(TwinSet)
                .after(crate::diagnosis::DiagnosisSet)
                .run_if(resource_exists::<TwinState>)
                .run_if(resource_exists::<LineDescription>),
        );
    }
}

fn refresh(twin: Res<TwinState>, line: Res<LineDescription>, mut prognoses: ResMut<Prognoses>) {
    let Some(now) = twin.0.data_time() else {
        return;
    };
    if prognoses.at.is_some_and(|at| (now - at).abs() < REFRESH_S) {
        return;
    }
    prognoses.by_asset = line
        .0
        .assets
        .iter()
        .map(|asset| (asset.id.clone(), prognose(&twin.0, asset)))
        .collect();
    prognoses.at = Some(now);
}
