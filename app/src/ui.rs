//! The screens. They render from the local database (re-read whenever `SyncSignals::version`
//! bumps) and write only through `Client::commit`: the network is never in the way.

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
use tongxin_shared::case::deadline;
use tongxin_shared::case::Role;
use tongxin_shared::schema::{validate_op, CASE_CATEGORIES};
use tongxin_shared::wire::{UserSummary, UserUpsert, PROTOCOL_HEADER};
use tongxin_shared::{
    Collection, Op, OpBody, OpId, Record, RecordId, PROTOCOL_VERSION, SCHEMA_VERSION,
};

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
                        } else if session.with(Option::is_none) {
                            view! { <Login/> }.into_any()
                        } else {
                            view! {
                                <Routes fallback=|| view! { <Home/> }>
                                    <Route path=path!("/") view=Home/>
                                    <Route path=path!("/login") view=Login/>
                                    <Route path=path!("/admin") view=Admin/>
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
fn sign_out(token: String) {
    spawn_local(async move {
        sign_out_remote(&token).await;
        let _ = clear_session().await;
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
                    <a href="/cases/new" class="primary">{t("nav.new_case")}</a>
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
                <button type="button" class="primary" data-testid="logout-sync"
                    on:click=move |_| { warn.set(false); if let Some(c) = client() { c.kick(); } }>{t("auth.logout.sync_first")}</button>
                <button type="button" data-testid="logout-confirm"
                    on:click=move |_| { warn.set(false); if let Some(s) = session.get_untracked() { sign_out(s.token); } }>{t("auth.logout.anyway")}</button>
                <button type="button" on:click=move |_| warn.set(false)>{t("auth.logout.cancel")}</button>
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
                    } else if let Some(w) = web_sys::window() {
                        // A fresh page starts this user's own database and sync loop.
                        let _ = w.location().set_href("/");
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
    let Ctx { lang, sig, .. } = ctx();
    let count = LocalResource::new(move || {
        sig.version.get();
        async move {
            match client() {
                Some(c) => c.store.count(Collection::Cases).await.unwrap_or(0),
                None => 0,
            }
        }
    });
    view! {
        <section class="card">
            <p>{t("home.welcome")}</p>
            <p class="muted">{move || count.get().map(|n| trf(lang.get(), "home.cases_count", &[("n", &n.to_string())]))}</p>
            <p class="muted small">{t("home.synthetic")}</p>
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
    let Ctx { lang, sig, .. } = ctx();
    let cases = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else { return Vec::new() };
            let mut list: Vec<Record> = c
                .store
                .list(Collection::Cases)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|r| !r.is_deleted())
                .collect();
            list.sort_by_key(|r| {
                std::cmp::Reverse(
                    r.get("reported_at")
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(0),
                )
            });
            list
        }
    });
    view! {
        <section>
            <h1>{t("cases.title")}</h1>
            {move || match cases.get() {
                None => view! { <p class="muted">{t("cases.loading")}</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="muted">{t("cases.empty")}</p> }.into_any(),
                Some(list) => view! {
                    <ul class="list">
                        {list.into_iter().map(|r| {
                            let id = r.id.to_string();
                            let title = r.str("title").unwrap_or_default().to_owned();
                            let category = r.str("category").unwrap_or_default().to_owned();
                            let status = r.str("status").unwrap_or_default().to_owned();
                            let synthetic = r.get("synthetic").and_then(serde_json::Value::as_bool).unwrap_or(false);
                            view! {
                                <li>
                                    <a class="item" href=format!("/cases/{id}") data-testid="case-item" data-id=id.clone()>
                                        <span class="item-title">{title}</span>
                                        <span class="item-meta">
                                            {move || category_label(lang.get(), &category)}
                                            " · "
                                            {move || status_label(lang.get(), &status)}
                                            {synthetic.then(|| view! { <span class="tag">{t("case.synthetic")}</span> })}
                                        </span>
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn CaseNew() -> impl IntoView {
    let record = RwSignal::new(None::<Record>);
    view! {
        <section>
            <h1>{t("cases.new")}</h1>
            <CaseForm record=record id=None/>
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
                </dl>
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
fn CaseForm(record: RwSignal<Option<Record>>, id: Option<RecordId>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let navigate = use_navigate();
    let title = RwSignal::new(None::<String>);
    let description = RwSignal::new(None::<String>);
    let category = RwSignal::new(None::<String>);
    let grid = RwSignal::new(None::<String>);
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
            if let Some(c) = client() {
                fields.insert("reporter".into(), c.me().username.into());
            }
            fields.insert("status".into(), "reported".into());
            fields.insert("source".into(), "patrol".into());
            fields.insert("reported_at".into(), now.into());
            fields.insert("deadline".into(), deadline(now, &cat).into());
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
        let op = Op {
            id: OpId(uuid::Uuid::now_v7()),
            actor: c.actor,
            hlc: c.next_hlc(),
            collection: Collection::Cases,
            record: record_id,
            body: OpBody::Set { fields },
            schema: SCHEMA_VERSION,
        };
        if let Err(e) = validate_op(&op) {
            error.set(Some(("form", e.message)));
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match c.commit(vec![op]).await {
                Ok(()) => {
                    title.set(None);
                    description.set(None);
                    category.set(None);
                    saved.set(true);
                    if id.is_none() {
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
    let err_for = move |field: &'static str| {
        move || {
            error
                .get()
                .filter(|(f, _)| *f == field)
                .map(|(_, m)| view! { <p class="field-error" role="alert">{m}</p> })
        }
    };
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
            {id.is_none().then(|| view! {
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
                                            <p>{r.message.clone()}</p>
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

/// An admin API call with this session's token; the server's message on failure.
async fn admin_call(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, String> {
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
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
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

/// Users and their areas (admin only; the server checks it too).
#[component]
fn Admin() -> impl IntoView {
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
