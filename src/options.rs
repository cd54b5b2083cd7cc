//! Options from the page's URL: `?diagnosis=off` for benchmarks, `?kiosk`
//! (with `&tour=30s&assets=P1,M1`) for shop-floor screens, `&history=1d` to
//! keep a shorter past on a small device. Unknown options are ignored, bad
//! values fall back to defaults.

use bevy::prelude::*;

#[derive(Resource, Debug, Clone, PartialEq)]
pub struct ViewerOptions {
    /// Diagnose waveform blocks (off: only readings and the scene, to
    /// measure what diagnosis costs the frame rate).
    pub diagnosis: bool,
    /// A kiosk screen: no editing controls, large text, a tour.
    pub kiosk: Option<KioskOptions>,
    /// How far back the twin keeps its history, in data seconds (`None`:
    /// the default year).
    pub history_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KioskOptions {
    /// Seconds the tour spends at each stop.
    pub tour_s: f64,
    /// Only these assets are toured (empty: all).
    pub assets: Vec<String>,
}

/// A tour slow enough to read the reason from across the floor.
pub const DEFAULT_TOUR_S: f64 = 20.0;

impl Default for ViewerOptions {
    fn default() -> Self {
        ViewerOptions {
            diagnosis: true,
            kiosk: None,
            history_s: None,
        }
    }
}

/// `30s`, `30`, `2m`, `12h`, `7d`: seconds, at least one.
fn duration_s(text: &str) -> Option<f64> {
    let units = [('d', 86_400.0), ('h', 3600.0), ('m', 60.0), ('s', 1.0)];
    let (number, scale) = units
        .iter()
        .find_map(|&(unit, scale)| text.strip_suffix(unit).map(|n| (n, scale)))
        .unwrap_or((text, 1.0));
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| (v * scale).max(1.0))
}

impl ViewerOptions {
    /// From a query string such as `?diagnosis=off&x=1`.
    pub fn from_query(query: &str) -> Self {
        let mut options = ViewerOptions::default();
        let mut kiosk = false;
        let mut tour_s = DEFAULT_TOUR_S;
        let mut assets = Vec::new();
        for pair in query.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "diagnosis" => options.diagnosis = !matches!(value, "off" | "0" | "false" | "no"),
                "kiosk" => kiosk = !matches!(value, "off" | "0" | "false" | "no"),
                "tour" => tour_s = duration_s(value).unwrap_or(DEFAULT_TOUR_S),
                "history" => options.history_s = duration_s(value),
                "assets" => {
                    assets = value
                        .split(',')
                        .map(str::trim)
                        .filter(|id| !id.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                _ => {}
            }
        }
        options.kiosk = kiosk.then_some(KioskOptions { tour_s, assets });
        options
    }

    /// The options of the page this viewer runs in.
    pub fn of_this_page() -> Self {
        #[cfg(target_arch = "wasm32")]
        {
            let query = web_sys::window()
                .and_then(|w| w.location().search().ok())
                .unwrap_or_default();
            Self::from_query(&query)
        }
        #[cfg(not(target_arch = "wasm32"))]
        Self::default()
    }
}

/// The page URL's fragment (`#…`), if any.
pub fn url_fragment() -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .filter(|h| !h.is_empty())
    }
    #[cfg(not(target_arch = "wasm32"))]
    None
}

/// Replaces the URL's fragment without a reload or a history entry (so the
/// back button still leaves the page); empty removes it.
pub fn replace_url_fragment(fragment: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
            return;
        };
        if location.hash().ok().as_deref() == Some(fragment) {
            return;
        }
        if let Ok(history) = window.history() {
            let url = format!("{path}{search}{fragment}");
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = fragment;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_can_be_switched_off_and_the_rest_is_ignored() {
        assert!(ViewerOptions::from_query("").diagnosis);
        assert!(!ViewerOptions::from_query("?diagnosis=off").diagnosis);
        assert!(!ViewerOptions::from_query("?a=1&diagnosis=0").diagnosis);
        assert!(ViewerOptions::from_query("?diagnosis=on&diagnosis").diagnosis);
        assert!(ViewerOptions::from_query("?%%%&==").diagnosis);
    }

    #[test]
    fn kiosk_options_are_read_with_sensible_defaults() {
        assert_eq!(ViewerOptions::from_query("?diagnosis=off").kiosk, None);
        let kiosk = ViewerOptions::from_query("?kiosk&tour=30s&assets=P1,M1")
            .kiosk
            .unwrap();
        assert_eq!(kiosk.tour_s, 30.0);
        assert_eq!(kiosk.assets, vec!["P1".to_owned(), "M1".to_owned()]);
        let kiosk = ViewerOptions::from_query("?kiosk=1&tour=2m").kiosk.unwrap();
        assert_eq!(kiosk.tour_s, 120.0);
        let kiosk = ViewerOptions::from_query("?kiosk&tour=soon&assets=")
            .kiosk
            .unwrap();
        assert_eq!(kiosk.tour_s, DEFAULT_TOUR_S);
        assert!(kiosk.assets.is_empty());
    }

    #[test]
    fn a_shorter_history_is_asked_for_by_its_span() {
        assert_eq!(ViewerOptions::from_query("?kiosk").history_s, None);
        assert_eq!(
            ViewerOptions::from_query("?history=1d").history_s,
            Some(86_400.0)
        );
        assert_eq!(
            ViewerOptions::from_query("?history=12h").history_s,
            Some(43_200.0)
        );
        assert_eq!(ViewerOptions::from_query("?history=-3d").history_s, None);
        assert_eq!(ViewerOptions::from_query("?history=week").history_s, None);
    }
}
