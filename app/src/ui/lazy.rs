//! The split points: everything behind the sign-in loads as modules of its own.
//!
//! A warden's first load is the shell only: header, sign-in, sync badge and panel, the sync
//! engine. Two kinds of split modules, cut out of the release wasm by `wasm-split` (run by
//! `cargo xtask dist`):
//! - `field`: the signed-in routes with every field screen (home, cases, visits, activities,
//!   photos, forms; `routes.rs`). Every user needs it, so it is fetched as soon as the sign-in has
//!   been painted (while the password is typed) and precached by the service worker.
//! - `map` (with the grid panel), `dashboard`, `admin` (users, grid import): the managers' and
//!   administrators' screens, loaded on first use, prefetched after a manager's sign-in, kept by
//!   the service worker once fetched.
//!
//! Each `#[wasm_split]` function below is a split point, and everything only it reaches goes into
//! that module (code several reach goes into a shared chunk, loaded with any of them). Calling
//! the function fetches and instantiates its module once.
//!
//! A split function returns the screen's *constructor* (a plain `fn`, code in the split module),
//! not a built view: the view is built by [`Deferred`] under its own reactive owner, so the
//! screen sees the app's contexts like any other route.
//!
//! The split points exist with the `split` feature (on by default: `cargo xtask dist`, clippy,
//! the e2e tests). The wasm tests build without it (`--no-default-features`): a test binary is
//! never post-processed by `wasm-split`, so the loaders' imports (from the placeholder module
//! `__wasm_split_placeholder__`) could not resolve and the test page would not load; there the
//! functions below are ordinary async calls and preloading does nothing.
//!
//! Where a new screen goes: a field screen is a route in `routes.rs` (it joins the `field`
//! module by being reached only from there); a manager screen gets its component in its own file
//! under `ui/`, a split function and a [`Chunk`] variant here, and a route in `routes.rs` that
//! renders `<Deferred chunk=…/>`.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
#[cfg(feature = "split")]
use leptos::wasm_split::wasm_split;
use leptos::wasm_split::SplitLoaderError;
use tongxin_shared::case::Role;

use super::context::t;
use crate::sync::{Client, Session, SyncSignals};

/// A screen's constructor; its code lives in the split module.
type Screen = fn() -> AnyView;

/// A split module could not be fetched (offline before the screen was ever opened online).
#[derive(Debug, Clone, Copy)]
pub(super) struct LoadFailed;

impl From<SplitLoaderError> for LoadFailed {
    fn from(_: SplitLoaderError) -> Self {
        Self
    }
}

fn field_view() -> AnyView {
    view! { <super::routes::SignedInRoutes/> }.into_any()
}

#[cfg(feature = "split")]
#[allow(
    clippy::unnecessary_wraps,
    reason = "`fallible` split functions return a Result"
)]
#[wasm_split(field, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_field_module))]
fn field_screens() -> Result<Screen, LoadFailed> {
    Ok(field_view)
}

/// Starting the sync engine (the outbox, the rounds, pull and push, the live stream): it has
/// nothing to do before a sign-in, so its code is in the field module too, not in the first load.
type SyncStart = Pin<Box<dyn Future<Output = Result<(), String>>>>;

fn sync_future(sig: SyncSignals, session: Session) -> SyncStart {
    Box::pin(async move {
        Client::start(sig, session)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

#[cfg(feature = "split")]
#[allow(
    clippy::unnecessary_wraps,
    reason = "`fallible` split functions return a Result"
)]
#[wasm_split(field, wasm_split_path = ::leptos::wasm_split, fallible)]
fn sync_start(sig: SyncSignals, session: Session) -> Result<SyncStart, LoadFailed> {
    Ok(sync_future(sig, session))
}

/// Opens the signed-in user's local database and starts syncing ([`Client::start`]), once the
/// field module has loaded (from the service worker's cache offline). `Err` says why not: the
/// module could not be fetched, or the local database could not be opened.
pub(super) async fn start_sync(sig: SyncSignals, session: Session) -> Result<(), StartFailed> {
    let start = sync_start(sig, session)
        .await
        .map_err(|LoadFailed| StartFailed::Unavailable)?;
    start.await.map_err(StartFailed::Storage)
}

/// Why [`start_sync`] failed.
#[derive(Debug, Clone)]
pub(super) enum StartFailed {
    /// The field module could not be fetched.
    Unavailable,
    /// The local database: the error in words.
    Storage(String),
}

fn map_view() -> AnyView {
    view! { <super::map::MapView/> }.into_any()
}

#[cfg(feature = "split")]
#[allow(
    clippy::unnecessary_wraps,
    reason = "`fallible` split functions return a Result"
)]
#[wasm_split(map, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_map))]
fn map_screen() -> Result<Screen, LoadFailed> {
    Ok(map_view)
}

fn dashboard_view() -> AnyView {
    view! { <super::dashboard::Dashboard/> }.into_any()
}

#[cfg(feature = "split")]
#[allow(
    clippy::unnecessary_wraps,
    reason = "`fallible` split functions return a Result"
)]
#[wasm_split(dashboard, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_dashboard))]
fn dashboard_screen() -> Result<Screen, LoadFailed> {
    Ok(dashboard_view)
}

fn admin_view() -> AnyView {
    view! { <super::admin::Admin/> }.into_any()
}

#[cfg(feature = "split")]
#[allow(
    clippy::unnecessary_wraps,
    reason = "`fallible` split functions return a Result"
)]
#[wasm_split(admin, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_admin))]
fn admin_screen() -> Result<Screen, LoadFailed> {
    Ok(admin_view)
}

/// Without the `split` feature (the wasm tests): the same functions as ordinary calls.
#[cfg(not(feature = "split"))]
#[allow(
    clippy::unused_async,
    clippy::unnecessary_wraps,
    reason = "the same signatures as the split functions they stand for"
)]
mod unsplit {
    use super::{
        admin_view, dashboard_view, field_view, map_view, sync_future, LoadFailed, Screen,
        SyncStart,
    };
    use crate::sync::{Session, SyncSignals};
    use leptos::wasm_split::SplitLoaderError;

    pub(super) async fn field_screens() -> Result<Screen, LoadFailed> {
        Ok(field_view)
    }
    pub(super) async fn sync_start(
        sig: SyncSignals,
        session: Session,
    ) -> Result<SyncStart, LoadFailed> {
        Ok(sync_future(sig, session))
    }
    pub(super) async fn map_screen() -> Result<Screen, LoadFailed> {
        Ok(map_view)
    }
    pub(super) async fn dashboard_screen() -> Result<Screen, LoadFailed> {
        Ok(dashboard_view)
    }
    pub(super) async fn admin_screen() -> Result<Screen, LoadFailed> {
        Ok(admin_view)
    }
    pub(super) async fn preload_field_module() -> Result<(), SplitLoaderError> {
        Ok(())
    }
    pub(super) async fn preload_map() -> Result<(), SplitLoaderError> {
        Ok(())
    }
    pub(super) async fn preload_dashboard() -> Result<(), SplitLoaderError> {
        Ok(())
    }
    pub(super) async fn preload_admin() -> Result<(), SplitLoaderError> {
        Ok(())
    }
}
#[cfg(not(feature = "split"))]
use unsplit::{
    admin_screen, dashboard_screen, field_screens, map_screen, preload_admin, preload_dashboard,
    preload_field_module, preload_map, sync_start,
};

/// The screens that load as split modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
    /// The signed-in routes and the field screens (everyone).
    Field,
    /// The live map and the selected grid's panel (managers).
    Map,
    /// Dashboards and their CSV export (managers).
    Dashboard,
    /// Users and the grid import (administrators).
    Admin,
}

impl Chunk {
    /// The managers' and administrators' modules.
    const MANAGERS: [Self; 3] = [Self::Map, Self::Dashboard, Self::Admin];

    /// Loads the module (once; a failure is not remembered) and returns the screen.
    async fn load(self) -> Result<Screen, LoadFailed> {
        match self {
            Self::Field => field_screens().await,
            Self::Map => map_screen().await,
            Self::Dashboard => dashboard_screen().await,
            Self::Admin => admin_screen().await,
        }
    }

    /// Fetches and instantiates the module without showing it.
    async fn preload(self) -> Result<(), SplitLoaderError> {
        match self {
            Self::Field => preload_field_module().await,
            Self::Map => preload_map().await,
            Self::Dashboard => preload_dashboard().await,
            Self::Admin => preload_admin().await,
        }
    }

    /// Whether a user with this role has this screen in their navigation.
    fn used_by(self, role: Role) -> bool {
        match self {
            Self::Field => true,
            Self::Map | Self::Dashboard => role.is_manager(),
            Self::Admin => role == Role::Admin,
        }
    }
}

/// How long after sign-in the prefetch starts.
const PREFETCH_DELAY_MS: u32 = 2_000;

/// Loads the screens this role uses in the background, so that they open at once and work
/// offline later (the service worker keeps what was fetched). Called once a manager or
/// administrator is signed in and online; a failure only means the screen loads when opened.
pub(super) fn prefetch_for(role: Role) {
    let chunks: Vec<Chunk> = Chunk::MANAGERS
        .into_iter()
        .filter(|c| c.used_by(role))
        .collect();
    if chunks.is_empty() {
        return;
    }
    spawn_local(async move {
        // Leave the first seconds' bandwidth to the sign-in and the first pull.
        gloo_timers::future::TimeoutFuture::new(PREFETCH_DELAY_MS).await;
        for chunk in chunks {
            // A failure is retried when the screen is opened.
            let _ = chunk.preload().await;
        }
    });
}

/// Fetches and instantiates the field module once the current frame has been painted: on the
/// sign-in screen, its bytes start after the sign-in is usable and load while the password is
/// typed. A failure only means the route retries after the sign-in.
pub(super) fn preload_field_after_paint() {
    spawn_local(async {
        after_next_paint().await;
        let _ = Chunk::Field.preload().await;
    });
}

/// Resolves after the next frame has been rendered: an animation frame, then a task (the frame's
/// paint happens between the two).
async fn after_next_paint() {
    let (done, frame) = futures::channel::oneshot::channel::<()>();
    request_animation_frame(move || {
        let _ = done.send(());
    });
    let _ = frame.await;
    gloo_timers::future::TimeoutFuture::new(0).await;
}

#[derive(Clone, Copy)]
enum State {
    Loading,
    Failed,
    Ready(Screen),
}

/// A route whose screen lives in a split module: a loading line while the module loads, the
/// screen once it has, and a message with a retry when it cannot be fetched.
///
/// `settled` (optional) becomes true once the module has loaded or failed to.
#[component]
pub(super) fn Deferred(
    chunk: Chunk,
    #[prop(optional)] settled: Option<RwSignal<bool>>,
) -> impl IntoView {
    let state = RwSignal::new(State::Loading);
    let start = move || {
        state.set(State::Loading);
        spawn_local(async move {
            // The route may have been left while the module loaded.
            let _ = state.try_set(match chunk.load().await {
                Ok(screen) => State::Ready(screen),
                Err(LoadFailed) => State::Failed,
            });
            if let Some(settled) = settled {
                settled.set(true);
            }
        });
    };
    start();
    move || match state.get() {
        State::Loading => view! {
            <p class="muted" role="status" data-testid="screen-loading">{t("screen.loading")}</p>
        }
        .into_any(),
        State::Failed => view! {
            <section class="card" data-testid="screen-unavailable">
                <p class="field-error" role="alert">{t("screen.unavailable")}</p>
                <button type="button" on:click=move |_| start()>{t("screen.retry")}</button>
            </section>
        }
        .into_any(),
        State::Ready(screen) => screen(),
    }
}
