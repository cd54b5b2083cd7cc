//! What a kiosk shows: how many assets are in each state, and which need
//! attention, worst first. A decision about the twin's state, so it lives
//! here and not in the viewer.

use linetwin_core::iso::Zone;
use serde::Serialize;

use crate::level::AssetStatus;
use crate::twin::Twin;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub a: usize,
    pub b: usize,
    pub c: usize,
    pub d: usize,
    pub stale: usize,
    pub none: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attention {
    pub asset: String,
    pub status: AssetStatus,
    pub why: String,
}

pub fn status_counts(twin: &Twin) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for asset in twin.assets() {
        match twin.status(&asset.id) {
            AssetStatus::Level(Zone::A) => counts.a += 1,
            AssetStatus::Level(Zone::B) => counts.b += 1,
            AssetStatus::Level(Zone::C) => counts.c += 1,
            AssetStatus::Level(Zone::D) => counts.d += 1,
            AssetStatus::Stale => counts.stale += 1,
            AssetStatus::NoData => counts.none += 1,
        }
    }
    counts
}

/// Rank of a status for attention: failure first, then maintenance due,
/// then silence (a silent machine may be a stopped one); healthy or never
/// heard from needs none.
fn urgency(status: AssetStatus) -> Option<u8> {
    match status {
        AssetStatus::Level(Zone::D) => Some(0),
        AssetStatus::Level(Zone::C) => Some(1),
        AssetStatus::Stale => Some(2),
        AssetStatus::Level(Zone::A | Zone::B) | AssetStatus::NoData => None,
    }
}

/// Assets needing attention (zone C or D, or stale), worst first; ties in
/// the order of the line. `only`, when not empty, limits it to those ids.
pub fn needing_attention(twin: &Twin, only: &[String]) -> Vec<Attention> {
    let stale_after = twin.config().stale_after_s;
    let now = twin.now().unwrap_or(0.0);
    let mut found: Vec<(u8, usize, Attention)> = twin
        .assets()
        .filter(|a| only.is_empty() || only.contains(&a.id))
        .filter_map(|asset| {
            let status = twin.status(&asset.id);
            let rank = urgency(status)?;
            let why = match status {
                AssetStatus::Stale => asset
                    .offline_reason(now, stale_after)
                    .unwrap_or_else(|| "no data for longer than the stale limit".to_owned()),
                _ => asset.explanation_at(now, stale_after),
            };
            Some((
                rank,
                asset.ordinal,
                Attention {
                    asset: asset.id.clone(),
                    status,
                    why,
                },
            ))
        })
        .collect();
    found.sort_by_key(|(rank, ordinal, _)| (*rank, *ordinal));
    found.into_iter().map(|(_, _, a)| a).collect()
}

/// Where a kiosk tour is: at an asset needing attention, or the overview
/// between rounds (and all the time when nothing needs attention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "asset", rename_all = "snake_case")]
pub enum TourStop {
    Overview,
    Asset(String),
}

/// A tour: each asset needing attention for one dwell, worst first, then
/// the overview for one dwell, then again with whatever needs attention by
/// then. Time is the caller's (a kiosk paces by wall seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Tour {
    pub dwell_s: f64,
    stop: TourStop,
    since_s: f64,
    /// The round's remaining stops.
    queue: Vec<String>,
}

impl Tour {
    pub fn new(dwell_s: f64) -> Self {
        Tour {
            dwell_s: dwell_s.max(1.0),
            stop: TourStop::Overview,
            since_s: f64::NEG_INFINITY,
            queue: Vec::new(),
        }
    }

    pub fn stop(&self) -> &TourStop {
        &self.stop
    }

    /// The stop at `now_s`, given who needs attention now. An asset that
    /// recovered is skipped; one that worsened joins the next round.
    pub fn advance(&mut self, now_s: f64, attention: &[Attention]) -> &TourStop {
        let still_needed = |id: &str| attention.iter().any(|a| a.asset == id);
        let current_gone = matches!(&self.stop, TourStop::Asset(id) if !still_needed(id));
        if now_s - self.since_s < self.dwell_s && !current_gone {
            return &self.stop;
        }
        self.queue.retain(|id| still_needed(id));
        self.stop = if let Some(next) = (!self.queue.is_empty()).then(|| self.queue.remove(0)) {
            TourStop::Asset(next)
        } else if matches!(self.stop, TourStop::Overview) && !attention.is_empty() {
            self.queue = attention.iter().map(|a| a.asset.clone()).collect();
            TourStop::Asset(self.queue.remove(0))
        } else {
            TourStop::Overview
        };
        self.since_s = now_s;
        &self.stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attention(ids: &[&str]) -> Vec<Attention> {
        ids.iter()
            .map(|id| Attention {
                asset: (*id).to_owned(),
                status: AssetStatus::Level(Zone::C),
                why: String::new(),
            })
            .collect()
    }

    #[test]
    fn a_tour_visits_each_asset_in_turn_then_the_overview() {
        let mut tour = Tour::new(10.0);
        let needed = attention(&["P1", "M1"]);
        let mut stops = Vec::new();
        for t in [0.0, 5.0, 10.0, 20.0, 30.0, 40.0] {
            stops.push(tour.advance(t, &needed).clone());
        }
        let asset = |id: &str| TourStop::Asset(id.to_owned());
        assert_eq!(
            stops,
            vec![
                asset("P1"),
                asset("P1"),
                asset("M1"),
                TourStop::Overview,
                asset("P1"),
                asset("M1")
            ]
        );
    }

    #[test]
    fn a_recovered_asset_is_left_at_once_and_a_calm_line_stays_in_overview() {
        let mut tour = Tour::new(10.0);
        assert_eq!(
            tour.advance(0.0, &attention(&["P1"])),
            &TourStop::Asset("P1".into())
        );
        assert_eq!(tour.advance(3.0, &[]), &TourStop::Overview, "P1 recovered");
        assert_eq!(tour.advance(30.0, &[]), &TourStop::Overview);
    }
}
