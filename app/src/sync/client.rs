//! The app's single sync client: what it holds, how it starts, and the local side of every
//! change (commit, recount, refused ops). The network jobs are in sibling modules: `round`
//! (the loop), `push`, `pull`, `photos`, `live`, `clock`, `account`, `tabs`.

use crate::api::ApiError;
use crate::idb::IdbStore;
use crate::listing::rows::ListRow;
use crate::store::{LocalStore, StoreError, META_ACTOR};
use crate::sync::badge::{Local, Round};
use crate::sync::error::SyncError;
use crate::sync::live::Live;
use crate::sync::page::Skipped;
use crate::sync::seen::is_place;
use crate::sync::session::{data_db_name, Session};
use crate::sync::signals::{Changes, SyncSignals};
use crate::sync::tabs;
use futures::channel::mpsc;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;
use tongxin_shared::wire::Me;
use tongxin_shared::{ActorId, Collection, HlcClock, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};

/// Meta key of the last completed round (cursor and time), shown as "last synced …".
pub const META_LAST_ROUND: &str = "last_round";
/// Meta key of the pulled records this app could not read and skipped (with their seq).
pub const META_SKIPPED: &str = "pull_skipped";

/// The app's single sync client.
pub struct Client {
    pub store: IdbStore,
    pub sig: SyncSignals,
    pub actor: ActorId,
    pub(crate) session: RefCell<Session>,
    pub(crate) clock: RefCell<HlcClock>,
    /// The offset to the server's clock was learnt in this page (clock_ahead ops may go again).
    pub(crate) clock_learned: Cell<bool>,
    /// The server's time last learnt in this page (before any answer, the clock kept on the
    /// device at the page's start) and the page's monotonic clock then (`sync::clock`): the
    /// corrected clock runs from it, whatever the phone's clock does.
    pub(crate) anchor: Cell<Option<(u64, f64)>>,
    pub(crate) kick_tx: mpsc::UnboundedSender<()>,
    pub(crate) channel: Option<web_sys::BroadcastChannel>,
    /// The live stream of the sync tab, opened with this session's token (reopened with the new
    /// one when the user signs in again: a stream refused 401 never reconnects by itself).
    pub(crate) live: RefCell<Option<Live>>,
    /// This tab runs the loops, so it keeps a live stream open (reopened after any error).
    pub(crate) live_wanted: Cell<bool>,
    /// When the settings were last fetched in this session (None: at the next round).
    pub(crate) settings_at: Cell<Option<u64>>,
    /// Some request of the running round succeeded (the round's backoff resets on it).
    pub(crate) progress: Cell<bool>,
    /// Photos whose upload was tried in this page: asked about before being sent again (the
    /// server may hold one whose answer was lost).
    pub(crate) photos_tried: RefCell<HashSet<String>>,
    /// A first sync of this page left the lists' rows of its new records unwritten
    /// (`LocalStore::defer_rows`); they are written after the round that completes it.
    pub(crate) rows_deferred: Cell<bool>,
    /// The account as the server just answered it (a sign-in): the next round need not ask.
    pub(crate) me_fresh: Cell<bool>,
}

thread_local! {
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
}

/// The running client (after [`Client::start`]).
pub fn client() -> Option<Rc<Client>> {
    CLIENT.with(|c| c.borrow().clone())
}

pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Client {
    /// Opens the user's local database, restores actor and clock, wires events, elects the
    /// sync tab (per user).
    pub async fn start(sig: SyncSignals, session: Session) -> Result<Rc<Self>, StoreError> {
        let username = session.me.username.clone();
        let me_fresh = session.me_fresh;
        let store = IdbStore::open(&data_db_name(&username)).await?;
        let stored = store
            .meta_get(META_ACTOR)
            .await?
            .and_then(|s| ActorId::parse(&s).ok());
        let actor = if let Some(a) = stored {
            a
        } else {
            let a = ActorId(uuid::Uuid::new_v4());
            store.meta_set(META_ACTOR, &a.to_string()).await?;
            a
        };
        let clock = crate::sync::clock::load(&store).await?;
        let anchor = crate::sync::clock::start_anchor(&clock);
        sig.clock_offset_ms.set(clock.offset_ms);
        let (kick_tx, rx) = mpsc::unbounded();
        let channel = web_sys::BroadcastChannel::new(&format!("tongxin-{username}")).ok();
        let client = Rc::new(Self {
            store,
            sig,
            actor,
            session: RefCell::new(session),
            clock: RefCell::new(clock),
            clock_learned: Cell::new(false),
            anchor: Cell::new(anchor),
            kick_tx,
            channel,
            live: RefCell::new(None),
            live_wanted: Cell::new(false),
            settings_at: Cell::new(None),
            progress: Cell::new(false),
            photos_tried: RefCell::new(HashSet::new()),
            rows_deferred: Cell::new(false),
            me_fresh: Cell::new(me_fresh),
        });
        CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
        client.load_settings().await;
        client.load_last_round().await;
        tabs::wire_events(&client);
        tabs::post(&client, tabs::HELLO);
        client.refresh_counts().await;
        sig.local.set(Local::Ready);
        tabs::elect(client.clone(), rx, &username);
        Ok(client)
    }

    /// A new op of this device, stamped now.
    pub fn op(&self, collection: Collection, record: RecordId, body: OpBody) -> Op {
        Op {
            id: OpId(uuid::Uuid::now_v7()),
            actor: self.actor,
            hlc: self.next_hlc(),
            collection,
            record,
            body,
            schema: SCHEMA_VERSION,
        }
    }

    /// The signed-in user.
    pub fn me(&self) -> Me {
        self.session.borrow().me.clone()
    }

    /// This session's bearer token (for the typed API calls in `crate::api`).
    pub fn token(&self) -> String {
        self.session.borrow().token.clone()
    }

    /// The same user signed in again (after their session ended): sync resumes with the new
    /// token and sends everything that waited.
    pub fn resume(&self, session: Session) {
        self.me_fresh.set(session.me_fresh);
        *self.session.borrow_mut() = session;
        self.sig.signed_out.set(false);
        // Signed in again: the settings are fetched again too.
        self.settings_at.set(None);
        if self.live_wanted.get() {
            self.open_live();
        }
        self.kick();
    }

    /// Tells this user's other tabs that they signed out here (they go to the login screen
    /// too instead of syncing on with a revoked token).
    pub fn announce_sign_out(&self) {
        tabs::post(self, tabs::SIGNED_OUT);
    }

    /// Starts a sync round now (e.g. "sync first" before signing out).
    pub fn kick(&self) {
        let _ = self.kick_tx.unbounded_send(());
    }

    /// Commits a user's ops locally (one transaction) and starts a push.
    pub async fn commit(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        self.store.commit_local(&ops).await?;
        self.sig.last_change_ms.set(now_ms());
        let records = ops.iter().map(|o| (o.collection, o.record)).collect();
        self.changed_places(ops.iter().any(|o| is_place(o.collection)), Some(records))
            .await;
        self.kick();
        Ok(())
    }

    /// Local data changed: re-render, tell other tabs, recount.
    pub async fn changed(&self) {
        self.changed_places(true, None).await;
    }

    /// Local data changed; `places` says whether hierarchy records may be among the changes,
    /// `records` which records changed when known.
    pub(crate) async fn changed_places(
        &self,
        places: bool,
        records: Option<Vec<(Collection, RecordId)>>,
    ) {
        self.changed_rows(places, records, Vec::new()).await;
    }

    /// [`Client::changed_places`], with the list rows the change stored (a pull's, in the
    /// order it wrote them, for those of `records` it still holds: `Changes::rows`).
    pub(crate) async fn changed_rows(
        &self,
        places: bool,
        records: Option<Vec<(Collection, RecordId)>>,
        rows: Vec<ListRow>,
    ) {
        if places {
            self.sig.places_version.update(|v| *v += 1);
        }
        let version = self.sig.version.get_untracked() + 1;
        let rows = rows.into();
        self.sig.changes.set_value(Changes {
            version,
            records,
            rows,
        });
        self.sig.version.set(version);
        tabs::post(self, tabs::CHANGED);
        self.refresh_counts().await;
    }

    /// Re-reads what the badge counts: records waiting, records refused, photos waiting.
    pub async fn refresh_counts(&self) {
        if let Ok(n) = self.store.waiting_records().await {
            self.sig.waiting.set(n);
        }
        if let Ok(r) = self.store.rejected().await {
            // Records that need attention (the panel lists each refused op with its reason).
            let records: BTreeSet<(Collection, RecordId)> =
                r.iter().map(|x| (x.op.collection, x.op.record)).collect();
            self.sig.rejected.set(records.len());
        }
        if let Ok(p) = self.store.pending_blobs().await {
            self.sig.photos_waiting.set(p.len());
        }
    }

    /// Sends a refused op again (from the sync panel).
    pub async fn retry(&self, id: OpId) -> Result<(), StoreError> {
        self.store.retry(id).await?;
        self.sig.last_change_ms.set(now_ms());
        self.changed().await;
        self.kick();
        Ok(())
    }

    /// Removes a refused op for good (the user acknowledged it).
    pub async fn dismiss(&self, id: OpId) -> Result<(), StoreError> {
        self.store.dismiss(id).await?;
        self.changed().await;
        Ok(())
    }

    /// The pulled records this app could not read and skipped (shown in the sync panel).
    pub async fn skipped(&self) -> Vec<Skipped> {
        let text = self.store.meta_get(META_SKIPPED).await.ok().flatten();
        text.and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Reads the last completed round kept on the device.
    async fn load_last_round(&self) {
        let text = self.store.meta_get(META_LAST_ROUND).await.ok().flatten();
        let round: Option<Round> = text.and_then(|t| serde_json::from_str(&t).ok());
        if round.is_some() {
            self.sig.last_round.set(round);
        }
    }

    /// Maps a failed request: an ended session and an outdated app change the sync state.
    pub(crate) fn api_failed(&self, e: ApiError) -> SyncError {
        match e {
            ApiError::Unauthorized => self.signed_out(),
            ApiError::UpgradeRequired => {
                self.sig.update_required.set(true);
                SyncError::Upgrade
            }
            other => SyncError::Api(other),
        }
    }

    /// The server refused the session: sync waits until the user signs in again.
    pub(crate) fn signed_out(&self) -> SyncError {
        self.sig.signed_out.set(true);
        // The stream would only be refused again; it reopens when the user signs in.
        self.close_live();
        SyncError::SignedOut
    }
}
