//! The map's grid panel: a selected grid's wardens, its open and overdue cases (each a link),
//! its latest visits and its community's latest activities, and links into the case list
//! filtered to the grid. It shows a loading line the moment a grid is picked; once the map's
//! states are known it reads only that grid's records (their ids come from the map's index),
//! not every case and visit on the device.

use super::cases::{case_deadline, case_status};
use super::context::{ctx, live_records, profile, t, Ctx};
use super::format::{now_ms, when};
use super::grid_history::GridHistory;
use super::list::history_note;
use super::staff::{by_grid, staff};
use crate::i18n::{tr, trf};
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use tongxin_shared::case::is_overdue;
use tongxin_shared::figures::GridStateIndex;
use tongxin_shared::profile::Profile;
use tongxin_shared::{Collection, Record, RecordId};

/// How many cases, visits and activities the panel lists.
const SHOWN: usize = 5;

#[derive(Clone)]
struct Panel {
    open: Vec<(RecordId, String, bool)>,
    overdue: usize,
    visits: Vec<(u64, String, String)>,
    activities: Vec<(String, String)>,
}

/// The grid's cases and visits: by id from the map's index when it is complete, else by
/// reading every case and visit.
async fn grid_records(
    grid: RecordId,
    index: StoredValue<GridStateIndex>,
    known: bool,
) -> (Vec<Record>, Vec<Record>) {
    let gid = grid.to_string();
    let in_grid = |r: &Record| r.str("grid") == Some(gid.as_str());
    let ids = known.then(|| index.with_value(|ix| ix.records_in(grid)));
    let (Some((case_ids, visit_ids)), Some(c)) = (ids, client()) else {
        let cases = live_records(Collection::Cases).await;
        let visits = live_records(Collection::Visits).await;
        return (
            cases.into_iter().filter(|r| in_grid(r)).collect(),
            visits.into_iter().filter(|r| in_grid(r)).collect(),
        );
    };
    let mut out = (Vec::new(), Vec::new());
    for (coll, ids, into) in [
        (Collection::Cases, case_ids, &mut out.0),
        (Collection::Visits, visit_ids, &mut out.1),
    ] {
        let keys: Vec<(Collection, RecordId)> = ids.into_iter().map(|id| (coll, id)).collect();
        let read = c.store.get_many(&keys).await.unwrap_or_default();
        into.extend(
            read.into_iter()
                .flatten()
                .filter(|r| !r.is_deleted() && in_grid(r)),
        );
    }
    out
}

async fn load(
    grid: RecordId,
    community: Option<String>,
    index: StoredValue<GridStateIndex>,
    known: bool,
) -> Panel {
    let now = now_ms();
    let (cases, visits) = grid_records(grid, index, known).await;
    let mut open: Vec<(RecordId, String, bool, u64)> = cases
        .iter()
        .filter_map(|r| {
            let st = case_status(r)?;
            st.is_open().then(|| {
                let late = case_deadline(r).is_some_and(|d| is_overdue(st, d, now));
                let at = r
                    .get("reported_at")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                (
                    r.id,
                    r.str("title").unwrap_or_default().to_owned(),
                    late,
                    at,
                )
            })
        })
        .collect();
    // Overdue first, then the newest.
    open.sort_by(|a, b| b.2.cmp(&a.2).then(b.3.cmp(&a.3)));
    let overdue = open.iter().filter(|c| c.2).count();
    // Visits name their warden from the people directory on the device (the login id if it
    // does not list them).
    let people = super::names::people().await;
    let mut visits: Vec<(u64, String, String)> = visits
        .iter()
        .filter_map(|r| {
            Some((
                r.get("visited_at")?.as_u64()?,
                people.name(r.str("warden").unwrap_or_default()).to_owned(),
                r.str("kind").unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    visits.sort_by_key(|v| std::cmp::Reverse(v.0));
    visits.truncate(SHOWN);
    let mut activities: Vec<(String, String)> = live_records(Collection::Activities)
        .await
        .iter()
        .filter(|r| community.is_some() && r.str("community") == community.as_deref())
        .map(|r| {
            (
                r.str("date").unwrap_or_default().to_owned(),
                r.str("title").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    activities.sort_by(|a, b| b.0.cmp(&a.0));
    activities.truncate(SHOWN);
    Panel {
        open: open
            .into_iter()
            .map(|(id, title, late, _)| (id, title, late))
            .collect(),
        overdue,
        visits,
        activities,
    }
}

/// A titled list, or "none" when it is empty.
fn section(
    l: crate::i18n::Lang,
    title: &str,
    testid: &'static str,
    items: Vec<String>,
) -> impl IntoView {
    view! {
        <h3>{tr(l, title)}</h3>
        {if items.is_empty() {
            view! { <p class="muted">{tr(l, "map.panel.none")}</p> }.into_any()
        } else {
            view! {
                <ul class="list compact" data-testid=testid>
                    {items.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
pub(super) fn GridPanel(
    grid: RecordId,
    name: String,
    code: String,
    community: Option<String>,
    community_name: String,
    index: StoredValue<GridStateIndex>,
    known: Memo<bool>,
    on_close: Callback<()>,
) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let data = LocalResource::new(move || {
        sig.version.get();
        let known = known.get();
        let community = community.clone();
        async move { load(grid, community, index, known).await }
    });
    // The staff list may come from the network: it does not hold up the rest.
    let wardens = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let names = by_grid(&staff().await).remove(&grid).unwrap_or_default();
            if names.is_empty() {
                "—".to_owned()
            } else {
                names.join("、")
            }
        }
    });
    let cases_link = format!("/cases?grid={grid}");
    let overdue_link = format!("/cases?grid={grid}&overdue=1");
    let heading = if code.is_empty() {
        name
    } else {
        format!("{code} {name}")
    };
    view! {
        <section class="card grid-panel" data-testid="grid-panel" data-id=grid.to_string() aria-labelledby="grid-panel-title">
            <div class="panel-head">
                <h2 id="grid-panel-title" data-testid="panel-title">{heading}</h2>
                <button type="button" class="link" data-testid="panel-close" on:click=move |_| on_close.run(())>{t("map.panel.close")}</button>
            </div>
            {(!community_name.is_empty()).then(|| view! { <p class="muted small">{community_name}</p> })}
            <p data-testid="panel-wardens">{move || trf(lang.get(), "map.panel.wardens", &[("w", &wardens.get().unwrap_or_else(|| tr(lang.get(), "map.panel.loading_short")))])}</p>
            {move || match data.get() {
                None => view! {
                    <p class="muted panel-loading" role="status" data-testid="panel-loading">
                        <span class="spinner" aria-hidden="true"></span>{tr(lang.get(), "map.panel.loading")}
                    </p>
                }.into_any(),
                Some(p) => {
                    let l = lang.get();
                    let n_open = p.open.len();
                    let visits = p.visits.into_iter().map(|(at, warden, kind)| format!("{} · {} · {}", when(at), warden, tr(l, &format!("visit.kind.{kind}")))).collect();
                    let activities = p.activities.into_iter().map(|(date, title)| format!("{date} · {title}")).collect();
                    view! {
                        <p data-testid="panel-figures" data-open=n_open.to_string() data-overdue=p.overdue.to_string()>
                            {trf(l, "map.panel.cases", &[("open", &n_open.to_string()), ("overdue", &p.overdue.to_string())])}
                        </p>
                        <ul class="list compact">
                            {p.open.into_iter().take(SHOWN).map(|(id, title, late)| view! {
                                <li><a href=format!("/cases/{id}") data-testid="panel-case">{title}</a>
                                    {late.then(|| view! { <span class="tag warn">{tr(l, "cases.overdue")}</span> })}</li>
                            }).collect_view()}
                        </ul>
                        {section(l, "map.panel.visits", "panel-visits", visits)}
                        {history_note()}
                        {(profile() == Profile::Summary).then(|| view! { <GridHistory grid=grid /> })}
                        {section(l, "map.panel.activities", "panel-activities", activities)}
                    }.into_any()
                }
            }}
            <div class="actions">
                <a class="button" href=cases_link data-testid="panel-cases-link">{t("map.panel.all_cases")}</a>
                <a class="button" href=overdue_link>{t("map.panel.overdue_cases")}</a>
            </div>
        </section>
    }
}
