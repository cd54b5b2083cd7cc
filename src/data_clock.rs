//! Notices silence. The twin judges everything on data time; when nothing
//! arrives, data time stops, so this system tells the twin how many wall
//! seconds have passed since its data last moved (`Twin::silent_for`: the
//! twin moves on at the hello's time scale) and silent sensors turn grey.
//!
//! It is the one place, besides animation, that reads the browser's clock
//! (`cargo xtask tidy` checks that), and it only ever affects staleness.

use bevy::prelude::*;

use crate::stream::StreamStats;
use crate::twin_state::{TwinChanged, TwinSet, TwinState};

pub struct DataClockPlugin;

impl Plugin for DataClockPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LastArrival>().add_systems(
            Update,
            estimate_silence
                .in_set(SilenceSet)
                .run_if(resource_exists::<TwinState>)
                .after(TwinSet)
                .after(crate::diagnosis::DiagnosisSet),
        );
    }
}

/// The silence estimate, for systems that judge "now" after it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SilenceSet;

/// When (wall seconds of this page) the twin's data time last moved, and to what.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct LastArrival {
    data_time: Option<f64>,
    wall_s: f64,
}

fn estimate_silence(
    mut twin: ResMut<TwinState>,
    mut last: ResMut<LastArrival>,
    stats: Res<StreamStats>,
    time: Res<Time<Real>>,
    mut changes: MessageWriter<TwinChanged>,
) {
    let wall = time.elapsed_secs_f64();
    let data_time = twin.0.data_time();
    if data_time != last.data_time {
        *last = LastArrival {
            data_time,
            wall_s: wall,
        };
        return;
    }
    // Only a stream that has delivered something can fall silent.
    if data_time.is_none() || stats.frames_received == 0 {
        return;
    }
    let silence = twin.0.silent_for(wall - last.wall_s);
    changes.write_batch(silence.into_iter().map(TwinChanged));
}
