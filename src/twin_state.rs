//! The twin in the app: `TwinState`, its events as `TwinChanged` messages,
//! acknowledgements. The stream is fed to it in order by `feed`. No
//! decision is made here.

use bevy::prelude::*;
use linetwin_twin::{AlarmId, Twin, TwinConfig, TwinEvent};

use crate::line_source::LineDescription;

/// The twin of the line on screen.
#[derive(Resource)]
pub struct TwinState(pub Twin);

/// Something the twin decided (a level change, an alarm...).
#[derive(Message, Debug, Clone, PartialEq)]
pub struct TwinChanged(pub TwinEvent);

/// Acknowledge an alarm by id (from the UI or the page).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcknowledgeAlarm(pub AlarmId);

/// Twin systems, so others can run after them.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct TwinSet;

pub struct TwinPlugin;

impl Plugin for TwinPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<TwinChanged>()
            .add_message::<AcknowledgeAlarm>()
            .add_message::<crate::gateway_record::RecordRequest>()
            .add_systems(
                Update,
                (
                    create_twin.run_if(resource_added::<LineDescription>),
                    (crate::feed::feed_stream, acknowledge).run_if(resource_exists::<TwinState>),
                )
                    .chain()
                    .in_set(TwinSet),
            );
    }
}

fn create_twin(
    line: Res<LineDescription>,
    options: Option<Res<crate::options::ViewerOptions>>,
    mut commands: Commands,
) {
    let mut config = TwinConfig::default();
    // The options resource comes at start-up; the page's URL if a test left it out.
    let history_s = options.map_or_else(
        || crate::options::ViewerOptions::of_this_page().history_s,
        |o| o.history_s,
    );
    if let Some(span_s) = history_s {
        config.history = linetwin_twin::HistoryConfig::covering(span_s);
    }
    commands.insert_resource(TwinState(Twin::new(&line.0, config)));
}

/// Acknowledged here at once; the gateway's record is told (a refusal
/// there, for an alarm its twin did not raise with this id, leaves the
/// local acknowledgement standing).
fn acknowledge(
    mut requests: MessageReader<AcknowledgeAlarm>,
    mut twin: ResMut<TwinState>,
    mut changes: MessageWriter<TwinChanged>,
    mut record: MessageWriter<crate::gateway_record::RecordRequest>,
) {
    for AcknowledgeAlarm(id) in requests.read() {
        if let Some(event) = twin.0.acknowledge(*id) {
            record.write(crate::gateway_record::RecordRequest::Acknowledge(*id));
            changes.write(TwinChanged(event));
        }
    }
}
