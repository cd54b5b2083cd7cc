//! One layout from a phone on the shop floor to a 4K wall screen: side
//! panels become drawers on a narrow screen (one open at a time, opened
//! from the status bar), touch targets grow to a finger's size, and a very
//! wide screen is zoomed so text stays readable from a distance.

use bevy::prelude::*;
use bevy_egui::egui;

/// Below this width (egui points) the side panels would leave no 3D view.
pub const NARROW_BELOW_PT: f32 = 760.0;
/// Screens wider than this are zoomed in, up to [`MAX_ZOOM`].
pub const ZOOM_ABOVE_PT: f32 = 2200.0;
pub const MAX_ZOOM: f32 = 2.0;
/// The smallest target a finger hits reliably (Apple HIG, WCAG 2.5.5: 44 px).
pub const TOUCH_TARGET_PT: f32 = 44.0;

/// The layout for a window of this size, in egui points at zoom 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayoutPlan {
    pub narrow: bool,
    pub zoom: f32,
    /// Interaction height: large on narrow (touch) screens.
    pub target_pt: f32,
}

pub fn plan_for(width_pt: f32) -> LayoutPlan {
    let width = if width_pt.is_finite() {
        width_pt
    } else {
        1280.0
    };
    let zoom = (width / ZOOM_ABOVE_PT).clamp(1.0, MAX_ZOOM);
    let narrow = width < NARROW_BELOW_PT;
    LayoutPlan {
        narrow,
        zoom,
        target_pt: if narrow { TOUCH_TARGET_PT } else { 18.0 },
    }
}

/// Which drawer is open on a narrow screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Drawer {
    #[default]
    Closed,
    Assets,
    Details,
}

/// The layout in force and the open drawer.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct Layout {
    pub plan: LayoutPlan,
    pub drawer: Drawer,
    /// The drawer buttons' places on screen, for the page and its tests.
    pub buttons: Vec<(Drawer, egui::Rect)>,
    /// The part of the window the panels leave to the 3D view, points.
    pub free: Option<egui::Rect>,
    /// Primary clicks the panels have seen, and where the pointer was last:
    /// for the page's tests, which click at one or two frames a second.
    pub clicks: u32,
    pub pointer: Option<egui::Pos2>,
    /// The selection the details drawer was last opened for.
    opened_for: Option<String>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            plan: plan_for(1280.0),
            drawer: Drawer::Closed,
            buttons: Vec::new(),
            free: None,
            clicks: 0,
            pointer: None,
            opened_for: None,
        }
    }
}

impl Layout {
    /// Whether a side panel shows: always on a wide screen, as its drawer
    /// on a narrow one.
    pub fn shows(&self, drawer: Drawer) -> bool {
        !self.plan.narrow || self.drawer == drawer
    }

    /// For the page: narrow or not, the open drawer, the zoom, where the
    /// drawer buttons are and what the 3D view has (x, y, width, height in
    /// CSS pixels).
    pub fn to_json(&self) -> serde_json::Value {
        let name = |drawer: Drawer| match drawer {
            Drawer::Closed => "closed",
            Drawer::Assets => "assets",
            Drawer::Details => "details",
        };
        let zoom = self.plan.zoom;
        let css = |r: &egui::Rect| {
            serde_json::json!([
                r.min.x * zoom,
                r.min.y * zoom,
                r.width() * zoom,
                r.height() * zoom
            ])
        };
        serde_json::json!({
            "narrow": self.plan.narrow,
            "drawer": name(self.drawer),
            "zoom": zoom,
            "buttons": self.buttons.iter().map(|(d, r)| (name(*d).to_owned(), css(r))).collect::<serde_json::Map<_, _>>(),
            "free_viewport": self.free.as_ref().map(css),
            "clicks": self.clicks,
            "pointer": self.pointer.map(|p| [p.x * zoom, p.y * zoom]),
        })
    }

    pub fn toggle(&mut self, drawer: Drawer) {
        self.drawer = if self.drawer == drawer {
            Drawer::Closed
        } else {
            drawer
        };
    }

    /// A new selection opens its details (and closes the list that chose
    /// it); clearing it closes the details.
    pub fn follow_selection(&mut self, selected: Option<&str>) {
        if self.opened_for.as_deref() == selected {
            return;
        }
        self.opened_for = selected.map(str::to_owned);
        self.drawer = match (selected, self.drawer) {
            (Some(_), _) => Drawer::Details,
            (None, Drawer::Details) => Drawer::Closed,
            (None, other) => other,
        };
    }

    /// A side panel at its usual (resizable) width, or as a drawer over
    /// most of a narrow screen.
    pub fn sized(&self, panel: egui::Panel, usual: f32, screen_width: f32) -> egui::Panel {
        if self.plan.narrow {
            panel.exact_size(self.panel_width(usual, screen_width))
        } else {
            panel.default_size(usual)
        }
    }

    /// Width of a side panel: its usual width, or most of a narrow screen.
    pub fn panel_width(&self, usual: f32, screen_width: f32) -> f32 {
        if self.plan.narrow {
            (screen_width * 0.88).min(usual.max(320.0))
        } else {
            usual
        }
    }
}

/// Applies the plan to egui (zoom, touch-sized targets) when it changes.
pub fn apply(ctx: &egui::Context, layout: &mut Layout) {
    let (pointer, clicked) = ctx.input(|i| (i.pointer.latest_pos(), i.pointer.primary_clicked()));
    layout.pointer = pointer;
    layout.clicks += u32::from(clicked);
    let width = ctx.content_rect().width() * ctx.zoom_factor();
    let plan = plan_for(width);
    if plan == layout.plan && ctx.zoom_factor() == plan.zoom {
        return;
    }
    layout.plan = plan;
    if !plan.narrow {
        layout.drawer = Drawer::Closed;
    }
    ctx.set_zoom_factor(plan.zoom);
    ctx.all_styles_mut(|style| {
        style.spacing.interact_size.y = plan.target_pt;
        let padding = if plan.narrow { 10.0 } else { 4.0 };
        style.spacing.button_padding = egui::vec2(padding + 2.0, padding);
    });
}

/// The drawer buttons for a narrow screen, in the status bar.
pub fn drawer_buttons(ui: &mut egui::Ui, layout: &mut Layout, has_selection: bool) {
    layout.buttons.clear();
    let mut buttons = vec![(Drawer::Assets, "☰ Assets")];
    if has_selection {
        buttons.push((Drawer::Details, "Details"));
    }
    for (drawer, label) in buttons {
        let response = ui.add(
            egui::Button::selectable(
                layout.drawer == drawer,
                egui::RichText::new(label).size(16.0),
            )
            .min_size(egui::vec2(TOUCH_TARGET_PT * 2.0, TOUCH_TARGET_PT)),
        );
        layout.buttons.push((drawer, response.rect));
        if response.clicked() {
            layout.toggle(drawer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_get_drawers_and_finger_sized_targets_wall_screens_get_zoom() {
        let phone = plan_for(390.0);
        assert!(phone.narrow);
        assert!(phone.target_pt >= TOUCH_TARGET_PT);
        assert_eq!(phone.zoom, 1.0);
        let laptop = plan_for(1280.0);
        assert!(!laptop.narrow);
        assert_eq!(laptop.zoom, 1.0);
        let wall = plan_for(3840.0);
        assert!(!wall.narrow);
        assert!(wall.zoom > 1.5 && wall.zoom <= MAX_ZOOM, "{}", wall.zoom);
        assert_eq!(plan_for(f32::NAN), laptop);
    }

    #[test]
    fn one_drawer_at_a_time_and_a_selection_opens_its_details() {
        let mut layout = Layout {
            plan: plan_for(390.0),
            ..default()
        };
        assert!(!layout.shows(Drawer::Assets));
        layout.toggle(Drawer::Assets);
        assert!(layout.shows(Drawer::Assets));
        layout.follow_selection(Some("FN1"));
        assert_eq!(
            layout.drawer,
            Drawer::Details,
            "the list gives way to the details"
        );
        layout.toggle(Drawer::Details);
        layout.follow_selection(Some("FN1"));
        assert_eq!(
            layout.drawer,
            Drawer::Closed,
            "the same selection does not reopen it"
        );
        layout.follow_selection(None);
        assert_eq!(layout.drawer, Drawer::Closed);
        assert!(layout.panel_width(270.0, 390.0) <= 390.0 * 0.88);

        let wide = Layout::default();
        assert!(wide.shows(Drawer::Assets) && wide.shows(Drawer::Details));
        assert_eq!(wide.panel_width(270.0, 1280.0), 270.0);
    }
}
