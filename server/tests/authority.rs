//! Issue 12's attacks, replayed over HTTP against the real server on SQLite and PostgreSQL:
//! each must be refused (or, for a hierarchy change, followed through) and must fail if its
//! rule is removed.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use tongxin_shared::{Collection, Hlc};

fn code(res: &Value, i: usize) -> String {
    res["results"][i]["rejected"]["code"]
        .as_str()
        .unwrap_or("acked")
        .to_owned()
}

/// Item 1: a subdistrict manager's batch-local community whose id is another subdistrict's grid
/// does not carry an edit of a case in that grid.
async fn item1_fake_hierarchy_record(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    // Another subdistrict with a community and grid G9, and a case in it.
    let (sd2, c9, g9) = (0x5E, 0xC9, 0x69);
    assert_all_acked(
        &app.push(&[
            set(
                Collection::Subdistricts,
                10,
                sd2,
                Hlc::new(t, 1),
                json!({"name": "S2"}),
            ),
            set(
                Collection::Communities,
                11,
                c9,
                Hlc::new(t, 2),
                json!({"name": "C9", "subdistrict": rid(sd2)}),
            ),
            set(
                Collection::Grids,
                12,
                g9,
                Hlc::new(t, 3),
                json!({"name": "G9", "community": rid(c9)}),
            ),
            set_case(
                13,
                1,
                0x900,
                Hlc::new(t, 4),
                json!({"grid": rid(g9), "title": "原标题"}),
            ),
        ])
        .await,
    );
    let (s1, _) = app
        .user(
            "s1",
            "subdistrict_manager",
            json!({"subdistricts": [rid(SD)]}),
        )
        .await;
    let res = app
        .push_as(
            &s1,
            &[
                set(
                    Collection::Communities,
                    20,
                    g9,
                    Hlc::new(t, 5),
                    json!({"name": "假", "subdistrict": rid(SD)}),
                ),
                set_case(
                    21,
                    0x51,
                    0x900,
                    Hlc::new(t, 6),
                    json!({"title": "改", "resident_phone": "13900000000"}),
                ),
            ],
        )
        .await;
    assert_eq!(code(&res, 1), "out_of_scope", "{res}");
    let all = app.pull_all().await;
    let case = &all[&rid(0x900)].1;
    assert_eq!(case["fields"]["title"]["value"], "原标题");
    // And the case is not in the attacker's pulls.
    assert!(!app.pull_as(&s1).await.contains_key(&rid(0x900)));
}

/// Item 2: a grid moved to another community takes its records along: the new community's
/// manager pulls them, the old one's device resets and no longer has them.
async fn item2_a_moved_grid_takes_its_records(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    assert_all_acked(
        &app.push(&[set_case(
            30,
            1,
            0x901,
            Hlc::new(t, 10),
            json!({"grid": rid(G2), "title": "G2 的事"}),
        )])
        .await,
    );
    let (old, _) = app
        .user(
            "cm1",
            "community_manager",
            json!({"communities": [rid(C1)]}),
        )
        .await;
    let (new, _) = app
        .user(
            "cm2",
            "community_manager",
            json!({"communities": [rid(C2)]}),
        )
        .await;
    let pull = |c: reqwest::Client, cursor: u64, scope: String| {
        let base = app.base.clone();
        async move {
            let res = c
                .get(format!(
                    "{base}/api/v1/sync/pull?cursor={cursor}&limit=500&scope={scope}"
                ))
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()
        }
    };
    let first = pull(old.clone(), 0, String::new()).await;
    assert!(first["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["i"] == rid(0x901)));
    let (cursor, scope) = (
        first["cursor"].as_u64().unwrap(),
        first["scope"].as_str().unwrap().to_owned(),
    );
    assert!(!app.pull_as(&new).await.contains_key(&rid(0x901)));

    // The administrator moves G2 from C1 to C2.
    assert_all_acked(
        &app.push(&[set(
            Collection::Grids,
            31,
            G2,
            Hlc::new(t, 11),
            json!({"community": rid(C2)}),
        )])
        .await,
    );

    assert!(
        app.pull_as(&new).await.contains_key(&rid(0x901)),
        "the new community pulls the grid's case"
    );
    let next = pull(old.clone(), cursor, scope).await;
    assert_eq!(
        next["reset"], true,
        "the old community's device starts over: {next}"
    );
    assert!(
        !app.pull_as(&old).await.contains_key(&rid(0x901)),
        "and no longer gets the case"
    );
    // The stored place follows: the case's community is C2 now.
    let page = app
        .state
        .store
        .pull(
            &tongxin_server::store::Scope::Communities(vec![tongxin_shared::RecordId(uuid(C2))]),
            0,
            1000,
        )
        .await
        .unwrap();
    assert!(page.records.iter().any(|(_, r)| r.id.0 == uuid(0x901)));
}

/// Items 3, 4 and 6 over HTTP: a warden cannot delete a case, an entry cannot be replaced, an
/// op id cannot be re-used for other content, and the system's device id is not a user's.
async fn items_3_4_6_over_http(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    let (w, _) = app.user("wa", "warden", json!({"grids": [rid(G1)]})).await;
    let created = set_case(
        40,
        0xA1,
        0x902,
        Hlc::new(t, 20),
        json!({"grid": rid(G1), "title": "t", "reporter": "wa", "status": "reported"}),
    );
    assert_all_acked(&app.push_as(&w, std::slice::from_ref(&created)).await);
    let res = app
        .push_as(
            &w,
            &[set_case(
                41,
                0xA1,
                0x902,
                Hlc::new(t, 21),
                json!({"deleted": true}),
            )],
        )
        .await;
    assert_eq!(code(&res, 0), "forbidden_field");
    let mut other = created.clone();
    other.body = tongxin_shared::OpBody::Set {
        fields: [("title".to_owned(), json!("另一个"))].into(),
    };
    assert_eq!(code(&app.push_as(&w, &[other]).await, 0), "op_id_conflict");
    assert_eq!(
        code(&app.push_as(&w, &[created]).await, 0),
        "acked",
        "the same op again is acked"
    );
    let mut note = append_case(42, 0x902, 0xE1, Hlc::new(t, 22));
    note.actor = tongxin_shared::ActorId(uuid(0xA1));
    if let tongxin_shared::OpBody::Append { entry } = &mut note.body {
        entry.data.insert("by".into(), json!("wa"));
    }
    assert_all_acked(&app.push_as(&w, &[note.clone()]).await);
    let mut replace = note.clone();
    replace.id = tongxin_shared::OpId(uuid(43));
    replace.hlc = Hlc::new(t, 30);
    assert_eq!(
        code(&app.push_as(&w, &[replace]).await, 0),
        "entry_conflict"
    );
    let mut system = set_case(44, 0, 0x902, Hlc::new(t, 23), json!({"title": "x"}));
    system.actor = tongxin_shared::case::SYSTEM_ACTOR;
    assert_eq!(code(&app.push_as(&w, &[system]).await, 0), "system_only");
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(TestDb::sqlite().await).await } )*
        }
        mod postgres {
            use super::*;
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(TestDb::postgres().await).await } )*
        }
    };
}

both!(
    item1_fake_hierarchy_record,
    item2_a_moved_grid_takes_its_records,
    items_3_4_6_over_http
);
