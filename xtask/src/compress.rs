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

/// How hard brotli works: the test bundle is rebuilt often, the shipping
/// bundle once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Quality 9, 4 MiB window: seconds.
    Fast,
    /// Quality 11, 16 MiB window: 14-17 % smaller on the viewer's wasm
    /// than `Fast` (measured), for a minute or two.
    Best,
}

pub fn precompress(dist: &Path, effort: Effort) -> Result<Report> {
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
        let brotli = brotli(&raw, effort)?;
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

fn brotli(data: &[u8], effort: Effort) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let (quality, lgwin) = match effort {
        Effort::Fast => (9, 22),
        Effort::Best => (11, 24),
    };
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn brotli_file(path: &Path) -> Vec<u8> {
        let mut back = Vec::new();
        brotli::BrotliDecompress(
            &mut std::io::Cursor::new(fs::read(path).unwrap()),
            &mut back,
        )
        .unwrap();
        back
    }

    #[test]
    fn precompressed_files_decompress_to_the_original_at_either_effort() {
        let dir = std::env::temp_dir().join(format!("linetwin-compress-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        fs::write(dir.join("a.wasm"), &data).unwrap();
        fs::write(dir.join("notes.txt"), b"not served compressed").unwrap();
        for effort in [Effort::Fast, Effort::Best] {
            let report = precompress(&dir, effort).unwrap();
            assert_eq!(report.wasm_raw, data.len() as u64);
            assert!(report.wasm_brotli < report.wasm_raw);
            assert_eq!(brotli_file(&dir.join("a.wasm.br")), data, "{effort:?}");
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(&fs::read(dir.join("a.wasm.gz")).unwrap()[..])
                .read_to_end(&mut unzipped)
                .unwrap();
            assert_eq!(unzipped, data);
        }
        assert!(
            !dir.join("notes.txt.br").exists(),
            "only web files are precompressed"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
