//! Benchmarks in the browser's wasm (issue 6): point-in-polygon over the demo city's 1,200 grids,
//! filtering 10,000 cases and reading a pull page, as the app does them. Ignored in `cargo xtask test`; run
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

/// Reading a pull page on the main thread, as every page of a sync is read
/// (`pull_page::judge`: the envelope, then each record): 1,000 realistic cases
/// (`samples::reported_case`), 15 times, the records dropped after each as the pull drops them.
#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench wasm"]
fn reading_a_pull_page_of_a_thousand_cases() {
    use tongxin_shared::pull_page::{judge, Step, PULL_LIMIT};
    let text = tongxin_shared::samples::pull_answer_of_cases(1_000, 1_764_000_000_000);
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = now();
        let Step::Apply { page, .. } = judge(&text, PULL_LIMIT) else {
            panic!("the page did not read");
        };
        assert_eq!(page.records.len(), 1_000);
        drop(page);
        times.push(now() - started);
    }
    times.sort_by(f64::total_cmp);
    console_log!(
        "BENCH read a pull page of 1,000 cases ({} KB): median {:.0} ms, min {:.0} ms, max {:.0} ms",
        text.len() / 1024,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
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

/// Which of `n` packs a record's id falls in (FNV-1a over its bytes: any id scheme spreads).
fn bucket(id: RecordId, n: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.0.as_bytes() {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    h % n
}

/// A fresh database with the object stores `stores`.
async fn fresh_db(
    prefix: &str,
    stores: &'static [&'static str],
) -> indexed_db_futures::database::Database {
    use indexed_db_futures::prelude::*;
    indexed_db_futures::database::Database::open(&format!("{prefix}-{}", uuid::Uuid::new_v4()))
        .with_version(1u8)
        .with_on_upgrade_needed(move |_, db| {
            for s in stores {
                db.create_object_store(s).build()?;
            }
            Ok(())
        })
        .await
        .expect("open a fresh database")
}

/// Puts `value` under `key`, not awaited (a failed put fails the commit).
fn put_value(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    key: &str,
    value: wasm_bindgen::JsValue,
) {
    use indexed_db_futures::prelude::*;
    drop(store.put(value).with_key(key).primitive().expect("put"));
}

/// A page's texts: record key, record JSON, order key, row JSON.
type Texts = (String, String, String, String);

/// Reads the packs `touched` names from `store`, sets the texts of their records (`field` 1:
/// the record, 3: the row) in them, and puts them back.
async fn repack(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    page: &[Texts],
    touched: &std::collections::BTreeMap<u32, Vec<usize>>,
    field: usize,
) {
    use indexed_db_futures::prelude::*;
    use wasm_bindgen::JsValue;
    let mut reads = Vec::new();
    for b in touched.keys() {
        reads.push(
            store
                .get::<JsValue, _, _>(format!("cases/{b:03}"))
                .primitive()
                .expect("get"),
        );
    }
    for ((b, members), read) in touched.iter().zip(reads) {
        let held: Option<JsValue> = read.await.expect("read");
        let obj: js_sys::Object = held
            .map(wasm_bindgen::JsCast::unchecked_into)
            .unwrap_or_default();
        for &i in members {
            let entry = &page[i];
            let value = if field == 1 { &entry.1 } else { &entry.3 };
            js_sys::Reflect::set(
                &obj,
                &JsValue::from_str(&entry.0[6..]),
                &JsValue::from_str(value),
            )
            .expect("set");
        }
        put_value(store, &format!("cases/{b:03}"), obj.into());
    }
}

/// One first sync of `pages` into a fresh database: `packs: None` as today (a value per record
/// and per row), `Some((n, rows))` with the records in `n` packs per collection (each a JS object
/// of record texts by id, read, updated and put back once per page that touches it), and the
/// rows too when `rows`. Returns ms.
async fn first_sync_into(pages: &[Vec<Texts>], packs: Option<(u32, bool)>) -> f64 {
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use wasm_bindgen::JsValue;
    const STORES: [&str; 4] = ["records", "order", "packs", "row_packs"];
    let db = fresh_db("tongxin-bench-packs", &STORES).await;
    let started = now();
    for page in pages {
        let tx = db
            .transaction(STORES)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("transaction");
        let store = |name: &str| tx.object_store(name).expect("store");
        let (records, order) = (store("records"), store("order"));
        let mut rows_packed = false;
        if let Some((n, rows_too)) = packs {
            // The packs this page touches, read together, updated, and put back.
            let mut touched: std::collections::BTreeMap<u32, Vec<usize>> =
                std::collections::BTreeMap::new();
            for (i, (key, ..)) in page.iter().enumerate() {
                let id = RecordId(uuid::Uuid::parse_str(&key[6..]).expect("id"));
                touched.entry(bucket(id, n)).or_default().push(i);
            }
            repack(&store("packs"), page, &touched, 1).await;
            if rows_too {
                repack(&store("row_packs"), page, &touched, 3).await;
                rows_packed = true;
            }
        }
        for (key, text, okey, row) in page {
            if packs.is_none() {
                put_value(&records, key, JsValue::from_str(text));
            }
            if !rows_packed {
                put_value(&order, okey, JsValue::from_str(row));
            }
        }
        tx.commit().await.expect("commit");
    }
    now() - started
}

/// A first sync staged, then packed: each page put as one value (its records' and rows' texts),
/// and at the end every staged page read back and the records and rows written into `n` packs
/// each, once. Returns ms.
async fn first_sync_staged(pages: &[Vec<Texts>], n: u32) -> f64 {
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use wasm_bindgen::JsValue;
    const STORES: [&str; 3] = ["staged", "packs", "row_packs"];
    let db = fresh_db("tongxin-bench-staged", &STORES).await;
    let started = now();
    for (p, page) in pages.iter().enumerate() {
        let tx = db
            .transaction("staged")
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("transaction");
        let value = js_sys::Array::new();
        for (key, text, okey, row) in page {
            for t in [key, text, okey, row] {
                value.push(&JsValue::from_str(t));
            }
        }
        put_value(
            &tx.object_store("staged").expect("store"),
            &format!("{p:06}"),
            value.into(),
        );
        tx.commit().await.expect("commit");
    }
    let tx = db
        .transaction(STORES)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .expect("transaction");
    let staged = tx.object_store("staged").expect("store");
    let all: Vec<JsValue> = staged
        .get_all::<JsValue>()
        .primitive()
        .expect("get all")
        .await
        .expect("read")
        .map(|v| v.expect("a staged page"))
        .collect();
    let records: Vec<js_sys::Object> = (0..n).map(|_| js_sys::Object::new()).collect();
    let rows: Vec<js_sys::Object> = (0..n).map(|_| js_sys::Object::new()).collect();
    for page in all {
        let page: js_sys::Array = wasm_bindgen::JsCast::unchecked_into(page);
        for i in (0..page.length()).step_by(4) {
            let key = page.get(i).as_string().expect("key");
            let id = RecordId(uuid::Uuid::parse_str(&key[6..]).expect("id"));
            let b = bucket(id, n) as usize;
            let id = JsValue::from_str(&key[6..]);
            js_sys::Reflect::set(&records[b], &id, &page.get(i + 1)).expect("set");
            js_sys::Reflect::set(&rows[b], &id, &page.get(i + 3)).expect("set");
        }
    }
    for (name, packs) in [("packs", records), ("row_packs", rows)] {
        let store = tx.object_store(name).expect("store");
        for (b, pack) in packs.into_iter().enumerate() {
            put_value(&store, &format!("cases/{b:03}"), pack.into());
        }
    }
    drop(staged.clear().expect("clear"));
    tx.commit().await.expect("commit");
    now() - started
}

/// A warden's first sync of 10,000 cases (10 pages of 1,000) written as today — two values per
/// case, its record and its list row — or with the records packed by id into 256 or 64 values
/// (each read and rewritten by every page that touches it: the catch of packing), and with the
/// rows packed as well. Alternated, fresh databases, medians of 3. Only the IndexedDB side of a
/// page: the JSON texts are made beforehand.
#[wasm_bindgen_test]
#[ignore = "benchmark: cargo xtask bench wasm"]
async fn a_first_sync_as_values_or_as_packs() {
    use tongxin_app::listing::rows::{order_key, ListRow};
    let now_ms: u64 = 1_732_500_000_000;
    let all: Vec<Texts> = (0..10_000u32)
        .map(|i| {
            let r = case(i, now_ms);
            let row = ListRow::of(&r).expect("a case has a row");
            (
                format!("cases/{}", r.id),
                serde_json::to_string(&r).expect("encode"),
                order_key(&row).expect("a live case has an order key"),
                serde_json::to_string(&row).expect("encode"),
            )
        })
        .collect();
    let pages: Vec<Vec<_>> = all.chunks(1_000).map(<[_]>::to_vec).collect();
    let variants: [(&str, Option<(u32, bool)>); 5] = [
        ("a value per record and per row (today)", None),
        ("records in 256 packs, a value per row", Some((256, false))),
        ("records in 64 packs, a value per row", Some((64, false))),
        ("records and rows in 256 packs each", Some((256, true))),
        ("records and rows in 64 packs each", Some((64, true))),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len() + 1];
    for _ in 0..3 {
        for (i, (_, packs)) in variants.iter().enumerate() {
            times[i].push(first_sync_into(&pages, *packs).await);
        }
        times[variants.len()].push(first_sync_staged(&pages, 64).await);
    }
    let labels = variants
        .iter()
        .map(|(label, _)| *label)
        .chain(["each page staged as one value, packed into 64 + 64 once at the end"]);
    for (label, mut t) in labels.zip(times) {
        t.sort_by(f64::total_cmp);
        console_log!(
            "BENCH first sync of 10,000 cases into IndexedDB, {label}: median {:.0} ms (all: {:.0}, {:.0}, {:.0} ms)",
            t[1], t[0], t[1], t[2]
        );
    }
}
