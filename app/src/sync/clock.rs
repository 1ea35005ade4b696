//! The device clock: HLC readings for local ops, corrected by the server's time (learnt from
//! every push and pull answer) and kept on the device.
//!
//! Within a page the correction does not trust the phone's wall clock to keep running: it is
//! anchored to the server's time and the page's monotonic clock (`performance.now()`, which a
//! change of the phone's time does not move). A phone whose time is set back or forward while
//! the app is open — offline, with no server to ask — still stamps and records the right times;
//! the offset kept on the device follows, so a reload on the same wrong clock is right too. A
//! page opened offline anchors to the clock kept on the device until a server answers.

use crate::idb::IdbStore;
use crate::store::{LocalStore, StoreError, META_CLOCK};
use crate::sync::client::{client, now_ms, Client};
use leptos::prelude::Set;
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

/// The page's monotonic clock (ms since the page started), if the browser has one.
fn monotonic_ms() -> Option<f64> {
    web_sys::window()?.performance().map(|p| p.now())
}

/// The anchor a page starts with, before any server answer: the clock kept on the device (the
/// phone's time plus the offset learnt before) at the page's monotonic time now. A page opened
/// offline then follows the monotonic clock too, so a change of the phone's time while it is
/// open changes nothing; the first server answer replaces it ([`Client::learn`]).
pub(crate) fn start_anchor(clock: &HlcClock) -> Option<(u64, f64)> {
    monotonic_ms().map(|mono| (clock.corrected(now_ms()), mono))
}

impl Client {
    /// The time now by the corrected clock (the phone's clock plus the offset to the server's):
    /// what every time a user records is read from.
    pub fn now_ms(&self) -> u64 {
        self.follow_anchor();
        self.clock.borrow().corrected(now_ms())
    }

    /// The next clock reading for a local op (persisted).
    pub fn next_hlc(&self) -> Hlc {
        self.follow_anchor();
        let hlc = self.clock.borrow_mut().next(now_ms());
        self.save_clock();
        hlc
    }

    /// Re-derives the offset from the anchor (the server's time learnt in this page plus the
    /// monotonic time since), so a change of the phone's clock since then changes nothing. A
    /// change beyond the server's window shows in the sync panel.
    fn follow_anchor(&self) {
        let (Some((server_ms, at)), Some(mono)) = (self.anchor.get(), monotonic_ms()) else {
            return;
        };
        let server_now = server_ms + (mono - at).max(0.0) as u64;
        let mut clock = self.clock.borrow_mut();
        let before = clock.offset_ms;
        clock.learn_server_time(server_now, now_ms());
        let offset = clock.offset_ms;
        drop(clock);
        if offset.abs_diff(before) > MAX_CLOCK_SKEW_MS {
            self.sig.clock_offset_ms.set(offset);
        }
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
        self.anchor
            .set(monotonic_ms().map(|mono| (server_time_ms, mono)));
        self.clock_learned.set(true);
        self.sig.clock_offset_ms.set(self.clock.borrow().offset_ms);
        self.save_clock();
    }

    /// Takes the clock back to the server's time when its last reading is further ahead than
    /// the server accepts any stamp — a reading only a wrong device clock can have made (and
    /// which every op carrying it was refused for). Monotonic readings would otherwise keep
    /// re-sent ops ahead.
    pub(crate) fn rewind_if_ahead(&self) {
        self.follow_anchor();
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
        self.follow_anchor();
        self.clock.borrow_mut().observe(max, now_ms());
    }
}
