//! The screens. They render from the local database (re-read whenever `SyncSignals::version`
//! bumps) and write only through `Client::commit`: the network is never in the way.

mod activities;
mod admin;
mod browser;
mod cases;
mod context;
mod dashboard;
mod format;
mod forms;
mod grid_panel;
mod import;
mod lazy;
mod map;
mod photos;
mod staff;
mod sync_panel;
mod table;
mod visits;

use activities::{ActivityList, ActivityNew};
use browser::local_storage;
use cases::{case_deadline, case_status, CaseDetail, CaseList, CaseNew};
use context::{ctx, t, Ctx};
use format::{now_ms, role_label};
use lazy::{Chunk, Deferred};
use sync_panel::{SyncBadge, SyncPanel};
use visits::{VisitList, VisitNew};

use crate::i18n::{tr, trf, Lang, STORAGE_KEY};
use crate::store::LocalStore;
use crate::sync::badge::Local;
use crate::sync::{
    clear_session, client, load_session, sign_in, sign_out_remote, Client, LoginError, Session,
    SyncSignals,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;
use leptos_router::NavigateOptions;
use tongxin_shared::case::{is_overdue, Role};
use tongxin_shared::Collection;

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
    // A stored session opens that user's local database and starts sync with no network at all.
    spawn_local(async move {
        if let Some(s) = load_session().await {
            match Client::start(sig, s.clone()).await {
                Ok(_) => session.set(Some(s)),
                Err(e) => failed.set(Some(e.to_string())),
            }
        } else {
            // The sign-in screen: no user, nothing to sync (never "up to date").
            sig.local.set(Local::NoUser);
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
            <div id="app" data-ready=move || ready.get().to_string()>
                <Header/>
                <main class="content">
                    {move || {
                        if let Some(e) = failed.get() {
                            view! { <p class="error" role="alert">{trf(lang.get(), "error.storage", &[("e", &e)])}</p> }.into_any()
                        } else if !ready.get() {
                            view! { <p class="muted">{t("loading")}</p> }.into_any()
                        } else if !signed_in.get() {
                            view! { <Login/> }.into_any()
                        } else {
                            view! {
                                // Every route's view is erased to `AnyView`: the router's
                                // `EitherOf12` then handles one type instead of twelve.
                                <Routes fallback=|| view! { <Home/> }.into_any()>
                                    <Route path=path!("/") view=|| view! { <Home/> }.into_any()/>
                                    <Route path=path!("/login") view=|| view! { <Login/> }.into_any()/>
                                    <Route path=path!("/admin") view=|| view! { <Deferred chunk=Chunk::Admin/> }.into_any()/>
                                    <Route path=path!("/visits") view=|| view! { <VisitList/> }.into_any()/>
                                    <Route path=path!("/visits/new") view=|| view! { <VisitNew/> }.into_any()/>
                                    <Route path=path!("/activities") view=|| view! { <ActivityList/> }.into_any()/>
                                    <Route path=path!("/map") view=|| view! { <Deferred chunk=Chunk::Map/> }.into_any()/>
                                    <Route path=path!("/dashboard") view=|| view! { <Deferred chunk=Chunk::Dashboard/> }.into_any()/>
                                    <Route path=path!("/activities/new") view=|| view! { <ActivityNew/> }.into_any()/>
                                    <Route path=path!("/cases") view=|| view! { <CaseList/> }.into_any()/>
                                    <Route path=path!("/cases/new") view=|| view! { <CaseNew/> }.into_any()/>
                                    <Route path=path!("/cases/:id") view=|| view! { <CaseDetail/> }.into_any()/>
                                </Routes>
                            }.into_any()
                        }
                    }}
                </main>
                <SyncPanel/>
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
            let is_admin = s.me.role == Role::Admin;
            let role = s.me.role;
            view! {
                <div class="who">
                    <span data-testid="whoami" data-username=s.me.username.clone()>
                        {s.me.display_name.clone()} " · " {move || role_label(lang.get(), role)}
                    </span>
                    <button type="button" class="link" data-testid="logout" on:click=logout>{t("auth.logout")}</button>
                </div>
                <nav class="tabs" aria-label="main">
                    <a href="/">{t("nav.home")}</a>
                    <a href="/cases">{t("nav.cases")}</a>
                    <a href="/visits">{t("nav.visits")}</a>
                    <a href="/activities">{t("nav.activities")}</a>
                    <a href="/cases/new" class="primary">{t("nav.new_case")}</a>
                    {role.is_manager().then(|| view! { <a href="/map">{t("nav.map")}</a> <a href="/dashboard">{t("nav.dashboard")}</a> })}
                    {is_admin.then(|| view! { <a href="/admin">{t("nav.admin")}</a> })}
                </nav>
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

/// Sign-in. Shown whenever nobody is signed in, and at /login to sign in again after a session
/// ended (the same user resumes syncing; another user gets their own local database).
#[component]
fn Login() -> impl IntoView {
    let Ctx { lang, session, .. } = ctx();
    let navigate = use_navigate();
    let username = RwSignal::new(
        session
            .get_untracked()
            .map(|s| s.me.username)
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move || {
        let (u, p) = (username.get_untracked(), password.get_untracked());
        let l = lang.get_untracked();
        if u.trim().is_empty() || p.is_empty() {
            error.set(Some(tr(l, "auth.error.missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = sign_in(&u, &p).await;
            busy.set(false);
            match result {
                Ok(s) => {
                    let same = client().is_some_and(|c| c.me().username == s.me.username);
                    if same {
                        if let Some(c) = client() {
                            c.resume(s.clone());
                        }
                        session.set(Some(s));
                        navigate("/", NavigateOptions::default());
                    } else {
                        // Another user signs in on this device: the previous user's tabs stop
                        // and their token is revoked (their unsent ops wait in their database).
                        if let Some(c) = client() {
                            c.close_live();
                            c.announce_sign_out();
                        }
                        if let Some(old) = session.get_untracked() {
                            sign_out_remote(&old.token).await;
                        }
                        // A fresh page starts this user's own database and sync loop.
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_href("/");
                        }
                    }
                }
                Err(e) => {
                    password.set(String::new());
                    let key = match e {
                        LoginError::BadCredentials => "auth.error.bad_credentials",
                        LoginError::RateLimited => "auth.error.rate_limited",
                        LoginError::Offline => "auth.error.offline",
                        LoginError::Other(m) => {
                            error.set(Some(trf(l, "auth.error.other", &[("e", &m)])));
                            return;
                        }
                    };
                    error.set(Some(tr(l, key)));
                }
            }
        });
    };
    view! {
        <section class="card login">
            <h1>{t("auth.title")}</h1>
            <form class="form" data-testid="login-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <label>
                    <span>{t("auth.username")}</span>
                    <input name="username" type="text" autocomplete="username" autocapitalize="none" required
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{t("auth.password")}</span>
                    <input name="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-testid="login-error">{m}</p> })}
                <button type="submit" class="primary" data-testid="login-submit" disabled=move || busy.get()>{t("auth.sign_in")}</button>
            </form>
            <p class="muted small">{t("auth.offline_note")}</p>
        </section>
    }
}

#[component]
fn Home() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    let count = LocalResource::new(move || {
        sig.version.get();
        async move {
            match client() {
                Some(c) => c.store.count(Collection::Cases).await.unwrap_or(0),
                None => 0,
            }
        }
    });
    // What needs me today: open cases in my area that are mine (reported or assigned), due
    // within a day, or overdue; and my grids by name. Read from the local database, offline.
    let today = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else {
                return (Vec::new(), 0, 0, 0);
            };
            let me = c.me();
            let cases = c.store.list(Collection::Cases).await.unwrap_or_default();
            let now = now_ms();
            let (mut mine, mut soon, mut late) = (0, 0, 0);
            for r in cases.iter().filter(|r| !r.is_deleted()) {
                let Some(st) = case_status(r).filter(|s| s.is_open()) else {
                    continue;
                };
                if r.str("reporter") == Some(me.username.as_str())
                    || r.str("assignee") == Some(me.username.as_str())
                {
                    mine += 1;
                }
                match case_deadline(r) {
                    Some(d) if is_overdue(st, d, now) => late += 1,
                    Some(d) if d <= now + tongxin_shared::case::DAY_MS => soon += 1,
                    _ => {}
                }
            }
            let grids = c.store.list(Collection::Grids).await.unwrap_or_default();
            let names: Vec<String> = me
                .grids
                .iter()
                .map(|g| {
                    grids
                        .iter()
                        .find(|r| r.id == *g)
                        .and_then(|r| r.str("name"))
                        .map_or_else(|| g.to_string(), ToOwned::to_owned)
                })
                .collect();
            (names, mine, soon, late)
        }
    });
    let role = move || session.with(|s| s.as_ref().map(|s| s.me.role));
    view! {
        <section class="card">
            <p>{t("home.welcome")}</p>
            <p class="muted">{move || count.get().map(|n| trf(lang.get(), "home.cases_count", &[("n", &n.to_string())]))}</p>
            <p class="muted small">{t("home.synthetic")}</p>
        </section>
        {move || today.get().map(|(names, mine, soon, late)| view! {
            <section class="card" data-testid="today">
                <h2>{t("home.today")}</h2>
                {(!names.is_empty()).then(|| view! { <p data-testid="my-grids">{move || trf(lang.get(), "home.my_grids", &[("g", &names.join("、"))])}</p> })}
                <ul class="figures">
                    <li><a href="/cases" data-testid="today-mine" data-n=mine.to_string()><strong>{mine}</strong><span>{t("home.mine")}</span></a></li>
                    <li><a href="/cases" data-testid="today-soon" data-n=soon.to_string()><strong>{soon}</strong><span>{t("home.due_soon")}</span></a></li>
                    <li><a href="/cases" class={if late > 0 { "late" } else { "" }} data-testid="today-overdue" data-n=late.to_string()><strong>{late}</strong><span>{t("home.overdue")}</span></a></li>
                </ul>
                <div class="actions">
                    <a class="button primary" href="/cases/new">{t("nav.new_case")}</a>
                    {move || matches!(role(), Some(Role::Warden | Role::GridLeader)).then(|| view! {
                        <a class="button" href="/visits/new">{t("visits.new")}</a>
                    })}
                </div>
            </section>
        })}
    }
}
