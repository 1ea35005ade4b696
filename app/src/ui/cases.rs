//! Cases (事件/诉求): the list with its offline filters, the timeline, the labels and deadline
//! helpers the case screens share, and the case CSV. The report and edit form is `case_form`,
//! a case's page `case_detail`, its lifecycle buttons `lifecycle`.

use super::browser::download;
use super::context::{ctx, t, Ctx};
use super::format::{level_label, now_ms, when};
use crate::i18n::{tr, trf, Lang};
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use tongxin_shared::case::{
    is_overdue, recorded_escalation, supervision_level, Deadlines, Level, Status, ESCALATE,
};
use tongxin_shared::query::CaseFilter;
use tongxin_shared::schema::CASE_CATEGORIES;
use tongxin_shared::{Collection, Record};

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
    // The home tiles (my open cases, due within a day; see `home`).
    let open_only = RwSignal::new(false);
    let due_soon = RwSignal::new(false);
    // Links from the map and the home tiles open the list filtered:
    // /cases?grid=<id>&overdue=1, /cases?mine=1&open=1, /cases?due=soon.
    let query = leptos_router::hooks::use_query_map();
    query.with_untracked(|q| {
        if let Some(g) = q.get("grid") {
            grid.set(g);
        }
        let on = |k: &str, v: &str| q.get(k).is_some_and(|x| x == v);
        overdue.set(on("overdue", "1"));
        mine.set(on("mine", "1"));
        open_only.set(on("open", "1"));
        due_soon.set(on("due", "soon"));
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
            open_only: open_only.get(),
            due_soon: due_soon.get(),
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
                <ListChips open_only=open_only due_soon=due_soon/>
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
                    // CSV export is a manager's report (wardens are not offered it).
                    {session.with(|s| s.as_ref().is_some_and(|s| s.me.role.is_manager())).then(|| {
                        let rows = list.clone();
                        view! {
                            <button type="button" data-testid="export-csv"
                                on:click=move |_| download("cases.csv", &cases_csv(lang.get_untracked(), &sig.deadlines.get_untracked(), &rows), "text/csv;charset=utf-8")>
                                {t("cases.export")}
                            </button>
                        }
                    })}
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

/// The filters a home tile set that have no control of their own: shown as chips that clear them.
#[component]
fn ListChips(open_only: RwSignal<bool>, due_soon: RwSignal<bool>) -> impl IntoView {
    let chip = move |on: RwSignal<bool>, key: &'static str, testid: &'static str| {
        move || {
            on.get().then(|| {
                view! {
                    <button type="button" class="chip" data-testid=testid aria-pressed="true"
                        on:click=move |_| on.set(false)>{t(key)}" ×"</button>
                }
            })
        }
    };
    view! {
        {chip(open_only, "cases.filter.open", "filter-open")}
        {chip(due_soon, "cases.filter.due_soon", "filter-due-soon")}
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

/// The case's timeline: every step with who, when and the note, oldest first (stamp order, so
/// the escalations of one sweep read community → subdistrict → city). An escalation is written by
/// the server: it names the level the case went up to, and "system" as its author.
#[component]
pub(super) fn Timeline(record: RwSignal<Option<Record>>) -> impl IntoView {
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

/// The cases as CSV, UTF-8 with a byte-order mark so Excel opens the Chinese text correctly.
/// The supervision columns (督办): days overdue; the level whose queue the case is in (for a
/// case no longer open, the highest level it was escalated to); how many reminders it got, the
/// managers' and the server's escalation notices alike.
pub(super) fn cases_csv(lang: Lang, deadlines: &Deadlines, cases: &[Record]) -> String {
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
