//! The screens. They render from the local database (re-read whenever `SyncSignals::version`
//! bumps) and write only through `Client::commit`: the network is never in the way.

use crate::i18n::{tr, trf, Lang, STORAGE_KEY};
use crate::store::{LocalStore, RejectedOp};
use crate::sync::{client, Client, SyncSignals};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::path;
use leptos_router::NavigateOptions;
use std::collections::BTreeMap;
use tongxin_shared::case::deadline;
use tongxin_shared::schema::{validate_op, CASE_CATEGORIES};
use tongxin_shared::{Collection, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION};

/// What every screen can reach.
#[derive(Clone, Copy)]
struct Ctx {
    lang: RwSignal<Lang>,
    sig: SyncSignals,
    panel: RwSignal<bool>,
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
    provide_context(Ctx {
        lang,
        sig,
        panel: RwSignal::new(false),
    });
    let ready = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    spawn_local(async move {
        match Client::start(sig).await {
            Ok(_) => ready.set(true),
            Err(e) => failed.set(Some(e.to_string())),
        }
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
                        } else {
                            view! {
                                <Routes fallback=|| view! { <Home/> }>
                                    <Route path=path!("/") view=Home/>
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

#[component]
fn Header() -> impl IntoView {
    let Ctx { lang, sig, panel } = ctx();
    let badge_label = move || {
        let (state, n) = sig.badge();
        let l = lang.get();
        let n = n.to_string();
        match state {
            "attention" if sig.update_required.get() => tr(l, "sync.update"),
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
        <nav class="tabs" aria-label="main">
            <a href="/">{t("nav.home")}</a>
            <a href="/cases">{t("nav.cases")}</a>
            <a href="/cases/new" class="primary">{t("nav.new_case")}</a>
        </nav>
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
    let error = RwSignal::new(None::<(&'static str, String)>);
    let saved = RwSignal::new(false);
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
            let now = js_sys::Date::now() as u64;
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
    let Ctx { lang, sig, panel } = ctx();
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
