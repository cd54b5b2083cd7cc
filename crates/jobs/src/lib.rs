//! linetwin-jobs: the compute the viewer hands off its render thread.
//!
//! - [`diagnose`]: a self-contained diagnosis job for one waveform block
//!   (everything the engine needs travels with it, so a worker needs no line).
//! - [`message`]: the messages between the viewer and a worker, as a JSON
//!   header plus one `f32` payload that the browser transfers without copying.
//! - [`whatif`]: the whole-line Monte Carlo of maintenance plans, in
//!   slices of paths (progress, cancel).
//! - [`runner`]: a small job queue (kinds, progress, cancel) that runs jobs
//!   in slices. The Web Worker (`crates/worker`) and the native inline
//!   executor both drive the same runner, so there is one code path.
//!
//! No Bevy, no browser APIs: builds and tests natively.

pub mod diagnose;
pub mod message;
pub mod runner;
pub mod whatif;

pub use diagnose::{DiagnoseJob, Diagnosed};
pub use message::{JobId, JobSpec, MessageError, Reply, Request};
pub use runner::Runner;
pub use whatif::{WhatIfJob, WhatIfOutcome};
