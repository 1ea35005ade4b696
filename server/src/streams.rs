//! The live streams open on this instance, by user: at most [`MAX_STREAMS_PER_USER`] each (a
//! new stream beyond that ends the user's oldest one), and the means to end a session's or a
//! user's streams at once (sign-out, disabling, a changed area or password). The stream itself
//! is `live.rs`; it also re-checks its session on a timer for changes made elsewhere.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

/// Most live streams one user may hold open on one instance. The app opens one per signed-in
/// browser; a fifth (a new device, or a stream whose connection died unnoticed) ends the
/// oldest, so the device in hand always gets live updates.
pub const MAX_STREAMS_PER_USER: usize = 4;

struct Open {
    id: u64,
    token_hash: String,
    /// Dropping it ends the stream.
    _end: oneshot::Sender<()>,
}

/// The registry of open streams.
#[derive(Default)]
pub struct Streams {
    by_user: Mutex<HashMap<String, VecDeque<Open>>>,
    next_id: AtomicU64,
}

/// A registered stream: dropping it (the stream ended, or its client went away) unregisters it.
pub struct Registered {
    streams: Arc<Streams>,
    username: String,
    id: u64,
    /// Resolves when the stream must end (ended by the registry).
    pub ended: oneshot::Receiver<()>,
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, VecDeque<Open>>> {
        self.by_user.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new stream of `username`'s session `token_hash`, ending the user's oldest
    /// streams beyond the cap.
    pub fn open(self: &Arc<Self>, username: &str, token_hash: &str) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (end, ended) = oneshot::channel();
        let mut by_user = self.lock();
        let list = by_user.entry(username.to_owned()).or_default();
        while list.len() >= MAX_STREAMS_PER_USER {
            list.pop_front();
            tracing::info!(
                max = MAX_STREAMS_PER_USER,
                "live stream limit reached: the oldest stream of the user ended"
            );
        }
        list.push_back(Open {
            id,
            token_hash: token_hash.to_owned(),
            _end: end,
        });
        Registered {
            streams: self.clone(),
            username: username.to_owned(),
            id,
            ended,
        }
    }

    /// Ends every stream of the session `token_hash` (signed out); returns how many.
    pub fn end_session(&self, token_hash: &str) -> usize {
        let mut by_user = self.lock();
        let mut ended = 0;
        by_user.retain(|_, list| {
            let before = list.len();
            list.retain(|o| o.token_hash != token_hash);
            ended += before - list.len();
            !list.is_empty()
        });
        ended
    }

    /// Ends every stream of `username` (disabled, area or password changed); returns how many.
    pub fn end_user(&self, username: &str) -> usize {
        self.lock().remove(username).map_or(0, |list| list.len())
    }

    /// Streams open for `username`.
    pub fn count(&self, username: &str) -> usize {
        self.lock().get(username).map_or(0, VecDeque::len)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut by_user = self.streams.lock();
        if let Some(list) = by_user.get_mut(&self.username) {
            list.retain(|o| o.id != self.id);
            if list.is_empty() {
                by_user.remove(&self.username);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot::error::TryRecvError;

    fn is_ended(r: &mut Registered) -> bool {
        r.ended.try_recv() == Err(TryRecvError::Closed)
    }

    #[test]
    fn a_fifth_stream_ends_the_oldest() {
        let s = Arc::new(Streams::default());
        let mut open: Vec<Registered> = (0..MAX_STREAMS_PER_USER)
            .map(|_| s.open("w1", "t1"))
            .collect();
        let mut other = s.open("w2", "t2");
        assert!(open.iter_mut().all(|r| !is_ended(r)));
        let mut fifth = s.open("w1", "t1");
        assert!(is_ended(&mut open[0]));
        assert!(open[1..].iter_mut().all(|r| !is_ended(r)));
        assert!(!is_ended(&mut fifth) && !is_ended(&mut other));
        assert_eq!(s.count("w1"), MAX_STREAMS_PER_USER);
        drop(open);
        assert_eq!(s.count("w1"), 1, "a dropped stream unregisters itself");
    }

    #[test]
    fn sessions_and_users_are_ended_on_demand() {
        let s = Arc::new(Streams::default());
        let mut a = s.open("w1", "t1");
        let mut b = s.open("w1", "t2");
        let mut c = s.open("w2", "t3");
        assert_eq!(s.end_session("t1"), 1);
        assert!(is_ended(&mut a) && !is_ended(&mut b));
        assert_eq!(s.end_user("w1"), 1);
        assert!(is_ended(&mut b) && !is_ended(&mut c));
        assert_eq!((s.count("w1"), s.count("w2")), (0, 1));
        drop(a);
        assert_eq!(s.count("w2"), 1);
    }
}
