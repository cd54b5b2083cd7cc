//! Diagnosis of one waveform block, as a job.

use linetwin_core::diagnosis::{Diagnoser, Diagnosis, DiagnosisInput, DiagnosisSpectra};
use linetwin_core::dsp::acceleration_scale;
use linetwin_core::iso;
use linetwin_core::line::{Asset, BearingGeometry, IsoClass, Sensor};
use linetwin_core::protocol::WaveformBlock;
use serde::{Deserialize, Serialize};

/// Shortest block with a useful spectrum.
pub const MIN_BLOCK_SAMPLES: usize = 1024;

/// Everything the engine needs about one block, besides its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnoseJob {
    pub sensor: String,
    pub t_start: f64,
    pub sample_rate_hz: f64,
    pub shaft_rpm: f64,
    /// Multiplies samples into m/s².
    pub unit_scale: f64,
    pub iso: IsoClass,
    pub bearing: Option<BearingGeometry>,
}

impl DiagnoseJob {
    /// The job for a block of a sensor of the line, or why the block cannot
    /// be judged (unit, sampling rate, length).
    pub fn for_block(
        block: &WaveformBlock,
        asset: &Asset,
        sensor: &Sensor,
    ) -> Result<Self, String> {
        let unit_scale = acceleration_scale(&sensor.unit).ok_or_else(|| {
            format!(
                "unit `{}` is not an acceleration unit this viewer knows",
                sensor.unit
            )
        })?;
        let sample_rate_hz = f64::from(block.sample_rate_hz);
        if sample_rate_hz < 2.0 * iso::BAND_HIGH_HZ {
            return Err(format!(
                "{sample_rate_hz} Hz sampling cannot see the ISO band up to 1 kHz"
            ));
        }
        if block.samples.len() < MIN_BLOCK_SAMPLES {
            return Err(format!(
                "a block of {} samples is too short for a spectrum",
                block.samples.len()
            ));
        }
        Ok(DiagnoseJob {
            sensor: block.sensor.clone(),
            t_start: block.t_start,
            sample_rate_hz,
            shaft_rpm: block
                .shaft_rpm
                .map_or(f64::from(sensor.shaft_rpm(asset)), f64::from),
            unit_scale,
            iso: asset.iso,
            bearing: sensor.bearing.clone(),
        })
    }

    pub fn duration_s(&self, samples: usize) -> f64 {
        samples as f64 / self.sample_rate_hz
    }

    pub fn run(&self, diagnoser: &mut Diagnoser, samples: &[f32]) -> Diagnosed {
        let mut input = DiagnosisInput::new(samples, self.sample_rate_hz, self.shaft_rpm)
            .with_unit_scale(self.unit_scale)
            .with_iso(self.iso.group, self.iso.support);
        if let Some(bearing) = &self.bearing {
            input = input.with_bearing(bearing);
        }
        let (diagnosis, spectra) = diagnoser.diagnose_with_spectra(&input);
        Diagnosed { diagnosis, spectra }
    }
}

/// A diagnosis and the spectra behind it (for the inspector's plots).
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosed {
    pub diagnosis: Diagnosis,
    pub spectra: DiagnosisSpectra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use linetwin_core::line::Line;

    fn demo() -> Line {
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap()
    }

    fn block(rate: f32, n: usize) -> WaveformBlock {
        WaveformBlock {
            sensor: "M1-DE-V".into(),
            t_start: 0.0,
            sample_rate_hz: rate,
            shaft_rpm: None,
            samples: vec![0.0; n],
        }
    }

    #[test]
    fn blocks_that_cannot_be_judged_are_explained() {
        let line = demo();
        let (asset, sensor) = line.sensor("M1-DE-V").unwrap();
        let slow = DiagnoseJob::for_block(&block(1000.0, 4096), asset, sensor).unwrap_err();
        assert!(slow.contains("1 kHz"), "{slow}");
        let short = DiagnoseJob::for_block(&block(12_800.0, 100), asset, sensor).unwrap_err();
        assert!(short.contains("too short"), "{short}");
        let mut odd = sensor.clone();
        odd.unit = "psi".into();
        let unit = DiagnoseJob::for_block(&block(12_800.0, 4096), asset, &odd).unwrap_err();
        assert!(unit.contains("psi"), "{unit}");
    }

    #[test]
    fn a_job_carries_the_speed_of_the_block_or_of_the_line() {
        let line = demo();
        let (asset, sensor) = line.sensor("M1-DE-V").unwrap();
        let mut b = block(12_800.0, 4096);
        let job = DiagnoseJob::for_block(&b, asset, sensor).unwrap();
        assert_eq!(job.shaft_rpm, f64::from(sensor.shaft_rpm(asset)));
        b.shaft_rpm = Some(1234.0);
        assert_eq!(
            DiagnoseJob::for_block(&b, asset, sensor).unwrap().shaft_rpm,
            1234.0
        );
        assert!((job.duration_s(12_800) - 1.0).abs() < 1e-12);
    }
}
