//! `GET /api/v1/live`: server-sent events. A subscriber is poked with the latest committed seq
//! (`event: poke`, `id: <seq>`) and answers with a pull. Heartbeat comments every 15 s keep
//! proxies from closing the stream; `Last-Event-ID` resumes (a client behind gets a poke at once).
//! With PostgreSQL, commits of other instances arrive through LISTEN/NOTIFY ([`listen`]).
//!
//! Pokes follow the area: every commit is recorded in the [`CommitLog`] with the places of the
//! records it wrote, and a stream pokes only when a commit since its last look wrote somewhere
//! its user may read (`authz::can_read`, the rule of the scoped pull). A warden's phone is not
//! woken by the other 1,199 grids' pushes. When the places are not known (a commit of an older
//! instance, a batch touching many places, commits older than the log keeps) everyone is poked.
//!
//! A stream lives as long as its session: it ends at once when the session is signed out or the
//! user is disabled or changed on this instance (`streams::Streams`), when the session expires,
//! and within [`SESSION_RECHECK`] when that happens on another instance (each stream re-reads
//! its session, one indexed lookup, on that timer). A user holds at most
//! `streams::MAX_STREAMS_PER_USER` streams; a new one beyond ends the oldest.

use crate::store::PgStore;
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;
use tongxin_shared::authz::{can_read, Place, Principal};
use tongxin_shared::wire::LiveEvent;
use tongxin_shared::RecordId;

/// Heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// How often a stream re-reads its session (the bound on ending it after a sign-out, or a
/// disabling, done on another instance).
pub const SESSION_RECHECK: Duration = Duration::from_secs(30);

/// A commit touching more distinct places than this pokes everyone (and its notification
/// carries only the seq: PostgreSQL payloads are limited to 8,000 bytes).
pub const MAX_POKE_PLACES: usize = 48;

/// How many recent commits the log keeps for streams to look at.
const LOG_LEN: usize = 4096;

/// The distinct places a commit wrote, or `None` for "anywhere" (too many to list).
pub fn poke_places(mut places: Vec<Place>) -> Option<Vec<Place>> {
    places.sort();
    places.dedup();
    (places.len() <= MAX_POKE_PLACES).then_some(places)
}

/// The NOTIFY payload of a commit: its last seq, then the places as compact JSON
/// (`[[subdistrict, community, grid], …]`, ids or null) when known.
pub fn encode_notify(last_seq: u64, places: Option<&[Place]>) -> String {
    let Some(places) = places else {
        return last_seq.to_string();
    };
    let rows: Vec<[Option<String>; 3]> = places
        .iter()
        .map(|p| [p.subdistrict, p.community, p.grid].map(|id| id.map(|i| i.to_string())))
        .collect();
    format!(
        "{last_seq} {}",
        serde_json::to_string(&rows).unwrap_or_default()
    )
}

/// Reads a NOTIFY payload: the seq, and the places when the payload lists them (a payload of an
/// older instance, or one that does not parse, means "anywhere").
pub fn decode_notify(payload: &str) -> Option<(u64, Option<Vec<Place>>)> {
    let (seq, rest) = payload
        .split_once(' ')
        .map_or((payload, None), |(s, r)| (s, Some(r)));
    let seq = seq.trim().parse().ok()?;
    let places = rest.and_then(|r| {
        let rows: Vec<[Option<String>; 3]> = serde_json::from_str(r).ok()?;
        rows.into_iter()
            .map(|[s, c, g]| {
                let id = |x: Option<String>| -> Result<Option<RecordId>, ()> {
                    x.map(|v| RecordId::parse(&v).map_err(|_| ())).transpose()
                };
                Some(Place {
                    subdistrict: id(s).ok()?,
                    community: id(c).ok()?,
                    grid: id(g).ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()
    });
    Some((seq, places))
}

/// The recent commits of this instance and of the others (through LISTEN/NOTIFY), with the
/// places they wrote, numbered in the order they became known here.
pub struct CommitLog {
    inner: Mutex<LogInner>,
    /// The number of the last commit recorded (streams wait on it).
    tx: watch::Sender<u64>,
}

#[derive(Default)]
struct LogInner {
    /// (number, places; `None` = anywhere), oldest first.
    entries: VecDeque<(u64, Option<Arc<[Place]>>)>,
    /// The highest number dropped from the front.
    dropped: u64,
}

impl Default for CommitLog {
    fn default() -> Self {
        Self {
            inner: Mutex::new(LogInner::default()),
            tx: watch::channel(0).0,
        }
    }
}

impl CommitLog {
    /// Records a commit. Call it after raising `committed`, so a woken stream pokes with the
    /// new seq.
    pub fn record(&self, places: Option<Vec<Place>>) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = *self.tx.borrow() + 1;
        inner.entries.push_back((n, places.map(Arc::from)));
        while inner.entries.len() > LOG_LEN {
            if let Some((old, _)) = inner.entries.pop_front() {
                inner.dropped = old;
            }
        }
        // Under the lock, so numbers and entries stay in step.
        self.tx.send_replace(n);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// The number of the last commit recorded.
    pub fn last(&self) -> u64 {
        *self.tx.borrow()
    }

    /// Whether a commit numbered in `(after, upto]` wrote somewhere `p` may read (or may have:
    /// places unknown, or dropped from the log already).
    pub fn concerns(&self, after: u64, upto: u64, p: &Principal) -> bool {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if after < inner.dropped {
            return true;
        }
        inner
            .entries
            .iter()
            .filter(|(n, _)| *n > after && *n <= upto)
            .any(|(_, places)| {
                places
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|place| can_read(p, place)))
            })
    }
}

/// Resolves when the session `token_hash` is no longer valid: at `expires_at_ms`, or when a
/// re-check every `every` finds it revoked, expired or its user disabled. A database that does
/// not answer ends nothing (the next re-check tries again).
async fn session_lapses(state: AppState, token_hash: String, expires_at_ms: u64, every: Duration) {
    let expiry = tokio::time::sleep(Duration::from_millis(
        expires_at_ms.saturating_sub(crate::now_ms()),
    ));
    tokio::pin!(expiry);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut expiry => return,
            _ = ticks.tick() => {}
        }
        match crate::auth::session_valid(&*state.store, &token_hash).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(error = %e, "live stream: cannot re-check the session"),
        }
    }
}

/// The stream needs a valid session (`?access_token=`, as EventSource sends no headers). Pokes
/// carry only a sequence number, never record data: what the subscriber may see is decided by
/// the scoped pull the poke triggers. It ends with its session (see the module's doc).
pub async fn live(
    State(state): State<AppState>,
    authed: crate::auth::Authed,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut last: u64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut closing = state.closing.clone();
    let registered = state
        .streams
        .open(&authed.user.username, &authed.token_hash);
    let lapses = session_lapses(
        state.clone(),
        authed.token_hash.clone(),
        authed.expires_at_ms,
        state.live_recheck,
    );
    let principal = authed.principal;
    let commits = state.commits.clone();
    let committed = state.committed.clone();
    // The first item is the log's number now: a client behind is poked at once whatever the
    // area (its pull decides); later ones poke only for commits in the user's area.
    let mut seen: Option<u64> = None;
    let stream = WatchStream::new(state.commits.subscribe())
        .filter_map(move |n| {
            let concerns = seen.is_none_or(|after| commits.concerns(after, n, &principal));
            seen = Some(n);
            let seq = *committed.borrow();
            let event = (concerns && seq > last).then(|| {
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
            // Holds the registration while the stream is open; dropped with the stream.
            let mut registered = registered;
            tokio::select! {
                _ = closing.wait_for(|c| *c) => {}
                _ = &mut registered.ended => {}
                () = lapses => {}
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

/// Fans commits of other server instances out to this one's subscribers: LISTEN on the commit
/// channel and raise `committed`. Reconnects with backoff if the connection drops.
pub fn listen(store: &PgStore, committed: watch::Sender<u64>, commits: Arc<CommitLog>) {
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
                                    if let Some((seq, places)) = decode_notify(n.payload()) {
                                        committed.send_if_modified(|v| {
                                            let raise = seq > *v;
                                            *v = (*v).max(seq);
                                            raise
                                        });
                                        // Also when not raised: a late notice of an earlier
                                        // commit still pokes the streams it concerns.
                                        commits.record(places);
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

#[cfg(test)]
mod tests {
    use super::*;
    use tongxin_shared::case::Role;
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    fn place(g: u128) -> Place {
        Place {
            subdistrict: Some(id(1)),
            community: Some(id(2)),
            grid: Some(id(g)),
        }
    }

    fn warden(g: u128) -> Principal {
        Principal {
            username: "w".into(),
            role: Role::Warden,
            grids: vec![id(g)],
            communities: vec![id(2)],
            subdistricts: vec![],
        }
    }

    #[test]
    fn notify_payloads_round_trip_and_older_ones_mean_anywhere() {
        let places = vec![place(10), Place::default()];
        let payload = encode_notify(42, Some(&places));
        assert!(payload.len() < 8000);
        assert_eq!(decode_notify(&payload), Some((42, Some(places))));
        assert_eq!(decode_notify("42"), Some((42, None)));
        assert_eq!(
            decode_notify("42 [[\"not an id\",null,null]]"),
            Some((42, None))
        );
        assert_eq!(decode_notify("x"), None);
        // The most places a payload lists still fit PostgreSQL's 8,000 bytes.
        let many: Vec<Place> = (0..MAX_POKE_PLACES as u128).map(place).collect();
        assert!(encode_notify(u64::MAX, Some(&many)).len() < 8000);
        assert_eq!(
            poke_places(many.clone()).map(|p| p.len()),
            Some(MAX_POKE_PLACES)
        );
        let more: Vec<Place> = (0..=MAX_POKE_PLACES as u128).map(place).collect();
        assert_eq!(poke_places(more), None);
        assert_eq!(poke_places(vec![place(3), place(3)]), Some(vec![place(3)]));
    }

    #[test]
    fn the_log_says_which_commits_concern_whom() {
        let log = CommitLog::default();
        log.record(Some(vec![place(10)]));
        log.record(Some(vec![place(11)]));
        log.record(Some(vec![]));
        assert_eq!(log.last(), 3);
        assert!(log.concerns(0, 3, &warden(10)));
        assert!(!log.concerns(1, 3, &warden(10)), "only other grids since 1");
        assert!(log.concerns(1, 2, &warden(11)));
        assert!(
            !log.concerns(2, 3, &warden(11)),
            "a batch that wrote nowhere"
        );
        log.record(None);
        assert!(log.concerns(3, 4, &warden(10)), "places unknown: everyone");
        for _ in 0..LOG_LEN {
            log.record(Some(vec![]));
        }
        assert!(
            log.concerns(1, 2, &warden(12)),
            "dropped from the log: everyone"
        );
        assert!(!log.concerns(log.last() - 1, log.last(), &warden(12)));
    }
}
