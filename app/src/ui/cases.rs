//! Cases (事件/诉求): the list with its offline filters, a case with its lifecycle and timeline,
//! the report form (grid by GPS or by hand, photos), and the case CSV.

use super::browser::download;
use super::context::{ctx, t, Ctx};
use super::format::{level_label, now_ms, when};
use super::forms::{clear_draft, field_error, keep_draft, number_notice, save_failed, Draft};
use super::list;
use super::photos::{Gallery, PhotoPicker};
use crate::i18n::{tr, trf, Lang};
use crate::listing::cases::{select, CaseQuery, NEWEST};
use crate::listing::Terms;
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use std::collections::BTreeMap;
use tongxin_shared::case::{
    allowed_actions, is_overdue, owner_level, recorded_escalation, supervision_level, Action,
    Deadlines, Level, Status, ESCALATE,
};
use tongxin_shared::schema::{validate_op, CASE_CATEGORIES};
use tongxin_shared::{Collection, OpBody, Record, RecordId};

pub(super) fn category_label(lang: Lang, c: &str) -> String {
    if c.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("category.{c}"))
    }
}

pub(super) fn status_label(lang: Lang, s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("status.{s}"))
    }
}

#[component]
pub(super) fn CaseList() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    // Filters, applied offline to the rows kept in memory (`listing::cases`, `ui::list::index`).
    let status = RwSignal::new(String::new());
    let overdue = RwSignal::new(false);
    let mine = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let grid = RwSignal::new(String::new());
    let sort = RwSignal::new(NEWEST);
    let page = RwSignal::new(0usize);
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
    // The grids on the device (a manager's area has many), for the grid filter: from the rows'
    // index, which has their names already (reading 1,200 grids with their boundaries from
    // IndexedDB on every visit cost more than the list itself).
    list::index::refresh();
    let ready = list::index::ready();
    let grids = Memo::new(move |_| {
        ready.track();
        list::index::with(|ix| ix.grids.entries())
    });
    let filter = Memo::new(move |_| {
        let some = |v: String| (!v.is_empty()).then_some(v);
        CaseQuery {
            status: Status::parse(&status.get()),
            grid: some(grid.get()),
            category: some(category.get()),
            overdue_only: overdue.get(),
            mine: mine
                .get()
                .then(|| session.with(|s| s.as_ref().map(|s| s.me.username.clone())))
                .flatten(),
            queue: escalated.get().then(my_level).flatten(),
            terms: Terms::parse(&text.get()),
        }
    });
    // A changed filter starts again at the first page.
    Effect::new(move |prev: Option<CaseQuery>| {
        let now = filter.get();
        if prev.is_some_and(|p| p != now) {
            page.set(0);
        }
        now
    });
    let selected = Memo::new(move |_| {
        if ready.get() == 0 {
            return None;
        }
        let (q, s) = (filter.get(), sort.get());
        sig.deadlines.with(|d| {
            list::index::with(|ix| {
                let ids = select(&ix.cases.rows, &ix.grids, &ix.people, d, &q, s, now_ms());
                Some((ix.epoch, ids, ix.live_cases))
            })
        })
    });
    // The CSV holds every matching case (not only the page shown), read from the device.
    let export = move |_| {
        let Some(ids) = selected.with_untracked(|s| {
            s.as_ref().map(|(epoch, pos, _)| {
                list::index::with(|ix| {
                    if ix.epoch == *epoch {
                        pos.iter()
                            .filter_map(|i| ix.cases.rows.get(*i as usize).map(|r| r.id))
                            .collect::<Vec<_>>()
                    } else {
                        Vec::new()
                    }
                })
            })
        }) else {
            return;
        };
        spawn_local(async move {
            let Some(c) = client() else { return };
            let mut by_id: std::collections::HashMap<RecordId, Record> = c
                .store
                .list(Collection::Cases)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            let rows: Vec<Record> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
            export_cases(lang.get_untracked(), sig.deadlines.get_untracked(), rows);
        });
    };
    // Which of loading / empty / the list to show (re-drawn only when that changes, so the
    // search box keeps its focus while the rows change under it).
    let state = Memo::new(move |_| selected.with(|s| s.as_ref().map(|s| s.2 > 0)));
    view! {
        <section class="list-screen">
            <h1>{t("cases.title")}</h1>
            <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                <list::SearchBox query=text page label="cases.search"/>
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
                {move || Some(grids.get()).filter(|g| g.len() > 1).map(|list| view! {
                    <select name="grid" aria-label=move || tr(lang.get(), "case.grid")
                        on:change=move |ev| grid.set(event_target_value(&ev))>
                        <option value="">{t("cases.all_grids")}</option>
                        {list.into_iter().map(|(id, name)| {
                            let this = id.clone();
                            view! { <option value=id selected=move || grid.get() == this>{name}</option> }
                        }).collect_view()}
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
            {move || match state.get() {
                None => view! { <p class="muted" role="status" data-testid="list-loading">{t("cases.loading")}</p> }.into_any(),
                Some(false) => view! { <p class="muted">{t("cases.empty")}</p> }.into_any(),
                Some(true) => view! {
                    <button type="button" data-testid="export-csv" on:click=export>{t("cases.export")}</button>
                    <list::cases::CasePage selected page sort/>
                }.into_any(),
            }}
        </section>
    }
}

pub(super) fn case_status(r: &Record) -> Option<Status> {
    r.str("status").and_then(Status::parse)
}

pub(super) fn case_deadline(r: &Record) -> Option<u64> {
    r.get("deadline").and_then(serde_json::Value::as_u64)
}

/// The deadline, and how late an open case is.
pub(super) fn deadline_text(lang: Lang, r: Option<&Record>) -> String {
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
pub(super) fn Lifecycle(record: RwSignal<Option<Record>>) -> impl IntoView {
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
        let body = tongxin_shared::policy::actions::remind(
            &r,
            &c.me().username,
            &note.get_untracked(),
            uuid::Uuid::now_v7(),
        );
        let op = c.op(Collection::Cases, r.id, body);
        let l = lang.get_untracked();
        spawn_local(async move {
            match c.commit(vec![op]).await {
                Ok(()) => note.set(String::new()),
                Err(e) => error.set(Some(save_failed(l, &e))),
            }
        });
    };
    let act = move |action: Action| {
        error.set(None);
        let (Some(c), Some(r)) = (client(), record.get_untracked()) else {
            return;
        };
        let me = c.me();
        // Accepting assigns the case to its reporter unless it already has an assignee.
        let assignee = r
            .str("assignee")
            .or_else(|| r.str("reporter"))
            .unwrap_or(&me.username)
            .to_owned();
        let bodies = tongxin_shared::policy::actions::step(
            case_status(&r),
            action,
            &me.username,
            (r.str("assignee").is_none()).then_some(assignee.as_str()),
            now_ms(),
            &note.get_untracked(),
            uuid::Uuid::now_v7(),
        );
        let ops: Vec<_> = bodies
            .into_iter()
            .map(|b| c.op(Collection::Cases, r.id, b))
            .collect();
        for op in &ops {
            if let Err(e) = validate_op(op) {
                error.set(Some(e.message));
                return;
            }
        }
        let l = lang.get_untracked();
        spawn_local(async move {
            match c.commit(ops).await {
                Ok(()) => note.set(String::new()),
                Err(e) => error.set(Some(save_failed(l, &e))),
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
                {number_notice("note", move || Some(note.get()))}
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
/// the server: it names the level the case went up to, and "system" as its author. People are
/// named from the directory on the device (their login id if it does not list them).
#[component]
pub(super) fn Timeline(record: RwSignal<Option<Record>>) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let people = LocalResource::new(move || {
        sig.version.get();
        super::names::people()
    });
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
                let by_attr = by.clone();
                let by_name = people.with(|p| p.as_ref().map(|p| p.name(&by).to_owned())).unwrap_or_else(|| by.clone());
                let label_action = action.clone();
                view! {
                    <li data-testid="timeline-entry" data-action=action data-level=escalation.map(Level::as_str)>
                        <strong>
                            {move || tr(lang.get(), &format!("action.{label_action}"))}
                            {escalation.map(|l| view! { " → " {move || level_label(lang.get(), l)} })}
                        </strong>
                        " · "
                        <span data-testid="timeline-by" data-username=by_attr>
                            {move || if by.is_empty() && escalation.is_some() { tr(lang.get(), "timeline.system") } else { by_name.clone() }}
                        </span>
                        " · " {when(at)}
                        {(!note.is_empty()).then(|| view! { <p class="pre">{note}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

#[component]
pub(super) fn CaseNew() -> impl IntoView {
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
pub(super) fn CaseDetail() -> impl IntoView {
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
pub(super) fn CaseForm(
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
        let name = |r: &Record| {
            super::names::code_and_name(
                r.str("code").unwrap_or_default(),
                r.str("name").unwrap_or_default(),
            )
        };
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
        // Set when this save reports a new case (上报), to the report time.
        let mut report_at: Option<u64> = None;
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
            let now = now_ms();
            fields.insert("grid".into(), chosen.into());
            if let Some(f) = position.get_untracked() {
                fields.insert(
                    "position".into(),
                    serde_json::json!([f.lon, f.lat, f.accuracy_m.min(100_000.0).round()]),
                );
            }
            fields.insert(
                "source".into(),
                if from_appeal {
                    "resident_appeal"
                } else {
                    "patrol"
                }
                .into(),
            );
            // The reporter, state, report time and the deadline for the category (the
            // deployment's hours as last fetched) are the builder's: `policy::actions::report`.
            report_at = Some(now);
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
        let bodies = match report_at {
            // 上报: the case and its first timeline entry.
            Some(now) => sig.deadlines.with_untracked(|d| {
                tongxin_shared::policy::actions::report(
                    fields,
                    &c.me().username,
                    now,
                    d,
                    uuid::Uuid::now_v7(),
                )
            }),
            None => vec![OpBody::Set { fields }],
        };
        let ops: Vec<_> = bodies
            .into_iter()
            .map(|b| c.op(Collection::Cases, record_id, b))
            .collect();
        if let Some(e) = ops.iter().find_map(|op| validate_op(op).err()) {
            error.set(Some(("form", e.message)));
            return;
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
                Err(e) => error.set(Some(("form", save_failed(l, &e)))),
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
            {number_notice("title", move || title.get())}
            {err_for("title")}
            <label>
                <span>{t("case.description")}</span>
                <textarea name="description" rows="4" maxlength="4000"
                    prop:value=shown(description, "description")
                    on:input=move |ev| description.set(Some(event_target_value(&ev)))></textarea>
            </label>
            {number_notice("description", move || description.get())}
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

/// Downloads the cases as CSV, with people and grids named from the device.
fn export_cases(lang: Lang, deadlines: Deadlines, rows: Vec<Record>) {
    spawn_local(async move {
        let names = Names {
            people: super::names::people().await,
            places: super::names::places().await,
        };
        let csv = cases_csv(lang, &deadlines, &names, &rows);
        download("cases.csv", &csv, "text/csv;charset=utf-8");
    });
}

/// How the CSV names people and places.
pub(super) struct Names {
    pub people: crate::people::Directory,
    pub places: super::names::Places,
}

/// The cases as CSV, UTF-8 with a byte-order mark so Excel opens the Chinese text correctly.
/// The grid as code and name, the reporter by name (and login id, for joining other exports).
/// The supervision columns (督办): days overdue; the level whose queue the case is in (for a
/// case no longer open, the highest level it was escalated to); how many reminders it got, the
/// managers' and the server's escalation notices alike.
pub(super) fn cases_csv(
    lang: Lang,
    deadlines: &Deadlines,
    names: &Names,
    cases: &[Record],
) -> String {
    let header = [
        "id",
        "title",
        "category",
        "status",
        "source",
        "grid_code",
        "grid_name",
        "reporter",
        "reporter_id",
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
        let grid_id = r.str("grid").unwrap_or_default();
        let grid = names.places.get(grid_id);
        let reporter = r.str("reporter").unwrap_or_default();
        let row = [
            r.id.to_string(),
            r.str("title").unwrap_or_default().to_owned(),
            category_label(lang, r.str("category").unwrap_or_default()),
            status_label(lang, r.str("status").unwrap_or_default()),
            r.str("source")
                .map(|s| tr(lang, &format!("source.{s}")))
                .unwrap_or_default(),
            grid.map_or_else(|| grid_id.to_owned(), |g| g.code.clone()),
            grid.map_or_else(String::new, |g| g.name.clone()),
            names.people.name(reporter).to_owned(),
            reporter.to_owned(),
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
