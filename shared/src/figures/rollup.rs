//! Case figures rolled up by area (per community, per subdistrict) in one pass over the cases.

use super::{case_figures, CaseFigures};
use crate::ids::RecordId;
use crate::record::Record;
use crate::schema::Collection;
use std::collections::BTreeMap;

/// [`case_figures`] per area: each case counts for the area its grid belongs to (`area_of_grid`);
/// a case whose grid is in no listed area counts nowhere. Every area in `areas` is in the
/// answer, with zeros when it has no case.
pub fn case_figures_by_area<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    area_of_grid: &BTreeMap<RecordId, RecordId>,
    areas: &[RecordId],
    from_ms: u64,
    to_ms: u64,
    now_ms: u64,
) -> BTreeMap<RecordId, CaseFigures> {
    let mut groups: BTreeMap<RecordId, Vec<&'a Record>> =
        areas.iter().map(|a| (*a, Vec::new())).collect();
    for r in records {
        if r.collection != Collection::Cases {
            continue;
        }
        let Some(area) = r
            .str("grid")
            .and_then(|g| RecordId::parse(g).ok())
            .and_then(|g| area_of_grid.get(&g))
        else {
            continue;
        };
        if let Some(list) = groups.get_mut(area) {
            list.push(r);
        }
    }
    groups
        .into_iter()
        .map(|(area, list)| (area, case_figures(list, from_ms, to_ms, now_ms)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn rec(c: Collection, n: u128, fields: Value) -> Record {
        crate::record::test_record(c, n, &fields)
    }

    fn id(n: u128) -> RecordId {
        rec(Collection::Grids, n, json!({})).id
    }

    #[test]
    fn each_case_counts_for_its_grids_area_and_the_areas_sum_to_the_whole() {
        let (g1, g2, g3, g4) = (id(1), id(2), id(3), id(4));
        let (a, b, empty) = (id(11), id(12), id(13));
        let area_of_grid: BTreeMap<RecordId, RecordId> =
            [(g1, a), (g2, a), (g3, b)].into_iter().collect();
        let case = |n: u128, g: RecordId, status: &str| {
            rec(
                Collection::Cases,
                100 + n,
                json!({"grid": g.to_string(), "status": status, "reported_at": 10, "deadline": 20}),
            )
        };
        let recs = vec![
            case(1, g1, "closed"),
            case(2, g2, "reported"),
            case(3, g3, "reported"),
            // A grid outside every area, and a visit: neither counts.
            case(4, g4, "reported"),
            rec(
                Collection::Visits,
                200,
                json!({"grid": g1.to_string(), "visited_at": 10}),
            ),
        ];
        let by = case_figures_by_area(&recs, &area_of_grid, &[a, b, empty], 0, 100, 50);
        assert_eq!(by.len(), 3);
        assert_eq!((by[&a].reported, by[&a].closed, by[&a].open), (2, 1, 1));
        assert_eq!(by[&a].overdue, 1);
        assert_eq!((by[&b].reported, by[&b].open), (1, 1));
        assert_eq!(by[&empty], CaseFigures::default());
        let whole = case_figures(&recs[..3], 0, 100, 50);
        assert_eq!(by.values().map(|f| f.reported).sum::<u32>(), whole.reported);
    }
}
