//! Benchmarks in the browser's wasm (issue 6): point-in-polygon over the demo city's 1,200 grids
//! and filtering 10,000 cases, as the app does them offline. Ignored in `cargo xtask test`; run
//! by `cargo xtask bench wasm`, which prints the figures. Nothing about time is asserted.
#![cfg(target_arch = "wasm32")]

use tongxin_shared::geo::GridIndex;
use tongxin_shared::merge::apply;
use tongxin_shared::query::CaseFilter;
use tongxin_shared::{
    ActorId, Collection, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    js_sys::Date::now()
}

/// A small deterministic generator (xorshift), so runs compare.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench wasm"]
fn point_in_polygon_over_the_demo_city() {
    let city = tongxin_demo::generate(tongxin_demo::Params {
        seed: 1,
        months: 0,
        now_ms: 1_732_500_000_000,
    });
    let mut grids = std::collections::BTreeMap::<RecordId, Record>::new();
    for op in city
        .ops
        .iter()
        .filter(|o| o.collection == Collection::Grids)
    {
        let r = grids
            .entry(op.record)
            .or_insert_with(|| Record::new(op.collection, op.record));
        apply(r, op);
    }
    let started = now();
    let (index, bad) = GridIndex::build(
        grids
            .values()
            .filter_map(|r| Some((r.id, r.str("code").unwrap_or_default(), r.get("boundary")?))),
    );
    let build_ms = now() - started;
    assert!(bad.is_empty());
    let n = 100_000;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let points: Vec<(f64, f64)> = (0..n)
        .map(|_| (100.10 + rng.next() * 0.20, 25.50 + rng.next() * 0.20))
        .collect();
    let started = now();
    let found = points
        .iter()
        .filter(|(x, y)| index.locate(*x, *y).is_some())
        .count();
    let ms = now() - started;
    console_log!(
        "BENCH pip: {} grids, index built in {build_ms:.1} ms; {n} lookups in {ms:.0} ms = {:.0} lookups/s ({found} inside a grid)",
        index.len(),
        f64::from(n) / (ms / 1000.0)
    );
}

/// Case `i` of the benches: realistic fields, reported a minute apart before `now_ms`.
fn case(i: u32, now_ms: u64) -> Record {
    let categories = ["environment", "infrastructure", "safety", "other"];
    let statuses = ["reported", "accepted", "in_progress", "resolved", "closed"];
    let words = [
        "路灯不亮",
        "垃圾堆放",
        "井盖缺失",
        "邻里噪音",
        "楼道堆物",
        "违章停车",
    ];
    let mut fields = std::collections::BTreeMap::new();
    let w = words[i as usize % words.len()];
    fields.insert("title".to_owned(), format!("{w} {i}").into());
    fields.insert(
        "description".to_owned(),
        format!("第{i}号：{w}，居民反映多次，请尽快处理").into(),
    );
    fields.insert("category".to_owned(), categories[i as usize % 4].into());
    fields.insert("status".to_owned(), statuses[i as usize % 5].into());
    fields.insert("reporter".to_owned(), format!("w{:04}", i % 50).into());
    fields.insert(
        "reported_at".to_owned(),
        (now_ms - u64::from(i) * 60_000).into(),
    );
    fields.insert(
        "deadline".to_owned(),
        (now_ms - u64::from(i % 7) * 86_400_000 + 3_600_000).into(),
    );
    let op = Op {
        id: OpId(uuid::Uuid::from_u128(u128::from(i) + 1)),
        actor: ActorId(uuid::Uuid::from_u128(1)),
        hlc: Hlc::new(now_ms, i),
        collection: Collection::Cases,
        record: RecordId(uuid::Uuid::from_u128(u128::from(i) + 1)),
        body: OpBody::Set { fields },
        schema: SCHEMA_VERSION,
    };
    let mut r = Record::new(Collection::Cases, op.record);
    apply(&mut r, &op);
    r
}

#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench wasm"]
fn filtering_ten_thousand_cases() {
    let now_ms: u64 = 1_732_500_000_000;
    let cases: Vec<Record> = (0..10_000u32).map(|i| case(i, now_ms)).collect();
    let filters = [
        (
            "text 路灯",
            CaseFilter {
                text: "路灯".into(),
                ..CaseFilter::default()
            },
        ),
        (
            "state + overdue",
            CaseFilter {
                status: Some(tongxin_shared::case::Status::Reported),
                overdue_only: true,
                ..CaseFilter::default()
            },
        ),
        (
            "mine + text",
            CaseFilter {
                mine: Some("w0007".into()),
                text: "居民 处理".into(),
                ..CaseFilter::default()
            },
        ),
    ];
    for (name, filter) in filters {
        let mut times = Vec::new();
        let mut shown = 0;
        for _ in 0..15 {
            let started = now();
            shown = filter.apply(cases.iter(), now_ms).len();
            times.push(now() - started);
        }
        times.sort_by(f64::total_cmp);
        console_log!(
            "BENCH filter 10,000 cases ({name}): median {:.1} ms, max {:.1} ms ({shown} shown)",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}

/// The changed records a view reads after a pull (the lists' index, the map's grid states, a
/// grid's panel): one `get` each — a transaction each — or all in one `get_many`, alternated.
#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench wasm"]
async fn reading_changed_records_one_by_one_or_together() {
    use tongxin_app::store::LocalStore;
    let store =
        tongxin_app::idb::IdbStore::open(&format!("tongxin-bench-{}", uuid::Uuid::new_v4()))
            .await
            .expect("open a fresh database");
    let now_ms: u64 = 1_732_500_000_000;
    let cases: Vec<Record> = (0..5_000u32).map(|i| case(i, now_ms)).collect();
    for (n, page) in cases.chunks(1_000).enumerate() {
        store
            .apply_pull(page, n as u64 + 1)
            .await
            .expect("store a page");
    }
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    for n in [10, 100, 1_000] {
        let keys: Vec<(Collection, RecordId)> = cases
            .iter()
            .step_by(cases.len() / n)
            .take(n)
            .map(|r| (r.collection, r.id))
            .collect();
        let (mut each, mut together) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let started = now();
            for (c, id) in &keys {
                assert!(store.get(*c, *id).await.expect("get").is_some());
            }
            each.push(now() - started);
            let started = now();
            let got = store.get_many(&keys).await.expect("get_many");
            together.push(now() - started);
            assert_eq!(got.iter().flatten().count(), n);
        }
        console_log!(
            "BENCH read {n} of 5,000 stored cases: one get each median {:.0} ms, get_many median {:.0} ms",
            median(each),
            median(together)
        );
    }
}

/// What an IndexedDB write costs per value and per byte: the same bytes (1,000 JSON texts of a
/// realistic case) put as 1,000 values, as 100 values of 10 texts, and as 10 of 100, each in
/// one read-write transaction into a fresh store; alternated, medians. The pull writes two values
/// per case; this says what packing records into fewer, larger values could save.
#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench wasm"]
async fn writing_the_same_bytes_as_many_or_few_values() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    let name = format!("tongxin-bench-values-{}", uuid::Uuid::new_v4());
    let db = Database::open(&name)
        .with_version(1u8)
        .with_on_upgrade_needed(|_, db| {
            db.create_object_store("values").build()?;
            Ok(())
        })
        .await
        .expect("open a fresh database");
    let now_ms: u64 = 1_732_500_000_000;
    let texts: Vec<String> = (0..1_000u32)
        .map(|i| serde_json::to_string(&case(i, now_ms)).expect("encode"))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let mut times: Vec<(usize, Vec<f64>)> =
        [1usize, 10, 100].iter().map(|&k| (k, Vec::new())).collect();
    for round in 0..7 {
        for (per_value, out) in &mut times {
            let values: Vec<String> = texts
                .chunks(*per_value)
                .map(|chunk| format!("[{}]", chunk.join(",")))
                .collect();
            let started = now();
            let tx = db
                .transaction("values")
                .with_mode(TransactionMode::Readwrite)
                .build()
                .expect("transaction");
            let store = tx.object_store("values").expect("store");
            for (i, v) in values.into_iter().enumerate() {
                drop(
                    store
                        .put(v)
                        .with_key(format!("{round}/{per_value}/{i:05}"))
                        .primitive()
                        .expect("put"),
                );
            }
            tx.commit().await.expect("commit");
            out.push(now() - started);
        }
    }
    for (per_value, out) in times {
        console_log!(
            "BENCH write {bytes} bytes of 1,000 cases as {} values ({per_value} per value): median {:.0} ms",
            1_000 / per_value,
            median(out)
        );
    }
}
