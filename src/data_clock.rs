//! Notices silence. The twin judges everything on data time; when nothing
//! arrives, data time stops, so this system tells the twin where the
//! stream's clock would be by now (the last data time plus the wall time
//! since it arrived, at the hello's time scale) and silent sensors turn grey.
//!
//! It is the one place, besides animation, that reads the browser's clock
//! (`cargo xtask tidy` checks that), and it only ever affects staleness.

use bevy::prelude::*;
use linetwin_twin::clock::estimate_during_silence;

use crate::stream::StreamStats;
use crate::twin_state::{TwinChanged, TwinSet, TwinState};

pub struct DataClockPlugin;

impl Plugin for DataClockPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LastArrival>().add_systems(
            Update,
            estimate_silence
                .run_if(resource_exists::<TwinState>)
                .after(TwinSet)
                .after(crate::diagnosis::DiagnosisSet),
        );
    }
}

/// When (wall seconds of this page) the twin's data time last moved, and to what.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct LastArrival {
    data_t: Option<f64>,
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
    let data_t = twin.0.data_time().map(|t| t - twin.0.clock().offset_s);
    if data_t != last.data_t {
        *last = LastArrival {
            data_t,
            wall_s: wall,
        };
        return;
    }
    let Some(t) = data_t else { return };
    // Only a stream that has delivered something can fall silent.
    if stats.frames_received == 0 {
        return;
    }
    let scale = twin.0.clock().scale();
    let estimate = estimate_during_silence(t, wall - last.wall_s, scale);
    changes.write_batch(twin.0.advance_to(estimate).into_iter().map(TwinChanged));
}
