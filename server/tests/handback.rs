//! Handing cases back (退回待派), over a real server on SQLite and PostgreSQL: a case assigned to
//! someone who no longer works where it sits — their area or role changed or their account was
//! disabled through the admin API, or its grid moved to another community — loses its assignee,
//! is `reported` again with an `unassign` entry by the system, and the community's manager may
//! dispatch it again; cases whose assignee still qualifies are untouched, a second run (or two
//! at once) writes nothing more, and the background sweep runs at start.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tongxin_server::handback::run;
use tongxin_shared::case::{Action, Status, DAY_MS, SYSTEM_ACTOR};
use tongxin_shared::policy::actions;
use tongxin_shared::policy::handback::Only;
use tongxin_shared::{ActorId, Collection, Hlc, Op, OpId, RecordId};

/// A reported case in `grid`, on time (record id `n`), seeded by the system.
fn case(n: u128, grid: u128) -> Op {
    let t = now_ms();
    set_case(
        0x1000 + n,
        1,
        n,
        Hlc::new(t, 0),
        json!({
            "grid": rid(grid), "title": format!("case {n}"), "category": "safety",
            "status": "reported", "reported_at": t, "deadline": t + 3 * DAY_MS,
        }),
    )
}

/// `by`'s accept (受理派单) of case `n` to `assignee`, from `by`'s device `device`.
fn accept(n: u128, by: &str, device: u128, assignee: &str) -> Vec<Op> {
    let t = now_ms();
    actions::step(
        Some(Status::Reported),
        Action::Accept,
        by,
        Some(assignee),
        t,
        "",
        uuid::Uuid::now_v7(),
    )
    .into_iter()
    .enumerate()
    .map(|(i, body)| Op {
        id: OpId(uuid::Uuid::now_v7()),
        actor: ActorId(uuid(device)),
        hlc: Hlc::new(t, u32::try_from(i).unwrap()),
        collection: Collection::Cases,
        record: RecordId(uuid(n)),
        body,
        schema: tongxin_shared::SCHEMA_VERSION,
    })
    .collect()
}

/// Case `n` as `client` pulls it.
async fn pulled(app: &TestApp, client: &reqwest::Client, n: u128) -> Value {
    app.pull_as(client).await[&rid(n)].1.clone()
}

fn field<'a>(case: &'a Value, name: &str) -> &'a Value {
    &case["fields"][name]["value"]
}

/// The case's `unassign` entries' data.
fn unassigns(case: &Value) -> Vec<Value> {
    case["log"]
        .as_object()
        .map(|log| {
            log.values()
                .filter(|e| e["data"]["action"] == "unassign")
                .inspect(|e| assert_eq!(e["stamp"]["actor"], SYSTEM_ACTOR.to_string()))
                .map(|e| e["data"].clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts case `n` was handed back from `former` (as the manager's pull shows it).
async fn assert_handed_back(app: &TestApp, manager: &reqwest::Client, n: u128, former: &str) {
    let c = pulled(app, manager, n).await;
    assert_eq!(field(&c, "assignee"), &Value::Null, "{c}");
    assert_eq!(field(&c, "status"), "reported", "{c}");
    assert_eq!(
        unassigns(&c),
        [
            json!({"action": "unassign", "reason": "assignee_moved", "from": "accepted",
                "to": "reported", "former": former})
        ]
    );
}

/// A second run, over every open case, writes nothing.
async fn assert_nothing_more(app: &TestApp) {
    let before = app.state.store.max_seq().await.unwrap();
    let done = run(&app.state, Only::All, now_ms()).await.unwrap();
    assert_eq!(done.cases, 0, "{done:?}");
    assert_eq!(app.state.store.max_seq().await.unwrap(), before);
}

async fn put_user(app: &TestApp, username: &str, body: Value) {
    let res = app
        .client
        .put(format!("{}/api/v1/admin/users/{username}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

async fn a_warden_moved_to_another_community_hands_their_cases_back(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (manager, _) = app
        .user("m1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    let (warden, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    app.user("w2", "warden", json!({"grids": [rid(G1)]})).await;
    assert_all_acked(&app.seed(&[case(1, G1), case(2, G1), case(3, G1)]).await);
    // m1 dispatches 1 and 2 to w1, 3 to w2 (through the rules, as the app does).
    for (n, who) in [(1, "w1"), (2, "w1"), (3, "w2")] {
        assert_all_acked(&app.push_as(&manager, &accept(n, "m1", 0xA1, who)).await);
    }
    assert_eq!(field(&pulled(&app, &warden, 1).await, "assignee"), "w1");

    // The administrator moves w1 to a grid of the other community.
    put_user(
        &app,
        "w1",
        json!({"username": "w1", "display_name": "w1", "role": "warden", "grids": [rid(G3)]}),
    )
    .await;
    for n in [1, 2] {
        assert_handed_back(&app, &manager, n, "w1").await;
    }
    assert_eq!(field(&pulled(&app, &manager, 3).await, "assignee"), "w2");
    assert!(unassigns(&pulled(&app, &manager, 3).await).is_empty());
    assert_nothing_more(&app).await;

    // Back in the dispatch queue: m1 may accept it again, to w2.
    assert_all_acked(&app.push_as(&manager, &accept(1, "m1", 0xA1, "w2")).await);
    assert_eq!(field(&pulled(&app, &manager, 1).await, "assignee"), "w2");

    // Disabling w2 hands back both of theirs.
    put_user(
        &app,
        "w2",
        json!({"username": "w2", "display_name": "w2", "role": "warden", "grids": [rid(G1)],
               "disabled": true}),
    )
    .await;
    let c = pulled(&app, &manager, 1).await;
    assert_eq!(field(&c, "assignee"), &Value::Null, "{c}");
    assert_eq!(
        unassigns(&c).len(),
        2,
        "a new hand-back for the new assignment"
    );
    assert_handed_back(&app, &manager, 3, "w2").await;
    assert_nothing_more(&app).await;
}

async fn a_grid_moved_to_another_community_hands_back_the_community_s_assignees(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (manager, _) = app
        .user("m1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    let (m2, _) = app
        .user("m2", "community_manager", json!({"communities": [rid(C2)]}))
        .await;
    app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    assert_all_acked(&app.seed(&[case(1, G1), case(2, G1), case(3, G2)]).await);
    // 1 to the community manager, 2 to the grid's warden, 3 (in G2, which stays) to m1.
    for (n, who) in [(1, "m1"), (2, "w1"), (3, "m1")] {
        assert_all_acked(&app.push_as(&manager, &accept(n, "m1", 0xA1, who)).await);
    }

    // The administrator moves G1 to community C2.
    let t = now_ms();
    assert_all_acked(
        &app.push(&[set(
            Collection::Grids,
            0x50,
            G1,
            Hlc::new(t, 0),
            json!({"community": rid(C2)}),
        )])
        .await,
    );
    // m1 no longer manages where case 1 sits; C2's manager sees it to dispatch.
    assert_handed_back(&app, &m2, 1, "m1").await;
    assert_eq!(field(&pulled(&app, &m2, 2).await, "assignee"), "w1");
    assert_eq!(field(&pulled(&app, &manager, 3).await, "assignee"), "m1");
    assert_nothing_more(&app).await;
    assert_all_acked(&app.push_as(&m2, &accept(1, "m2", 0xA2, "m2")).await);
}

async fn the_sweep_hands_back_what_no_trigger_saw(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (manager, _) = app
        .user("m1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    assert_all_acked(&app.seed(&[case(1, G1)]).await);
    assert_all_acked(&app.push_as(&manager, &accept(1, "m1", 0xA1, "w1")).await);
    // Changed behind the API's back (the CLI, another instance's failed run).
    let mut w1 = app.state.store.user("w1").await.unwrap().unwrap();
    w1.grids = vec![RecordId(uuid(G2))];
    app.state.store.update_user(&w1, now_ms()).await.unwrap();
    // Two runs at once (as two instances would): the second reads the case before or after the
    // first's commit; either way it ends with one hand-back, applied once.
    let (a, b) = tokio::join!(
        run(&app.state, Only::All, now_ms()),
        run(&app.state, Only::All, now_ms() + 1)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.open, b.open), (1, 1));
    assert!(a.cases + b.cases >= 1, "{a:?} {b:?}");
    assert_handed_back(&app, &manager, 1, "w1").await;
    assert_nothing_more(&app).await;
}

async fn the_background_sweep_runs_at_start(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (manager, _) = app
        .user("m1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    assert_all_acked(&app.seed(&[case(1, G1)]).await);
    assert_all_acked(&app.push_as(&manager, &accept(1, "m1", 0xA1, "w1")).await);
    let mut w1 = app.state.store.user("w1").await.unwrap().unwrap();
    w1.disabled = true;
    app.state.store.update_user(&w1, now_ms()).await.unwrap();
    // An hour between sweeps: only the one at start can write within the test.
    let task = tongxin_server::handback::spawn(app.state.clone(), Duration::from_hours(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while field(&pulled(&app, &manager, 1).await, "assignee") != &Value::Null {
        assert!(
            std::time::Instant::now() < deadline,
            "no hand-back within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_handed_back(&app, &manager, 1, "w1").await;
    app.state.close();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the sweep stops when the server closes")
        .unwrap();
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(
    a_warden_moved_to_another_community_hands_their_cases_back,
    a_grid_moved_to_another_community_hands_back_the_community_s_assignees,
    the_sweep_hands_back_what_no_trigger_saw,
    the_background_sweep_runs_at_start,
);
