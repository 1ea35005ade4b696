//! The screens. They render from the local database (re-read whenever `SyncSignals::version`
//! bumps) and write only through `Client::commit`: the network is never in the way.
//!
//! This file is the shell every load starts with: the header with the sync badge, and the
//! sign-in. The signed-in routes (`routes.rs`: the field screens and the sync panel), the sync
//! engine and the managers' screens are split modules loaded by `lazy.rs`.

mod activities;
mod admin;
mod area_picker;
mod assignee_picker;
mod browser;
mod case_detail;
mod case_form;
mod case_place;
mod cases;
mod context;
mod dashboard;
mod format;
mod forms;
mod grid_history;
mod grid_panel;
mod home;
mod import;
mod layout;
mod lazy;
mod lifecycle;
mod list;
mod login;
mod map;
mod names;
mod nav;
mod photos;
mod routes;
mod staff;
mod supervision;
mod sync_panel;
mod table;
mod user_import;
mod visits;

use browser::local_storage;
use context::{ctx, t, Ctx};
use format::role_label;
use lazy::{Chunk, Deferred, StartFailed};
use login::Login;
use nav::Nav;
use sync_panel::SyncBadge;

use crate::i18n::{tr, trf, Lang, STORAGE_KEY};
use crate::sync::badge::Local;
use crate::sync::{clear_session, client, load_session, sign_out_remote, Session, SyncSignals};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Router;

fn initial_lang() -> Lang {
    local_storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|c| Lang::from_code(&c))
        .unwrap_or_default()
}

/// The app: shell, routes, sync panel.
#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(initial_lang());
    Effect::new(move |_| {
        let code = lang.get().code();
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = el.set_attribute("lang", code);
        }
        if let Some(s) = local_storage() {
            let _ = s.set_item(STORAGE_KEY, code);
        }
    });
    let sig = SyncSignals::new();
    let session = RwSignal::new(None::<Session>);
    provide_context(Ctx {
        lang,
        sig,
        panel: RwSignal::new(false),
        session,
    });
    let ready = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    // Whether the field screens' module has loaded (or could not be): until then a signed-in
    // page is not ready.
    let field_settled = RwSignal::new(false);
    // A stored session opens that user's local database and starts sync with no network at all.
    spawn_local(async move {
        if let Some(s) = load_session().await {
            // The sync engine is in the field screens' module: loading it starts both.
            match lazy::start_sync(sig, s.clone()).await {
                Ok(()) => session.set(Some(s)),
                Err(StartFailed::Storage(e)) => {
                    failed.set(Some(trf(
                        lang.get_untracked(),
                        "error.storage",
                        &[("e", &e)],
                    )));
                }
                Err(StartFailed::Unavailable) => {
                    failed.set(Some(tr(lang.get_untracked(), "screen.unavailable")));
                }
            }
        } else {
            // The sign-in screen: no user, nothing to sync (never "up to date").
            sig.local.set(Local::NoUser);
            ready.set(true);
            // The field screens load while the password is typed, once the sign-in has been
            // painted (their bytes never delay it).
            lazy::preload_field_after_paint();
            return;
        }
        ready.set(true);
    });
    // The sync loop refreshes the user's role and area at each round: the header and the
    // role-dependent screens follow.
    Effect::new(move |_| {
        sig.version.get();
        let Some(me) = client().map(|c| c.me()) else {
            return;
        };
        if session.with_untracked(|s| s.as_ref().is_some_and(|s| s.me != me)) {
            session.update(|s| {
                if let Some(s) = s {
                    s.me = me;
                }
            });
        }
    });
    // A manager's or administrator's first visit fetches their screens in the background, so
    // they open at once and offline later (see `lazy`).
    let prefetched = StoredValue::new(false);
    Effect::new(move |_| {
        let role = session.with(|s| s.as_ref().map(|s| s.me.role));
        if let Some(role) = role.filter(|_| sig.online.get() && !prefetched.get_value()) {
            prefetched.set_value(true);
            lazy::prefetch_for(role);
        }
    });
    // Only signing in or out swaps the screens (not a refreshed role or area).
    let signed_in = Memo::new(move |_| session.with(Option::is_some));
    view! {
        <Router>
            <div id="app" data-ready=move || {
                let screen = failed.with(Option::is_some) || !signed_in.get() || field_settled.get();
                (ready.get() && screen).to_string()
            }>
                <Header/>
                <main class="content">
                    {move || {
                        if let Some(e) = failed.get() {
                            view! { <p class="error" role="alert">{e}</p> }.into_any()
                        } else if !ready.get() {
                            view! { <p class="muted">{t("loading")}</p> }.into_any()
                        } else if !signed_in.get() {
                            view! { <Login/> }.into_any()
                        } else {
                            // The field screens' module: fetched while the sign-in was shown,
                            // from the service worker's cache on a signed-in reload.
                            view! { <Deferred chunk=Chunk::Field settled=field_settled/> }.into_any()
                        }
                    }}
                </main>
            </div>
        </Router>
    }
}

/// Signs out: forgets the session (the user's local database stays, with any waiting ops) and
/// reloads to the login screen, which stops this user's sync loop, live stream and tab lock.
/// The user's other tabs follow; the server revokes the token when it can be reached.
fn sign_out(token: String) {
    spawn_local(async move {
        // The session is forgotten before the other tabs hear of it, so none of them reloads
        // into it again.
        let _ = clear_session().await;
        if let Some(c) = client() {
            c.close_live();
            c.announce_sign_out();
        }
        sign_out_remote(&token).await;
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href("/login");
        }
    });
}

#[component]
fn Header() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    let warn = RwSignal::new(false);
    // "Sync first" was chosen: sign out as soon as the outbox is empty.
    let sync_then_out = RwSignal::new(false);
    let logout = move |_| {
        let Some(s) = session.get_untracked() else {
            return;
        };
        if sig.waiting.get_untracked() > 0 {
            warn.set(true);
        } else {
            sign_out(s.token);
        }
    };
    Effect::new(move |_| {
        if sync_then_out.get() && sig.waiting.get() == 0 && !sig.syncing.get() {
            sync_then_out.set(false);
            warn.set(false);
            if let Some(s) = session.get_untracked() {
                sign_out(s.token);
            }
        }
    });
    view! {
        <header class="top">
            <a href="/" class="brand">
                <span class="brand-title" data-testid="app-title">{t("app.title")}</span>
                <span class="brand-sub">{t("app.subtitle")}</span>
            </a>
            <div class="status">
                <span
                    class="net"
                    class:offline=move || !sig.online.get()
                    data-testid="net-status"
                    data-online=move || sig.online.get().to_string()
                    role="status"
                >
                    {move || if sig.online.get() { tr(lang.get(), "net.online") } else { tr(lang.get(), "net.offline") }}
                </span>
                <SyncBadge/>
                <button
                    type="button"
                    class="lang"
                    data-testid="lang-toggle"
                    // Named by its visible text, in the language it switches to.
                    title=move || tr(lang.get(), "lang.toggle.label")
                    lang=move || lang.get().other().code()
                    on:click=move |_| lang.update(|l| *l = l.other())
                >
                    {t("lang.toggle")}
                </button>
            </div>
        </header>
        {move || session.get().map(|s| {
            let role = s.me.role;
            view! {
                <div class="who">
                    <span data-testid="whoami" data-username=s.me.username.clone()>
                        {s.me.display_name.clone()} " · " {move || role_label(lang.get(), role)}
                    </span>
                    <button type="button" class="link" data-testid="logout" on:click=logout>{t("auth.logout")}</button>
                </div>
                <Nav role=role/>
            }
        })}
        <Show when=move || sig.signed_out.get()>
            <div class="banner" role="alert" data-testid="reauth">
                <span>{move || trf(lang.get(), "auth.reauth", &[("n", &sig.waiting.get().to_string())])}</span>
                <a href="/login" class="primary">{t("auth.sign_in")}</a>
            </div>
        </Show>
        <Show when=move || warn.get()>
            <div class="panel" role="dialog" data-testid="logout-warning" aria-label=move || tr(lang.get(), "auth.logout")>
                <p>{move || trf(lang.get(), "auth.logout.warning", &[("n", &sig.waiting.get().to_string())])}</p>
                <Show when=move || sync_then_out.get()>
                    <p class="muted" role="status" data-testid="logout-progress">{move || {
                        let l = lang.get();
                        if sig.signed_out.get() {
                            tr(l, "auth.logout.sync_needs_sign_in")
                        } else if sig.online.get() {
                            tr(l, "auth.logout.syncing")
                        } else {
                            tr(l, "auth.logout.sync_offline")
                        }
                    }}</p>
                </Show>
                <button type="button" class="primary" data-testid="logout-sync" disabled=move || sync_then_out.get()
                    on:click=move |_| { sync_then_out.set(true); if let Some(c) = client() { c.kick(); } }>{t("auth.logout.sync_first")}</button>
                <button type="button" data-testid="logout-confirm"
                    on:click=move |_| { sync_then_out.set(false); warn.set(false); if let Some(s) = session.get_untracked() { sign_out(s.token); } }>{t("auth.logout.anyway")}</button>
                <button type="button" on:click=move |_| { sync_then_out.set(false); warn.set(false); }>{t("auth.logout.cancel")}</button>
            </div>
        </Show>
    }
}
