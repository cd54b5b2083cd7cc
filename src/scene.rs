//! The 3D line: floor, lights, one entity per asset built from its kind's
//! shape (or its glTF model), flows drawn on the floor, and the health colour
//! painted onto every asset each frame.

use std::collections::HashMap;

use bevy::prelude::*;
use linetwin_core::line::{Asset, Line};

use linetwin_twin::AssetStatus;

use crate::colours::status_colour;
use crate::line_source::LineDescription;
use crate::selection::{Selection, on_asset_clicked};
use crate::shapes::{Paint, Part, PartShape, parts_for};
use crate::twin_state::TwinState;

/// The root entity of an asset in the scene.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub struct TwinAsset {
    pub id: String,
}

/// The material this asset's health-coloured parts share.
#[derive(Component, Debug, Clone)]
pub struct HealthPaint(pub Handle<StandardMaterial>);

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
    commands.insert_resource(GlobalAmbientLight {
        color: Color::WHITE,
        brightness: 350.0,
        ..default()
    });

    let marker_mesh = meshes.add(Torus::new(0.9, 1.0));
    let marker_material = materials.add(StandardMaterial {
        base_color: Color::WHITE,
        emissive: LinearRgba::rgb(2.0, 2.0, 2.0),
        unlit: true,
        ..default()
    });

    for asset in &line.assets {
        let health = materials.add(StandardMaterial {
            base_color: status_colour(AssetStatus::NoData),
            perceptual_roughness: 0.55,
            metallic: 0.15,
            ..default()
        });
        let footprint = asset.size_m[0].max(asset.size_m[2]) * 0.62 + 0.2;
        let size = Vec3::from(asset.size_m);
        let parts = parts_for(asset.kind, size);
        let root = commands
            .spawn((
                TwinAsset {
                    id: asset.id.clone(),
                },
                HealthPaint(health.clone()),
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
        match (&asset.model, &asset_server) {
            (Some(model), Some(server)) => {
                // A glTF keeps its own materials; a pad under it carries the health colour.
                commands.spawn((
                    WorldAssetRoot(server.load(GltfAssetLabel::Scene(0).from_asset(model.clone()))),
                    Transform::default(),
                    ChildOf(root),
                ));
                commands.spawn((
                    Mesh3d(meshes.add(Cuboid::new(size.x * 1.05, 0.04, size.z * 1.05))),
                    MeshMaterial3d(health.clone()),
                    Transform::from_xyz(0.0, 0.02, 0.0),
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
                    };
                    let key = format!("{:?}", part.shape);
                    let mesh = mesh_cache
                        .entry(key)
                        .or_insert_with(|| meshes.add(mesh_of(part.shape)))
                        .clone();
                    commands.spawn((
                        Mesh3d(mesh),
                        MeshMaterial3d(material),
                        Transform {
                            translation: part.translation,
                            rotation: part.rotation,
                            ..default()
                        },
                        ChildOf(root),
                    ));
                }
            }
        }
    }

    spawn_flows(&mut commands, line, &mut meshes, &mut materials);
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

/// Emissive glow of a material: the selected asset glows softly, and an
/// asset in zone D pulses so that it is seen across a shop floor.
pub fn glow(status: AssetStatus, selected: bool, seconds: f32) -> LinearRgba {
    let base = status_colour(status).to_linear();
    let pulse = if status == AssetStatus::Level(linetwin_core::iso::Zone::D) {
        0.35 + 0.35 * (seconds * 4.0).sin()
    } else {
        0.0
    };
    let selection = if selected { 0.25 } else { 0.0 };
    base * (pulse + selection)
}

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
        let needs_update = materials
            .get(&paint.0)
            .is_some_and(|m| m.base_color != colour || m.emissive != emissive);
        if needs_update && let Some(mut material) = materials.get_mut(&paint.0) {
            material.base_color = colour;
            material.emissive = emissive;
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
