//! The linetwin viewer: a Bevy app that shows a line in 3D, coloured by the
//! health the browser computes from the live stream.
//!
//! One plugin per concern (see ARCHITECTURE.md for the data flow):
//! [`line_source`] loads the description, [`stream`] receives frames,
//! [`diagnosis`] sends blocks to the [`executor`] (a Web Worker) and feeds
//! the results to the twin ([`twin_state`], `linetwin-twin` decides every
//! level and alarm on data time, [`data_clock`] notices silence), [`scene`]
//! builds and colours the 3D model, [`motion`] moves it at the speeds the
//! data gives, [`camera`] orbits it, [`selection`]
//! picks components, [`ui`] draws the panels (offering what [`access`]
//! says the caller may do) and [`web_api`] exposes state to the embedding
//! page. Systems are glue; decisions live in the crates.

pub mod access;
pub mod camera;
pub mod colours;
pub mod data_clock;
pub mod diagnosis;
pub mod executor;
pub mod feed;
pub mod gateway_record;
pub mod kiosk;
pub mod line_source;
pub mod motion;
pub mod options;
pub mod prognosis;
pub mod scenario_remote;
pub mod scene;
pub mod selection;
pub mod shapes;
pub mod stream;
pub mod timeline;
pub mod track_record;
pub mod twin_state;
pub mod ui;
pub mod web_api;
pub mod what_if;

use bevy::prelude::*;

/// Everything except rendering back-ends and windowing: what tests can run headless.
pub struct TwinLogicPlugins;

impl PluginGroup for TwinLogicPlugins {
    fn build(self) -> bevy::app::PluginGroupBuilder {
        bevy::app::PluginGroupBuilder::start::<Self>()
            .add(line_source::LineSourcePlugin)
            .add(stream::StreamPlugin)
            .add(twin_state::TwinPlugin)
            .add(gateway_record::GatewayRecordPlugin)
            .add(access::AccessPlugin)
            .add(diagnosis::DiagnosisPlugin)
            .add(prognosis::PrognosisPlugin)
            .add(what_if::WhatIfPlugin)
            .add(track_record::TrackRecordPlugin)
            .add(data_clock::DataClockPlugin)
            .add(scene::ScenePlugin)
            .add(motion::MotionPlugin)
            .add(selection::SelectionPlugin)
            .add(timeline::TimelinePlugin)
    }
}

/// Runs the viewer in the browser page that loaded it.
pub fn run() {
    use bevy::asset::AssetMetaCheck;

    App::new()
        .add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: Some(Window {
                        title: "linetwin".into(),
                        canvas: Some("#linetwin-canvas".into()),
                        fit_canvas_to_parent: true,
                        // Let the browser keep F5, Ctrl+R and text selection in panels.
                        prevent_default_event_handling: false,
                        ..default()
                    }),
                    ..default()
                })
                // The server has no .meta files; asking for them costs a 404 per asset.
                .set(AssetPlugin {
                    meta_check: AssetMetaCheck::Never,
                    ..default()
                }),
        )
        .add_plugins((MeshPickingPlugin, bevy_egui::EguiPlugin::default()))
        // The panels get a camera of their own, so the 3D view can be fitted
        // to the space they leave (ui::egui_camera).
        .insert_resource(bevy_egui::EguiGlobalSettings {
            auto_create_primary_context: false,
            ..default()
        })
        // bevy_egui writes its font atlas after Bevy has collected asset
        // changes unless told otherwise; a glyph first used in a frame then
        // stays blank on the GPU (the missing `%`, `q`, `k` of earlier builds).
        .configure_sets(
            PostUpdate,
            bevy_egui::EguiPostUpdateSet::PostProcessOutput.before(bevy::asset::AssetEventSystems),
        )
        .add_plugins(TwinLogicPlugins)
        .add_plugins((
            camera::OrbitCameraPlugin,
            kiosk::KioskPlugin,
            ui::UiPlugin,
            web_api::WebApiPlugin,
        ))
        .run();
}
