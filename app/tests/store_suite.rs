//! One `LocalStore` suite, one named test per behaviour, run against every backend (STYLE.md:
//! one trait, several backends, one suite — as `server/tests/store_suite.rs` does for the
//! server's `Store`). The memory backend runs natively (`cargo test -p tongxin-app --test
//! store_suite`); the IndexedDB backend in headless Chromium (`cargo test -p tongxin-app --target
//! wasm32-unknown-unknown --test store_suite`), each test on a fresh database.

use serde_json::json;
use tongxin_app::listing::rows::{FirstRows, ListRow, ROW_COLLECTIONS};
use tongxin_app::store::{LocalStore, StoreError, META_CURSOR, META_SCOPE};
use tongxin_shared::merge::apply;
use tongxin_shared::{
    ActorId, Collection, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;

fn op_in(c: Collection, n: u128, record: u128, hlc: u64, fields: serde_json::Value) -> Op {
    let serde_json::Value::Object(m) = fields else {
        panic!("fields must be an object")
    };
    Op {
        id: OpId(Uuid::from_u128(n)),
        actor: ActorId(Uuid::from_u128(1)),
        hlc: Hlc::new(hlc, 0),
        collection: c,
        record: RecordId(Uuid::from_u128(record)),
        body: OpBody::Set {
            fields: m.into_iter().collect(),
        },
        schema: SCHEMA_VERSION,
    }
}

/// A case op: op id `n`, record `record`, clock reading `hlc`.
fn op(n: u128, record: u128, hlc: u64, fields: serde_json::Value) -> Op {
    op_in(Collection::Cases, n, record, hlc, fields)
}

fn rid(n: u128) -> RecordId {
    RecordId(Uuid::from_u128(n))
}

fn pulled(n: u128, record: u128, hlc: u64, fields: serde_json::Value) -> Record {
    let mut r = Record::new(Collection::Cases, rid(record));
    apply(&mut r, &op(n, record, hlc, fields));
    r
}

/// Each record's JSON as a pull answer carries it (with its `seq`), for `stage_page`.
fn sent(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::to_string(&tongxin_shared::wire::PulledRecord {
                seq: 1000 + i as u64,
                record: r.clone(),
            })
            .expect("encode")
        })
        .collect()
}

/// `stage_page` with each record's JSON as sent.
async fn stage_sent<S: LocalStore>(
    s: &S,
    records: &[Record],
    cursor: u64,
) -> Result<Vec<ListRow>, StoreError> {
    let texts = sent(records);
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    s.stage_page(records, &texts, cursor).await
}

async fn case<S: LocalStore>(s: &S, record: u128) -> Option<Record> {
    s.get(Collection::Cases, rid(record)).await.expect("get")
}

async fn outbox_ids<S: LocalStore>(s: &S) -> Vec<OpId> {
    s.outbox(usize::MAX)
        .await
        .expect("outbox")
        .iter()
        .map(|o| o.id)
        .collect()
}

async fn commit_applies_the_ops_and_queues_them<S: LocalStore>(s: &S) {
    let a = op(
        1,
        100,
        10,
        json!({"title": "路灯不亮", "category": "infrastructure"}),
    );
    let b = op(2, 100, 11, json!({"description": "三号楼"}));
    s.commit_local(&[a.clone(), b.clone()])
        .await
        .expect("commit");
    let r = case(s, 100).await.expect("record");
    assert_eq!(r.str("title"), Some("路灯不亮"));
    assert_eq!(r.str("description"), Some("三号楼"));
    assert_eq!(r.fields["title"].stamp, a.stamp());
    assert_eq!(s.outbox_len().await.expect("len"), 2);
    assert_eq!(s.outbox(10).await.expect("outbox"), vec![a, b]);
}

async fn waiting_counts_records_not_ops<S: LocalStore>(s: &S) {
    s.commit_local(&[
        op(1, 100, 10, json!({"title": "a"})),
        op(2, 100, 11, json!({"description": "b"})),
        op(3, 101, 12, json!({"title": "c"})),
    ])
    .await
    .expect("commit");
    assert_eq!(s.outbox_len().await.expect("len"), 3);
    assert_eq!(s.waiting_records().await.expect("records"), 2);
}

async fn an_invalid_op_writes_nothing_of_its_batch<S: LocalStore>(s: &S) {
    let first = op(1, 100, 10, json!({"title": "kept"}));
    s.commit_local(std::slice::from_ref(&first))
        .await
        .expect("commit");
    let good = op(3, 101, 12, json!({"title": "ok"}));
    let also_good = op(4, 100, 13, json!({"title": "changed"}));
    let bad = op(5, 101, 14, json!({"title": 42}));
    assert!(matches!(
        s.commit_local(&[good, also_good, bad]).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(case(s, 101).await.is_none());
    assert_eq!(
        case(s, 100).await.expect("record").str("title"),
        Some("kept")
    );
    assert_eq!(outbox_ids(s).await, vec![first.id]);
}

async fn the_outbox_leaves_in_clock_order<S: LocalStore>(s: &S) {
    // Committed out of order: the later reading first.
    let late = op(1, 100, 20, json!({"title": "late"}));
    let early = op(2, 101, 10, json!({"title": "early"}));
    let same_ms = Op {
        hlc: Hlc::new(20, 1),
        ..op(3, 102, 0, json!({"title": "same ms, next counter"}))
    };
    s.commit_local(std::slice::from_ref(&late))
        .await
        .expect("commit");
    s.commit_local(std::slice::from_ref(&same_ms))
        .await
        .expect("commit");
    s.commit_local(std::slice::from_ref(&early))
        .await
        .expect("commit");
    assert_eq!(outbox_ids(s).await, vec![early.id, late.id, same_ms.id]);
    let two: Vec<OpId> = s
        .outbox(2)
        .await
        .expect("outbox")
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(two, vec![early.id, late.id], "a batch is the oldest ops");
}

async fn ack_removes_only_the_acknowledged_ops<S: LocalStore>(s: &S) {
    let a = op(1, 100, 10, json!({"title": "a"}));
    let b = op(2, 100, 11, json!({"description": "b"}));
    s.commit_local(&[a.clone(), b.clone()])
        .await
        .expect("commit");
    s.ack(&[a.id, OpId(Uuid::from_u128(999))])
        .await
        .expect("ack");
    assert_eq!(outbox_ids(s).await, vec![b.id]);
    // The record keeps what the acked op wrote.
    assert_eq!(case(s, 100).await.expect("record").str("title"), Some("a"));
}

async fn a_refused_op_is_kept_with_its_reason<S: LocalStore>(s: &S) {
    let a = op(1, 100, 10, json!({"title": "out of area"}));
    let b = op(2, 101, 11, json!({"title": "fine"}));
    s.commit_local(&[a.clone(), b.clone()])
        .await
        .expect("commit");
    s.reject(&a, "out_of_scope", "not in your area")
        .await
        .expect("reject");
    assert_eq!(outbox_ids(s).await, vec![b.id]);
    let rej = s.rejected().await.expect("rejected");
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].op, a);
    assert_eq!(
        (rej[0].code.as_str(), rej[0].message.as_str()),
        ("out_of_scope", "not in your area")
    );
    // The device still shows what the user wrote.
    assert_eq!(
        case(s, 100).await.expect("record").str("title"),
        Some("out of area")
    );
}

async fn retry_puts_a_refused_op_back_in_the_outbox<S: LocalStore>(s: &S) {
    let a = op(1, 100, 10, json!({"title": "again"}));
    s.commit_local(std::slice::from_ref(&a))
        .await
        .expect("commit");
    s.reject(&a, "x", "y").await.expect("reject");
    s.retry(a.id).await.expect("retry");
    assert!(s.rejected().await.expect("rejected").is_empty());
    assert_eq!(s.outbox(10).await.expect("outbox"), vec![a]);
    // Retrying an id that is not refused changes nothing.
    s.retry(OpId(Uuid::from_u128(999))).await.expect("retry");
    assert_eq!(s.outbox_len().await.expect("len"), 1);
}

async fn dismiss_forgets_a_refused_op_for_good<S: LocalStore>(s: &S) {
    let a = op(1, 100, 10, json!({"title": "a"}));
    let b = op(2, 101, 11, json!({"title": "b"}));
    s.commit_local(&[a.clone(), b.clone()])
        .await
        .expect("commit");
    s.reject(&a, "x", "y").await.expect("reject");
    s.reject(&b, "x", "y").await.expect("reject");
    s.dismiss(a.id).await.expect("dismiss");
    let left: Vec<OpId> = s
        .rejected()
        .await
        .expect("rejected")
        .iter()
        .map(|r| r.op.id)
        .collect();
    assert_eq!(left, vec![b.id]);
    assert_eq!(s.outbox_len().await.expect("len"), 0);
}

async fn a_clock_ahead_op_is_restamped_with_its_times<S: LocalStore>(s: &S) {
    // Reported by a clock running ahead: the report time moves with the stamp.
    let ahead = op(
        900,
        900,
        4_000_000_000_000,
        json!({"title": "ahead", "reported_at": 3_999_999_999_000_u64}),
    );
    s.commit_local(std::slice::from_ref(&ahead))
        .await
        .expect("commit");
    s.reject(&ahead, "clock_ahead", "ahead")
        .await
        .expect("reject");
    let now = Hlc::new(1_800_000_000_000, 0);
    s.restamp(ahead.id, now).await.expect("restamp");
    assert!(s.rejected().await.expect("rejected").is_empty());
    let out = s.outbox(10).await.expect("outbox");
    assert_eq!(out.len(), 1);
    let again = &out[0];
    assert_eq!((again.id, again.hlc), (ahead.id, now));
    let OpBody::Set { fields } = &again.body else {
        panic!("a set op")
    };
    assert_eq!(fields["reported_at"], json!(1_799_999_999_000_u64));
    assert_eq!(fields["title"], json!("ahead"));
    let r = case(s, 900).await.expect("record");
    assert_eq!(r.str("title"), Some("ahead"));
    assert_eq!(r.fields["title"].stamp, again.stamp());
    assert_eq!(r.get("reported_at"), Some(&json!(1_799_999_999_000_u64)));
}

async fn restamp_leaves_a_field_a_newer_op_wrote<S: LocalStore>(s: &S) {
    let ahead = op(
        1,
        100,
        4_000_000_000_000,
        json!({"title": "ahead", "description": "d"}),
    );
    // A later local edit of the title (same wrong clock, so an even later reading).
    let edit = op(2, 100, 4_000_000_000_001, json!({"title": "edited"}));
    s.commit_local(std::slice::from_ref(&ahead))
        .await
        .expect("commit");
    s.commit_local(std::slice::from_ref(&edit))
        .await
        .expect("commit");
    s.reject(&ahead, "clock_ahead", "ahead")
        .await
        .expect("reject");
    let now = Hlc::new(1_800_000_000_000, 0);
    s.restamp(ahead.id, now).await.expect("restamp");
    let r = case(s, 100).await.expect("record");
    assert_eq!(
        r.str("title"),
        Some("edited"),
        "the newer edit is not undone"
    );
    assert_eq!(r.fields["title"].stamp, edit.stamp());
    assert_eq!(r.fields["description"].stamp.hlc, now);
}

async fn a_pull_merges_field_by_field_and_keeps_the_cursor<S: LocalStore>(s: &S) {
    s.commit_local(&[op(1, 100, 50, json!({"title": "local newer"}))])
        .await
        .expect("commit");
    let remote = pulled(
        6,
        100,
        20,
        json!({"title": "remote older", "category": "safety"}),
    );
    let other = pulled(7, 102, 20, json!({"title": "from elsewhere"}));
    s.apply_pull(&[remote, other], 42).await.expect("pull");
    let r = case(s, 100).await.expect("record");
    assert_eq!(r.str("title"), Some("local newer"));
    assert_eq!(r.str("category"), Some("safety"));
    assert_eq!(
        case(s, 102).await.expect("record").str("title"),
        Some("from elsewhere")
    );
    assert_eq!(
        s.meta_get(META_CURSOR).await.expect("meta").as_deref(),
        Some("42")
    );
    // A newer pulled value wins over an older local one; the outbox is untouched.
    s.apply_pull(&[pulled(8, 100, 60, json!({"title": "remote newer"}))], 43)
        .await
        .expect("pull");
    assert_eq!(
        case(s, 100).await.expect("record").str("title"),
        Some("remote newer")
    );
    assert_eq!(
        s.meta_get(META_CURSOR).await.expect("meta").as_deref(),
        Some("43")
    );
    assert_eq!(s.outbox_len().await.expect("len"), 1);
}

/// A large page (a first sync's, or catching up) is merged with what the device holds, record by
/// record, whichever way the store finds what it holds: new records are stored as pulled, pulled
/// and local ones keep their fields, and a page spread over many more stored records than it
/// has (past what one scan of the keys reads) still finds every one of them.
async fn a_large_page_merges_with_every_record_the_device_holds<S: LocalStore>(s: &S) {
    let first: Vec<Record> = (1..=1200)
        .map(|n| pulled(10_000 + n, n, 10, json!({"category": "safety"})))
        .collect();
    s.apply_pull(&first, 1).await.expect("first page");
    // Unsent work on three records of the next page (one the server never sent) and one not.
    let local = [590, 1179, 1500, 3];
    for (i, n) in local.into_iter().enumerate() {
        s.commit_local(&[op(20_000 + i as u128, n, 15, json!({"assignee": "local"}))])
            .await
            .expect("commit");
    }
    // 65 records spread over the 1,200 stored ones (every 19th, and 1500).
    let spread: Vec<u128> = (0..64).map(|k| 1 + 19 * k).chain([1500]).collect();
    let second: Vec<Record> = spread
        .iter()
        .map(|&n| pulled(30_000 + n, n, 20, json!({"title": "pulled"})))
        .collect();
    s.apply_pull(&second, 2).await.expect("second page");
    for &n in &spread {
        let r = case(s, n).await.expect("record");
        assert_eq!(r.str("title"), Some("pulled"), "record {n}");
        let category = (n <= 1200).then_some("safety");
        assert_eq!(r.str("category"), category, "record {n}");
        let status = local.contains(&n).then_some("local");
        assert_eq!(r.str("assignee"), status, "record {n}");
    }
    assert_eq!(
        case(s, 3).await.expect("record").str("assignee"),
        Some("local")
    );
    assert_eq!(s.count(Collection::Cases).await.expect("count"), 1201);
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
}

async fn count_and_list_are_per_collection<S: LocalStore>(s: &S) {
    s.commit_local(&[
        op(1, 100, 10, json!({"title": "a"})),
        op(2, 101, 11, json!({"title": "b"})),
        op_in(Collection::Visits, 3, 200, 12, json!({"notes": "v"})),
    ])
    .await
    .expect("commit");
    assert_eq!(s.count(Collection::Cases).await.expect("count"), 2);
    assert_eq!(s.list(Collection::Cases).await.expect("list").len(), 2);
    assert_eq!(s.count(Collection::Visits).await.expect("count"), 1);
    let visits = s.list(Collection::Visits).await.expect("list");
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].id, rid(200));
    assert_eq!(s.count(Collection::Households).await.expect("count"), 0);
    assert!(s
        .list(Collection::Households)
        .await
        .expect("list")
        .is_empty());
}

/// A pull page returns the rows it wrote (what the lists' index takes instead of reading them
/// back): the row of each merged record that has one, in the page's order, each equal to the row
/// stored — merged with the device's own edit, twice for a record the page holds twice.
async fn a_page_returns_the_rows_it_wrote<S: LocalStore>(s: &S) {
    s.commit_local(&[op(
        1,
        100,
        50,
        json!({"title": "mine", "status": "reported"}),
    )])
    .await
    .expect("commit");
    let record_in = |c: Collection, n: u128, record: u128, hlc: u64, fields| {
        let mut r = Record::new(c, rid(record));
        apply(&mut r, &op_in(c, n, record, hlc, fields));
        r
    };
    let page = [
        // Older than the device's title: the merged row keeps "mine".
        pulled(2, 100, 10, json!({"title": "old", "category": "safety"})),
        pulled(3, 101, 11, json!({"title": "first", "category": "safety"})),
        record_in(Collection::Summaries, 4, 900, 12, json!({"n": 1})),
        record_in(Collection::Visits, 5, 200, 13, json!({"notes": "走访"})),
        pulled(6, 101, 14, json!({"title": "second"})),
        record_in(
            Collection::Grids,
            7,
            300,
            15,
            json!({"code": "G1", "name": "一网格"}),
        ),
    ];
    let rows = s.apply_page(&page, &[], 9).await.expect("page");
    let ids: Vec<(Collection, RecordId)> = rows.iter().map(|r| (r.collection(), r.id())).collect();
    assert_eq!(
        ids,
        [
            (Collection::Cases, rid(100)),
            (Collection::Cases, rid(101)),
            (Collection::Visits, rid(200)),
            (Collection::Cases, rid(101)),
            (Collection::Grids, rid(300)),
        ]
    );
    let title = |r: &ListRow| match r {
        ListRow::Case(c) => c.title.clone(),
        _ => String::new(),
    };
    assert_eq!(title(&rows[0]), "mine");
    assert_eq!(title(&rows[1]), "first");
    assert_eq!(title(&rows[3]), "second");
    // The last row of each record is the one stored, and the one `list_rows` reads.
    let kept = s.list_rows().await.expect("rows");
    for i in [0, 2, 3, 4] {
        let (c, id) = ids[i];
        let stored = s.get(c, id).await.expect("get").expect("stored");
        assert_eq!(ListRow::of(&stored).as_ref(), Some(&rows[i]));
        assert!(kept.contains(&rows[i]));
    }
    assert!(
        !kept.contains(&rows[1]),
        "the first row of 101 was replaced"
    );
    // Twice in one page: the second merges into the first (no field of either is lost).
    let twice = case(s, 101).await.expect("stored");
    assert_eq!(twice.str("title"), Some("second"));
    assert_eq!(twice.str("category"), Some("safety"));
    // A page of nothing but drops writes no row.
    let none = s
        .apply_page(&[], &[(Collection::Visits, rid(200))], 10)
        .await
        .expect("drops");
    assert!(none.is_empty());
}

async fn get_many_reads_each_key_in_its_order<S: LocalStore>(s: &S) {
    assert!(s.get_many(&[]).await.expect("nothing").is_empty());
    s.commit_local(&[
        op(1, 100, 10, json!({"title": "a"})),
        op_in(Collection::Visits, 2, 200, 11, json!({"notes": "v"})),
    ])
    .await
    .expect("commit");
    s.apply_pull(&[pulled(3, 101, 12, json!({"title": "pulled"}))], 5)
        .await
        .expect("pull");
    // A visit's id asked as a case is not found: the key is the collection and the id.
    let keys = [
        (Collection::Visits, rid(200)),
        (Collection::Cases, rid(999)),
        (Collection::Cases, rid(101)),
        (Collection::Cases, rid(200)),
        (Collection::Cases, rid(100)),
        (Collection::Cases, rid(100)),
    ];
    let got = s.get_many(&keys).await.expect("get_many");
    let seen: Vec<Option<(Collection, RecordId)>> = got
        .iter()
        .map(|r| r.as_ref().map(|r| (r.collection, r.id)))
        .collect();
    assert_eq!(
        seen,
        [
            Some((Collection::Visits, rid(200))),
            None,
            Some((Collection::Cases, rid(101))),
            None,
            Some((Collection::Cases, rid(100))),
            Some((Collection::Cases, rid(100))),
        ]
    );
    // The same records `get` reads, fields and all.
    for ((c, id), r) in keys.iter().zip(&got) {
        assert_eq!(*r, s.get(*c, *id).await.expect("get"));
    }
    assert_eq!(got[2].as_ref().and_then(|r| r.str("title")), Some("pulled"));
}

async fn a_photo_is_stored_once_and_pending_until_uploaded<S: LocalStore>(s: &S) {
    let sha = "ab".repeat(32);
    let bytes = [0xFF, 0xD8, 0xFF, 1, 2, 3];
    s.put_blob(&sha, "image/jpeg", &bytes)
        .await
        .expect("put blob");
    s.put_blob(&sha, "image/jpeg", &bytes)
        .await
        .expect("put blob again");
    assert_eq!(s.pending_blobs().await.expect("pending"), vec![sha.clone()]);
    let blob = s.get_blob(&sha).await.expect("get blob").expect("stored");
    assert_eq!(blob.bytes, bytes.to_vec());
    assert_eq!(blob.content_type, "image/jpeg");
    assert!(!blob.uploaded);
    s.mark_uploaded(&sha).await.expect("mark");
    assert!(s.pending_blobs().await.expect("pending").is_empty());
    assert!(s.get_blob(&sha).await.expect("get").expect("kept").uploaded);
    s.put_blob(&sha, "image/jpeg", &bytes)
        .await
        .expect("put blob after upload");
    assert!(
        s.pending_blobs().await.expect("pending").is_empty(),
        "stays uploaded"
    );
    assert!(s.get_blob(&"cd".repeat(32)).await.expect("get").is_none());
}

async fn meta_keys_are_set_read_and_deleted<S: LocalStore>(s: &S) {
    assert_eq!(s.meta_get(META_SCOPE).await.expect("meta"), None);
    s.meta_set(META_SCOPE, "area-1").await.expect("meta");
    s.meta_set("k", "v").await.expect("meta");
    s.meta_set(META_SCOPE, "area-2").await.expect("meta");
    assert_eq!(
        s.meta_get(META_SCOPE).await.expect("meta").as_deref(),
        Some("area-2")
    );
    s.meta_delete(META_SCOPE).await.expect("meta delete");
    assert_eq!(s.meta_get(META_SCOPE).await.expect("meta"), None);
    assert_eq!(s.meta_get("k").await.expect("meta").as_deref(), Some("v"));
}

async fn a_reset_drops_pulled_state_but_keeps_unsent_and_refused_work<S: LocalStore>(s: &S) {
    s.commit_local(&[op(1, 100, 50, json!({"title": "local, unsent"}))])
        .await
        .expect("commit");
    let refused = op(2, 103, 60, json!({"title": "out of area"}));
    s.commit_local(std::slice::from_ref(&refused))
        .await
        .expect("commit");
    s.reject(&refused, "out_of_scope", "not in your area")
        .await
        .expect("reject");
    s.apply_pull(
        &[
            pulled(6, 100, 20, json!({"category": "safety"})),
            pulled(7, 102, 20, json!({"title": "from elsewhere"})),
        ],
        42,
    )
    .await
    .expect("pull");
    s.reset_pulled().await.expect("reset");
    assert_eq!(s.meta_get(META_CURSOR).await.expect("meta"), None);
    assert!(case(s, 102).await.is_none());
    let r = case(s, 100).await.expect("unsent work stays");
    assert_eq!(r.str("title"), Some("local, unsent"));
    assert_eq!(
        r.str("category"),
        None,
        "the pulled field went with the pull"
    );
    assert_eq!(s.outbox_len().await.expect("len"), 1);
    let rej = s.rejected().await.expect("rejected");
    assert_eq!(rej.len(), 1);
    assert_eq!(
        (rej[0].op.id, rej[0].code.as_str()),
        (refused.id, "out_of_scope")
    );
}

/// A pull page's `dropped` records (those the device's profile no longer keeps) go with their
/// rows, order keys and counts — except one with an op still waiting in the outbox; a record
/// the device does not hold is no error. Summaries are stored like records but have no row and
/// count in no list.
async fn dropped_records_go_but_unsent_work_stays<S: LocalStore>(s: &S) {
    let visit = |n: u128, record: u128, fields: serde_json::Value| {
        let mut v = Record::new(Collection::Visits, rid(record));
        apply(&mut v, &op_in(Collection::Visits, n, record, 20, fields));
        v
    };
    let mut summary = Record::new(Collection::Summaries, rid(900));
    apply(
        &mut summary,
        &op_in(
            Collection::Summaries,
            9,
            900,
            20,
            json!({"month": "2026-11", "cases": [], "visits": [[1, "w1"]]}),
        ),
    );
    s.apply_pull(
        &[
            pulled(
                1,
                100,
                20,
                json!({"title": "旧的", "reported_at": 1, "status": "closed"}),
            ),
            pulled(
                2,
                101,
                20,
                json!({"title": "在改", "reported_at": 2, "status": "closed"}),
            ),
            pulled(3, 102, 20, json!({"title": "开着", "reported_at": 3})),
            visit(4, 200, json!({"visited_at": 1})),
            summary,
        ],
        10,
    )
    .await
    .expect("pull");
    assert_eq!(s.count(Collection::Summaries).await.expect("count"), 1);
    assert_eq!(told_and_live(s, Collection::Cases).await, (3, 3));
    // The manager edits case 101; the op has not left yet.
    s.commit_local(&[op(5, 101, 30, json!({"description": "补充"}))])
        .await
        .expect("commit");
    s.apply_page(
        &[pulled(6, 102, 40, json!({"category": "safety"}))],
        &[
            (Collection::Cases, rid(100)),
            (Collection::Cases, rid(101)),
            (Collection::Visits, rid(200)),
            (Collection::Cases, rid(999)),
        ],
        11,
    )
    .await
    .expect("page");
    assert_eq!(
        s.meta_get(META_CURSOR).await.expect("meta").as_deref(),
        Some("11")
    );
    assert!(case(s, 100).await.is_none());
    let kept = case(s, 101).await.expect("unsent work stays");
    assert_eq!(kept.str("description"), Some("补充"));
    assert_eq!(
        case(s, 102).await.expect("kept").str("category"),
        Some("safety")
    );
    assert_eq!(s.count(Collection::Visits).await.expect("count"), 0);
    assert_eq!(told_and_live(s, Collection::Cases).await, (2, 2));
    assert_eq!(told_and_live(s, Collection::Visits).await, (0, 0));
    assert_eq!(
        first(s, Collection::Cases, 50).await,
        (vec![102, 101], vec![], 2)
    );
    let (kept_rows, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept_rows, decoded);
    assert!(kept_rows
        .iter()
        .all(|r| r.collection() != Collection::Summaries));
    assert_eq!(s.count(Collection::Summaries).await.expect("count"), 1);
    // Once its op is acknowledged, it can go (what the daily pruning does).
    s.ack(&[OpId(Uuid::from_u128(5))]).await.expect("ack");
    assert_eq!(
        s.drop_records(&[(Collection::Cases, rid(101)), (Collection::Cases, rid(100))])
            .await
            .expect("drop"),
        vec![(Collection::Cases, rid(101))]
    );
    assert_eq!(told_and_live(s, Collection::Cases).await, (1, 1));
    let (kept_rows, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept_rows, decoded);
}

/// Every row the store keeps, by key, next to the rows of its records decoded.
async fn rows_and_decoded<S: LocalStore>(s: &S) -> (Vec<ListRow>, Vec<ListRow>) {
    let mut kept = s.list_rows().await.expect("rows");
    let mut decoded = Vec::new();
    for c in ROW_COLLECTIONS {
        for r in s.list(c).await.expect("list") {
            decoded.extend(ListRow::of(&r));
        }
    }
    let key = |r: &ListRow| (r.collection(), r.id());
    kept.sort_by_key(key);
    decoded.sort_by_key(key);
    (kept, decoded)
}

/// The ids of a list's first rows, the ids of the places they name, and its live count.
async fn first<S: LocalStore>(s: &S, c: Collection, limit: usize) -> (Vec<u128>, Vec<u128>, usize) {
    let FirstRows {
        rows,
        places,
        total,
    } = s
        .first_rows(c, limit)
        .await
        .expect("first rows")
        .expect("the device can tell");
    let ids = |rs: &[ListRow]| rs.iter().map(|r| r.id().0.as_u128()).collect::<Vec<_>>();
    let mut named = ids(&places);
    named.sort_unstable();
    (ids(&rows), named, total)
}

// reason: one scenario, each step checked in turn
#[allow(clippy::too_many_lines)]
async fn the_first_rows_are_the_newest_live_ones_after_edits_deletes_pulls_and_resets<
    S: LocalStore,
>(
    s: &S,
) {
    let grid = Uuid::from_u128(500).to_string();
    let compound = Uuid::from_u128(600).to_string();
    let case_at = |n: u128, record: u128, at: u64| {
        op(
            n,
            record,
            10,
            json!({"title": "诉求", "grid": grid, "reported_at": at}),
        )
    };
    s.commit_local(&[
        op_in(
            Collection::Grids,
            1,
            500,
            10,
            json!({"code": "G01", "name": "第一网格"}),
        ),
        op_in(
            Collection::Grids,
            2,
            501,
            10,
            json!({"code": "G02", "name": "第二网格"}),
        ),
        op_in(
            Collection::Compounds,
            3,
            600,
            10,
            json!({"name": "阳光小区"}),
        ),
        case_at(4, 100, 10),
        case_at(5, 101, 30),
        case_at(6, 102, 20),
        // The same time as 102: the larger id comes first.
        case_at(7, 103, 20),
        op_in(
            Collection::Visits,
            8,
            200,
            10,
            json!({"kind": "patrol", "grid": grid, "compound": compound, "visited_at": 5}),
        ),
    ])
    .await
    .expect("commit");
    assert_eq!(
        first(s, Collection::Cases, 3).await,
        (vec![101, 103, 102], vec![500], 4)
    );
    assert_eq!(
        first(s, Collection::Visits, 50).await,
        (vec![200], vec![500, 600], 1)
    );
    assert_eq!(
        s.first_rows(Collection::Grids, 3).await.expect("grids"),
        None
    );
    // A local edit moves a case; a deleted one leaves the list and its count.
    s.commit_local(&[
        op(9, 100, 11, json!({"reported_at": 40})),
        op(10, 101, 11, json!({"deleted": true})),
    ])
    .await
    .expect("edit");
    assert_eq!(
        first(s, Collection::Cases, 2).await,
        (vec![100, 103], vec![500], 3)
    );
    // Pulled: a new case, a moved one (to the other grid), one deleted elsewhere.
    s.apply_pull(
        &[
            pulled(11, 104, 20, json!({"title": "新的", "reported_at": 50, "grid": Uuid::from_u128(501).to_string()})),
            pulled(12, 102, 20, json!({"reported_at": 60})),
            pulled(13, 103, 20, json!({"deleted": true})),
        ],
        7,
    )
    .await
    .expect("pull");
    assert_eq!(
        first(s, Collection::Cases, 50).await,
        (vec![102, 104, 100], vec![500, 501], 3)
    );
    // A reset keeps only the unsent work (every op above is still in the outbox).
    s.reset_pulled().await.expect("reset");
    assert_eq!(
        first(s, Collection::Cases, 50).await,
        (vec![100, 103, 102], vec![500], 3)
    );
}

/// The live count `first_rows` tells for `c`, next to the live records of `c` decoded (read
/// first: the IndexedDB `list_rows` rewrites counts it finds wrong, which would hide them).
async fn told_and_live<S: LocalStore>(s: &S, c: Collection) -> (usize, usize) {
    let told = s
        .first_rows(c, 1)
        .await
        .expect("first rows")
        .expect("the device can tell")
        .total;
    let live = s
        .list(c)
        .await
        .expect("list")
        .iter()
        .filter(|r| !r.is_deleted())
        .count();
    (told, live)
}

// reason: one scenario, every kind of write in turn, each checked against the records
#[allow(clippy::too_many_lines)]
async fn the_list_counts_equal_the_live_records_after_every_kind_of_write<S: LocalStore>(s: &S) {
    let visit = |n: u128, record: u128, fields: serde_json::Value| {
        op_in(Collection::Visits, n, record, 10, fields)
    };
    // A new database knows its counts: nothing.
    assert_eq!(told_and_live(s, Collection::Cases).await, (0, 0));
    assert_eq!(told_and_live(s, Collection::Visits).await, (0, 0));
    // Local writes: new cases and visits (one record written twice in one batch), a grid (no
    // count), an edit that moves a case, a delete.
    s.commit_local(&[
        op(1, 100, 10, json!({"title": "一", "reported_at": 1})),
        op(2, 101, 10, json!({"title": "二", "reported_at": 2})),
        op(3, 101, 11, json!({"reported_at": 3})),
        op(4, 102, 10, json!({"title": "三", "reported_at": 4})),
        visit(5, 200, json!({"visited_at": 1})),
        visit(6, 201, json!({"visited_at": 2})),
        op_in(Collection::Grids, 7, 500, 10, json!({"code": "G01"})),
    ])
    .await
    .expect("commit");
    assert_eq!(told_and_live(s, Collection::Cases).await, (3, 3));
    assert_eq!(told_and_live(s, Collection::Visits).await, (2, 2));
    s.commit_local(&[
        op(8, 100, 12, json!({"reported_at": 9})),
        op(9, 102, 12, json!({"deleted": true})),
        visit(10, 201, json!({"deleted": true})),
    ])
    .await
    .expect("edit and delete");
    assert_eq!(told_and_live(s, Collection::Cases).await, (2, 2));
    assert_eq!(told_and_live(s, Collection::Visits).await, (1, 1));
    // Restored: back in the count.
    s.commit_local(&[op(11, 102, 13, json!({"deleted": false}))])
        .await
        .expect("restore");
    assert_eq!(told_and_live(s, Collection::Cases).await, (3, 3));
    // Pulled: new ones (one twice in the batch, deleted by its second copy), one merged into a
    // local case, one deleted elsewhere, one deleted already on the device.
    s.apply_pull(
        &[
            pulled(20, 103, 20, json!({"title": "拉取", "reported_at": 5})),
            pulled(21, 104, 20, json!({"title": "两次", "reported_at": 6})),
            pulled(
                22,
                104,
                21,
                json!({"title": "两次", "reported_at": 6, "deleted": true}),
            ),
            pulled(23, 100, 20, json!({"status": "accepted"})),
            pulled(24, 101, 20, json!({"deleted": true})),
        ],
        3,
    )
    .await
    .expect("pull");
    assert_eq!(told_and_live(s, Collection::Cases).await, (3, 3));
    s.apply_pull(
        &[{
            let mut v = Record::new(Collection::Visits, rid(201));
            apply(&mut v, &visit(25, 201, json!({"visited_at": 2})));
            v
        }],
        4,
    )
    .await
    .expect("pull a visit");
    assert_eq!(told_and_live(s, Collection::Visits).await, (1, 1));
    // A refused case restamped: moved, still counted once.
    let ahead = op(
        30,
        105,
        4_000_000_000_000,
        json!({"title": "ahead", "reported_at": 3_999_999_999_000_u64}),
    );
    s.commit_local(std::slice::from_ref(&ahead))
        .await
        .expect("commit ahead");
    s.reject(&ahead, "clock_ahead", "ahead")
        .await
        .expect("reject");
    s.restamp(ahead.id, Hlc::new(1_800_000_000_000, 0))
        .await
        .expect("restamp");
    assert_eq!(told_and_live(s, Collection::Cases).await, (4, 4));
    // Reset: only the unsent work is left, and counted.
    s.reset_pulled().await.expect("reset");
    assert_eq!(told_and_live(s, Collection::Cases).await, (4, 4));
    assert_eq!(told_and_live(s, Collection::Visits).await, (1, 1));
    // The counts agree with the rows, too.
    let rows = s.list_rows().await.expect("rows");
    assert_eq!(
        told_and_live(s, Collection::Cases).await.0,
        rows.iter()
            .filter(|r| matches!(r, ListRow::Case(c) if !c.deleted))
            .count()
    );
}

// reason: one scenario of five steps, each checked against the decoded records in turn
#[allow(clippy::too_many_lines)]
async fn the_list_rows_equal_the_rows_of_the_records_after_edits_pulls_and_merges<S: LocalStore>(
    s: &S,
) {
    let grid = Uuid::from_u128(500).to_string();
    let case_id = 100;
    s.commit_local(&[
        op_in(
            Collection::Grids,
            1,
            500,
            10,
            json!({"code": "G01", "name": "第一网格"}),
        ),
        op(
            2,
            case_id,
            10,
            json!({"title": "路灯不亮", "description": "三号楼 North Gate",
            "status": "reported", "grid": grid, "reporter": "w0001", "reported_at": 10}),
        ),
        op_in(
            Collection::Visits,
            3,
            200,
            10,
            json!({"kind": "patrol", "grid": grid,
            "warden": "w0001", "visited_at": 10, "appeals": ["修路灯"]}),
        ),
        op_in(
            Collection::Households,
            4,
            300,
            10,
            json!({"address": "一号"}),
        ),
    ])
    .await
    .expect("commit");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(
        kept.len(),
        3,
        "a row per case, visit and grid, none for a household"
    );
    assert_eq!(kept, decoded);

    // A local edit rewrites the row.
    s.commit_local(&[op(
        5,
        case_id,
        11,
        json!({"status": "accepted", "assignee": "cm01"}),
    )])
    .await
    .expect("edit");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
    assert!(kept
        .iter()
        .any(|r| matches!(r, ListRow::Case(c) if c.status == "accepted")));

    // A pull merges field by field: a newer title wins, an older status loses; a new visit and a
    // renamed grid arrive.
    let mut merged = pulled(6, case_id, 20, json!({"title": "路灯修好了"}));
    apply(&mut merged, &op(7, case_id, 5, json!({"status": "closed"})));
    let mut renamed = Record::new(Collection::Grids, rid(500));
    apply(
        &mut renamed,
        &op_in(Collection::Grids, 8, 500, 30, json!({"name": "一网格"})),
    );
    let mut visit = Record::new(Collection::Visits, rid(201));
    apply(
        &mut visit,
        &op_in(
            Collection::Visits,
            9,
            201,
            30,
            json!({"kind": "household_visit",
        "warden": "w0002", "visited_at": 30, "deleted": true}),
        ),
    );
    s.apply_pull(&[merged, renamed, visit], 9)
        .await
        .expect("pull");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
    let case_row = kept.iter().find_map(|r| match r {
        ListRow::Case(c) => Some(c.clone()),
        _ => None,
    });
    let case_row = case_row.expect("the case's row");
    assert_eq!(
        (case_row.title.as_str(), case_row.status.as_str()),
        ("路灯修好了", "accepted")
    );
    assert!(kept
        .iter()
        .any(|r| matches!(r, ListRow::Place(p) if p.name == "一网格" && p.code == "G01")));

    // An op refused for a clock ahead, sent again later: its times move, and so does the row.
    let ahead = op(10, case_id, 40, json!({"reported_at": 40}));
    s.commit_local(std::slice::from_ref(&ahead))
        .await
        .expect("ahead");
    s.reject(&ahead, "clock_ahead", "ahead")
        .await
        .expect("reject");
    s.restamp(ahead.id, Hlc::new(45, 0)).await.expect("restamp");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
    assert!(kept
        .iter()
        .any(|r| matches!(r, ListRow::Case(c) if c.reported_at == 45)));

    // A reset keeps the rows of what is still unsent, and only those.
    s.reset_pulled().await.expect("reset");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
}

/// The cases' first rows and count as `first_rows` tells them, or `None` while it cannot tell.
async fn first_or_none<S: LocalStore>(s: &S) -> Option<(Vec<u128>, usize)> {
    let f = s
        .first_rows(Collection::Cases, 10)
        .await
        .expect("first rows")?;
    Some((f.rows.iter().map(|r| r.id().0.as_u128()).collect(), f.total))
}

// reason: one scenario, a first sync's steps in turn, each checked against the records
#[allow(clippy::too_many_lines)]
async fn rows_deferred_by_a_first_sync_are_complete_afterwards<S: LocalStore>(s: &S) {
    let grid = Uuid::from_u128(500).to_string();
    let at = |n: u128, record: u128, hlc: u64, t: u64| {
        op(
            n,
            record,
            hlc,
            json!({"title": format!("诉求 {record}"), "grid": grid, "reported_at": t}),
        )
    };
    let fresh = |n: u128, record: u128, hlc: u64, t: u64| {
        let mut r = Record::new(Collection::Cases, rid(record));
        apply(&mut r, &at(n, record, hlc, t));
        r
    };
    // The device's own work before its first sync: a case and its grid.
    s.commit_local(&[
        op_in(
            Collection::Grids,
            1,
            500,
            10,
            json!({"code": "G1", "name": "一网格"}),
        ),
        at(2, 100, 10, 100),
    ])
    .await
    .expect("commit");
    s.defer_rows().await.expect("defer");
    // The first page: two new cases, a newer title for the device's own, a new visit.
    let mine = pulled(3, 100, 20, json!({"title": "改过的标题"}));
    let mut visit = Record::new(Collection::Visits, rid(200));
    apply(
        &mut visit,
        &op_in(
            Collection::Visits,
            4,
            200,
            20,
            json!({"kind": "patrol", "grid": grid, "visited_at": 20}),
        ),
    );
    let page = [fresh(5, 101, 20, 300), mine, fresh(6, 102, 20, 200), visit];
    let rows = s.apply_page(&page, &[], 5).await.expect("page");
    // Every row is returned as if written, equal to its stored record's.
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let stored = s.get(row.collection(), row.id()).await.expect("get");
        assert_eq!(ListRow::of(&stored.expect("stored")).as_ref(), Some(row));
    }
    // Meanwhile: a local edit of a new case, a second page with a new case and a deletion.
    s.commit_local(&[op(7, 101, 30, json!({"status": "accepted"}))])
        .await
        .expect("edit");
    let mut gone = fresh(8, 102, 31, 200);
    apply(&mut gone, &op(9, 102, 32, json!({"deleted": true})));
    s.apply_page(&[fresh(10, 103, 31, 400), gone], &[], 9)
        .await
        .expect("second page");
    // What the lists would show, read from the records: cases newest first.
    let complete = (vec![103, 101, 100], 3);
    // The first rows are right or not told while the rows are deferred, never wrong.
    if let Some(told) = first_or_none(s).await {
        assert_eq!(told, complete);
    }
    s.complete_rows().await.expect("complete");
    assert_eq!(first_or_none(s).await, Some(complete));
    assert_eq!(told_and_live(s, Collection::Cases).await, (3, 3));
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
    assert!(kept
        .iter()
        .any(|r| matches!(r, ListRow::Case(c) if c.id == rid(101) && c.status == "accepted")));
    // Completing again changes nothing; a later page writes its rows as always.
    s.complete_rows().await.expect("again");
    s.apply_page(&[fresh(11, 104, 40, 500)], &[], 12)
        .await
        .expect("later page");
    assert_eq!(first_or_none(s).await, Some((vec![104, 103, 101, 100], 4)));

    // Deferred again and never completed: the next `list_rows` completes them itself.
    s.defer_rows().await.expect("defer again");
    s.apply_page(&[fresh(12, 105, 50, 600)], &[], 13)
        .await
        .expect("page");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
    assert_eq!(
        first_or_none(s).await,
        Some((vec![105, 104, 103, 101, 100], 5))
    );
}

/// More deferred rows than one transaction completes (the IndexedDB backend writes them 500
/// records at a time): every row, in both lists and the places', and the counts.
async fn many_deferred_rows_are_completed_a_chunk_at_a_time<S: LocalStore>(s: &S) {
    let grid = Uuid::from_u128(500).to_string();
    s.defer_rows().await.expect("defer");
    let mut page: Vec<Record> = (0..1203u64)
        .map(|i| {
            let n = u128::from(i);
            pulled(
                n + 1,
                10_000 + n,
                10,
                json!({"title": format!("诉求 {i}"), "grid": grid, "reported_at": 1000 + i}),
            )
        })
        .collect();
    let mut visit = Record::new(Collection::Visits, rid(200));
    apply(
        &mut visit,
        &op_in(
            Collection::Visits,
            5000,
            200,
            10,
            json!({"grid": grid, "visited_at": 5}),
        ),
    );
    let mut place = Record::new(Collection::Grids, rid(500));
    apply(
        &mut place,
        &op_in(
            Collection::Grids,
            5001,
            500,
            10,
            json!({"code": "G1", "name": "一网格"}),
        ),
    );
    page.extend([visit, place]);
    s.apply_page(&page, &[], 1).await.expect("page");
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept.len(), 1205);
    assert_eq!(kept, decoded);
    let (rows, named, total) = first(s, Collection::Cases, 3).await;
    assert_eq!(
        (rows, named, total),
        (vec![11_202, 11_201, 11_200], vec![500], 1203)
    );
    assert_eq!(told_and_live(s, Collection::Visits).await, (1, 1));
}

/// A first sync's pages staged (`stage_page`: one value per page on IndexedDB) are read as if
/// they had been applied: the rows they return are the merged records' rows, every read and
/// write of records sees them merged (with the device's own work, and a record in two pages),
/// and completing the rows afterwards leaves rows and counts whole; a reset drops them.
// reason: one scenario, a first sync's steps in turn, each checked against the records
#[allow(clippy::too_many_lines)]
async fn staged_pages_read_as_if_applied<S: LocalStore>(s: &S) {
    let grid = Uuid::from_u128(500).to_string();
    let new_case = |n: u128, record: u128, hlc: u64, t: u64| {
        pulled(
            n,
            record,
            hlc,
            json!({"title": format!("诉求 {record}"), "grid": grid, "reported_at": t}),
        )
    };
    // The device's own work before its first sync: a case.
    s.commit_local(&[op(1, 100, 10, json!({"title": "我的", "reported_at": 100}))])
        .await
        .expect("commit");
    s.defer_rows().await.expect("defer");
    // Page one: two new cases and a newer title for the device's own case.
    let mine = pulled(2, 100, 20, json!({"title": "改过的标题"}));
    // Pages one and two staged from the records' JSON as sent, the others encoded.
    let rows = stage_sent(
        s,
        &[new_case(3, 101, 20, 300), mine, new_case(4, 102, 20, 200)],
        5,
    )
    .await
    .expect("page one");
    let titles: Vec<(u128, String)> = rows
        .iter()
        .map(|r| match r {
            ListRow::Case(c) => (c.id.0.as_u128(), c.title.clone()),
            other => panic!("a case's row, not {other:?}"),
        })
        .collect();
    assert_eq!(
        titles,
        [
            (101, "诉求 101".to_owned()),
            (100, "改过的标题".to_owned()),
            (102, "诉求 102".to_owned())
        ]
    );
    // Page two: a new case, and case 101 again with a later status.
    let mut again = new_case(5, 101, 20, 300);
    apply(&mut again, &op(6, 101, 30, json!({"status": "accepted"})));
    let rows = stage_sent(s, &[new_case(7, 103, 31, 400), again], 9)
        .await
        .expect("page two");
    assert!(matches!(&rows[1], ListRow::Case(c) if c.status == "accepted"));
    assert_eq!(
        s.meta_get(META_CURSOR).await.expect("cursor").as_deref(),
        Some("9")
    );
    // A local edit of a staged case applies to the pulled record.
    s.commit_local(&[op(8, 102, 40, json!({"status": "accepted"}))])
        .await
        .expect("edit");
    let edited = case(s, 102).await.expect("stored");
    assert_eq!(edited.fields["title"].value, json!("诉求 102"));
    assert_eq!(edited.fields["status"].value, json!("accepted"));
    let own = case(s, 100).await.expect("stored");
    assert_eq!(own.fields["title"].value, json!("改过的标题"));
    assert_eq!(own.fields["reported_at"].value, json!(100));
    assert_eq!(
        case(s, 101).await.expect("stored").fields["status"].value,
        json!("accepted")
    );
    // Reads find what a later page staged without a write in between.
    s.stage_page(&[new_case(9, 104, 41, 500)], &[], 11)
        .await
        .expect("page three");
    assert_eq!(s.count(Collection::Cases).await.expect("count"), 5);
    let many = s
        .get_many(&[(Collection::Cases, rid(104)), (Collection::Cases, rid(105))])
        .await
        .expect("get many");
    assert!(many[0].is_some() && many[1].is_none());
    s.stage_page(&[new_case(10, 105, 42, 600)], &[], 12)
        .await
        .expect("page four");
    s.complete_rows().await.expect("complete");
    assert_eq!(
        first_or_none(s).await,
        Some((vec![105, 104, 103, 101, 102, 100], 6))
    );
    assert_eq!(told_and_live(s, Collection::Cases).await, (6, 6));
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
    // A reset drops what was staged with the rest of what was pulled; the device's own work
    // stays.
    s.defer_rows().await.expect("defer again");
    s.stage_page(&[new_case(11, 106, 50, 700)], &[], 13)
        .await
        .expect("page five");
    s.reset_pulled().await.expect("reset");
    assert!(case(s, 106).await.is_none());
    assert!(case(s, 101).await.is_none());
    assert_eq!(
        case(s, 102).await.expect("own edit kept").fields["status"].value,
        json!("accepted")
    );
    assert_eq!(s.meta_get(META_CURSOR).await.expect("cursor"), None);
}

/// A summary profile's first sync stages its pages while some of them drop records (aged out
/// of the profile by a late change): a drop removes the device's copy whether it is stored or
/// staged, never one with unsent work, and leaves every other record; the rows and counts
/// are whole afterwards.
async fn a_staged_first_sync_drops_stored_and_staged_copies<S: LocalStore>(s: &S) {
    let grid = Uuid::from_u128(500).to_string();
    let at = |record: u128, t: u64| json!({"title": format!("诉求 {record}"), "grid": grid, "reported_at": t});
    // The device's own work before its first sync: case 100 sent (nothing waits for it),
    // case 101 still waiting.
    s.commit_local(&[op(1, 100, 10, at(100, 100))])
        .await
        .expect("commit");
    s.ack(&[OpId(Uuid::from_u128(1))]).await.expect("ack");
    s.commit_local(&[op(2, 101, 11, at(101, 110))])
        .await
        .expect("commit");
    s.defer_rows().await.expect("defer");
    let page: Vec<Record> = [(3, 102, 200), (4, 103, 300), (5, 104, 400)]
        .into_iter()
        .map(|(n, record, t)| pulled(n, record, 20, at(record, t)))
        .collect();
    stage_sent(s, &page, 5).await.expect("page one");
    // Drops of records no staged page holds: the sent case, the waiting one, one never held.
    let dropped = |ids: &[u128]| -> Vec<(Collection, RecordId)> {
        ids.iter().map(|&n| (Collection::Cases, rid(n))).collect()
    };
    s.apply_page(&[], &dropped(&[100, 101, 999]), 6)
        .await
        .expect("drops");
    assert!(case(s, 100).await.is_none(), "the sent case is dropped");
    assert!(case(s, 101).await.is_some(), "unsent work stays");
    assert!(case(s, 102).await.is_some() && case(s, 104).await.is_some());
    // A drop of a staged record.
    s.apply_page(&[], &dropped(&[103]), 7).await.expect("drop");
    assert!(case(s, 103).await.is_none(), "the staged case is dropped");
    stage_sent(s, &[pulled(6, 105, 30, at(105, 500))], 8)
        .await
        .expect("page two");
    assert_eq!(
        s.meta_get(META_CURSOR).await.expect("cursor").as_deref(),
        Some("8")
    );
    s.complete_rows().await.expect("complete");
    assert_eq!(first_or_none(s).await, Some((vec![105, 104, 102, 101], 4)));
    assert_eq!(told_and_live(s, Collection::Cases).await, (4, 4));
    let (kept, decoded) = rows_and_decoded(s).await;
    assert_eq!(kept, decoded);
}

/// One test per behaviour and backend: `suite!(module, async store constructor; behaviours…)`.
macro_rules! suite {
    ($backend:ident, $open:expr; $($name:ident),* $(,)?) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[cfg(not(target_arch = "wasm32"))]
                #[test]
                fn $name() {
                    futures::executor::block_on(async {
                        let store = $open;
                        super::$name(&store).await;
                    });
                }
                #[cfg(target_arch = "wasm32")]
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    let store = $open;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

macro_rules! every_behaviour {
    ($backend:ident, $open:expr) => {
        suite!(
            $backend, $open;
            commit_applies_the_ops_and_queues_them,
            waiting_counts_records_not_ops,
            an_invalid_op_writes_nothing_of_its_batch,
            the_outbox_leaves_in_clock_order,
            ack_removes_only_the_acknowledged_ops,
            a_refused_op_is_kept_with_its_reason,
            retry_puts_a_refused_op_back_in_the_outbox,
            dismiss_forgets_a_refused_op_for_good,
            a_clock_ahead_op_is_restamped_with_its_times,
            restamp_leaves_a_field_a_newer_op_wrote,
            a_pull_merges_field_by_field_and_keeps_the_cursor,
            a_large_page_merges_with_every_record_the_device_holds,
            count_and_list_are_per_collection,
            get_many_reads_each_key_in_its_order,
            a_page_returns_the_rows_it_wrote,
            a_photo_is_stored_once_and_pending_until_uploaded,
            meta_keys_are_set_read_and_deleted,
            a_reset_drops_pulled_state_but_keeps_unsent_and_refused_work,
            the_list_rows_equal_the_rows_of_the_records_after_edits_pulls_and_merges,
            the_first_rows_are_the_newest_live_ones_after_edits_deletes_pulls_and_resets,
            the_list_counts_equal_the_live_records_after_every_kind_of_write,
            dropped_records_go_but_unsent_work_stays,
            rows_deferred_by_a_first_sync_are_complete_afterwards,
            many_deferred_rows_are_completed_a_chunk_at_a_time,
            staged_pages_read_as_if_applied,
            a_staged_first_sync_drops_stored_and_staged_copies,
        );
    };
}

#[cfg(not(target_arch = "wasm32"))]
every_behaviour!(memory, tongxin_app::store::MemoryStore::default());

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(target_arch = "wasm32")]
every_behaviour!(
    indexeddb,
    tongxin_app::idb::IdbStore::open(&format!("tongxin-suite-{}", uuid::Uuid::new_v4()))
        .await
        .expect("open a fresh database")
);

/// A database written by the version before the rows (2: records without rows) gets them on its
/// first `list_rows`, equal to the rows of its records; writes after that keep them.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_version_2_database_gets_its_rows_on_the_first_list() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    let name = format!("tongxin-suite-v2-{}", Uuid::new_v4());
    let mut case = Record::new(Collection::Cases, rid(100));
    apply(
        &mut case,
        &op(
            1,
            100,
            10,
            json!({"title": "旧库里的诉求", "status": "reported", "reported_at": 10}),
        ),
    );
    let mut grid = Record::new(Collection::Grids, rid(500));
    apply(
        &mut grid,
        &op_in(
            Collection::Grids,
            2,
            500,
            10,
            json!({"code": "G01", "name": "第一网格"}),
        ),
    );
    {
        let db = Database::open(&name)
            .with_version(2u8)
            .with_on_upgrade_needed(|_, db| {
                for store in [
                    "records",
                    "outbox",
                    "rejected",
                    "meta",
                    "blobs",
                    "blobs_pending",
                ] {
                    db.create_object_store(store).build()?;
                }
                Ok(())
            })
            .await
            .expect("a version 2 database");
        let stores: &[&str] = &["records"];
        let tx = db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("tx");
        let records = tx.object_store("records").expect("records");
        for (key, r) in [("cases", &case), ("grids", &grid)] {
            records
                .put(serde_json::to_string(r).expect("json"))
                .with_key(format!("{key}/{}", r.id))
                .primitive()
                .expect("put")
                .await
                .expect("stored");
        }
        tx.commit().await.expect("commit");
        db.close();
    }
    let s = tongxin_app::idb::IdbStore::open(&name)
        .await
        .expect("upgraded to the current version");
    let (kept, decoded) = rows_and_decoded(&s).await;
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept, decoded);
    s.commit_local(&[op(3, 100, 11, json!({"status": "accepted"}))])
        .await
        .expect("edit");
    let (kept, decoded) = rows_and_decoded(&s).await;
    assert_eq!(kept, decoded);
}

/// A database written by version 3 (rows without the lists' order) cannot tell a list's first
/// rows until its first `list_rows`, which writes the order; then it can, and writes keep it.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_version_3_database_gets_its_order_on_the_first_list() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    let name = format!("tongxin-suite-v3-{}", Uuid::new_v4());
    let mut case = Record::new(Collection::Cases, rid(100));
    apply(
        &mut case,
        &op(
            1,
            100,
            10,
            json!({"title": "旧库里的诉求", "reported_at": 10}),
        ),
    );
    {
        let db = Database::open(&name)
            .with_version(3u8)
            .with_on_upgrade_needed(|_, db| {
                for store in [
                    "records",
                    "outbox",
                    "rejected",
                    "meta",
                    "blobs",
                    "blobs_pending",
                    "rows",
                ] {
                    db.create_object_store(store).build()?;
                }
                Ok(())
            })
            .await
            .expect("a version 3 database");
        let stores: &[&str] = &["records", "rows"];
        let tx = db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("tx");
        let key = format!("cases/{}", case.id);
        let row = ListRow::of(&case).expect("a case has a row");
        for (store, value) in [
            ("records", serde_json::to_string(&case).expect("json")),
            ("rows", serde_json::to_string(&row).expect("json")),
        ] {
            tx.object_store(store)
                .expect(store)
                .put(value)
                .with_key(key.clone())
                .primitive()
                .expect("put")
                .await
                .expect("stored");
        }
        tx.commit().await.expect("commit");
        db.close();
    }
    let s = tongxin_app::idb::IdbStore::open(&name)
        .await
        .expect("upgraded to the current version");
    assert_eq!(
        s.first_rows(Collection::Cases, 50).await.expect("first"),
        None
    );
    assert_eq!(s.list_rows().await.expect("rows").len(), 1);
    assert_eq!(
        first(&s, Collection::Cases, 50).await,
        (vec![100], vec![], 1)
    );
    s.commit_local(&[op(2, 101, 11, json!({"title": "新的", "reported_at": 20}))])
        .await
        .expect("edit");
    assert_eq!(
        first(&s, Collection::Cases, 50).await,
        (vec![101, 100], vec![], 2)
    );
}

/// A database written by version 4 (rows under the records' keys, the order's values record
/// keys; `counts`: with the live counts kept, as a device last wrote it, or from before them):
/// version 5 keeps the rows of cases and visits under their order keys, so the upgrade drops
/// the old rows, order and counts. The device cannot tell a list's first rows until its first
/// `list_rows`, which writes them again from the records; then it can, and writes keep the
/// count.
#[cfg(target_arch = "wasm32")]
async fn a_version_4_database_is_listed_from_its_records(counts: bool) {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use tongxin_app::listing::rows::order_key;
    let name = format!("tongxin-suite-v4-{}", Uuid::new_v4());
    let mut case = Record::new(Collection::Cases, rid(100));
    apply(
        &mut case,
        &op(1, 100, 10, json!({"title": "旧库", "reported_at": 10})),
    );
    {
        let db = Database::open(&name)
            .with_version(4u8)
            .with_on_upgrade_needed(|_, db| {
                for store in [
                    "records",
                    "outbox",
                    "rejected",
                    "meta",
                    "blobs",
                    "blobs_pending",
                    "rows",
                    "order",
                ] {
                    db.create_object_store(store).build()?;
                }
                Ok(())
            })
            .await
            .expect("a version 4 database");
        let stores: &[&str] = &["records", "rows", "order"];
        let tx = db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("tx");
        let key = format!("cases/{}", case.id);
        let row = ListRow::of(&case).expect("a case has a row");
        for (store, k, value) in [
            (
                "records",
                key.clone(),
                serde_json::to_string(&case).expect("json"),
            ),
            (
                "rows",
                key.clone(),
                serde_json::to_string(&row).expect("json"),
            ),
            ("order", order_key(&row).expect("a key"), key.clone()),
        ]
        .into_iter()
        .chain(counts.then(|| {
            (
                "order",
                "#live".to_owned(),
                r#"{"cases":1,"visits":0}"#.to_owned(),
            )
        })) {
            tx.object_store(store)
                .expect(store)
                .put(value)
                .with_key(k)
                .primitive()
                .expect("put")
                .await
                .expect("stored");
        }
        tx.commit().await.expect("commit");
        db.close();
    }
    let s = tongxin_app::idb::IdbStore::open(&name)
        .await
        .expect("opened at the current version");
    assert_eq!(
        s.first_rows(Collection::Cases, 50).await.expect("first"),
        None
    );
    assert_eq!(s.list_rows().await.expect("rows").len(), 1);
    assert_eq!(
        first(&s, Collection::Cases, 50).await,
        (vec![100], vec![], 1)
    );
    s.commit_local(&[op(2, 101, 11, json!({"title": "新的", "reported_at": 20}))])
        .await
        .expect("edit");
    assert_eq!(
        first(&s, Collection::Cases, 50).await,
        (vec![101, 100], vec![], 2)
    );
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_version_4_database_without_counts_gets_them_on_the_first_list() {
    a_version_4_database_is_listed_from_its_records(false).await;
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_version_4_database_with_counts_is_listed_again_from_its_records() {
    a_version_4_database_is_listed_from_its_records(true).await;
}

/// Live counts that disagree with the rows (written by hand here; no write of the app does
/// that) are told as they are until the next `list_rows`, which compares them with the rows it
/// reads in the same transaction and writes them again.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn wrong_list_counts_are_rewritten_by_the_next_list() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    let name = format!("tongxin-suite-counts-{}", Uuid::new_v4());
    let s = tongxin_app::idb::IdbStore::open(&name)
        .await
        .expect("a new database");
    s.commit_local(&[
        op(1, 100, 10, json!({"title": "一", "reported_at": 1})),
        op(2, 101, 10, json!({"title": "二", "reported_at": 2})),
    ])
    .await
    .expect("commit");
    {
        let db = Database::open(&name).await.expect("a second connection");
        let stores: &[&str] = &["order"];
        let tx = db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("tx");
        tx.object_store("order")
            .expect("order")
            .put(r#"{"cases":7,"visits":3}"#.to_owned())
            .with_key("#live")
            .primitive()
            .expect("put")
            .await
            .expect("stored");
        tx.commit().await.expect("commit");
        db.close();
    }
    assert_eq!(first(&s, Collection::Cases, 50).await.2, 7);
    s.list_rows().await.expect("rows");
    assert_eq!(first(&s, Collection::Cases, 50).await.2, 2);
    assert_eq!(first(&s, Collection::Visits, 50).await.2, 0);
}

/// What exists nowhere else yet — the user's own records and photos — is committed with
/// "strict" durability (the commit completes once the writes are on disk, not merely handed to
/// the operating system); a pull page keeps the browser's default (it can be pulled again).
/// Every transaction the app opens is watched through `IDBDatabase.prototype.transaction`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_users_own_records_and_photos_are_committed_durably() {
    js_sys::eval(
        r"
        if (!globalThis.__tongxinTx) {
          const open = IDBDatabase.prototype.transaction;
          IDBDatabase.prototype.transaction = function (stores, mode, options) {
            const tx = open.call(this, stores, mode, options);
            globalThis.__tongxinTx.push([[].concat(stores).sort().join(','), tx.mode, tx.durability]);
            return tx;
          };
        }
        globalThis.__tongxinTx = [];
        ",
    )
    .expect("watch transactions");
    let seen = || -> Vec<(String, String, String)> {
        let list = js_sys::eval("globalThis.__tongxinTx.splice(0)").expect("read");
        triples(&list)
    };
    let s = tongxin_app::idb::IdbStore::open(&format!("tongxin-suite-durable-{}", Uuid::new_v4()))
        .await
        .expect("open");
    seen();
    s.commit_local(&[op(1, 100, 10, json!({"title": "入户走访"}))])
        .await
        .expect("commit");
    let bytes = vec![7u8; 64];
    s.put_blob("ab".repeat(32).as_str(), "image/jpeg", &bytes)
        .await
        .expect("photo");
    let local = seen();
    let durability_of = |list: &[(String, String, String)], store: &str| {
        list.iter()
            .filter(|(stores, mode, _)| {
                mode == "readwrite" && stores.split(',').any(|s| s == store)
            })
            .map(|(_, _, d)| d.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(durability_of(&local, "outbox"), ["strict"]);
    assert_eq!(durability_of(&local, "blobs"), ["strict"]);
    s.apply_pull(&[pulled(2, 101, 20, json!({"title": "拉取"}))], 5)
        .await
        .expect("pull");
    let pulled_page = seen();
    let page = durability_of(&pulled_page, "records");
    assert_eq!(page.len(), 1);
    assert_ne!(page[0], "strict");
}

/// The transactions seen, as (stores, mode, durability) triples, from the JS array of arrays.
#[cfg(target_arch = "wasm32")]
fn triples(list: &wasm_bindgen::JsValue) -> Vec<(String, String, String)> {
    let list = js_sys::Array::from(list);
    list.iter()
        .map(|t| {
            let t = js_sys::Array::from(&t);
            let text = |i: u32| t.get(i).as_string().unwrap_or_default();
            (text(0), text(1), text(2))
        })
        .collect()
}

/// A newer version of the app upgrading the database (another tab, after a deploy) is not
/// blocked by this one: the store's connection closes itself when asked (`versionchange`).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_newer_version_upgrading_the_database_is_not_blocked() {
    let name = format!("tongxin-suite-newer-{}", Uuid::new_v4());
    let s = tongxin_app::idb::IdbStore::open(&name).await.expect("open");
    s.commit_local(&[op(1, 100, 10, json!({"title": "入户走访"}))])
        .await
        .expect("commit");
    let upgrade = js_sys::Function::new_with_args(
        "name",
        "return new Promise((resolve) => {
           const r = indexedDB.open(name, 99);
           r.onblocked = () => resolve('blocked');
           r.onerror = () => resolve('error');
           r.onsuccess = () => { r.result.close(); resolve('upgraded'); };
         });",
    );
    let promise = upgrade
        .call1(&wasm_bindgen::JsValue::NULL, &name.clone().into())
        .expect("call");
    let outcome = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise))
        .await
        .expect("settled");
    assert_eq!(outcome.as_string().as_deref(), Some("upgraded"));
}

/// While another tab of an older app (one that does not let go of its connection) blocks the
/// upgrade, the page says so; the open then completes by itself once that tab closes, and the
/// notice goes.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn an_upgrade_blocked_by_an_older_tab_says_so_until_it_goes_through() {
    let name = format!("tongxin-suite-blocked-{}", Uuid::new_v4());
    // The older app's connection, at version 4 (its stores), with no versionchange handler.
    let hold = js_sys::Function::new_with_args(
        "name",
        "return new Promise((resolve, reject) => {
           const r = indexedDB.open(name, 4);
           r.onupgradeneeded = () => {
             for (const s of ['records', 'outbox', 'rejected', 'meta', 'blobs', 'blobs_pending', 'rows', 'order']) {
               r.result.createObjectStore(s);
             }
           };
           r.onsuccess = () => { globalThis.__tongxinOld = r.result; resolve(); };
           r.onerror = () => reject(r.error);
         });",
    );
    let held = hold
        .call1(&wasm_bindgen::JsValue::NULL, &name.clone().into())
        .expect("call");
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(held))
        .await
        .expect("the older connection");
    let notice = || {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("[data-testid=db-blocked]").ok().flatten())
            .and_then(|e| e.text_content())
    };
    let opening = tongxin_app::idb::IdbStore::open(&name);
    let release = async {
        // Wait (bounded) for the notice, then let the older tab go.
        let mut seen = None;
        for _ in 0..100 {
            seen = notice();
            if seen.is_some() {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(20).await;
        }
        js_sys::eval("globalThis.__tongxinOld.close()").expect("close");
        seen
    };
    let (opened, seen) = futures::future::join(opening, release).await;
    let s = opened.expect("opened once the older tab let go");
    assert!(
        seen.is_some_and(|text| text.contains("同心")),
        "the page says the upgrade waits for another tab"
    );
    assert_eq!(notice(), None);
    s.commit_local(&[op(1, 100, 10, json!({"title": "入户走访"}))])
        .await
        .expect("the upgraded database works");
}

/// How many values the object store `store` of database `name` holds, read on a connection of
/// its own.
#[cfg(target_arch = "wasm32")]
async fn values_in(name: String, store: &'static str) -> u32 {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    let db = Database::open(&name).await.expect("open raw");
    let count: u32 = {
        let tx = db.transaction(store).build().expect("tx");
        let request = tx
            .object_store(store)
            .expect("store")
            .count()
            .primitive()
            .expect("count");
        request.await.expect("counted")
    };
    db.close();
    count
}

/// A page staged by database version 5 (a JSON string, not bytes) is still read and unpacked.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_page_staged_as_text_by_version_5_is_still_read() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    let name = format!("tongxin-suite-stage-v5-{}", Uuid::new_v4());
    let s = tongxin_app::idb::IdbStore::open(&name).await.expect("open");
    s.defer_rows().await.expect("defer");
    let page = [pulled(
        1,
        800,
        10,
        json!({"title": "旧版暂存", "reported_at": 10}),
    )];
    {
        let db = Database::open(&name).await.expect("open raw");
        let tx = db
            .transaction("meta")
            .with_mode(TransactionMode::Readwrite)
            .build()
            .expect("tx");
        let meta = tx.object_store("meta").expect("store");
        let text = serde_json::to_string(&page).expect("encode");
        meta.put(text)
            .with_key(format!("stage/{:020}/{:04}/v5", 42, 0))
            .primitive()
            .expect("put")
            .await
            .expect("put");
        tx.commit().await.expect("commit");
        db.close();
    }
    s.forget_staged();
    let read = case(&s, 800).await.expect("read from the staged text");
    assert_eq!(read.fields["title"].value, json!("旧版暂存"));
    s.complete_rows().await.expect("complete");
    assert_eq!(values_in(name.clone(), "records").await, 1, "unpacked");
}

/// A first sync's deferral takes effect: the pages write their new records and no row, and
/// `complete_rows` writes every row and the counts (the suite's behaviour test checks the rows
/// are right; this one that the IndexedDB work they cost was left out).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_deferred_first_sync_stores_no_row_until_completed() {
    let name = format!("tongxin-suite-defer-{}", Uuid::new_v4());
    let s = tongxin_app::idb::IdbStore::open(&name).await.expect("open");
    let stored = |store: &'static str| values_in(name.clone(), store);
    s.defer_rows().await.expect("defer");
    let page: Vec<Record> = (0..3)
        .map(|i| {
            pulled(
                i + 1,
                100 + i,
                10,
                json!({"title": "诉求", "reported_at": 10}),
            )
        })
        .collect();
    assert_eq!(s.apply_page(&page, &[], 3).await.expect("page").len(), 3);
    assert_eq!(stored("records").await, 3);
    assert_eq!(stored("order").await, 0, "no row, no counts");
    assert!(s
        .first_rows(Collection::Cases, 10)
        .await
        .expect("first rows")
        .is_none());
    s.complete_rows().await.expect("complete");
    assert_eq!(stored("order").await, 3 + 1, "three rows and the counts");
    assert_eq!(
        s.first_rows(Collection::Cases, 10)
            .await
            .expect("first rows")
            .expect("told")
            .total,
        3
    );
}

/// A pull page of `n` new cases, records `from`.. (op ids the same).
#[cfg(target_arch = "wasm32")]
fn page(from: u128, n: u128) -> Vec<Record> {
    (from..from + n)
        .map(|i| pulled(i, i, 10, json!({"title": "诉求", "reported_at": 10})))
        .collect()
}

/// A first sync's drops of records no staged page holds delete them without unpacking the
/// staged pages (a summary profile's pages often drop one); a drop of a staged record, or any
/// drop once another tab may have staged pages, unpacks them first.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn drops_of_records_no_staged_page_holds_do_not_unpack_them() {
    use tongxin_app::idb::IdbStore;
    let name = format!("tongxin-suite-stage-drops-{}", Uuid::new_v4());
    let stored = |store: &'static str| values_in(name.clone(), store);
    let s = IdbStore::open(&name).await.expect("open");
    s.defer_rows().await.expect("defer");
    stage_sent(&s, &page(100, 300), 300).await.expect("stage");
    let drop_case = |n: u128| vec![(Collection::Cases, rid(n))];
    s.apply_page(&[], &drop_case(999), 301).await.expect("drop");
    assert_eq!(stored("records").await, 0, "not unpacked");
    s.apply_page(&[], &drop_case(150), 302).await.expect("drop");
    assert_eq!(
        stored("records").await,
        299,
        "unpacked, the staged case dropped"
    );
    assert!(case(&s, 150).await.is_none());
    stage_sent(&s, &page(400, 10), 310).await.expect("stage");
    s.forget_staged();
    s.apply_page(&[], &drop_case(998), 311).await.expect("drop");
    assert_eq!(stored("records").await, 309, "not known: unpacked first");
}

/// A staged page is a few IndexedDB values, and no record is written until something writes
/// records (or rows): reads overlay the staged pages on the stored records instead. Pages
/// staged and never unpacked survive the store being closed (a reload): the next store on the
/// database reads them, and unpacks them at its first write. A store that already found nothing
/// staged sees another's pages (another tab) once told of its changes.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn staged_pages_are_a_few_values_each_and_outlive_their_store() {
    use tongxin_app::idb::IdbStore;
    let name = format!("tongxin-suite-stage-{}", Uuid::new_v4());
    let stored = |store: &'static str| values_in(name.clone(), store);
    let meta;
    {
        let s = IdbStore::open(&name).await.expect("open");
        s.defer_rows().await.expect("defer");
        meta = stored("meta").await;
        assert_eq!(
            stage_sent(&s, &page(100, 300), 300)
                .await
                .expect("stage")
                .len(),
            300
        );
        assert_eq!(
            s.stage_page(&page(400, 200), &[], 500)
                .await
                .expect("stage")
                .len(),
            200
        );
        assert_eq!(stored("records").await, 0, "nothing unpacked yet");
        assert_eq!(
            stored("meta").await,
            meta + 4,
            "the pages as values of up to 250 records (2 + 1), and the cursor"
        );
    }
    // A reload: a new store reads the staged records without writing them.
    let s = IdbStore::open(&name).await.expect("open again");
    assert_eq!(s.list(Collection::Cases).await.expect("list").len(), 500);
    let some = s
        .get_many(&[(Collection::Cases, rid(150)), (Collection::Cases, rid(450))])
        .await
        .expect("get many");
    assert!(some.iter().all(Option::is_some));
    assert_eq!(stored("records").await, 0, "read, not unpacked");
    // A save does not wait for the unpacking: the edit lands on the pulled record, which alone
    // is written, and the staged copy merged in later changes nothing.
    s.commit_local(&[op(900, 150, 20, json!({"status": "accepted"}))])
        .await
        .expect("edit");
    assert_eq!(stored("records").await, 1, "the edited record only");
    let edited = case(&s, 150).await.expect("stored");
    assert_eq!(edited.fields["title"].value, json!("诉求"));
    assert_eq!(edited.fields["status"].value, json!("accepted"));
    s.complete_rows().await.expect("complete");
    assert_eq!(stored("records").await, 500);
    assert_eq!(case(&s, 150).await, Some(edited), "unpacking kept the edit");
    assert_eq!(stored("order").await, 500 + 1, "every row and the counts");
    assert_eq!(stored("meta").await, meta + 1, "no page left, the cursor");
    // Another tab stages a page: this store reads it once told of the other's changes.
    let other = IdbStore::open(&name).await.expect("another tab");
    other.defer_rows().await.expect("defer");
    other
        .stage_page(&page(700, 2), &[], 700)
        .await
        .expect("stage");
    s.forget_staged();
    assert!(case(&s, 701).await.is_some());
    s.complete_rows().await.expect("complete");
    assert_eq!(
        s.first_rows(Collection::Cases, 1)
            .await
            .expect("first rows")
            .expect("told")
            .total,
        502
    );
}
