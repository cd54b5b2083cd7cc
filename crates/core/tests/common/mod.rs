//! The real recordings the validation tests read.

use std::path::{Path, PathBuf};

/// The real recordings: `LINETWIN_DATA` (set by `cargo xtask test`), else
/// `shared/data/bearings` beside the checkout. Missing data fails the tests:
/// a validation that passes without its data validates nothing.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("LINETWIN_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bearings"),
        PathBuf::from,
    );
    assert!(
        dir.join("manifest.json").is_file(),
        "the real bearing recordings are missing: no manifest.json in {} (set LINETWIN_DATA to the folder)",
        dir.display()
    );
    dir
}

/// A headerless float32 little-endian file.
pub fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
