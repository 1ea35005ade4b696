//! Why the server refused an op, in the user's language (pure, tested natively): every refusal
//! code the server sends has its explanation in the locale files (`reject.<code>`); a code this
//! app does not know yet is explained by `reject.other`, with the server's own words beside it.

/// Refusal codes with their own explanation.
pub const KNOWN_CODES: &[&str] = &[
    "out_of_scope",
    "forbidden_collection",
    "forged_author",
    "forbidden_transition",
    "system_only",
    "not_owner",
    "clock_ahead",
    "bad_op",
    "refused",
    "unknown_schema",
    "unknown_field",
    "wrong_type",
    "bad_value",
    "out_of_range",
    "too_long",
    "too_large",
    "too_many",
    "too_many_fields",
    "no_log",
    "empty_op",
    // The shared policy (`shared::policy`, `authz::Denied`).
    "forbidden_field",
    "case_closed",
    "immutable_field",
    "bad_transition",
    "bad_deadline",
    "forbidden_extension",
    "bad_reported_at",
    "bad_entry",
    "entry_conflict",
    "op_id_conflict",
    "forged_actor",
    "unknown_source",
    "bad_assignee",
    // What every device must be able to decode (`schema`).
    "too_deep",
    "too_many_entries",
    "record_too_large",
    "control_character",
];

/// The locale key explaining refusal `code`.
pub fn rejection_key(code: &str) -> String {
    if KNOWN_CODES.contains(&code) {
        format!("reject.{code}")
    } else {
        "reject.other".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{tr, Lang};

    #[test]
    fn every_known_code_is_explained_in_both_languages() {
        for code in KNOWN_CODES.iter().copied().chain(["some_new_code"]) {
            let key = rejection_key(code);
            let (zh, en) = (tr(Lang::ZhCn, &key), tr(Lang::En, &key));
            assert_ne!(zh, key, "{code}: no zh-CN text");
            assert_ne!(en, key, "{code}: no English text");
            assert_ne!(zh, en, "{code}: the zh-CN panel must not show English");
        }
        assert!(tr(Lang::ZhCn, &rejection_key("clock_ahead")).contains("自动重新发送"));
    }
}
