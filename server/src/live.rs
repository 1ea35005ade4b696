//! `GET /api/v1/live`: server-sent events. A subscriber is poked with the latest committed seq
//! (`event: poke`, `id: <seq>`) and answers with a pull. Heartbeat comments every 15 s keep
//! proxies from closing the stream; `Last-Event-ID` resumes (a client behind gets a poke at once).
//! With PostgreSQL, commits of other instances arrive through LISTEN/NOTIFY ([`on_commit`]).
//!
//! Pokes follow the area: every commit is recorded in the [`CommitLog`] with the places of the
//! records it wrote, and a stream pokes only when a commit since its last look wrote somewhere
//! its user may read (`authz::can_read`, the rule of the scoped pull). A warden's phone is not
//! woken by the other 1,199 grids' pushes. When the places are not known (a commit of an older
//! instance, a batch touching many places, commits older than the log keeps) everyone is poked.
//!
//! Pokes are paced: a stream poked less than [`POKE_PACE`] ago waits out the rest of it, and the
//! commits of that time are folded into its next poke (the latest seq). A quiet stream is poked
//! at once; at the morning peak a manager whose area sees a commit every few milliseconds pulls
//! twice a second instead of once per group commit.
//!
//! A stream lives as long as its session: it ends at once when the session is signed out or the
//! user is disabled or changed on this instance (`streams::Streams`), when the session expires,
//! and within [`SESSION_RECHECK`] when that happens on another instance (each stream re-reads
//! its session, one indexed lookup, on that timer). A user holds at most
//! `streams::MAX_STREAMS_PER_USER` streams; a new one beyond ends the oldest.

use crate::store::OnCommit;
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
use tokio::time::Instant;
use tongxin_shared::authz::{can_read, Place, Principal};
use tongxin_shared::wire::LiveEvent;

/// Heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// How often a stream re-reads its session (the bound on ending it after a sign-out, or a
/// disabling, done on another instance).
pub const SESSION_RECHECK: Duration = Duration::from_secs(30);

/// The least time between two pokes of one stream (the commits in between are folded into the
/// second). It bounds the pulls a busy area's managers make at the peak.
pub const POKE_PACE: Duration = Duration::from_millis(500);

/// How many recent commits the log keeps for streams to look at.
const LOG_LEN: usize = 4096;

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
    let pace = state.live_pace;
    // The first item is the log's number now: a client behind is poked at once whatever the
    // area (its pull decides); later ones poke only for commits in the user's area, at most
    // one per `pace` (see [`paced`]).
    let pokes = paced(state.commits.subscribe(), pace, move |after, n| {
        let concerns = after.is_none_or(|after| commits.concerns(after, n, &principal));
        let seq = *committed.borrow();
        (concerns && seq > last).then(|| {
            last = seq;
            seq
        })
    });
    let stream = pokes
        .map(|seq| {
            let data = serde_json::to_string(&LiveEvent::Poke { seq }).unwrap_or_default();
            Ok(Event::default()
                .event("poke")
                .id(seq.to_string())
                .data(data))
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

/// One stream's pokes. `decide(after, n)` is asked, with the log's number looked at last
/// (`None` the first time) and the number now, whether to poke and with which seq. The first
/// look is at once. After a poke, the next look waits until `pace` has passed since it, so the
/// commits of that time are folded into one poke carrying the latest seq: at the morning peak a
/// manager's map pulls twice a second, not once per group commit, and a quiet stream is
/// poked as soon as a commit concerns it.
fn paced<F>(numbers: watch::Receiver<u64>, pace: Duration, decide: F) -> impl Stream<Item = u64>
where
    F: FnMut(Option<u64>, u64) -> Option<u64>,
{
    struct Paced<F> {
        numbers: watch::Receiver<u64>,
        seen: Option<u64>,
        quiet_until: Instant,
        decide: F,
    }
    let start = Paced {
        numbers,
        seen: None,
        quiet_until: Instant::now(),
        decide,
    };
    futures_util::stream::unfold(start, move |mut s| async move {
        loop {
            if s.seen.is_some() {
                // The log outlives every stream; a closed channel ends this one.
                s.numbers.changed().await.ok()?;
                tokio::time::sleep_until(s.quiet_until).await;
            }
            let n = *s.numbers.borrow_and_update();
            let poke = (s.decide)(s.seen, n);
            s.seen = Some(n);
            if let Some(seq) = poke {
                s.quiet_until = Instant::now() + pace;
                return Some((seq, s));
            }
        }
    })
}

/// What to do with a commit announced on the database (by another instance, or by this one:
/// then it only repeats what the writer recorded): raise `committed` and record it in the log,
/// so the streams it concerns are poked. Given to [`crate::store::Store::follow_commits`].
pub fn on_commit(committed: watch::Sender<u64>, commits: Arc<CommitLog>) -> OnCommit {
    Arc::new(move |seq, places| {
        committed.send_if_modified(|v| {
            let raise = seq > *v;
            *v = (*v).max(seq);
            raise
        });
        // Also when not raised: a late notice of an earlier commit still pokes the streams it
        // concerns.
        commits.record(places);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongxin_shared::case::Role;
    use tongxin_shared::RecordId;
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

    /// On the runtime's paused clock, which only moves when every task waits: the times below
    /// are exact.
    #[tokio::test(start_paused = true)]
    async fn pokes_are_paced_and_fold_the_commits_in_between() {
        let (tx, rx) = watch::channel(0u64);
        let pace = Duration::from_millis(250);
        let mut looked = Vec::new();
        // Commits numbered …9 are elsewhere: no poke.
        let pokes = paced(rx, pace, |after, n| {
            looked.push((after, n));
            (n > 0 && n % 10 != 9).then_some(n)
        });
        let mut pokes = Box::pin(pokes);
        let start = Instant::now();
        tx.send_replace(1);
        assert_eq!(pokes.next().await, Some(1));
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "a quiet stream is poked at once"
        );
        tx.send_replace(2);
        tx.send_replace(3);
        assert_eq!(pokes.next().await, Some(3), "2 and 3 folded into one poke");
        assert_eq!(
            start.elapsed(),
            pace,
            "no sooner than the pace after the last poke"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        let quiet = Instant::now();
        tx.send_replace(9);
        let nothing = tokio::time::timeout(Duration::from_millis(100), pokes.next()).await;
        assert!(nothing.is_err(), "a commit elsewhere: no poke");
        tx.send_replace(10);
        assert_eq!(pokes.next().await, Some(10));
        assert_eq!(
            quiet.elapsed(),
            Duration::from_millis(100),
            "a commit elsewhere does not hold the next poke back"
        );
        drop(tx);
        assert_eq!(pokes.next().await, None, "the log gone, the stream ends");
        drop(pokes);
        assert_eq!(
            looked,
            [(None, 1), (Some(1), 3), (Some(3), 9), (Some(9), 10)],
            "each look spans the commits since the one before"
        );
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
