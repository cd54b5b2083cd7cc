//! Kiosk mode (`/?kiosk&tour=30s&assets=P1,M1`): a shop-floor screen left
//! alone for weeks. The tour flies the camera to each asset that needs
//! attention, worst first, then to an overview; the camera drifts slowly
//! all the while so nothing stands still on the screen. Who needs attention
//! and in which order is the twin's decision (`linetwin_twin::attention`);
//! this is the pacing and the camera. The panels are in `src/ui/kiosk_panel.rs`;
//! recovery from a lost WebGL context, a frozen page or a growing memory is
//! the loader's (`web/loader.js`), which reloads the same URL.

use bevy::prelude::*;
use linetwin_twin::attention::{
    Attention, StatusCounts, Tour, TourStop, needing_attention, status_counts,
};

use crate::camera::{AutoFrame, OrbitCamera};
use crate::line_source::LineDescription;
use crate::options::{KioskOptions, ViewerOptions};
use crate::scene::LineBounds;
use crate::twin_state::{TwinSet, TwinState};

#[derive(Resource, Debug)]
pub struct Kiosk {
    pub options: KioskOptions,
    pub tour: Tour,
    pub attention: Vec<Attention>,
    pub counts: StatusCounts,
    /// Wall seconds since start: the tour's pace and the banner's
    /// burn-in shift (presentation only; read here, nowhere else).
    pub wall_s: f64,
}

/// Radians per second of the camera's drift: a turn in about five minutes.
const DRIFT_RAD_PER_S: f32 = 0.02;
/// Seconds for the camera to cover most of the way to a new stop.
const FLIGHT_S: f32 = 1.5;

pub struct KioskPlugin;

impl Plugin for KioskPlugin {
    fn build(&self, app: &mut App) {
        let options = ViewerOptions::of_this_page();
        if let Some(kiosk) = options.kiosk.clone() {
            app.insert_resource(Kiosk {
                tour: Tour::new(kiosk.tour_s),
                options: kiosk,
                attention: Vec::new(),
                counts: StatusCounts::default(),
                wall_s: 0.0,
            });
        }
        app.insert_resource(options).add_systems(
            Update,
            (follow_the_twin, fly_camera)
                .chain()
                .after(TwinSet)
                .run_if(resource_exists::<Kiosk>),
        );
    }
}

fn follow_the_twin(
    twin: Option<Res<TwinState>>,
    mut kiosk: ResMut<Kiosk>,
    // The tour's pace is presentation: wall seconds per stop.
    time: Res<Time<Real>>,
) {
    let Some(twin) = twin else { return };
    let kiosk = &mut *kiosk;
    kiosk.attention = needing_attention(&twin.0, &kiosk.options.assets);
    kiosk.counts = status_counts(&twin.0);
    kiosk
        .tour
        .advance(time.elapsed_secs_f64(), &kiosk.attention);
}

fn fly_camera(
    kiosk: Res<Kiosk>,
    line: Option<Res<LineDescription>>,
    bounds: Option<Res<LineBounds>>,
    mut cameras: Query<(&mut OrbitCamera, &Camera, &mut AutoFrame)>,
    // Animation only: the flight and the drift.
    time: Res<Time<Real>>,
) {
    let (Some(line), Some(bounds)) = (line, bounds) else {
        return;
    };
    let Ok((mut orbit, camera, mut auto)) = cameras.single_mut() else {
        return;
    };
    // The kiosk frames the scene itself.
    auto.user_moved = true;
    let aspect = camera
        .logical_viewport_size()
        .map_or(1.6, |size| size.x / size.y.max(1.0));
    let overview = OrbitCamera::framing(&bounds, aspect);
    let target = match kiosk.tour.stop() {
        TourStop::Asset(id) => line.0.asset(id).map_or(overview, |asset| {
            let size = asset.size_m.iter().copied().fold(0.0f32, f32::max);
            OrbitCamera {
                focus: Vec3::from(asset.position_m).with_y(0.5 * asset.size_m[1]),
                distance: (size * 3.5).max(6.0),
                pitch: 0.45,
                ..overview
            }
        }),
        TourStop::Overview => overview,
    };
    let drift = -0.6 + DRIFT_RAD_PER_S * time.elapsed_secs();
    let k = 1.0 - (-time.delta_secs() / FLIGHT_S).exp();
    let next = OrbitCamera {
        focus: orbit.focus.lerp(target.focus, k),
        distance: orbit.distance + (target.distance - orbit.distance) * k,
        pitch: orbit.pitch + (target.pitch - orbit.pitch) * k,
        yaw: drift,
    };
    if next != *orbit {
        *orbit = next;
    }
}
