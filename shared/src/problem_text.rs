//! Problem messages shared by the importers: a problem is a stable code plus named values, and its
//! message is the code's template with `{name}` placeholders filled in (the app translates the
//! template by the same code, so the values travel separately).

use std::collections::BTreeMap;

/// Fills `{name}` placeholders from `args`.
pub fn fill(template: &str, args: &BTreeMap<String, String>) -> String {
    args.iter().fold(template.to_owned(), |s, (k, v)| {
        s.replace(&format!("{{{k}}}"), v)
    })
}

/// The named values of a problem and its message, from the template of `code` in `texts` (the
/// code itself when `texts` has none).
pub fn render(
    texts: &[(&str, &str)],
    code: &str,
    args: &[(&str, String)],
) -> (BTreeMap<String, String>, String) {
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let template = texts
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, t)| *t);
    let message = fill(template, &args);
    (args, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders_and_falls_back_to_the_code() {
        let texts = [("too_far", "第 {n} 个要素距离社区 {km} 公里")];
        let (args, message) = render(
            &texts,
            "too_far",
            &[("n", "3".into()), ("km", "10.2".into())],
        );
        assert_eq!(message, "第 3 个要素距离社区 10.2 公里");
        assert_eq!(args.get("km").map(String::as_str), Some("10.2"));
        assert_eq!(render(&texts, "unknown_code", &[]).1, "unknown_code");
        // A placeholder with no value stays visible rather than vanishing.
        assert_eq!(
            fill("{a} {b}", &BTreeMap::from([("a".into(), "x".into())])),
            "x {b}"
        );
    }
}
