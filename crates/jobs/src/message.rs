//! Messages between the viewer and a worker. Each is a JSON header plus one
//! `f32` payload: in the browser the payload's buffer is *transferred*, not
//! copied, and the header stays small.

use linetwin_core::diagnosis::envelope::KurtogramLevel;
use linetwin_core::diagnosis::{DiagnosisSpectra, PlotSpectrum};
use serde::{Deserialize, Serialize};

use crate::diagnose::{DiagnoseJob, Diagnosed};
use crate::whatif::{WhatIfJob, WhatIfOutcome};

pub type JobId = u64;

/// The kinds of job. Each carries everything it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Payload: the block's samples.
    Diagnose(DiagnoseJob),
    /// Payload: none.
    WhatIf(Box<WhatIfJob>),
}

impl JobSpec {
    /// Jobs with the same key replace each other while they wait: only the
    /// newest block of a sensor is worth diagnosing.
    pub fn latest_wins_key(&self) -> Option<&str> {
        match self {
            JobSpec::Diagnose(job) => Some(&job.sensor),
            // A newer question replaces one still waiting; the viewer
            // cancels a running one itself.
            JobSpec::WhatIf(_) => Some("what-if"),
        }
    }
}

/// Viewer to worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    Submit { id: JobId, spec: JobSpec },
    Cancel { id: JobId },
}

/// Worker to viewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The worker has loaded and listens.
    Ready,
    Progress {
        id: JobId,
        done: u64,
        total: u64,
    },
    /// Payload as [`Output`] describes.
    Done {
        id: JobId,
        output: Box<Output>,
        /// Compute time, as the executor measured it.
        #[serde(default)]
        elapsed_ms: Option<f64>,
    },
    Failed {
        id: JobId,
        reason: String,
    },
    Cancelled {
        id: JobId,
    },
}

impl Reply {
    pub fn id(&self) -> Option<JobId> {
        match self {
            Reply::Ready => None,
            Reply::Progress { id, .. }
            | Reply::Done { id, .. }
            | Reply::Failed { id, .. }
            | Reply::Cancelled { id } => Some(*id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpectrumHeader {
    pub bin_hz: f64,
    pub len: usize,
}

/// What a finished job gives back, with the layout of its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Outputs travel boxed (`Reply::Done`), so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Output {
    /// Payload: the samples (handed back for the waveform plot), then the
    /// velocity, envelope and whitened envelope spectra.
    Diagnosed {
        diagnosis: linetwin_core::diagnosis::Diagnosis,
        samples: usize,
        velocity: SpectrumHeader,
        envelope: SpectrumHeader,
        envelope_whitened: SpectrumHeader,
        kurtogram: Vec<KurtogramLevel>,
    },
    /// Payload: none.
    WhatIf(Box<WhatIfOutcome>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    #[error("message header is not valid JSON for this version: {0}")]
    Header(String),
    #[error("the output is not {0}")]
    Kind(&'static str),
    #[error("payload has {actual} values but the header describes {expected}")]
    Payload { expected: usize, actual: usize },
}

pub fn encode<T: Serialize>(message: &T) -> String {
    // Plain data with string keys: serialising cannot fail.
    serde_json::to_string(message).unwrap_or_default()
}

pub fn decode<T: for<'de> Deserialize<'de>>(header: &str) -> Result<T, MessageError> {
    serde_json::from_str(header).map_err(|e| MessageError::Header(e.to_string()))
}

fn spectrum_header(s: &PlotSpectrum) -> SpectrumHeader {
    SpectrumHeader {
        bin_hz: s.bin_hz,
        len: s.values.len(),
    }
}

impl Output {
    /// Packs a diagnosis and its block's samples into a header and one payload.
    pub fn diagnosed(result: Diagnosed, samples: Vec<f32>) -> (Output, Vec<f32>) {
        let Diagnosed { diagnosis, spectra } = result;
        let header = Output::Diagnosed {
            diagnosis,
            samples: samples.len(),
            velocity: spectrum_header(&spectra.velocity),
            envelope: spectrum_header(&spectra.envelope),
            envelope_whitened: spectrum_header(&spectra.envelope_whitened),
            kurtogram: spectra.kurtogram,
        };
        let mut payload = samples;
        payload.reserve(
            spectra.velocity.values.len()
                + spectra.envelope.values.len()
                + spectra.envelope_whitened.values.len(),
        );
        payload.extend_from_slice(&spectra.velocity.values);
        payload.extend_from_slice(&spectra.envelope.values);
        payload.extend_from_slice(&spectra.envelope_whitened.values);
        (header, payload)
    }

    /// The diagnosis, its spectra and the samples back from header and payload.
    pub fn into_diagnosed(self, payload: &[f32]) -> Result<(Diagnosed, Vec<f32>), MessageError> {
        let Output::Diagnosed {
            diagnosis,
            samples,
            velocity,
            envelope,
            envelope_whitened,
            kurtogram,
        } = self
        else {
            return Err(MessageError::Kind("a diagnosis"));
        };
        let expected = samples + velocity.len + envelope.len + envelope_whitened.len;
        if payload.len() != expected {
            return Err(MessageError::Payload {
                expected,
                actual: payload.len(),
            });
        }
        let (waveform, rest) = payload.split_at(samples);
        let (v, rest) = rest.split_at(velocity.len);
        let (e, w) = rest.split_at(envelope.len);
        let plot = |h: SpectrumHeader, values: &[f32], unit: &str| PlotSpectrum {
            bin_hz: h.bin_hz,
            unit: unit.to_owned(),
            values: values.to_vec(),
        };
        let spectra = DiagnosisSpectra {
            velocity: plot(velocity, v, "mm/s"),
            envelope: plot(envelope, e, "g²"),
            envelope_whitened: plot(envelope_whitened, w, ""),
            kurtogram,
        };
        Ok((Diagnosed { diagnosis, spectra }, waveform.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linetwin_core::diagnosis::Diagnoser;
    use linetwin_core::line::Line;
    use linetwin_core::sim::Simulator;

    #[test]
    fn a_diagnosis_survives_the_trip_through_header_and_payload() {
        let line =
            Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap();
        let block = Simulator::new(&line, 1).waveform("P1-DE-V", 100.0).unwrap();
        let (asset, sensor) = line.sensor("P1-DE-V").unwrap();
        let job = DiagnoseJob::for_block(&block, asset, sensor).unwrap();
        let request = encode(&Request::Submit {
            id: 7,
            spec: JobSpec::Diagnose(job.clone()),
        });
        let Request::Submit {
            spec: JobSpec::Diagnose(back),
            ..
        } = decode(&request).unwrap()
        else {
            panic!("not a submit: {request}");
        };
        assert_eq!(back, job);

        let result = job.run(&mut Diagnoser::new(), &block.samples);
        let (output, payload) = Output::diagnosed(result.clone(), block.samples.clone());
        let reply = encode(&Reply::Done {
            id: 7,
            output: Box::new(output),
            elapsed_ms: Some(3.0),
        });
        let Reply::Done { output, .. } = decode::<Reply>(&reply).unwrap() else {
            panic!("not done: {reply}");
        };
        let (diagnosed, samples) = output.clone().into_diagnosed(&payload).unwrap();
        let output = *output;
        assert_eq!(samples, block.samples);
        assert_eq!(diagnosed.diagnosis.verdict, result.diagnosis.verdict);
        assert_eq!(
            diagnosed.spectra.velocity.values,
            result.spectra.velocity.values
        );
        assert_eq!(
            diagnosed.spectra.envelope.values,
            result.spectra.envelope.values
        );
        assert!(matches!(
            output.into_diagnosed(&payload[1..]),
            Err(MessageError::Payload { .. })
        ));
    }

    #[test]
    fn nonsense_headers_are_errors_not_panics() {
        assert!(decode::<Request>("{\"type\":\"submit\"}").is_err());
        assert!(decode::<Reply>("not json").is_err());
        assert!(decode::<Reply>("{\"type\":\"progress\",\"id\":1,\"done\":2,\"total\":3}").is_ok());
    }
}
