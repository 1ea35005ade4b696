//! `GET /api/v1/live`: server-sent events. A subscriber is poked with the latest committed seq
//! (`event: poke`, `id: <seq>`) and answers with a pull. Heartbeat comments every 15 s keep
//! proxies from closing the stream; `Last-Event-ID` resumes (a client behind gets a poke at once).
//! With PostgreSQL, commits of other instances arrive through LISTEN/NOTIFY ([`listen`]).

use crate::store::PgStore;
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;
use tongxin_shared::wire::LiveEvent;

/// Heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The stream needs a valid session (`?access_token=`, as EventSource sends no headers). Pokes
/// carry only a sequence number, never record data: what the subscriber may see is decided by
/// the scoped pull the poke triggers.
pub async fn live(
    State(state): State<AppState>,
    _authed: crate::auth::Authed,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut last: u64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut closing = state.closing.clone();
    let stream = WatchStream::new(state.committed.subscribe())
        .filter_map(move |seq| {
            let event = (seq > last).then(|| {
                last = seq;
                let data = serde_json::to_string(&LiveEvent::Poke { seq }).unwrap_or_default();
                Ok(Event::default()
                    .event("poke")
                    .id(seq.to_string())
                    .data(data))
            });
            std::future::ready(event)
        })
        .take_until(async move {
            let _ = closing.wait_for(|c| *c).await;
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

/// Fans commits of other server instances out to this one's subscribers: LISTEN on the commit
/// channel and raise `committed`. Reconnects with backoff if the connection drops.
pub fn listen(store: &PgStore, committed: watch::Sender<u64>) {
    let pool = store.pool().clone();
    let channel = store.channel().to_owned();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(200);
        loop {
            match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(&channel).await {
                        tracing::warn!(error = %e, "LISTEN failed");
                    } else {
                        backoff = Duration::from_millis(200);
                        loop {
                            match listener.recv().await {
                                Ok(n) => {
                                    if let Ok(seq) = n.payload().parse::<u64>() {
                                        committed.send_if_modified(|v| {
                                            let raise = seq > *v;
                                            *v = (*v).max(seq);
                                            raise
                                        });
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "commit notifications interrupted; reconnecting");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot LISTEN for commits; retrying"),
            }
            if committed.is_closed() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    });
}
