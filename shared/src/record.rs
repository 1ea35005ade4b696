//! Records: `(collection, id, fields, log)`, every field value stamped.

use crate::hlc::Stamp;
use crate::ids::RecordId;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A field's current value and the stamp of the write that set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldValue {
    pub value: Value,
    pub stamp: Stamp,
}

/// An entry of a record's append-only log, with the stamp of the op that added it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub stamp: Stamp,
    pub data: Map<String, Value>,
}

/// The merged state of one record. Maps are ordered, so two equal records serialise to the same
/// bytes (the convergence tests compare bytes). Its serde form is the compact encoding of
/// [`crate::compact`].
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub collection: Collection,
    pub id: RecordId,
    pub fields: BTreeMap<String, FieldValue>,
    pub log: BTreeMap<Uuid, LogEntry>,
}

impl Record {
    /// An empty record: what an op creates when it is the first one seen for `id`.
    pub fn new(collection: Collection, id: RecordId) -> Self {
        Self {
            collection,
            id,
            fields: BTreeMap::new(),
            log: BTreeMap::new(),
        }
    }

    /// The value of a field, if set.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).map(|f| &f.value)
    }

    /// A text field, if set and a string.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }

    /// Whether the record carries a tombstone.
    pub fn is_deleted(&self) -> bool {
        self.get("deleted")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The greatest stamp anywhere in the record (its last change).
    pub fn last_stamp(&self) -> Option<Stamp> {
        let fields = self.fields.values().map(|f| f.stamp);
        let log = self.log.values().map(|e| e.stamp);
        fields.chain(log).max()
    }

    /// The fields as a plain JSON object without stamps (what screens render).
    pub fn plain(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    /// The log entries in stamp order (a case's timeline).
    pub fn timeline(&self) -> Vec<(&Uuid, &LogEntry)> {
        let mut v: Vec<_> = self.log.iter().collect();
        v.sort_by(|a, b| a.1.stamp.cmp(&b.1.stamp).then(a.0.cmp(b.0)));
        v
    }
}

/// A record with plain field values, all under one stamp: for tests of code that reads records.
#[cfg(test)]
pub(crate) fn test_record(c: Collection, n: u128, fields: &serde_json::Value) -> Record {
    use crate::hlc::{Hlc, Stamp};
    let mut r = Record::new(c, RecordId(Uuid::from_u128(n)));
    let stamp = Stamp {
        hlc: Hlc::new(1, 0),
        actor: crate::ids::ActorId(Uuid::nil()),
    };
    for (k, v) in fields.as_object().into_iter().flatten() {
        r.fields.insert(
            k.clone(),
            FieldValue {
                value: v.clone(),
                stamp,
            },
        );
    }
    r
}
