//! A visit or patrol as a list row, and the visit list's search and sort orders.

use super::rows::VisitCells;
use super::{rank_of, term_in, NameId, Names, Sort, Terms};
use std::cmp::Ordering;
use tongxin_shared::{Record, RecordId};

/// What the visit list shows, sorts and searches of a visit.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitRow {
    pub id: RecordId,
    pub kind: String,
    pub visited_at: u64,
    pub grid: NameId,
    pub compound: NameId,
    pub warden: NameId,
    /// The household visited (its address is read for the rows on screen only).
    pub household: Option<RecordId>,
    pub notes: String,
    pub appeals: Vec<String>,
    pub deleted: bool,
}

impl VisitRow {
    pub fn new(r: &Record, grids: &mut Names, compounds: &mut Names, people: &mut Names) -> Self {
        Self::from_cells(&VisitCells::of(r), grids, compounds, people)
    }

    /// The row of a visit's stored cells (what [`VisitRow::new`] makes of the record).
    pub fn from_cells(
        v: &VisitCells,
        grids: &mut Names,
        compounds: &mut Names,
        people: &mut Names,
    ) -> Self {
        Self {
            id: v.id,
            kind: v.kind.clone(),
            visited_at: v.visited_at,
            grid: grids.intern(&v.grid),
            compound: compounds.intern(&v.compound),
            warden: people.intern(&v.warden),
            household: v.household,
            notes: v.notes.clone(),
            appeals: v.appeals.clone(),
            deleted: v.deleted,
        }
    }
}

/// The columns the visit list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitSort {
    Time,
    Grid,
    Compound,
    Warden,
}

impl VisitSort {
    pub fn natural_desc(self) -> bool {
        matches!(self, Self::Time)
    }
}

/// The default order: newest first.
pub const NEWEST: Sort<VisitSort> = Sort {
    key: VisitSort::Time,
    desc: true,
};

/// Where the visit list's search looks: the compound, the grid and the warden (name or login).
pub struct VisitNames<'a> {
    pub grids: &'a Names,
    pub compounds: &'a Names,
    pub people: &'a Names,
}

/// The positions in `rows` of the visits whose compound, grid or warden holds every search
/// term, in `sort` order (ties: newest first, then id).
pub fn select(
    rows: &[VisitRow],
    names: &VisitNames<'_>,
    terms: &Terms,
    sort: Sort<VisitSort>,
) -> Vec<u32> {
    let hits = [
        (terms.in_names(names.grids), 0),
        (terms.in_names(names.compounds), 1),
        (terms.in_names(names.people), 2),
    ];
    let n = terms.iter().count();
    let matches = |r: &VisitRow| {
        !r.deleted
            && (0..n).all(|t| {
                hits.iter().any(|(h, which)| {
                    let id = match which {
                        0 => r.grid,
                        1 => r.compound,
                        _ => r.warden,
                    };
                    term_in(h, t, id)
                })
            })
    };
    let mut out: Vec<u32> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| matches(r))
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    let ranks = match sort.key {
        VisitSort::Time => Vec::new(),
        VisitSort::Grid => names.grids.ranks(),
        VisitSort::Compound => names.compounds.ranks(),
        VisitSort::Warden => names.people.ranks(),
    };
    let row = |i: &u32| &rows[*i as usize];
    out.sort_by(|a, b| {
        let (x, y) = (row(a), row(b));
        let newest = y
            .visited_at
            .cmp(&x.visited_at)
            .then_with(|| y.id.cmp(&x.id));
        let by = |f: fn(&VisitRow) -> NameId| rank_of(&ranks, f(x)).cmp(&rank_of(&ranks, f(y)));
        let primary: Ordering = match sort.key {
            VisitSort::Time => return sort.apply(newest.reverse()),
            VisitSort::Grid => by(|r| r.grid),
            VisitSort::Compound => by(|r| r.compound),
            VisitSort::Warden => by(|r| r.warden),
        };
        sort.apply(primary).then(newest)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn search_looks_in_compound_grid_and_warden_and_sorts() {
        let (mut grids, mut compounds, mut people) =
            (Names::default(), Names::default(), Names::default());
        grids.label("g1", "第一网格", &["G1"]);
        grids.label("g2", "第二网格", &["G2"]);
        compounds.label("k1", "阳光小区", &[]);
        people.label("w0001", "张三", &[]);
        let rows: Vec<VisitRow> = [
            json!({"grid": "g1", "compound": "k1", "warden": "w0001", "visited_at": 10, "kind": "patrol", "notes": "阳光"}),
            json!({"grid": "g2", "warden": "w0002", "visited_at": 30, "kind": "patrol", "household": uuid::Uuid::from_u128(7).to_string()}),
            json!({"grid": "g2", "compound": "k1", "warden": "w0001", "visited_at": 20, "kind": "household_visit", "deleted": true}),
        ]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let n = u128::try_from(i).expect("small") + 1;
            VisitRow::new(&crate::listing::fixture(tongxin_shared::Collection::Visits, n, f), &mut grids, &mut compounds, &mut people)
        })
        .collect();
        assert_eq!(rows[1].household, Some(RecordId(uuid::Uuid::from_u128(7))));
        let names = VisitNames {
            grids: &grids,
            compounds: &compounds,
            people: &people,
        };
        let pick = |q: &str, sort| select(&rows, &names, &Terms::parse(q), sort);
        // Deleted rows never match; newest first by default.
        assert_eq!(pick("", NEWEST), [1, 0]);
        assert_eq!(pick("张三", NEWEST), [0]);
        assert_eq!(pick("W0001 阳光", NEWEST), [0]);
        assert_eq!(pick("g2", NEWEST), [1]);
        // Notes are not searched.
        assert!(pick("阳光 g2", NEWEST).is_empty());
        let by_grid = Sort {
            key: VisitSort::Grid,
            desc: true,
        };
        assert_eq!(pick("", by_grid), [1, 0]);
        let oldest = Sort {
            key: VisitSort::Time,
            desc: false,
        };
        assert_eq!(pick("", oldest), [0, 1]);
    }
}
