//! A moment named in a URL, `#t=1234.5&asset=P1`: the viewer's timeline
//! reads and writes it, and the gateway puts it in every maintenance
//! notification, so a link from the CMMS opens the asset at the alarm.

/// A moment named in the URL: `#t=1234.5&asset=P1`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeepLink {
    pub t: Option<f64>,
    pub asset: Option<String>,
}

impl DeepLink {
    /// Reads a URL fragment (with or without its `#`); unknown keys and
    /// values that are not numbers are ignored, never an error.
    pub fn parse(fragment: &str) -> Option<DeepLink> {
        let mut link = DeepLink::default();
        for pair in fragment.trim_start_matches('#').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "t" => link.t = value.parse::<f64>().ok().filter(|t| t.is_finite()),
                "asset" if !value.is_empty() => link.asset = Some(decode(value)),
                _ => {}
            }
        }
        (link.t.is_some() || link.asset.is_some()).then_some(link)
    }

    /// The fragment for a cursor and selection, `#t=…&asset=…`.
    pub fn fragment(t: f64, asset: Option<&str>) -> String {
        match asset {
            Some(asset) => format!("#t={t:.1}&asset={}", encode(asset)),
            None => format!("#t={t:.1}"),
        }
    }
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_links_parse_and_round_trip() {
        let link = DeepLink::parse("#t=1234.5&asset=P1").unwrap();
        assert_eq!(link.t, Some(1234.5));
        assert_eq!(link.asset.as_deref(), Some("P1"));
        let fragment = DeepLink::fragment(99.04, Some("P 1/a"));
        assert_eq!(fragment, "#t=99.0&asset=P%201%2Fa");
        assert_eq!(
            DeepLink::parse(&fragment).unwrap().asset.as_deref(),
            Some("P 1/a")
        );
        assert_eq!(DeepLink::parse("t=12").unwrap().t, Some(12.0));
    }

    #[test]
    fn bad_fragments_are_ignored_not_errors() {
        assert_eq!(DeepLink::parse(""), None);
        assert_eq!(DeepLink::parse("#section-2"), None);
        assert_eq!(DeepLink::parse("#t=soon"), None);
        assert_eq!(DeepLink::parse("#t=NaN&x=1"), None);
        let only_asset = DeepLink::parse("#t=inf&asset=M1").unwrap();
        assert_eq!(only_asset.t, None);
        assert_eq!(
            DeepLink::parse("#asset=%ZZ").unwrap().asset.as_deref(),
            Some("%ZZ")
        );
    }
}
