//! The pure merge. Applying a set of ops in any order, with any duplicates, gives the same record;
//! merging two records is commutative, associative and idempotent. The property tests in
//! `tests/convergence.rs` check exactly that.

use crate::hlc::Stamp;
use crate::op::{Op, OpBody};
use crate::record::{FieldValue, LogEntry, Record};
use serde_json::Value;

/// Whether `new` should replace `old` for one field: the greater stamp wins; on an equal stamp
/// (only possible with a forged or buggy actor) the greater canonical JSON wins, so the result is
/// still deterministic.
fn wins(new_stamp: &Stamp, new_value: &Value, old: &FieldValue) -> bool {
    match new_stamp.cmp(&old.stamp) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => canonical(new_value) > canonical(&old.value),
    }
}

/// The canonical text of a value (serde_json keeps object keys sorted), for tie-breaks.
fn canonical(v: &Value) -> String {
    v.to_string()
}

/// Applies one op to a record. Returns whether the record changed.
///
/// The op must belong to this record (same collection and id); the caller checks that.
pub fn apply(record: &mut Record, op: &Op) -> bool {
    debug_assert_eq!(record.id, op.record);
    let stamp = op.stamp();
    match &op.body {
        OpBody::Set { fields } => {
            let mut changed = false;
            for (name, value) in fields {
                changed |= set_field(record, name, value, stamp);
            }
            changed
        }
        OpBody::Append { entry } => add_entry(
            record,
            entry.id,
            LogEntry {
                stamp,
                data: entry.data.clone(),
            },
        ),
    }
}

fn set_field(record: &mut Record, name: &str, value: &Value, stamp: Stamp) -> bool {
    match record.fields.get_mut(name) {
        Some(old) if !wins(&stamp, value, old) => false,
        Some(old) => {
            old.value = value.clone();
            old.stamp = stamp;
            true
        }
        None => {
            record.fields.insert(
                name.to_owned(),
                FieldValue {
                    value: value.clone(),
                    stamp,
                },
            );
            true
        }
    }
}

fn add_entry(record: &mut Record, id: uuid::Uuid, entry: LogEntry) -> bool {
    match record.log.get_mut(&id) {
        None => {
            record.log.insert(id, entry);
            true
        }
        // Entries are immutable; a second entry with the same id can only come from a buggy or
        // forged actor. Keep the greater one so every replica keeps the same.
        Some(old) => {
            let new_key = (entry.stamp, Value::Object(entry.data.clone()).to_string());
            let old_key = (old.stamp, Value::Object(old.data.clone()).to_string());
            if new_key > old_key {
                *old = entry;
                true
            } else {
                false
            }
        }
    }
}

/// Merges a whole record (e.g. from a pull) into a local one, field by field.
/// Returns whether `into` changed.
pub fn merge_record(into: &mut Record, other: &Record) -> bool {
    debug_assert_eq!(into.id, other.id);
    let mut changed = false;
    for (name, fv) in &other.fields {
        changed |= set_field(into, name, &fv.value, fv.stamp);
    }
    for (id, entry) in &other.log {
        changed |= add_entry(into, *id, entry.clone());
    }
    changed
}

/// Applies `op` to `record`, creating it if absent. Convenience for stores keyed by id.
pub fn apply_to_option(record: Option<Record>, op: &Op) -> (Record, bool) {
    let mut r = record.unwrap_or_else(|| Record::new(op.collection, op.record));
    let changed = apply(&mut r, op);
    (r, changed)
}

#[cfg(test)]
mod tests {
    /// The tie-break and the byte-identical convergence checks rely on `serde_json::Map` keeping
    /// keys sorted. If a dependency ever turns on serde_json's `preserve_order` feature (feature
    /// unification is workspace-wide), this fails instead of the merge silently depending on
    /// insertion order.
    #[test]
    fn json_objects_serialise_with_sorted_keys() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap();
        assert_eq!(super::canonical(&a), r#"{"a":2,"b":1}"#);
    }
}
