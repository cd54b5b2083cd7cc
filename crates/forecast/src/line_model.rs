//! The simulation's view of a line description: maintenance parameters,
//! stages from the flows, buffers, and each component's life as of now.

use std::collections::BTreeMap;

use linetwin_core::line::Line;

use crate::plan::{AssetModel, Calendar, FaultKind, LifeNow, LineModel};
use crate::weibull::Weibull;

/// Each asset's life now and what wears it; assets not in `now` are taken
/// as healthy at the age the description gives.
pub fn from_line(line: &Line, now: &BTreeMap<String, (LifeNow, FaultKind)>) -> LineModel {
    let buffers = |id: &str| {
        line.flows
            .iter()
            .filter(|f| f.from == id || f.to == id)
            .filter_map(|f| f.buffer_h)
            .fold(0.0, f64::max)
    };
    let assets = line
        .assets
        .iter()
        .map(|asset| {
            let params = asset.maintenance_or_default();
            let new_life =
                Weibull::new(params.life_shape, params.life_scale_h).unwrap_or(Weibull {
                    shape: 1.5,
                    scale_h: 40_000.0,
                });
            let (life_now, fault) = now.get(&asset.id).cloned().unwrap_or((
                LifeNow::Weibull {
                    life: new_life,
                    age_h: params.age_h,
                },
                FaultKind::None,
            ));
            AssetModel {
                id: asset.id.clone(),
                new_life,
                now: life_now,
                fault,
                part_cost: params.part_cost,
                labour_h: params.labour_h,
                duration_h: params.duration_h,
                line_stop: params.line_stop,
                failure_cost: params.failure_cost,
                failure_downtime_h: params.failure_downtime_h,
                buffer_h: buffers(&asset.id),
            }
        })
        .collect();
    let ids: Vec<String> = line.assets.iter().map(|a| a.id.clone()).collect();
    let flows: Vec<(String, String, String)> = line
        .flows
        .iter()
        .map(|f| (f.from.clone(), f.to.clone(), f.medium.clone()))
        .collect();
    let economics = &line.maintenance;
    LineModel {
        assets,
        stages: LineModel::stages_from_flows(&ids, &flows),
        production_value_per_h: economics.production_value_per_h,
        labour_rate_per_h: economics.labour_rate_per_h,
        horizon_h: economics.horizon_days * 24.0,
        calendar: Calendar {
            first_day: economics.stop_calendar.first_day,
            every_days: economics.stop_calendar.every_days,
            max_stop_h: economics.stop_calendar.max_stop_h,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_line_becomes_a_model_of_every_asset_in_series() {
        let line =
            Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap();
        let model = from_line(&line, &BTreeMap::new());
        assert_eq!(model.assets.len(), line.assets.len());
        assert_eq!(
            model.stages.len(),
            line.assets.len(),
            "no redundancy in the demo"
        );
        assert!((model.horizon_h - line.maintenance.horizon_days * 24.0).abs() < 1e-9);
        assert!(
            model.assets.iter().any(|a| a.buffer_h > 0.0),
            "the demo has a buffer"
        );
        let p1 = &model.assets[model.index_of("P1").unwrap()];
        assert!(p1.failure_cost > p1.part_cost);
    }
}
