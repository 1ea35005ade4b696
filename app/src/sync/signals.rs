//! The reactive sync state the screens render, and the badge drawn from it.

use crate::listing::rows::ListRow;
use crate::sync::badge::{Badge, Local, Round, Snapshot};
use leptos::prelude::*;
use std::sync::Arc;
use tongxin_shared::case::Deadlines;
use tongxin_shared::wire::TileLayer;
use tongxin_shared::{Collection, RecordId};

/// The reactive sync state the screens render.
#[derive(Clone, Copy)]
pub struct SyncSignals {
    /// Whether the device's own state is read yet (the badge says "loading" until it is).
    pub local: RwSignal<Local>,
    pub online: RwSignal<bool>,
    pub waiting: RwSignal<usize>,
    pub rejected: RwSignal<usize>,
    pub syncing: RwSignal<bool>,
    /// Records received so far in the current pull (progress on long pulls).
    pub received: RwSignal<usize>,
    /// Photos sent / to send in the current round (progress while photos upload).
    pub photos: RwSignal<Option<(usize, usize)>>,
    /// The last round failed and another is on its way.
    pub failed: RwSignal<bool>,
    /// The last round failed because the server's disk is full (507).
    pub server_full: RwSignal<bool>,
    /// Rounds completed in this page.
    pub rounds: RwSignal<u64>,
    /// The last completed round (kept on the device: "last synced 3 min ago" after a reload).
    pub last_round: RwSignal<Option<Round>>,
    /// When the user last changed something here (ms, device clock).
    pub last_change_ms: RwSignal<u64>,
    pub update_required: RwSignal<bool>,
    /// Bumped whenever local data changed (here or in another tab): views re-read on it.
    pub version: RwSignal<u64>,
    /// Bumped when the hierarchy and places may have changed (subdistricts, communities, grids,
    /// service centres): the map redraws its shapes on this, and only recolours on `version`.
    pub places_version: RwSignal<u64>,
    /// The server refused the session (expired, revoked): sync waits until the user signs in
    /// again; local work goes on and the outbox keeps every op.
    pub signed_out: RwSignal<bool>,
    /// Photos on the device not uploaded yet.
    pub photos_waiting: RwSignal<usize>,
    /// Which records the latest `version` bump brought, when known (a pull, a local commit):
    /// views that keep their own index (the map) update just those instead of re-reading all.
    pub changes: StoredValue<Changes>,
    /// The deployment's case deadlines and escalation steps (`GET /api/v1/settings`; the last
    /// copy fetched, or the built-in table before the first fetch).
    pub deadlines: RwSignal<Deadlines>,
    /// The map's raster base layer, when the deployment configured one (same source).
    pub tiles: RwSignal<Option<TileLayer>>,
    /// The learnt offset of the server's clock to the phone's (`server − phone`, ms): the sync
    /// panel explains a phone clock that is off by more than the server's window.
    pub clock_offset_ms: RwSignal<i64>,
}

/// The records behind one `version` bump. `records: None` means "unknown: re-read everything"
/// (another tab, an area reset); a view that missed a bump re-reads everything too.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub version: u64,
    pub records: Option<Vec<(Collection, RecordId)>>,
    /// The list rows the change stored, in the order it wrote them (a record's last row is the
    /// one stored), for those of `records` it still holds: a pull's (`LocalStore::apply_page`).
    /// The lists' index takes these instead of reading the records back.
    pub rows: Arc<[ListRow]>,
}

impl SyncSignals {
    pub fn new() -> Self {
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        Self {
            local: RwSignal::new(Local::Loading),
            online: RwSignal::new(online),
            waiting: RwSignal::new(0),
            rejected: RwSignal::new(0),
            syncing: RwSignal::new(false),
            received: RwSignal::new(0),
            photos: RwSignal::new(None),
            failed: RwSignal::new(false),
            server_full: RwSignal::new(false),
            rounds: RwSignal::new(0),
            last_round: RwSignal::new(None),
            last_change_ms: RwSignal::new(0),
            update_required: RwSignal::new(false),
            version: RwSignal::new(0),
            places_version: RwSignal::new(0),
            signed_out: RwSignal::new(false),
            photos_waiting: RwSignal::new(0),
            changes: StoredValue::new(Changes::default()),
            deadlines: RwSignal::new(Deadlines::default()),
            tiles: RwSignal::new(None),
            clock_offset_ms: RwSignal::new(0),
        }
    }

    /// The badge's inputs (tracked: a view calling this follows every one).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            local: self.local.get(),
            signed_out: self.signed_out.get(),
            update_required: self.update_required.get(),
            rejected: self.rejected.get(),
            online: self.online.get(),
            syncing: self.syncing.get(),
            received: self.received.get(),
            photos: self.photos.get(),
            failed: self.failed.get(),
            server_full: self.server_full.get(),
            waiting: self.waiting.get(),
            rounds: self.rounds.get(),
            last_round: self.last_round.get(),
            last_change_ms: self.last_change_ms.get(),
        }
    }

    /// The badge's state now (tracked).
    pub fn badge(&self) -> Badge {
        Badge::of(&self.snapshot())
    }
}

impl Default for SyncSignals {
    fn default() -> Self {
        Self::new()
    }
}
