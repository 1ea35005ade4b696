//! The compact row of a record, as the device keeps it next to the record (IndexedDB store
//! `rows`, written in the same transaction as the record it summarises) and as the long lists
//! read it: what a list shows, sorts and searches, and the names of places — nothing else (no
//! stamps, no timeline, no boundaries). A city manager's 55,000 rows are read with one `getAll`
//! instead of decoding 55,000 full records.
//!
//! [`ListRow::of`] is the only way a row is made, for the store and for the in-memory index
//! alike, so a row read back always equals the row of the record decoded (the store suite
//! checks it after local edits, pulls and merges).

use serde::{Deserialize, Serialize};
use tongxin_shared::case::{recorded_escalation, Level};
use tongxin_shared::{Collection, Record, RecordId};

/// The collections that have rows: the long lists' records and the places they name.
pub const ROW_COLLECTIONS: [Collection; 6] = [
    Collection::Subdistricts,
    Collection::Communities,
    Collection::Grids,
    Collection::Compounds,
    Collection::Cases,
    Collection::Visits,
];

/// A case's cells, places and people still by key (the index interns them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseCells {
    pub id: RecordId,
    pub title: String,
    /// Title and description, case-folded.
    pub hay: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub grid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporter: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub assignee: String,
    pub reported_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated: Option<Level>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// A visit's cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitCells {
    pub id: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    pub visited_at: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub grid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub compound: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub warden: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<RecordId>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appeals: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// A place's name and code (subdistrict, community, grid, compound).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceCells {
    pub collection: Collection,
    pub id: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// The row of one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum ListRow {
    Case(CaseCells),
    Visit(VisitCells),
    Place(PlaceCells),
}

fn text(r: &Record, field: &str) -> String {
    r.str(field).unwrap_or_default().to_owned()
}

fn time(r: &Record, field: &str) -> Option<u64> {
    r.get(field).and_then(serde_json::Value::as_u64)
}

impl CaseCells {
    /// The cells of a case record.
    pub fn of(r: &Record) -> Self {
        let title = text(r, "title");
        Self {
            id: r.id,
            hay: format!("{title}\n{}", text(r, "description")).to_lowercase(),
            title,
            category: text(r, "category"),
            status: text(r, "status"),
            grid: text(r, "grid"),
            reporter: text(r, "reporter"),
            assignee: text(r, "assignee"),
            reported_at: time(r, "reported_at").unwrap_or(0),
            deadline: time(r, "deadline"),
            synthetic: r
                .get("synthetic")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            escalated: recorded_escalation(r),
            deleted: r.is_deleted(),
        }
    }
}

impl VisitCells {
    /// The cells of a visit record.
    pub fn of(r: &Record) -> Self {
        Self {
            id: r.id,
            kind: text(r, "kind"),
            visited_at: time(r, "visited_at").unwrap_or(0),
            grid: text(r, "grid"),
            compound: text(r, "compound"),
            warden: text(r, "warden"),
            household: r.str("household").and_then(|h| RecordId::parse(h).ok()),
            notes: text(r, "notes"),
            appeals: r
                .get("appeals")
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(ToOwned::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            deleted: r.is_deleted(),
        }
    }
}

impl ListRow {
    /// The row of `r`, or `None` for a collection without rows.
    pub fn of(r: &Record) -> Option<Self> {
        Some(match r.collection {
            Collection::Cases => Self::Case(CaseCells::of(r)),
            Collection::Visits => Self::Visit(VisitCells::of(r)),
            c if ROW_COLLECTIONS.contains(&c) => Self::Place(PlaceCells {
                collection: c,
                id: r.id,
                code: text(r, "code"),
                name: text(r, "name"),
            }),
            _ => return None,
        })
    }

    /// The collection of the record the row summarises.
    pub fn collection(&self) -> Collection {
        match self {
            Self::Case(_) => Collection::Cases,
            Self::Visit(_) => Collection::Visits,
            Self::Place(p) => p.collection,
        }
    }

    /// The id of the record the row summarises.
    pub fn id(&self) -> RecordId {
        match self {
            Self::Case(c) => c.id,
            Self::Visit(v) => v.id,
            Self::Place(p) => p.id,
        }
    }
}

/// The key of a row in the device's list order (IndexedDB store `order`, which holds the row
/// under it):
/// a live case under `c/…`, a live visit under `v/…`, newest first (then the larger id, as the
/// lists' default order `cases::NEWEST` and `visits::NEWEST`), so the first page of a list is
/// the first keys of its prefix and how many live records it holds is the prefix's count. A
/// deleted case or visit is kept under `d/` (so the store's count equals the case and visit rows'
/// and a missing key is noticed); places have none.
pub fn order_key(row: &ListRow) -> Option<String> {
    let (prefix, time, id, deleted) = match row {
        ListRow::Case(c) => ("c", c.reported_at, c.id, c.deleted),
        ListRow::Visit(v) => ("v", v.visited_at, v.id, v.deleted),
        ListRow::Place(_) => return None,
    };
    Some(if deleted {
        format!("d/{prefix}/{id}")
    } else {
        // Inverted, fixed width: ascending keys are descending times, then descending ids
        // (a UUID orders as its 128-bit number).
        format!(
            "{prefix}/{:016x}/{:032x}",
            u64::MAX - time,
            u128::MAX - id.0.as_u128()
        )
    })
}

/// The prefix (before the `/`) of `c`'s live rows in the list order (`None`: `c` is not a long
/// list).
pub fn order_prefix(c: Collection) -> Option<&'static str> {
    match c {
        Collection::Cases => Some("c"),
        Collection::Visits => Some("v"),
        _ => None,
    }
}

/// How many live cases and visits the list order holds (its `c/` and `v/` keys), kept next to
/// them (IndexedDB `order`, key [`LIVE_COUNTS_KEY`]) and updated by every write that moves a key,
/// in that write's transaction: a list's count is then one read, where IndexedDB's `count()`
/// walks every key of its range (46,800 visit keys took most of a second).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCounts {
    pub cases: u64,
    pub visits: u64,
}

/// The key of [`LiveCounts`] in the list order: outside every prefix's range (`#` sorts before
/// `c`, `d` and `v`).
pub const LIVE_COUNTS_KEY: &str = "#live";

impl LiveCounts {
    /// The counts of `rows` (places and deleted rows count for nothing).
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a ListRow>) -> Self {
        let mut n = Self::default();
        for row in rows {
            n.moved(None, order_key(row).as_deref());
        }
        n
    }

    /// A record's order key moved from `before` to `after` (either `None`: it had or has none).
    pub fn moved(&mut self, before: Option<&str>, after: Option<&str>) {
        if before == after {
            return;
        }
        if let Some(n) = before.and_then(|k| self.slot(k)) {
            *n = n.saturating_sub(1);
        }
        if let Some(n) = after.and_then(|k| self.slot(k)) {
            *n += 1;
        }
    }

    /// The count of the list whose order prefix is `prefix` ([`order_prefix`]).
    pub fn of_prefix(self, prefix: &str) -> u64 {
        match prefix {
            "c" => self.cases,
            "v" => self.visits,
            _ => 0,
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut u64> {
        if key.starts_with("c/") {
            Some(&mut self.cases)
        } else if key.starts_with("v/") {
            Some(&mut self.visits)
        } else {
            None
        }
    }
}

/// What the device can show of a long list before its whole index is built: the first rows in
/// the default order (newest first), the rows of the places they name, and how many live
/// records of the list it holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FirstRows {
    pub rows: Vec<ListRow>,
    pub places: Vec<ListRow>,
    pub total: usize,
}

/// The keys (`collection/id`, as the records') of the places a row names.
pub fn named_places(row: &ListRow) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |c: Collection, id: &str| {
        if !id.is_empty() {
            out.push(format!("{}/{id}", c.as_str()));
        }
    };
    match row {
        ListRow::Case(c) => add(Collection::Grids, &c.grid),
        ListRow::Visit(v) => {
            add(Collection::Grids, &v.grid);
            add(Collection::Compounds, &v.compound);
        }
        ListRow::Place(_) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_order_keys_sort_newest_first_then_by_the_larger_id_and_set_deleted_rows_apart() {
        let ids = [
            0u128,
            1,
            7,
            u128::from(u64::MAX) + 3,
            u128::MAX - 1,
            1 << 127,
        ];
        let times = [0u64, 5, 5, 1_700_000_000_000, u64::MAX];
        let mut rows = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for (j, t) in times.iter().enumerate() {
                let r = crate::listing::fixture(
                    Collection::Cases,
                    *id ^ u128::try_from(i * 8 + j).expect("small"),
                    &json!({"reported_at": t}),
                );
                rows.push(ListRow::of(&r).expect("a case has a row"));
            }
        }
        let mut by_key = rows.clone();
        by_key.sort_by_key(|r| order_key(r).expect("a case has a key"));
        let mut expected = rows;
        let at = |r: &ListRow| match r {
            ListRow::Case(c) => c.reported_at,
            _ => unreachable!(),
        };
        expected.sort_by(|a, b| at(b).cmp(&at(a)).then(b.id().cmp(&a.id())));
        assert_eq!(by_key, expected);
        let visit = crate::listing::fixture(
            Collection::Visits,
            9,
            &json!({"visited_at": 3, "deleted": true}),
        );
        let key = order_key(&ListRow::of(&visit).expect("a visit has a row")).expect("a key");
        assert!(key.starts_with("d/v/"), "{key}");
        assert_eq!(order_prefix(Collection::Visits), Some("v"));
        assert_eq!(order_prefix(Collection::Grids), None);
    }

    #[test]
    fn the_live_counts_follow_keys_moved_deleted_and_restored() {
        let case = |id: u128, fields: serde_json::Value| {
            ListRow::of(&crate::listing::fixture(Collection::Cases, id, &fields)).expect("row")
        };
        let visit = ListRow::of(&crate::listing::fixture(
            Collection::Visits,
            9,
            &json!({"visited_at": 3}),
        ))
        .expect("row");
        let grid = ListRow::of(&crate::listing::fixture(
            Collection::Grids,
            8,
            &json!({"code": "G01"}),
        ))
        .expect("row");
        let (a, b) = (
            case(1, json!({"reported_at": 5})),
            case(2, json!({"reported_at": 6})),
        );
        let mut n = LiveCounts::of([&a, &b, &visit, &grid]);
        assert_eq!(
            n,
            LiveCounts {
                cases: 2,
                visits: 1
            }
        );
        let key = |r: &ListRow| order_key(r);
        // Moved within the list: no change; deleted: one fewer; restored: back.
        let later = case(1, json!({"reported_at": 50}));
        n.moved(key(&a).as_deref(), key(&later).as_deref());
        assert_eq!(
            n,
            LiveCounts {
                cases: 2,
                visits: 1
            }
        );
        let gone = case(1, json!({"reported_at": 50, "deleted": true}));
        n.moved(key(&later).as_deref(), key(&gone).as_deref());
        assert_eq!(
            n,
            LiveCounts {
                cases: 1,
                visits: 1
            }
        );
        n.moved(key(&gone).as_deref(), key(&later).as_deref());
        n.moved(None, key(&visit).as_deref());
        assert_eq!(
            n,
            LiveCounts {
                cases: 2,
                visits: 2
            }
        );
        assert_eq!(
            (n.of_prefix("c"), n.of_prefix("v"), n.of_prefix("d")),
            (2, 2, 0)
        );
        assert!(LIVE_COUNTS_KEY < "c/" && LIVE_COUNTS_KEY < "d/" && LIVE_COUNTS_KEY < "v/");
    }

    #[test]
    fn a_row_survives_its_stored_form_and_only_listed_collections_have_one() {
        let case = crate::listing::fixture(
            Collection::Cases,
            1,
            &json!({"title": "楼道堆物", "description": "占用 Fire Exit", "status": "reported", "grid": "g1", "reported_at": 5}),
        );
        let row = ListRow::of(&case).expect("a case has a row");
        let ListRow::Case(cells) = &row else {
            panic!("a case row")
        };
        assert_eq!(cells.hay, "楼道堆物\n占用 fire exit");
        assert_eq!(cells.deadline, None);
        let text = serde_json::to_string(&row).expect("encode");
        assert_eq!(serde_json::from_str::<ListRow>(&text).expect("decode"), row);
        let grid = crate::listing::fixture(
            Collection::Grids,
            2,
            &json!({"code": "G01", "name": "第一网格", "boundary": [[0, 0]]}),
        );
        let text =
            serde_json::to_string(&ListRow::of(&grid).expect("a grid has a row")).expect("encode");
        assert!(!text.contains("boundary"), "{text}");
        let household =
            crate::listing::fixture(Collection::Households, 3, &json!({"address": "1号"}));
        assert_eq!(ListRow::of(&household), None);
    }
}
