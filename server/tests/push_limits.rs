//! Valid-looking ops near every limit, through the server's real push path (`RawPush` → intake
//! → `policy::plan` → the store) on a real server (port-0 listener, SQLite): for every
//! collection and every field of `policy::rules::RULES`, values at, just inside and just past
//! each limit (text lengths, ranges, list lengths, geometry bytes, entry bytes, nesting depth,
//! control characters, multi-byte text), by an administrator and by a warden.
//!
//! Asserted for every push: an HTTP 200 with one verdict per op, in order, naming the op; a
//! refusal carries a code of `wire::REFUSAL_CODES` and a message; an op the pure schema check
//! refuses is refused with that code, and a value past a limit is never stored; nothing
//! stored before is lost (every field keeps a value at least as new, every entry stays); an
//! acknowledged op's values are stored (or beaten by a newer stamp). Records at the limits
//! themselves (1,000 entries, 512 KiB) are the deterministic tests at the bottom.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::{TestApp, TestDb};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};
use std::cell::Cell;
use std::collections::BTreeMap;
use tongxin_shared::case::Deadlines;
use tongxin_shared::policy::rules::RULES;
use tongxin_shared::policy::testkit::{city_ops, id, C11, G111, G112, SD1};
use tongxin_shared::schema::{
    validate_op, FieldType, MAX_ENTRY_BYTES, MAX_LOG_ENTRIES, MAX_RECORD_BYTES, MAX_VALUE_DEPTH,
};
use tongxin_shared::wire::REFUSAL_CODES;
use tongxin_shared::{
    ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Text of exactly `n` characters drawn from `alphabet`.
fn text(n: usize, alphabet: &'static [char]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet), n..=n)
        .prop_map(|cs| cs.into_iter().collect())
}

/// Plain, multi-byte (3 and 4 bytes in UTF-8), allowed controls, refused controls.
const PLAIN: &[char] = &['a', 'Z', '0', ' ', '-'];
const WIDE: &[char] = &['同', '心', '网', '格', '🏠', '👵', 'é', '\u{301}'];
const ALLOWED_CONTROL: &[char] = &['\t', '\n', '\r', 'x'];
const REFUSED_CONTROL: &[char] = &['\u{0}', '\u{1}', '\u{1f}', '\u{7f}', 'x'];

/// A string near the limit `max` (in characters).
fn text_near(max: usize) -> BoxedStrategy<String> {
    let lens = prop::sample::select(vec![0, 1, max.saturating_sub(1), max, max + 1]);
    (
        lens,
        prop::sample::select(vec![PLAIN, WIDE, ALLOWED_CONTROL, REFUSED_CONTROL]),
    )
        .prop_flat_map(|(n, alphabet)| text(n, alphabet))
        .boxed()
}

fn uuid_value() -> BoxedStrategy<Value> {
    prop_oneof![
        prop::sample::select(vec![SD1, C11, G111, G112, 900, 4242])
            .prop_map(|n| json!(id(n).to_string())),
        Just(json!("not-a-uuid")),
        Just(json!(Uuid::nil().to_string().to_uppercase())),
        Just(json!(7)),
    ]
    .boxed()
}

fn ring(points: usize, lon: f64, lat: f64) -> Value {
    let mut ring: Vec<Value> = (0..points.max(3))
        .map(|i| {
            let a = i as f64 / points.max(3) as f64 * std::f64::consts::TAU;
            json!([lon + 0.001 * a.cos(), lat + 0.001 * a.sin()])
        })
        .collect();
    ring.push(ring[0].clone());
    Value::Array(ring)
}

/// A polygon whose text is about `bytes` long.
fn polygon_of_bytes(bytes: usize) -> Value {
    // One position is about 40 bytes of JSON.
    json!({"type": "Polygon", "coordinates": [ring(bytes / 40, 100.2, 25.6)]})
}

/// A value near the limits of a field of type `ty`.
fn value_near(ty: FieldType) -> BoxedStrategy<Value> {
    let v = match ty {
        FieldType::Text(max) => text_near(max).prop_map(Value::String).boxed(),
        FieldType::Int(lo, hi) => {
            prop::sample::select(vec![lo, hi, lo.saturating_sub(1), hi.saturating_add(1), 0, i64::MIN])
                .prop_map(|n| json!(n))
                .boxed()
        }
        FieldType::Float(lo, hi) => prop::sample::select(vec![lo, hi, lo - 1e-9, hi + 1.0, f64::MAX])
            .prop_map(|n| json!(n))
            .boxed(),
        FieldType::Bool => prop_oneof![any::<bool>().prop_map(|b| json!(b)), Just(json!("true"))].boxed(),
        FieldType::Enum(options) => prop_oneof![
            4 => prop::sample::select(options.to_vec()).prop_map(|s| json!(s)),
            1 => prop::sample::select(options.to_vec()).prop_map(|s| json!(s.to_uppercase())),
        ]
        .boxed(),
        FieldType::Ref(_) => uuid_value(),
        FieldType::Refs(_, max) => prop::sample::select(vec![0, max, max + 1])
            .prop_map(|n| json!((0..n).map(|i| id(5000 + i as u128).to_string()).collect::<Vec<_>>()))
            .boxed(),
        FieldType::Time => prop::sample::select(vec![
            0,
            now_ms() as i64,
            tongxin_shared::hlc::MAX_WALL_MS as i64,
            tongxin_shared::hlc::MAX_WALL_MS as i64 + 1,
            -1,
        ])
        .prop_map(|n| json!(n))
        .boxed(),
        FieldType::Date => prop::sample::select(vec!["2026-11-29", "2024-02-29", "2026-02-30", "2026-1-1", "9999-12-31"])
            .prop_map(|s| json!(s))
            .boxed(),
        FieldType::Point => prop::sample::select(vec![
            json!([180.0, 90.0]),
            json!([-180.0, -90.0, 0.0]),
            json!([180.000_001, 0.0]),
            json!([100.2, 25.6, -1.0]),
            json!([100.2, 25.6, 5.0, 1.0]),
            json!([100.2]),
        ])
        .boxed(),
        FieldType::Geometry(max) => prop::sample::select(vec![
            polygon_of_bytes(max - 2_000),
            polygon_of_bytes(max + 2_000),
            json!({"type": "MultiPolygon", "coordinates": [[ring(4, 100.0, 25.0)], [ring(4, 101.0, 26.0)]]}),
            json!({"type": "Polygon", "coordinates": [[[181.0, 0.0], [0.0, 0.0], [0.0, 1.0], [181.0, 0.0]]]}),
            json!({"type": "Point", "coordinates": [100.0, 25.0]}),
        ])
        .boxed(),
        FieldType::Photos(max) => prop::sample::select(vec![0, 1, max, max + 1])
            .prop_map(|n| json!((0..n).map(|i| format!("{i:064x}")).collect::<Vec<_>>()))
            .boxed(),
        FieldType::TextList(max, each) => (
            prop::sample::select(vec![0, 1, max, max + 1]),
            text_near(each),
        )
            .prop_map(|(n, s)| json!(vec![s; n]))
            .boxed(),
    };
    prop_oneof![9 => v, 1 => Just(Value::Null)].boxed()
}

/// A value nested `depth` levels deep (arrays and objects alternating).
fn nested(depth: usize) -> Value {
    let mut v = json!("leaf");
    for d in 0..depth {
        v = if d % 2 == 0 {
            json!([v])
        } else {
            json!({"k": v})
        };
    }
    v
}

/// Timeline entry data near the limits: bytes around `MAX_ENTRY_BYTES`, depth around
/// `MAX_VALUE_DEPTH`, control characters in keys and values.
fn entry_data() -> BoxedStrategy<Map<String, Value>> {
    prop_oneof![
        prop::sample::select(vec![
            100,
            MAX_ENTRY_BYTES - 200,
            MAX_ENTRY_BYTES - 40,
            MAX_ENTRY_BYTES + 10
        ])
        .prop_map(|n| {
            let mut m = Map::new();
            m.insert("action".into(), json!("note"));
            m.insert("text".into(), json!("记".repeat(n / 3)));
            m
        }),
        prop::sample::select(vec![
            MAX_VALUE_DEPTH - 1,
            MAX_VALUE_DEPTH,
            MAX_VALUE_DEPTH + 1
        ])
        .prop_map(|d| {
            let mut m = Map::new();
            m.insert("action".into(), json!("note"));
            m.insert("deep".into(), nested(d));
            m
        }),
        (text_near(20), text_near(40)).prop_map(|(k, v)| {
            let mut m = Map::new();
            m.insert("action".into(), json!("note"));
            m.insert(if k.is_empty() { "k".into() } else { k }, json!(v));
            m
        }),
    ]
    .boxed()
}

/// Records the generated ops write to: the city's own hierarchy records, and a few leaves.
fn record_for(c: Collection, n: u8) -> RecordId {
    match c {
        Collection::Subdistricts => id([SD1, 3000][usize::from(n % 2)]),
        Collection::Communities => id([C11, 3001][usize::from(n % 2)]),
        Collection::Grids => id([G111, G112, 3002][usize::from(n % 3)]),
        // Distinct ids per collection: a pull is keyed by record id.
        _ => id(4000 + 10 * c as u128 + u128::from(n % 4)),
    }
}

/// One op on one collection: a set of up to four of its fields (each near a limit; a grid or
/// community reference usually a real one of the city so that the op lands in an area), or a
/// timeline entry.
fn arb_op() -> impl Strategy<Value = Op> {
    // Summaries take no field from any op (the adversarial suites send them anyway).
    let collections: Vec<Collection> = Collection::ALL
        .into_iter()
        .filter(|c| !c.fields().is_empty())
        .collect();
    (prop::sample::select(collections), any::<u8>(), any::<bool>()).prop_flat_map(|(c, n, append)| {
        let body = if append && c.has_log() {
            (0u128..40, entry_data())
                .prop_map(|(e, data)| OpBody::Append {
                    entry: Entry { id: Uuid::from_u128(0xE000 + e), data },
                })
                .boxed()
        } else {
            let names: Vec<(&'static str, FieldType)> = RULES
                .iter()
                .filter(|(rc, _, _)| *rc == c)
                .map(|(_, f, _)| (*f, c.field(f).expect("every RULES field is in the schema").ty))
                .collect();
            let most = names.len().min(4);
            prop::sample::subsequence(names, 1..=most)
                .prop_flat_map(move |fs| {
                    fs.into_iter()
                        .map(|(f, ty)| {
                            let v = match f {
                                "grid" => prop_oneof![3 => Just(json!(id(G111).to_string())), 1 => value_near(ty)].boxed(),
                                "community" => prop_oneof![3 => Just(json!(id(C11).to_string())), 1 => value_near(ty)].boxed(),
                                _ => value_near(ty),
                            };
                            v.prop_map(move |v| (f.to_owned(), v))
                        })
                        .collect::<Vec<_>>()
                })
                .prop_map(|pairs| OpBody::Set { fields: pairs.into_iter().collect() })
                .boxed()
        };
        body.prop_map(move |body| Op {
            id: OpId(Uuid::now_v7()),
            actor: ActorId::NIL,
            hlc: Hlc::new(now_ms(), 0),
            collection: c,
            record: record_for(c, n),
            body,
            schema: SCHEMA_VERSION,
        })
    })
}

/// Every record the administrator pulls.
async fn everything(app: &TestApp) -> BTreeMap<RecordId, Record> {
    app.pull_as(&app.client)
        .await
        .into_values()
        .map(|(_, v)| {
            let r: Record = serde_json::from_value(v).unwrap();
            (r.id, r)
        })
        .collect()
}

fn nothing_lost(before: &BTreeMap<RecordId, Record>, after: &BTreeMap<RecordId, Record>) {
    for (rid, old) in before {
        let new = after
            .get(rid)
            .unwrap_or_else(|| panic!("record {rid} was lost"));
        for (name, fv) in &old.fields {
            let now = new
                .fields
                .get(name)
                .unwrap_or_else(|| panic!("{rid}.{name} was lost"));
            assert!(
                now.stamp >= fv.stamp,
                "{rid}.{name} went back to an older stamp"
            );
        }
        for (e, entry) in &old.log {
            assert_eq!(
                new.log.get(e),
                Some(entry),
                "entry {e} of {rid} changed or vanished"
            );
        }
    }
}

/// Pushes `ops` as `client` and checks every verdict; returns the acknowledged ops.
/// Entries name their author (`by`) as the pusher, as the app writes them.
async fn push_and_check(
    app: &TestApp,
    (client, actor, username): &(reqwest::Client, ActorId, &str),
    ops: &[Op],
) -> Vec<Op> {
    let actor = *actor;
    let ops: Vec<Op> = ops
        .iter()
        .cloned()
        .map(|mut o| {
            o.actor = actor;
            if let OpBody::Append { entry } = &mut o.body {
                entry.data.entry("by").or_insert_with(|| json!(username));
            }
            o
        })
        .collect();
    let res = client
        .post(format!("{}/api/v1/sync/push", app.base))
        .json(&json!({"protocol": 2, "actor": actor, "ops": ops}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "a push of valid-looking ops is judged, not failed"
    );
    let body: Value = res.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), ops.len(), "every op gets a verdict");
    let mut acked = Vec::new();
    for (op, r) in ops.iter().zip(results) {
        assert_eq!(r["op_id"], json!(op.id), "verdicts come in the order sent");
        let schema = validate_op(op);
        if let Some(code) = r["rejected"]["code"].as_str() {
            assert!(REFUSAL_CODES.contains(&code), "unknown refusal code {code}");
            assert!(!r["rejected"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty());
            if let Err(invalid) = schema {
                assert_eq!(code, invalid.code, "the schema's reason is the one sent");
            }
        } else {
            assert!(
                r["seq"].as_u64().is_some_and(|s| s > 0),
                "an ack has a seq: {r}"
            );
            assert!(
                schema.is_ok(),
                "an op the schema refuses was acknowledged: {schema:?}"
            );
            acked.push(op.clone());
        }
    }
    acked
}

/// An acknowledged op's values are stored, unless a newer stamp holds the field.
fn acked_are_stored(acked: &[Op], after: &BTreeMap<RecordId, Record>) {
    for op in acked {
        let r = after
            .get(&op.record)
            .unwrap_or_else(|| panic!("acked record {} missing", op.record));
        match &op.body {
            OpBody::Set { fields } => {
                for (name, value) in fields {
                    let fv = r
                        .fields
                        .get(name)
                        .unwrap_or_else(|| panic!("acked field {name} missing"));
                    assert!(
                        fv.stamp >= op.stamp() || fv.value == *value,
                        "acked {}.{name} not stored",
                        op.record
                    );
                }
            }
            OpBody::Append { entry } => {
                assert!(r.log.contains_key(&entry.id), "acked entry missing");
            }
        }
    }
}

#[test]
fn ops_near_every_limit_are_judged_and_nothing_stored_is_lost() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::sqlite());
    let app = rt.block_on(TestApp::spawn(&db.url));
    let city = city_ops();
    rt.block_on(app.state.store.commit_as(
        &city,
        &vec![None; city.len()],
        &Deadlines::default(),
        now_ms(),
    ))
    .unwrap();
    let (warden, _) =
        rt.block_on(app.user("w1", "warden", json!({"grids": [id(G111).to_string()]})));
    let pushers = [
        (
            app.client.clone(),
            ActorId(Uuid::from_u128(0xad)),
            common::ROOT,
        ),
        (warden, ActorId(Uuid::from_u128(0x1)), "w1"),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (any::<bool>(), prop::collection::vec(arb_op(), 1..12));
    let acked_total = Cell::new(0usize);
    let refused_total = Cell::new(0usize);
    runner
        .run(&strategy, |(as_warden, ops)| {
            let pusher = &pushers[usize::from(as_warden)];
            rt.block_on(async {
                let before = everything(&app).await;
                let acked = push_and_check(&app, pusher, &ops).await;
                acked_total.set(acked_total.get() + acked.len());
                refused_total.set(refused_total.get() + ops.len() - acked.len());
                let after = everything(&app).await;
                nothing_lost(&before, &after);
                acked_are_stored(&acked, &after);
            });
            Ok(())
        })
        .unwrap();
    // The generator reaches both sides of the limits.
    let (acked, refused) = (acked_total.get(), refused_total.get());
    assert!(
        acked > 20 && refused > 20,
        "acked {acked}, refused {refused}"
    );
}

/// A server with the test city, the administrator's pusher and a fresh project in community C11.
async fn with_project(
    db: &TestDb,
    project: u128,
) -> (TestApp, (reqwest::Client, ActorId, &'static str)) {
    let app = TestApp::spawn(&db.url).await;
    let city = city_ops();
    app.state
        .store
        .commit_as(
            &city,
            &vec![None; city.len()],
            &Deadlines::default(),
            now_ms(),
        )
        .await
        .unwrap();
    let admin = (
        app.client.clone(),
        ActorId(Uuid::from_u128(0xad)),
        common::ROOT,
    );
    let create = Op {
        id: OpId(Uuid::now_v7()),
        actor: admin.1,
        hlc: Hlc::new(now_ms(), 0),
        collection: Collection::Projects,
        record: id(project),
        body: OpBody::Set {
            fields: [
                ("community".to_owned(), json!(id(C11).to_string())),
                ("title".to_owned(), json!("楼道改造")),
            ]
            .into_iter()
            .collect(),
        },
        schema: SCHEMA_VERSION,
    };
    assert_eq!(push_and_check(&app, &admin, &[create]).await.len(), 1);
    (app, admin)
}

/// Pushes one op as the pusher (its entry signed by them) and returns its verdict.
async fn push_one(app: &TestApp, pusher: &(reqwest::Client, ActorId, &str), mut op: Op) -> Value {
    op.actor = pusher.1;
    if let OpBody::Append { entry } = &mut op.body {
        entry.data.insert("by".into(), json!(pusher.2));
    }
    let res = app.push_as(&pusher.0, &[op]).await;
    res["results"][0].clone()
}

fn note(project: u128, n: u128, text: String) -> Op {
    let mut data = Map::new();
    data.insert("action".into(), json!("note"));
    data.insert("text".into(), json!(text));
    Op {
        id: OpId(Uuid::now_v7()),
        actor: ActorId::NIL,
        hlc: Hlc::new(now_ms(), 0),
        collection: Collection::Projects,
        record: id(project),
        body: OpBody::Append {
            entry: Entry {
                id: Uuid::from_u128(0xE0_0000 + n),
                data,
            },
        },
        schema: SCHEMA_VERSION,
    }
}

/// A timeline filled to `MAX_LOG_ENTRIES` in one push of 1,000 ops: every entry acknowledged,
/// the next refused with `too_many_entries`, and the record still pulled whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_fills_to_its_entry_limit_and_stays_readable() {
    let db = TestDb::sqlite().await;
    let (app, admin) = with_project(&db, 7001).await;
    let ops: Vec<Op> = (0..MAX_LOG_ENTRIES as u128 - 1)
        .map(|n| note(7001, n, format!("第{n}条")))
        .collect();
    assert_eq!(push_and_check(&app, &admin, &ops).await.len(), ops.len());
    let last = note(7001, 5000, "one more".into());
    assert_eq!(push_and_check(&app, &admin, &[last]).await.len(), 1);
    let before = everything(&app).await;
    assert_eq!(before[&id(7001)].log.len(), MAX_LOG_ENTRIES);
    let past = note(7001, 5001, "past the limit".into());
    assert!(push_and_check(&app, &admin, &[past]).await.is_empty());
    let res = push_one(&app, &admin, note(7001, 5002, "again".into())).await;
    assert_eq!(res["rejected"]["code"], json!("too_many_entries"));
    nothing_lost(&before, &everything(&app).await);
}

/// A record grown by 16 KiB entries up to `MAX_RECORD_BYTES`: every entry that fits is
/// acknowledged, the first that does not is refused with `record_too_large`, and the record
/// (about 512 KiB) is still pulled whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_grows_to_its_byte_limit_and_stays_readable() {
    let db = TestDb::sqlite().await;
    let (app, admin) = with_project(&db, 7002).await;
    // Entries just under MAX_ENTRY_BYTES of JSON (each 记 is three bytes).
    let big = |n| note(7002, n, "记".repeat((MAX_ENTRY_BYTES - 200) / 3));
    let mut refused_at = None;
    for n in 0..64u128 {
        let res = push_one(&app, &admin, big(n)).await;
        if let Some(code) = res["rejected"]["code"].as_str() {
            assert_eq!(code, "record_too_large");
            refused_at = Some(n);
            break;
        }
    }
    let n = refused_at.expect("a record past 512 KiB is refused");
    let stored = everything(&app).await;
    let record = &stored[&id(7002)];
    assert_eq!(
        record.log.len() as u128,
        n,
        "every entry that fit is stored"
    );
    let bytes = tongxin_shared::schema::record_bytes(record);
    assert!(
        bytes <= MAX_RECORD_BYTES && bytes > MAX_RECORD_BYTES - MAX_ENTRY_BYTES,
        "the record stops within one entry of the limit: {bytes} bytes"
    );
}
