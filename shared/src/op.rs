//! Ops: the unit of change. A user action produces one or more ops; the app applies them locally
//! and queues them in its outbox; the server validates, applies and acknowledges each one once.

use crate::hlc::{Hlc, Stamp};
use crate::ids::{ActorId, OpId, RecordId};
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One change to one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub actor: ActorId,
    pub hlc: Hlc,
    pub collection: Collection,
    pub record: RecordId,
    pub body: OpBody,
    /// Schema version the op was written against.
    pub schema: u16,
}

/// What an op does to its record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpBody {
    /// Sets fields; each field is merged last-writer-wins by the op's stamp. A tombstone is the
    /// field `deleted = true`.
    Set { fields: BTreeMap<String, Value> },
    /// Adds an immutable entry to the record's append-only log (case timeline, attendance…).
    Append { entry: Entry },
}

/// An immutable log entry. Entries never conflict: merging logs is set union by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: Uuid,
    pub data: Map<String, Value>,
}

impl Op {
    /// The stamp every value written by this op carries.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            hlc: self.hlc,
            actor: self.actor,
        }
    }
}
