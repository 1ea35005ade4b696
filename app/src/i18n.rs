//! UI strings in zh-CN (default) and English, kept in `app/locales/*.json`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

/// localStorage key remembering the choice.
pub const STORAGE_KEY: &str = "tongxin.lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "zh-CN" => Some(Self::ZhCn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::ZhCn => Self::En,
            Self::En => Self::ZhCn,
        }
    }
}

type Table = HashMap<String, String>;

fn parse(text: &str) -> Table {
    serde_json::from_str(text).unwrap_or_default()
}

fn table(lang: Lang) -> &'static Table {
    static ZH: OnceLock<Table> = OnceLock::new();
    static EN: OnceLock<Table> = OnceLock::new();
    match lang {
        Lang::ZhCn => ZH.get_or_init(|| parse(include_str!("../locales/zh-CN.json"))),
        Lang::En => EN.get_or_init(|| parse(include_str!("../locales/en.json"))),
    }
}

/// The string for `key`; the key itself if missing (visible, never a blank).
pub fn tr(lang: Lang, key: &str) -> String {
    table(lang)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The string for `key` with `{n}`/`{e}` filled.
pub fn trf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = tr(lang, key);
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_have_the_same_keys_and_parse() {
        let zh = table(Lang::ZhCn);
        let en = table(Lang::En);
        assert!(zh.len() > 40, "zh-CN parsed");
        let mut a: Vec<_> = zh.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        for c in tongxin_shared::schema::CASE_CATEGORIES {
            assert!(zh.contains_key(&format!("category.{c}")), "{c}");
        }
        for s in tongxin_shared::schema::CASE_STATUSES {
            assert!(zh.contains_key(&format!("status.{s}")), "{s}");
        }
        // Every grid- and user-import problem the server can report is said in both languages, the
        // English exactly as the server words it, with the same placeholders in Chinese.
        let server_texts = tongxin_shared::geoimport::PROBLEM_TEXTS
            .iter()
            .map(|(c, t)| (format!("import.why.{c}"), *t))
            .chain(
                tongxin_shared::userimport::PROBLEM_TEXTS
                    .iter()
                    .map(|(c, t)| (format!("users_import.why.{c}"), *t)),
            );
        for (key, text) in server_texts {
            assert_eq!(en.get(&key).map(String::as_str), Some(text), "{key}");
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_owned()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(holes(&zh[&key]), holes(text), "{key}");
        }
    }

    #[test]
    fn formatting_and_fallbacks() {
        assert_eq!(trf(Lang::En, "sync.waiting", &[("n", "3")]), "3 waiting");
        assert_eq!(tr(Lang::ZhCn, "app.title"), "同心");
        assert_eq!(tr(Lang::En, "no.such.key"), "no.such.key");
        assert_eq!(Lang::from_code("en").map(Lang::other), Some(Lang::ZhCn));
    }
}
