//! The fan-out from producers to viewers, and the small helpers every
//! WebSocket task shares.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use linetwin_core::protocol::{NoticeLevel, TextMessage};

/// Frames kept for a slow viewer before it starts losing them. A round of
/// demo waveforms is ~18 frames of 64 KiB, so this holds several rounds
/// (and bounds the memory a stalled connection can pin to ~8 MiB).
pub(crate) const CHANNEL_CAPACITY: usize = 128;

/// A socket whose send does not finish in this time is treated as dead:
/// otherwise a vanished kiosk would pin its task until TCP gives up.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// One frame for every viewer. Both payloads are reference-counted, so the
/// broadcast clones a pointer per viewer, not the bytes.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Frame {
    pub(crate) fn text(message: &TextMessage) -> Self {
        Frame::Text(message.to_json().into())
    }

    pub(crate) fn into_message(self) -> Message {
        match self {
            Frame::Text(text) => Message::Text(text),
            Frame::Binary(bytes) => Message::Binary(bytes),
        }
    }
}

pub(crate) fn text_message(message: &TextMessage) -> Message {
    Message::Text(message.to_json().into())
}

pub(crate) fn warning(message: String) -> Message {
    text_message(&TextMessage::Notice {
        level: NoticeLevel::Warning,
        message,
    })
}

pub(crate) fn going_away() -> Message {
    Message::Close(Some(CloseFrame {
        code: close_code::AWAY,
        reason: Utf8Bytes::from_static("server shutting down"),
    }))
}

/// The credential behind the connection was revoked, signed out or expired.
pub(crate) fn withdrawn() -> Message {
    policy_close("your sign-in ended or was revoked")
}

pub(crate) fn policy_close(reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: close_code::POLICY,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// Why a send gave up; the caller only needs to stop.
#[derive(Debug)]
pub(crate) struct SocketGone;

pub(crate) async fn send(socket: &mut WebSocket, message: Message) -> Result<(), SocketGone> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(SocketGone),
    }
}

/// Completes once the server is stopping (or gone). The watch guard is
/// dropped here, before any await of the caller: it is not `Send`.
pub(crate) async fn stopping(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// After the peer's close frame: keep reading so the library sends its
/// close reply (it goes out on the next read), until the stream ends.
/// Bounded, so a peer that keeps talking cannot hold the task.
pub(crate) async fn finish_close(socket: &mut WebSocket) {
    let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}
