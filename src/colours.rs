//! The one place statuses become colours: ISO zone colours, grey for no data.

use bevy::prelude::*;
use linetwin_core::iso::Zone;
use linetwin_twin::AssetStatus;

pub fn status_colour(status: AssetStatus) -> Color {
    match status {
        AssetStatus::NoData | AssetStatus::Stale => Color::srgb(0.55, 0.57, 0.6),
        AssetStatus::Level(zone) => zone_colour(zone),
    }
}

pub fn zone_colour(zone: Zone) -> Color {
    match zone {
        Zone::A => Color::srgb(0.16, 0.68, 0.32),
        Zone::B => Color::srgb(0.93, 0.80, 0.18),
        Zone::C => Color::srgb(0.96, 0.50, 0.10),
        Zone::D => Color::srgb(0.86, 0.13, 0.11),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_is_distinct_from_every_zone_colour() {
        let grey = status_colour(AssetStatus::Stale);
        assert_eq!(grey, status_colour(AssetStatus::NoData));
        for zone in [Zone::A, Zone::B, Zone::C, Zone::D] {
            assert_ne!(status_colour(AssetStatus::Level(zone)), grey);
        }
    }
}
