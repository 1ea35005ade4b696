//! The visit list's columns and cards, drawn one page at a time by `super::page::paged`: a
//! table on a wide screen, cards on a phone. The households' addresses are read for the rows on
//! screen only.

use super::index::ListIndex;
use super::page::PagedRows;
use super::SortTh;
use crate::i18n::tr;
use crate::listing::visits::{VisitRow, VisitSort};
use crate::listing::Sort;
use crate::store::LocalStore;
use crate::sync::client;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::when;
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_shared::{Collection, RecordId};

pub(crate) const PHONE_SORTS: [(Sort<VisitSort>, &str); 4] = [
    (crate::listing::visits::NEWEST, "list.sort.newest"),
    (
        Sort {
            key: VisitSort::Time,
            desc: false,
        },
        "list.sort.oldest",
    ),
    (
        Sort {
            key: VisitSort::Grid,
            desc: false,
        },
        "list.sort.grid",
    ),
    (
        Sort {
            key: VisitSort::Warden,
            desc: false,
        },
        "list.sort.warden",
    ),
];

/// A visit on screen with the names of its places and warden.
#[derive(Clone, PartialEq)]
pub(crate) struct Shown {
    row: VisitRow,
    grid: String,
    compound: String,
    warden: String,
}

/// The visit list's page (`super::page::paged`).
pub(crate) struct Visits;

impl PagedRows for Visits {
    type Shown = Shown;
    type Key = VisitSort;
    const COUNT_TESTID: &'static str = "visits-count";
    const COLLECTION: Collection = Collection::Visits;

    fn len(ix: &ListIndex) -> usize {
        ix.visits.rows.len()
    }
    const PHONE_SORTS: &'static [(Sort<VisitSort>, &'static str)] = &PHONE_SORTS;

    fn shown(ix: &ListIndex, positions: &[u32]) -> Vec<Shown> {
        positions
            .iter()
            .filter_map(|i| ix.visits.rows.get(*i as usize))
            .map(|row| Shown {
                grid: ix.grids.shown(row.grid).to_owned(),
                compound: ix.compounds.shown(row.compound).to_owned(),
                warden: ix.people.shown(row.warden).to_owned(),
                row: row.clone(),
            })
            .collect()
    }

    fn table(rows: Vec<Shown>, page: RwSignal<usize>, sort: RwSignal<Sort<VisitSort>>) -> AnyView {
        let homes = homes_of(&rows);
        view! { <VisitTable rows page sort homes/> }.into_any()
    }

    fn cards(rows: Vec<Shown>) -> AnyView {
        let homes = homes_of(&rows);
        view! { <VisitCards rows homes/> }.into_any()
    }
}

/// The addresses of the households visited on this page, read from the device.
fn homes_of(rows: &[Shown]) -> LocalResource<Homes> {
    let wanted: Vec<RecordId> = rows.iter().filter_map(|s| s.row.household).collect();
    LocalResource::new(move || {
        let wanted = wanted.clone();
        async move {
            let mut out = BTreeMap::new();
            let Some(c) = client() else { return out };
            for id in wanted {
                if let Ok(Some(h)) = c.store.get(Collection::Households, id).await {
                    out.insert(id, h.str("address").unwrap_or_default().to_owned());
                }
            }
            out
        }
    })
}

/// Addresses of the households visited on the page shown.
type Homes = BTreeMap<RecordId, String>;

fn address(homes: LocalResource<Homes>, id: Option<RecordId>) -> Option<String> {
    id.and_then(|id| homes.get().and_then(|h| h.get(&id).cloned()))
}

/// The appeals heard on a visit, each with its "to a case" link.
fn appeals(id: RecordId, list: Vec<String>) -> impl IntoView {
    (!list.is_empty()).then(|| view! {
        <ul class="appeals">
            {list.into_iter().map(|a| {
                let href = format!("/cases/new?title={}&visit={id}", js_sys::encode_uri_component(&a));
                view! {
                    <li data-testid="appeal">
                        <span>{a}</span>
                        <a class="button" href=href data-testid="appeal-to-case">{t("visits.to_case")}</a>
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}

#[component]
fn VisitTable(
    rows: Vec<Shown>,
    page: RwSignal<usize>,
    sort: RwSignal<Sort<VisitSort>>,
    homes: LocalResource<Homes>,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let home = move |id: Option<RecordId>| address(homes, id);
    view! {
        <div class="table-wrap">
            <table class="table list-table" data-testid="visits-table">
                <thead>
                    <tr>
                        <SortTh sort page column=VisitSort::Time natural_desc=true label="list.col.visited" name="time"/>
                        <th scope="col">{t("visits.kind")}</th>
                        <SortTh sort page column=VisitSort::Grid natural_desc=false label="case.grid" name="grid"/>
                        <SortTh sort page column=VisitSort::Compound natural_desc=false label="visits.compound" name="compound"/>
                        <SortTh sort page column=VisitSort::Warden natural_desc=false label="list.col.warden" name="warden"/>
                        <th scope="col">{t("visits.notes")}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|Shown { row, grid, compound, warden }| {
                        let kind = row.kind.clone();
                        let household = row.household;
                        let (grid_attr, warden_attr) = (grid.clone(), warden.clone());
                        view! {
                            <tr data-testid="visit-item" data-id=row.id.to_string() data-at=row.visited_at.to_string()
                                data-grid=grid_attr data-warden=warden_attr>
                                <td class="nowrap">{when(row.visited_at)}</td>
                                <td class="nowrap">{move || tr(lang.get(), &format!("visit.kind.{kind}"))}</td>
                                <td class="nowrap">{grid}</td>
                                <td class="nowrap">{compound}
                                    {move || home(household).map(|h| view! { <span class="item-meta" data-testid="visit-household">{h}</span> })}</td>
                                <td class="nowrap">{warden}</td>
                                <td><span class="pre">{row.notes}</span>{appeals(row.id, row.appeals)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn VisitCards(rows: Vec<Shown>, homes: LocalResource<Homes>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let home = move |id: Option<RecordId>| address(homes, id);
    view! {
        <ul class="list">
            {rows.into_iter().map(|Shown { row, .. }| {
                let kind = row.kind.clone();
                let household = row.household;
                view! {
                    <li class="item" data-testid="visit-item" data-id=row.id.to_string() data-at=row.visited_at.to_string()>
                        <span class="item-title">{move || tr(lang.get(), &format!("visit.kind.{kind}"))} " · " {when(row.visited_at)}</span>
                        {move || home(household).map(|h| view! { <span class="item-meta" data-testid="visit-household">{h}</span> })}
                        <span class="item-meta pre">{row.notes}</span>
                        {appeals(row.id, row.appeals)}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
