//! The compact encoding of a [`Record`] (protocol 2): how records are stored and moved, on the
//! wire, in IndexedDB and in the server's database. The merge keeps working on [`Record`]; this
//! is only its serde form.
//!
//! ```json
//! {"c":"cases","i":"<id>",
//!  "a":["<actor uuid>",…],            // the record's actors, sorted
//!  "s":[[wall_ms,counter,actor],…],   // its distinct stamps, sorted; actor indexes "a"
//!  "f":{"title":["…",0],…},          // each field: [value, stamp index]
//!  "l":{"<entry id>":[{…},1],…}}     // each log entry: [data, stamp index]; omitted if empty
//! ```
//!
//! Most fields of a record were written by one op, so they share one stamp: a field costs its
//! name, its value and a few bytes, where protocol 1 spelt out an HLC string and an actor UUID
//! for every field (~80 bytes). Reading accepts both shapes (protocol 1's
//! `{"collection","id","fields":{"f":{"value","stamp":{"hlc","actor"}}},"log"}` too), so data
//! written before the change reads unchanged and is rewritten in the new shape when next written.
//!
//! Stamps keep the bounds of the old fixed-width text (`MAX_WALL_MS`, `MAX_COUNTER`), so their
//! order is the same whichever shape carried them.

use crate::hlc::{Hlc, Stamp, MAX_COUNTER, MAX_WALL_MS};
use crate::ids::{ActorId, RecordId};
use crate::record::{FieldValue, LogEntry, Record};
use crate::schema::Collection;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use uuid::Uuid;

/// The actors and stamps of a record, each sorted and distinct: the tables fields point into.
struct Tables {
    actors: Vec<ActorId>,
    stamps: Vec<Stamp>,
}

impl Tables {
    fn of(record: &Record) -> Self {
        let mut stamps: Vec<Stamp> = record
            .fields
            .values()
            .map(|f| f.stamp)
            .chain(record.log.values().map(|e| e.stamp))
            .collect();
        stamps.sort_unstable();
        stamps.dedup();
        let mut actors: Vec<ActorId> = stamps.iter().map(|s| s.actor).collect();
        actors.sort_unstable();
        actors.dedup();
        Self { actors, stamps }
    }

    fn stamp_index(&self, stamp: &Stamp) -> usize {
        self.stamps.binary_search(stamp).unwrap_or_default()
    }
}

/// `[wall_ms, counter, actor index]`.
struct StampRow<'a>(&'a Stamp, &'a Tables);

impl Serialize for StampRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let actor = self
            .1
            .actors
            .binary_search(&self.0.actor)
            .unwrap_or_default();
        (self.0.hlc.wall_ms, self.0.hlc.counter, actor).serialize(s)
    }
}

struct StampRows<'a>(&'a Tables);

impl Serialize for StampRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.stamps.iter().map(|st| StampRow(st, self.0)))
    }
}

struct Fields<'a>(&'a BTreeMap<String, FieldValue>, &'a Tables);

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            self.0
                .iter()
                .map(|(k, f)| (k, (&f.value, self.1.stamp_index(&f.stamp)))),
        )
    }
}

struct Log<'a>(&'a BTreeMap<Uuid, LogEntry>, &'a Tables);

impl Serialize for Log<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            self.0
                .iter()
                .map(|(k, e)| (k, (&e.data, self.1.stamp_index(&e.stamp)))),
        )
    }
}

/// Writes the record's entries into `map` (also used by `PulledRecord`, whose `seq` comes
/// first in the same object).
pub(crate) fn serialize_entries<M: SerializeMap>(
    record: &Record,
    map: &mut M,
) -> Result<(), M::Error> {
    let tables = Tables::of(record);
    map.serialize_entry("c", &record.collection)?;
    map.serialize_entry("i", &record.id)?;
    map.serialize_entry("a", &tables.actors)?;
    map.serialize_entry("s", &StampRows(&tables))?;
    map.serialize_entry("f", &Fields(&record.fields, &tables))?;
    if !record.log.is_empty() {
        map.serialize_entry("l", &Log(&record.log, &tables))?;
    }
    Ok(())
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        serialize_entries(self, &mut map)?;
        map.end()
    }
}

/// A field as read: compact (`[value, stamp index]`) or protocol 1's `{"value","stamp"}`.
enum FieldWire {
    Compact(Value, usize),
    Full(FieldValue),
}

/// A log entry as read: compact (`[data, stamp index]`) or protocol 1's `{"stamp","data"}`.
enum EntryWire {
    Compact(Map<String, Value>, usize),
    Full(LogEntry),
}

/// Reads `[payload, index]` or a protocol 1 object, for fields and log entries alike.
struct EitherVisitor<P, F>(PhantomData<(P, F)>);

impl<'de, P: Deserialize<'de>, F: Deserialize<'de>> Visitor<'de> for EitherVisitor<P, F> {
    type Value = Result<(P, usize), F>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("[value, stamp index] or {\"value\", \"stamp\"}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let payload: P = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let index: usize = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(Ok((payload, index)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        F::deserialize(de::value::MapAccessDeserializer::new(map)).map(Err)
    }
}

impl<'de> Deserialize<'de> for FieldWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match d.deserialize_any(EitherVisitor::<Value, FieldValue>(PhantomData))? {
                Ok((value, i)) => Self::Compact(value, i),
                Err(full) => Self::Full(full),
            },
        )
    }
}

impl<'de> Deserialize<'de> for EntryWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match d.deserialize_any(EitherVisitor::<Map<String, Value>, LogEntry>(PhantomData))? {
                Ok((data, i)) => Self::Compact(data, i),
                Err(full) => Self::Full(full),
            },
        )
    }
}

/// The keys of a record object, in either shape, plus a pulled record's `seq`.
#[derive(Deserialize)]
#[serde(field_identifier)]
enum Key {
    #[serde(rename = "c", alias = "collection")]
    Collection,
    #[serde(rename = "i", alias = "id")]
    Id,
    #[serde(rename = "a")]
    Actors,
    #[serde(rename = "s")]
    Stamps,
    #[serde(rename = "f", alias = "fields")]
    Fields,
    #[serde(rename = "l", alias = "log")]
    Log,
    #[serde(rename = "seq")]
    Seq,
    #[serde(other)]
    Other,
}

/// A JSON object's entries in the order written (a record's fields or log entries), read
/// without building a map first.
struct Entries<K, V>(Vec<(K, V)>);

impl<K: Ord, W> Entries<K, W> {
    /// The map of the entries, each value made by `value`. Collected, not inserted one by one:
    /// a map built from sorted entries (as written) is built in one pass, and a repeated key
    /// keeps its last value, as inserting would.
    fn resolve<V, E>(self, value: impl Fn(W) -> Result<V, E>) -> Result<BTreeMap<K, V>, E> {
        self.0
            .into_iter()
            .map(|(k, w)| Ok((k, value(w)?)))
            .collect()
    }
}

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
            type Value = Entries<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// Reads a record's map, in either shape; `seq` is read when present (a pulled record).
pub(crate) struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = (Option<u64>, Record);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut collection: Option<Collection> = None;
        let mut id: Option<RecordId> = None;
        let mut actors: Vec<ActorId> = Vec::new();
        let mut rows: Vec<(u64, u32, usize)> = Vec::new();
        let mut fields: Entries<String, FieldWire> = Entries::default();
        let mut log: Entries<Uuid, EntryWire> = Entries::default();
        let mut seq = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Collection => collection = Some(map.next_value()?),
                Key::Id => id = Some(map.next_value()?),
                Key::Actors => actors = map.next_value()?,
                Key::Stamps => rows = map.next_value()?,
                Key::Fields => fields = map.next_value()?,
                Key::Log => log = map.next_value()?,
                Key::Seq => seq = Some(map.next_value()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let collection = collection.ok_or_else(|| de::Error::missing_field("c"))?;
        let id = id.ok_or_else(|| de::Error::missing_field("i"))?;
        let stamps = rows
            .into_iter()
            .map(|(wall_ms, counter, actor)| {
                if wall_ms > MAX_WALL_MS || counter > MAX_COUNTER {
                    return Err(de::Error::custom(format!(
                        "stamp out of range: {wall_ms}-{counter}"
                    )));
                }
                let actor = *actors.get(actor).ok_or_else(|| {
                    de::Error::custom(format!("actor index {actor} out of range"))
                })?;
                Ok(Stamp {
                    hlc: Hlc::new(wall_ms, counter),
                    actor,
                })
            })
            .collect::<Result<Vec<_>, A::Error>>()?;
        let stamp = |i: usize| {
            stamps
                .get(i)
                .copied()
                .ok_or_else(|| de::Error::custom(format!("stamp index {i} out of range")))
        };
        let fields = fields.resolve(|f| {
            Ok(match f {
                FieldWire::Compact(value, i) => FieldValue {
                    value,
                    stamp: stamp(i)?,
                },
                FieldWire::Full(f) => f,
            })
        })?;
        let log = log.resolve(|e| {
            Ok(match e {
                EntryWire::Compact(data, i) => LogEntry {
                    data,
                    stamp: stamp(i)?,
                },
                EntryWire::Full(e) => e,
            })
        })?;
        Ok((
            seq,
            Record {
                collection,
                id,
                fields,
                log,
            },
        ))
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor).map(|(_, r)| r)
    }
}

/// Reads a pulled record (`seq` and the record in one object).
pub(crate) fn deserialize_pulled<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<(u64, Record), D::Error> {
    let (seq, record) = d.deserialize_map(RecordVisitor)?;
    Ok((seq.ok_or_else(|| de::Error::missing_field("seq"))?, record))
}

/// The record in protocol 1's readable shape (`{"collection","id","fields":{"f":{"value",
/// "stamp":{"hlc","actor"}}},"log"}`): what tests and tools print and compare, never stored.
pub fn readable(record: &Record) -> Value {
    let fields: Map<String, Value> = record
        .fields
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                serde_json::json!({ "value": f.value, "stamp": f.stamp }),
            )
        })
        .collect();
    let log: Map<String, Value> = record
        .log
        .iter()
        .map(|(k, e)| {
            (
                k.to_string(),
                serde_json::json!({ "stamp": e.stamp, "data": e.data }),
            )
        })
        .collect();
    serde_json::json!({
        "collection": record.collection,
        "id": record.id,
        "fields": fields,
        "log": log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::PulledRecord;
    use proptest::prelude::*;
    use serde_json::json;

    fn stamp_strategy() -> impl Strategy<Value = Stamp> {
        (0..=MAX_WALL_MS, 0..=MAX_COUNTER, 0u128..4).prop_map(|(w, c, a)| Stamp {
            hlc: Hlc::new(w, c),
            actor: ActorId(Uuid::from_u128(a)),
        })
    }

    fn value_strategy() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,12}".prop_map(Value::String),
            prop::collection::vec(any::<i32>(), 0..3).prop_map(|v| json!(v)),
            ("[a-z]{1,4}", "\\PC{0,6}").prop_map(|(k, v)| json!({ k: v })),
        ]
    }

    fn record_strategy() -> impl Strategy<Value = Record> {
        (
            any::<u128>(),
            prop::collection::btree_map("[a-z_]{1,10}", (value_strategy(), stamp_strategy()), 0..8),
            prop::collection::btree_map(
                any::<u128>(),
                (
                    prop::collection::btree_map("[a-z]{1,5}", value_strategy(), 0..3),
                    stamp_strategy(),
                ),
                0..4,
            ),
        )
            .prop_map(|(id, fields, log)| Record {
                collection: Collection::Cases,
                id: RecordId(Uuid::from_u128(id)),
                fields: fields
                    .into_iter()
                    .map(|(k, (value, stamp))| (k, FieldValue { value, stamp }))
                    .collect(),
                log: log
                    .into_iter()
                    .map(|(k, (data, stamp))| {
                        let data = data.into_iter().collect();
                        (Uuid::from_u128(k), LogEntry { stamp, data })
                    })
                    .collect(),
            })
    }

    fn protocol1(r: &Record) -> Value {
        readable(r)
    }

    proptest! {
        #[test]
        fn every_record_reads_back_the_same(r in record_strategy()) {
            let text = serde_json::to_string(&r).unwrap();
            let back: Record = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&back, &r);
            // Deterministic: equal records give equal bytes.
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
            let pulled = PulledRecord { seq: 7, record: r.clone() };
            let back: PulledRecord = serde_json::from_str(&serde_json::to_string(&pulled).unwrap()).unwrap();
            prop_assert_eq!(back, pulled);
        }

        #[test]
        fn protocol1_records_read_as_before(r in record_strategy()) {
            let back: Record = serde_json::from_value(protocol1(&r)).unwrap();
            prop_assert_eq!(back, r);
        }

        #[test]
        fn merging_decoded_records_equals_merging_the_originals(a in record_strategy(), b in record_strategy()) {
            let mut b = b;
            b.id = a.id;
            let decode = |r: &Record| serde_json::from_str::<Record>(&serde_json::to_string(r).unwrap()).unwrap();
            let mut direct = a.clone();
            crate::merge::merge_record(&mut direct, &b);
            let mut decoded = decode(&a);
            crate::merge::merge_record(&mut decoded, &decode(&b));
            prop_assert_eq!(decoded, direct);
        }
    }

    fn case() -> Record {
        let stamp = Stamp {
            hlc: Hlc::new(1_732_500_000_000, 3),
            actor: ActorId(Uuid::from_u128(0xA)),
        };
        let later = Stamp {
            hlc: Hlc::new(1_732_500_100_000, 0),
            actor: ActorId(Uuid::from_u128(0xB)),
        };
        let mut r = Record::new(Collection::Cases, RecordId(Uuid::from_u128(0xCA5E)));
        for (k, v, s) in [
            ("title", json!("楼道堆物"), stamp),
            ("category", json!("safety"), stamp),
            ("status", json!("accepted"), later),
        ] {
            r.fields.insert(k.into(), FieldValue { value: v, stamp: s });
        }
        r
    }

    #[test]
    fn fields_written_by_one_op_share_one_stamp() {
        let text = serde_json::to_string(&case()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"c":"cases","i":"00000000-0000-0000-0000-00000000ca5e","#,
                r#""a":["00000000-0000-0000-0000-00000000000a","00000000-0000-0000-0000-00000000000b"],"#,
                r#""s":[[1732500000000,3,0],[1732500100000,0,1]],"#,
                r#""f":{"category":["safety",0],"status":["accepted",1],"title":["楼道堆物",0]}}"#
            )
        );
        let old = serde_json::to_string(&protocol1(&case())).unwrap();
        assert!(
            text.len() * 3 < old.len() * 2,
            "{} vs {} bytes",
            text.len(),
            old.len()
        );
    }

    #[test]
    fn fields_in_any_order_are_sorted_and_a_repeated_name_keeps_its_last_value() {
        let text = concat!(
            r#"{"c":"cases","i":"00000000-0000-0000-0000-00000000ca5e","#,
            r#""a":["00000000-0000-0000-0000-00000000000a"],"s":[[1,0,0],[2,0,0]],"#,
            r#""f":{"title":["a",0],"category":["c",0],"title":["b",1]},"#,
            r#""l":{"00000000-0000-0000-0000-000000000002":[{"n":2},1],"#,
            r#""00000000-0000-0000-0000-000000000001":[{"n":1},0]}}"#
        );
        let r: Record = serde_json::from_str(text).unwrap();
        let names: Vec<&str> = r.fields.keys().map(String::as_str).collect();
        assert_eq!(names, ["category", "title"]);
        assert_eq!(r.str("title"), Some("b"));
        assert_eq!(r.fields["title"].stamp.hlc.wall_ms, 2);
        let entries: Vec<u128> = r.log.keys().map(Uuid::as_u128).collect();
        assert_eq!(entries, [1, 2]);
        assert_eq!(r.log[&Uuid::from_u128(2)].data["n"], 2);
    }

    #[test]
    fn broken_tables_are_errors_not_panics() {
        let base = concat!(
            r#"{"c":"cases","i":"00000000-0000-0000-0000-00000000ca5e","#,
            r#""a":["00000000-0000-0000-0000-00000000000a"],"#
        );
        for (tail, want) in [
            (
                r#""s":[[1,0,0]],"f":{"t":["x",1]}}"#,
                "stamp index 1 out of range",
            ),
            (
                r#""s":[[1,0,1]],"f":{"t":["x",0]}}"#,
                "actor index 1 out of range",
            ),
            (
                r#""s":[[1000000000000000,0,0]],"f":{}}"#,
                "stamp out of range",
            ),
            (r#""s":[[1,1000000,0]],"f":{}}"#, "stamp out of range"),
            (r#""s":[[1,0,0]],"f":{"t":["x",0,9]}}"#, "invalid length"),
            (
                r#""s":[[1,0,0]],"l":{"00000000-0000-0000-0000-000000000001":[{},4]}}"#,
                "stamp index 4",
            ),
        ] {
            let err = serde_json::from_str::<Record>(&format!("{base}{tail}")).unwrap_err();
            assert!(err.to_string().contains(want), "{tail}: {err}");
        }
        let err = serde_json::from_str::<Record>(r#"{"i":"00000000-0000-0000-0000-00000000ca5e"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("missing field `c`"), "{err}");
        let err = serde_json::from_str::<PulledRecord>(&serde_json::to_string(&case()).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("missing field `seq`"), "{err}");
    }
}
