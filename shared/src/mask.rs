//! What a level that does not handle a record sees of it: residents' personal fields masked
//! (`schema::mask`), and phone and ID numbers typed into free text redacted (`redact`). The
//! server applies it to every pulled record the caller may read but does not handle
//! (`authz::sees_personal`); stamps stay, so merging is unaffected.

use crate::record::Record;
use crate::redact::redact;
use crate::schema::mask;
use serde_json::Value;

/// Timeline entry keys that hold a user name, which programs compare: never redacted.
const ENTRY_IDENTIFIERS: &[&str] = &["by"];

/// Masks a record for a level that gets personal data masked: personal fields keep only their
/// tail, free-text fields (`FieldSpec::is_free_text`) and the strings inside timeline entries
/// have their phone and ID numbers redacted.
pub fn mask_record(record: &mut Record) {
    let collection = record.collection;
    for (name, field) in &mut record.fields {
        let Some(spec) = collection.field(name) else {
            continue;
        };
        if spec.personal {
            if let Value::String(s) = &mut field.value {
                *s = mask(s);
            }
        } else if spec.is_free_text() {
            redact_strings(&mut field.value);
        }
    }
    for entry in record.log.values_mut() {
        for (key, value) in &mut entry.data {
            if !ENTRY_IDENTIFIERS.contains(&key.as_str()) {
                redact_strings(value);
            }
        }
    }
}

/// Redacts every string in a value (values are at most `MAX_VALUE_DEPTH` deep).
fn redact_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::mask_record;
    use crate::hlc::{Hlc, Stamp};
    use crate::ids::ActorId;
    use crate::record::{test_record, LogEntry};
    use crate::schema::Collection;
    use serde_json::json;
    use uuid::Uuid;

    fn entry(data: &serde_json::Value) -> LogEntry {
        LogEntry {
            stamp: Stamp {
                hlc: Hlc::new(2, 0),
                actor: ActorId(Uuid::nil()),
            },
            data: data.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn personal_fields_masked_free_text_redacted_identifiers_kept() {
        let mut r = test_record(
            Collection::Cases,
            1,
            &json!({
                "title": "漏水 请联系13812345678",
                "description": "身份证532901199003071234，办公 0872-2123456",
                "resident_phone": "13912345678",
                "resident_name": "张三",
                "reporter": "13712345678",
                "category": "other",
                "reported_at": 1_700_000_000_000_i64,
            }),
        );
        r.log.insert(
            Uuid::from_u128(5),
            entry(&json!({"action": "remind", "by": "13712345678", "note": "已电话 15912345678", "extra": ["13612345678"]})),
        );
        let before = r.clone();
        mask_record(&mut r);
        assert_eq!(r.str("title"), Some("漏水 请联系138******78"));
        assert_eq!(
            r.str("description"),
            Some("身份证**************1234，办公 0872-*******")
        );
        assert_eq!(r.str("resident_phone"), Some("*******5678"));
        assert_eq!(r.str("resident_name"), Some("张*"));
        assert_eq!(r.str("reporter"), Some("13712345678"), "a user name stays");
        assert_eq!(r.get("reported_at"), before.get("reported_at"));
        let e = &r.log[&Uuid::from_u128(5)].data;
        assert_eq!(e["by"], json!("13712345678"));
        assert_eq!(e["note"], json!("已电话 159******78"));
        assert_eq!(e["extra"], json!(["136******78"]));
        // Stamps are untouched, so merging the masked copy changes nothing.
        for (k, f) in &r.fields {
            assert_eq!(f.stamp, before.fields[k].stamp);
        }
    }

    #[test]
    fn visits_appeals_and_notes_are_free_text() {
        let mut r = test_record(
            Collection::Visits,
            2,
            &json!({"notes": "住户 13812345678", "appeals": ["回电 13812345678", "修路"], "warden": "w1"}),
        );
        mask_record(&mut r);
        assert_eq!(r.str("notes"), Some("住户 138******78"));
        assert_eq!(r.get("appeals"), Some(&json!(["回电 138******78", "修路"])));
        assert_eq!(r.str("warden"), Some("w1"));
    }
}
