//! Schema validation: what an op may write. Each refusal names the problem.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use tongxin_shared::schema::{
    check_record_limits, mask, plausible_phone, record_bytes, validate_op, MAX_ENTRY_BYTES,
    MAX_LOG_ENTRIES, MAX_RECORD_BYTES, MAX_VALUE_DEPTH,
};
use tongxin_shared::{
    ActorId, Collection, Entry, FieldValue, Hlc, LogEntry, Op, OpBody, OpId, Record, RecordId,
    Stamp,
};
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

fn append(data: Value) -> Op {
    let mut op = set(Collection::Cases, &[]);
    op.body = OpBody::Append {
        entry: Entry {
            id: Uuid::from_u128(9),
            data: data.as_object().expect("entry data is an object").clone(),
        },
    };
    op
}

/// A value of exactly `depth` levels: objects and lists in turn around a string.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("x"), |inner, level| {
        if level % 2 == 0 {
            json!([inner])
        } else {
            json!({ "k": inner })
        }
    })
}

#[test]
fn values_nested_up_to_the_limit_and_no_deeper() {
    // The entry's data object is the first level.
    let at_limit = append(json!({ "note": nested(MAX_VALUE_DEPTH - 1) }));
    assert_eq!(code(&at_limit), None);
    let past = append(json!({ "note": nested(MAX_VALUE_DEPTH) }));
    assert_eq!(code(&past).as_deref(), Some("too_deep"));
    // What the attacker of issue 12 sent: depth 127, well inside the entry size.
    let hostile = append(json!({ "note": nested(126) }));
    assert_eq!(code(&hostile).as_deref(), Some("too_deep"));
    // In a field the depth is judged before the type, so the refusal says what is wrong.
    let field = set(Collection::Cases, &[("title", nested(MAX_VALUE_DEPTH + 1))]);
    let err = validate_op(&field).unwrap_err();
    assert_eq!(err.code, "too_deep");
    assert!(err.message.contains("'title'"), "{}", err.message);
    let shallow = set(Collection::Cases, &[("title", nested(MAX_VALUE_DEPTH))]);
    assert_eq!(code(&shallow).as_deref(), Some("wrong_type"));
    // The deepest value the schema needs (a MultiPolygon, depth 5) stays within the limit.
    let multi = set(
        Collection::Subdistricts,
        &[(
            "boundary",
            json!({"type":"MultiPolygon","coordinates":[[[[100.0,25.0],[100.1,25.0],[100.1,25.1],[100.0,25.0]]]]}),
        )],
    );
    assert_eq!(code(&multi), None);
}

#[test]
fn entries_up_to_the_size_limit() {
    // `{"note":"…"}` is 11 bytes around the text.
    let at_limit = append(json!({ "note": "x".repeat(MAX_ENTRY_BYTES - 11) }));
    assert_eq!(code(&at_limit), None);
    let past = append(json!({ "note": "x".repeat(MAX_ENTRY_BYTES - 10) }));
    assert_eq!(code(&past).as_deref(), Some("too_large"));
}

#[test]
fn control_characters_are_refused_in_text_entries_and_keys() {
    for c in ['\0', '\u{1}', '\u{1b}', '\u{1f}', '\u{7f}'] {
        let text = format!("路灯{c}不亮");
        let title = set(Collection::Cases, &[("title", json!(text))]);
        let err = validate_op(&title).unwrap_err();
        assert_eq!(err.code, "control_character", "{c:?}");
        assert!(err.message.contains("'title'"), "{}", err.message);
        let appeals = set(Collection::Visits, &[("appeals", json!(["ok", text]))]);
        assert_eq!(code(&appeals).as_deref(), Some("control_character"));
        let entry = append(json!({ "note": text }));
        assert_eq!(code(&entry).as_deref(), Some("control_character"));
        let deep = append(json!({ "note": { "inner": [text] } }));
        assert_eq!(code(&deep).as_deref(), Some("control_character"));
        let key = append(json!({ text.clone(): "x" }));
        assert_eq!(code(&key).as_deref(), Some("control_character"));
        let name = set(Collection::Cases, &[(text.as_str(), json!("x"))]);
        assert_eq!(code(&name).as_deref(), Some("control_character"));
    }
    // Tab, line breaks, the first printable character, the one before DEL and C1 stay allowed.
    for ok in ["a\tb", "line\nline\r\n", " ", "~", "\u{80}", "路灯不亮"] {
        let title = set(Collection::Cases, &[("title", json!(ok))]);
        assert_eq!(code(&title), None, "{ok:?}");
        assert_eq!(code(&append(json!({ "note": ok }))), None, "{ok:?}");
    }
}

fn stamp(n: u64) -> Stamp {
    Stamp {
        hlc: Hlc::new(n, 0),
        actor: ActorId(Uuid::from_u128(2)),
    }
}

fn case_with_entries(n: usize) -> Record {
    let mut r = Record::new(Collection::Cases, RecordId(Uuid::from_u128(3)));
    r.fields.insert(
        "title".into(),
        FieldValue {
            value: json!("路灯不亮"),
            stamp: stamp(1),
        },
    );
    for i in 0..n {
        let mut data = serde_json::Map::new();
        data.insert("action".into(), json!("remind"));
        r.log.insert(
            Uuid::from_u128(1000 + i as u128),
            LogEntry {
                stamp: stamp(2 + i as u64),
                data,
            },
        );
    }
    r
}

#[test]
fn records_hold_at_most_the_limit_of_entries() {
    let at_limit = case_with_entries(MAX_LOG_ENTRIES);
    assert_eq!(check_record_limits(&at_limit), Ok(()));
    let past = case_with_entries(MAX_LOG_ENTRIES + 1);
    let err = check_record_limits(&past).unwrap_err();
    assert_eq!(err.code, "too_many_entries");
    assert!(err.message.contains(&MAX_LOG_ENTRIES.to_string()));
}

#[test]
fn records_hold_at_most_the_limit_of_bytes() {
    // Pad the description until the whole record is exactly at the limit.
    let mut r = case_with_entries(10);
    let fill = |r: &mut Record, n: usize| {
        r.fields.insert(
            "description".into(),
            FieldValue {
                value: json!("x".repeat(n)),
                stamp: stamp(1),
            },
        );
    };
    fill(&mut r, 0);
    let base = record_bytes(&r);
    fill(&mut r, MAX_RECORD_BYTES - base);
    assert_eq!(record_bytes(&r), MAX_RECORD_BYTES);
    assert_eq!(
        record_bytes(&r),
        serde_json::to_vec(&r).unwrap().len(),
        "the count is the serialised size"
    );
    assert_eq!(check_record_limits(&r), Ok(()));
    fill(&mut r, MAX_RECORD_BYTES - base + 1);
    let err = check_record_limits(&r).unwrap_err();
    assert_eq!(err.code, "record_too_large");
    // The largest record the field limits allow stays under the record limit: a subdistrict
    // with a boundary at its 256 KiB limit (only appends can reach MAX_RECORD_BYTES).
    // Each position `[100.5,25.5]` and its comma take 13 bytes.
    let ring: Vec<Value> = (0..(256 * 1024 - 40) / 13)
        .map(|_| json!([100.5, 25.5]))
        .collect();
    let boundary = json!({"type": "Polygon", "coordinates": [ring]});
    let size = boundary.to_string().len();
    assert!(size > 255 * 1024 && size <= 256 * 1024, "{size}");
    let op = set(Collection::Subdistricts, &[("boundary", boundary.clone())]);
    assert_eq!(code(&op), None, "the boundary is at its field limit");
    let mut sub = Record::new(Collection::Subdistricts, RecordId(Uuid::from_u128(4)));
    for (k, v) in [
        ("boundary", boundary),
        ("name", json!("字".repeat(120))),
        ("code", json!("x".repeat(32))),
        ("kind", json!("subdistrict")),
    ] {
        sub.fields.insert(
            k.into(),
            FieldValue {
                value: v,
                stamp: stamp(1),
            },
        );
    }
    assert_eq!(check_record_limits(&sub), Ok(()));
}
