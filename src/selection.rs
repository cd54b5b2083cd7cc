//! Picking a component: a click on an asset's parts selects the asset.

use bevy::picking::events::{Click, Pointer};
use bevy::prelude::*;

use crate::scene::TwinAsset;

/// The selected asset's id.
#[derive(Resource, Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection(pub Option<String>);

/// Announced whenever the selection changes, whoever changed it.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
pub struct SelectionChanged(pub Option<String>);

/// Why a click on the 3D view should not select: the pointer was over a
/// panel, or the press was the start of a camera drag.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointerGuard {
    pub over_ui: bool,
    pub dragged: bool,
}

pub struct SelectionPlugin;

impl Plugin for SelectionPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Selection>()
            .init_resource::<PointerGuard>()
            .add_message::<SelectionChanged>()
            .add_systems(Update, (clear_on_escape, announce_selection).chain());
    }
}

/// Observer on each asset root; clicks on any of its parts bubble up to it.
pub fn on_asset_clicked(
    mut click: On<Pointer<Click>>,
    assets: Query<&TwinAsset>,
    guard: Res<PointerGuard>,
    mut selection: ResMut<Selection>,
) {
    click.propagate(false);
    if click.button != PointerButton::Primary || guard.over_ui || guard.dragged {
        return;
    }
    if let Ok(asset) = assets.get(click.entity) {
        selection.0 = Some(asset.id.clone());
    }
}

fn clear_on_escape(keys: Option<Res<ButtonInput<KeyCode>>>, mut selection: ResMut<Selection>) {
    if keys.is_some_and(|k| k.just_pressed(KeyCode::Escape)) && selection.0.is_some() {
        selection.0 = None;
    }
}

fn announce_selection(
    selection: Res<Selection>,
    mut last: Local<Option<String>>,
    mut changes: MessageWriter<SelectionChanged>,
) {
    if selection.0 != *last {
        last.clone_from(&selection.0);
        changes.write(SelectionChanged(selection.0.clone()));
    }
}
