//! Realistic records for benchmarks (natively and in the browser's wasm): what a warden's
//! report makes of a case, as `cargo xtask bench pull` writes them through the API. Not used by
//! the app or the server; the linker drops it from their builds.

use crate::merge::apply;
use crate::op::{Entry, Op, OpBody};
use crate::wire::{PullResponse, PulledRecord};
use crate::{ActorId, Collection, Hlc, OpId, Record, RecordId, SCHEMA_VERSION};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Case `i` as a report leaves it: every field a report sets (a resident's name and phone, a
/// position, a deadline) and two timeline entries, written at `now_ms` by one device.
pub fn reported_case(i: u32, now_ms: u64) -> Record {
    let actor = ActorId(Uuid::from_u128(2));
    let id = RecordId(Uuid::from_u128(0x2000_0000 + u128::from(i)));
    let op = |serial: u32, body: OpBody| Op {
        id: OpId(Uuid::from_u128(0x1000_0000 + u128::from(serial))),
        actor,
        hlc: Hlc::new(now_ms, serial),
        collection: Collection::Cases,
        record: id,
        body,
        schema: SCHEMA_VERSION,
    };
    let fields: BTreeMap<String, Value> = [
        ("grid", json!("00000000-0000-4000-8000-000000000101")),
        ("title", json!(format!("路灯损坏 {i}"))),
        (
            "description",
            json!("三号楼门口路灯不亮，夜间出行不便，已有老人摔倒，请尽快维修。"),
        ),
        ("category", json!("infrastructure")),
        ("source", json!("patrol")),
        ("status", json!("reported")),
        ("reporter", json!("wa")),
        ("reported_at", json!(now_ms)),
        ("deadline", json!(now_ms + 24 * 3_600_000)),
        (
            "position",
            json!([
                100.2299 + f64::from(i % 100) * 1e-5,
                25.6065 + f64::from(i % 97) * 1e-5,
                8
            ]),
        ),
        ("resident_name", json!("李秀英")),
        ("resident_phone", json!("13987654321")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let entry = |n: u128, data: Value| OpBody::Append {
        entry: Entry {
            id: Uuid::from_u128(0x4000_0000 + n),
            data: match data {
                Value::Object(map) => map,
                _ => serde_json::Map::new(),
            },
        },
    };
    let report = json!({"action": "report", "from": null, "to": "reported", "by": "wa"});
    let note = json!({"action": "note", "by": "wa", "text": "已电话联系居民，明早带电工到现场。"});
    let mut r = Record::new(Collection::Cases, id);
    for o in [
        op(3 * i, OpBody::Set { fields }),
        op(3 * i + 1, entry(2 * u128::from(i), report)),
        op(3 * i + 2, entry(2 * u128::from(i) + 1, note)),
    ] {
        apply(&mut r, &o);
    }
    r
}

/// The server's answer to a pull of `n` such cases (seqs 1..=n, more to come), as text.
pub fn pull_answer_of_cases(n: u32, now_ms: u64) -> String {
    let page = PullResponse {
        records: (1..=n)
            .map(|i| PulledRecord {
                seq: u64::from(i),
                record: reported_case(i, now_ms),
            })
            .collect(),
        cursor: u64::from(n),
        more: true,
        reset: false,
        dropped: Vec::new(),
        scope: "s".to_owned(),
        server_time_ms: now_ms,
    };
    serde_json::to_string(&page).unwrap_or_default()
}
