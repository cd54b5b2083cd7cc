//! The timeline: a cursor over the twin's own history. Live by default; a
//! seek moves it to a past data time, and then the scene, the panels and
//! the plots show the line as it was then ([`linetwin_twin::timeline`]
//! reads it back from the history store). `#t=…&asset=…` in the URL opens a
//! moment: the cursor goes there as soon as the history holds it, and while
//! in the past the URL says where the cursor is, so a copied link opens the
//! same moment.

use bevy::prelude::*;
use linetwin_twin::timeline::{AlarmMark, Moment, clamp_cursor, moment_at, span};

use crate::line_source::LineDescription;
use crate::selection::Selection;
use crate::twin_state::TwinState;

/// Where the viewer looks: `None` is live.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct TimeCursor {
    pub at: Option<f64>,
    /// The line at the cursor, while it is in the past.
    pub moment: Option<Moment>,
    /// What the history covers and the alarms on it, refreshed each second
    /// of data time.
    pub span: Option<(f64, f64)>,
    pub alarms: Vec<AlarmMark>,
    /// A deep link still waiting for the history to reach its moment.
    pub pending: Option<DeepLink>,
    /// Data time of the last refresh.
    pub refreshed_at: Option<f64>,
}

impl TimeCursor {
    pub fn is_past(&self) -> bool {
        self.at.is_some()
    }
}

/// Every caption the stream told, at its time on the twin's axis, so the
/// timeline can mark them.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct CaptionLog(pub Vec<(f64, String)>);

/// Moves the cursor: `Some(t)` to a data time (clamped to the history),
/// `None` back to live.
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct Seek(pub Option<f64>);

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

pub struct TimelinePlugin;

impl Plugin for TimelinePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(TimeCursor {
            pending: crate::options::url_fragment().and_then(|f| DeepLink::parse(&f)),
            ..default()
        })
        .init_resource::<CaptionLog>()
        .add_message::<Seek>()
        .add_systems(
            Update,
            (log_captions, refresh_span, open_deep_link, seek, sync_url)
                .chain()
                .in_set(TimelineSet)
                .after(crate::diagnosis::DiagnosisSet),
        );
    }
}

/// The cursor's systems, for those that show what it points at.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimelineSet;

fn log_captions(mut captions: MessageReader<crate::stream::Caption>, mut log: ResMut<CaptionLog>) {
    for caption in captions.read() {
        let t = caption.t;
        if !log
            .0
            .iter()
            .any(|(at, text)| *at == t && *text == caption.text)
        {
            log.0.push((t, caption.text.clone()));
        }
    }
    // A demo that loops on a kiosk for weeks must not grow the log for ever.
    let excess = log.0.len().saturating_sub(MAX_CAPTIONS);
    log.0.drain(..excess);
}

/// Captions kept for the timeline's marks, newest last: hundreds of loops
/// of the longest story.
pub const MAX_CAPTIONS: usize = 2000;

/// The span and the alarm marks, once per second of data time (scanning
/// the history every frame would cost frames).
fn refresh_span(
    twin: Option<Res<TwinState>>,
    line: Option<Res<LineDescription>>,
    mut cursor: ResMut<TimeCursor>,
) {
    let (Some(twin), Some(line)) = (twin, line) else {
        return;
    };
    let Some(now) = twin.0.data_time() else {
        return;
    };
    if cursor.refreshed_at.is_some_and(|t| (now - t).abs() < 1.0) {
        return;
    }
    cursor.refreshed_at = Some(now);
    cursor.span = span(&twin.0, &line.0);
    cursor.alarms = linetwin_twin::timeline::alarm_marks(&twin.0);
    // Late observations and diagnoses still land in the recent past.
    if let Some(t) = cursor.at
        && now - t < UNSETTLED_S
    {
        cursor.moment = Some(moment_at(&twin.0, &line.0, t));
    }
}

/// Data seconds behind the newest data within which the past can still
/// change (the reorder window and diagnoses in flight), with room to spare.
const UNSETTLED_S: f64 = 10.0;

/// A deep link's moment, as soon as the history holds it.
fn open_deep_link(
    mut cursor: ResMut<TimeCursor>,
    mut selection: ResMut<Selection>,
    mut seeks: MessageWriter<Seek>,
) {
    let Some(link) = cursor.pending.clone() else {
        return;
    };
    let Some((_, to)) = cursor.span else { return };
    match link.t {
        // The moment is opened once it has settled, so it shows what a
        // viewer that watched it live would show for it.
        Some(t) if t > to - UNSETTLED_S => return,
        Some(t) => {
            seeks.write(Seek(Some(t)));
        }
        None => {}
    }
    if link.asset.is_some() {
        selection.0 = link.asset;
    }
    cursor.pending = None;
}

fn seek(
    mut seeks: MessageReader<Seek>,
    mut cursor: ResMut<TimeCursor>,
    twin: Option<Res<TwinState>>,
    line: Option<Res<LineDescription>>,
) {
    let Some(Seek(wanted)) = seeks.read().last().copied() else {
        return;
    };
    let (Some(twin), Some(line)) = (twin, line) else {
        return;
    };
    cursor.span = span(&twin.0, &line.0);
    cursor.at = wanted.and_then(|t| clamp_cursor(t, cursor.span));
    cursor.moment = cursor.at.map(|t| moment_at(&twin.0, &line.0, t));
}

/// While in the past the URL names the moment and the selection; back
/// live, it names nothing (a link copied then opens the live view).
fn sync_url(cursor: Res<TimeCursor>, selection: Res<Selection>, mut written: Local<String>) {
    if cursor.pending.is_some() {
        return;
    }
    let wanted = cursor.at.map_or(String::new(), |t| {
        DeepLink::fragment(t, selection.0.as_deref())
    });
    if *written != wanted {
        crate::options::replace_url_fragment(&wanted);
        *written = wanted;
    }
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
