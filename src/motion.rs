//! Motion from the data: shafts, impellers and carousels turn at the speed
//! the twin last judged (`linetwin_twin::motion`), the robot swings at its
//! counter's rate, bottles, cases and pallets travel along the conveyors at
//! belt speed, and all of it stops when the data goes stale or the line
//! stops. Looking at the past, the scene is a still of that moment.
//!
//! Speeds come from data time; only the frame-to-frame integration uses the
//! frame's duration, as any animation does. Real shaft speeds (25-50 rev/s)
//! would strobe at a screen's frame rate, so they are shown compressed:
//! slow machines at their true pace, fast ones turning faster but never
//! beyond [`SHOWN_MAX_REV_S`].

use std::collections::BTreeMap;

use bevy::prelude::*;
use linetwin_core::line::{AssetKind, Line};
use linetwin_twin::Pace;

use crate::line_source::LineDescription;
use crate::scene::TwinAsset;
use crate::shapes::{Part, PartMotion, conveyor_pulley_radius};
use crate::timeline::TimeCursor;
use crate::twin_state::TwinState;

/// The fastest a part is ever shown to turn, revolutions per second.
pub const SHOWN_MAX_REV_S: f64 = 2.0;
/// The fastest a belt is ever shown to run, metres per second.
pub const SHOWN_MAX_BELT_M_S: f64 = 1.2;

/// A real rate as shown: nearly true while slow, approaching `max` as it
/// grows, always increasing, so faster machines still look faster.
pub fn shown_rate(real: f64, max: f64) -> f64 {
    if real.is_finite() && real > 0.0 {
        max * (1.0 - (-real / max).exp())
    } else {
        0.0
    }
}

/// A machine's pace on screen, and how far it has gone.
#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct AssetMotion {
    /// `None` while the timeline shows the past: the scene is a still.
    pub pace: Option<Pace>,
    /// Shaft revolutions (or work cycles) shown so far.
    pub turns: f64,
    /// Belt travel shown so far, metres (conveyors).
    pub belt_m: f64,
    /// The drive pulley's radius, for a conveyor.
    pub pulley_radius_m: Option<f64>,
}

impl AssetMotion {
    /// How fast a part with this motion turns on screen, its own turns per second.
    pub fn part_rate(&self, motion: PartMotion) -> f64 {
        match (self.pace, motion) {
            (Some(Pace::Turning { rev_per_s }), PartMotion::Spin { ratio, .. }) => {
                shown_rate(rev_per_s * f64::from(ratio), SHOWN_MAX_REV_S)
            }
            (Some(Pace::Cycling { cycles_per_s }), PartMotion::Swing { .. }) => {
                shown_rate(cycles_per_s, SHOWN_MAX_REV_S)
            }
            _ => 0.0,
        }
    }

    /// The belt's speed on screen, m/s.
    pub fn belt_speed(&self) -> f64 {
        match (self.pace, self.pulley_radius_m) {
            (Some(Pace::Turning { rev_per_s }), Some(radius)) => shown_rate(
                rev_per_s * std::f64::consts::TAU * radius,
                SHOWN_MAX_BELT_M_S,
            ),
            _ => 0.0,
        }
    }

    fn advance(&mut self, pace: Option<Pace>, dt: f64) {
        self.pace = pace;
        let rate = match pace {
            Some(Pace::Turning { rev_per_s }) => rev_per_s,
            Some(Pace::Cycling { cycles_per_s }) => cycles_per_s,
            _ => 0.0,
        };
        self.turns += shown_rate(rate, SHOWN_MAX_REV_S) * dt;
        self.belt_m += self.belt_speed() * dt;
    }
}

/// A part of a machine that moves, with the turns it has gone through.
#[derive(Component, Debug, Clone)]
pub struct MovingPart {
    pub part: Part,
    pub turns: f64,
}

/// What a conveyor carries, from the medium of the flow it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    Bottle,
    Case,
    Pallet,
}

impl Load {
    fn of_medium(medium: &str) -> Option<Load> {
        match medium {
            "bottles" => Some(Load::Bottle),
            "cases" => Some(Load::Case),
            "pallets" => Some(Load::Pallet),
            _ => None,
        }
    }

    /// Full extents of one item.
    pub fn size(self) -> Vec3 {
        match self {
            Load::Bottle => Vec3::new(0.07, 0.24, 0.07),
            Load::Case => Vec3::new(0.4, 0.26, 0.3),
            Load::Pallet => Vec3::new(1.2, 0.5, 1.0),
        }
    }

    /// Centre-to-centre distance on the belt.
    pub fn spacing_m(self) -> f32 {
        match self {
            Load::Bottle => 0.3,
            Load::Case => 0.7,
            Load::Pallet => 1.6,
        }
    }
}

/// The lane of items along a conveyor, in its local frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lane {
    pub load: Load,
    pub length_m: f32,
    /// Height of the belt's top surface.
    pub belt_top_m: f32,
    /// +1 when items travel along the conveyor's local +X, -1 against it.
    pub direction: f32,
}

impl Lane {
    /// Items that fit on the belt.
    pub fn items(&self) -> usize {
        (self.length_m / self.load.spacing_m()).floor().max(1.0) as usize
    }

    /// Where item `index` is along the belt (local X) once the belt has
    /// travelled `belt_m`: items leave at one end and come back at the other.
    pub fn position(&self, index: usize, belt_m: f64) -> f32 {
        let length = f64::from(self.length_m);
        let travelled =
            (belt_m + index as f64 * f64::from(self.load.spacing_m())).rem_euclid(length);
        self.direction * (travelled - length / 2.0) as f32
    }
}

/// The lane on conveyor `id`: what it carries and which way, from the line's
/// flows (towards the asset it feeds, or away from the one feeding it).
pub fn lane_for(line: &Line, id: &str) -> Option<Lane> {
    let conveyor = line.asset(id).filter(|a| a.kind == AssetKind::Conveyor)?;
    let carried = |medium: &str| Load::of_medium(medium).is_some();
    let outgoing = line
        .flows
        .iter()
        .find(|f| f.from == id && carried(&f.medium));
    let incoming = line.flows.iter().find(|f| f.to == id && carried(&f.medium));
    let (flow, towards) = match (outgoing, incoming) {
        (Some(out), _) => (out, true),
        (None, Some(inward)) => (inward, false),
        (None, None) => return None,
    };
    let load = Load::of_medium(&flow.medium)?;
    let neighbour = line.asset(if towards { &flow.to } else { &flow.from })?;
    let local = Quat::from_rotation_y(conveyor.yaw_deg.to_radians()).inverse()
        * (Vec3::from(neighbour.position_m) - Vec3::from(conveyor.position_m));
    let sign = if local.x >= 0.0 { 1.0 } else { -1.0 };
    let size = Vec3::from(conveyor.size_m);
    Some(Lane {
        load,
        length_m: 0.94 * size.x,
        belt_top_m: 0.9 * size.y + 0.015 * size.y,
        direction: if towards { sign } else { -sign },
    })
}

/// One item on a conveyor's belt.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Conveyed {
    pub lane: Lane,
    pub index: usize,
}

/// What the page can read: each asset's pace and the turns shown so far.
#[derive(Resource, Debug, Clone, Default)]
pub struct MotionReport(pub BTreeMap<String, AssetMotion>);

pub struct MotionPlugin;

impl Plugin for MotionPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MotionReport>().add_systems(
            Update,
            (
                equip_assets,
                pace_assets
                    .after(crate::twin_state::TwinSet)
                    .after(crate::data_clock::SilenceSet)
                    .after(crate::timeline::TimelineSet),
                move_parts,
                convey,
            )
                .chain(),
        );
    }
}

/// Gives every new asset its motion, and each conveyor its load.
fn equip_assets(
    mut commands: Commands,
    added: Query<(Entity, &TwinAsset), Added<TwinAsset>>,
    line: Option<Res<LineDescription>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Some(line) = line else {
        return;
    };
    for (entity, asset) in &added {
        let Some(description) = line.0.asset(&asset.id) else {
            continue;
        };
        let pulley = (description.kind == AssetKind::Conveyor)
            .then(|| f64::from(conveyor_pulley_radius(Vec3::from(description.size_m))));
        commands.entity(entity).insert(AssetMotion {
            pulley_radius_m: pulley,
            ..default()
        });
        let Some(lane) = lane_for(&line.0, &asset.id) else {
            continue;
        };
        let size = lane.load.size();
        let (mesh, colour) = match lane.load {
            Load::Bottle => (
                meshes.add(Cylinder::new(size.x / 2.0, size.y)),
                Color::srgba(0.45, 0.75, 0.55, 0.85),
            ),
            Load::Case => (
                meshes.add(Cuboid::from_size(size)),
                Color::srgb(0.66, 0.5, 0.32),
            ),
            Load::Pallet => (
                meshes.add(Cuboid::from_size(size)),
                Color::srgb(0.74, 0.6, 0.42),
            ),
        };
        let material = materials.add(StandardMaterial {
            base_color: colour,
            perceptual_roughness: if lane.load == Load::Bottle { 0.15 } else { 0.9 },
            alpha_mode: if lane.load == Load::Bottle {
                AlphaMode::Blend
            } else {
                AlphaMode::Opaque
            },
            ..default()
        });
        for index in 0..lane.items() {
            commands.spawn((
                Conveyed { lane, index },
                Mesh3d(mesh.clone()),
                MeshMaterial3d(material.clone()),
                Transform::from_xyz(
                    lane.position(index, 0.0),
                    lane.belt_top_m + size.y / 2.0,
                    0.0,
                ),
                Pickable::IGNORE,
                ChildOf(entity),
            ));
        }
    }
}

/// Each asset's pace from the twin on data time, or still in the past.
fn pace_assets(
    mut assets: Query<(&TwinAsset, &mut AssetMotion)>,
    twin: Option<Res<TwinState>>,
    line: Option<Res<LineDescription>>,
    cursor: Option<Res<TimeCursor>>,
    mut report: ResMut<MotionReport>,
    // Animation only: how far to move this frame.
    time: Res<Time<Real>>,
) {
    let (Some(twin), Some(line)) = (twin, line) else {
        return;
    };
    let past = cursor.is_some_and(|c| c.is_past());
    let dt = f64::from(time.delta_secs());
    for (asset, mut motion) in &mut assets {
        let pace = match (past, line.0.asset(&asset.id)) {
            (false, Some(description)) => Some(twin.0.pace(description)),
            _ => None,
        };
        motion.advance(pace, dt);
        report.0.insert(asset.id.clone(), motion.clone());
    }
}

fn move_parts(
    mut parts: Query<(&mut MovingPart, &ChildOf, &mut Transform)>,
    assets: Query<&AssetMotion>,
    time: Res<Time<Real>>,
) {
    let dt = f64::from(time.delta_secs());
    for (mut moving, parent, mut transform) in &mut parts {
        let Ok(motion) = assets.get(parent.parent()) else {
            continue;
        };
        let rate = motion.part_rate(moving.part.motion);
        if rate == 0.0 {
            continue;
        }
        moving.turns += rate * dt;
        let (translation, rotation) = moving.part.pose_after(moving.turns);
        transform.translation = translation;
        transform.rotation = rotation;
    }
}

fn convey(mut items: Query<(&Conveyed, &ChildOf, &mut Transform)>, assets: Query<&AssetMotion>) {
    for (item, parent, mut transform) in &mut items {
        let Ok(motion) = assets.get(parent.parent()) else {
            continue;
        };
        let x = item.lane.position(item.index, motion.belt_m);
        if transform.translation.x != x {
            transform.translation.x = x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Line {
        Line::from_json("demo.json", include_str!("../assets/lines/demo.json")).expect("demo")
    }

    #[test]
    fn shown_rates_are_true_when_slow_and_bounded_when_fast() {
        assert_eq!(shown_rate(0.0, 2.0), 0.0);
        assert_eq!(shown_rate(f64::NAN, 2.0), 0.0);
        assert_eq!(shown_rate(-3.0, 2.0), 0.0);
        assert!((shown_rate(0.05, 2.0) - 0.05).abs() < 0.001);
        let motor = shown_rate(1455.0 / 60.0, 2.0);
        let pump = shown_rate(2955.0 / 60.0, 2.0);
        assert!(motor < 2.0 && pump < 2.0);
        assert!(pump > motor, "faster still looks faster");
    }

    #[test]
    fn bottles_cases_and_pallets_travel_downstream() {
        let line = demo();
        let infeed = lane_for(&line, "CV1").expect("CV1 carries bottles");
        assert_eq!(infeed.load, Load::Bottle);
        // CV1 feeds the filler, which stands further along +X.
        assert_eq!(infeed.direction, 1.0);
        assert_eq!(lane_for(&line, "CV2").expect("cases").load, Load::Case);
        let pallets = lane_for(&line, "CV3").expect("pallets leave the robot");
        assert_eq!(pallets.load, Load::Pallet);
        assert!(lane_for(&line, "P1").is_none(), "a pump carries nothing");

        let before = infeed.position(0, 0.0);
        let after = infeed.position(0, 0.5);
        assert!((after - before - 0.5).abs() < 1e-5, "{before} -> {after}");
        for index in 0..infeed.items() {
            for belt in [0.0, 3.3, 1e6] {
                let x = infeed.position(index, belt);
                assert!(
                    x.abs() <= infeed.length_m / 2.0 + 1e-3,
                    "stays on the belt: {x}"
                );
            }
        }
    }

    #[test]
    fn nothing_moves_while_stopped_or_in_the_past() {
        let mut motion = AssetMotion {
            pulley_radius_m: Some(0.05),
            ..default()
        };
        motion.advance(
            Some(Pace::Turning {
                rev_per_s: 95.0 / 60.0,
            }),
            1.0,
        );
        assert!(motion.turns > 0.0);
        let belt = motion.belt_m;
        // 95 rpm on a 0.1 m pulley: half a metre a second, shown a little slower.
        assert!((0.35..0.5).contains(&belt), "{belt} m");
        let spin = PartMotion::Spin {
            pivot: Vec3::ZERO,
            axis: Vec3::X,
            ratio: 1.0,
        };
        assert!(motion.part_rate(spin) > 0.0);

        let stopped = Pace::Stopped {
            reason: linetwin_twin::StopReason::Stale,
        };
        for pace in [Some(stopped), None] {
            let turns = motion.turns;
            motion.advance(pace, 1.0);
            assert_eq!(motion.turns, turns, "{pace:?}");
            assert_eq!(motion.belt_m, belt);
            assert_eq!(motion.part_rate(spin), 0.0);
        }
    }

    #[test]
    fn a_robot_swings_only_with_its_cycles() {
        let swing = PartMotion::Swing {
            pivot: Vec3::ZERO,
            axis: Vec3::Y,
            amplitude_rad: 1.0,
        };
        let cycling = AssetMotion {
            pace: Some(Pace::Cycling { cycles_per_s: 0.25 }),
            ..default()
        };
        assert!((cycling.part_rate(swing) - 0.25).abs() < 0.02);
        let turning = AssetMotion {
            pace: Some(Pace::Turning { rev_per_s: 50.0 }),
            ..default()
        };
        assert_eq!(
            turning.part_rate(swing),
            0.0,
            "a motor speed is not a cycle"
        );
    }
}
