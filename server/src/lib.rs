//! Tongxin's server library: configuration, the axum router, the storage backends, the sync
//! endpoints (push, pull, live) and blobs. `main.rs` only parses config and calls [`serve`];
//! tests start the same server on a port-0 listener.

pub mod api;
pub mod assets;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod demo;
pub mod error;
pub mod escalation;
pub mod extract;
pub mod fault;
pub mod handback;
pub mod history;
pub mod import;
pub mod live;
pub mod login_limits;
pub mod people;
pub mod periodic;
pub mod seen;
pub mod staff;
pub mod store;
pub mod streams;
pub mod user_import;
pub mod writer;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{get, post, put};
use axum::Router;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use store::{AnyStore, StoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tongxin_shared::deadlines::Deadlines;
use tongxin_shared::wire::TileLayer;
use tongxin_shared::wire::{MAX_BLOB_BYTES, MAX_PUSH_BYTES};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Milliseconds since the Unix epoch: the server's clock (the only place it is read).
pub fn now_ms() -> u64 {
    fault::skew_clock(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    )
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<AnyStore>,
    pub writer: writer::Writer,
    /// The last committed seq (of this instance, and of others through LISTEN/NOTIFY).
    pub committed: Arc<watch::Sender<u64>>,
    /// Recent commits with the places they wrote: live streams poke only their user's area.
    pub commits: Arc<live::CommitLog>,
    /// The live streams open here, by user (the per-user cap; ended on sign-out or disabling).
    pub streams: Arc<streams::Streams>,
    /// How often a live stream re-checks its session (revoked or disabled by another instance).
    pub live_recheck: std::time::Duration,
    /// The least time between two pokes of one live stream (`live::POKE_PACE`).
    pub live_pace: std::time::Duration,
    /// Set when the server shuts down, so live streams end and shutdown is not held up.
    pub closing: watch::Receiver<bool>,
    closing_tx: Arc<watch::Sender<bool>>,
    pub dist_dir: PathBuf,
    /// Sign-in attempt limits (per account and per client address).
    pub login_limits: Arc<login_limits::LoginLimits>,
    /// Case deadlines and escalation steps in force (`--deadlines`).
    pub deadlines: Arc<Deadlines>,
    /// The map's raster base layer (`--tile-url`), if any.
    pub tiles: Option<Arc<TileLayer>>,
    /// Photo upload quota and clean-up grace (`--blob-quota-mb`, `--blob-grace-days`).
    pub blob_limits: blobs::BlobLimits,
}

impl AppState {
    /// Opens the store named by `database_url` and starts the writer (and, on PostgreSQL, the
    /// commit listener).
    pub async fn start(database_url: &str, dist_dir: PathBuf) -> Result<Self, StoreError> {
        let store = store::open(database_url).await?;
        let max = store.max_seq().await?;
        let (committed, _) = watch::channel(max);
        let commits = Arc::new(live::CommitLog::default());
        store
            .follow_commits(live::on_commit(committed.clone(), commits.clone()))
            .await?;
        let writer = writer::Writer::spawn(store.clone(), committed.clone(), commits.clone());
        let (closing_tx, closing) = watch::channel(false);
        Ok(Self {
            store,
            writer,
            committed: Arc::new(committed),
            commits,
            streams: Arc::default(),
            live_recheck: live::SESSION_RECHECK,
            live_pace: live::POKE_PACE,
            closing,
            closing_tx: Arc::new(closing_tx),
            dist_dir,
            login_limits: Arc::new(login_limits::LoginLimits::default()),
            deadlines: Arc::new(Deadlines::default()),
            tiles: None,
            blob_limits: blobs::BlobLimits::default(),
        })
    }

    /// The same state with the deployment's deadlines (checked: see `Deadlines::from_json`).
    #[must_use]
    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Self {
        self.deadlines = Arc::new(deadlines);
        self.writer.set_deadlines(self.deadlines.clone());
        self
    }

    /// The same state with a map tile layer (checked: see `TileLayer::new`); its origin joins
    /// the page's `img-src`.
    #[must_use]
    pub fn with_tiles(mut self, tiles: Option<TileLayer>) -> Self {
        self.tiles = tiles.map(Arc::new);
        self
    }

    /// The same state with live streams re-checking their session every `every`.
    #[must_use]
    pub fn with_live_recheck(mut self, every: std::time::Duration) -> Self {
        self.live_recheck = every;
        self
    }

    /// The same state with live streams poked at most once per `pace`.
    #[must_use]
    pub fn with_live_pace(mut self, pace: std::time::Duration) -> Self {
        self.live_pace = pace;
        self
    }

    /// The same state with the deployment's photo limits.
    #[must_use]
    pub fn with_blob_limits(mut self, limits: blobs::BlobLimits) -> Self {
        self.blob_limits = limits;
        self
    }

    /// Ends live streams (called on shutdown).
    pub fn close(&self) {
        let _ = self.closing_tx.send(true);
    }
}

/// Content-Security-Policy: only our own origin; wasm needs 'wasm-unsafe-eval'; Leptos sets
/// some inline styles; photos are shown from blob: URLs; map tiles from the configured tile
/// server's origin only.
fn csp(tiles: Option<&TileLayer>) -> String {
    let tile_origin = tiles
        .map(|t| format!(" {}", t.origin()))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:{tile_origin}; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/v1/sync/push",
            post(api::push).layer(DefaultBodyLimit::max(MAX_PUSH_BYTES)),
        )
        .route("/v1/sync/pull", get(api::pull))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/me", get(auth::whoami))
        .route(
            "/v1/admin/users",
            get(auth::list_users).post(auth::create_user),
        )
        .route(
            "/v1/admin/import/users",
            post(user_import::import_users)
                .layer(DefaultBodyLimit::max(user_import::MAX_IMPORT_BODY_BYTES)),
        )
        .route("/v1/admin/users/{username}", put(auth::update_user))
        .route(
            "/v1/admin/users/{username}/password",
            post(auth::reset_password),
        )
        .route(
            "/v1/admin/grids/import",
            post(import::import_grids).layer(DefaultBodyLimit::max(import::MAX_IMPORT_BYTES)),
        )
        .route("/v1/history", get(history::history))
        .route("/v1/staff", get(staff::staff))
        .route("/v1/people", get(people::people))
        .route("/v1/settings", get(api::settings))
        .route("/v1/live", get(live::live))
        .route(
            "/v1/blobs/{sha256}",
            put(blobs::put_blob)
                .get(blobs::get_blob)
                .layer(DefaultBodyLimit::max(MAX_BLOB_BYTES + 1)),
        )
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn(api::protocol))
        // API answers carry user data (records, the user, staff, settings, accounts): no cache
        // (browser, proxy or service worker) may keep them. A route that sets its own policy
        // keeps it (photos are immutable and private; the live stream is `no-cache`).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .nest("/api", api)
        .with_state(state.clone())
        .merge(assets::router(state.dist_dir.clone()))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            // `TileLayer::new` admits only plain URL characters, so the header is valid.
            HeaderValue::from_str(&csp(state.tiles.as_deref()))
                .unwrap_or_else(|_| HeaderValue::from_str(&csp(None)).expect("a static policy")),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(
            // Spans name the method and the path only: query strings may carry an access token.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("http", method = %req.method(), path = req.uri().path())
            }),
        )
}

/// Serves until `shutdown` completes, then ends live streams and drains connections.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let closer = state.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        closer.close();
    })
    .await
}
