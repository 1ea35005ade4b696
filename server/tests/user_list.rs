//! The administrator's user list over real HTTP, on SQLite and PostgreSQL
//! (`GET /api/v1/admin/users?q=&role=&sort=&limit=&offset=`): search by username, name, role
//! (id and both languages' names) and area (names, codes, ids), a role filter, pages with the
//! count of matches, every sort in both directions, renamed places and moved users found by
//! their new names, the search tables filled for a database from before them, and bad
//! parameters refused with a message; admins only.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use tongxin_shared::{Collection, Hlc};

/// One page: the usernames, the count of matches and of everyone.
async fn list(app: &TestApp, query: &str) -> (Vec<String>, u64, u64) {
    let res = app
        .client
        .get(format!("{}/api/v1/admin/users?{query}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{query}");
    let page: Value = res.json().await.unwrap();
    let names = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    (
        names,
        page["total"].as_u64().unwrap(),
        page["all"].as_u64().unwrap(),
    )
}

/// The usernames matching `q` (by username, one page of up to 500).
async fn found(app: &TestApp, q: &str) -> Vec<String> {
    let q = urlencode(q);
    let (names, total, _) = list(app, &format!("q={q}&limit=500")).await;
    assert_eq!(total as usize, names.len(), "{q}");
    names
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The small city with names and codes, and its people:
/// wardens w0001 (张三, G1) and w0002 (李四, G2), a grid leader gl1 (Élodie, G3), a community
/// manager cm1 (王五, C1), a subdistrict manager sm1 (赵六), a city manager city (钱七), and
/// the administrator root (no area).
async fn people(app: &TestApp) {
    small_city(app).await;
    let t = now_ms();
    let named = |op, c, id, n, name: &str, code: &str| {
        set(
            c,
            op,
            id,
            Hlc::new(t, n),
            json!({"name": name, "code": code}),
        )
    };
    assert_all_acked(
        &app.push(&[
            named(0x101, Collection::Subdistricts, SD, 10, "下关街道", "S1"),
            named(0x102, Collection::Communities, C1, 11, "洱海社区", "S1-C01"),
            named(0x103, Collection::Communities, C2, 12, "苍山社区", "S1-C02"),
            named(0x104, Collection::Grids, G1, 13, "第一网格", "S1-C01-G01"),
            named(0x105, Collection::Grids, G2, 14, "第二网格", "S1-C01-G02"),
            named(0x106, Collection::Grids, G3, 15, "第三网格", "S1-C02-G01"),
        ])
        .await,
    );
    for (username, name, role, area) in [
        ("w0001", "张三", "warden", json!({"grids": [rid(G1)]})),
        ("w0002", "李四", "warden", json!({"grids": [rid(G2)]})),
        ("gl1", "Élodie", "grid_leader", json!({"grids": [rid(G3)]})),
        (
            "cm1",
            "王五",
            "community_manager",
            json!({"communities": [rid(C1)]}),
        ),
        (
            "sm1",
            "赵六",
            "subdistrict_manager",
            json!({"subdistricts": [rid(SD)]}),
        ),
        ("city", "钱七", "city_manager", json!({})),
    ] {
        let mut body = json!({"username": username, "display_name": name, "role": role, "password": "long-enough"});
        if let (Value::Object(b), Value::Object(a)) = (&mut body, area) {
            b.extend(a);
        }
        let res = app
            .client
            .post(format!("{}/api/v1/admin/users", app.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{username}");
    }
}

async fn the_list_searches_username_name_role_and_area(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    people(&app).await;
    assert_eq!(found(&app, "W000").await, ["w0001", "w0002"]);
    assert_eq!(found(&app, "张三").await, ["w0001"]);
    // Case folding beyond ASCII, as the app folds.
    assert_eq!(found(&app, "ÉLODIE").await, ["gl1"]);
    // A role by its id and by its names in both languages.
    assert_eq!(found(&app, "warden").await, ["w0001", "w0002"]);
    assert_eq!(found(&app, "网格员").await, ["w0001", "w0002"]);
    assert_eq!(found(&app, "Grid leader").await, ["gl1"]);
    assert_eq!(found(&app, "市级管理员").await, ["city"]);
    // An area by a place's name, code or id, at any level of the user's area.
    assert_eq!(found(&app, "第一网格").await, ["w0001"]);
    assert_eq!(found(&app, "s1-c01-g0").await, ["w0001", "w0002"]);
    assert_eq!(found(&app, "洱海社区").await, ["cm1", "w0001", "w0002"]);
    assert_eq!(
        found(&app, "下关").await,
        ["cm1", "gl1", "sm1", "w0001", "w0002"]
    );
    assert_eq!(found(&app, &rid(G3)).await, ["gl1"]);
    // Every term must be found, each anywhere.
    assert_eq!(found(&app, "洱海社区 李四").await, ["w0002"]);
    assert!(found(&app, "第一网格 李四").await.is_empty());
    // A term's % and _ are themselves, not wildcards.
    assert!(found(&app, "w%1").await.is_empty());
    assert!(found(&app, "w_0").await.is_empty());
    // The role filter, alone and with a search.
    let (names, total, all) = list(&app, "role=warden").await;
    assert_eq!(
        (names, total, all),
        (vec!["w0001".into(), "w0002".into()], 2, 7)
    );
    let (names, total, _) = list(&app, "role=warden&q=%E6%9D%8E%E5%9B%9B").await;
    assert_eq!((names, total), (vec!["w0002".to_owned()], 1));
}

async fn the_list_pages_with_the_count_of_matches(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    for i in 0..12 {
        app.user(&format!("w{i:02}"), "warden", json!({"grids": [rid(G1)]}))
            .await;
    }
    // Everyone by username: root, then w00 … w11.
    let (first, total, all) = list(&app, "").await;
    assert_eq!((first.len(), total, all), (13, 13, 13));
    let mut paged = Vec::new();
    for offset in [0, 5, 10] {
        let (names, total, all) = list(&app, &format!("limit=5&offset={offset}")).await;
        assert_eq!((total, all), (13, 13));
        assert!(names.len() <= 5);
        paged.extend(names);
    }
    assert_eq!(paged, first, "the pages make the whole list, in order");
    assert_eq!(first[0], "root");
    // The count is of the matches; a page past the end is empty, with the count.
    let (names, total, all) = list(&app, "q=w1&limit=1&offset=1").await;
    assert_eq!((names, total, all), (vec!["w11".to_owned()], 2, 13));
    let (names, total, _) = list(&app, "q=w1&offset=2").await;
    assert_eq!((names.len(), total), (0, 2));
}

async fn the_list_sorts_by_every_column_both_ways(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    people(&app).await;
    let order = |q: &'static str| {
        let app = &app;
        async move { list(app, &format!("sort={q}")).await.0 }
    };
    let by_username = ["city", "cm1", "gl1", "root", "sm1", "w0001", "w0002"];
    assert_eq!(order("username").await, by_username);
    let mut reversed = by_username.to_vec();
    reversed.reverse();
    assert_eq!(order("-username").await, reversed);
    // By code point, as the app compares: É (U+00C9) < 张 (U+5F20) < 李 < 王 < 赵 < 钱; "root"
    // (its display name) first.
    assert_eq!(
        order("name").await,
        ["root", "gl1", "w0001", "w0002", "cm1", "sm1", "city"]
    );
    // The roles' order (wardens first, the administrator last), then the username.
    assert_eq!(
        order("role").await,
        ["w0001", "w0002", "gl1", "cm1", "sm1", "city", "root"]
    );
    assert_eq!(
        order("-role").await,
        ["root", "city", "sm1", "cm1", "gl1", "w0002", "w0001"]
    );
    // The area: the subdistrict's name, then the community's, then the grid's (下关街道 for
    // all; 洱海社区 U+6D31 < 苍山社区 U+82CD; none before any); no area last.
    assert_eq!(
        order("area").await,
        ["sm1", "cm1", "w0001", "w0002", "gl1", "city", "root"]
    );
    assert_eq!(
        order("-area").await,
        ["root", "city", "gl1", "w0002", "w0001", "cm1", "sm1"]
    );
}

async fn renamed_places_and_moved_users_are_found_by_their_new_names(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    people(&app).await;
    let t = now_ms() + 1_000;
    assert_all_acked(
        &app.push(&[set(
            Collection::Grids,
            0x201,
            G1,
            Hlc::new(t, 1),
            json!({"name": "龙山网格"}),
        )])
        .await,
    );
    assert_eq!(found(&app, "龙山").await, ["w0001"]);
    assert!(found(&app, "第一网格").await.is_empty());
    // A user moved to another grid and renamed.
    let res = app
        .client
        .put(format!("{}/api/v1/admin/users/w0002", app.base))
        .json(&json!({"username": "w0002", "display_name": "孙八", "role": "warden", "grids": [rid(G3)]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(found(&app, "第三网格").await, ["gl1", "w0002"]);
    assert!(found(&app, "第二网格").await.is_empty());
    assert_eq!(found(&app, "孙八").await, ["w0002"]);
    assert!(found(&app, "李四").await.is_empty());
    // The page names its users' places (by id: name and code).
    let page: Value = app
        .client
        .get(format!("{}/api/v1/admin/users?q=w0001", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let places = page["places"].as_array().unwrap();
    assert_eq!(places.len(), 3, "G1, C1 and SD: {page}");
    assert!(places.contains(&json!({"id": rid(G1), "name": "龙山网格", "code": "S1-C01-G01"})));
}

/// Ids are chosen by devices: a grid and a community with the same id in one batch are both
/// stored (their names are kept once per id; PostgreSQL refuses an upsert touching a row twice).
async fn places_sharing_an_id_in_one_batch_are_stored(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let t = now_ms();
    let res = app
        .seed(&[
            set(
                Collection::Communities,
                0x301,
                0x3FF,
                Hlc::new(t, 1),
                json!({"name": "甲社区"}),
            ),
            set(
                Collection::Grids,
                0x302,
                0x3FF,
                Hlc::new(t, 2),
                json!({"name": "乙网格"}),
            ),
            set(
                Collection::Grids,
                0x303,
                0x3FE,
                Hlc::new(t, 3),
                json!({"name": "丙网格", "deleted": true}),
            ),
        ])
        .await;
    let seqs = res["results"].as_array().unwrap();
    assert!(seqs.iter().all(|r| r["seq"].is_u64()), "{res}");
}

/// Runs `statements` on the database directly (what a database from before the search tables
/// looks like).
async fn run_sql(db: &TestDb, statements: &[&str]) {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        for s in statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        for s in statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
}

async fn a_database_from_before_the_search_tables_gets_them_at_start(db: TestDb) {
    {
        let app = TestApp::spawn(&db.url).await;
        people(&app).await;
    }
    run_sql(
        &db,
        &[
            "DELETE FROM user_places",
            "DELETE FROM place_names",
            "UPDATE users SET folded = ''",
            "DELETE FROM meta WHERE key = 'user_list_backfilled'",
        ],
    )
    .await;
    let app = TestApp::spawn(&db.url).await;
    assert_eq!(found(&app, "张三").await, ["w0001"]);
    assert_eq!(found(&app, "洱海社区").await, ["cm1", "w0001", "w0002"]);
    assert_eq!(
        list(&app, "sort=area").await.0,
        ["sm1", "cm1", "w0001", "w0002", "gl1", "city", "root"]
    );
}

async fn bad_parameters_are_refused_with_a_message(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let long = format!("q={}", "x".repeat(201));
    for (query, says) in [
        ("role=mayor", "'role' is one of warden"),
        ("sort=age", "'sort' is one of username, name, role, area"),
        ("limit=0", "'limit' is from 1 to 500"),
        ("limit=501", "'limit' is from 1 to 500, not 501"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("page=2", "page"),
        (long.as_str(), "more than 200 characters"),
        ("q=a+b+c+d+e+f+g+h+i", "more than 8 words"),
    ] {
        let res = app
            .client
            .get(format!("{}/api/v1/admin/users?{query}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_query", "{query}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
    }
    // Only an administrator lists users, whatever the query.
    let (w, _) = app.user("ww", "warden", json!({"grids": [rid(G1)]})).await;
    let res = w
        .get(format!("{}/api/v1/admin/users?q=ww", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/admin/users", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(
    the_list_searches_username_name_role_and_area,
    the_list_pages_with_the_count_of_matches,
    the_list_sorts_by_every_column_both_ways,
    renamed_places_and_moved_users_are_found_by_their_new_names,
    a_database_from_before_the_search_tables_gets_them_at_start,
    bad_parameters_are_refused_with_a_message,
    places_sharing_an_id_in_one_batch_are_stored,
);
