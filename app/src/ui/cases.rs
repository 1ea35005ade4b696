//! Cases (事件/诉求): the list with its offline filters, the timeline, the labels and deadline
//! helpers the case screens share, and the case CSV. The report and edit form is `case_form`,
//! a case's page `case_detail`, its lifecycle buttons `lifecycle`.

use super::browser::download;
use super::context::{ctx, t, Ctx};
use super::format::{level_label, now_ms, when};
use super::list;
use crate::i18n::{tr, trf, Lang};
use crate::listing::cases::{select, CaseQuery, NEWEST};
use crate::listing::Terms;
use crate::store::LocalStore;
use crate::sync::client;
use crate::views::assign::reassigned_to;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::case::{
    is_overdue, recorded_escalation, supervision_level, Deadlines, Level, Status, ESCALATE,
};
use tongxin_shared::schema::CASE_CATEGORIES;
use tongxin_shared::{Collection, Record, RecordId};

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
// reason: not split yet (issue 13): the case list's filters, chips and export share the query signals
#[allow(clippy::too_many_lines)]
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
    // The grids on the device (a manager's area has many), for the grid filter: from the rows'
    // index, which has their names already (reading 1,200 grids with their boundaries from
    // IndexedDB on every visit cost more than the list itself).
    // Until the index is built, the newest cases are read straight from the device (first),
    // then the index is brought up to date.
    let first = list::page::first_page::<list::cases::Cases>();
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
            open_only: open_only.get(),
            due_soon: due_soon.get(),
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
    // The list as it opens: newest first, nothing filtered (what the first page shows before
    // the index is built).
    let plain =
        Signal::derive(move || filter.with(|q| *q == CaseQuery::default()) && sort.get() == NEWEST);
    // Which of loading / empty / the list to show (re-drawn only when that changes, so the
    // search box keeps its focus while the rows change under it).
    let state = Memo::new(move |_| list::page::live_total(selected, first).map(|n| n > 0));
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
                <ListChips open_only=open_only due_soon=due_soon/>
                {move || my_level().map(|_| view! {
                    <label class="check"><input name="escalated" type="checkbox" prop:checked=move || escalated.get()
                        on:change=move |ev| escalated.set(event_target_checked(&ev))/><span>{t("cases.escalated")}</span></label>
                })}
            </form>
            {move || match state.get() {
                None => view! { <p class="muted" role="status" data-testid="list-loading">{t("cases.loading")}</p> }.into_any(),
                Some(false) => view! { <p class="muted">{t("cases.empty")}</p> }.into_any(),
                Some(true) => view! {
                    // CSV export is a manager's report (wardens are not offered it).
                    {session.with(|s| s.as_ref().is_some_and(|s| s.me.role.is_manager())).then(|| view! {
                        <button type="button" data-testid="export-csv" on:click=export>{t("cases.export")}</button>
                    })}
                    {list::page::paged::<list::cases::Cases>(selected, first, plain, page, sort)}
                }.into_any(),
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
/// the server: it names the level the case went up to, and "system" as its author. People are
/// named from the directory on the device (their login id if it does not list them); a
/// reassignment (改派) names whom the case went to, a person or an alliance unit.
#[component]
pub(super) fn Timeline(record: RwSignal<Option<Record>>) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let people = LocalResource::new(move || {
        sig.version.get();
        super::names::assignee_names()
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
                let by_name = people.with(|p| p.as_ref().map(|p| p.people.name(&by).to_owned())).unwrap_or_else(|| by.clone());
                let to = reassigned_to(&data).map(ToOwned::to_owned);
                let to_name = to.as_ref().map(|a| people.with(|p| p.as_ref().map(|p| p.name(a))).unwrap_or_else(|| a.clone()));
                let label_action = action.clone();
                let label = move || match &to_name {
                    Some(name) => trf(lang.get(), "timeline.reassigned", &[("who", name)]),
                    None => tr(lang.get(), &format!("action.{label_action}")),
                };
                view! {
                    <li data-testid="timeline-entry" data-action=action data-level=escalation.map(Level::as_str) data-assignee=to>
                        <strong>
                            {label}
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
