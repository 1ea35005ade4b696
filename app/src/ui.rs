//! The screens. They render from the local database (re-read whenever `SyncSignals::version`
//! bumps) and write only through `Client::commit`: the network is never in the way.

mod dashboard;
mod grid_panel;
mod import;
mod staff;

use crate::i18n::{tr, trf, Lang, STORAGE_KEY};
use crate::store::{LocalStore, RejectedOp};
use crate::sync::{
    clear_session, client, load_session, sign_in, sign_out_remote, Client, LoginError, Session,
    SyncSignals,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::path;
use leptos_router::NavigateOptions;
use std::collections::BTreeMap;
use tongxin_shared::case::{
    allowed_actions, deadline, is_overdue, owner_level, recorded_escalation, supervision_level,
    Action, Deadlines, Level, Role, Status, ESCALATE,
};
use tongxin_shared::query::CaseFilter;
use tongxin_shared::schema::{validate_op, ACTIVITY_THEMES, CASE_CATEGORIES};
use tongxin_shared::wire::{UserSummary, UserUpsert, MIN_PASSWORD_CHARS, PROTOCOL_HEADER};
use tongxin_shared::{Collection, OpBody, Record, RecordId, PROTOCOL_VERSION};

/// What every screen can reach.
#[derive(Clone, Copy)]
struct Ctx {
    lang: RwSignal<Lang>,
    sig: SyncSignals,
    panel: RwSignal<bool>,
    /// The signed-in session (None: the login screen is shown).
    session: RwSignal<Option<Session>>,
}

fn ctx() -> Ctx {
    use_context::<Ctx>().expect("Ctx is provided by App")
}

/// A translated string that follows the language.
fn t(key: &'static str) -> impl Fn() -> String + Copy {
    let lang = ctx().lang;
    move || tr(lang.get(), key)
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

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
                                <Routes fallback=|| view! { <Home/> }>
                                    <Route path=path!("/") view=Home/>
                                    <Route path=path!("/login") view=Login/>
                                    <Route path=path!("/admin") view=Admin/>
                                    <Route path=path!("/visits") view=VisitList/>
                                    <Route path=path!("/visits/new") view=VisitNew/>
                                    <Route path=path!("/activities") view=ActivityList/>
                                    <Route path=path!("/map") view=MapView/>
                                    <Route path=path!("/dashboard") view=dashboard::Dashboard/>
                                    <Route path=path!("/activities/new") view=ActivityNew/>
                                    <Route path=path!("/cases") view=CaseList/>
                                    <Route path=path!("/cases/new") view=CaseNew/>
                                    <Route path=path!("/cases/:id") view=CaseDetail/>
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

fn role_label(lang: Lang, role: Role) -> String {
    tr(lang, &format!("role.{}", role.as_str()))
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
        lang,
        sig,
        panel,
        session,
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
    let badge_label = move || {
        let (state, n) = sig.badge();
        let l = lang.get();
        let n = n.to_string();
        match state {
            "attention" if sig.update_required.get() => tr(l, "sync.update"),
            "signed_out" => trf(l, "sync.signed_out", &[("n", &n)]),
            "attention" => trf(l, "sync.attention", &[("n", &n)]),
            "offline" => trf(l, "sync.offline", &[("n", &sig.waiting.get().to_string())]),
            "syncing" if sig.received.get() > 0 => trf(l, "sync.syncing.progress", &[("n", &n)]),
            "syncing" => tr(l, "sync.syncing"),
            "waiting" => trf(l, "sync.waiting", &[("n", &n)]),
            _ => tr(l, "sync.synced"),
        }
    };
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
                <button
                    type="button"
                    class=move || format!("badge badge-{}", sig.badge().0)
                    data-testid="sync-badge"
                    data-state=move || sig.badge().0
                    data-waiting=move || sig.waiting.get().to_string()
                    data-rejected=move || sig.rejected.get().to_string()
                    aria-label=move || tr(lang.get(), "sync.panel.title")
                    on:click=move |_| panel.update(|p| *p = !*p)
                >
                    {badge_label}
                </button>
                <button
                    type="button"
                    class="lang"
                    data-testid="lang-toggle"
                    aria-label=move || tr(lang.get(), "lang.toggle.label")
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

/// My visits and patrols (走访/巡查), newest first.
#[component]
fn VisitList() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let visits = LocalResource::new(move || {
        sig.version.get();
        async move {
            let mut list = live_records(Collection::Visits).await;
            list.sort_by_key(|r| {
                std::cmp::Reverse(
                    r.get("visited_at")
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(0),
                )
            });
            let homes: BTreeMap<String, String> = households_on_device()
                .await
                .into_iter()
                .map(|(id, _, _, addr, _)| (id, addr))
                .collect();
            (list, homes)
        }
    });
    view! {
        <section>
            <h1>{t("visits.title")}</h1>
            <a class="button primary" href="/visits/new">{t("visits.new")}</a>
            {move || visits.get().map(|(list, homes)| {
                if list.is_empty() {
                    return view! { <p class="muted">{t("visits.empty")}</p> }.into_any();
                }
                view! {
                    <ul class="list">
                        {list.into_iter().map(|r| {
                            let kind = r.str("kind").unwrap_or_default().to_owned();
                            let at = r.get("visited_at").and_then(serde_json::Value::as_u64).unwrap_or(0);
                            let notes = r.str("notes").unwrap_or_default().to_owned();
                            let home = r.str("household").and_then(|h| homes.get(h)).cloned();
                            let appeals: Vec<String> = r.get("appeals").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_str().map(ToOwned::to_owned)).collect()).unwrap_or_default();
                            let id = r.id;
                            view! {
                                <li class="item" data-testid="visit-item" data-id=id.to_string()>
                                    <span class="item-title">{move || tr(lang.get(), &format!("visit.kind.{kind}"))} " · " {when(at)}</span>
                                    {home.map(|h| view! { <span class="item-meta" data-testid="visit-household">{h}</span> })}
                                    <span class="item-meta pre">{notes}</span>
                                    {(!appeals.is_empty()).then(|| view! {
                                        <ul class="appeals">
                                            {appeals.into_iter().map(|a| {
                                                let href = format!("/cases/new?title={}&visit={id}", js_sys::encode_uri_component(&a));
                                                view! {
                                                    <li data-testid="appeal">
                                                        <span>{a}</span>
                                                        <a class="button" href=href data-testid="appeal-to-case">{t("visits.to_case")}</a>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}

/// A household on the device: (id, grid, compound, address, head of household as the user may
/// see it — masked above the handling level).
type HouseholdRow = (String, String, String, String, String);

async fn households_on_device() -> Vec<HouseholdRow> {
    let mut list: Vec<HouseholdRow> = live_records(Collection::Households)
        .await
        .iter()
        .map(|r| {
            let s = |f: &str| r.str(f).unwrap_or_default().to_owned();
            (
                r.id.to_string(),
                s("grid"),
                s("compound"),
                s("address"),
                s("head_name"),
            )
        })
        .collect();
    list.sort_by(|a, b| a.3.cmp(&b.3));
    list
}

/// A phone number as people type them: digits with optional +, spaces and dashes, 5–20 long.
fn plausible_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&p.chars().count())
        && digits >= 5
        && p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
}

/// The value of the household picker that means "a household not on the device yet".
const NEW_HOUSEHOLD: &str = "new";

/// Log a visit or patrol: where (the user's grid, a compound, a household — picked from the
/// device or added on the spot), what kind, notes, and the residents' appeals heard (one per
/// line; each can become a case in one tap from the list). What is typed is kept as a draft.
#[component]
fn VisitNew() -> impl IntoView {
    let Ctx { lang, session, .. } = ctx();
    let navigate = use_navigate();
    let kind = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let appeals = RwSignal::new(String::new());
    let grid = RwSignal::new(None::<String>);
    let compound = RwSignal::new(String::new());
    let household = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let head = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    keep_draft(
        "visit",
        vec![
            ("kind", Draft::Text(kind)),
            ("grid", Draft::Opt(grid)),
            ("compound", Draft::Text(compound)),
            ("household", Draft::Text(household)),
            ("address", Draft::Text(address)),
            ("head_name", Draft::Text(head)),
            ("phone", Draft::Text(phone)),
            ("notes", Draft::Text(notes)),
            ("appeals", Draft::Text(appeals)),
        ],
    );
    let error = RwSignal::new(None::<(&'static str, String)>);
    let grids =
        move || session.with(|s| s.as_ref().map(|s| s.me.grids.clone()).unwrap_or_default());
    let chosen_grid = move || {
        grid.get()
            .filter(|g| !g.is_empty())
            .or_else(|| grids().first().map(ToString::to_string))
            .unwrap_or_default()
    };
    let kind_now = move || {
        let k = kind.get();
        if k.is_empty() {
            "household_visit".to_owned()
        } else {
            k
        }
    };
    // Where: a compound (小区/楼栋) of the chosen grid, from the device.
    let compounds = LocalResource::new(move || async move {
        let mut list: Vec<(String, String, String)> = live_records(Collection::Compounds)
            .await
            .iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    r.str("grid").unwrap_or_default().to_owned(),
                    r.str("name").unwrap_or_default().to_owned(),
                )
            })
            .collect();
        list.sort_by(|a, b| a.2.cmp(&b.2));
        list
    });
    let households = LocalResource::new(households_on_device);
    // The households of the chosen grid (and compound, when one is chosen).
    let here = move || {
        let (g, place) = (chosen_grid(), compound.get());
        households
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.1 == g && (place.is_empty() || h.2 == place))
            .collect::<Vec<_>>()
    };
    let save = move || {
        error.set(None);
        let l = lang.get_untracked();
        let Some(c) = client() else { return };
        let g = chosen_grid();
        if g.is_empty() {
            error.set(Some(("form", tr(l, "case.error.grid_required"))));
            return;
        }
        let heard: Vec<serde_json::Value> = appeals
            .get_untracked()
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(serde_json::Value::from)
            .collect();
        if notes.get_untracked().trim().is_empty() && heard.is_empty() {
            error.set(Some(("notes", tr(l, "visits.error.empty"))));
            return;
        }
        let k = kind_now();
        let place = compound.get_untracked();
        let mut ops = Vec::new();
        let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let picked = household.get_untracked();
        if k == "household_visit" && picked == NEW_HOUSEHOLD {
            let addr = address.get_untracked().trim().to_owned();
            if addr.is_empty() {
                error.set(Some(("address", tr(l, "household.error.address"))));
                return;
            }
            let tel = phone.get_untracked().trim().to_owned();
            if !tel.is_empty() && !plausible_phone(&tel) {
                error.set(Some(("phone", tr(l, "household.error.phone"))));
                return;
            }
            let mut h: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            h.insert("grid".into(), g.clone().into());
            if !place.is_empty() {
                h.insert("compound".into(), place.clone().into());
            }
            h.insert("address".into(), addr.into());
            let name = head.get_untracked().trim().to_owned();
            if !name.is_empty() {
                h.insert("head_name".into(), name.into());
            }
            if !tel.is_empty() {
                h.insert("phone".into(), tel.into());
            }
            let id = RecordId(uuid::Uuid::now_v7());
            ops.push(c.op(Collection::Households, id, OpBody::Set { fields: h }));
            fields.insert("household".into(), id.to_string().into());
        } else if k == "household_visit" && !picked.is_empty() {
            fields.insert("household".into(), picked.into());
        }
        fields.insert("grid".into(), g.into());
        fields.insert("kind".into(), k.into());
        if !place.is_empty() {
            fields.insert("compound".into(), place.into());
        }
        fields.insert("warden".into(), c.me().username.into());
        fields.insert("visited_at".into(), now_ms().into());
        fields.insert("notes".into(), notes.get_untracked().trim().into());
        fields.insert("appeals".into(), heard.into());
        ops.push(c.op(
            Collection::Visits,
            RecordId(uuid::Uuid::now_v7()),
            OpBody::Set { fields },
        ));
        save_new(ops, "visit", "/visits", error, l, navigate.clone());
    };
    let err_for = move |field: &'static str| field_error(error, field);
    let text = |sig: RwSignal<String>| move |ev| sig.set(event_target_value(&ev));
    view! {
        <section>
            <h1>{t("visits.new")}</h1>
            <form class="form" data-testid="visit-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
                <label>
                    <span>{t("visits.kind")}</span>
                    <select name="kind" on:change=text(kind)>
                        {["household_visit", "patrol"].into_iter().map(|k| view! {
                            <option value=k selected=move || kind_now() == k>{move || tr(lang.get(), &format!("visit.kind.{k}"))}</option>
                        }).collect_view()}
                    </select>
                </label>
                {move || (grids().len() > 1).then(|| view! {
                    <label>
                        <span>{t("case.grid")}</span>
                        <select name="grid" on:change=move |ev| grid.set(Some(event_target_value(&ev)))>
                            {grids().into_iter().map(|g| {
                                let id = g.to_string();
                                let this = id.clone();
                                view! { <option value=id selected=move || chosen_grid() == this>{g.to_string()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                {move || {
                    let chosen = chosen_grid();
                    let here: Vec<(String, String)> = compounds.get().unwrap_or_default().into_iter()
                        .filter(|(_, g, _)| *g == chosen).map(|(id, _, name)| (id, name)).collect();
                    (!here.is_empty()).then(|| view! {
                        <label>
                            <span>{t("visits.compound")}</span>
                            <select name="compound" on:change=text(compound)>
                                <option value="">{t("visits.no_compound")}</option>
                                {here.into_iter().map(|(id, name)| {
                                    let this = id.clone();
                                    view! { <option value=id selected=move || compound.get() == this>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    })
                }}
                {move || (kind_now() == "household_visit").then(|| view! {
                    <label>
                        <span>{t("household.title")}</span>
                        <select name="household" on:change=text(household)>
                            <option value="" selected=move || household.get().is_empty()>{t("household.none")}</option>
                            {move || here().into_iter().map(|(id, _, _, addr, name)| {
                                let this = id.clone();
                                let label = if name.is_empty() { addr } else { format!("{addr} · {name}") };
                                view! { <option value=id selected=move || household.get() == this>{label}</option> }
                            }).collect_view()}
                            <option value=NEW_HOUSEHOLD selected=move || household.get() == NEW_HOUSEHOLD>{t("household.add")}</option>
                        </select>
                    </label>
                })}
                {move || (kind_now() == "household_visit" && household.get() == NEW_HOUSEHOLD).then(|| view! {
                    <fieldset class="household" data-testid="new-household">
                        <legend>{t("household.new")}</legend>
                        <label><span>{t("household.address")}</span>
                            <input name="address" type="text" maxlength="200" autocomplete="off"
                                prop:value=move || address.get() on:input=text(address)/></label>
                        {err_for("address")}
                        <label><span>{t("household.head_name")}</span>
                            <input name="head_name" type="text" maxlength="60" autocomplete="off"
                                prop:value=move || head.get() on:input=text(head)/></label>
                        <label><span>{t("household.phone")}</span>
                            <input name="phone" type="tel" maxlength="20" inputmode="tel" autocomplete="off"
                                prop:value=move || phone.get() on:input=text(phone)/></label>
                        {err_for("phone")}
                    </fieldset>
                })}
                <label>
                    <span>{t("visits.notes")}</span>
                    <textarea name="notes" rows="3" maxlength="4000"
                        prop:value=move || notes.get() on:input=text(notes)></textarea>
                </label>
                {err_for("notes")}
                <label>
                    <span>{t("visits.appeals")}</span>
                    <textarea name="appeals" rows="3"
                        prop:value=move || appeals.get() on:input=text(appeals)></textarea>
                </label>
                {err_for("form")}
                <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            </form>
        </section>
    }
}

fn category_label(lang: Lang, c: &str) -> String {
    if c.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("category.{c}"))
    }
}

fn status_label(lang: Lang, s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("status.{s}"))
    }
}

#[component]
fn CaseList() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    let cases = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else { return Vec::new() };
            c.store.list(Collection::Cases).await.unwrap_or_default()
        }
    });
    // Filters, applied offline to the local records (shared::query::CaseFilter).
    let status = RwSignal::new(String::new());
    let overdue = RwSignal::new(false);
    let mine = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let grid = RwSignal::new(String::new());
    // Links from the map open the list filtered: /cases?grid=<id>&overdue=1.
    let query = leptos_router::hooks::use_query_map();
    query.with_untracked(|q| {
        if let Some(g) = q.get("grid") {
            grid.set(g);
        }
        if q.get("overdue").is_some_and(|v| v == "1") {
            overdue.set(true);
        }
    });
    // The supervision queue: overdue cases escalated to the user's level (managers).
    let escalated = RwSignal::new(false);
    let my_level = move || {
        session.with(|s| {
            s.as_ref()
                .filter(|s| s.me.role.is_manager())
                .map(|s| s.me.role.level())
        })
    };
    // The grids on the device (a manager's area has many), for the grid filter.
    let grids = LocalResource::new(move || async move {
        let Some(c) = client() else { return Vec::new() };
        let mut list: Vec<(String, String)> = c
            .store
            .list(Collection::Grids)
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| !r.is_deleted())
            .map(|r| {
                (
                    r.id.to_string(),
                    r.str("name").unwrap_or_default().to_owned(),
                )
            })
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list
    });
    let filtered = move || {
        let some = |v: String| (!v.is_empty()).then_some(v);
        let filter = CaseFilter {
            status: Status::parse(&status.get()),
            grid: some(grid.get()),
            category: some(category.get()),
            overdue_only: overdue.get(),
            mine: mine
                .get()
                .then(|| session.with(|s| s.as_ref().map(|s| s.me.username.clone())))
                .flatten(),
            text: text.get(),
        };
        cases.get().map(|all| {
            let total = all.iter().filter(|r| !r.is_deleted()).count();
            let now = now_ms();
            let queue = escalated.get().then(my_level).flatten();
            // The deployment's escalation steps (and the levels recorded by the server).
            let deadlines = sig.deadlines.get();
            let shown: Vec<Record> = filter
                .apply(all.iter(), now)
                .into_iter()
                .filter(|r| {
                    queue.is_none_or(|level| supervision_level(&deadlines, r, now) == Some(level))
                })
                .cloned()
                .collect();
            (total, shown)
        })
    };
    view! {
        <section>
            <h1>{t("cases.title")}</h1>
            <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                <input name="q" type="search" aria-label=move || tr(lang.get(), "cases.search")
                    placeholder=move || tr(lang.get(), "cases.search")
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
                <select name="status" aria-label=move || tr(lang.get(), "case.status")
                    on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="">{t("cases.all_states")}</option>
                    {Status::ALL.iter().map(|st| {
                        let v = st.as_str();
                        view! { <option value=v>{move || status_label(lang.get(), v)}</option> }
                    }).collect_view()}
                </select>
                <select name="category" aria-label=move || tr(lang.get(), "case.category")
                    on:change=move |ev| category.set(event_target_value(&ev))>
                    <option value="">{t("cases.all_categories")}</option>
                    {CASE_CATEGORIES.iter().map(|c| {
                        let c = *c;
                        view! { <option value=c>{move || category_label(lang.get(), c)}</option> }
                    }).collect_view()}
                </select>
                {move || grids.get().filter(|g| g.len() > 1).map(|list| view! {
                    <select name="grid" aria-label=move || tr(lang.get(), "case.grid")
                        on:change=move |ev| grid.set(event_target_value(&ev))>
                        <option value="">{t("cases.all_grids")}</option>
                        {list.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                })}
                <label class="check"><input name="overdue" type="checkbox" prop:checked=move || overdue.get()
                    on:change=move |ev| overdue.set(event_target_checked(&ev))/><span>{t("cases.overdue_only")}</span></label>
                <label class="check"><input name="mine" type="checkbox" prop:checked=move || mine.get()
                    on:change=move |ev| mine.set(event_target_checked(&ev))/><span>{t("cases.mine")}</span></label>
                {move || my_level().map(|_| view! {
                    <label class="check"><input name="escalated" type="checkbox" prop:checked=move || escalated.get()
                        on:change=move |ev| escalated.set(event_target_checked(&ev))/><span>{t("cases.escalated")}</span></label>
                })}
            </form>
            {move || match filtered() {
                None => view! { <p class="muted">{t("cases.loading")}</p> }.into_any(),
                Some((0, _)) => view! { <p class="muted">{t("cases.empty")}</p> }.into_any(),
                Some((total, list)) => {
                    let shown_n = list.len().to_string();
                    let shown_attr = shown_n.clone();
                    view! {
                    <p class="muted small" data-testid="cases-count" data-shown=shown_attr>{move || trf(lang.get(), "cases.count", &[("n", &shown_n), ("total", &total.to_string())])}</p>
                    {
                        let rows = list.clone();
                        view! {
                            <button type="button" data-testid="export-csv"
                                on:click=move |_| download("cases.csv", &cases_csv(lang.get_untracked(), &sig.deadlines.get_untracked(), &rows), "text/csv;charset=utf-8")>
                                {t("cases.export")}
                            </button>
                        }
                    }
                    <ul class="list">
                        {list.into_iter().map(|r| {
                            let id = r.id.to_string();
                            let title = r.str("title").unwrap_or_default().to_owned();
                            let category = r.str("category").unwrap_or_default().to_owned();
                            let status = r.str("status").unwrap_or_default().to_owned();
                            let synthetic = r.get("synthetic").and_then(serde_json::Value::as_bool).unwrap_or(false);
                            let late = matches!((case_status(&r), case_deadline(&r)), (Some(st), Some(d)) if is_overdue(st, d, now_ms()));
                            view! {
                                <li>
                                    <a class="item" href=format!("/cases/{id}") data-testid="case-item" data-id=id.clone()>
                                        <span class="item-title">{title}</span>
                                        <span class="item-meta">
                                            {move || category_label(lang.get(), &category)}
                                            " · "
                                            {move || status_label(lang.get(), &status)}
                                            {synthetic.then(|| view! { <span class="tag">{t("case.synthetic")}</span> })}
                                            {late.then(|| view! { <span class="tag tag-late" data-testid="overdue">{t("cases.overdue")}</span> })}
                                        </span>
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// "2026-11-25 14:05" in local time.
fn when(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

fn case_status(r: &Record) -> Option<Status> {
    r.str("status").and_then(Status::parse)
}

fn case_deadline(r: &Record) -> Option<u64> {
    r.get("deadline").and_then(serde_json::Value::as_u64)
}

/// The deadline, and how late an open case is.
fn deadline_text(lang: Lang, r: Option<&Record>) -> String {
    let Some((d, status)) = r.and_then(|r| Some((case_deadline(r)?, case_status(r)?))) else {
        return String::new();
    };
    if is_overdue(status, d, now_ms()) {
        trf(lang, "case.overdue", &[("d", &when(d))])
    } else {
        when(d)
    }
}

/// The lifecycle buttons the signed-in role may use now (上报 → 受理 → 处置中 → 已办结 → 销号,
/// or 退回), with an optional note. A step is one local commit: the new status and a timeline
/// entry (who, from, to, note; when is the entry's stamp).
#[component]
fn Lifecycle(record: RwSignal<Option<Record>>) -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let actions = move || {
        let role = session.with(|s| s.as_ref().map(|s| s.me.role))?;
        record.with(|r| {
            let r = r.as_ref()?;
            let status = case_status(r)?;
            // Closing (销号) and returning belong to the level the case has escalated to.
            let owner = sig.deadlines.with(|d| owner_level(d, r, now_ms()));
            Some(allowed_actions(status, role, owner))
        })
    };
    // 督办: a manager at or above the level an overdue case has escalated to records a reminder
    // on its timeline (the case stays where it is).
    let can_remind = move || {
        let role = session.with(|s| s.as_ref().map(|s| s.me.role))?;
        record.with(|r| {
            let r = r.as_ref()?;
            let level = sig.deadlines.with(|d| supervision_level(d, r, now_ms()))?;
            Some(role.is_manager() && role.level() >= level)
        })
    };
    let remind = move || {
        error.set(None);
        let (Some(c), Some(r)) = (client(), record.get_untracked()) else {
            return;
        };
        let status = case_status(&r).map_or("reported", Status::as_str);
        let mut data = serde_json::Map::new();
        data.insert("action".into(), "remind".into());
        data.insert("from".into(), status.into());
        data.insert("to".into(), status.into());
        data.insert("by".into(), c.me().username.into());
        let text = note.get_untracked();
        data.insert(
            "note".into(),
            if text.trim().is_empty() {
                "逾期督办".to_owned()
            } else {
                text.trim().to_owned()
            }
            .into(),
        );
        let op = c.op(
            Collection::Cases,
            r.id,
            OpBody::Append {
                entry: tongxin_shared::Entry {
                    id: uuid::Uuid::now_v7(),
                    data,
                },
            },
        );
        let l = lang.get_untracked();
        spawn_local(async move {
            match c.commit(vec![op]).await {
                Ok(()) => note.set(String::new()),
                Err(e) => error.set(Some(trf(
                    l,
                    "case.error.save_failed",
                    &[("e", &e.to_string())],
                ))),
            }
        });
    };
    let act = move |action: Action| {
        error.set(None);
        let (Some(c), Some(r)) = (client(), record.get_untracked()) else {
            return;
        };
        let me = c.me();
        let from = case_status(&r);
        let now = now_ms();
        let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        fields.insert("status".into(), action.target().as_str().into());
        if action == Action::Close {
            fields.insert("closed_at".into(), now.into());
        }
        if action == Action::Accept && r.str("assignee").is_none() {
            fields.insert(
                "assignee".into(),
                r.str("reporter").unwrap_or(&me.username).into(),
            );
        }
        let mut data = serde_json::Map::new();
        data.insert("action".into(), action.as_str().into());
        data.insert(
            "from".into(),
            from.map_or(serde_json::Value::Null, |s| s.as_str().into()),
        );
        data.insert("to".into(), action.target().as_str().into());
        data.insert("by".into(), me.username.clone().into());
        let text = note.get_untracked();
        if !text.trim().is_empty() {
            data.insert("note".into(), text.trim().into());
        }
        let set = c.op(Collection::Cases, r.id, OpBody::Set { fields });
        let append = c.op(
            Collection::Cases,
            r.id,
            OpBody::Append {
                entry: tongxin_shared::Entry {
                    id: uuid::Uuid::now_v7(),
                    data,
                },
            },
        );
        for op in [&set, &append] {
            if let Err(e) = validate_op(op) {
                error.set(Some(e.message));
                return;
            }
        }
        let l = lang.get_untracked();
        spawn_local(async move {
            match c.commit(vec![set, append]).await {
                Ok(()) => note.set(String::new()),
                Err(e) => error.set(Some(trf(
                    l,
                    "case.error.save_failed",
                    &[("e", &e.to_string())],
                ))),
            }
        });
    };
    view! {
        {move || {
            let list = actions().unwrap_or_default();
            let reminds = can_remind().unwrap_or(false);
            (reminds || !list.is_empty()).then_some((list, reminds))
        }.map(|(list, reminds)| view! {
            <div class="lifecycle" data-testid="lifecycle">
                <label>
                    <span>{t("case.step_note")}</span>
                    <textarea name="note" rows="2" maxlength="500"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                <div class="actions">
                    {list.into_iter().map(|a| view! {
                        <button type="button" class=if matches!(a, Action::Close | Action::Resolve) { "primary" } else { "" }
                            data-testid="case-action" data-action=a.as_str()
                            on:click=move |_| act(a)>{move || tr(lang.get(), &format!("action.{}", a.as_str()))}</button>
                    }).collect_view()}
                    {reminds.then(|| view! {
                        <button type="button" data-testid="case-action" data-action="remind"
                            on:click=move |_| remind()>{move || tr(lang.get(), "action.remind")}</button>
                    })}
                </div>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
        })}
    }
}

/// The case's timeline: every step with who, when and the note, oldest first (stamp order, so
/// the escalations of one sweep read community → subdistrict → city). An escalation is written by
/// the server: it names the level the case went up to, and "system" as its author.
#[component]
fn Timeline(record: RwSignal<Option<Record>>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let entries = move || {
        record.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.timeline()
                        .into_iter()
                        .map(|(_, e)| (e.stamp.hlc.wall_ms, e.data.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <h2>{t("case.timeline")}</h2>
        <ol class="timeline" data-testid="timeline">
            {move || entries().into_iter().map(|(at, data)| {
                let text = |k: &str| data.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let action = text("action");
                let note = text("note");
                let escalation = (action == ESCALATE).then(|| Level::parse(&text("level"))).flatten();
                let by = text("by");
                let label_action = action.clone();
                view! {
                    <li data-testid="timeline-entry" data-action=action data-level=escalation.map(Level::as_str)>
                        <strong>
                            {move || tr(lang.get(), &format!("action.{label_action}"))}
                            {escalation.map(|l| view! { " → " {move || level_label(lang.get(), l)} })}
                        </strong>
                        " · "
                        {move || if by.is_empty() && escalation.is_some() { tr(lang.get(), "timeline.system") } else { by.clone() }}
                        " · " {when(at)}
                        {(!note.is_empty()).then(|| view! { <p class="pre">{note}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

#[component]
fn CaseNew() -> impl IntoView {
    let record = RwSignal::new(None::<Record>);
    // From a visit's appeal (一键转事件): the appeal is the title, the source a resident appeal.
    let query = leptos_router::hooks::use_query_map();
    let prefill = query.with_untracked(|q| q.get("title"));
    let from_appeal = query.with_untracked(|q| q.get("visit").is_some());
    view! {
        <section>
            <h1>{t("cases.new")}</h1>
            <CaseForm record=record id=None prefill=prefill.unwrap_or_default() from_appeal=from_appeal/>
        </section>
    }
}

#[component]
fn CaseDetail() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| RecordId::parse(&s).ok())
    };
    let record = RwSignal::new(None::<Record>);
    let loaded = RwSignal::new(false);
    // Re-read on every change; a slower, older read never overwrites a newer one.
    Effect::new(move |_| {
        let v = sig.version.get();
        let id = id();
        spawn_local(async move {
            let r = match (client(), id) {
                (Some(c), Some(id)) => c.store.get(Collection::Cases, id).await.ok().flatten(),
                _ => None,
            };
            if sig.version.get_untracked() == v {
                record.set(r);
                loaded.set(true);
            }
        });
    });
    let field = move |name: &'static str| {
        move || {
            record.with(|r| {
                r.as_ref()
                    .and_then(|r| r.str(name))
                    .unwrap_or_default()
                    .to_owned()
            })
        }
    };
    view! {
        <section>
            <Show
                when=move || record.with(Option::is_some)
                fallback=move || view! { <p class="muted">{move || if loaded.get() { tr(lang.get(), "cases.not_found") } else { tr(lang.get(), "cases.loading") }}</p> }
            >
                <h1 data-testid="case-title">{field("title")}</h1>
                <dl class="facts">
                    <dt>{t("case.category")}</dt>
                    <dd data-testid="case-category" data-value=field("category")>{move || category_label(lang.get(), &field("category")())}</dd>
                    <dt>{t("case.status")}</dt>
                    <dd data-testid="case-status" data-value=field("status")>{move || status_label(lang.get(), &field("status")())}</dd>
                    <dt>{t("case.description")}</dt>
                    <dd data-testid="case-description" class="pre">{field("description")}</dd>
                    <dt>{t("case.deadline")}</dt>
                    <dd data-testid="case-deadline">{move || record.with(|r| deadline_text(lang.get(), r.as_ref()))}</dd>
                </dl>
                {move || {
                    let shas: Vec<String> = record.with(|r| r.as_ref().and_then(|r| r.get("photos")).and_then(serde_json::Value::as_array)
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(ToOwned::to_owned)).collect()).unwrap_or_default());
                    view! { <Gallery shas=shas/> }
                }}
                <Lifecycle record=record/>
                <Timeline record=record/>
                <h2>{t("case.edit")}</h2>
                <CaseForm record=record id=id()/>
            </Show>
        </section>
    }
}

/// The case form. Inputs show the record's current values until the user edits them; only the
/// fields the user changed are written (so a background sync never gets overwritten by stale
/// form values).
#[component]
fn CaseForm(
    record: RwSignal<Option<Record>>,
    id: Option<RecordId>,
    #[prop(optional, into)] prefill: Option<String>,
    #[prop(optional)] from_appeal: bool,
) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let navigate = use_navigate();
    let title = RwSignal::new(prefill.filter(|p| !p.is_empty()));
    let description = RwSignal::new(None::<String>);
    let category = RwSignal::new(None::<String>);
    let grid = RwSignal::new(None::<String>);
    let photos = RwSignal::new(Vec::<String>::new());
    let position = RwSignal::new(None::<crate::photo::Fix>);
    let located = RwSignal::new(None::<String>);
    if id.is_none() {
        keep_draft(
            "case",
            vec![
                ("title", Draft::Opt(title)),
                ("description", Draft::Opt(description)),
                ("category", Draft::Opt(category)),
                ("photos", Draft::List(photos)),
            ],
        );
    }
    let error = RwSignal::new(None::<(&'static str, String)>);
    let saved = RwSignal::new(false);
    // The grids a new case may be reported in: the user's own, or (managers) those on the device.
    let grids = LocalResource::new(move || async move {
        let Some(c) = client() else {
            return Vec::new();
        };
        let local = c.store.list(Collection::Grids).await.unwrap_or_default();
        let name = |r: &Record| r.str("name").unwrap_or_default().to_owned();
        let mine = c.me().grids;
        if mine.is_empty() {
            local
                .iter()
                .filter(|r| !r.is_deleted())
                .map(|r| (r.id.to_string(), name(r)))
                .collect::<Vec<_>>()
        } else {
            mine.iter()
                .map(|g| {
                    let label = local
                        .iter()
                        .find(|r| r.id == *g)
                        .map_or_else(|| g.to_string(), name);
                    (g.to_string(), label)
                })
                .collect()
        }
    });
    let current = move |name: &'static str| {
        record.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| r.str(name))
                .unwrap_or_default()
                .to_owned()
        })
    };
    let shown = move |dirty: RwSignal<Option<String>>, name: &'static str| {
        move || {
            dirty.get().unwrap_or_else(|| {
                record.with(|r| {
                    r.as_ref()
                        .and_then(|r| r.str(name))
                        .unwrap_or_default()
                        .to_owned()
                })
            })
        }
    };
    let save = move || {
        error.set(None);
        saved.set(false);
        let l = lang.get_untracked();
        let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        for (sig, name) in [
            (title, "title"),
            (description, "description"),
            (category, "category"),
        ] {
            if let Some(v) = sig.get_untracked() {
                if id.is_none() || v != current(name) {
                    fields.insert(
                        name.to_owned(),
                        serde_json::Value::String(v.trim().to_owned()),
                    );
                }
            }
        }
        let added = photos.get_untracked();
        if !added.is_empty() {
            let mut all: Vec<String> = record.with_untracked(|r| {
                r.as_ref()
                    .and_then(|r| r.get("photos"))
                    .and_then(serde_json::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(ToOwned::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            for sha in added {
                if !all.contains(&sha) {
                    all.push(sha);
                }
            }
            if all.len() > 9 {
                error.set(Some(("photos", tr(l, "photo.error.too_many"))));
                return;
            }
            fields.insert("photos".into(), all.into());
        }
        if id.is_none() {
            let title_v = title.get_untracked().unwrap_or_default();
            if title_v.trim().is_empty() {
                error.set(Some(("title", tr(l, "case.error.title_required"))));
                return;
            }
            let cat = category.get_untracked().unwrap_or_default();
            if cat.is_empty() {
                error.set(Some(("category", tr(l, "case.error.category_required"))));
                return;
            }
            let chosen = grid.get_untracked().or_else(|| {
                grids
                    .get_untracked()
                    .and_then(|g| g.first().map(|(id, _)| id.clone()))
            });
            let Some(chosen) = chosen else {
                error.set(Some(("grid", tr(l, "case.error.grid_required"))));
                return;
            };
            let now = js_sys::Date::now() as u64;
            fields.insert("grid".into(), chosen.into());
            if let Some(f) = position.get_untracked() {
                fields.insert(
                    "position".into(),
                    serde_json::json!([f.lon, f.lat, f.accuracy_m.min(100_000.0).round()]),
                );
            }
            if let Some(c) = client() {
                fields.insert("reporter".into(), c.me().username.into());
            }
            fields.insert("status".into(), "reported".into());
            fields.insert(
                "source".into(),
                if from_appeal {
                    "resident_appeal"
                } else {
                    "patrol"
                }
                .into(),
            );
            fields.insert("reported_at".into(), now.into());
            // The deployment's hours for the category (the last settings fetched).
            let due = sig.deadlines.with_untracked(|d| deadline(d, now, &cat));
            fields.insert("deadline".into(), due.into());
        } else if fields
            .get("title")
            .is_some_and(|v| v.as_str().is_some_and(str::is_empty))
        {
            error.set(Some(("title", tr(l, "case.error.title_required"))));
            return;
        }
        if fields.is_empty() {
            saved.set(true);
            return;
        }
        let Some(c) = client() else { return };
        let record_id = id.unwrap_or_else(|| RecordId(uuid::Uuid::now_v7()));
        let op = c.op(Collection::Cases, record_id, OpBody::Set { fields });
        if let Err(e) = validate_op(&op) {
            error.set(Some(("form", e.message)));
            return;
        }
        let mut ops = vec![op];
        if id.is_none() {
            // 上报: the first timeline entry.
            let mut data = serde_json::Map::new();
            data.insert("action".into(), "report".into());
            data.insert("from".into(), serde_json::Value::Null);
            data.insert("to".into(), "reported".into());
            data.insert("by".into(), c.me().username.into());
            ops.push(c.op(
                Collection::Cases,
                record_id,
                OpBody::Append {
                    entry: tongxin_shared::Entry {
                        id: uuid::Uuid::now_v7(),
                        data,
                    },
                },
            ));
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match c.commit(ops).await {
                Ok(()) => {
                    title.set(None);
                    description.set(None);
                    category.set(None);
                    photos.set(Vec::new());
                    saved.set(true);
                    if id.is_none() {
                        clear_draft("case");
                        navigate(&format!("/cases/{record_id}"), NavigateOptions::default());
                    }
                }
                Err(e) => error.set(Some((
                    "form",
                    trf(l, "case.error.save_failed", &[("e", &e.to_string())]),
                ))),
            }
        });
    };
    // GPS → the grid by point-in-polygon over the grids on this device, offline. A poor fix or a
    // position outside every grid leaves the choice to the user, with the reason shown.
    let locate = move |_| {
        let l = lang.get_untracked();
        located.set(Some(tr(l, "geo.locating")));
        spawn_local(async move {
            let fix = match crate::photo::locate().await {
                Ok(f) => f,
                Err(e) => {
                    located.set(Some(trf(l, "geo.failed", &[("e", &e)])));
                    return;
                }
            };
            position.set(Some(fix));
            let acc = format!("{:.0}", fix.accuracy_m);
            if fix.accuracy_m > crate::photo::POOR_ACCURACY_M {
                located.set(Some(trf(l, "geo.poor", &[("m", &acc)])));
                return;
            }
            let Some(c) = client() else { return };
            let local = c.store.list(Collection::Grids).await.unwrap_or_default();
            let (index, _) = tongxin_shared::geo::GridIndex::build(local.iter().filter_map(|r| {
                Some((r.id, r.str("code").unwrap_or_default(), r.get("boundary")?))
            }));
            let allowed = grids.get_untracked().unwrap_or_default();
            match index.locate(fix.lon, fix.lat) {
                Some(g) if allowed.iter().any(|(id, _)| *id == g.to_string()) => {
                    let name = allowed
                        .iter()
                        .find(|(id, _)| *id == g.to_string())
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default();
                    grid.set(Some(g.to_string()));
                    located.set(Some(trf(l, "geo.in_grid", &[("g", &name), ("m", &acc)])));
                }
                Some(_) => located.set(Some(trf(l, "geo.other_grid", &[("m", &acc)]))),
                None => located.set(Some(trf(l, "geo.outside", &[("m", &acc)]))),
            }
        });
    };
    let err_for = move |field: &'static str| field_error(error, field);
    let shown_category = shown(category, "category");
    view! {
        <form class="form" on:submit=move |ev| { ev.prevent_default(); save(); }>
            <label>
                <span>{t("case.title")}</span>
                <input name="title" type="text" maxlength="200" required=id.is_none()
                    prop:value=shown(title, "title")
                    on:input=move |ev| title.set(Some(event_target_value(&ev)))/>
            </label>
            {err_for("title")}
            <label>
                <span>{t("case.description")}</span>
                <textarea name="description" rows="4" maxlength="4000"
                    prop:value=shown(description, "description")
                    on:input=move |ev| description.set(Some(event_target_value(&ev)))></textarea>
            </label>
            <label>
                <span>{t("case.category")}</span>
                <select name="category"
                    on:change=move |ev| category.set(Some(event_target_value(&ev)))>
                    <option value="" selected=move || shown_category().is_empty()>{t("category.choose")}</option>
                    {CASE_CATEGORIES.iter().map(|c| {
                        let c = *c;
                        view! { <option value=c selected=move || shown_category() == c>{move || category_label(lang.get(), c)}</option> }
                    }).collect_view()}
                </select>
            </label>
            {err_for("category")}
            // A new case's time limit for the chosen category, as this deployment configures it.
            {id.is_none().then(|| view! {
                {move || {
                    let cat = shown_category();
                    (!cat.is_empty()).then(|| {
                        let hours = sig.deadlines.with(|d| d.hours_for(&cat)).to_string();
                        let attr = hours.clone();
                        view! {
                            <p class="muted small" data-testid="deadline-hint" data-hours=attr>
                                {move || trf(lang.get(), "case.deadline_hint", &[("h", &hours)])}
                            </p>
                        }
                    })
                }}
            })}
            {id.is_none().then(|| view! {
                <div class="locate">
                    <button type="button" data-testid="locate" on:click=locate>{t("geo.locate")}</button>
                    {move || located.get().map(|m| view! { <p class="muted small" role="status" data-testid="located">{m}</p> })}
                </div>
                <label>
                    <span>{t("case.grid")}</span>
                    <select name="grid" on:change=move |ev| grid.set(Some(event_target_value(&ev)))>
                        {move || grids.get().unwrap_or_default().into_iter().map(|(gid, label)| {
                            let value = gid.clone();
                            view! { <option value=value selected=move || grid.get().as_deref() == Some(gid.as_str())>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
            })}
            {err_for("grid")}
            <PhotoPicker added=photos/>
            {err_for("photos")}
            {err_for("form")}
            <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            <Show when=move || saved.get()>
                <p class="ok" role="status">{t("case.saved")}</p>
            </Show>
        </form>
    }
}

#[component]
fn SyncPanel() -> impl IntoView {
    let Ctx {
        lang, sig, panel, ..
    } = ctx();
    // The storage meter: what this origin uses of what the browser grants it.
    let storage = LocalResource::new(move || {
        panel.get();
        async move {
            let promise = web_sys::window()?.navigator().storage().estimate().ok()?;
            let estimate: web_sys::StorageEstimate = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .ok()?
                .into();
            let mb = |v: Option<f64>| (v.unwrap_or(0.0) / 1_048_576.0).round() as u64;
            Some((mb(estimate.get_usage()), mb(estimate.get_quota())))
        }
    });
    let rejected = LocalResource::new(move || {
        sig.version.get();
        panel.get();
        async move {
            match client() {
                Some(c) => c.store.rejected().await.unwrap_or_default(),
                None => Vec::new(),
            }
        }
    });
    view! {
        <Show when=move || panel.get()>
            <aside class="panel" role="dialog" aria-label=move || tr(lang.get(), "sync.panel.title")>
                <h2>{t("sync.panel.title")}</h2>
                <p>{move || trf(lang.get(), "sync.panel.waiting", &[("n", &sig.waiting.get().to_string())])}</p>
                <p data-testid="photos-waiting" data-n=move || sig.photos_waiting.get().to_string()>{move || trf(lang.get(), "sync.panel.photos", &[("n", &sig.photos_waiting.get().to_string())])}</p>
                {move || storage.get().flatten().map(|(used, quota)| view! {
                    <p class="muted small" data-testid="storage-meter">{move || trf(lang.get(), "sync.panel.storage", &[("used", &used.to_string()), ("quota", &quota.to_string())])}</p>
                })}
                <Show when=move || sig.update_required.get()>
                    <p class="error">{t("sync.panel.update")}</p>
                </Show>
                <h3>{t("sync.panel.rejected")}</h3>
                {move || {
                    let list: Vec<RejectedOp> = rejected.get().unwrap_or_default();
                    if list.is_empty() {
                        view! { <p class="muted">{t("sync.panel.none")}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="list">
                                {list.into_iter().map(|r| {
                                    let id = r.op.id;
                                    view! {
                                        <li class="rejected" data-testid="rejected-item">
                                            <strong>{format!("{} · {}", r.op.collection, r.code)}</strong>
                                            {
                                                let (code, message) = (r.code.clone(), r.message.clone());
                                                move || rejection_text(lang.get(), &code, &message)
                                            }
                                            <button type="button" on:click=move |_| spawn_local(async move { if let Some(c) = client() { let _ = c.retry(id).await; } })>{t("sync.panel.retry")}</button>
                                            <button type="button" on:click=move |_| spawn_local(async move { if let Some(c) = client() { let _ = c.dismiss(id).await; } })>{t("sync.panel.dismiss")}</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
                <button type="button" on:click=move |_| panel.set(false)>{t("sync.panel.close")}</button>
            </aside>
        </Show>
    }
}

/// Why an op was refused, for a person: the rules of accounts and areas in the user's
/// language, anything else as the server worded it.
fn rejection_text(lang: Lang, code: &str, message: &str) -> impl IntoView {
    let known = matches!(
        code,
        "out_of_scope"
            | "forbidden_collection"
            | "forged_author"
            | "forbidden_transition"
            | "system_only"
            | "not_owner"
    );
    view! {
        {known.then(|| view! { <p data-testid="rejected-reason">{tr(lang, &format!("reject.{code}"))}</p> })}
        <p class=if known { "muted small" } else { "" }>{message.to_owned()}</p>
    }
}

/// An admin API call with this session's token: the status and the JSON body, or why the
/// server could not be asked.
async fn admin_request(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value), String> {
    use gloo_net::http::Request;
    let Some(c) = client() else {
        return Err("not signed in".into());
    };
    let url = format!("/api/v1/admin{path}");
    let builder = match method {
        "POST" => Request::post(&url),
        "PUT" => Request::put(&url),
        _ => Request::get(&url),
    }
    .header("authorization", &c.bearer())
    .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string());
    let sent = match body {
        Some(b) => builder.json(&b).map_err(|e| e.to_string())?.send().await,
        None => builder.send().await,
    }
    .map_err(|e| e.to_string())?;
    let status = sent.status();
    let text = sent.text().await.unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or_default()))
}

/// An admin API call with this session's token; the server's message on failure.
async fn admin_call(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, String> {
    let (status, value) = admin_request(method, path, body).await?;
    if (200..300).contains(&status) {
        Ok(value)
    } else {
        Err(value["error"]["message"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), ToOwned::to_owned))
    }
}

fn parse_ids(text: &str) -> Result<Vec<RecordId>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| RecordId::parse(s).map_err(|_| format!("'{s}'")))
        .collect()
}

fn join_ids(ids: &[RecordId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Users and their areas, and the grid import (admin only; the server checks it too).
#[component]
fn Admin() -> impl IntoView {
    let Ctx { session, .. } = ctx();
    let is_admin = move || session.with(|s| s.as_ref().is_some_and(|s| s.me.role == Role::Admin));
    view! {
        <Show when=is_admin fallback=|| view! {
            <section class="card"><p class="field-error" role="alert" data-testid="admin-forbidden">{t("admin.forbidden")}</p></section>
        }>
            <AdminUsers/>
            <import::GridImport/>
        </Show>
    }
}

/// The password rule the server enforces, checked before asking it.
fn password_ok(p: &str) -> bool {
    p.chars().count() >= MIN_PASSWORD_CHARS
}

#[component]
fn AdminUsers() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let users = RwSignal::new(Vec::<UserSummary>::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let role = RwSignal::new("warden".to_owned());
    let password = RwSignal::new(String::new());
    let grids = RwSignal::new(String::new());
    let communities = RwSignal::new(String::new());
    let subdistricts = RwSignal::new(String::new());
    let disabled = RwSignal::new(false);
    let reload = move || {
        spawn_local(async move {
            match admin_call("GET", "/users", None).await {
                Ok(v) => users.set(serde_json::from_value(v).unwrap_or_default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    reload();
    let clear = move || {
        editing.set(false);
        for s in [
            username,
            display_name,
            password,
            grids,
            communities,
            subdistricts,
        ] {
            s.set(String::new());
        }
        role.set("warden".into());
        disabled.set(false);
    };
    let submit = move || {
        error.set(None);
        notice.set(None);
        let l = lang.get_untracked();
        let ids = |s: RwSignal<String>| parse_ids(&s.get_untracked());
        let (g, c, sd) = match (ids(grids), ids(communities), ids(subdistricts)) {
            (Ok(g), Ok(c), Ok(sd)) => (g, c, sd),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                error.set(Some(trf(l, "admin.error.bad_id", &[("e", &e)])));
                return;
            }
        };
        let Some(r) = Role::parse(&role.get_untracked()) else {
            return;
        };
        let is_edit = editing.get_untracked();
        if !is_edit && !password_ok(&password.get_untracked()) {
            error.set(Some(tr(l, "admin.error.password_short")));
            return;
        }
        let up = UserUpsert {
            username: username.get_untracked().trim().to_owned(),
            display_name: display_name.get_untracked().trim().to_owned(),
            role: r,
            grids: g,
            communities: c,
            subdistricts: sd,
            password: (!is_edit).then(|| password.get_untracked()),
            disabled: disabled.get_untracked(),
        };
        spawn_local(async move {
            let body = serde_json::to_value(&up).unwrap_or_default();
            let done = if is_edit {
                admin_call("PUT", &format!("/users/{}", up.username), Some(body)).await
            } else {
                admin_call("POST", "/users", Some(body)).await
            };
            match done {
                Ok(_) => {
                    notice.set(Some(trf(l, "admin.saved", &[("u", &up.username)])));
                    clear();
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let reset_password = move |u: String| {
        error.set(None);
        notice.set(None);
        let l = lang.get_untracked();
        let p = password.get_untracked();
        if !password_ok(&p) {
            error.set(Some(trf(
                l,
                "admin.error.reset_needs_password",
                &[("u", &u)],
            )));
            return;
        }
        spawn_local(async move {
            match admin_call(
                "POST",
                &format!("/users/{u}/password"),
                Some(serde_json::json!({ "password": p })),
            )
            .await
            {
                Ok(_) => notice.set(Some(trf(l, "admin.password_reset", &[("u", &u)]))),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section>
            <h1>{t("admin.title")}</h1>
            <form class="form" data-testid="admin-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <label><span>{t("auth.username")}</span>
                    <input name="username" type="text" required readonly=move || editing.get()
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/></label>
                <label><span>{t("admin.display_name")}</span>
                    <input name="display_name" type="text"
                        prop:value=move || display_name.get() on:input=move |ev| display_name.set(event_target_value(&ev))/></label>
                <label><span>{t("admin.role")}</span>
                    <select name="role" on:change=move |ev| role.set(event_target_value(&ev))>
                        {Role::ALL.iter().map(|r| {
                            let r = *r;
                            view! { <option value=r.as_str() selected=move || role.get() == r.as_str()>{move || role_label(lang.get(), r)}</option> }
                        }).collect_view()}
                    </select></label>
                <label><span>{t("auth.password")}</span>
                    <input name="password" type="password" autocomplete="new-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/></label>
                <label><span>{t("admin.grids")}</span>
                    <textarea name="grids" rows="2" prop:value=move || grids.get() on:input=move |ev| grids.set(event_target_value(&ev))></textarea></label>
                <label><span>{t("admin.communities")}</span>
                    <textarea name="communities" rows="2" prop:value=move || communities.get() on:input=move |ev| communities.set(event_target_value(&ev))></textarea></label>
                <label><span>{t("admin.subdistricts")}</span>
                    <textarea name="subdistricts" rows="2" prop:value=move || subdistricts.get() on:input=move |ev| subdistricts.set(event_target_value(&ev))></textarea></label>
                <label class="check"><input name="disabled" type="checkbox" prop:checked=move || disabled.get()
                    on:change=move |ev| disabled.set(event_target_checked(&ev))/><span>{t("admin.disabled")}</span></label>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                {move || notice.get().map(|m| view! { <p class="ok" role="status">{m}</p> })}
                <button type="submit" class="primary">{move || if editing.get() { tr(lang.get(), "admin.update") } else { tr(lang.get(), "admin.create") }}</button>
                <Show when=move || editing.get()>
                    <button type="button" on:click=move |_| clear()>{t("auth.logout.cancel")}</button>
                </Show>
            </form>
            <ul class="list" data-testid="admin-users">
                {move || users.get().into_iter().map(|u| {
                    let name = u.username.clone();
                    let for_edit = u.clone();
                    let for_reset = u.username.clone();
                    let user_role = u.role;
                    view! {
                        <li class="item" data-testid="admin-user" data-username=name.clone()>
                            <span class="item-title">{format!("{} · {}", u.username, u.display_name)}</span>
                            <span class="item-meta">
                                {move || role_label(lang.get(), user_role)}
                                {move || trf(lang.get(), "admin.area", &[("g", &u.grids.len().to_string()), ("c", &u.communities.len().to_string()), ("s", &u.subdistricts.len().to_string())])}
                                {u.disabled.then(|| view! { <span class="tag">{t("admin.disabled")}</span> })}
                            </span>
                            <button type="button" on:click=move |_| {
                                let u = for_edit.clone();
                                editing.set(true);
                                username.set(u.username);
                                display_name.set(u.display_name);
                                role.set(u.role.as_str().to_owned());
                                grids.set(join_ids(&u.grids));
                                communities.set(join_ids(&u.communities));
                                subdistricts.set(join_ids(&u.subdistricts));
                                disabled.set(u.disabled);
                            }>{t("admin.edit")}</button>
                            <button type="button" on:click=move |_| reset_password(for_reset.clone())>{t("admin.reset_password")}</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// One photo: from this device when it is here (shown "pending" until uploaded), else from the
/// server.
#[component]
fn Photo(sha: String) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let key = sha.clone();
    let local = LocalResource::new(move || {
        sig.version.get();
        let key = key.clone();
        async move {
            let c = client()?;
            let blob = c.store.get_blob(&key).await.ok().flatten();
            Some(if let Some(b) = blob {
                (
                    crate::photo::object_url(&b.bytes, &b.content_type).unwrap_or_default(),
                    !b.uploaded,
                )
            } else {
                let token = c.bearer().trim_start_matches("Bearer ").to_owned();
                (format!("/api/v1/blobs/{key}?access_token={token}"), false)
            })
        }
    });
    view! {
        {move || local.get().flatten().map(|(src, pending)| view! {
            <figure class="photo" data-testid="photo" data-sha=sha.clone() data-pending=pending.to_string()>
                <img src=src alt=move || tr(lang.get(), "photo.alt") loading="lazy"/>
                {pending.then(|| view! { <figcaption class="tag">{t("photo.pending")}</figcaption> })}
            </figure>
        })}
    }
}

/// The photos of a record.
#[component]
fn Gallery(shas: Vec<String>) -> impl IntoView {
    view! {
        <div class="gallery">
            {shas.into_iter().map(|sha| view! { <Photo sha=sha/> }).collect_view()}
        </div>
    }
}

/// A photo input (camera first on phones): each picked file is resized, hashed and stored on
/// the device at once, so nothing is lost if the form is left; `added` collects the hashes.
#[component]
fn PhotoPicker(added: RwSignal<Vec<String>>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(files) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        input.set_value("");
        error.set(None);
        busy.set(true);
        let l = lang.get_untracked();
        spawn_local(async move {
            for file in files {
                if added.with_untracked(Vec::len) >= 9 {
                    error.set(Some(tr(l, "photo.error.too_many")));
                    break;
                }
                match crate::photo::prepare(&file).await {
                    Ok(p) => {
                        let Some(c) = client() else { break };
                        match c.store.put_blob(&p.sha256, "image/jpeg", &p.bytes).await {
                            Ok(()) => {
                                added.update(|a| {
                                    if !a.contains(&p.sha256) {
                                        a.push(p.sha256.clone());
                                    }
                                });
                                c.refresh_counts().await;
                            }
                            Err(e) => {
                                let key = if e.to_string().contains("Quota") {
                                    "photo.error.quota"
                                } else {
                                    "photo.error.store"
                                };
                                error.set(Some(trf(l, key, &[("e", &e.to_string())])));
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        error.set(Some(trf(l, e.key(), &[("name", &file.name())])));
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        <label class="photos-input">
            <span>{t("photo.add")}</span>
            <input name="photos" type="file" accept="image/*" capture="environment" multiple on:change=on_change/>
        </label>
        <Show when=move || busy.get()><p class="muted small" role="status">{t("photo.preparing")}</p></Show>
        {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-testid="photo-error">{m}</p> })}
        {move || view! { <Gallery shas=added.get()/> }}
    }
}

/// Joint activities of the community and its alliance units (同心圆活动), newest first.
#[component]
fn ActivityList() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let activities = LocalResource::new(move || {
        sig.version.get();
        async move {
            let mut list = live_records(Collection::Activities).await;
            list.sort_by(|a, b| b.str("date").cmp(&a.str("date")));
            list
        }
    });
    view! {
        <section>
            <h1>{t("activities.title")}</h1>
            <a class="button primary" href="/activities/new">{t("activities.new")}</a>
            {move || activities.get().map(|list| {
                if list.is_empty() {
                    return view! { <p class="muted">{t("activities.empty")}</p> }.into_any();
                }
                view! {
                    <ul class="list">
                        {list.into_iter().map(|r| {
                            let title = r.str("title").unwrap_or_default().to_owned();
                            let theme = r.str("theme").unwrap_or_default().to_owned();
                            let date = r.str("date").unwrap_or_default().to_owned();
                            let place = r.str("place").unwrap_or_default().to_owned();
                            let volunteers = r.get("volunteers").and_then(serde_json::Value::as_u64).unwrap_or(0);
                            let served = r.get("residents_served").and_then(serde_json::Value::as_u64).unwrap_or(0);
                            let synthetic = r.get("synthetic").and_then(serde_json::Value::as_bool).unwrap_or(false);
                            let shas: Vec<String> = r.get("photos").and_then(serde_json::Value::as_array)
                                .map(|a| a.iter().filter_map(|v| v.as_str().map(ToOwned::to_owned)).collect()).unwrap_or_default();
                            view! {
                                <li class="item" data-testid="activity-item">
                                    <span class="item-title">{title}</span>
                                    <span class="item-meta">
                                        {date} " · " {move || tr(lang.get(), &format!("theme.{theme}"))} " · " {place}
                                        {synthetic.then(|| view! { <span class="tag">{t("case.synthetic")}</span> })}
                                    </span>
                                    <span class="item-meta">{move || trf(lang.get(), "activities.figures", &[("v", &volunteers.to_string()), ("r", &served.to_string())])}</span>
                                    <Gallery shas=shas/>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}

/// Records a joint activity: theme, date, place, organising units, volunteers, residents
/// served, photos. It belongs to the user's community.
#[component]
fn ActivityNew() -> impl IntoView {
    let Ctx {
        lang, session, sig, ..
    } = ctx();
    let navigate = use_navigate();
    let title = RwSignal::new(String::new());
    let theme = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let volunteers = RwSignal::new(String::new());
    let served = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let units = RwSignal::new(Vec::<String>::new());
    let photos = RwSignal::new(Vec::<String>::new());
    keep_draft(
        "activity",
        vec![
            ("title", Draft::Text(title)),
            ("theme", Draft::Text(theme)),
            ("date", Draft::Text(date)),
            ("place", Draft::Text(place)),
            ("volunteers", Draft::Text(volunteers)),
            ("residents_served", Draft::Text(served)),
            ("description", Draft::Text(description)),
            ("units", Draft::List(units)),
            ("photos", Draft::List(photos)),
        ],
    );
    let error = RwSignal::new(None::<(&'static str, String)>);
    // The alliance units paired with the user's community (同心圆), to pick organisers from.
    let paired = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else { return Vec::new() };
            let community = c.me().communities.first().map(ToString::to_string);
            let alliances = c
                .store
                .list(Collection::Alliances)
                .await
                .unwrap_or_default();
            let all_units = c.store.list(Collection::Units).await.unwrap_or_default();
            let ids: Vec<String> = alliances
                .iter()
                .filter(|a| a.str("community").map(ToOwned::to_owned) == community)
                .filter_map(|a| a.str("unit").map(ToOwned::to_owned))
                .collect();
            all_units
                .iter()
                .filter(|u| ids.contains(&u.id.to_string()))
                .map(|u| {
                    (
                        u.id.to_string(),
                        u.str("name").unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    });
    let save = move || {
        error.set(None);
        let l = lang.get_untracked();
        let Some(c) = client() else { return };
        let Some(community) =
            session.with_untracked(|s| s.as_ref().and_then(|s| s.me.communities.first().copied()))
        else {
            error.set(Some(("form", tr(l, "activities.error.no_community"))));
            return;
        };
        if title.get_untracked().trim().is_empty() {
            error.set(Some(("title", tr(l, "case.error.title_required"))));
            return;
        }
        if theme.get_untracked().is_empty() {
            error.set(Some(("theme", tr(l, "activities.error.theme"))));
            return;
        }
        if date.get_untracked().is_empty() {
            error.set(Some(("date", tr(l, "activities.error.date"))));
            return;
        }
        let count = |s: RwSignal<String>, field: &'static str| -> Result<u64, ()> {
            let v = s.get_untracked();
            if v.trim().is_empty() {
                return Ok(0);
            }
            v.trim().parse::<u64>().map_err(|_| {
                error.set(Some((field, tr(l, "activities.error.number"))));
            })
        };
        let (Ok(v), Ok(r)) = (count(volunteers, "volunteers"), count(served, "served")) else {
            return;
        };
        let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        fields.insert("community".into(), community.to_string().into());
        fields.insert("title".into(), title.get_untracked().trim().into());
        fields.insert("theme".into(), theme.get_untracked().into());
        fields.insert("date".into(), date.get_untracked().into());
        fields.insert("place".into(), place.get_untracked().trim().into());
        fields.insert("volunteers".into(), v.into());
        fields.insert("residents_served".into(), r.into());
        fields.insert(
            "description".into(),
            description.get_untracked().trim().into(),
        );
        fields.insert("units".into(), units.get_untracked().into());
        let added = photos.get_untracked();
        if !added.is_empty() {
            fields.insert("photos".into(), added.into());
        }
        let op = c.op(
            Collection::Activities,
            RecordId(uuid::Uuid::now_v7()),
            OpBody::Set { fields },
        );
        save_new(
            vec![op],
            "activity",
            "/activities",
            error,
            l,
            navigate.clone(),
        );
    };
    let err_for = move |field: &'static str| field_error(error, field);
    let text = |sig: RwSignal<String>| move |ev| sig.set(event_target_value(&ev));
    view! {
        <section>
            <h1>{t("activities.new")}</h1>
            <form class="form" data-testid="activity-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
                <label><span>{t("case.title")}</span>
                    <input name="title" type="text" maxlength="200" prop:value=move || title.get() on:input=text(title)/></label>
                {err_for("title")}
                <label><span>{t("activities.theme")}</span>
                    <select name="theme" on:change=text(theme)>
                        <option value="">{t("activities.choose_theme")}</option>
                        {ACTIVITY_THEMES.iter().map(|th| {
                            let th = *th;
                            view! { <option value=th selected=move || theme.get() == th>{move || tr(lang.get(), &format!("theme.{th}"))}</option> }
                        }).collect_view()}
                    </select></label>
                {err_for("theme")}
                <label><span>{t("activities.date")}</span>
                    <input name="date" type="date" prop:value=move || date.get() on:input=text(date)/></label>
                {err_for("date")}
                <label><span>{t("activities.place")}</span>
                    <input name="place" type="text" maxlength="200" prop:value=move || place.get() on:input=text(place)/></label>
                <fieldset class="units">
                    <legend>{t("activities.units")}</legend>
                    {move || paired.get().unwrap_or_default().into_iter().map(|(id, name)| {
                        let value = id.clone();
                        let this = id.clone();
                        view! {
                            <label class="check"><input type="checkbox" name="unit" value=value
                                prop:checked=move || units.with(|u| u.contains(&this))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let id = id.clone();
                                    units.update(|u| { u.retain(|x| *x != id); if on { u.push(id); } });
                                }/><span>{name}</span></label>
                        }
                    }).collect_view()}
                </fieldset>
                <label><span>{t("activities.volunteers")}</span>
                    <input name="volunteers" type="number" min="0" inputmode="numeric" prop:value=move || volunteers.get() on:input=text(volunteers)/></label>
                {err_for("volunteers")}
                <label><span>{t("activities.served")}</span>
                    <input name="residents_served" type="number" min="0" inputmode="numeric" prop:value=move || served.get() on:input=text(served)/></label>
                {err_for("served")}
                <label><span>{t("case.description")}</span>
                    <textarea name="description" rows="3" maxlength="4000" prop:value=move || description.get() on:input=text(description)></textarea></label>
                <PhotoPicker added=photos/>
                {err_for("form")}
                <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            </form>
        </section>
    }
}

/// A form's error: which field it belongs to (`"form"` for the whole form) and the message.
type FormError = RwSignal<Option<(&'static str, String)>>;

/// The error message shown next to `field`, when the form's error is about it.
fn field_error(error: FormError, field: &'static str) -> impl Fn() -> Option<AnyView> {
    move || {
        error
            .get()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| view! { <p class="field-error" role="alert">{m}</p> }.into_any())
    }
}

/// Saves a new record's ops (checked first) in one local commit, clears the form's draft and
/// goes to `to`; a refusal or a failed write is shown on the form and nothing typed is lost.
fn save_new(
    ops: Vec<tongxin_shared::Op>,
    draft: &'static str,
    to: &'static str,
    error: FormError,
    lang: Lang,
    navigate: impl Fn(&str, NavigateOptions) + 'static,
) {
    let Some(c) = client() else { return };
    if let Some(e) = ops.iter().find_map(|op| validate_op(op).err()) {
        error.set(Some(("form", e.message)));
        return;
    }
    spawn_local(async move {
        match c.commit(ops).await {
            Ok(()) => {
                clear_draft(draft);
                navigate(to, NavigateOptions::default());
            }
            Err(e) => error.set(Some((
                "form",
                trf(lang, "case.error.save_failed", &[("e", &e.to_string())]),
            ))),
        }
    });
}

/// Drafts: what a user typed into a new record's form is kept in their local database as they
/// type, so a reload, a crash or a closed tab loses nothing; saving the record clears it.
fn draft_key(form: &str) -> String {
    format!("draft.{form}")
}

async fn load_draft(form: &str) -> Option<serde_json::Value> {
    let c = client()?;
    let text = c.store.meta_get(&draft_key(form)).await.ok()??;
    serde_json::from_str(&text).ok()
}

fn save_draft(form: &'static str, value: serde_json::Value) {
    spawn_local(async move {
        if let Some(c) = client() {
            let _ = c.store.meta_set(&draft_key(form), &value.to_string()).await;
        }
    });
}

fn clear_draft(form: &'static str) {
    spawn_local(async move {
        if let Some(c) = client() {
            let _ = c.store.meta_delete(&draft_key(form)).await;
        }
    });
}

/// A form field a draft keeps: plain text, optional text, or a list (photos, units).
#[derive(Clone, Copy)]
enum Draft {
    Text(RwSignal<String>),
    Opt(RwSignal<Option<String>>),
    List(RwSignal<Vec<String>>),
}

impl Draft {
    fn read(self) -> serde_json::Value {
        match self {
            Self::Text(s) => s.get().into(),
            Self::Opt(s) => s.get().map_or(serde_json::Value::Null, Into::into),
            Self::List(s) => s.get().into(),
        }
    }

    /// Puts a saved value back, unless the user (or a prefill) already filled the field.
    fn restore(self, v: &serde_json::Value) {
        match self {
            Self::Text(s) => {
                if let (true, Some(v)) = (s.get_untracked().is_empty(), v.as_str()) {
                    s.set(v.to_owned());
                }
            }
            Self::Opt(s) => {
                if let (true, Some(v)) = (s.get_untracked().is_none(), v.as_str()) {
                    s.set(Some(v.to_owned()));
                }
            }
            Self::List(s) => {
                if let (true, Some(list)) = (s.get_untracked().is_empty(), v.as_array()) {
                    s.set(
                        list.iter()
                            .filter_map(|v| v.as_str().map(ToOwned::to_owned))
                            .collect(),
                    );
                }
            }
        }
    }
}

/// Restores a form's draft into its fields, then keeps saving them as the user types.
fn keep_draft(form: &'static str, fields: Vec<(&'static str, Draft)>) {
    let loaded = RwSignal::new(false);
    let restore = fields.clone();
    spawn_local(async move {
        if let Some(d) = load_draft(form).await {
            for (name, field) in &restore {
                if let Some(v) = d.get(*name) {
                    field.restore(v);
                }
            }
        }
        loaded.set(true);
    });
    Effect::new(move |_| {
        let m: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(name, field)| ((*name).to_owned(), field.read()))
            .filter(|(_, v)| !v.is_null())
            .collect();
        if loaded.get() {
            save_draft(form, serde_json::Value::Object(m));
        }
    });
}

/// The map's drawing size in SVG pixels (it scales to the screen's width).
const W: f64 = 640.0;
const H: f64 = 520.0;

/// The managers' live map (一张图): every grid in the user's area drawn from its boundary,
/// coloured by a chosen measure, recolouring as pulls land (each live poke triggers one), with a
/// brief highlight on the grids that changed. Pan by dragging or the arrow keys, zoom with the
/// wheel or +/-; select a grid for its figures.
#[component]
fn MapView() -> impl IntoView {
    use tongxin_map::colour::Measure;
    use tongxin_map::{Shape, Viewport};
    let Ctx { lang, sig, .. } = ctx();
    // Shapes change only with the grids; states with every case and visit.
    let shapes = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let Some(c) = client() else { return Vec::new() };
            let grids = c.store.list(Collection::Grids).await.unwrap_or_default();
            grids
                .iter()
                .filter(|r| !r.is_deleted())
                .filter_map(|r| {
                    let mp = tongxin_shared::geo::polygon_from_geojson(r.get("boundary")?).ok()?;
                    let shape: Shape = tongxin_map::shape(&mp)?;
                    Some((r.id, r.str("name").unwrap_or_default().to_owned(), shape))
                })
                .collect::<Vec<_>>()
        }
    });
    // Each grid's community (for the panel's activities).
    let grid_community = RwSignal::new(BTreeMap::<RecordId, String>::new());
    Effect::new(move |_| {
        sig.places_version.get();
        spawn_local(async move {
            let map = live_records(Collection::Grids)
                .await
                .iter()
                .filter_map(|g| Some((g.id, g.str("community")?.to_owned())))
                .collect();
            grid_community.set(map);
        });
    });
    // Subdistrict and community outlines with their names, drawn over the grids.
    let areas = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let mut out = Vec::new();
            for (coll, level) in [
                (Collection::Subdistricts, "subdistrict"),
                (Collection::Communities, "community"),
            ] {
                for r in live_records(coll).await {
                    let Some(shape) = r
                        .get("boundary")
                        .and_then(|b| tongxin_shared::geo::polygon_from_geojson(b).ok())
                        .and_then(|mp| tongxin_map::shape(&mp))
                    else {
                        continue;
                    };
                    out.push((level, r.str("name").unwrap_or_default().to_owned(), shape));
                }
            }
            out
        }
    });
    // The grid states, kept record by record: the first read folds every case and visit on the
    // device; after that a pull's changed records are read one by one (a city manager's device
    // holds months of history, and a live push changes one or two records).
    let index = StoredValue::new(tongxin_shared::figures::GridStateIndex::default());
    let indexed_version = StoredValue::new(None::<u64>);
    let started = StoredValue::new(0u64);
    let states = LocalResource::new(move || {
        let version = sig.version.get();
        started.set_value(version);
        async move {
            let Some(c) = client() else {
                return BTreeMap::new();
            };
            mark("tongxin:grid-states:start");
            let known = sig.changes.with_value(|ch| {
                (ch.version == version && indexed_version.get_value() == Some(version - 1))
                    .then(|| ch.records.clone())
                    .flatten()
            });
            // Read first, then apply at once, and only if no newer read began meanwhile (it
            // re-reads everything, and a slower older read must not overwrite it).
            if let Some(records) = known {
                let mut read = Vec::new();
                for (coll, id) in records {
                    if matches!(coll, Collection::Cases | Collection::Visits) {
                        if let Ok(r) = c.store.get(coll, id).await {
                            read.push((coll, id, r));
                        }
                    }
                }
                if started.get_value() == version {
                    index.update_value(|ix| {
                        for (coll, id, r) in &read {
                            match r {
                                Some(r) => ix.upsert(r),
                                None => ix.remove(*coll, *id),
                            };
                        }
                    });
                    indexed_version.set_value(Some(version));
                }
            } else {
                let mut all = c.store.list(Collection::Cases).await.unwrap_or_default();
                all.extend(c.store.list(Collection::Visits).await.unwrap_or_default());
                if started.get_value() == version {
                    index.set_value(tongxin_shared::figures::GridStateIndex::from_records(&all));
                    indexed_version.set_value(Some(version));
                }
            }
            let out = index.with_value(|ix| ix.states(now_ms()));
            measure("tongxin:grid-states", "tongxin:grid-states:start");
            out
        }
    });
    // One state signal and one highlight signal per grid path: a live change sets only the
    // signals of the grids that changed, so only their attributes update (not 1,200 paths).
    let cells = StoredValue::new(BTreeMap::<RecordId, GridCell>::new());
    // The service network (1+5+44): centres as points; with the toggle, each community centre's
    // 15-minute reach (1.2 km straight line) and the grids whose centroid lies beyond all of them.
    let centres = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            live_records(Collection::ServiceCentres)
                .await
                .iter()
                .filter_map(|r| {
                    let p = r.get("position")?.as_array()?;
                    let (lon, lat) = (p.first()?.as_f64()?, p.get(1)?.as_f64()?);
                    Some((
                        r.str("name").unwrap_or_default().to_owned(),
                        r.str("level").unwrap_or("community").to_owned(),
                        lon,
                        lat,
                    ))
                })
                .collect::<Vec<_>>()
        }
    });
    let show_reach = RwSignal::new(false);
    // The optional raster base layer (`--tile-url` on the server), on by default when configured.
    let show_tiles = RwSignal::new(true);
    let tile_layer = move || sig.tiles.get().filter(|_| show_tiles.get());
    let outside = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let grids = live_records(Collection::Grids).await;
            let community_centres: Vec<(f64, f64)> = live_records(Collection::ServiceCentres)
                .await
                .iter()
                .filter(|r| r.str("level") == Some("community"))
                .filter_map(|r| {
                    let p = r.get("position")?.as_array()?;
                    Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
                })
                .collect();
            let names: BTreeMap<RecordId, String> = grids
                .iter()
                .map(|g| (g.id, g.str("name").unwrap_or_default().to_owned()))
                .collect();
            let mut out = tongxin_shared::service::grids_outside_reach(
                grids
                    .iter()
                    .filter_map(|g| Some((g.id, g.get("boundary")?))),
                &community_centres,
            )
            .into_iter()
            .map(|(id, m)| (id, names.get(&id).cloned().unwrap_or_default(), m))
            .collect::<Vec<_>>();
            // Farthest first: where a new centre would help most.
            out.sort_by(|a, b| b.2.total_cmp(&a.2));
            out
        }
    });
    let measure_sel = RwSignal::new(Measure::OpenCases);
    let view_port = RwSignal::new(None::<Viewport>);
    let selected = RwSignal::new(None::<RecordId>);
    let is_selected = leptos::reactive::computed::Selector::new(move || selected.get());
    // None until the first states are computed: nothing flashes on the first paint.
    let previous = StoredValue::new(None::<BTreeMap<RecordId, tongxin_shared::figures::GridState>>);
    // Fit the whole area once the shapes are known.
    Effect::new(move |_| {
        if view_port.get_untracked().is_some() {
            return;
        }
        if let Some(list) = shapes.get() {
            let mut min = (f64::MAX, f64::MAX);
            let mut max = (f64::MIN, f64::MIN);
            for (_, _, s) in &list {
                min = (min.0.min(s.min.0), min.1.min(s.min.1));
                max = (max.0.max(s.max.0), max.1.max(s.max.1));
            }
            if !list.is_empty() {
                view_port.set(Some(Viewport::fit(min, max, W, H, 12.0)));
            }
        }
    });
    // Apply new states: set the changed grids' signals and highlight them for 1.5 s (not on
    // the first paint).
    Effect::new(move |_| {
        let Some(now) = states.get() else { return };
        let first = previous.with_value(Option::is_none);
        // Recolour: from the new states to the DOM updated, measured up to the next frame.
        mark("tongxin:recolour:start");
        let changed: Vec<GridCell> = cells.with_value(|cells| {
            cells
                .iter()
                .filter_map(|(id, cell)| {
                    let new = now.get(id).cloned().unwrap_or_default();
                    (cell.state.with_untracked(|s| *s != new)).then(|| {
                        cell.state.set(new);
                        *cell
                    })
                })
                .collect()
        });
        previous.set_value(Some(now));
        after_frame(|| measure("tongxin:recolour", "tongxin:recolour:start"));
        if !first && !changed.is_empty() {
            for cell in &changed {
                cell.flash.set(true);
            }
            gloo_timers::callback::Timeout::new(1500, move || {
                for cell in changed {
                    cell.flash.try_set(false);
                }
            })
            .forget();
        }
    });
    // Pointers down on the map, by id, in viewBox units: one drags, two pinch (touch).
    let pointers = StoredValue::new(BTreeMap::<i32, (f64, f64)>::new());
    let on_down = move |ev: leptos::ev::PointerEvent| {
        let p = svg_point(&ev);
        pointers.update_value(|m| {
            m.insert(ev.pointer_id(), p);
        });
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let id = ev.pointer_id();
        let p1 = svg_point(&ev);
        let Some((before, others)) = pointers.with_value(|m| {
            let before = *m.get(&id)?;
            let others: Vec<(f64, f64)> = m
                .iter()
                .filter(|(k, _)| **k != id)
                .map(|(_, v)| *v)
                .collect();
            Some((before, others))
        }) else {
            return;
        };
        pointers.update_value(|m| {
            m.insert(id, p1);
        });
        view_port.update(|v| {
            *v = v.map(|v| match others.first() {
                // The other finger stays where it is during this move.
                Some(&b) => v.pinch(before, b, p1, b),
                None => v.pan(p1.0 - before.0, p1.1 - before.1),
            });
        });
    };
    let on_up = move |ev: leptos::ev::PointerEvent| {
        pointers.update_value(|m| {
            m.remove(&ev.pointer_id());
        });
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let factor = if ev.delta_y() < 0.0 { 1.25 } else { 0.8 };
        let at = svg_point(&ev);
        view_port.update(|v| *v = v.map(|v| v.zoom_at(factor, at)));
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step = 60.0;
        let centre = (W / 2.0, H / 2.0);
        let f: Option<Box<dyn Fn(Viewport) -> Viewport>> = match ev.key().as_str() {
            "ArrowLeft" => Some(Box::new(move |v: Viewport| v.pan(step, 0.0))),
            "ArrowRight" => Some(Box::new(move |v: Viewport| v.pan(-step, 0.0))),
            "ArrowUp" => Some(Box::new(move |v: Viewport| v.pan(0.0, step))),
            "ArrowDown" => Some(Box::new(move |v: Viewport| v.pan(0.0, -step))),
            "+" | "=" => Some(Box::new(move |v: Viewport| v.zoom_at(1.25, centre))),
            "-" => Some(Box::new(move |v: Viewport| v.zoom_at(0.8, centre))),
            _ => None,
        };
        if let Some(f) = f {
            ev.prevent_default();
            view_port.update(|v| *v = v.map(&f));
        }
    };
    let live = move || sig.online.get() && !sig.signed_out.get();
    view! {
        <section class="map-screen">
            <h1>{t("map.title")}</h1>
            <div class="map-bar">
                <label>
                    <span>{t("map.measure")}</span>
                    <select name="measure" on:change=move |ev| if let Some(m) = Measure::parse(&event_target_value(&ev)) { measure_sel.set(m); }>
                        {Measure::ALL.into_iter().map(|m| view! { <option value=m.as_str()>{move || tr(lang.get(), &format!("map.measure.{}", m.as_str()))}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" data-testid="export-geojson" on:click=move |_| {
                    spawn_local(async move {
                        let text = grids_geojson(&states.get_untracked().unwrap_or_default()).await;
                        download("grids.geojson", &text, "application/geo+json");
                    });
                }>{t("map.export")}</button>
                <label class="check"><input name="reach" type="checkbox" prop:checked=move || show_reach.get()
                    on:change=move |ev| show_reach.set(event_target_checked(&ev))/><span>{t("map.reach")}</span></label>
                {move || sig.tiles.get().is_some().then(|| view! {
                    <label class="check"><input name="tiles" type="checkbox" prop:checked=move || show_tiles.get()
                        on:change=move |ev| show_tiles.set(event_target_checked(&ev))/><span>{t("map.tiles")}</span></label>
                })}
                <span class="live" class:off=move || !live() data-testid="map-live" data-live=move || live().to_string()>
                    {move || if live() { tr(lang.get(), "map.live") } else { tr(lang.get(), "map.not_live") }}
                </span>
            </div>
            <div class="map-frame">
            <svg class="map" class:tiled=move || tile_layer().is_some() data-testid="map" viewBox=format!("0 0 {W} {H}") tabindex="0" role="application"
                aria-label=move || tr(lang.get(), "map.aria")
                on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointercancel=on_up on:pointerleave=on_up
                on:wheel=on_wheel on:keydown=on_key>
                <g transform=move || view_port.get().map(|v| v.svg_transform()).unwrap_or_default()>
                    // The raster base layer, under everything; tiles are keyed so panning keeps
                    // the images already loaded.
                    <For
                        each=move || {
                            let Some(layer) = tile_layer() else { return Vec::new() };
                            view_port.get().map(|v| v.tiles()).unwrap_or_default().into_iter()
                                .map(|tile| (tile, tile.url(&layer.url))).collect::<Vec<_>>()
                        }
                        key=|(tile, _)| (tile.z, tile.x, tile.y)
                        children=|(tile, href)| view! {
                            <image href=href x=tile.world_x y=tile.world_y width=tile.world_size height=tile.world_size
                                preserveAspectRatio="none" class="tile" data-testid="tile"></image>
                        }
                    />
                    {move || {
                        let list = shapes.get().unwrap_or_default();
                        // Fresh signals for this set of paths, starting from the latest states.
                        let fresh: BTreeMap<RecordId, GridCell> = previous.with_value(|prev| {
                            list.iter().map(|(id, _, _)| {
                                let state = prev.as_ref().and_then(|p| p.get(id).cloned()).unwrap_or_default();
                                (*id, GridCell { state: RwSignal::new(state), flash: RwSignal::new(false) })
                            }).collect()
                        });
                        cells.set_value(fresh.clone());
                        list.into_iter().map(|(id, name, shape)| {
                            let cell = fresh[&id];
                            let colour = move || cell.state.with(|s| measure_sel.get().colour(s, now_ms()));
                            let value = move || cell.state.with(|s| measure_sel.get().value(s, now_ms())).to_string();
                            let is_selected = is_selected.clone();
                            let class = move || match (cell.flash.get(), is_selected.selected(&Some(id))) {
                                (true, true) => "grid flash selected",
                                (true, false) => "grid flash",
                                (false, true) => "grid selected",
                                (false, false) => "grid",
                            };
                            view! {
                                <path d=shape.path class=class fill=colour data-testid="grid-shape" data-id=id.to_string()
                                    data-value=value data-colour=colour
                                    on:click=move |_| selected.set(Some(id))>
                                    <title>{name}</title>
                                </path>
                            }
                        }).collect_view()
                    }}
                    {move || {
                        let vp = view_port.get();
                        let scale = vp.map_or(1.0, |v| v.scale);
                        areas.get().unwrap_or_default().into_iter().map(|(level, name, shape)| {
                            // Subdistrict names always; community names once their area is wide
                            // enough on screen to hold one.
                            let labelled = level == "subdistrict"
                                || vp.is_some_and(|v| v.fits_label(shape.min, shape.max, 90.0));
                            let px = if level == "subdistrict" { 15.0 } else { 12.0 };
                            let (x, y) = shape.label_at;
                            view! {
                                <g data-testid="area" data-level=level>
                                    <path d=shape.path class=format!("area area-{level}")></path>
                                    {labelled.then(|| view! {
                                        <text class=format!("area-label area-label-{level}") x=x y=y
                                            font-size=px / scale stroke-width=3.0 / scale data-testid="area-label">{name}</text>
                                    })}
                                </g>
                            }
                        }).collect_view()
                    }}
                    {move || centres.get().unwrap_or_default().into_iter().map(|(name, level, lon, lat)| {
                        let (x, y) = tongxin_map::project(lon, lat);
                        // World units per metre at this latitude (Web Mercator).
                        let per_metre = tongxin_map::WORLD / (40_075_016.686 * lat.to_radians().cos());
                        let reach = tongxin_shared::service::WALK_15_MIN_METRES * per_metre;
                        let dot = 3.0 / view_port.get().map_or(1.0, |v| v.scale);
                        let show = show_reach.get() && level == "community";
                        view! {
                            <g data-testid="centre" data-level=level.clone()>
                                {show.then(|| view! { <circle class="reach" cx=x cy=y r=reach></circle> })}
                                <circle class=format!("centre centre-{level}") cx=x cy=y r=dot><title>{name}</title></circle>
                            </g>
                        }
                    }).collect_view()}
                </g>
            </svg>
            {move || tile_layer().filter(|l| !l.attribution.is_empty()).map(|l| view! {
                <span class="tile-attribution" data-testid="tile-attribution">{l.attribution}</span>
            })}
            </div>
            <Show when=move || show_reach.get()>
                <div class="card" data-testid="outside-reach">
                    <p>{t("map.reach_note")}</p>
                    {move || outside.get().map(|list| {
                        let n = list.len();
                        view! {
                            <p data-testid="outside-count" data-n=n.to_string()>{move || trf(lang.get(), "map.outside", &[("n", &n.to_string())])}</p>
                            <ul class="list compact">
                                {list.into_iter().take(50).map(|(id, name, m)| view! {
                                    <li data-testid="outside-grid" data-id=id.to_string()>{format!("{name} · {:.1} km", m / 1000.0)}</li>
                                }).collect_view()}
                            </ul>
                        }
                    })}
                </div>
            </Show>
            <ul class="legend" data-testid="legend">
                {move || {
                    let m = measure_sel.get();
                    let legend = m.legend();
                    let mut lo = 0u32;
                    legend.iter().map(|(hi, colour)| {
                        let label = match hi {
                            Some(h) if *h == lo => h.to_string(),
                            Some(h) => format!("{lo}–{h}"),
                            None => format!("{lo}+"),
                        };
                        lo = hi.map_or(lo, |h| h + 1);
                        view! { <li><span class="swatch" style=format!("background:{colour}")></span>{label}</li> }
                    }).collect_view()
                }}
            </ul>
            {move || selected.get().and_then(|id| {
                let name = shapes.get()?.into_iter().find(|(g, _, _)| *g == id)?.1;
                let community = grid_community.with(|m| m.get(&id).cloned());
                Some(view! { <grid_panel::GridPanel grid=id name=name community=community/> })
            })}
        </section>
    }
}

/// A grid path's reactive state on the map: its figures and whether it is highlighted.
#[derive(Clone, Copy)]
struct GridCell {
    state: RwSignal<tongxin_shared::figures::GridState>,
    flash: RwSignal<bool>,
}

/// A pointer's position in the map's viewBox units (the SVG is scaled to the screen's width).
fn svg_point(ev: &web_sys::MouseEvent) -> (f64, f64) {
    use wasm_bindgen::JsCast;
    let (cx, cy) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
    let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return (cx, cy);
    };
    let r = el.get_bounding_client_rect();
    if r.width() <= 0.0 || r.height() <= 0.0 {
        return (cx, cy);
    }
    (
        (cx - r.left()) * W / r.width(),
        (cy - r.top()) * H / r.height(),
    )
}

/// A User Timing mark (read by `cargo xtask bench map`; shows in the browser's profiler).
fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// A User Timing measure from the mark `start` to now.
fn measure(name: &str, start: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.measure_with_start_mark(name, start);
    }
}

/// Runs `f` at the next animation frame, after the pending DOM updates.
fn after_frame(f: impl FnOnce() + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

/// The records of a collection on this device, tombstones left out.
async fn live_records(collection: Collection) -> Vec<Record> {
    let Some(c) = client() else {
        return Vec::new();
    };
    c.store
        .list(collection)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.is_deleted())
        .collect()
}

/// The cases as CSV, UTF-8 with a byte-order mark so Excel opens the Chinese text correctly.
/// The supervision columns (督办): days overdue; the level whose queue the case is in (for a
/// case no longer open, the highest level it was escalated to); how many reminders it got, the
/// managers' and the server's escalation notices alike.
fn cases_csv(lang: Lang, deadlines: &Deadlines, cases: &[Record]) -> String {
    let header = [
        "id",
        "title",
        "category",
        "status",
        "source",
        "grid",
        "reporter",
        "reported_at",
        "deadline",
        "closed_at",
        "overdue_days",
        "escalated_to",
        "reminders",
    ];
    let labels: Vec<String> = header
        .iter()
        .map(|h| tr(lang, &format!("csv.{h}")))
        .collect();
    let mut out = String::from(crate::csv::BOM);
    crate::csv::push_row(&mut out, &labels);
    let now = now_ms();
    for r in cases {
        let time = |f: &str| {
            r.get(f)
                .and_then(serde_json::Value::as_u64)
                .map(when)
                .unwrap_or_default()
        };
        // The supervision columns (督办): how late, whose queue, how many reminders so far.
        let late = match (case_status(r), case_deadline(r)) {
            (Some(st), Some(d)) if is_overdue(st, d, now) => Some(d),
            _ => None,
        };
        let overdue_days = late.map_or_else(String::new, |d| {
            format!(
                "{:.1}",
                (now - d) as f64 / tongxin_shared::case::DAY_MS as f64
            )
        });
        let escalated = supervision_level(deadlines, r, now)
            .or_else(|| recorded_escalation(r))
            .map_or_else(String::new, |l| level_label(lang, l));
        let reminders = r
            .log
            .values()
            .filter(|e| {
                matches!(
                    e.data.get("action").and_then(|a| a.as_str()),
                    Some("remind" | ESCALATE)
                )
            })
            .count();
        let row = [
            r.id.to_string(),
            r.str("title").unwrap_or_default().to_owned(),
            category_label(lang, r.str("category").unwrap_or_default()),
            status_label(lang, r.str("status").unwrap_or_default()),
            r.str("source")
                .map(|s| tr(lang, &format!("source.{s}")))
                .unwrap_or_default(),
            r.str("grid").unwrap_or_default().to_owned(),
            r.str("reporter").unwrap_or_default().to_owned(),
            time("reported_at"),
            time("deadline"),
            time("closed_at"),
            overdue_days,
            escalated,
            reminders.to_string(),
        ];
        crate::csv::push_row(&mut out, &row);
    }
    out
}

/// A level of the hierarchy in words (the queue an overdue case sits in).
fn level_label(lang: Lang, level: Level) -> String {
    let key = match level {
        Level::Grid => "level.grid",
        Level::Community => "level.community",
        Level::Subdistrict => "level.subdistrict",
        Level::City => "level.city",
    };
    tr(lang, key)
}

/// Offers `text` as a file download.
fn download(name: &str, text: &str, content_type: &str) {
    use wasm_bindgen::JsCast;
    let Some(url) = crate::photo::object_url(text.as_bytes(), content_type) else {
        return;
    };
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(a) = doc
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = a.set_attribute("href", &url);
        let _ = a.set_attribute("download", name);
        a.click();
    }
}

/// The grids on the device as a GeoJSON FeatureCollection (WGS-84), each with its code, name,
/// community and current state (open and overdue cases, last visit).
async fn grids_geojson(states: &BTreeMap<RecordId, tongxin_shared::figures::GridState>) -> String {
    let features: Vec<serde_json::Value> = live_records(Collection::Grids)
        .await
        .iter()
        .filter_map(|g| {
            let s = states.get(&g.id).cloned().unwrap_or_default();
            Some(serde_json::json!({
                "type": "Feature",
                "id": g.id.to_string(),
                "geometry": g.get("boundary")?.clone(),
                "properties": {
                    "code": g.str("code"),
                    "name": g.str("name"),
                    "community": g.str("community"),
                    "open_cases": s.open,
                    "overdue_cases": s.overdue,
                    "last_visit_ms": s.last_visit_ms,
                },
            }))
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}
