//! Clock skew, on the server's side: two server instances on one PostgreSQL database whose
//! clocks disagree by 80 s (A 40 s ahead, B 40 s behind, set with the `fault-hooks` test clock
//! offset), and devices whose clocks are minutes to days off, past and future, editing one case.
//!
//! What docs/SYNC.md says, and what is checked: a stamp in the past is taken whatever its age
//! (a device offline for days sends old stamps legitimately); a stamp more than 60 s ahead of
//! the judging instance's clock is refused with `clock_ahead` and a message, never dropped
//! without a word, and stores nothing; each instance judges by its own clock and tells the
//! device its time (`server_time_ms`), and a device that corrects its clock by it gets the edit
//! taken by both. The server never re-stamps: the stored title is, on both instances, the
//! value of the accepted op with the greatest stamp (an oracle computed here from the ops), and
//! every accepted timeline note is kept, the days-behind device's included.
//!
//! And on both backends: an op already stored, sent again to an instance whose clock is behind
//! its stamp, is answered with its original seq and stored once (the op log is asked before
//! the clock is judged); a new op as far ahead is still refused.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tongxin_shared::{
    ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, RecordId, Stamp, SCHEMA_VERSION,
};

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;
const CASE: u128 = 0xCA5E;

struct Device {
    n: u128,
    /// How far the device's clock is off, ms.
    off: i64,
    made: u128,
}

impl Device {
    fn actor(&self) -> ActorId {
        ActorId(uuid(0xDE00 + self.n))
    }

    fn clock(&self) -> u64 {
        now_ms().saturating_add_signed(self.off)
    }

    fn op(&mut self, body: OpBody) -> Op {
        self.made += 1;
        Op {
            id: OpId(uuid((0x0A << 24) | (self.n << 8) | self.made)),
            actor: self.actor(),
            hlc: Hlc::new(self.clock(), 0),
            collection: Collection::Cases,
            record: RecordId(uuid(CASE)),
            body,
            schema: SCHEMA_VERSION,
        }
    }

    /// The device sets the case's title and adds a timeline note.
    fn edit(&mut self) -> [Op; 2] {
        let title = self.op(OpBody::Set {
            fields: [(
                "title".to_owned(),
                json!(format!("title by device {} ({} ms off)", self.n, self.off)),
            )]
            .into_iter()
            .collect(),
        });
        let mut data = serde_json::Map::new();
        data.insert("action".into(), json!("note"));
        data.insert("by".into(), json!(ROOT));
        let note = self.op(OpBody::Append {
            entry: Entry {
                id: uuid((0xE0 << 24) | (self.n << 8) | self.made),
                data,
            },
        });
        [title, note]
    }
}

/// Pushes through one instance: the answer per op (`Ok(seq)` or `Err(code, message)`) and the
/// instance's clock.
async fn push(
    url: &str,
    client: &reqwest::Client,
    ops: &[Op],
) -> (Vec<Result<u64, (String, String)>>, u64) {
    let v: Value = client
        .post(format!("{url}/api/v1/sync/push"))
        .json(&json!({"protocol": 2, "actor": ops[0].actor, "ops": ops}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        ops.len(),
        "one answer per op, none dropped: {v}"
    );
    let answers = results
        .iter()
        .zip(ops)
        .map(|(r, op)| {
            assert_eq!(r["op_id"], op.id.to_string());
            r["seq"].as_u64().ok_or_else(|| {
                (
                    r["rejected"]["code"].as_str().unwrap().to_owned(),
                    r["rejected"]["message"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    (answers, v["server_time_ms"].as_u64().unwrap())
}

async fn the_case(url: &str, client: &reqwest::Client) -> Value {
    let v: Value = client
        .get(format!("{url}/api/v1/sync/pull?cursor=0&limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["i"] == RecordId(uuid(CASE)).to_string())
        .unwrap();
    tongxin_shared::compact::readable(&serde_json::from_value(r.clone()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// reason: one skewed-clock scenario across devices and instances, read top to bottom
#[allow(clippy::too_many_lines)]
async fn skewed_devices_and_instances_converge_and_no_edit_is_lost_silently() {
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let a = ServerProcess::start(
        dir.path(),
        &db.url,
        &[(
            "TONGXIN_FAULT_CLOCK_OFFSET_MS",
            std::ffi::OsStr::new("40000"),
        )],
    );
    let b = ServerProcess::start(
        dir.path(),
        &db.url,
        &[(
            "TONGXIN_FAULT_CLOCK_OFFSET_MS",
            std::ffi::OsStr::new("-40000"),
        )],
    );
    let client = client_with(&login_token(&a.url, ROOT, ROOT_PASSWORD).await);

    // (device clock offset, expected on A (+40 s), expected on B (-40 s)): accepted or not.
    let cases: [(i64, bool, bool); 7] = [
        (-3 * DAY, true, true),
        (-5 * MIN, true, true),
        (0, true, true),
        (30_000, true, false),
        (90_000, true, false),
        (5 * MIN, false, false),
        (2 * DAY, false, false),
    ];
    let mut accepted: Vec<Op> = Vec::new();
    let mut refused = 0;
    let mut corrected = 0;
    for (n, &(off, on_a, on_b)) in cases.iter().enumerate() {
        for (url, expect) in [(&a.url, on_a), (&b.url, on_b)] {
            let mut device = Device {
                n: n as u128 * 2 + u128::from(url == &b.url),
                off,
                made: 0,
            };
            let ops = device.edit();
            let (answers, server_ms) = push(url, &client, &ops).await;
            for (answer, op) in answers.iter().zip(&ops) {
                match answer {
                    Ok(_) => {
                        assert!(expect, "{off} ms ahead taken by {url}");
                        accepted.push(op.clone());
                    }
                    Err((code, message)) => {
                        assert!(!expect, "{off} ms off refused by {url}: {code} {message}");
                        assert_eq!(code, "clock_ahead", "{message}");
                        assert!(message.contains("ahead of the server"), "{message}");
                        refused += 1;
                    }
                }
            }
            // Each instance judges by its own clock and says which: 80 s apart, give or take
            // the time between the two requests.
            let true_ms = now_ms() as i64;
            let told = server_ms as i64 - true_ms;
            let expected = if url == &a.url { 40_000 } else { -40_000 };
            assert!((told - expected).abs() < 5_000, "{url} told {told} ms off");
            if !expect {
                // The device sets its clock by the refusing instance's answer and sends the
                // edit again, with new stamps: taken.
                device.off = server_ms as i64 - now_ms() as i64;
                let again = device.edit();
                let (answers, _) = push(url, &client, &again).await;
                assert!(answers.iter().all(Result::is_ok), "{answers:?}");
                accepted.extend(again);
                corrected += 1;
            }
        }
    }

    // Instances further apart than the window: a device set by A's clock (40 s ahead) is
    // 80 s ahead of B's and refused there, storing nothing; set by B's clock, both take it.
    let mut device = Device {
        n: 0x80,
        off: 40_000,
        made: 0,
    };
    let ops = device.edit();
    let (answers, b_ms) = push(&b.url, &client, &ops).await;
    assert!(
        answers
            .iter()
            .all(|r| matches!(r, Err((code, _)) if code == "clock_ahead")),
        "{answers:?}"
    );
    refused += answers.len();
    device.off = b_ms as i64 - now_ms() as i64;
    let again = device.edit();
    for url in [&b.url, &a.url] {
        let (answers, _) = push(url, &client, &again).await;
        assert!(answers.iter().all(Result::is_ok), "{url}: {answers:?}");
    }
    accepted.extend(again);
    corrected += 1;

    // Both instances serve the same case.
    let on_a = the_case(&a.url, &client).await;
    let on_b = the_case(&b.url, &client).await;
    assert_eq!(on_a, on_b, "the two instances disagree");
    // The oracle: the accepted title op with the greatest stamp; every accepted note.
    let winner = accepted
        .iter()
        .filter(|o| matches!(o.body, OpBody::Set { .. }))
        .max_by_key(|o| Stamp {
            hlc: o.hlc,
            actor: o.actor,
        })
        .unwrap();
    let OpBody::Set { fields } = &winner.body else {
        unreachable!()
    };
    assert_eq!(on_a["fields"]["title"]["value"], fields["title"]);
    assert_eq!(
        on_a["fields"]["title"]["stamp"],
        serde_json::to_value(Stamp {
            hlc: winner.hlc,
            actor: winner.actor
        })
        .unwrap(),
        "the server keeps the device's stamp"
    );
    let notes: BTreeSet<String> = accepted
        .iter()
        .filter_map(|o| match &o.body {
            OpBody::Append { entry } => Some(entry.id.to_string()),
            OpBody::Set { .. } => None,
        })
        .collect();
    let kept: BTreeSet<String> = on_a["log"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(kept, notes, "every accepted note kept, none other");
    // The op log holds every accepted op once and no refused one.
    let s = stored(&db.url).await;
    let ids: BTreeSet<String> = accepted.iter().map(|o| o.id.to_string()).collect();
    let logged: BTreeSet<String> = s.seqs.keys().cloned().collect();
    assert_eq!(logged, ids);
    assert_eq!(s.rows, s.distinct);
    eprintln!(
        "clock skew: {} ops accepted, {refused} refused clock_ahead, {corrected} edits re-sent \
         after correcting the clock; instances 80 s apart agree",
        accepted.len()
    );
    drop((a, b));
}

/// An op whose answer was lost, sent again to an instance whose clock is behind its stamp:
/// stored through an instance on time, then pushed again (alone, and beside a new op) to an
/// instance 80 s behind — more than the 60 s window behind the op's stamp. The op log is asked
/// first: the stored op is answered with its original seq and kept once (the app would
/// otherwise re-stamp it and send it as a new op, a timeline note twice); only the new op is
/// refused `clock_ahead`. One instance after the other on the same database (on SQLite one
/// process per file: a server restarted after its clock was set back).
async fn a_stored_op_sent_again_behind_its_stamp_is_acked_once(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let on_time = ServerProcess::start(dir.path(), &db.url, &[]);
    let client = client_with(&login_token(&on_time.url, ROOT, ROOT_PASSWORD).await);
    let mut device = Device {
        n: 0x90,
        off: 0,
        made: 0,
    };
    let ops = device.edit();
    let (first, _) = push(&on_time.url, &client, &ops).await;
    let seqs: Vec<u64> = first.into_iter().map(Result::unwrap).collect();
    drop(on_time);

    let behind = ServerProcess::start(
        dir.path(),
        &db.url,
        &[(
            "TONGXIN_FAULT_CLOCK_OFFSET_MS",
            std::ffi::OsStr::new("-80000"),
        )],
    );
    let client = client_with(&login_token(&behind.url, ROOT, ROOT_PASSWORD).await);
    let (again, behind_ms) = push(&behind.url, &client, &ops).await;
    // The ops really are beyond this instance's window.
    for op in &ops {
        assert!(
            op.hlc.wall_ms > behind_ms + 60_000,
            "{} is not beyond the window of {behind_ms}",
            op.hlc.wall_ms
        );
    }
    assert_eq!(
        again,
        seqs.iter().map(|s| Ok(*s)).collect::<Vec<_>>(),
        "a stored op is answered with its original seq"
    );
    // A new op as far ahead is still refused, also beside a stored one in the same push.
    let new = device.edit();
    let (answers, _) = push(&behind.url, &client, &new).await;
    assert!(
        answers
            .iter()
            .all(|r| matches!(r, Err((code, m)) if code == "clock_ahead" && m.contains("ahead of the server"))),
        "{answers:?}"
    );
    let mixed = [ops[1].clone(), new[1].clone()];
    let (answers, _) = push(&behind.url, &client, &mixed).await;
    assert_eq!(answers[0], Ok(seqs[1]));
    assert!(
        matches!(&answers[1], Err((code, _)) if code == "clock_ahead"),
        "{answers:?}"
    );

    // Stored once: the op log holds the two ops with their first seqs, the case one note.
    let s = stored(&db.url).await;
    assert_eq!(s.rows, s.distinct);
    let logged: Vec<(String, u64)> = s.seqs.into_iter().collect();
    let mut expected: Vec<(String, u64)> = ops
        .iter()
        .zip(&seqs)
        .map(|(o, s)| (o.id.to_string(), *s))
        .collect();
    expected.sort();
    assert_eq!(logged, expected);
    let case = the_case(&behind.url, &client).await;
    let OpBody::Append { entry } = &ops[1].body else {
        unreachable!()
    };
    let notes: Vec<&String> = case["log"].as_object().unwrap().keys().collect();
    assert_eq!(notes, [&entry.id.to_string()], "the note is kept once");
    drop(behind);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_stored_op_sent_again_behind_its_stamp_is_acked_once() {
    a_stored_op_sent_again_behind_its_stamp_is_acked_once(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stored_op_sent_again_behind_its_stamp_is_acked_once() {
    a_stored_op_sent_again_behind_its_stamp_is_acked_once(TestDb::postgres().await).await;
}
