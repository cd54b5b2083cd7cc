//! Orbit / pan / zoom camera for mouse and touch.
//!
//! Mouse: left drag orbits, right or middle drag pans, wheel zooms.
//! Touch: one finger orbits, two fingers pinch to zoom and drag to pan.

use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;

use crate::scene::LineBounds;
use crate::selection::PointerGuard;

/// Where the camera looks from, as angles around a focus point.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    pub focus: Vec3,
    /// Radians around the vertical axis.
    pub yaw: f32,
    /// Radians above the horizon, kept between a grazing and a top-down view.
    pub pitch: f32,
    pub distance: f32,
}

const MIN_PITCH: f32 = 0.08;
const MAX_PITCH: f32 = 1.5;
const MIN_DISTANCE: f32 = 2.0;
const MAX_DISTANCE: f32 = 150.0;
/// Views at least this wide (width / height) frame the line at the base distance.
const WIDE_ASPECT: f32 = 1.6;
/// Pointer travel, in logical pixels, beyond which a press is a drag, not a click.
const DRAG_THRESHOLD_PX: f32 = 6.0;

impl Default for OrbitCamera {
    fn default() -> Self {
        OrbitCamera {
            focus: Vec3::ZERO,
            yaw: -0.6,
            pitch: 0.55,
            distance: 30.0,
        }
    }
}

impl OrbitCamera {
    /// Framing that shows the whole line in a view of this aspect ratio
    /// (width / height): a narrow view, between two panels, stands back
    /// further, since the field of view is fixed vertically.
    pub fn framing(bounds: &LineBounds, aspect: f32) -> Self {
        let narrowness = (WIDE_ASPECT / aspect.max(0.2)).max(1.0);
        OrbitCamera {
            focus: bounds.centre().with_y(0.5),
            distance: (bounds.radius() * 1.7 * narrowness).clamp(MIN_DISTANCE, MAX_DISTANCE),
            ..default()
        }
    }

    pub fn transform(&self) -> Transform {
        let offset = Vec3::new(
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
            self.pitch.cos() * self.yaw.cos(),
        ) * self.distance;
        Transform::from_translation(self.focus + offset).looking_at(self.focus, Vec3::Y)
    }

    /// Orbit by a pointer movement in pixels.
    pub fn orbit(&mut self, delta_px: Vec2) {
        self.yaw -= delta_px.x * 0.008;
        self.pitch = (self.pitch + delta_px.y * 0.006).clamp(MIN_PITCH, MAX_PITCH);
    }

    /// Pan so that the floor under the pointer follows it.
    pub fn pan(&mut self, delta_px: Vec2) {
        let right = Vec3::new(self.yaw.cos(), 0.0, -self.yaw.sin());
        let forward = Vec3::new(-self.yaw.sin(), 0.0, -self.yaw.cos());
        let scale = self.distance * 0.0015;
        self.focus += (-right * delta_px.x + forward * delta_px.y) * scale;
    }

    /// Zoom by wheel notches (positive: closer), proportionally to distance.
    pub fn zoom(&mut self, notches: f32) {
        self.distance = (self.distance * 0.88f32.powf(notches)).clamp(MIN_DISTANCE, MAX_DISTANCE);
    }
}

pub struct OrbitCameraPlugin;

impl Plugin for OrbitCameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_camera)
            .add_systems(Update, (frame_line, drive_camera, apply_orbit).chain());
    }
}

/// Keeps the whole line framed as the view's shape changes (panels open
/// and close), until the user moves the camera.
#[derive(Component, Debug, Default, Clone, Copy, PartialEq)]
pub struct AutoFrame {
    framed_aspect: Option<f32>,
    pub user_moved: bool,
}

fn spawn_camera(mut commands: Commands) {
    let orbit = OrbitCamera::default();
    commands.spawn((
        Camera3d::default(),
        // The default tonemapper needs lookup tables we do not ship.
        Tonemapping::AcesFitted,
        orbit.transform(),
        orbit,
        AutoFrame::default(),
    ));
}

fn frame_line(
    bounds: Option<Res<LineBounds>>,
    mut cameras: Query<(&mut OrbitCamera, &Camera, &mut AutoFrame)>,
) {
    let Some(bounds) = bounds else { return };
    for (mut orbit, camera, mut auto) in &mut cameras {
        if auto.user_moved {
            continue;
        }
        let aspect = camera
            .logical_viewport_size()
            .map_or(WIDE_ASPECT, |size| size.x / size.y.max(1.0));
        let unchanged = auto
            .framed_aspect
            .is_some_and(|framed| (framed - aspect).abs() < 0.02 * aspect);
        if unchanged && !bounds.is_changed() {
            continue;
        }
        *orbit = OrbitCamera::framing(&bounds, aspect);
        auto.framed_aspect = Some(aspect);
    }
}

#[derive(Default)]
struct DragTracker {
    travelled: f32,
    last_pinch: Option<f32>,
}

fn drive_camera(
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    touches: Res<Touches>,
    mut guard: ResMut<PointerGuard>,
    mut cameras: Query<(&mut OrbitCamera, Option<&mut AutoFrame>)>,
    mut drag: Local<DragTracker>,
) {
    let Ok((mut camera, auto)) = cameras.single_mut() else {
        return;
    };
    let before = *camera;
    const BUTTONS: [MouseButton; 3] = [MouseButton::Left, MouseButton::Right, MouseButton::Middle];
    if buttons.any_just_pressed(BUTTONS) || touches.any_just_pressed() {
        drag.travelled = 0.0;
        guard.dragged = false;
    }
    // A press that started over a panel belongs to the panel.
    if guard.over_ui && !guard.dragged {
        return;
    }
    // Motion in the frame of the press brought the pointer to where it was
    // pressed (a slow frame can hold both); only later motion is a drag.
    let held = buttons.any_pressed(BUTTONS) && !buttons.any_just_pressed(BUTTONS);
    if held {
        if buttons.pressed(MouseButton::Left) {
            camera.orbit(motion.delta);
        } else {
            camera.pan(motion.delta);
        }
        drag.travelled += motion.delta.length();
    }
    let notches = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y,
        MouseScrollUnit::Pixel => scroll.delta.y / 100.0,
    };
    if notches != 0.0 {
        camera.zoom(notches);
    }

    let fingers: Vec<_> = touches.iter().collect();
    match fingers.as_slice() {
        [one] => {
            camera.orbit(one.delta());
            drag.travelled += one.delta().length();
            drag.last_pinch = None;
        }
        [a, b, ..] => {
            let spread = a.position().distance(b.position());
            if let Some(previous) = drag.last_pinch.filter(|p| *p > 1.0) {
                camera.zoom((spread / previous).ln() / 0.128);
            }
            camera.pan((a.delta() + b.delta()) / 2.0);
            drag.last_pinch = Some(spread);
            drag.travelled += DRAG_THRESHOLD_PX;
        }
        [] => drag.last_pinch = None,
    }
    if drag.travelled > DRAG_THRESHOLD_PX {
        guard.dragged = true;
    }
    if *camera != before
        && let Some(mut auto) = auto
    {
        auto.user_moved = true;
    }
}

fn apply_orbit(mut cameras: Query<(&OrbitCamera, &mut Transform), Changed<OrbitCamera>>) {
    for (orbit, mut transform) in &mut cameras {
        *transform = orbit.transform();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_looks_at_its_focus_from_its_distance() {
        let orbit = OrbitCamera {
            focus: Vec3::new(3.0, 0.5, -2.0),
            yaw: 0.3,
            pitch: 0.7,
            distance: 12.0,
        };
        let t = orbit.transform();
        assert!((t.translation.distance(orbit.focus) - 12.0).abs() < 1e-4);
        let towards_focus = (orbit.focus - t.translation).normalize();
        assert!(t.forward().dot(towards_focus) > 0.9999);
        assert!(t.translation.y > orbit.focus.y, "looks down on the line");
    }

    #[test]
    fn pitch_and_distance_stay_in_range() {
        let mut orbit = OrbitCamera::default();
        orbit.orbit(Vec2::new(0.0, 10_000.0));
        assert_eq!(orbit.pitch, MAX_PITCH);
        orbit.orbit(Vec2::new(0.0, -10_000.0));
        assert_eq!(orbit.pitch, MIN_PITCH);
        orbit.zoom(1000.0);
        assert_eq!(orbit.distance, MIN_DISTANCE);
        orbit.zoom(-1000.0);
        assert_eq!(orbit.distance, MAX_DISTANCE);
    }

    #[test]
    fn panning_moves_the_focus_on_the_floor_only() {
        let mut orbit = OrbitCamera::default();
        let before = orbit.focus;
        orbit.pan(Vec2::new(50.0, -20.0));
        assert_ne!(orbit.focus, before);
        assert_eq!(orbit.focus.y, before.y);
    }

    #[test]
    fn framing_keeps_the_whole_line_in_view() {
        let bounds = LineBounds {
            min: Vec3::new(-17.0, 0.0, -6.0),
            max: Vec3::new(17.0, 3.0, 5.0),
        };
        let orbit = OrbitCamera::framing(&bounds, 16.0 / 9.0);
        assert!(orbit.distance > bounds.radius());
        assert!((orbit.focus.x - bounds.centre().x).abs() < 1e-4);
        let narrow = OrbitCamera::framing(&bounds, 0.8);
        assert!(
            narrow.distance > orbit.distance * 1.5,
            "a narrow view stands back"
        );
    }
}
