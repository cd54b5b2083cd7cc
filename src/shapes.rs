//! Recognisable shapes for each kind of asset, composed from primitives.
//!
//! Pure data: a list of parts in the asset's local frame (origin at the
//! centre of its footprint on the floor, X along its length, Y up, Z across),
//! scaled to the size the line description gives. The scene turns parts into
//! meshes; tests check the parts without a GPU.

use std::f32::consts::{FRAC_PI_2, TAU};

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

/// How a part is painted. Health parts carry the asset's status colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Paint {
    Health,
    Steel,
    Dark,
    Accent,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    pub shape: PartShape,
    pub translation: Vec3,
    pub rotation: Quat,
    pub paint: Paint,
}

impl Part {
    fn new(shape: PartShape, translation: Vec3, paint: Paint) -> Self {
        Part {
            shape,
            translation,
            rotation: Quat::IDENTITY,
            paint,
        }
    }

    fn rotated(mut self, rotation: Quat) -> Self {
        self.rotation = rotation;
        self
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
        cylinder_z(
            0.1 * h,
            0.11 * w,
            Vec3::new(0.1 * l, 0.4 * h, 0.445 * w),
            Paint::Steel,
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
    vec![
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
    ]
}

/// Belt conveyor: side frames, belt, end rollers, legs.
fn conveyor(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let top = 0.9 * h;
    let mut parts = vec![
        boxed(
            Vec3::new(0.97 * l, 0.03 * h, 0.86 * w),
            Vec3::new(0.0, top, 0.0),
            Paint::Dark,
        ),
        cylinder_z(
            0.05 * h,
            0.9 * w,
            Vec3::new(0.47 * l, top - 0.04 * h, 0.0),
            Paint::Steel,
        ),
        cylinder_z(
            0.05 * h,
            0.9 * w,
            Vec3::new(-0.47 * l, top - 0.04 * h, 0.0),
            Paint::Steel,
        ),
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
    vec![
        cylinder_y(
            0.32 * m,
            0.14 * h,
            Vec3::new(0.0, 0.07 * h, 0.0),
            Paint::Dark,
        ),
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
    ]
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
        parts.push(cylinder_y(0.035 * m, 0.16 * h, at, Paint::Dark));
    }
    parts
}

/// Labeller: machine table, vacuum drum, glue roller, label magazine, starwheel, cabinet.
fn labeller(s: Vec3) -> Vec<Part> {
    let (l, h, w) = (s.x, s.y, s.z);
    let m = l.min(w);
    vec![
        boxed(
            Vec3::new(0.95 * l, 0.45 * h, 0.95 * w),
            Vec3::new(0.0, 0.225 * h, 0.0),
            Paint::Health,
        ),
        cylinder_y(
            0.18 * m,
            0.28 * h,
            Vec3::new(0.15 * l, 0.59 * h, 0.05 * w),
            Paint::Steel,
        ),
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
        cylinder_y(
            0.25 * m,
            0.04 * h,
            Vec3::new(-0.25 * l, 0.52 * h, 0.0),
            Paint::Steel,
        ),
        boxed(
            Vec3::new(0.2 * l, 0.5 * h, 0.3 * w),
            Vec3::new(-0.35 * l, 0.7 * h, -0.3 * w),
            Paint::Accent,
        ),
    ]
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
