//! What one pull brought, told to the views once the pull ends (`Changes`): which records
//! changed, and the list rows the pages stored for them. Pure bookkeeping, tested natively.

use crate::listing::rows::ListRow;
use std::collections::HashSet;
use tongxin_shared::{Collection, Record, RecordId};

/// Beyond this many changed records a view re-reads everything anyway.
pub const MAX_TRACKED_CHANGES: usize = 20_000;

/// Collections whose records the map draws as places (outlines, points).
pub fn is_place(c: Collection) -> bool {
    matches!(
        c,
        Collection::Subdistricts
            | Collection::Communities
            | Collection::Grids
            | Collection::ServiceCentres
    )
}

/// What one pull brought, for the views: they re-read once per pull.
pub struct Seen {
    /// Records received (the badge's progress).
    pub received: usize,
    /// Whether any record was dropped.
    pub dropped: bool,
    /// Whether places may be among the changes.
    pub places: bool,
    /// The records changed or dropped (`None`: too many to track).
    pub changed: Option<Vec<(Collection, RecordId)>>,
    /// The list rows the pages stored, in order, while `changed` is tracked (none of a record
    /// a later drop named: that one is read again like any changed record).
    pub rows: Vec<ListRow>,
    /// The device's data version when the pull started (`SyncSignals::version`).
    pub since: u64,
}

impl Seen {
    /// A pull starting at the device's data version `version`.
    pub fn since(version: u64) -> Self {
        Self {
            received: 0,
            dropped: false,
            places: false,
            changed: Some(Vec::new()),
            rows: Vec::new(),
            since: version,
        }
    }

    /// The pull ends at data version `version`: its rows are not handed over when anything
    /// else changed the device's data meanwhile (a local edit, another tab) — a row a page
    /// stored may be older than that write — and the records are read back instead.
    pub fn settle(&mut self, version: u64) {
        if version != self.since {
            self.rows = Vec::new();
        }
    }

    /// A page received: its records and the records it drops (before they are stored).
    pub fn note(&mut self, records: &[Record], dropped: &[(Collection, RecordId)]) {
        self.received += records.len();
        self.dropped |= !dropped.is_empty();
        self.places |= records.iter().any(|r| is_place(r.collection))
            || dropped.iter().any(|(c, _)| is_place(*c));
        if let Some(list) = &mut self.changed {
            // A dropped record kept for its waiting ops is re-read like a changed one.
            list.extend(records.iter().map(|r| (r.collection, r.id)));
            list.extend(dropped.iter().copied());
            if list.len() > MAX_TRACKED_CHANGES {
                self.changed = None;
                self.rows = Vec::new();
            }
        }
    }

    /// The rows a page stored (`LocalStore::apply_page`), whose drops came after its records.
    pub fn wrote(&mut self, rows: Vec<ListRow>, dropped: &[(Collection, RecordId)]) {
        if self.changed.is_none() {
            return;
        }
        self.rows.extend(rows);
        if !dropped.is_empty() {
            let gone: HashSet<&(Collection, RecordId)> = dropped.iter().collect();
            self.rows
                .retain(|r| !gone.contains(&(r.collection(), r.id())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongxin_shared::merge::apply;
    use tongxin_shared::{ActorId, Hlc, Op, OpBody, OpId, SCHEMA_VERSION};
    use uuid::Uuid;

    fn case(n: u128, title: &str) -> Record {
        let id = RecordId(Uuid::from_u128(n));
        let mut r = Record::new(Collection::Cases, id);
        let serde_json::Value::Object(fields) = serde_json::json!({ "title": title }) else {
            unreachable!()
        };
        apply(
            &mut r,
            &Op {
                id: OpId(Uuid::from_u128(1000 + n)),
                actor: ActorId(Uuid::from_u128(1)),
                hlc: Hlc::new(10, 0),
                collection: Collection::Cases,
                record: id,
                body: OpBody::Set {
                    fields: fields.into_iter().collect(),
                },
                schema: SCHEMA_VERSION,
            },
        );
        r
    }

    fn ids(seen: &Seen) -> Vec<RecordId> {
        seen.rows.iter().map(ListRow::id).collect()
    }

    #[test]
    fn the_rows_told_are_those_stored_and_not_dropped_since() {
        let mut seen = Seen::since(0);
        let page = [case(1, "a"), case(2, "b")];
        seen.note(&page, &[]);
        seen.wrote(page.iter().filter_map(ListRow::of).collect(), &[]);
        // The next page drops case 1 and writes case 3: 1's row is no longer told (it is read
        // back as a changed record, and found gone).
        let dropped = [(Collection::Cases, RecordId(Uuid::from_u128(1)))];
        let next = [case(3, "c")];
        seen.note(&next, &dropped);
        seen.wrote(next.iter().filter_map(ListRow::of).collect(), &dropped);
        assert_eq!(
            ids(&seen),
            [RecordId(Uuid::from_u128(2)), RecordId(Uuid::from_u128(3))]
        );
        assert_eq!(seen.changed.as_ref().map(Vec::len), Some(4));
    }

    #[test]
    fn a_write_during_the_pull_tells_no_rows() {
        let page = [case(1, "a")];
        let pull = |version_at_end: u64| {
            let mut seen = Seen::since(7);
            seen.note(&page, &[]);
            seen.wrote(page.iter().filter_map(ListRow::of).collect(), &[]);
            seen.settle(version_at_end);
            seen
        };
        let seen = pull(7);
        assert_eq!(seen.rows.len(), 1);
        assert_eq!(seen.changed.map(|c| c.len()), Some(1));
        // Something else changed the data meanwhile: the records are told, their rows are not.
        let seen = pull(8);
        assert!(seen.rows.is_empty());
        assert_eq!(seen.changed.map(|c| c.len()), Some(1));
    }

    #[test]
    fn too_many_changes_tell_no_rows() {
        let mut seen = Seen::since(0);
        let page = [case(1, "a")];
        seen.note(&page, &[]);
        seen.wrote(page.iter().filter_map(ListRow::of).collect(), &[]);
        let many: Vec<(Collection, RecordId)> = (0..=MAX_TRACKED_CHANGES as u128)
            .map(|n| (Collection::Cases, RecordId(Uuid::from_u128(n + 10))))
            .collect();
        seen.note(&[], &many);
        seen.wrote(Vec::new(), &many);
        assert!(seen.changed.is_none());
        assert!(seen.rows.is_empty());
        // Nor later ones: views re-read everything.
        seen.wrote(page.iter().filter_map(ListRow::of).collect(), &[]);
        assert!(seen.rows.is_empty());
    }
}
