//! Serve-then-decode (issue 12, item 5): whatever the server accepts, every device can read.
//! Records at every limit the schema accepts — the deepest values, the largest entries, the most
//! entries, the biggest record — are built from ops that pass `validate_op` and
//! `check_record_limits`, serialised exactly as the server's pull answers
//! (`wire::PullResponse`), decoded by the app's own decoder (gloo-net's `Response::json`, as
//! `sync::pull_all` does) and stored in IndexedDB. Raising a limit past what the decoder takes
//! makes this fail. Runs in headless Chromium:
//! `cargo test -p tongxin-app --target wasm32-unknown-unknown --test limits`.
#![cfg(target_arch = "wasm32")]

use gloo_net::http::Response;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tongxin_app::idb::IdbStore;
use tongxin_app::store::LocalStore;
use tongxin_shared::schema::{
    check_record_limits, record_bytes, validate_op, MAX_ENTRY_BYTES, MAX_LOG_ENTRIES,
    MAX_RECORD_BYTES, MAX_VALUE_DEPTH,
};
use tongxin_shared::wire::{PullResponse, PulledRecord};
use tongxin_shared::{
    merge, ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn op(n: u64, record: u128, body: OpBody) -> Op {
    Op {
        id: OpId(Uuid::from_u128(u128::from(n) << 64 | record)),
        actor: ActorId(Uuid::from_u128(7)),
        hlc: Hlc::new(1_764_000_000_000 + n, 0),
        collection: Collection::Cases,
        record: RecordId(Uuid::from_u128(record)),
        body,
        schema: SCHEMA_VERSION,
    }
}

fn append(n: u64, record: u128, data: Value) -> Op {
    let Value::Object(data) = data else {
        panic!("entry data is an object")
    };
    op(
        n,
        record,
        OpBody::Append {
            entry: Entry {
                id: Uuid::from_u128(u128::from(n) << 64 | record),
                data,
            },
        },
    )
}

/// Applies ops the way the server does: each must be valid and leave the record within limits.
fn build(record: u128, ops: &[Op]) -> Record {
    let mut r = Record::new(Collection::Cases, RecordId(Uuid::from_u128(record)));
    for op in ops {
        validate_op(op).unwrap_or_else(|e| panic!("the server would refuse this op: {e}"));
        merge::apply(&mut r, op);
        check_record_limits(&r)
            .unwrap_or_else(|e| panic!("the server would refuse this record: {e}"));
    }
    r
}

/// A value exactly `depth` levels deep: lists and objects in turn around a string.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("深"), |inner, level| {
        if level % 2 == 0 {
            json!([inner])
        } else {
            json!({ "k": inner })
        }
    })
}

fn title(n: u64, record: u128) -> Op {
    let mut fields = BTreeMap::new();
    fields.insert("title".to_owned(), json!("边界"));
    op(n, record, OpBody::Set { fields })
}

/// An entry whose serialised data is exactly `MAX_ENTRY_BYTES` (`{"note":"…"}` adds 11 bytes).
fn largest_entry(n: u64, record: u128) -> Op {
    append(
        n,
        record,
        json!({ "note": "x".repeat(MAX_ENTRY_BYTES - 11) }),
    )
}

/// The records at every accepted limit.
fn records_at_the_limits() -> Vec<Record> {
    // 1. The deepest value: an entry whose data nests to MAX_VALUE_DEPTH.
    let deepest = build(
        1,
        &[
            title(1, 1),
            append(2, 1, json!({ "note": nested(MAX_VALUE_DEPTH - 1) })),
        ],
    );
    // 2. The largest entries, as many as fit.
    let mut ops = vec![title(1, 2)];
    ops.extend((0..10).map(|i| largest_entry(2 + i, 2)));
    let largest_entries = build(2, &ops);
    // 3. The most entries.
    let mut ops = vec![title(1, 3)];
    ops.extend((0..MAX_LOG_ENTRIES as u64).map(|i| {
        append(
            2 + i,
            3,
            json!({ "action": "remind", "note": format!("第{i}次") }),
        )
    }));
    let most_entries = build(3, &ops);
    assert_eq!(most_entries.log.len(), MAX_LOG_ENTRIES);
    // 4. The biggest record: largest entries until the next would not fit, then one entry
    //    padded to fill the record to exactly MAX_RECORD_BYTES.
    let mut biggest = build(4, &[title(1, 4)]);
    let mut n = 2;
    loop {
        let next = largest_entry(n, 4);
        let mut trial = biggest.clone();
        merge::apply(&mut trial, &next);
        if check_record_limits(&trial).is_err() {
            break;
        }
        biggest = build_on(biggest, &next);
        n += 1;
    }
    let probe = append(n, 4, json!({ "note": "" }));
    let mut trial = biggest.clone();
    merge::apply(&mut trial, &probe);
    let room = MAX_RECORD_BYTES - record_bytes(&trial);
    biggest = build_on(biggest, &append(n, 4, json!({ "note": "x".repeat(room) })));
    assert_eq!(record_bytes(&biggest), MAX_RECORD_BYTES);
    vec![deepest, largest_entries, most_entries, biggest]
}

fn build_on(mut r: Record, op: &Op) -> Record {
    validate_op(op).unwrap_or_else(|e| panic!("the server would refuse this op: {e}"));
    merge::apply(&mut r, op);
    check_record_limits(&r).unwrap_or_else(|e| panic!("the server would refuse this record: {e}"));
    r
}

/// The body of a pull answer holding `records`, exactly as the server serialises it.
fn pull_body(records: &[Record]) -> String {
    let page = PullResponse {
        records: records
            .iter()
            .enumerate()
            .map(|(i, r)| PulledRecord {
                seq: i as u64 + 1,
                record: r.clone(),
            })
            .collect(),
        cursor: records.len() as u64,
        more: false,
        reset: false,
        dropped: Vec::new(),
        scope: "test".into(),
        server_time_ms: 1_764_000_000_000,
    };
    serde_json::to_string(&page).expect("serialise")
}

/// Decodes a pull answer the way the app's sync does: gloo-net's `Response::json`.
async fn app_decode(body: &str) -> Result<PullResponse, gloo_net::Error> {
    let res = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Some(body))
        .expect("a response");
    res.json::<PullResponse>().await
}

#[wasm_bindgen_test]
async fn records_at_every_limit_decode_in_the_app_and_store() {
    let records = records_at_the_limits();
    // One page per record (the way a page full of big records would arrive), then all at once.
    for r in &records {
        let page = app_decode(&pull_body(std::slice::from_ref(r)))
            .await
            .unwrap_or_else(|e| panic!("the app cannot decode record {}: {e}", r.id.0));
        assert_eq!(page.records[0].record, *r);
    }
    let page = app_decode(&pull_body(&records))
        .await
        .expect("the app decodes a page of records at the limits");
    let decoded: Vec<Record> = page.records.into_iter().map(|p| p.record).collect();
    assert_eq!(decoded, records);
    // And what the app does next: store them, read them back unchanged.
    let store = IdbStore::open(&format!("tongxin-limits-{}", Uuid::new_v4()))
        .await
        .expect("open");
    store
        .apply_pull(&decoded, page.cursor)
        .await
        .expect("store");
    for r in &records {
        let back = store.get(r.collection, r.id).await.expect("get");
        assert_eq!(back.as_ref(), Some(r));
    }
}

/// The test has teeth: the decoder it uses does refuse what issue 12 found accepted (entry data
/// nested 127 deep), so a depth limit raised that far would fail the test above.
#[wasm_bindgen_test]
async fn the_decoder_refuses_what_the_old_server_accepted() {
    let mut r = Record::new(Collection::Cases, RecordId(Uuid::from_u128(9)));
    let hostile = append(2, 9, json!({ "note": nested(126) }));
    assert_eq!(
        validate_op(&hostile).map_err(|e| e.code),
        Err("too_deep".to_owned()),
        "the server refuses it now"
    );
    merge::apply(&mut r, &hostile);
    let err = app_decode(&pull_body(&[r])).await;
    assert!(
        err.is_err(),
        "serde_json's recursion limit stops a page this deep"
    );
    // The margin: at the depth limit the decoder is still far from its own limit.
    let mut ok = Record::new(Collection::Cases, RecordId(Uuid::from_u128(10)));
    merge::apply(
        &mut ok,
        &append(2, 10, json!({ "note": nested(MAX_VALUE_DEPTH * 8) })),
    );
    assert!(app_decode(&pull_body(&[ok])).await.is_ok());
}
