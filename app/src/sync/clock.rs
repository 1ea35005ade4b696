//! The device clock: HLC readings for local ops, corrected by the server's time (learnt from
//! every push and pull answer) and kept on the device.

use crate::idb::IdbStore;
use crate::store::{LocalStore, StoreError, META_CLOCK};
use crate::sync::client::{client, now_ms, Client};
use leptos::task::spawn_local;
use tongxin_shared::{Hlc, HlcClock, MAX_CLOCK_SKEW_MS};

/// The clock kept on the device (a fresh one on first start).
pub async fn load(store: &IdbStore) -> Result<HlcClock, StoreError> {
    Ok(store
        .meta_get(META_CLOCK)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

impl Client {
    /// The next clock reading for a local op (persisted).
    pub fn next_hlc(&self) -> Hlc {
        let hlc = self.clock.borrow_mut().next(now_ms());
        self.save_clock();
        hlc
    }

    fn save_clock(&self) {
        let text = serde_json::to_string(&*self.clock.borrow()).unwrap_or_default();
        spawn_local(async move {
            if let Some(c) = client() {
                let _ = c.store.meta_set(META_CLOCK, &text).await;
            }
        });
    }

    /// Learns the server's time from an answer: local readings follow it from now on.
    pub(crate) fn learn(&self, server_time_ms: u64) {
        self.clock
            .borrow_mut()
            .learn_server_time(server_time_ms, now_ms());
        self.clock_learned.set(true);
        self.save_clock();
    }

    /// Takes the clock back to the server's time when its last reading is further ahead than
    /// the server accepts any stamp — a reading only a wrong device clock can have made (and
    /// which every op carrying it was refused for). Monotonic readings would otherwise keep
    /// re-sent ops ahead.
    pub(crate) fn rewind_if_ahead(&self) {
        let mut clock = self.clock.borrow_mut();
        let now = clock.corrected(now_ms());
        if clock.last.wall_ms > now + MAX_CLOCK_SKEW_MS {
            clock.last = Hlc::new(now, 0);
        }
        drop(clock);
        self.save_clock();
    }

    /// Keeps causality after pulling records stamped up to `max`.
    pub(crate) fn observe(&self, max: Hlc) {
        self.clock.borrow_mut().observe(max, now_ms());
    }
}
