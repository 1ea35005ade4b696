//! The JSON shapes of the sync protocol under snapshot tests: a protocol change is a visible diff
//! in `tests/snapshots/`. Review with `cargo insta review` (or accept by renaming `.snap.new`).

use serde_json::json;
use std::collections::BTreeMap;
use tongxin_shared::wire::{
    ErrorBody, ErrorDetail, LiveEvent, OpResult, PullResponse, PulledRecord, PushRequest,
    PushResponse, Rejection,
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
        server_time_ms: 1_732_500_000_500,
    };
    insta::assert_json_snapshot!(res);
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
