//! The 3D line: floor, lights, one entity per asset built from its kind's
//! shape (or its glTF model) in its kind's finish, flows drawn on the floor,
//! and the health colour shown on every asset each frame as an overlay
//! that does not repaint the machine: a stack-light beacon on top, a halo
//! on the floor, and a glow of the body.

use std::collections::HashMap;

use bevy::prelude::*;
use linetwin_core::line::{Asset, AssetKind, Line};

use linetwin_twin::AssetStatus;

use crate::colours::status_colour;
use crate::line_source::LineDescription;
use crate::motion::MovingPart;
use crate::selection::{Selection, on_asset_clicked};
use crate::shapes::{Paint, Part, PartMotion, PartShape, parts_for};
use crate::twin_state::TwinState;

/// The root entity of an asset in the scene.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub struct TwinAsset {
    pub id: String,
}

/// The materials that show this asset's health: its body (which glows in
/// the status colour), its beacon lamp and its floor halo.
#[derive(Component, Debug, Clone)]
pub struct HealthPaint {
    pub body: Handle<StandardMaterial>,
    pub beacon: Handle<StandardMaterial>,
    pub halo: Handle<StandardMaterial>,
}

/// Where the asset's beacon lamp is, in its local frame.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct BeaconPoint(pub Vec3);

/// How strongly a body glows in its status colour: enough to read the
/// colour across a hall, little enough to still see the machine's paint.
pub const BODY_GLOW: f32 = 0.3;

/// The finish of a kind of machine: base colour, metallic, roughness.
pub fn finish(kind: AssetKind) -> (Color, f32, f32) {
    match kind {
        // Painted steel in the colours drives and pumps ship in.
        AssetKind::Motor => (Color::srgb(0.12, 0.26, 0.46), 0.3, 0.45),
        AssetKind::Pump => (Color::srgb(0.1, 0.3, 0.52), 0.3, 0.45),
        AssetKind::Gearbox => (Color::srgb(0.42, 0.45, 0.48), 0.3, 0.5),
        AssetKind::Fan => (Color::srgb(0.36, 0.44, 0.39), 0.25, 0.55),
        AssetKind::Compressor => (Color::srgb(0.82, 0.83, 0.8), 0.1, 0.6),
        AssetKind::Robot => (Color::srgb(0.93, 0.45, 0.08), 0.15, 0.4),
        // Food-contact machines and frames: brushed stainless.
        AssetKind::Conveyor | AssetKind::Filler | AssetKind::Capper | AssetKind::Labeller => {
            (Color::srgb(0.78, 0.8, 0.82), 0.85, 0.32)
        }
    }
}

/// Where a beacon sits on an asset of `size`: on a short mast at the back
/// corner of its top, where the machine does not hide it from the front.
pub fn beacon_point(size: Vec3) -> Vec3 {
    Vec3::new(
        0.5 * size.x - 0.12_f32.min(0.2 * size.x),
        size.y + BEACON_MAST_M + 0.5 * BEACON_LAMP_M,
        -0.5 * size.z + 0.12_f32.min(0.2 * size.z),
    )
}

const BEACON_MAST_M: f32 = 0.25;
const BEACON_LAMP_M: f32 = 0.18;

/// A point on the asset, in its local frame, that a click surely hits: the
/// centre of its largest health-coloured part.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct PickPoint(pub Vec3);

pub fn pick_point(parts: &[Part], size: Vec3) -> Vec3 {
    let volume = |p: &&Part| {
        let half = p.half_extents();
        half.x * half.y * half.z
    };
    parts
        .iter()
        .filter(|p| p.paint == Paint::Health)
        .max_by(|a, b| volume(a).total_cmp(&volume(b)))
        .map_or(Vec3::Y * size.y / 2.0, |p| p.translation)
}

/// The ring on the floor that marks the selected asset.
#[derive(Component, Debug)]
pub struct SelectionMarker;

/// Axis-aligned bounds of the whole line on the floor, for framing the camera.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct LineBounds {
    pub min: Vec3,
    pub max: Vec3,
}

impl LineBounds {
    pub fn of(line: &Line) -> Self {
        let mut min = Vec3::splat(f32::INFINITY);
        let mut max = Vec3::splat(f32::NEG_INFINITY);
        for asset in &line.assets {
            let centre = Vec3::from(asset.position_m);
            let reach = Vec3::new(
                asset.size_m[0].max(asset.size_m[2]) / 2.0,
                0.0,
                asset.size_m[0].max(asset.size_m[2]) / 2.0,
            );
            min = min.min(centre - reach);
            max = max.max(centre + reach + Vec3::Y * asset.size_m[1]);
        }
        LineBounds { min, max }
    }

    pub fn centre(&self) -> Vec3 {
        (self.min + self.max) / 2.0
    }

    pub fn radius(&self) -> f32 {
        (self.max - self.min).length() / 2.0
    }
}

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ClearColor(Color::srgb(0.09, 0.1, 0.12)))
            .add_systems(
                Update,
                (
                    spawn_line.run_if(resource_added::<LineDescription>),
                    paint_health.after(crate::diagnosis::DiagnosisSet),
                )
                    .chain(),
            );
    }
}

/// Materials shared by every asset, by paint.
struct Palette {
    steel: Handle<StandardMaterial>,
    dark: Handle<StandardMaterial>,
    accent: Handle<StandardMaterial>,
    rubber: Handle<StandardMaterial>,
}

impl Palette {
    fn new(materials: &mut Assets<StandardMaterial>) -> Self {
        let mut paint = |colour: Color, metallic: f32, roughness: f32| {
            materials.add(StandardMaterial {
                base_color: colour,
                metallic,
                perceptual_roughness: roughness,
                ..default()
            })
        };
        Palette {
            steel: paint(Color::srgb(0.72, 0.74, 0.77), 0.8, 0.35),
            dark: paint(Color::srgb(0.16, 0.17, 0.19), 0.1, 0.8),
            accent: paint(Color::srgb(0.16, 0.32, 0.58), 0.2, 0.5),
            rubber: paint(Color::srgb(0.07, 0.07, 0.08), 0.0, 0.92),
        }
    }
}

fn spawn_line(
    mut commands: Commands,
    line: Res<LineDescription>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    asset_server: Option<Res<AssetServer>>,
) {
    let line = &line.0;
    let bounds = LineBounds::of(line);
    commands.insert_resource(bounds);
    let palette = Palette::new(&mut materials);
    let mut mesh_cache: HashMap<String, Handle<Mesh>> = HashMap::new();

    let floor_size = (bounds.max - bounds.min).xz() + Vec2::splat(8.0);
    commands.spawn((
        Mesh3d(meshes.add(Plane3d::default().mesh().size(floor_size.x, floor_size.y))),
        MeshMaterial3d(materials.add(StandardMaterial {
            base_color: Color::srgb(0.22, 0.23, 0.25),
            perceptual_roughness: 0.95,
            ..default()
        })),
        Transform::from_xyz(bounds.centre().x, 0.0, bounds.centre().z),
        Pickable::IGNORE,
        Name::new("floor"),
    ));
    commands.spawn((
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: true,
            ..default()
        },
        Transform::from_xyz(bounds.centre().x + 8.0, 20.0, bounds.centre().z + 12.0)
            .looking_at(bounds.centre(), Vec3::Y),
    ));
    // WebGL2 has no image-based light to spare and takes one directional
    // light only; a cool point light high on the far side and a
    // sky-tinted ambient stand in for a hemisphere light, so shaded sides
    // read as form, not black. 2.5e7 lm at about 24 m gives some 3 500 lx.
    commands.spawn((
        PointLight {
            intensity: 2.5e7,
            range: 150.0,
            color: Color::srgb(0.75, 0.83, 1.0),
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(bounds.centre().x - 6.0, 14.0, bounds.centre().z - 18.0),
        Name::new("fill light"),
    ));
    commands.insert_resource(GlobalAmbientLight {
        color: Color::srgb(0.85, 0.9, 1.0),
        brightness: 300.0,
        ..default()
    });
    spawn_aisles(&mut commands, bounds, &mut meshes, &mut materials);

    let marker_mesh = meshes.add(Torus::new(0.9, 1.0));
    let marker_material = materials.add(StandardMaterial {
        base_color: Color::WHITE,
        emissive: LinearRgba::rgb(2.0, 2.0, 2.0),
        unlit: true,
        ..default()
    });

    let beacon_lamp = meshes.add(Cylinder::new(0.08, BEACON_LAMP_M));
    let beacon_mast = meshes.add(Cylinder::new(0.015, BEACON_MAST_M));
    let halo_mesh = meshes.add(Cuboid::new(1.0, 0.004, 1.0));
    for asset in &line.assets {
        let (base_color, metallic, perceptual_roughness) = finish(asset.kind);
        let health = materials.add(StandardMaterial {
            base_color,
            metallic,
            perceptual_roughness,
            ..default()
        });
        let status_material = |alpha: f32| StandardMaterial {
            base_color: status_colour(AssetStatus::NoData).with_alpha(alpha),
            alpha_mode: if alpha < 1.0 {
                AlphaMode::Blend
            } else {
                AlphaMode::Opaque
            },
            unlit: true,
            ..default()
        };
        let beacon = materials.add(status_material(1.0));
        let halo = materials.add(status_material(HALO_ALPHA));
        let footprint = asset.size_m[0].max(asset.size_m[2]) * 0.62 + 0.2;
        let size = Vec3::from(asset.size_m);
        let parts = parts_for(asset.kind, size);
        let beacon_at = beacon_point(size);
        let root = commands
            .spawn((
                TwinAsset {
                    id: asset.id.clone(),
                },
                HealthPaint {
                    body: health.clone(),
                    beacon: beacon.clone(),
                    halo: halo.clone(),
                },
                BeaconPoint(beacon_at),
                PickPoint(if asset.model.is_some() {
                    Vec3::Y * size.y / 2.0
                } else {
                    pick_point(&parts, size)
                }),
                asset_transform(asset),
                Visibility::default(),
                Name::new(asset.id.clone()),
            ))
            .observe(on_asset_clicked)
            .id();
        commands.spawn((
            SelectionMarker,
            Mesh3d(marker_mesh.clone()),
            MeshMaterial3d(marker_material.clone()),
            Transform::from_xyz(0.0, 0.02, 0.0).with_scale(Vec3::new(footprint, 0.3, footprint)),
            Visibility::Hidden,
            Pickable::IGNORE,
            ChildOf(root),
        ));
        commands.spawn((
            Mesh3d(beacon_lamp.clone()),
            MeshMaterial3d(beacon),
            Transform::from_translation(beacon_at),
            ChildOf(root),
        ));
        commands.spawn((
            Mesh3d(beacon_mast.clone()),
            MeshMaterial3d(palette.steel.clone()),
            Transform::from_translation(beacon_at.with_y(size.y + BEACON_MAST_M / 2.0)),
            ChildOf(root),
        ));
        commands.spawn((
            Mesh3d(halo_mesh.clone()),
            MeshMaterial3d(halo),
            Transform::from_xyz(0.0, 0.012, 0.0).with_scale(Vec3::new(
                size.x + 0.5,
                1.0,
                size.z + 0.5,
            )),
            Pickable::IGNORE,
            ChildOf(root),
        ));
        match (&asset.model, &asset_server) {
            (Some(model), Some(server)) => {
                // A glTF keeps its own materials; its beacon and halo carry the health colour.
                commands.spawn((
                    WorldAssetRoot(server.load(GltfAssetLabel::Scene(0).from_asset(model.clone()))),
                    Transform::default(),
                    ChildOf(root),
                ));
            }
            _ => {
                for part in parts {
                    let material = match part.paint {
                        Paint::Health => health.clone(),
                        Paint::Steel => palette.steel.clone(),
                        Paint::Dark => palette.dark.clone(),
                        Paint::Accent => palette.accent.clone(),
                        Paint::Rubber => palette.rubber.clone(),
                    };
                    let key = format!("{:?}", part.shape);
                    let mesh = mesh_cache
                        .entry(key)
                        .or_insert_with(|| meshes.add(mesh_of(part.shape)))
                        .clone();
                    let mut entity = commands.spawn((
                        Mesh3d(mesh),
                        MeshMaterial3d(material),
                        Transform {
                            translation: part.translation,
                            rotation: part.rotation,
                            ..default()
                        },
                        ChildOf(root),
                    ));
                    if part.motion != PartMotion::Still {
                        entity.insert(MovingPart { part, turns: 0.0 });
                    }
                }
            }
        }
    }

    spawn_flows(&mut commands, line, &mut meshes, &mut materials);
}

/// Opacity of the health halo on the floor.
const HALO_ALPHA: f32 = 0.45;

/// Safety-yellow aisle lines along both sides of the line, as on a real floor.
fn spawn_aisles(
    commands: &mut Commands,
    bounds: LineBounds,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) {
    let length = bounds.max.x - bounds.min.x + 4.0;
    let mesh = meshes.add(Cuboid::new(length, 0.004, 0.1));
    let material = materials.add(StandardMaterial {
        base_color: Color::srgb(0.95, 0.78, 0.1),
        perceptual_roughness: 0.8,
        ..default()
    });
    for z in [bounds.min.z - 1.2, bounds.max.z + 1.2] {
        commands.spawn((
            Mesh3d(mesh.clone()),
            MeshMaterial3d(material.clone()),
            Transform::from_xyz(bounds.centre().x, 0.003, z),
            Pickable::IGNORE,
            Name::new("aisle line"),
        ));
    }
}

fn asset_transform(asset: &Asset) -> Transform {
    Transform::from_translation(Vec3::from(asset.position_m))
        .with_rotation(Quat::from_rotation_y(asset.yaw_deg.to_radians()))
}

fn mesh_of(shape: PartShape) -> Mesh {
    match shape {
        PartShape::Box(size) => Cuboid::from_size(size).into(),
        PartShape::Cylinder { radius, height } => Cylinder::new(radius, height).into(),
        PartShape::Sphere { radius } => Sphere::new(radius).into(),
    }
}

/// Flows as painted lanes on the floor between the assets they join; torque
/// links are left out, the coupled machines already touch.
fn spawn_flows(
    commands: &mut Commands,
    line: &Line,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) {
    let lane = meshes.add(Cuboid::new(1.0, 0.01, 1.0));
    let mut lane_materials: HashMap<&str, Handle<StandardMaterial>> = HashMap::new();
    for flow in &line.flows {
        if flow.medium == "torque" {
            continue;
        }
        let (Some(from), Some(to)) = (line.asset(&flow.from), line.asset(&flow.to)) else {
            continue;
        };
        let a = Vec3::from(from.position_m).with_y(0.006);
        let b = Vec3::from(to.position_m).with_y(0.006);
        let length = a.distance(b);
        if length < 1e-3 {
            continue;
        }
        let colour = match flow.medium.as_str() {
            "product" | "CIP return" => Color::srgb(0.2, 0.6, 0.85),
            "compressed air" | "air" => Color::srgb(0.75, 0.8, 0.85),
            _ => Color::srgb(0.85, 0.75, 0.35),
        };
        let material = lane_materials
            .entry(flow.medium.as_str())
            .or_insert_with(|| {
                materials.add(StandardMaterial {
                    base_color: colour.with_alpha(0.55),
                    alpha_mode: AlphaMode::Blend,
                    unlit: true,
                    ..default()
                })
            })
            .clone();
        let yaw = (b.z - a.z).atan2(b.x - a.x);
        commands.spawn((
            Mesh3d(lane.clone()),
            MeshMaterial3d(material),
            Transform::from_translation((a + b) / 2.0)
                .with_rotation(Quat::from_rotation_y(-yaw))
                .with_scale(Vec3::new(length, 1.0, 0.12)),
            Pickable::IGNORE,
            Name::new(format!("flow {} -> {}", flow.from, flow.to)),
        ));
    }
}

/// Emissive glow of a body in the status colour: always a little, more
/// when selected, and an asset in zone D pulses so that it is seen across a
/// shop floor.
pub fn glow(status: AssetStatus, selected: bool, seconds: f32) -> LinearRgba {
    let base = status_colour(status).to_linear();
    let pulse = if status == AssetStatus::Level(linetwin_core::iso::Zone::D) {
        0.35 + 0.35 * (seconds * 4.0).sin()
    } else {
        0.0
    };
    let selection = if selected { 0.25 } else { 0.0 };
    base * (BODY_GLOW + pulse + selection)
}

// A Bevy system: each parameter is one resource or query it reads.
#[allow(clippy::too_many_arguments)]
fn paint_health(
    assets: Query<(&TwinAsset, &HealthPaint, &Children)>,
    mut markers: Query<&mut Visibility, With<SelectionMarker>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    twin: Option<Res<TwinState>>,
    selection: Res<Selection>,
    forecast: Option<Res<crate::what_if::ForecastView>>,
    cursor: Option<Res<crate::timeline::TimeCursor>>,
    // Animation only: the pulse of zone D.
    time: Res<Time<Real>>,
) {
    for (asset, paint, children) in &assets {
        let past = cursor
            .as_ref()
            .and_then(|c| c.moment.as_ref().filter(|_| c.is_past()));
        let live = match past {
            Some(moment) => moment.status(&asset.id),
            None => twin
                .as_ref()
                .map_or(AssetStatus::NoData, |t| t.0.status(&asset.id)),
        };
        // A forecast paints the predicted level instead (the banner says so).
        let status = forecast.as_ref().map_or(live, |f| f.shown(&asset.id, live));
        let selected = selection.0.as_deref() == Some(asset.id.as_str());
        let colour = status_colour(status);
        let emissive = glow(status, selected, time.elapsed_secs());
        if materials
            .get(&paint.body)
            .is_some_and(|m| m.emissive != emissive)
            && let Some(mut material) = materials.get_mut(&paint.body)
        {
            material.emissive = emissive;
        }
        for (handle, alpha) in [(&paint.beacon, 1.0), (&paint.halo, HALO_ALPHA)] {
            let wanted = colour.with_alpha(alpha);
            if materials
                .get(handle)
                .is_some_and(|m| m.base_color != wanted)
                && let Some(mut material) = materials.get_mut(handle)
            {
                material.base_color = wanted;
            }
        }
        for child in children.iter() {
            if let Ok(mut visibility) = markers.get_mut(child) {
                let wanted = if selected {
                    Visibility::Visible
                } else {
                    Visibility::Hidden
                };
                if *visibility != wanted {
                    *visibility = wanted;
                }
            }
        }
    }
}
