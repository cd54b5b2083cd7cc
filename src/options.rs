//! Options from the page's URL (`?diagnosis=off`), for benchmarks and, later,
//! kiosks. Unknown options are ignored, bad values fall back to defaults.

use bevy::prelude::*;

#[derive(Resource, Debug, Clone, PartialEq, Eq)]
pub struct ViewerOptions {
    /// Diagnose waveform blocks (off: only readings and the scene, to
    /// measure what diagnosis costs the frame rate).
    pub diagnosis: bool,
}

impl Default for ViewerOptions {
    fn default() -> Self {
        ViewerOptions { diagnosis: true }
    }
}

impl ViewerOptions {
    /// From a query string such as `?diagnosis=off&x=1`.
    pub fn from_query(query: &str) -> Self {
        let mut options = ViewerOptions::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == "diagnosis" {
                options.diagnosis = !matches!(value, "off" | "0" | "false" | "no");
            }
        }
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
}
