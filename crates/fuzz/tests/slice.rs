//! A fixed-seed slice of the fuzzing campaign, run with every test: each
//! decoder of outside data gets 20 000 inputs. None may panic, each must
//! both accept and refuse some (the mutations reach past the first check),
//! no input may allocate more than a bound, and nothing may stay allocated.

use linetwin_fuzz::alloc::CountingAllocator;
use linetwin_fuzz::{fuzz, targets};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const INPUTS: u64 = 20_000;
/// The largest input is 64 KiB; a decoder that allocates 64 MiB for one
/// has believed a length it read.
const MAX_ALLOC_PER_INPUT: usize = 64 * 1024 * 1024;
/// Except in the MCAP reader (mcap 0.26): its string fields reserve the
/// length they claim, a u32, before reading it. That reservation is never
/// written, so it costs address space, not memory; the resident bound
/// below is what the process really used.
const MCAP_STRING_CLAIM: usize = u32::MAX as usize;
const MAX_RESIDENT: usize = 1024 * 1024 * 1024;

#[test]
fn no_decoder_panics_or_allocates_without_bound_on_a_fixed_slice() {
    let mut all = targets::all().expect("the targets' seeds");
    assert_eq!(all.len(), 9, "every decoder has a target");
    let mut failures = Vec::new();
    for target in &mut all {
        let report = fuzz(target, INPUTS, 20_261_204, |_| {});
        eprintln!(
            "{}: {} accepted, {} refused, {} panics, {} kB at most, corpus {}",
            report.target,
            report.accepted,
            report.refused,
            report.panics,
            report.max_input_alloc_bytes.unwrap_or(0) / 1024,
            report.corpus
        );
        assert_eq!(report.inputs, INPUTS);
        if report.panics > 0 {
            failures.push(format!("{}: {:?}", report.target, report.crashes));
        }
        assert!(
            report.accepted > 0,
            "{}: nothing got through",
            report.target
        );
        assert!(report.refused > 0, "{}: nothing was refused", report.target);
        let peak = report
            .max_input_alloc_bytes
            .expect("the counting allocator is installed");
        let bound = if report.target == "recording" {
            MCAP_STRING_CLAIM + MAX_ALLOC_PER_INPUT
        } else {
            MAX_ALLOC_PER_INPUT
        };
        assert!(
            peak < bound,
            "{}: {peak} bytes for one input",
            report.target
        );
        // The Sparkplug host keeps what births told it; nothing else keeps anything.
        let retained = report.retained_bytes.expect("measured");
        let allowed = if report.target == "sparkplug" {
            1 << 20
        } else {
            64 * 1024
        };
        assert!(
            retained < allowed,
            "{}: {retained} bytes retained",
            report.target
        );
    }
    assert!(failures.is_empty(), "panics: {failures:#?}");
    let resident = linetwin_fuzz::alloc::peak_resident_bytes().expect("Linux reports VmHWM");
    assert!(
        resident < MAX_RESIDENT,
        "{resident} bytes resident at the peak"
    );
}
