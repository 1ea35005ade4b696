//! The case list's columns and cards, drawn one page at a time by `super::page::paged`: a
//! table with sortable columns on a wide screen, cards on a phone.

use super::index::ListIndex;
use super::page::PagedRows;
use super::SortTh;
use crate::i18n::{tr, Lang};
use crate::listing::cases::{CaseRow, CaseSort};
use crate::listing::Sort;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::{now_ms, when};
use leptos::prelude::*;
use tongxin_shared::Collection;

/// The orders a phone offers in its sort menu (a table sorts by its headers).
pub(crate) const PHONE_SORTS: [(Sort<CaseSort>, &str); 5] = [
    (crate::listing::cases::NEWEST, "list.sort.newest"),
    (
        Sort {
            key: CaseSort::Reported,
            desc: false,
        },
        "list.sort.oldest",
    ),
    (
        Sort {
            key: CaseSort::Deadline,
            desc: false,
        },
        "list.sort.deadline",
    ),
    (
        Sort {
            key: CaseSort::Status,
            desc: false,
        },
        "list.sort.status",
    ),
    (
        Sort {
            key: CaseSort::Grid,
            desc: false,
        },
        "list.sort.grid",
    ),
];

/// A row on screen: the row and its grid's name.
#[derive(Clone, PartialEq)]
pub(crate) struct Shown {
    row: CaseRow,
    grid: String,
}

fn label(lang: Lang, prefix: &str, v: &str) -> String {
    if v.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("{prefix}.{v}"))
    }
}

/// The case list's page (`super::page::paged`).
pub(crate) struct Cases;

impl PagedRows for Cases {
    type Shown = Shown;
    type Key = CaseSort;
    const COUNT_TESTID: &'static str = "cases-count";
    const COLLECTION: Collection = Collection::Cases;

    fn len(ix: &ListIndex) -> usize {
        ix.cases.rows.len()
    }
    const PHONE_SORTS: &'static [(Sort<CaseSort>, &'static str)] = &PHONE_SORTS;

    fn shown(ix: &ListIndex, positions: &[u32]) -> Vec<Shown> {
        positions
            .iter()
            .filter_map(|i| ix.cases.rows.get(*i as usize))
            .map(|row| Shown {
                grid: ix.grids.shown(row.grid).to_owned(),
                row: row.clone(),
            })
            .collect()
    }

    fn table(rows: Vec<Shown>, page: RwSignal<usize>, sort: RwSignal<Sort<CaseSort>>) -> AnyView {
        view! { <CaseTable rows page sort/> }.into_any()
    }

    fn cards(rows: Vec<Shown>) -> AnyView {
        view! { <CaseCards rows/> }.into_any()
    }
}

#[component]
fn CaseTable(
    rows: Vec<Shown>,
    page: RwSignal<usize>,
    sort: RwSignal<Sort<CaseSort>>,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let now = now_ms();
    view! {
        <div class="table-wrap">
            <table class="table list-table" data-testid="cases-table">
                <thead>
                    <tr>
                        <th scope="col">{t("case.title")}</th>
                        <th scope="col">{t("case.category")}</th>
                        <SortTh sort page column=CaseSort::Status natural_desc=false label="case.status" name="status"/>
                        <SortTh sort page column=CaseSort::Grid natural_desc=false label="case.grid" name="grid"/>
                        <SortTh sort page column=CaseSort::Reported natural_desc=true label="list.col.reported" name="reported"/>
                        <SortTh sort page column=CaseSort::Deadline natural_desc=false label="list.col.deadline" name="deadline"/>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|Shown { row, grid }| {
                        let id = row.id.to_string();
                        let late = row.overdue(now);
                        let (category, status) = (row.category.clone(), row.status.map(tongxin_shared::case::Status::as_str).unwrap_or_default());
                        let grid_attr = grid.clone();
                        view! {
                            <tr data-testid="case-item" data-id=id.clone() data-reported=row.reported_at.to_string()
                                data-status=status data-grid=grid_attr>
                                <td><a href=format!("/cases/{id}")>{row.title}</a>
                                    {row.synthetic.then(|| view! { <span class="tag">{t("case.synthetic")}</span> })}</td>
                                <td class="nowrap">{move || label(lang.get(), "category", &category)}</td>
                                <td class="nowrap">{move || label(lang.get(), "status", status)}</td>
                                <td class="nowrap">{grid}</td>
                                <td class="nowrap">{when(row.reported_at)}</td>
                                <td class="nowrap">{row.deadline.map(when)}
                                    {late.then(|| view! { <span class="tag tag-late" data-testid="overdue">{t("cases.overdue")}</span> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn CaseCards(rows: Vec<Shown>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let now = now_ms();
    view! {
        <ul class="list">
            {rows.into_iter().map(|Shown { row, .. }| {
                let id = row.id.to_string();
                let late = row.overdue(now);
                let (category, status) = (row.category.clone(), row.status.map(tongxin_shared::case::Status::as_str).unwrap_or_default());
                view! {
                    <li>
                        <a class="item" href=format!("/cases/{id}") data-testid="case-item" data-id=id.clone()
                            data-reported=row.reported_at.to_string() data-status=status>
                            <span class="item-title">{row.title}</span>
                            <span class="item-meta">
                                {move || label(lang.get(), "category", &category)}
                                " · "
                                {move || label(lang.get(), "status", status)}
                                {row.synthetic.then(|| view! { <span class="tag">{t("case.synthetic")}</span> })}
                                {late.then(|| view! { <span class="tag tag-late" data-testid="overdue">{t("cases.overdue")}</span> })}
                            </span>
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
