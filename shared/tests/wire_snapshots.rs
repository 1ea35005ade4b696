//! The JSON shapes of the sync protocol under snapshot tests: a protocol change is a visible diff
//! in `tests/snapshots/`. Review with `cargo insta review` (or accept by renaming `.snap.new`).

use serde_json::json;
use std::collections::BTreeMap;
use tongxin_shared::case::Role;
use tongxin_shared::wire::{
    ErrorBody, ErrorDetail, LiveEvent, LoginRequest, LoginResponse, Me, OpResult, PullResponse,
    PulledRecord, PushRequest, PushResponse, Rejection, Settings, UserUpsert,
};
use tongxin_shared::{
    merge, ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;

fn sample_ops() -> Vec<Op> {
    let actor = ActorId(Uuid::from_u128(0xA));
    let record = RecordId(Uuid::from_u128(0xCA5E));
    let mut fields = BTreeMap::new();
    fields.insert("title".to_owned(), json!("楼道堆物"));
    fields.insert("category".to_owned(), json!("safety"));
    let mut data = serde_json::Map::new();
    data.insert("action".into(), json!("report"));
    vec![
        Op {
            id: OpId(Uuid::from_u128(1)),
            actor,
            hlc: Hlc::new(1_732_500_000_000, 0),
            collection: Collection::Cases,
            record,
            body: OpBody::Set { fields },
            schema: SCHEMA_VERSION,
        },
        Op {
            id: OpId(Uuid::from_u128(2)),
            actor,
            hlc: Hlc::new(1_732_500_000_000, 1),
            collection: Collection::Cases,
            record,
            body: OpBody::Append {
                entry: Entry {
                    id: Uuid::from_u128(0xE1),
                    data,
                },
            },
            schema: SCHEMA_VERSION,
        },
    ]
}

#[test]
fn push_request() {
    let req = PushRequest {
        protocol: 1,
        actor: ActorId(Uuid::from_u128(0xA)),
        ops: sample_ops(),
    };
    insta::assert_json_snapshot!(req);
}

#[test]
fn push_response() {
    let res = PushResponse {
        results: vec![
            OpResult::Acked {
                op_id: OpId(Uuid::from_u128(1)),
                seq: 41,
            },
            OpResult::Rejected {
                op_id: OpId(Uuid::from_u128(2)),
                rejected: Rejection {
                    code: "clock_ahead".into(),
                    message: "the device clock is 2 hours ahead".into(),
                },
            },
        ],
        server_time_ms: 1_732_500_000_500,
    };
    insta::assert_json_snapshot!(res);
}

#[test]
fn pull_response() {
    let ops = sample_ops();
    let mut record = Record::new(Collection::Cases, ops[0].record);
    for op in &ops {
        merge::apply(&mut record, op);
    }
    let res = PullResponse {
        records: vec![PulledRecord { seq: 42, record }],
        cursor: 42,
        more: false,
        reset: false,
        dropped: vec![(Collection::Visits, RecordId(Uuid::from_u128(7)))],
        scope: "3f2a9c0d41b7e6a85c19d2f0".into(),
        server_time_ms: 1_732_500_000_500,
    };
    insta::assert_json_snapshot!(res);
}

#[test]
fn login_and_me() {
    let me = Me {
        username: "w0001".into(),
        display_name: "李明".into(),
        role: Role::Warden,
        grids: vec![RecordId(Uuid::from_u128(11))],
        communities: vec![RecordId(Uuid::from_u128(12))],
        subdistricts: vec![RecordId(Uuid::from_u128(13))],
        scope: "3f2a9c0d41b7e6a85c19d2f0".into(),
    };
    insta::assert_json_snapshot!(LoginRequest {
        username: "w0001".into(),
        password: "secret-pass".into(),
    });
    insta::assert_json_snapshot!(LoginResponse {
        token: "ab".repeat(32),
        expires_at_ms: 1_735_000_000_000,
        me,
    });
    insta::assert_json_snapshot!(UserUpsert {
        username: "w0002".into(),
        display_name: "王芳".into(),
        role: Role::GridLeader,
        grids: vec![RecordId(Uuid::from_u128(11))],
        communities: vec![],
        subdistricts: vec![],
        password: Some("a-new-password".into()),
        disabled: false,
    });
}

#[test]
fn live_event_and_error() {
    insta::assert_json_snapshot!(LiveEvent::Poke { seq: 42 });
    insta::assert_json_snapshot!(ErrorBody {
        error: ErrorDetail {
            code: "unknown_field".into(),
            message: "cases has no field 'colour'".into(),
            op_id: Some(OpId(Uuid::from_u128(3))),
        }
    });
}

#[test]
fn wire_round_trips() {
    let req = PushRequest {
        protocol: 1,
        actor: ActorId(Uuid::from_u128(0xA)),
        ops: sample_ops(),
    };
    let text = serde_json::to_string(&req).unwrap();
    assert_eq!(serde_json::from_str::<PushRequest>(&text).unwrap(), req);
    let bad = text.replace("\"cases\"", "\"gossip\"");
    assert!(
        serde_json::from_str::<PushRequest>(&bad).is_err(),
        "unknown collection refused"
    );
    let _ = RecordId::NIL;
}

#[test]
fn settings() {
    let settings = Settings {
        deadlines: tongxin_shared::case::Deadlines::default(),
        tiles: None,
    };
    insta::assert_json_snapshot!(settings);
    let back: Settings = serde_json::from_value(serde_json::to_value(&settings).unwrap()).unwrap();
    assert_eq!(back, settings);
}
