//! Personal numbers in free text (issue 12, item 8), over real HTTP on SQLite and PostgreSQL: a
//! phone typed into a case's title reaches the levels that handle the case in clear and the
//! levels above redacted, like the named personal fields.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tongxin_server::store::Scope;
use tongxin_shared::{Collection, Entry, Hlc, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};

const CASE: u128 = 0xCA5E;

/// What the app's report form sends: the case and its first timeline entry.
fn report(warden: &str, t: u64) -> Vec<Op> {
    // Op ids apart from the small city's (1–6).
    let case = set_case(
        0x100,
        1,
        CASE,
        Hlc::new(t, 1),
        json!({
            "grid": rid(G1),
            "title": "楼道漏水 请回电13812345678",
            "description": "住户身份证532901199003071234，物业 0872-2123456",
            "category": "infrastructure",
            "source": "patrol",
            "status": "reported",
            "reporter": warden,
            "reported_at": t,
            "deadline": t + 72 * 3_600_000,
            "resident_phone": "13912345678",
        }),
    );
    let mut data = serde_json::Map::new();
    data.insert("action".into(), json!("report"));
    data.insert("from".into(), Value::Null);
    data.insert("to".into(), json!("reported"));
    data.insert("by".into(), json!(warden));
    data.insert("note".into(), json!("已电话联系 +86 138 1234 5678"));
    let entry = Op {
        id: OpId(uuid(0x101)),
        actor: case.actor,
        hlc: Hlc::new(t, 2),
        collection: Collection::Cases,
        record: RecordId(uuid(CASE)),
        body: OpBody::Append {
            entry: Entry { id: uuid(3), data },
        },
        schema: SCHEMA_VERSION,
    };
    vec![case, entry]
}

/// The case as a user pulls it: (title, description, resident phone, the entry's note, by).
fn seen(pulled: &BTreeMap<String, (u64, Value)>) -> [String; 5] {
    let r = &pulled
        .get(&rid(CASE))
        .unwrap_or_else(|| panic!("no case in {:?}", pulled.keys()))
        .1;
    let field = |f: &str| r["fields"][f]["value"].as_str().unwrap().to_owned();
    let entry = &r["log"][uuid(3).to_string()]["data"];
    [
        field("title"),
        field("description"),
        field("resident_phone"),
        entry["note"].as_str().unwrap().to_owned(),
        entry["by"].as_str().unwrap().to_owned(),
    ]
}

async fn free_text_is_redacted_above_the_handlers(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (warden, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let (community, _) = app
        .user(
            "cm1",
            "community_manager",
            json!({"communities": [rid(C1)]}),
        )
        .await;
    let (subdistrict, _) = app
        .user(
            "sm",
            "subdistrict_manager",
            json!({"subdistricts": [rid(SD)]}),
        )
        .await;
    let (city, _) = app.user("city", "city_manager", json!({})).await;
    assert_all_acked(&app.push_as(&warden, &report("w1", now_ms())).await);

    let clear = [
        "楼道漏水 请回电13812345678".to_owned(),
        "住户身份证532901199003071234，物业 0872-2123456".to_owned(),
        "13912345678".to_owned(),
        "已电话联系 +86 138 1234 5678".to_owned(),
        "w1".to_owned(),
    ];
    let redacted = [
        "楼道漏水 请回电138******78".to_owned(),
        "住户身份证**************1234，物业 0872-*******".to_owned(),
        "*******5678".to_owned(),
        "已电话联系 +86 138 **** **78".to_owned(),
        "w1".to_owned(),
    ];
    assert_eq!(seen(&app.pull_as(&subdistrict).await), redacted);
    assert_eq!(seen(&app.pull_as(&city).await), redacted);
    // The handlers read it in clear, and masking a copy for the levels above changed nothing
    // stored.
    assert_eq!(seen(&app.pull_as(&community).await), clear);
    assert_eq!(seen(&app.pull_as(&warden).await), clear);

    // What a reader may see whole is handed on as stored, not decoded and encoded again: each
    // record pulled is the store's own decoding of it, stamps and seq included.
    let page = app.state.store.pull(&Scope::All, 0, 10_000).await.unwrap();
    let stored: BTreeMap<String, (u64, Value)> = page
        .records
        .iter()
        .map(|(seq, r)| {
            let mut readable = tongxin_shared::compact::readable(r);
            readable["seq"] = json!(seq);
            (r.id.to_string(), (*seq, readable))
        })
        .collect();
    for reader in [&warden, &community] {
        let pulled = app.pull_as(reader).await;
        assert!(pulled.contains_key(&rid(CASE)));
        for (id, record) in &pulled {
            assert_eq!(Some(record), stored.get(id), "record {id}");
        }
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(free_text_is_redacted_above_the_handlers);
