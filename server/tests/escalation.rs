//! Configurable deadlines and the escalation sweeper, over a real server on SQLite and
//! PostgreSQL: an overdue case gets exactly one `escalate` entry per level it reaches (pulled by
//! devices, poked on the live stream), a second sweep adds nothing, two instances sweeping one
//! database add no duplicates, on-time and done cases get none; configured steps change the
//! result; `GET /api/v1/settings` serves the configured deadlines; a bad deadlines file stops
//! the binary at start with a clear message.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tongxin_server::escalation::{self, sweep, Swept};
use tongxin_shared::case::{Deadlines, DAY_MS, HOUR_MS, SYSTEM_ACTOR};
use tongxin_shared::{Hlc, RecordId};

/// A case in G1 with this status and deadline (record id `n`, op id `0x1000 + n`).
fn case(n: u128, status: &str, deadline: u64, extra: Value) -> tongxin_shared::Op {
    let mut fields = json!({
        "grid": rid(G1), "title": format!("case {n}"), "category": "safety",
        "status": status, "reported_at": deadline.saturating_sub(DAY_MS), "deadline": deadline,
    });
    if let (Value::Object(f), Value::Object(e)) = (&mut fields, extra) {
        f.extend(e);
    }
    set_case(0x1000 + n, 1, n, Hlc::new(now_ms(), 0), fields)
}

/// The levels of a pulled case's escalate entries, in timeline order.
fn escalations(record: &Value) -> Vec<String> {
    let mut entries: Vec<(String, String)> = record["log"]
        .as_object()
        .map(|log| {
            log.values()
                .filter(|e| e["data"]["action"] == "escalate")
                .map(|e| {
                    (
                        e["stamp"]["hlc"].as_str().unwrap().to_owned(),
                        e["data"]["level"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries.into_iter().map(|(_, l)| l).collect()
}

/// Every pulled case's escalation levels, by record number.
async fn levels(app: &TestApp, cases: &[u128]) -> BTreeMap<u128, Vec<String>> {
    let all = app.pull_all().await;
    cases
        .iter()
        .map(|n| (*n, escalations(&all[&uuid(*n).to_string()].1)))
        .collect()
}

fn lv(levels: &[&str]) -> Vec<String> {
    levels.iter().map(|s| (*s).to_owned()).collect()
}

/// Rows in the op log written by the system actor (escalations), straight from the database.
async fn system_ops(db: &TestDb) -> i64 {
    let q = "SELECT COUNT(*) FROM ops WHERE actor = $1 AND author IS NULL";
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let n = sqlx::query_scalar(q)
            .bind(SYSTEM_ACTOR.to_string())
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let n = sqlx::query_scalar(q)
            .bind(SYSTEM_ACTOR.to_string())
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }
}

async fn an_overdue_case_escalates_once_per_level(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    let res = app
        .seed(&[
            // Overdue by an hour, four days, eight days.
            case(1, "reported", t - HOUR_MS, json!({})),
            case(2, "accepted", t - 4 * DAY_MS, json!({})),
            case(3, "in_progress", t - 8 * DAY_MS, json!({})),
            // Closed before its deadline (which has passed since); resolved while late; on time.
            case(
                4,
                "closed",
                t - 8 * DAY_MS,
                json!({"closed_at": t - 9 * DAY_MS}),
            ),
            case(5, "resolved", t - 2 * DAY_MS, json!({})),
            case(6, "reported", t + DAY_MS, json!({})),
        ])
        .await;
    assert_all_acked(&res);
    let before = app.state.store.max_seq().await.unwrap();
    let mut live = Sse::connect(&app, Some(before)).await;

    let swept = sweep(&app.state, t).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            overdue: 3,
            escalations: 6
        }
    );
    // The live stream pokes with the new seq; a pull from the old cursor brings the three.
    let (event, id, _) = live.next().await;
    assert_eq!(event, "poke");
    assert!(id.parse::<u64>().unwrap() > before);
    let all = app.pull_all().await;
    let newer: Vec<u128> = (1..=6)
        .filter(|n| all[&uuid(*n).to_string()].0 > before)
        .collect();
    assert_eq!(newer, vec![1, 2, 3]);
    let cases = [1, 2, 3, 4, 5, 6];
    let want = BTreeMap::from([
        (1, lv(&["community"])),
        (2, lv(&["community", "subdistrict"])),
        (3, lv(&["community", "subdistrict", "city"])),
        (4, lv(&[])),
        (5, lv(&[])),
        (6, lv(&[])),
    ]);
    assert_eq!(levels(&app, &cases).await, want);
    // The entry: by the system (no user), with a note, in the case's timeline.
    let entry = all[&uuid(2).to_string()].1["log"]
        .as_object()
        .unwrap()
        .values()
        .find(|e| e["data"]["level"] == "subdistrict")
        .unwrap()
        .clone();
    assert_eq!(entry["stamp"]["actor"], SYSTEM_ACTOR.to_string());
    assert!(entry["data"].get("by").is_none(), "{entry}");
    assert_eq!(entry["data"]["to"], "accepted");
    assert!(entry["data"]["note"].as_str().unwrap().contains("3天"));
    assert_eq!(system_ops(&db).await, 6);

    // Again at the same time: nothing new, nothing written.
    let seq = app.state.store.max_seq().await.unwrap();
    assert_eq!(sweep(&app.state, t).await.unwrap().escalations, 0);
    assert_eq!(app.state.store.max_seq().await.unwrap(), seq);
    assert_eq!(levels(&app, &cases).await, want);

    // Five days later: case 1 reaches the subdistrict, case 2 the city, case 3 stays; case 6
    // (due tomorrow) is four days over by then.
    let swept = sweep(&app.state, t + 5 * DAY_MS).await.unwrap();
    assert_eq!(swept.escalations, 4);
    let mut want = want;
    want.insert(1, lv(&["community", "subdistrict"]));
    want.insert(2, lv(&["community", "subdistrict", "city"]));
    want.insert(6, lv(&["community", "subdistrict"]));
    assert_eq!(levels(&app, &cases).await, want);
    assert_eq!(system_ops(&db).await, 10);

    // Nobody but the server writes an escalation or takes one of its ids.
    let (manager, _) = app
        .user("c1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    let mut forged = append_case(0x2001, 1, 0x2002, Hlc::new(now_ms(), 0));
    if let tongxin_shared::OpBody::Append { entry } = &mut forged.body {
        entry.data.insert("action".into(), json!("escalate"));
        entry.data.insert("level".into(), json!("city"));
    }
    let squat = tongxin_shared::case::escalation_op(
        &Deadlines::default(),
        RecordId(uuid(1)),
        tongxin_shared::case::Level::City,
        tongxin_shared::case::Status::Reported,
        now_ms(),
    );
    let res = app.push_as(&manager, &[forged, squat]).await;
    assert_eq!(
        res["results"][0]["rejected"]["code"], "system_only",
        "{res}"
    );
    assert_eq!(
        res["results"][1]["rejected"]["code"], "system_only",
        "{res}"
    );
    assert_eq!(levels(&app, &cases).await, want);
}

/// Closing (销号) an escalated case is for the level it was escalated to or above: the
/// community's manager is refused (and the case stays open), the subdistrict's may close it;
/// a case never escalated is closed by the community as before.
async fn an_escalated_case_is_closed_by_its_level(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    let res = app
        .seed(&[
            case(1, "in_progress", t - 4 * DAY_MS, json!({})),
            case(2, "resolved", t + DAY_MS, json!({})),
        ])
        .await;
    assert_all_acked(&res);
    // Case 1 is four days late: escalated to the community and the subdistrict; then resolved.
    assert_eq!(sweep(&app.state, t).await.unwrap().escalations, 2);
    let resolved = set_case(
        0x3000,
        1,
        1,
        Hlc::new(now_ms(), 0),
        json!({"status": "resolved"}),
    );
    assert_all_acked(&app.push(&[resolved]).await);
    let (community, _) = app
        .user("c1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    let (subdistrict, _) = app
        .user(
            "s1",
            "subdistrict_manager",
            json!({"subdistricts": [rid(SD)]}),
        )
        .await;
    // Each manager pushes from their own device (a device id belongs to one user).
    let close = |op: u128, n: u128| {
        set_case(
            op,
            0xD000 + op,
            n,
            Hlc::new(now_ms(), 0),
            json!({"status": "closed", "closed_at": now_ms()}),
        )
    };
    let res = app
        .push_as(&community, &[close(0x3001, 1), close(0x3002, 2)])
        .await;
    assert_eq!(res["results"][0]["rejected"]["code"], "not_owner", "{res}");
    assert!(
        res["results"][0]["rejected"]["message"]
            .as_str()
            .unwrap()
            .contains("subdistrict"),
        "{res}"
    );
    assert!(res["results"][1]["seq"].is_u64(), "{res}");
    let all = app.pull_all().await;
    assert_eq!(
        all[&uuid(1).to_string()].1["fields"]["status"]["value"],
        "resolved"
    );
    assert_eq!(
        all[&uuid(2).to_string()].1["fields"]["status"]["value"],
        "closed"
    );
    let res = app.push_as(&subdistrict, &[close(0x3003, 1)]).await;
    assert!(res["results"][0]["seq"].is_u64(), "{res}");
    let all = app.pull_all().await;
    assert_eq!(
        all[&uuid(1).to_string()].1["fields"]["status"]["value"],
        "closed"
    );
}

async fn configured_steps_change_the_result_and_settings_serve_them(db: TestDb) {
    let t = now_ms();
    // Built-in steps: a case 1.5 days over is the community's.
    let built_in = TestApp::spawn(&db.url).await;
    small_city(&built_in).await;
    assert_all_acked(
        &built_in
            .seed(&[case(1, "reported", t - 36 * HOUR_MS, json!({}))])
            .await,
    );
    sweep(&built_in.state, t).await.unwrap();
    assert_eq!(levels(&built_in, &[1]).await[&1], lv(&["community"]));

    // A second instance on the same database with a faster ladder: the subdistrict after one
    // day, the city after two. It adds the subdistrict's entry (the community's is recorded).
    let deadlines = Deadlines::from_json(
        r#"{"default_hours": 48, "hours": {"safety": 6, "environment": 12},
            "escalation": {"subdistrict_after_days": 1, "city_after_days": 2}}"#,
    )
    .unwrap();
    let configured = TestApp::spawn_with_deadlines(&db.url, deadlines.clone()).await;
    let swept = sweep(&configured.state, t).await.unwrap();
    assert_eq!(swept.escalations, 1);
    assert_eq!(
        levels(&configured, &[1]).await[&1],
        lv(&["community", "subdistrict"])
    );
    let all = configured.pull_all().await;
    let note = all[&uuid(1).to_string()].1["log"]
        .as_object()
        .unwrap()
        .values()
        .find(|e| e["data"]["level"] == "subdistrict")
        .unwrap()["data"]["note"]
        .clone();
    assert!(note.as_str().unwrap().contains("1天"), "{note}");
    // Half a day later it is the city's.
    sweep(&configured.state, t + 13 * HOUR_MS).await.unwrap();
    assert_eq!(
        levels(&configured, &[1]).await[&1],
        lv(&["community", "subdistrict", "city"])
    );

    // Settings: any signed-in role reads the configured values; nobody else.
    let (warden, _) = configured
        .user("w1", "warden", json!({"grids": [rid(G1)]}))
        .await;
    for client in [&configured.client, &warden] {
        let res = client
            .get(format!("{}/api/v1/settings", configured.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body,
            json!({"deadlines": {
                "default_hours": 48,
                "hours": {"environment": 12, "safety": 6},
                "escalation": {"subdistrict_after_days": 1, "city_after_days": 2},
            }})
        );
        let parsed: tongxin_shared::wire::Settings = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.deadlines, deadlines);
    }
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/settings", configured.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // The built-in instance serves the built-in table.
    let body: Value = built_in
        .client
        .get(format!("{}/api/v1/settings", built_in.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parsed: tongxin_shared::wire::Settings = serde_json::from_value(body).unwrap();
    assert_eq!(parsed.deadlines, Deadlines::default());
}

async fn two_sweepers_add_no_duplicates(db: TestDb) {
    let a = TestApp::spawn(&db.url).await;
    let b = TestApp::spawn(&db.url).await;
    small_city(&a).await;
    let t = now_ms();
    // More than a page (500) of overdue cases, late by 0–9 days, plus some on time.
    let n: u128 = 620;
    let late_days = |i: u128| (i % 10) as u64;
    let ops: Vec<_> = (1..=n)
        .map(|i| {
            let deadline = if i.is_multiple_of(31) {
                t + DAY_MS
            } else {
                t - late_days(i) * DAY_MS - HOUR_MS
            };
            case(0x10_000 + i, "in_progress", deadline, json!({}))
        })
        .collect();
    for chunk in ops.chunks(500) {
        assert_all_acked(&a.seed(chunk).await);
    }
    // Both instances sweep at once, three times over.
    for _ in 0..3 {
        let (x, y) = tokio::join!(sweep(&a.state, t), sweep(&b.state, t));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.overdue, y.overdue);
    }
    let expected = |i: u128| -> Vec<String> {
        if i.is_multiple_of(31) {
            return vec![];
        }
        match late_days(i) {
            0..=2 => lv(&["community"]),
            // Three days and an hour over is more than three days: the subdistrict's.
            3..=6 => lv(&["community", "subdistrict"]),
            _ => lv(&["community", "subdistrict", "city"]),
        }
    };
    let ids: Vec<u128> = (1..=n).map(|i| 0x10_000 + i).collect();
    let got = levels(&b, &ids).await;
    let mut total = 0;
    for i in 1..=n {
        let want = expected(i);
        total += want.len();
        assert_eq!(got[&(0x10_000 + i)], want, "case {i}");
    }
    assert_eq!(system_ops(&db).await, total as i64);
    assert_eq!(sweep(&b.state, t).await.unwrap().escalations, 0);
}

async fn the_background_sweeper_runs_at_start(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    assert_all_acked(
        &app.seed(&[case(1, "reported", now_ms() - HOUR_MS, json!({}))])
            .await,
    );
    // An hour between sweeps: only the one at start can write within the test.
    let task = escalation::spawn(app.state.clone(), Duration::from_hours(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if levels(&app, &[1]).await[&1] == lv(&["community"]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no escalation within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Closing the server ends the task.
    app.state.close();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the sweeper stops when the server closes")
        .unwrap();
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(
    an_escalated_case_is_closed_by_its_level,
    an_overdue_case_escalates_once_per_level,
    configured_steps_change_the_result_and_settings_serve_them,
    two_sweepers_add_no_duplicates,
    the_background_sweeper_runs_at_start,
);

/// The binary with a deadlines file that cannot be used: exit code 1 and one line that names
/// the file and the value, before it opens a database or a port.
#[test]
fn a_bad_deadlines_file_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
            .arg("--deadlines")
            .arg(file)
            .args(["--addr", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env_remove("TONGXIN_DATABASE_URL")
            .env_remove("TONGXIN_DEMO_CITY")
            .env_remove("TONGXIN_ESCALATION_MINUTES")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let bad = dir.path().join("deadlines.json");
    for (text, says) in [
        (
            r#"{"hours": {"safety": 0}}"#,
            "is refused: hours.safety must be a whole number of hours from 1 to 8784; it is 0",
        ),
        (
            r#"{"hours": {"safety": -3}}"#,
            "is refused: hours.safety must be a whole number of hours from 1 to 8784; it is -3",
        ),
        (
            r#"{"hours": {"safty": 24}}"#,
            "is refused: 'safty' is not a case category",
        ),
        (
            r#"{"escalation": {"subdistrict_after_days": 5, "city_after_days": 4}}"#,
            "escalation.city_after_days (4) must be more than escalation.subdistrict_after_days (5)",
        ),
        (
            r#"{"hours": {"safety": 24},}"#,
            "is refused: the deadlines are not valid JSON",
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        let out = run(&bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {stderr}");
        let line = stderr.lines().last().unwrap_or_default();
        assert!(
            line.starts_with(&format!("tongxin: the deadlines file {}", bad.display())),
            "{line}"
        );
        assert!(line.contains(says), "{text}: {line}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
    }
    let out = run(&dir.path().join("missing.json"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("tongxin: cannot read the deadlines file"),
        "{stderr}"
    );
    // Nothing was created: the file is checked before the database is opened.
    assert!(!dir.path().join("data").exists());
}
