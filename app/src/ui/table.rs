//! A table of text with sortable columns (click a header; again to reverse), as the dashboards
//! show it. The same rows go into the CSV export unsorted. The ordering is `crate::sort` (pure,
//! tested natively).

use crate::sort::{number, sorted};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Which column each table on a screen is sorted by (`(column, descending)`), by test id, kept
/// by the screen so a data refresh keeps the user's ordering.
pub(crate) type Sorts = RwSignal<BTreeMap<&'static str, (usize, bool)>>;

/// One table on the page (and in the CSV), with its test id.
pub(crate) struct Table {
    pub testid: &'static str,
    pub data: crate::csv::Table,
}

impl Table {
    pub(crate) fn new(
        testid: &'static str,
        title: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    ) -> Self {
        Self {
            testid,
            data: crate::csv::Table {
                title,
                header,
                rows,
            },
        }
    }

    /// The table's heading and rows (the first `limit`, in the chosen order); each header is a
    /// button that sorts by its column.
    pub(crate) fn view(&self, limit: usize, sorts: Sorts) -> impl IntoView {
        self.view_with(limit, sorts, ())
    }

    /// [`Self::view`] with something (a chart, a note) between the heading and the table.
    pub(crate) fn view_with(
        &self,
        limit: usize,
        sorts: Sorts,
        before: impl IntoView,
    ) -> impl IntoView {
        let testid = self.testid;
        let d = &self.data;
        let rows = d.rows.clone();
        let n = rows.len();
        let more = n.saturating_sub(limit);
        let current = move || sorts.with(|s| s.get(testid).copied());
        let heading_id = format!("table-{testid}");
        view! {
            <h2 id=heading_id.clone()>{d.title.clone()}</h2>
            {before}
            <div class="table-scroll">
            <table class="table" data-testid=testid data-rows=n.to_string() aria-labelledby=heading_id>
                <thead><tr>{d.header.iter().enumerate().map(|(i, h)| {
                    let aria = move || match current() {
                        Some((c, false)) if c == i => "ascending",
                        Some((c, true)) if c == i => "descending",
                        _ => "none",
                    };
                    view! {
                        <th scope="col" aria-sort=aria>
                            <button type="button" class="sort" data-testid="sort" data-col=i.to_string()
                                on:click=move |_| sorts.update(|s| {
                                    // First click: ascending (numbers: smallest first); again: reverse.
                                    let desc = s.get(testid).is_some_and(|&(c, d)| c == i && !d);
                                    s.insert(testid, (i, desc));
                                })>
                                {h.clone()}
                                <span class="sort-mark" aria-hidden="true">{move || match current() {
                                    Some((c, false)) if c == i => "▲",
                                    Some((c, true)) if c == i => "▼",
                                    _ => "",
                                }}</span>
                            </button>
                        </th>
                    }
                }).collect_view()}</tr></thead>
                <tbody>
                    {move || sorted(&rows, current()).into_iter().take(limit).map(|row| view! {
                        <tr>{row.into_iter().enumerate().map(|(i, c)| {
                            let class = if i > 0 && number(&c).is_some() { "num" } else { "" };
                            view! { <td class=class>{c}</td> }
                        }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
            {(more > 0).then(|| view! { <p class="muted small">{format!("… +{more}")}</p> })}
        }
    }
}

/// The tables as one CSV (see `crate::csv::tables`).
pub(crate) fn tables_csv(tables: &[&Table]) -> String {
    let parts: Vec<&crate::csv::Table> = tables.iter().map(|t| &t.data).collect();
    crate::csv::tables(&parts)
}
