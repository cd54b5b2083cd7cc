//! Reading recordings and parsing parameters, with errors that name the
//! file or the field and say what is wrong.

use std::path::Path;

use anyhow::{Context, Result, bail};
use linetwin_core::line::BearingGeometry;

/// How a file's samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Headerless IEEE float32, little-endian.
    F32,
    /// Text: one sample per line, or columns separated by commas,
    /// semicolons, tabs or spaces; an optional header line.
    Csv,
}

impl Format {
    pub fn from_extension(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("f32" | "bin" | "raw") => Ok(Format::F32),
            Some("csv" | "txt" | "tsv") => Ok(Format::Csv),
            Some(other) => bail!(
                "{}: unknown file type .{other}: use .f32/.bin (float32 little-endian) or .csv/.txt, or say --format",
                path.display()
            ),
            None => bail!(
                "{}: no file extension to tell the format: use .f32/.bin or .csv/.txt, or say --format",
                path.display()
            ),
        }
    }
}

/// Reads every sample of a file. `column` is 1-based; `None` takes the
/// first column that holds a number.
pub fn read_samples(path: &Path, format: Format, column: Option<usize>) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let samples = match format {
        Format::F32 => {
            if bytes.len() % 4 != 0 {
                bail!(
                    "{}: {} bytes is not a whole number of 4-byte float32 samples (truncated, or not float32?)",
                    path.display(),
                    bytes.len()
                );
            }
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        }
        Format::Csv => {
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not UTF-8 text (byte {}): is it a binary file?",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            parse_text(&text, column).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
    };
    if samples.is_empty() {
        bail!("{}: no samples", path.display());
    }
    Ok(samples)
}

fn fields(line: &str) -> impl Iterator<Item = &str> {
    line.split([',', ';', '\t', ' '])
        .map(str::trim)
        .filter(|f| !f.is_empty())
}

/// Parses text samples; the first non-empty line may be a header.
pub fn parse_text(text: &str, column: Option<usize>) -> Result<Vec<f32>> {
    if column == Some(0) {
        bail!("--column counts from 1");
    }
    let mut samples = Vec::new();
    let mut chosen = column.map(|c| c - 1);
    let mut first = true;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line_no = index + 1;
        let is_first = std::mem::replace(&mut first, false);
        let cols: Vec<&str> = fields(line).collect();
        let col = match chosen {
            Some(c) => c,
            None => match cols.iter().position(|f| f.parse::<f64>().is_ok()) {
                Some(c) => *chosen.insert(c),
                None if is_first => continue,
                None => bail!("line {line_no}: no number in {line:?}"),
            },
        };
        match cols.get(col).map(|f| (f, f.parse::<f64>())) {
            Some((_, Ok(v))) => samples.push(v as f32),
            _ if is_first => continue,
            Some((field, Err(_))) => bail!(
                "line {line_no}: column {} is {field:?}, not a number",
                col + 1
            ),
            None => bail!("line {line_no}: no column {} in {line:?}", col + 1),
        }
    }
    Ok(samples)
}

/// Diameters of a bearing given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LengthUnit {
    Mm,
    In,
}

/// Parses "N,d,D[,angle]": rolling elements, ball diameter, pitch
/// diameter, contact angle in degrees (0 when left out).
pub fn parse_bearing(text: &str, unit: LengthUnit) -> Result<BearingGeometry> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if !(3..=4).contains(&parts.len()) {
        bail!(
            "--bearing {text:?}: expected N,d,D,angle (rolling elements, ball diameter, pitch diameter, contact angle in degrees), got {} fields",
            parts.len()
        );
    }
    let number = |i: usize, name: &str| -> Result<f64> {
        let v: f64 = parts[i]
            .parse()
            .map_err(|_| anyhow::anyhow!("--bearing: {name} is {:?}, not a number", parts[i]))?;
        if !v.is_finite() {
            bail!("--bearing: {name} is {v}, not a finite number");
        }
        Ok(v)
    };
    let n = parts[0].parse::<u32>().map_err(|_| {
        anyhow::anyhow!(
            "--bearing: rolling elements N is {:?}, not a whole number",
            parts[0]
        )
    })?;
    if n < 3 {
        bail!("--bearing: rolling elements N is {n}; a bearing has at least 3");
    }
    let scale = if unit == LengthUnit::In { 25.4 } else { 1.0 };
    let d = number(1, "ball diameter d")?;
    let pitch = number(2, "pitch diameter D")?;
    let angle = if parts.len() == 4 {
        number(3, "contact angle")?
    } else {
        0.0
    };
    if d <= 0.0 {
        bail!("--bearing: ball diameter d is {d}; it must be positive");
    }
    if pitch <= 0.0 {
        bail!("--bearing: pitch diameter D is {pitch}; it must be positive");
    }
    if d >= pitch {
        bail!("--bearing: ball diameter d ({d}) must be smaller than pitch diameter D ({pitch})");
    }
    if !(0.0..90.0).contains(&angle) {
        bail!("--bearing: contact angle is {angle}°; it must be at least 0 and under 90");
    }
    Ok(BearingGeometry {
        designation: String::new(),
        rolling_elements: n,
        ball_diameter_mm: d * scale,
        pitch_diameter_mm: pitch * scale,
        contact_angle_deg: angle,
    })
}

/// A positive, finite number for --fs and --rpm.
pub fn positive(name: &str, value: f64) -> Result<f64> {
    if !(value.is_finite() && value > 0.0) {
        bail!("{name} is {value}; it must be a positive number");
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_header_and_columns() {
        assert_eq!(
            parse_text("a\n1\n2.5\n\n-3e-1\n", None).unwrap(),
            vec![1.0, 2.5, -0.3]
        );
        assert_eq!(
            parse_text("time,accel\nx,1\nx,2\n", None).unwrap(),
            vec![1.0, 2.0]
        );
        assert_eq!(
            parse_text("0.0;5\n0.1;6\n", Some(2)).unwrap(),
            vec![5.0, 6.0]
        );
        let err = parse_text("1\n2\nabc\n", None).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn bearing_fields_are_named_in_errors() {
        let b = parse_bearing("9,0.3126,1.537,0", LengthUnit::In).unwrap();
        assert!((b.ball_diameter_mm - 7.94).abs() < 0.01);
        assert!(
            parse_bearing("9,x,39,0", LengthUnit::Mm)
                .unwrap_err()
                .to_string()
                .contains("ball diameter d")
        );
        assert!(
            parse_bearing("nine,7,39", LengthUnit::Mm)
                .unwrap_err()
                .to_string()
                .contains("rolling elements")
        );
        assert!(
            parse_bearing("9,40,39,0", LengthUnit::Mm)
                .unwrap_err()
                .to_string()
                .contains("smaller than pitch")
        );
        assert!(
            parse_bearing("9,7,39,95", LengthUnit::Mm)
                .unwrap_err()
                .to_string()
                .contains("contact angle")
        );
        assert!(
            parse_bearing("9,7", LengthUnit::Mm)
                .unwrap_err()
                .to_string()
                .contains("2 fields")
        );
        assert_eq!(
            parse_bearing("9,7,39", LengthUnit::Mm)
                .unwrap()
                .contact_angle_deg,
            0.0
        );
    }
}
