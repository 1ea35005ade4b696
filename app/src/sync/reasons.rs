//! Why the server refused an op, in the user's language (pure, tested natively): every refusal
//! code the server sends has its explanation in the locale files (`reject.<code>`); a code this
//! app does not know yet is explained by `reject.other`, with the server's own words beside it.

/// Refusal codes with their own explanation: every code the server sends (kept in `shared`,
/// where the server's tests check each refusal against it).
pub const KNOWN_CODES: &[&str] = tongxin_shared::wire::REFUSAL_CODES;

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
