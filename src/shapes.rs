//! Recognisable shapes for each kind of asset, composed from primitives.
//!
//! Pure data: a list of parts in the asset's local frame (origin at the
//! centre of its footprint on the floor, X along its length, Y up, Z across),
//! scaled to the size the line description gives. The scene turns parts into
//! meshes; tests check the parts without a GPU.

use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, TAU};

use bevy::math::{Quat, Vec3};
use linetwin_core::line::AssetKind;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PartShape {
    /// Full extents.
    Box(Vec3),
    /// Axis along local Y before rotation.
    Cylinder {
        radius: f32,
        height: f32,
    },
    Sphere {
        radius: f32,
    },
}

/// How a part is painted. Body parts wear the kind's own finish and glow
/// with the asset's health colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Paint {
    Health,
    Steel,
    Dark,
    Accent,
    /// Belts, tyres, seals.
    Rubber,
}

/// How a part moves with its machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PartMotion {
    Still,
    /// Turns `ratio` times per shaft revolution about `axis` through
    /// `pivot` (asset frame): shafts, impellers, carousels.
    Spin {
        pivot: Vec3,
        axis: Vec3,
        ratio: f32,
    },
    /// Swings to and fro once per work cycle about `axis` through `pivot`:
    /// a robot's arm.
    Swing {
        pivot: Vec3,
        axis: Vec3,
        amplitude_rad: f32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    pub shape: PartShape,
    pub translation: Vec3,
    pub rotation: Quat,
    pub paint: Paint,
    pub motion: PartMotion,
}

impl Part {
    fn new(shape: PartShape, translation: Vec3, paint: Paint) -> Self {
        Part {
            shape,
            translation,
            rotation: Quat::IDENTITY,
            paint,
            motion: PartMotion::Still,
        }
    }

    fn rotated(mut self, rotation: Quat) -> Self {
        self.rotation = rotation;
        self
    }

    fn spinning(mut self, pivot: Vec3, axis: Vec3, ratio: f32) -> Self {
        self.motion = PartMotion::Spin { pivot, axis, ratio };
        self
    }

    fn swinging(mut self, pivot: Vec3, axis: Vec3, amplitude_rad: f32) -> Self {
        self.motion = PartMotion::Swing {
            pivot,
            axis,
            amplitude_rad,
        };
        self
    }

    /// Its place after it has gone through `turns` of its own (revolutions
    /// for a spinning part, to-and-fro cycles for a swinging one).
    pub fn pose_after(&self, turns: f64) -> (Vec3, Quat) {
        let (pivot, turn) = match self.motion {
            PartMotion::Still => return (self.translation, self.rotation),
            PartMotion::Spin { pivot, axis, .. } => {
                let fraction = turns.rem_euclid(1.0) as f32;
                (pivot, Quat::from_axis_angle(axis, TAU * fraction))
            }
            PartMotion::Swing {
                pivot,
                axis,
                amplitude_rad,
            } => {
                let fraction = turns.rem_euclid(1.0) as f32;
                (
                    pivot,
                    Quat::from_axis_angle(axis, amplitude_rad * (TAU * fraction).sin()),
                )
            }
        };
        (
            pivot + turn * (self.translation - pivot),
            turn * self.rotation,
        )
    }

    /// Half extents of the part's axis-aligned bounding box in the asset frame.
    pub fn half_extents(&self) -> Vec3 {
        let local = match self.shape {
            PartShape::Box(size) => size / 2.0,
            PartShape::Cylinder { radius, height } => Vec3::new(radius, height / 2.0, radius),
            PartShape::Sphere { radius } => Vec3::splat(radius),
        };
        let m = bevy::math::Mat3::from_quat(self.rotation);
        Vec3::new(
            m.row(0).abs().dot(local),
            m.row(1).abs().dot(local),
            m.row(2).abs().dot(local),
        )
    }
}

fn boxed(size: Vec3, at: Vec3, paint: Paint) -> Part {
    Part::new(PartShape::Box(size), at, paint)
}

fn cylinder_y(radius: f32, height: f32, at: Vec3, paint: Paint) -> Part {
    Part::new(PartShape::Cylinder { radius, height }, at, paint)
}

fn cylinder_x(radius: f32, length: f32, at: Vec3, paint: Paint) -> Part {
    cylinder_y(radius, length, at, paint).rotated(Quat::from_rotation_z(FRAC_PI_2))
}

fn cylinder_z(radius: f32, length: f32, at: Vec3, paint: Paint) -> Part {
    cylinder_y(radius, length, at, paint).rotated(Quat::from_rotation_x(FRAC_PI_2))
}

/// Reductions from the drive shaft to what it turns. The demo line runs
/// 21 600 bottles an hour (6 a second) from drives near 1 450 rpm: a
/// 16-valve carousel then turns about once in 64 motor revolutions, an
/// 8-head turret or a labeller's drum once in 32.
pub const CAROUSEL_RATIO: f32 = 1.0 / 64.0;
pub const TURRET_RATIO: f32 = 1.0 / 32.0;
pub const GEARBOX_OUTPUT_RATIO: f32 = 1.0 / 15.0;
/// Half the arc a palletising robot's J1 sweeps in a pick.
pub const ROBOT_SWING_RAD: f32 = 1.2;

/// The drive pulley's radius of a conveyor of `size`: it sets the belt's
/// speed from the shaft's.
pub fn conveyor_pulley_radius(size: Vec3) -> f32 {
    0.05 * size.y
}

/// A key on a shaft (centre `at`, radius `radius`, along `axis`): a plain
/// cylinder turning about its axis looks still, a key shows it turn.
fn shaft_key(at: Vec3, radius: f32, length: f32, axis: Vec3, ratio: f32) -> Part {
    let across = if axis == Vec3::Y { Vec3::X } else { Vec3::Y };
    let size = axis * length + across * 0.7 * radius + axis.cross(across).abs() * 0.5 * radius;
    boxed(size.abs(), at + across * radius, Paint::Dark).spinning(at, axis, ratio)
}

/// The parts of an asset of `kind` filling a box of `size` (length, height, width).
pub fn parts_for(kind: AssetKind, size: Vec3) -> Vec<Part> {
    match kind {
        AssetKind::Motor => motor(size),
        AssetKind::Gearbox => gearbox(size),
        AssetKind::Pump => pump(size),
        AssetKind::Fan => fan(size),
        AssetKind::Conveyor => conveyor(size),
        AssetKind::Robot => robot(size),
        AssetKind::Filler => filler(size),
        AssetKind::Capper => capper(size),
        AssetKind::Labeller => labeller(size),
        AssetKind::Compressor => compressor(size),
    }
}

/// Totally enclosed fan-cooled motor: ribbed body, fan cowl, shaft, terminal box, feet.
fn motor(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let r = 0.36 * h.min(w);
    let cy = 0.14 * h + r;
    let body_len = 0.6 * l;
    let body_x = -0.04 * l;
    let mut parts = vec![
        cylinder_x(r, body_len, Vec3::new(body_x, cy, 0.0), Paint::Health),
        cylinder_x(
            1.04 * r,
            0.2 * l,
            Vec3::new(body_x - body_len / 2.0 - 0.1 * l, cy, 0.0),
            Paint::Dark,
        ),
        cylinder_x(
            0.85 * r,
            0.05 * l,
            Vec3::new(body_x + body_len / 2.0 + 0.025 * l, cy, 0.0),
            Paint::Steel,
        ),
        cylinder_x(
            0.14 * r,
            0.16 * l,
            Vec3::new(0.42 * l, cy, 0.0),
            Paint::Steel,
        )
        .spinning(Vec3::new(0.42 * l, cy, 0.0), Vec3::X, 1.0),
        shaft_key(
            Vec3::new(0.42 * l, cy, 0.0),
            0.14 * r,
            0.12 * l,
            Vec3::X,
            1.0,
        ),
        boxed(
            Vec3::new(0.22 * l, 0.6 * r, 0.9 * r),
            Vec3::new(body_x, cy + 1.15 * r, 0.0),
            Paint::Health,
        ),
    ];
    // Cooling ribs run along the body, all around it except under the terminal box.
    for i in 0..10 {
        let angle = TAU * (i as f32 + 0.5) / 10.0;
        let (sin, cos) = angle.sin_cos();
        parts.push(
            boxed(
                Vec3::new(body_len, 0.22 * r, 0.06 * r),
                Vec3::new(body_x, cy + 1.02 * r * cos, 1.02 * r * sin),
                Paint::Health,
            )
            .rotated(Quat::from_rotation_x(-angle)),
        );
    }
    for x in [-0.22 * l, 0.14 * l] {
        parts.push(boxed(
            Vec3::new(0.1 * l, 0.14 * h, 1.7 * r),
            Vec3::new(x, 0.07 * h, 0.0),
            Paint::Dark,
        ));
    }
    parts
}

/// Helical gearbox: ribbed housing, input shaft on X, output shaft on Z.
fn gearbox(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let mut parts = vec![
        boxed(
            Vec3::new(0.72 * l, 0.76 * h, 0.78 * w),
            Vec3::new(0.0, 0.46 * h, 0.0),
            Paint::Health,
        ),
        boxed(
            Vec3::new(0.86 * l, 0.08 * h, 0.9 * w),
            Vec3::new(0.0, 0.04 * h, 0.0),
            Paint::Dark,
        ),
        cylinder_x(
            0.07 * h,
            0.14 * l,
            Vec3::new(-0.43 * l, 0.6 * h, 0.0),
            Paint::Steel,
        ),
        shaft_key(
            Vec3::new(-0.43 * l, 0.6 * h, 0.0),
            0.07 * h,
            0.1 * l,
            Vec3::X,
            1.0,
        ),
        cylinder_z(
            0.1 * h,
            0.11 * w,
            Vec3::new(0.1 * l, 0.4 * h, 0.445 * w),
            Paint::Steel,
        ),
        shaft_key(
            Vec3::new(0.1 * l, 0.4 * h, 0.445 * w),
            0.1 * h,
            0.08 * w,
            Vec3::Z,
            GEARBOX_OUTPUT_RATIO,
        ),
        boxed(
            Vec3::new(0.3 * l, 0.05 * h, 0.3 * w),
            Vec3::new(0.0, 0.865 * h, 0.0),
            Paint::Steel,
        ),
    ];
    for i in 0..4 {
        let x = -0.27 * l + 0.18 * l * i as f32;
        parts.push(boxed(
            Vec3::new(0.03 * l, 0.6 * h, 0.84 * w),
            Vec3::new(x, 0.46 * h, 0.0),
            Paint::Health,
        ));
    }
    parts
}

/// End-suction centrifugal pump on a baseplate: volute, suction and
/// discharge nozzles, bearing frame, coupling guard, drive motor.
fn pump(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let cy = 0.45 * h;
    let volute_r = 0.3 * h.min(1.4 * w);
    vec![
        boxed(
            Vec3::new(l, 0.08 * h, w),
            Vec3::new(0.0, 0.04 * h, 0.0),
            Paint::Dark,
        ),
        cylinder_x(
            volute_r,
            0.28 * w,
            Vec3::new(0.28 * l, cy, 0.0),
            Paint::Health,
        ),
        cylinder_x(
            0.55 * volute_r,
            0.4 * w,
            Vec3::new(0.28 * l, cy, 0.0),
            Paint::Health,
        ),
        cylinder_x(
            0.09 * h,
            0.2 * l,
            Vec3::new(0.42 * l, cy, 0.0),
            Paint::Steel,
        ),
        shaft_key(
            Vec3::new(0.42 * l, cy, 0.0),
            0.09 * h,
            0.14 * l,
            Vec3::X,
            1.0,
        ),
        cylinder_y(
            0.08 * h,
            0.3 * h,
            Vec3::new(0.28 * l, cy + 0.25 * h + 0.06 * h, 0.45 * volute_r),
            Paint::Steel,
        ),
        cylinder_x(
            0.12 * h,
            0.22 * l,
            Vec3::new(0.06 * l, cy, 0.0),
            Paint::Health,
        ),
        boxed(
            Vec3::new(0.1 * l, 0.22 * h, 0.25 * w),
            Vec3::new(-0.1 * l, cy, 0.0),
            Paint::Dark,
        ),
        cylinder_x(
            0.22 * h,
            0.3 * l,
            Vec3::new(-0.32 * l, cy, 0.0),
            Paint::Accent,
        ),
        boxed(
            Vec3::new(0.08 * l, 0.1 * h, 0.14 * w),
            Vec3::new(-0.32 * l, cy + 0.25 * h, 0.0),
            Paint::Accent,
        ),
    ]
}

/// Centrifugal blower: scroll housing, outlet duct, inlet cone, motor, frame.
fn fan(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let r = 0.36 * h.min(l);
    let cy = 0.1 * h + r;
    let mut parts = vec![
        boxed(
            Vec3::new(l, 0.1 * h, w),
            Vec3::new(0.0, 0.05 * h, 0.0),
            Paint::Dark,
        ),
        cylinder_z(r, 0.45 * w, Vec3::new(-0.05 * l, cy, 0.0), Paint::Health),
        boxed(
            Vec3::new(0.35 * l, 0.9 * r, 0.45 * w),
            Vec3::new(-0.05 * l + 0.5 * r, cy + 0.55 * r, 0.0),
            Paint::Health,
        ),
        cylinder_z(
            0.45 * r,
            0.2 * w,
            Vec3::new(-0.05 * l, cy, -0.32 * w),
            Paint::Steel,
        ),
        cylinder_z(
            0.3 * r,
            0.28 * w,
            Vec3::new(-0.05 * l, cy, 0.36 * w),
            Paint::Accent,
        ),
    ];
    // The impeller's blades, seen through the inlet.
    let hub = Vec3::new(-0.05 * l, cy, -0.43 * w);
    for i in 0..4 {
        parts.push(
            boxed(Vec3::new(0.8 * r, 0.1 * r, 0.015 * w), hub, Paint::Steel)
                .rotated(Quat::from_rotation_z(i as f32 * FRAC_PI_4))
                .spinning(hub, Vec3::Z, 1.0),
        );
    }
    parts
}

/// Belt conveyor: side frames, belt, end rollers, legs.
fn conveyor(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let top = 0.9 * h;
    let pulley = |at: Vec3| {
        cylinder_z(conveyor_pulley_radius(s), 0.9 * w, at, Paint::Steel).spinning(at, Vec3::Z, 1.0)
    };
    let mut parts = vec![
        boxed(
            Vec3::new(0.97 * l, 0.03 * h, 0.86 * w),
            Vec3::new(0.0, top, 0.0),
            Paint::Rubber,
        ),
        pulley(Vec3::new(0.47 * l, top - 0.04 * h, 0.0)),
        pulley(Vec3::new(-0.47 * l, top - 0.04 * h, 0.0)),
    ];
    for z in [-0.46 * w, 0.46 * w] {
        parts.push(boxed(
            Vec3::new(l, 0.14 * h, 0.06 * w),
            Vec3::new(0.0, top - 0.03 * h, z),
            Paint::Health,
        ));
    }
    let legs = ((l / 1.5).ceil() as usize).max(2);
    for i in 0..legs {
        let x = -0.45 * l + 0.9 * l * i as f32 / (legs - 1) as f32;
        for z in [-0.42 * w, 0.42 * w] {
            parts.push(boxed(
                Vec3::new(0.05, 0.82 * h, 0.05),
                Vec3::new(x, 0.41 * h, z),
                Paint::Steel,
            ));
        }
    }
    parts
}

/// Articulated palletising robot: base, turntable, lower and upper arm, wrist, gripper.
fn robot(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let m = l.min(w);
    let base = cylinder_y(
        0.32 * m,
        0.14 * h,
        Vec3::new(0.0, 0.07 * h, 0.0),
        Paint::Dark,
    );
    let arm = vec![
        cylinder_y(
            0.26 * m,
            0.14 * h,
            Vec3::new(0.0, 0.21 * h, 0.0),
            Paint::Health,
        ),
        boxed(
            Vec3::new(0.14 * m, 0.42 * h, 0.16 * m),
            Vec3::new(0.05 * l, 0.48 * h, 0.0),
            Paint::Health,
        )
        .rotated(Quat::from_rotation_z(-0.25)),
        cylinder_z(
            0.1 * m,
            0.24 * m,
            Vec3::new(0.1 * l, 0.7 * h, 0.0),
            Paint::Dark,
        ),
        boxed(
            Vec3::new(0.42 * l, 0.1 * h, 0.13 * m),
            Vec3::new(0.28 * l, 0.76 * h, 0.0),
            Paint::Health,
        )
        .rotated(Quat::from_rotation_z(0.15)),
        cylinder_y(
            0.06 * m,
            0.08 * h,
            Vec3::new(0.45 * l, 0.74 * h, 0.0),
            Paint::Steel,
        ),
        boxed(
            Vec3::new(0.06 * l, 0.12 * h, 0.25 * m),
            Vec3::new(0.45 * l, 0.64 * h, 0.0),
            Paint::Dark,
        ),
    ];
    // From the pick conveyor to the pallet and back: J1 swings the arm.
    std::iter::once(base)
        .chain(
            arm.into_iter()
                .map(|p| p.swinging(Vec3::ZERO, Vec3::Y, ROBOT_SWING_RAD)),
        )
        .collect()
}

/// Rotary filler: base, carousel with filling valves round it, product bowl on top.
fn filler(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let m = l.min(w);
    let mut parts = vec![
        cylinder_y(
            0.48 * m,
            0.34 * h,
            Vec3::new(0.0, 0.17 * h, 0.0),
            Paint::Health,
        ),
        cylinder_y(
            0.44 * m,
            0.05 * h,
            Vec3::new(0.0, 0.4 * h, 0.0),
            Paint::Steel,
        ),
        cylinder_y(
            0.07 * m,
            0.4 * h,
            Vec3::new(0.0, 0.62 * h, 0.0),
            Paint::Steel,
        ),
        cylinder_y(
            0.44 * m,
            0.1 * h,
            Vec3::new(0.0, 0.78 * h, 0.0),
            Paint::Steel,
        ),
        cylinder_y(
            0.22 * m,
            0.16 * h,
            Vec3::new(0.0, 0.91 * h, 0.0),
            Paint::Health,
        ),
    ];
    for i in 0..16 {
        let angle = TAU * i as f32 / 16.0;
        let at = Vec3::new(0.4 * m * angle.cos(), 0.6 * h, 0.4 * m * angle.sin());
        parts.push(cylinder_y(0.03 * m, 0.26 * h, at, Paint::Steel));
    }
    // Everything above the base is the carousel.
    for part in parts.iter_mut().skip(1) {
        *part = part.spinning(Vec3::ZERO, Vec3::Y, CAROUSEL_RATIO);
    }
    parts
}

/// Rotary capper: machine base, column, turret with capping heads, cap chute.
fn capper(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let m = l.min(w);
    let mut parts = vec![
        boxed(
            Vec3::new(0.9 * l, 0.4 * h, 0.9 * w),
            Vec3::new(0.0, 0.2 * h, 0.0),
            Paint::Health,
        ),
        cylinder_y(
            0.08 * m,
            0.45 * h,
            Vec3::new(0.0, 0.62 * h, 0.0),
            Paint::Steel,
        ),
        cylinder_y(
            0.36 * m,
            0.12 * h,
            Vec3::new(0.0, 0.8 * h, 0.0),
            Paint::Health,
        ),
        boxed(
            Vec3::new(0.08 * l, 0.5 * h, 0.1 * w),
            Vec3::new(0.3 * l, 0.72 * h, -0.3 * w),
            Paint::Steel,
        )
        .rotated(Quat::from_rotation_x(0.4)),
    ];
    for i in 0..8 {
        let angle = TAU * i as f32 / 8.0;
        let at = Vec3::new(0.3 * m * angle.cos(), 0.66 * h, 0.3 * m * angle.sin());
        parts.push(cylinder_y(0.035 * m, 0.16 * h, at, Paint::Dark).spinning(
            Vec3::ZERO,
            Vec3::Y,
            TURRET_RATIO,
        ));
    }
    parts[2] = parts[2].spinning(Vec3::ZERO, Vec3::Y, TURRET_RATIO);
    parts
}

/// Labeller: machine table, vacuum drum, glue roller, label magazine, starwheel, cabinet.
fn labeller(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let m = l.min(w);
    let drum = Vec3::new(0.15 * l, 0.59 * h, 0.05 * w);
    let starwheel = Vec3::new(-0.25 * l, 0.52 * h, 0.0);
    let mut parts = vec![
        boxed(
            Vec3::new(0.95 * l, 0.45 * h, 0.95 * w),
            Vec3::new(0.0, 0.225 * h, 0.0),
            Paint::Health,
        ),
        cylinder_y(0.18 * m, 0.28 * h, drum, Paint::Steel).spinning(drum, Vec3::Y, TURRET_RATIO),
        cylinder_y(
            0.05 * m,
            0.26 * h,
            Vec3::new(-0.05 * l, 0.58 * h, 0.25 * w),
            Paint::Accent,
        ),
        boxed(
            Vec3::new(0.12 * l, 0.24 * h, 0.26 * w),
            Vec3::new(0.22 * l, 0.57 * h, -0.3 * w),
            Paint::Dark,
        ),
        cylinder_y(0.25 * m, 0.04 * h, starwheel, Paint::Steel).spinning(
            starwheel,
            Vec3::Y,
            TURRET_RATIO,
        ),
        boxed(
            Vec3::new(0.2 * l, 0.5 * h, 0.3 * w),
            Vec3::new(-0.35 * l, 0.7 * h, -0.3 * w),
            Paint::Accent,
        ),
    ];
    // The starwheel's pockets, and a label pad on the drum, show them turn.
    for i in 0..6 {
        let angle = TAU * i as f32 / 6.0;
        let at = starwheel + Vec3::new(0.25 * m * angle.cos(), 0.0, 0.25 * m * angle.sin());
        parts.push(
            boxed(Vec3::new(0.04 * m, 0.05 * h, 0.04 * m), at, Paint::Dark).spinning(
                starwheel,
                Vec3::Y,
                TURRET_RATIO,
            ),
        );
    }
    parts.push(
        boxed(
            Vec3::new(0.03 * m, 0.2 * h, 0.08 * m),
            drum + Vec3::X * 0.18 * m,
            Paint::Accent,
        )
        .spinning(drum, Vec3::Y, TURRET_RATIO),
    );
    parts
}

/// Packaged screw compressor: skid, acoustic enclosure, drive motor, discharge pipe.
fn compressor(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    vec![
        boxed(
            Vec3::new(l, 0.08 * h, w),
            Vec3::new(0.0, 0.04 * h, 0.0),
            Paint::Dark,
        ),
        boxed(
            Vec3::new(0.55 * l, 0.8 * h, 0.9 * w),
            Vec3::new(0.2 * l, 0.48 * h, 0.0),
            Paint::Health,
        ),
        cylinder_x(
            0.26 * h.min(w),
            0.36 * l,
            Vec3::new(-0.26 * l, 0.36 * h, 0.0),
            Paint::Health,
        ),
        cylinder_x(
            0.28 * h.min(w),
            0.06 * l,
            Vec3::new(-0.45 * l, 0.36 * h, 0.0),
            Paint::Dark,
        ),
        cylinder_y(
            0.05 * h,
            0.25 * h,
            Vec3::new(0.4 * l, 0.98 * h - 0.125 * h, 0.3 * w),
            Paint::Steel,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_composed_and_shows_its_health() {
        for kind in AssetKind::ALL {
            let parts = parts_for(kind, Vec3::new(1.5, 1.2, 1.0));
            assert!(parts.len() >= 4, "{kind:?} has {} parts", parts.len());
            assert!(
                parts.iter().any(|p| p.paint == Paint::Health),
                "{kind:?} shows no health colour"
            );
        }
    }

    /// Shapes stay inside the box the description gives (with a small margin
    /// for shafts and nozzles), so assets never overlap their neighbours.
    #[test]
    fn parts_fit_the_declared_size() {
        for kind in AssetKind::ALL {
            for size in [
                Vec3::new(0.7, 0.5, 0.45),
                Vec3::new(3.0, 2.6, 3.0),
                Vec3::new(8.0, 1.0, 0.6),
            ] {
                for part in parts_for(kind, size) {
                    let half = part.half_extents();
                    let min = part.translation - half;
                    let max = part.translation + half;
                    let tolerance = 0.08 * size.max_element();
                    assert!(
                        min.y >= -1e-3,
                        "{kind:?} {size:?}: {part:?} sinks into the floor"
                    );
                    assert!(
                        max.y <= size.y + tolerance,
                        "{kind:?} {size:?}: {part:?} is too tall"
                    );
                    assert!(
                        max.x.abs().max(min.x.abs()) <= size.x / 2.0 + tolerance,
                        "{kind:?} {size:?}: {part:?} too long"
                    );
                    assert!(
                        max.z.abs().max(min.z.abs()) <= size.z / 2.0 + tolerance,
                        "{kind:?} {size:?}: {part:?} too wide"
                    );
                }
            }
        }
    }

    #[test]
    fn every_machine_with_visible_moving_parts_has_them() {
        for kind in AssetKind::ALL {
            let moving = parts_for(kind, Vec3::new(1.5, 1.2, 1.0))
                .iter()
                .filter(|p| p.motion != PartMotion::Still)
                .count();
            // A packaged compressor turns inside its enclosure.
            let expected = kind != AssetKind::Compressor;
            assert_eq!(moving > 0, expected, "{kind:?}: {moving} moving parts");
        }
    }

    #[test]
    fn moving_parts_turn_about_their_pivot_and_return_after_a_whole_turn() {
        for kind in AssetKind::ALL {
            for part in parts_for(kind, Vec3::new(1.5, 1.2, 1.0)) {
                let (at_rest, rest_rotation) = part.pose_after(0.0);
                assert!(at_rest.distance(part.translation) < 1e-5, "{kind:?}");
                assert!(rest_rotation.abs_diff_eq(part.rotation, 1e-5), "{kind:?}");
                let (again, _) = part.pose_after(3.0);
                assert!(again.distance(part.translation) < 1e-4, "{kind:?} {part:?}");
                let (pivot, quarter) = match part.motion {
                    PartMotion::Still => continue,
                    PartMotion::Spin { pivot, .. } | PartMotion::Swing { pivot, .. } => {
                        (pivot, part.pose_after(0.25))
                    }
                };
                assert!(
                    (quarter.0.distance(pivot) - part.translation.distance(pivot)).abs() < 1e-4,
                    "{kind:?}: a moving part keeps its distance from the pivot"
                );
                assert!(
                    quarter.1.angle_between(part.rotation) > 0.5,
                    "{kind:?}: a quarter turn shows"
                );
            }
        }
    }

    #[test]
    fn the_robot_swings_to_and_fro_once_a_cycle() {
        let parts = robot(Vec3::new(1.6, 2.8, 1.6));
        let gripper = parts.last().expect("a gripper");
        let at = |turns: f64| gripper.pose_after(turns).0;
        assert!(at(0.25).z.abs() > 0.5, "out to one side: {}", at(0.25));
        assert!(at(0.75).z * at(0.25).z < 0.0, "then to the other");
        assert!(at(0.5).distance(at(0.0)) < 1e-4, "through the middle");
        assert_eq!(parts[0].motion, PartMotion::Still, "the base stays put");
    }

    #[test]
    fn a_motor_has_body_shaft_cowl_terminal_box_and_ribs() {
        let parts = motor(Vec3::new(0.7, 0.5, 0.45));
        let cylinders = parts
            .iter()
            .filter(|p| matches!(p.shape, PartShape::Cylinder { .. }))
            .count();
        let boxes = parts
            .iter()
            .filter(|p| matches!(p.shape, PartShape::Box(_)))
            .count();
        assert!(cylinders >= 4, "body, cowl, end shield, shaft");
        assert!(boxes >= 10, "ribs, terminal box, feet");
    }
}
