//! Time axes on the data's clock: wall time of day for a `unix` stream,
//! simulated time since the start otherwise.

use linetwin_core::protocol::Clock;

/// Label for a data time `t` (seconds) on plot axes and in lists.
pub fn format_data_time(t: f64, clock: Option<Clock>) -> String {
    if !t.is_finite() {
        return String::new();
    }
    match clock {
        Some(Clock::Unix) => {
            let seconds_of_day = t.rem_euclid(86_400.0);
            let h = (seconds_of_day / 3600.0).floor();
            let m = ((seconds_of_day - h * 3600.0) / 60.0).floor();
            let s = seconds_of_day - h * 3600.0 - m * 60.0;
            format!("{h:02.0}:{m:02.0}:{:02.0} UTC", s.floor())
        }
        Some(Clock::Simulated) | None => {
            let sign = if t < 0.0 { "-" } else { "" };
            let t = t.abs();
            let h = (t / 3600.0).floor();
            let m = ((t - h * 3600.0) / 60.0).floor();
            let s = (t - h * 3600.0 - m * 60.0).floor();
            if h > 0.0 {
                format!("{sign}T+{h:.0}:{m:02.0}:{s:02.0}")
            } else {
                format!("{sign}T+{m:.0}:{s:02.0}")
            }
        }
    }
}

/// Words for the axis.
pub fn axis_name(clock: Option<Clock>) -> &'static str {
    match clock {
        Some(Clock::Unix) => "time of day (UTC)",
        Some(Clock::Simulated) | None => "simulated time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_read_as_time_of_day_and_simulated_as_elapsed() {
        // 2026-12-01T19:42:05Z
        assert_eq!(
            format_data_time(1_796_154_125.0, Some(Clock::Unix)),
            "19:42:05 UTC"
        );
        assert_eq!(format_data_time(75.0, Some(Clock::Simulated)), "T+1:15");
        assert_eq!(format_data_time(3725.0, None), "T+1:02:05");
        assert_eq!(format_data_time(f64::NAN, None), "");
    }
}
