//! The server never panics on input: arbitrary bytes and arbitrary JSON shaped like a push go
//! through decoding and validation and come out as a value or an error, never a panic. This is
//! the cheap, unguided layer; the coverage-guided fuzz targets (`fuzz/`, `cargo xtask fuzz`, their
//! corpus replayed by `tests/fuzz_corpus.rs`) and the valid ops near every limit pushed to a real
//! server (`server/tests/push_limits.rs`) reach much further.

use proptest::prelude::*;
use serde_json::{json, Value};
use tongxin_shared::schema::validate_op;
use tongxin_shared::wire::PushRequest;
use tongxin_shared::Op;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("cases"),
            Just("grids"),
            Just("set"),
            Just("append"),
            Just("title"),
            Just("001732500000000-000000"),
            Just("00000000-0000-0000-0000-000000000001"),
            Just("Polygon"),
            Just("boundary"),
            Just("position"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("actor".to_owned()),
                    Just("hlc".to_owned()),
                    Just("collection".to_owned()),
                    Just("record".to_owned()),
                    Just("body".to_owned()),
                    Just("kind".to_owned()),
                    Just("fields".to_owned()),
                    Just("schema".to_owned()),
                    Just("type".to_owned()),
                    Just("coordinates".to_owned()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<PushRequest>(&bytes);
    }

    #[test]
    fn arbitrary_json_ops_never_panic(v in arb_json()) {
        if let Ok(op) = serde_json::from_value::<Op>(v.clone()) {
            let _ = validate_op(&op);
        }
        let _ = serde_json::from_value::<PushRequest>(json!({"protocol": 1, "actor": "00000000-0000-0000-0000-000000000001", "ops": [v]}));
    }

    #[test]
    fn any_field_value_on_any_field_is_judged_without_panic(v in arb_json(), field in 0usize..40) {
        for c in tongxin_shared::Collection::ALL {
            let specs = c.fields();
            // A derived collection (summaries) has no field an op may write.
            if specs.is_empty() {
                continue;
            }
            let spec = &specs[field % specs.len()];
            let _ = tongxin_shared::schema::validate_value(spec, &v);
        }
    }
}
