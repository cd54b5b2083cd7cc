//! What a plan's result says about a date: the predicted state of each
//! asset, for the viewer's forecast colouring.

use linetwin_core::iso::Zone;
use serde::Serialize;

use crate::montecarlo::PlanResult;

/// The colour level of an asset at a future date, from its probability
/// of having failed by then: below 5 % it is as good as new (A), below
/// 20 % acceptable (B), below 50 % maintenance is due (C), beyond that
/// failure is more likely than not (D). The same words as ISO 20816's
/// zones, so a forecast reads like the live view.
pub fn predicted_zone(failure_probability: f64) -> Zone {
    match failure_probability {
        p if p < 0.05 => Zone::A,
        p if p < 0.20 => Zone::B,
        p if p < 0.50 => Zone::C,
        _ => Zone::D,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predicted {
    pub asset: String,
    pub failure_probability: f64,
    pub zone: Zone,
}

/// Every asset's predicted state `hours` from now under this plan
/// (interpolated between the result's grid dates).
pub fn at(result: &PlanResult, hours: f64) -> Vec<Predicted> {
    let grid = &result.grid_h;
    let position = grid
        .partition_point(|g| *g <= hours)
        .max(1)
        .min(grid.len().max(2) - 1);
    result
        .assets
        .iter()
        .map(|asset| {
            let curve = &asset.failure_probability;
            let p = match (curve.get(position - 1), curve.get(position)) {
                (Some(a), Some(b)) => {
                    let (g0, g1) = (grid[position - 1], grid[position]);
                    let w = if g1 > g0 {
                        ((hours - g0) / (g1 - g0)).clamp(0.0, 1.0)
                    } else {
                        1.0
                    };
                    a + (b - a) * w
                }
                (Some(a), None) => *a,
                _ => 0.0,
            };
            Predicted {
                asset: asset.asset.clone(),
                failure_probability: p,
                zone: predicted_zone(p),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_failure_probability() {
        assert_eq!(predicted_zone(0.0), Zone::A);
        assert_eq!(predicted_zone(0.1), Zone::B);
        assert_eq!(predicted_zone(0.3), Zone::C);
        assert_eq!(predicted_zone(0.9), Zone::D);
    }
}
