//! Precompressed copies of the bundle, served by the gateway when the
//! browser accepts them: compressing a 30 MB module per request would cost
//! seconds, once at build time costs nothing.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

#[derive(Debug, Default)]
pub struct Report {
    pub wasm_raw: u64,
    pub wasm_gzip: u64,
    pub wasm_brotli: u64,
}

const COMPRESSIBLE: &[&str] = &["wasm", "js", "html", "css", "json", "svg"];

pub fn precompress(dist: &Path) -> Result<Report> {
    let mut report = Report::default();
    for entry in fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let path = entry?.path();
        let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !COMPRESSIBLE.contains(&extension) {
            continue;
        }
        let raw = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let gzip = gzip(&raw)?;
        let brotli = brotli(&raw)?;
        fs::write(with_suffix(&path, "gz"), &gzip)?;
        fs::write(with_suffix(&path, "br"), &brotli)?;
        if extension == "wasm" {
            report.wasm_raw += raw.len() as u64;
            report.wasm_gzip += gzip.len() as u64;
            report.wasm_brotli += brotli.len() as u64;
        }
    }
    Ok(report)
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

fn brotli(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    // Quality 9 is within a few percent of 11 at a fraction of the time.
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params)?;
    Ok(out)
}
