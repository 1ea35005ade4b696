//! The map's grid panel: a selected grid's code and name, its wardens, its open and overdue
//! cases (each a link), its latest visits (by the warden's name) and its community's latest
//! activities, and links into the case list filtered to the grid.

use super::cases::{case_deadline, case_status};
use super::context::{ctx, live_records, t, Ctx};
use super::format::{now_ms, when};
use super::staff::{by_grid, staff};
use crate::i18n::{tr, trf};
use crate::store::LocalStore;
use leptos::prelude::*;
use tongxin_shared::case::is_overdue;
use tongxin_shared::{Collection, Record, RecordId};

/// How many cases, visits and activities the panel lists.
const SHOWN: usize = 5;

#[derive(Clone)]
struct Panel {
    /// The grid's code (the title shows code and name).
    code: String,
    wardens: Vec<String>,
    open: Vec<(RecordId, String, bool)>,
    overdue: usize,
    visits: Vec<(u64, String, String)>,
    activities: Vec<(String, String)>,
}

async fn load(grid: RecordId, community: Option<String>) -> Panel {
    let now = now_ms();
    let gid = grid.to_string();
    let in_grid = |r: &Record| r.str("grid") == Some(gid.as_str());
    let mut open: Vec<(RecordId, String, bool, u64)> = live_records(Collection::Cases)
        .await
        .iter()
        .filter(|r| in_grid(r))
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
    let people = super::names::people().await;
    let mut visits: Vec<(u64, String, String)> = live_records(Collection::Visits)
        .await
        .iter()
        .filter(|r| in_grid(r))
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
    let wardens = by_grid(&staff().await).remove(&grid).unwrap_or_default();
    let code = match crate::sync::client() {
        Some(c) => c.store.get(Collection::Grids, grid).await.ok().flatten(),
        None => None,
    }
    .and_then(|r| r.str("code").map(ToOwned::to_owned))
    .unwrap_or_default();
    Panel {
        code,
        wardens,
        open: open
            .into_iter()
            .map(|(id, title, late, _)| (id, title, late))
            .collect(),
        overdue,
        visits,
        activities,
    }
}

#[component]
pub(super) fn GridPanel(grid: RecordId, name: String, community: Option<String>) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let data = LocalResource::new(move || {
        sig.version.get();
        let community = community.clone();
        async move { load(grid, community).await }
    });
    let cases_link = format!("/cases?grid={grid}");
    let overdue_link = format!("/cases?grid={grid}&overdue=1");
    view! {
        <aside class="card grid-panel" data-testid="grid-panel" data-id=grid.to_string()>
            <h2 data-testid="panel-title">
                {move || data.get().map(|p| p.code).filter(|c| !c.is_empty()).map(|c| format!("{c} "))}
                {name}
            </h2>
            {move || data.get().map(|p| {
                let l = lang.get();
                let n_open = p.open.len();
                let wardens = if p.wardens.is_empty() { "—".to_owned() } else { p.wardens.join("、") };
                view! {
                    <p data-testid="panel-figures" data-open=n_open.to_string() data-overdue=p.overdue.to_string()>
                        {trf(l, "map.panel.cases", &[("open", &n_open.to_string()), ("overdue", &p.overdue.to_string())])}
                    </p>
                    <p data-testid="panel-wardens">{trf(l, "map.panel.wardens", &[("w", &wardens)])}</p>
                    <ul class="list compact">
                        {p.open.into_iter().take(SHOWN).map(|(id, title, late)| view! {
                            <li><a href=format!("/cases/{id}") data-testid="panel-case">{title}</a>
                                {late.then(|| view! { <span class="tag warn">{tr(l, "cases.overdue")}</span> })}</li>
                        }).collect_view()}
                    </ul>
                    <h3>{tr(l, "map.panel.visits")}</h3>
                    {if p.visits.is_empty() {
                        view! { <p class="muted">{tr(l, "map.panel.none")}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="list compact" data-testid="panel-visits">
                                {p.visits.into_iter().map(|(at, warden, kind)| view! {
                                    <li>{format!("{} · {} · {}", when(at), warden, tr(l, &format!("visit.kind.{kind}")))}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    <h3>{tr(l, "map.panel.activities")}</h3>
                    {if p.activities.is_empty() {
                        view! { <p class="muted">{tr(l, "map.panel.none")}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="list compact" data-testid="panel-activities">
                                {p.activities.into_iter().map(|(date, title)| view! { <li>{format!("{date} · {title}")}</li> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                }
            })}
            <a class="button" href=cases_link data-testid="panel-cases-link">{t("map.panel.all_cases")}</a>
            <a class="button" href=overdue_link>{t("map.panel.overdue_cases")}</a>
        </aside>
    }
}
