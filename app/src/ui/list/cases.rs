//! One page of the case list: a table with sortable columns on a wide screen, today's cards on
//! a phone; the count and the pager above.

use super::index;
use super::{Pager, SortSelect, SortTh};
use crate::i18n::{tr, Lang};
use crate::listing::cases::{CaseRow, CaseSort};
use crate::listing::{page_range, Sort};
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::{now_ms, when};
use crate::ui::layout::use_wide;
use leptos::prelude::*;

/// The cases a query selected: the index epoch the positions belong to, the positions in
/// order, and how many live cases the device holds.
pub(crate) type Selected = Option<(u64, Vec<u32>, usize)>;

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
#[derive(Clone)]
struct Shown {
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

/// The count, the pager and one page of the selected cases.
#[component]
pub(crate) fn CasePage(
    selected: Memo<Selected>,
    page: RwSignal<usize>,
    sort: RwSignal<Sort<CaseSort>>,
) -> impl IntoView {
    let wide = use_wide();
    let matched = Signal::derive(move || selected.with(|s| s.as_ref().map_or(0, |s| s.1.len())));
    let total = Signal::derive(move || selected.with(|s| s.as_ref().map_or(0, |s| s.2)));
    let rows = move || {
        selected.with(|s| {
            let Some((epoch, ids, _)) = s else {
                return Vec::new();
            };
            let range = page_range(ids.len(), page.get());
            index::with(|ix| {
                if ix.epoch != *epoch {
                    return Vec::new();
                }
                ids[range]
                    .iter()
                    .filter_map(|i| ix.cases.rows.get(*i as usize))
                    .map(|row| Shown {
                        grid: ix.grids.shown(row.grid).to_owned(),
                        row: row.clone(),
                    })
                    .collect()
            })
        })
    };
    view! {
        <Pager page matched total testid="cases-count"/>
        {move || if wide.get() {
            view! { <CaseTable rows=rows() page sort/> }.into_any()
        } else {
            view! {
                <SortSelect sort page options=&PHONE_SORTS/>
                <CaseCards rows=rows()/>
            }.into_any()
        }}
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
