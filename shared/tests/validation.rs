//! Schema validation: what an op may write. Each refusal names the problem.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use tongxin_shared::schema::{mask, plausible_phone, validate_op};
use tongxin_shared::{ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, RecordId};
use uuid::Uuid;

fn set(collection: Collection, fields: &[(&str, Value)]) -> Op {
    Op {
        id: OpId(Uuid::from_u128(1)),
        actor: ActorId(Uuid::from_u128(2)),
        hlc: Hlc::new(1, 0),
        collection,
        record: RecordId(Uuid::from_u128(3)),
        body: OpBody::Set {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        },
        schema: 1,
    }
}

fn code(op: &Op) -> Option<String> {
    validate_op(op).err().map(|e| e.code)
}

#[test]
fn good_ops_pass() {
    let op = set(
        Collection::Cases,
        &[
            ("title", json!("路灯不亮")),
            ("category", json!("infrastructure")),
            ("position", json!([100.2, 25.6, 12.5])),
            ("photos", json!(["a".repeat(64)])),
            ("deleted", json!(false)),
            ("assignee", Value::Null),
        ],
    );
    assert_eq!(code(&op), None);
    let grid = set(
        Collection::Grids,
        &[(
            "boundary",
            json!({"type":"Polygon","coordinates":[[[100.0,25.0],[100.1,25.0],[100.1,25.1],[100.0,25.0]]]}),
        )],
    );
    assert_eq!(code(&grid), None);
}

#[test]
fn bad_ops_are_refused_with_a_code() {
    let cases = [
        (
            set(Collection::Cases, &[("colour", json!("red"))]),
            "unknown_field",
        ),
        (set(Collection::Cases, &[("title", json!(5))]), "wrong_type"),
        (
            set(Collection::Cases, &[("title", json!("x".repeat(201)))]),
            "too_long",
        ),
        (
            set(Collection::Cases, &[("category", json!("gossip"))]),
            "bad_value",
        ),
        (
            set(Collection::Cases, &[("position", json!([200.0, 25.0]))]),
            "out_of_range",
        ),
        (
            set(Collection::Cases, &[("position", json!("here"))]),
            "wrong_type",
        ),
        (
            set(Collection::Cases, &[("photos", json!(["nothex"]))]),
            "wrong_type",
        ),
        (
            set(Collection::Cases, &[("grid", json!("not-a-uuid"))]),
            "wrong_type",
        ),
        (
            set(Collection::Activities, &[("date", json!("2026-13-01"))]),
            "wrong_type",
        ),
        (
            set(
                Collection::Grids,
                &[("boundary", json!({"type":"Point","coordinates":[1,2]}))],
            ),
            "wrong_type",
        ),
        (
            set(Collection::Projects, &[("progress", json!(101))]),
            "out_of_range",
        ),
        (set(Collection::Cases, &[]), "empty_op"),
    ];
    for (op, expected) in cases {
        assert_eq!(code(&op).as_deref(), Some(expected), "{op:?}");
    }
    let mut future_schema = set(Collection::Cases, &[("title", json!("x"))]);
    future_schema.schema = 99;
    assert_eq!(code(&future_schema).as_deref(), Some("unknown_schema"));
}

#[test]
fn appends_only_where_a_log_exists_and_within_size() {
    let mut op = set(Collection::Visits, &[]);
    op.body = OpBody::Append {
        entry: Entry {
            id: Uuid::from_u128(9),
            data: serde_json::Map::new(),
        },
    };
    assert_eq!(code(&op).as_deref(), Some("no_log"));
    op.collection = Collection::Cases;
    assert_eq!(code(&op), None);
    let mut data = serde_json::Map::new();
    data.insert("note".into(), json!("x".repeat(20_000)));
    op.body = OpBody::Append {
        entry: Entry {
            id: Uuid::from_u128(9),
            data,
        },
    };
    assert_eq!(code(&op).as_deref(), Some("too_large"));
}

#[test]
fn masks_keep_only_the_tail_of_phones() {
    assert_eq!(mask("13812345678"), "*******5678");
    assert_eq!(mask("张三"), "张*");
    assert_eq!(mask(""), "");
}

#[test]
fn phone_numbers_as_people_type_them() {
    for ok in [
        "13800001111",
        "138-0000-1111",
        "+86 138 0000 1111",
        "0872-2123456",
        "12345",
    ] {
        assert!(plausible_phone(ok), "{ok}");
    }
    for bad in [
        "",
        "打这个电话",
        "1234",
        "138O0001111",
        "+-- --",
        "123456789012345678901",
    ] {
        assert!(!plausible_phone(bad), "{bad}");
    }
}
