//! The panels' own camera, and the 3D view fitted to the space they leave:
//! the whole line stays visible beside the asset list and the inspector.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, Viewport};
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy_egui::{EguiContexts, PrimaryEguiContext};

use super::FreeViewport;
use crate::camera::OrbitCamera;

pub fn spawn_egui_camera(mut commands: Commands) {
    commands.spawn((
        Camera2d,
        PrimaryEguiContext,
        // Draws nothing but egui, and never casts picking rays at the scene.
        RenderLayers::none(),
        Camera {
            order: 1,
            clear_color: ClearColorConfig::Custom(Color::NONE),
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            ..default()
        },
        Name::new("egui camera"),
    ));
}

/// The free rect in egui points as a viewport in physical pixels, clamped
/// to the target; `None` when nothing is left.
pub fn viewport_for(
    free: [f32; 4],
    pixels_per_point: f32,
    target: UVec2,
) -> Option<(UVec2, UVec2)> {
    let px = |x: f32, y: f32| {
        UVec2::new(
            (x * pixels_per_point).round().max(0.0) as u32,
            (y * pixels_per_point).round().max(0.0) as u32,
        )
        .min(target)
    };
    let min = px(free[0], free[1]);
    let max = px(free[2], free[3]);
    let size = max.saturating_sub(min);
    (size.x > 0 && size.y > 0).then_some((min, size))
}

pub fn fit_3d_viewport(
    mut contexts: EguiContexts,
    free: Res<FreeViewport>,
    mut cameras: Query<&mut Camera, With<OrbitCamera>>,
) {
    let (Some(rect), Ok(ctx), Ok(mut camera)) = (free.0, contexts.ctx_mut(), cameras.single_mut())
    else {
        return;
    };
    let Some(target) = camera.physical_target_size() else {
        return;
    };
    let wanted = viewport_for(
        [rect.min.x, rect.min.y, rect.max.x, rect.max.y],
        ctx.pixels_per_point(),
        target,
    );
    let current = camera
        .viewport
        .as_ref()
        .map(|v| (v.physical_position, v.physical_size));
    if current != wanted {
        camera.viewport = wanted.map(|(physical_position, physical_size)| Viewport {
            physical_position,
            physical_size,
            ..default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_rect_becomes_a_physical_viewport_inside_the_window() {
        let target = UVec2::new(2560, 1600);
        assert_eq!(
            viewport_for([270.0, 30.0, 900.0, 670.0], 2.0, target),
            Some((UVec2::new(540, 60), UVec2::new(1260, 1280)))
        );
        assert_eq!(
            viewport_for([0.0, 0.0, 5000.0, 5000.0], 1.0, target),
            Some((UVec2::ZERO, target))
        );
        assert_eq!(viewport_for([300.0, 30.0, 300.0, 600.0], 1.0, target), None);
    }
}
