//! Server-sent events from a broadcast of records: one event per record, named (and given an
//! id) by the caller; a subscriber that falls more than the buffer behind gets a `lagged`
//! event saying how many it missed.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::model::Published;

/// An event's name and id.
pub type Describe<T> = fn(&T) -> (&'static str, Option<String>);

/// The open event streams, bounded: each subscriber holds a broadcast buffer and a task.
#[derive(Debug)]
pub struct SseSlots {
    open: Arc<AtomicUsize>,
    max: usize,
}

/// One open stream; frees its slot when the client goes.
pub struct SseSlot(Arc<AtomicUsize>);

impl Drop for SseSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SseSlots {
    pub fn new(max: usize) -> Self {
        SseSlots {
            open: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A slot, or `None` when `max` streams are open.
    pub fn take(&self) -> Option<SseSlot> {
        self.open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| SseSlot(Arc::clone(&self.open)))
    }
}

pub fn events<T: Serialize + Send + Sync + 'static>(
    rx: broadcast::Receiver<Arc<Published<T>>>,
    slot: SseSlot,
    hello: &'static str,
    describe: Describe<T>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = BroadcastStream::new(rx).map(move |item| {
        // The slot lives as long as the stream.
        let _slot = &slot;
        Ok(match item {
            Ok(record) => {
                let (name, id) = describe(&**record);
                let event = Event::default().event(name);
                let event = match id {
                    Some(id) => event.id(id),
                    None => event,
                };
                match record.json() {
                    Some(json) => event.data(json),
                    None => Event::default().event("error"),
                }
            }
            Err(lagged) => Event::default().event("lagged").data(lagged.to_string()),
        })
    });
    // A first comment sends the response head at once, so clients see the stream open.
    let hello = futures::stream::once(async move { Ok(Event::default().comment(hello)) });
    Sse::new(hello.chain(events)).keep_alive(KeepAlive::default())
}

/// The answer when every event-stream slot is taken.
pub fn too_many_streams() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "10")],
        "too many open event streams (api.max_sse_clients)",
    )
        .into_response()
}
