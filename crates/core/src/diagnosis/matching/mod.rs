//! Matching spectral lines to fault patterns.
//!
//! Every line is judged by its level over the local noise floor: the median
//! of the spectrum within about ±½ shaft order, leaving out the line's own
//! ±2 bins. For an averaged spectrum of pure noise each bin divided by that
//! median follows a known law (a Gamma law of shape `segments`), so a
//! threshold can be set for a chosen false-alarm rate instead of by feel.

mod floor;
mod patterns;
mod repeated;
mod series;

pub use floor::{BIN_FALSE_ALARM, Found, MARGIN_DB, Spectrum, median, significance_db};
pub use patterns::{SPEED_TOLERANCE, Scored, evaluate_spectrum};
pub use repeated::{BandBall, ball_in_two_bands};
pub use series::{SERIES_HARMONICS, SERIES_Z, harmonic_series, keep_best};
