//! linetwin-fuzz: every decoder of outside data (WebSocket frames, MQTT
//! and Sparkplug payloads, the line, scenario and config files,
//! recordings, HTTP bodies) driven with millions of inputs on the stable
//! toolchain.
//!
//! No coverage instrumentation (that needs nightly): each [`Target`] starts
//! from valid seeds of its format, and [`mutate::Mutator`] changes them the
//! way broken and hostile producers do, with tokens of the format taken
//! from the seeds (field names, keywords) and edge values of numbers.
//! Inputs a decoder accepts join the corpus, so mutations build on what
//! got through. A panic is caught, counted and kept; allocation per input
//! is measured by [`alloc::CountingAllocator`] when the binary installs it.
//!
//! `cargo xtask fuzz` runs the long campaign; the tests run a short slice
//! with fixed seeds.

pub mod alloc;
pub mod mutate;
pub mod targets;

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use mutate::Mutator;

/// What a decoder made of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read and checked: it would go on.
    Accepted,
    /// Refused with an error, as bad input must be.
    Refused,
}

impl<E> From<Result<(), E>> for Outcome {
    fn from(result: Result<(), E>) -> Self {
        match result {
            Ok(()) => Outcome::Accepted,
            Err(_) => Outcome::Refused,
        }
    }
}

/// A decoder fed one input.
pub type Decoder = Box<dyn FnMut(&[u8]) -> Outcome>;

/// One decoder and how to feed it.
pub struct Target {
    pub name: &'static str,
    /// What outside data it reads, in words.
    pub reads: &'static str,
    pub seeds: Vec<Vec<u8>>,
    /// Longest input tried: what the route or the file format lets in.
    pub max_len: usize,
    pub run: Decoder,
}

/// An input that made a decoder panic.
#[derive(Debug, Clone)]
pub struct Crash {
    pub input: Vec<u8>,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub target: &'static str,
    pub inputs: u64,
    pub accepted: u64,
    pub refused: u64,
    pub panics: u64,
    /// The first few, to reproduce.
    pub crashes: Vec<Crash>,
    /// The most any one input allocated at once beyond what was held
    /// before it (`None` without the counting allocator).
    pub max_input_alloc_bytes: Option<usize>,
    /// Bytes still allocated after the run that were not before it.
    pub retained_bytes: Option<isize>,
    pub corpus: usize,
    /// The process's resident high-water mark after this target.
    pub peak_resident_bytes: Option<usize>,
    pub seconds: f64,
}

impl Report {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "target": self.target,
            "inputs": self.inputs,
            "accepted": self.accepted,
            "refused": self.refused,
            "panics": self.panics,
            "crashes": self.crashes.iter().map(|c| serde_json::json!({
                "message": c.message,
                "input_hex": c.input.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            })).collect::<Vec<_>>(),
            "max_input_alloc_bytes": self.max_input_alloc_bytes,
            "retained_bytes": self.retained_bytes,
            "corpus": self.corpus,
            "peak_resident_bytes": self.peak_resident_bytes,
            "seconds": self.seconds,
            "inputs_per_s": self.inputs as f64 / self.seconds.max(1e-9),
        })
    }
}

/// Inputs kept at most: seeds plus what got through.
const MAX_CORPUS: usize = 512;
/// Crashing inputs kept per target.
const KEPT_CRASHES: usize = 8;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics are caught and counted, not printed: a quiet hook that keeps
/// the message for the report.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(info.to_string()));
        }));
    });
}

/// Runs `inputs` inputs through the target; `progress` hears the count now
/// and then.
pub fn fuzz(target: &mut Target, inputs: u64, seed: u64, mut progress: impl FnMut(u64)) -> Report {
    quiet_panics();
    let started = Instant::now();
    let mut report = Report {
        target: target.name,
        crashes: Vec::with_capacity(KEPT_CRASHES),
        ..Report::default()
    };
    let measuring = alloc::installed();
    let held_before = alloc::current();
    let mut mutator = Mutator::new(seed, &target.seeds);
    let mut corpus = target.seeds.clone();
    let mut max_alloc = 0usize;
    for n in 0..inputs {
        // Every seed as it is first, then mutations of the corpus.
        let input = match corpus
            .get(n as usize)
            .filter(|_| n < target.seeds.len() as u64)
        {
            Some(seed) => seed.clone(),
            None => {
                let base = mutator.pick(&corpus);
                let other = mutator.pick(&corpus);
                mutator.mutate(base, other, target.max_len)
            }
        };
        let before = alloc::reset_peak();
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        max_alloc = max_alloc.max(alloc::peak().saturating_sub(before));
        report.inputs += 1;
        match outcome {
            Ok(Outcome::Accepted) => {
                report.accepted += 1;
                if corpus.len() < MAX_CORPUS {
                    corpus.push(input);
                } else if n % 16 == 0 {
                    let slot = target.seeds.len() + mutator.below(MAX_CORPUS - target.seeds.len());
                    corpus[slot] = input;
                }
            }
            Ok(Outcome::Refused) => report.refused += 1,
            Err(_) => {
                report.panics += 1;
                if report.crashes.len() < KEPT_CRASHES {
                    let message = LAST_PANIC
                        .with(|last| last.borrow_mut().take())
                        .unwrap_or_else(|| "a panic".into());
                    report.crashes.push(Crash { input, message });
                }
            }
        }
        if n % 100_000 == 99_999 {
            progress(n + 1);
        }
    }
    report.corpus = corpus.len();
    drop((corpus, mutator));
    if measuring {
        report.max_input_alloc_bytes = Some(max_alloc);
        // The kept crashing inputs are the report's own.
        let kept: usize = report
            .crashes
            .iter()
            .map(|c| c.input.capacity() + c.message.capacity())
            .sum();
        report.retained_bytes =
            Some(alloc::current() as isize - held_before as isize - kept as isize);
    }
    report.peak_resident_bytes = alloc::peak_resident_bytes();
    report.seconds = started.elapsed().as_secs_f64();
    report
}
