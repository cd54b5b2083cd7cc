//! An allocator that counts: bytes held now and the peak since the last
//! reset, so the fuzzer can say how much one input made a decoder
//! allocate (an allocation bomb shows here long before the machine runs
//! out). A binary or test installs it with
//! `#[global_allocator] static A: CountingAllocator = CountingAllocator;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
static TRAP_ABOVE: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Prints a backtrace for every single allocation above `bytes`: where an
/// input made a decoder believe a length.
pub fn trap_above(bytes: usize) {
    TRAP_ABOVE.store(bytes, Ordering::Relaxed);
}

fn trap(size: usize) {
    if size > TRAP_ABOVE.load(Ordering::Relaxed) {
        // Allocates, but far less than the trap's size: no recursion.
        eprintln!(
            "fuzz: an allocation of {size} bytes at\n{}",
            std::backtrace::Backtrace::force_capture()
        );
    }
}

pub struct CountingAllocator;

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; only
// counters are updated around it.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        trap(layout.size());
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        trap(layout.size());
        // SAFETY: as above.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: a pointer this allocator handed out, with its layout.
        unsafe { System.dealloc(pointer, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        trap(new_size);
        // SAFETY: as above.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        moved
    }
}

/// Whether this process counts its allocations.
pub fn installed() -> bool {
    // Any allocation at all proves it; make one.
    drop(Vec::<u8>::with_capacity(1));
    INSTALLED.load(Ordering::Relaxed)
}

/// Bytes held now.
pub fn current() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

/// The peak since the last reset.
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak from what is held now; returns that.
pub fn reset_peak() -> usize {
    let now = current();
    PEAK.store(now, Ordering::Relaxed);
    now
}

/// The process's resident high-water mark (`VmHWM`), where Linux tells it:
/// memory really used, as opposed to reserved and never touched.
pub fn peak_resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
