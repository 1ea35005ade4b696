//! A table of text with sortable columns (click a header; again to reverse), as the dashboards
//! show it. The same rows go into the CSV export unsorted. The ordering is pure
//! ([`compare_cells`]) and tested natively.

use leptos::prelude::*;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Which column each table on a screen is sorted by (`(column, descending)`), by test id, kept
/// by the screen so a data refresh keeps the user's ordering.
pub(crate) type Sorts = RwSignal<BTreeMap<&'static str, (usize, bool)>>;

/// One table on the page (and in the CSV), with its test id.
pub(crate) struct Table {
    pub testid: &'static str,
    pub data: crate::csv::Table,
}

/// A cell's number: digits with an optional `%` (a rate) or a unit after a space; `—` and text
/// are not numbers.
fn number(cell: &str) -> Option<f64> {
    let head = cell.split_whitespace().next()?;
    head.trim_end_matches('%').parse::<f64>().ok()
}

/// The order of two cells of a column: numbers by value, before text and blanks (`—`), text by
/// its characters.
pub(crate) fn compare_cells(a: &str, b: &str) -> Ordering {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The rows in the order a sort asks for (stable: equal cells keep their order; blanks last
/// either way).
pub(crate) fn sorted(rows: &[Vec<String>], sort: Option<(usize, bool)>) -> Vec<Vec<String>> {
    let mut out = rows.to_vec();
    if let Some((col, desc)) = sort {
        out.sort_by(|a, b| {
            let (x, y) = (
                a.get(col).map_or("", String::as_str),
                b.get(col).map_or("", String::as_str),
            );
            let blank = |s: &str| s.is_empty() || s == "—";
            match (blank(x), blank(y)) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) if desc => compare_cells(y, x),
                (false, false) => compare_cells(x, y),
            }
        });
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cells: &[&[&str]]) -> Vec<Vec<String>> {
        cells
            .iter()
            .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
            .collect()
    }

    #[test]
    fn numbers_sort_by_value_rates_included_and_blanks_last() {
        let t = rows(&[
            &["甲", "9", "100%", "—"],
            &["乙", "10", "25%", "3.5"],
            &["丙", "2", "5%", "12.0"],
        ]);
        let col = |s: Option<(usize, bool)>, c: usize| -> Vec<String> {
            sorted(&t, s).into_iter().map(|r| r[c].clone()).collect()
        };
        assert_eq!(
            col(Some((1, false)), 1),
            ["2", "9", "10"],
            "10 after 9, not before"
        );
        assert_eq!(col(Some((2, true)), 2), ["100%", "25%", "5%"]);
        assert_eq!(col(Some((3, false)), 3), ["3.5", "12.0", "—"]);
        assert_eq!(col(Some((3, true)), 3), ["12.0", "3.5", "—"]);
        assert_eq!(col(None, 0), ["甲", "乙", "丙"], "unsorted keeps the order");
        assert_eq!(compare_cells("1.4 km", "12 km"), Ordering::Less);
        assert_eq!(compare_cells("a", "b"), Ordering::Less);
    }
}
