//! The sync client: pushes the outbox, pulls the caller's records, listens to the live stream,
//! keeps the device clock honest, and exposes a status the user can trust.
//!
//! One tab runs the loops (elected with the Web Locks API); every tab hears "changed" on a
//! BroadcastChannel and re-reads the local database. The loop runs on app start, on `online`,
//! after every local write, on every live poke, and on a timer (5 s while ops wait, else 30 s);
//! failures back off exponentially with jitter (capped at 30 s).

use crate::idb::IdbStore;
use crate::settings::META_SETTINGS;
use crate::store::{LocalStore, StoreError, META_ACTOR, META_CLOCK, META_CURSOR, META_SCOPE};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tongxin_shared::case::Deadlines;
use tongxin_shared::wire::{
    LoginRequest, LoginResponse, Me, OpResult, PullResponse, PushRequest, PushResponse, TileLayer,
    PROTOCOL_HEADER,
};
use tongxin_shared::{
    ActorId, Collection, Hlc, HlcClock, Op, OpBody, OpId, RecordId, PROTOCOL_VERSION,
    SCHEMA_VERSION,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Most ops per push.
const PUSH_BATCH: usize = 200;
/// Records per pull page.
const PULL_LIMIT: u32 = 1000;
/// Resets one pull round follows before giving up until the next round.
const MAX_RESETS_PER_ROUND: u32 = 2;
/// The IndexedDB database that holds the signed-in session (separate from any user's data).
pub const SESSION_DB: &str = "tongxin-session";
const SESSION_KEY: &str = "session";
/// Posted on the user's BroadcastChannel when they sign out in one tab.
const SIGNED_OUT_MESSAGE: &str = "signed_out";
/// How long sign-out waits for the server to revoke the token before going on without it.
const LOGOUT_TIMEOUT_MS: u32 = 3_000;

/// The IndexedDB database of one user's data: each user on a shared phone has their own, so
/// user B never sees user A's records or drafts.
pub fn data_db_name(username: &str) -> String {
    format!("tongxin-data-{username}")
}

/// A signed-in session, kept in IndexedDB so a warden stays signed in offline for weeks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_at_ms: u64,
    pub me: Me,
}

async fn session_db() -> Result<IdbStore, StoreError> {
    IdbStore::open(SESSION_DB).await
}

/// The stored session, if any.
pub async fn load_session() -> Option<Session> {
    let db = session_db().await.ok()?;
    let text = db.meta_get(SESSION_KEY).await.ok()??;
    serde_json::from_str(&text).ok()
}

pub async fn save_session(s: &Session) -> Result<(), StoreError> {
    let text = serde_json::to_string(s).map_err(|e| StoreError::Backend(e.to_string()))?;
    session_db().await?.meta_set(SESSION_KEY, &text).await
}

/// Forgets the session (sign-out). The user's data database is kept: their unsent ops wait for
/// them to sign in again.
pub async fn clear_session() -> Result<(), StoreError> {
    session_db().await?.meta_delete(SESSION_KEY).await
}

/// Why signing in failed, for the login screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    BadCredentials,
    RateLimited,
    Offline,
    Other(String),
}

/// Signs in; on success the session is stored.
pub async fn sign_in(username: &str, password: &str) -> Result<Session, LoginError> {
    let body = LoginRequest {
        username: username.trim().to_owned(),
        password: password.to_owned(),
    };
    let res = Request::post("/api/v1/auth/login")
        .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
        .json(&body)
        .map_err(|e| LoginError::Other(e.to_string()))?
        .send()
        .await
        .map_err(|_| LoginError::Offline)?;
    match res.status() {
        200 => {
            let ok: LoginResponse = res
                .json()
                .await
                .map_err(|e| LoginError::Other(e.to_string()))?;
            let session = Session {
                token: ok.token,
                expires_at_ms: ok.expires_at_ms,
                me: ok.me,
            };
            save_session(&session)
                .await
                .map_err(|e| LoginError::Other(e.to_string()))?;
            Ok(session)
        }
        401 => Err(LoginError::BadCredentials),
        429 => Err(LoginError::RateLimited),
        s => {
            let v: serde_json::Value = res.json().await.unwrap_or_default();
            Err(LoginError::Other(
                v["error"]["message"]
                    .as_str()
                    .map_or_else(|| format!("HTTP {s}"), ToOwned::to_owned),
            ))
        }
    }
}

/// Revokes the token on the server (best effort: offline, the token simply expires).
/// A hanging network does not hold the sign-out up for more than [`LOGOUT_TIMEOUT_MS`].
pub async fn sign_out_remote(token: &str) {
    let request = Request::post("/api/v1/auth/logout")
        .header("authorization", &format!("Bearer {token}"))
        .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
        .send()
        .fuse();
    let timer = gloo_timers::future::TimeoutFuture::new(LOGOUT_TIMEOUT_MS).fuse();
    futures::pin_mut!(request, timer);
    futures::select! {
        _ = request => {},
        () = timer => {},
    }
}

/// The reactive sync state the screens render.
#[derive(Clone, Copy)]
pub struct SyncSignals {
    pub online: RwSignal<bool>,
    pub waiting: RwSignal<usize>,
    pub rejected: RwSignal<usize>,
    pub syncing: RwSignal<bool>,
    /// Records received so far in the current pull (progress on long pulls).
    pub received: RwSignal<usize>,
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
}

/// The records behind one `version` bump. `records: None` means "unknown: re-read everything"
/// (another tab, an area reset); a view that missed a bump re-reads everything too.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub version: u64,
    pub records: Option<Vec<(Collection, RecordId)>>,
}

/// Beyond this many changed records a view re-reads everything anyway.
const MAX_TRACKED_CHANGES: usize = 20_000;

impl SyncSignals {
    pub fn new() -> Self {
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        Self {
            online: RwSignal::new(online),
            waiting: RwSignal::new(0),
            rejected: RwSignal::new(0),
            syncing: RwSignal::new(false),
            received: RwSignal::new(0),
            update_required: RwSignal::new(false),
            version: RwSignal::new(0),
            places_version: RwSignal::new(0),
            signed_out: RwSignal::new(false),
            photos_waiting: RwSignal::new(0),
            changes: StoredValue::new(Changes::default()),
            deadlines: RwSignal::new(Deadlines::default()),
            tiles: RwSignal::new(None),
        }
    }

    /// The badge: (state for `data-state`, count to show).
    pub fn badge(&self) -> (&'static str, usize) {
        if self.signed_out.get() {
            ("signed_out", self.waiting.get())
        } else if self.update_required.get() || self.rejected.get() > 0 {
            ("attention", self.rejected.get())
        } else if !self.online.get() {
            ("offline", self.waiting.get())
        } else if self.syncing.get() {
            ("syncing", self.received.get())
        } else if self.waiting.get() > 0 {
            ("waiting", self.waiting.get())
        } else {
            ("synced", 0)
        }
    }
}

impl Default for SyncSignals {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a sync round stopped (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error("network: {0}")]
    Network(String),
    #[error("server answered {0}")]
    Status(u16),
    #[error("the app must be updated")]
    Upgrade,
    #[error("the session ended; sign in again")]
    SignedOut,
    #[error("the server kept asking for a reset")]
    Resets,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn net(e: impl std::fmt::Display) -> SyncError {
    SyncError::Network(e.to_string())
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The app's single sync client.
pub struct Client {
    pub store: IdbStore,
    pub sig: SyncSignals,
    pub actor: ActorId,
    session: RefCell<Session>,
    clock: RefCell<HlcClock>,
    kick: mpsc::UnboundedSender<()>,
    channel: Option<web_sys::BroadcastChannel>,
    /// The live stream of the sync tab, opened with this session's token (reopened with the new
    /// one when the user signs in again: a stream refused 401 never reconnects by itself).
    live: RefCell<Option<web_sys::EventSource>>,
    /// When the settings were last fetched in this session (None: at the next round).
    settings_at: Cell<Option<u64>>,
}

thread_local! {
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
}

/// The running client (after [`Client::start`]).
pub fn client() -> Option<Rc<Client>> {
    CLIENT.with(|c| c.borrow().clone())
}

impl Client {
    /// Opens the user's local database, restores actor and clock, wires events, elects the
    /// sync tab (per user).
    pub async fn start(sig: SyncSignals, session: Session) -> Result<Rc<Self>, StoreError> {
        let username = session.me.username.clone();
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
        let clock: HlcClock = store
            .meta_get(META_CLOCK)
            .await?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let (kick, rx) = mpsc::unbounded();
        let channel = web_sys::BroadcastChannel::new(&format!("tongxin-{username}")).ok();
        let client = Rc::new(Self {
            store,
            sig,
            actor,
            session: RefCell::new(session),
            clock: RefCell::new(clock),
            kick,
            channel,
            live: RefCell::new(None),
            settings_at: Cell::new(None),
        });
        CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
        client.load_settings().await;
        client.wire_events();
        client.refresh_counts().await;
        elect(client.clone(), rx, &username);
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

    /// The `Authorization` header value of this session.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.session.borrow().token)
    }

    /// The same user signed in again (after their session ended): sync resumes with the new
    /// token and sends everything that waited.
    pub fn resume(&self, session: Session) {
        *self.session.borrow_mut() = session;
        self.sig.signed_out.set(false);
        // Signed in again: the settings are fetched again too.
        self.settings_at.set(None);
        if self.live.borrow().is_some() {
            self.open_live();
        }
        let _ = self.kick.unbounded_send(());
    }

    /// Tells this user's other tabs that they signed out here (they go to the login screen
    /// too instead of syncing on with a revoked token).
    pub fn announce_sign_out(&self) {
        if let Some(ch) = &self.channel {
            let _ = ch.post_message(&JsValue::from_str(SIGNED_OUT_MESSAGE));
        }
    }

    /// Stops the live stream (sign-out, or the session ended).
    pub fn close_live(&self) {
        if let Some(old) = self.live.borrow_mut().take() {
            old.close();
        }
    }

    /// (Re)opens the live stream with the current token.
    fn open_live(&self) {
        self.close_live();
        let token = self.session.borrow().token.clone();
        *self.live.borrow_mut() = listen_live(self.kick.clone(), &token);
    }

    /// Starts a sync round now (e.g. "sync first" before signing out).
    pub fn kick(&self) {
        let _ = self.kick.unbounded_send(());
    }

    /// Refreshes the user's role and area from the server (they may have been moved).
    async fn refresh_me(&self) -> Result<(), SyncError> {
        let res = Request::get("/api/v1/auth/me")
            .header("authorization", &self.bearer())
            .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
            .send()
            .await
            .map_err(net)?;
        match res.status() {
            200 => {
                let me: Me = res.json().await.map_err(net)?;
                if me != self.session.borrow().me {
                    self.session.borrow_mut().me = me;
                    let s = self.session.borrow().clone();
                    save_session(&s).await?;
                    self.sig.version.update(|v| *v += 1);
                    // The live stream pokes for the area the user had when it opened: open it
                    // again for the new one.
                    if self.live.borrow().is_some() {
                        self.open_live();
                    }
                }
                Ok(())
            }
            401 => Err(self.signed_out()),
            s => Err(SyncError::Status(s)),
        }
    }

    /// Applies the settings kept on the device (at start, and when another tab stored new ones).
    pub async fn load_settings(&self) {
        let stored = self.store.meta_get(META_SETTINGS).await.ok().flatten();
        let settings = crate::settings::stored_or_default(stored.as_deref());
        if self
            .sig
            .deadlines
            .with_untracked(|d| *d != settings.deadlines)
        {
            self.sig.deadlines.set(settings.deadlines);
        }
        if self.sig.tiles.with_untracked(|t| *t != settings.tiles) {
            self.sig.tiles.set(settings.tiles);
        }
    }

    /// Fetches the deployment's settings at sign-in and then hourly, and keeps them on the
    /// device. Only an ended session fails the round; anything else waits for the next try (the
    /// last copy stays in force).
    async fn refresh_settings(&self) -> Result<(), SyncError> {
        let now = now_ms();
        if !crate::settings::due(self.settings_at.get(), now) {
            return Ok(());
        }
        let res = Request::get("/api/v1/settings")
            .header("authorization", &self.bearer())
            .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
            .send()
            .await;
        let text = match res {
            Ok(res) if res.status() == 200 => res.text().await.ok(),
            Ok(res) if res.status() == 401 => return Err(self.signed_out()),
            Ok(res) => {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "tongxin sync: settings answered {}",
                    res.status()
                )));
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        let Some(settings) = text.as_deref().and_then(crate::settings::decode) else {
            web_sys::console::warn_1(&JsValue::from_str(
                "tongxin sync: settings unreadable; the last copy stays in force",
            ));
            return Ok(());
        };
        self.settings_at.set(Some(now));
        if self
            .sig
            .deadlines
            .with_untracked(|d| *d == settings.deadlines)
            && self.sig.tiles.with_untracked(|t| *t == settings.tiles)
        {
            return Ok(());
        }
        let stored = serde_json::to_string(&settings).unwrap_or_default();
        self.store.meta_set(META_SETTINGS, &stored).await?;
        self.sig.deadlines.set(settings.deadlines);
        self.sig.tiles.set(settings.tiles);
        // Other tabs re-read them on "changed".
        self.changed_places(false, Some(Vec::new())).await;
        Ok(())
    }

    fn signed_out(&self) -> SyncError {
        self.sig.signed_out.set(true);
        // The stream would only be refused again; it reopens when the user signs in.
        if let Some(live) = self.live.borrow().as_ref() {
            live.close();
        }
        SyncError::SignedOut
    }

    fn wire_events(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let sig = self.sig;
        let kick = self.kick.clone();
        let on_online = Closure::<dyn FnMut()>::new(move || {
            sig.online.set(true);
            let _ = kick.unbounded_send(());
        });
        let on_offline = Closure::<dyn FnMut()>::new(move || sig.online.set(false));
        let _ =
            window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        let _ =
            window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
        on_online.forget();
        on_offline.forget();
        if let Some(ch) = &self.channel {
            let kick = self.kick.clone();
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    if ev.data().as_string().as_deref() == Some(SIGNED_OUT_MESSAGE) {
                        // Signed out in another tab: this one follows.
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_href("/login");
                        }
                        return;
                    }
                    sig.version.update(|v| *v += 1);
                    sig.places_version.update(|v| *v += 1);
                    let _ = kick.unbounded_send(());
                    spawn_local(async {
                        if let Some(c) = client() {
                            c.refresh_counts().await;
                            c.load_settings().await;
                        }
                    });
                },
            );
            ch.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
    }

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

    fn learn(&self, server_time_ms: u64) {
        self.clock
            .borrow_mut()
            .learn_server_time(server_time_ms, now_ms());
        self.save_clock();
    }

    /// Commits a user's ops locally (one transaction) and starts a push.
    pub async fn commit(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        self.store.commit_local(&ops).await?;
        let records = ops.iter().map(|o| (o.collection, o.record)).collect();
        self.changed_places(ops.iter().any(|o| is_place(o.collection)), Some(records))
            .await;
        let _ = self.kick.unbounded_send(());
        Ok(())
    }

    /// Local data changed: re-render, tell other tabs, recount.
    pub async fn changed(&self) {
        self.changed_places(true, None).await;
    }

    /// Local data changed; `places` says whether hierarchy records may be among the changes,
    /// `records` which records changed when known.
    async fn changed_places(&self, places: bool, records: Option<Vec<(Collection, RecordId)>>) {
        if places {
            self.sig.places_version.update(|v| *v += 1);
        }
        let version = self.sig.version.get_untracked() + 1;
        self.sig.changes.set_value(Changes { version, records });
        self.sig.version.set(version);
        if let Some(ch) = &self.channel {
            let _ = ch.post_message(&JsValue::from_str("changed"));
        }
        self.refresh_counts().await;
    }

    pub async fn refresh_counts(&self) {
        if let Ok(n) = self.store.waiting_records().await {
            self.sig.waiting.set(n);
        }
        if let Ok(r) = self.store.rejected().await {
            // Records that need attention (the panel lists each refused op with its reason).
            let records: std::collections::BTreeSet<(Collection, RecordId)> =
                r.iter().map(|x| (x.op.collection, x.op.record)).collect();
            self.sig.rejected.set(records.len());
        }
        if let Ok(p) = self.store.pending_blobs().await {
            self.sig.photos_waiting.set(p.len());
        }
    }

    /// Uploads the photos not on the server yet (before the ops that name them). A photo the
    /// server refuses stays on the device and is retried; it never blocks the ops.
    async fn upload_photos(&self) -> Result<(), SyncError> {
        for sha in self.store.pending_blobs().await? {
            let Some(blob) = self.store.get_blob(&sha).await? else {
                continue;
            };
            let body = js_sys::Uint8Array::from(blob.bytes.as_slice());
            let res = Request::put(&format!("/api/v1/blobs/{sha}"))
                .header("authorization", &self.bearer())
                .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
                .header("content-type", &blob.content_type)
                .body(body)
                .map_err(net)?
                .send()
                .await
                .map_err(net)?;
            match res.status() {
                200 | 201 => {
                    self.store.mark_uploaded(&sha).await?;
                    self.sig.version.update(|v| *v += 1);
                }
                401 => return Err(self.signed_out()),
                s if s >= 500 => return Err(SyncError::Status(s)),
                s => web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "tongxin sync: photo {sha} refused ({s}); kept on the device"
                ))),
            }
        }
        self.refresh_counts().await;
        Ok(())
    }

    /// Sends a refused op again / removes it for good (from the sync panel).
    pub async fn retry(&self, id: OpId) -> Result<(), StoreError> {
        self.store.retry(id).await?;
        self.changed().await;
        let _ = self.kick.unbounded_send(());
        Ok(())
    }

    pub async fn dismiss(&self, id: OpId) -> Result<(), StoreError> {
        self.store.dismiss(id).await?;
        self.changed().await;
        Ok(())
    }

    async fn push_all(&self) -> Result<(), SyncError> {
        loop {
            let batch = self.store.outbox(PUSH_BATCH).await?;
            if batch.is_empty() {
                return Ok(());
            }
            let body = PushRequest {
                protocol: PROTOCOL_VERSION,
                actor: self.actor,
                ops: batch.clone(),
            };
            let res = Request::post("/api/v1/sync/push")
                .header("authorization", &self.bearer())
                .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
                .json(&body)
                .map_err(net)?
                .send()
                .await
                .map_err(net)?;
            match res.status() {
                200 => {
                    let answer: PushResponse = res.json().await.map_err(net)?;
                    self.learn(answer.server_time_ms);
                    let mut acked = Vec::new();
                    for r in answer.results {
                        match r {
                            OpResult::Acked { op_id, .. } => acked.push(op_id),
                            OpResult::Rejected { op_id, rejected } => {
                                if let Some(op) = batch.iter().find(|o| o.id == op_id) {
                                    self.store
                                        .reject(op, &rejected.code, &rejected.message)
                                        .await?;
                                }
                            }
                        }
                    }
                    self.store.ack(&acked).await?;
                    self.changed().await;
                }
                426 => {
                    self.sig.update_required.set(true);
                    return Err(SyncError::Upgrade);
                }
                // The session ended: every op stays in the outbox until the user signs in again.
                401 => return Err(self.signed_out()),
                400 | 413 | 422 => {
                    // The whole request was refused: keep every op, visible with the reason.
                    let reason: serde_json::Value = res.json().await.unwrap_or_default();
                    let message = reason["error"]["message"]
                        .as_str()
                        .unwrap_or("refused by the server")
                        .to_owned();
                    for op in &batch {
                        self.store.reject(op, "refused", &message).await?;
                    }
                    self.changed().await;
                }
                s => return Err(SyncError::Status(s)),
            }
            if batch.len() < PUSH_BATCH {
                return Ok(());
            }
        }
    }

    async fn pull_all(&self) -> Result<(), SyncError> {
        let mut cursor: u64 = self
            .store
            .meta_get(META_CURSOR)
            .await?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut scope = self.store.meta_get(META_SCOPE).await?.unwrap_or_default();
        let mut received = 0;
        let mut resets = 0;
        let mut places = false;
        let mut changed: Option<Vec<(Collection, RecordId)>> = Some(Vec::new());
        loop {
            let scope_q = String::from(js_sys::encode_uri_component(&scope));
            let res = Request::get(&format!(
                "/api/v1/sync/pull?cursor={cursor}&limit={PULL_LIMIT}&scope={scope_q}"
            ))
            .header("authorization", &self.bearer())
            .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
            .send()
            .await
            .map_err(net)?;
            match res.status() {
                200 => {}
                426 => {
                    self.sig.update_required.set(true);
                    return Err(SyncError::Upgrade);
                }
                401 => return Err(self.signed_out()),
                s => return Err(SyncError::Status(s)),
            }
            let page: PullResponse = res.json().await.map_err(net)?;
            self.learn(page.server_time_ms);
            if page.reset {
                // The area changing again within one round: try again later (with backoff)
                // rather than resetting in a loop.
                if resets == MAX_RESETS_PER_ROUND {
                    return Err(SyncError::Resets);
                }
                // The user's area changed: drop what was pulled (the outbox stays and its ops
                // are re-applied), then pull the new area from zero.
                resets += 1;
                self.store.reset_pulled().await?;
                page.scope.clone_into(&mut scope);
                self.store.meta_set(META_SCOPE, &scope).await?;
                cursor = 0;
                self.changed().await;
                continue;
            }
            if page.scope != scope {
                page.scope.clone_into(&mut scope);
                self.store.meta_set(META_SCOPE, &scope).await?;
            }
            if !page.records.is_empty() {
                let records: Vec<_> = page.records.into_iter().map(|p| p.record).collect();
                if let Some(max) = records
                    .iter()
                    .filter_map(tongxin_shared::Record::last_stamp)
                    .max()
                {
                    self.clock.borrow_mut().observe(max.hlc, now_ms());
                }
                received += records.len();
                places |= records.iter().any(|r| is_place(r.collection));
                if let Some(list) = &mut changed {
                    list.extend(records.iter().map(|r| (r.collection, r.id)));
                    if list.len() > MAX_TRACKED_CHANGES {
                        changed = None;
                    }
                }
                self.sig.received.set(received);
                self.store.apply_pull(&records, page.cursor).await?;
            }
            cursor = page.cursor;
            if !page.more {
                self.sig.received.set(0);
                // Views re-read once per pull, not once per page.
                if received > 0 {
                    self.changed_places(places, changed).await;
                }
                return Ok(());
            }
        }
    }

    /// The sync loop of the elected tab.
    async fn run(self: Rc<Self>, mut rx: mpsc::UnboundedReceiver<()>) {
        self.open_live();
        let mut failures: u32 = 0;
        loop {
            if self.sig.online.get_untracked()
                && !self.sig.update_required.get_untracked()
                && !self.sig.signed_out.get_untracked()
            {
                self.sig.syncing.set(true);
                let round = async {
                    self.refresh_me().await?;
                    self.refresh_settings().await?;
                    self.upload_photos().await?;
                    self.push_all().await?;
                    self.pull_all().await
                }
                .await;
                self.sig.syncing.set(false);
                match round {
                    Ok(()) | Err(SyncError::SignedOut) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        web_sys::console::warn_1(&JsValue::from_str(&format!("tongxin sync: {e}")));
                    }
                }
                self.refresh_counts().await;
            }
            let delay = if failures > 0 {
                // Exponential backoff with full jitter, capped at 30 s.
                let cap = (500u32.saturating_mul(1 << failures.min(6))).min(30_000);
                (f64::from(cap) * (0.5 + js_sys::Math::random() / 2.0)) as u32
            } else if self.sig.waiting.get_untracked() > 0 {
                5_000
            } else {
                30_000
            };
            let timer = gloo_timers::future::TimeoutFuture::new(delay).fuse();
            futures::pin_mut!(timer);
            futures::select! {
                _ = rx.next() => {},
                () = timer => {},
            }
            while rx.try_recv().is_ok() {}
        }
    }
}

/// Runs the loops in one tab only: the holder of the user's "tongxin-sync-…" Web Lock. Without
/// Web Locks (old browsers), every tab runs them (safe: pushes are idempotent).
fn elect(client: Rc<Client>, rx: mpsc::UnboundedReceiver<()>, username: &str) {
    let run = move || spawn_local(client.run(rx));
    let locks = web_sys::window().map_or(JsValue::UNDEFINED, |w| {
        js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("locks"))
            .unwrap_or(JsValue::UNDEFINED)
    });
    let request = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match request {
        Some(request) if !locks.is_undefined() => {
            let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
                run();
                // Hold the lock for the life of the tab.
                js_sys::Promise::new(&mut |_, _| {}).into()
            });
            if request
                .call2(
                    &locks,
                    &JsValue::from_str(&format!("tongxin-sync-{username}")),
                    &granted,
                )
                .is_err()
            {
                web_sys::console::warn_1(&JsValue::from_str("tongxin: Web Locks request failed"));
            }
        }
        _ => run(),
    }
}

/// Subscribes to the live stream: every poke starts a sync round. EventSource reconnects by
/// itself (and sends Last-Event-ID). It cannot send headers, so the token is in the query.
fn listen_live(kick: mpsc::UnboundedSender<()>, token: &str) -> Option<web_sys::EventSource> {
    let token = String::from(js_sys::encode_uri_component(token));
    let source = web_sys::EventSource::new(&format!("/api/v1/live?access_token={token}")).ok()?;
    let on_poke = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
        let _ = kick.unbounded_send(());
    });
    let _ = source.add_event_listener_with_callback("poke", on_poke.as_ref().unchecked_ref());
    // The listener lives as long as the page (a closed stream simply never calls it again).
    on_poke.forget();
    Some(source)
}

/// Collections whose records the map draws as places (outlines, points).
fn is_place(c: Collection) -> bool {
    matches!(
        c,
        Collection::Subdistricts
            | Collection::Communities
            | Collection::Grids
            | Collection::ServiceCentres
    )
}
