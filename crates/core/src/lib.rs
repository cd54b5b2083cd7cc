//! linetwin-core: everything that is neither rendering nor I/O.
//!
//! - [`line`]: the line description a plant engineer edits, and its validation.
//! - [`protocol`]: the versioned wire protocol between gateway and viewers.
//! - [`sim`]: the physical signal simulator behind the demo line.
//! - [`dsp`], [`iso`], [`bearing`]: the diagnostics building blocks.
//! - [`diagnosis`]: the diagnosis engine (indicators, ISO zone, envelope
//!   analysis, fault patterns, verdict and health).
//! - [`backoff`]: reconnection policy.
//! - [`access`]: roles and what each may do (the gateway enforces, the viewer hides).
//! - [`validation`]: diagnoses scored against labelled records (`linetwin validate`).
//!
//! Builds for native and wasm32; never depends on Bevy or on an async runtime.

pub mod access;
pub mod backoff;
pub mod bearing;
pub mod diagnosis;
pub mod dsp;
pub mod iso;
pub mod line;
pub mod protocol;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod validation;
