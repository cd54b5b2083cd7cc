//! The timeline: a cursor over the twin's own history. Live by default; a
//! seek moves it to a past data time, and then the scene, the panels and
//! the plots show the line as it was then ([`linetwin_twin::timeline`]
//! reads it back from the history store). `#t=…&asset=…` in the URL opens a
//! moment: the cursor goes there as soon as the history holds it, and while
//! in the past the URL says where the cursor is, so a copied link opens the
//! same moment.

use bevy::prelude::*;
pub use linetwin_twin::deep_link::DeepLink;
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
