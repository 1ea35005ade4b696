//! Ordering the rows of a table of text by one column, as the dashboards' sortable tables do:
//! numbers (and rates like `25%`) by value, text by its characters, blanks (`—`) last. Pure, so
//! it is tested natively.

use std::cmp::Ordering;

/// A cell's number: digits with an optional `%` (a rate) or a unit after a space; `—` and text
/// are not numbers.
pub fn number(cell: &str) -> Option<f64> {
    let head = cell.split_whitespace().next()?;
    head.trim_end_matches('%').parse::<f64>().ok()
}

/// The order of two cells of a column: numbers by value, before text and blanks (`—`), text by
/// its characters.
pub fn compare_cells(a: &str, b: &str) -> Ordering {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The rows in the order a sort asks for (stable: equal cells keep their order; blanks last
/// either way).
pub fn sorted(rows: &[Vec<String>], sort: Option<(usize, bool)>) -> Vec<Vec<String>> {
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
