//! Property tests of the free-text number scanner (`shared::redact`): it never panics, its
//! ranges are well-formed, what it redacts is no longer detectable, and everything else stays.

use proptest::prelude::*;
use tongxin_shared::redact::{contains_number, find, redact, Kind};

/// Text rich in what the scanner looks at: digits (ASCII and full-width), separators, prefixes,
/// parentheses, X, and some Chinese.
fn digity() -> impl Strategy<Value = String> {
    "[0-9０-９ \\-+()（）xX86路灯电话]{0,60}"
}

/// Text with no digits at all.
fn wordy() -> impl Strategy<Value = String> {
    "[a-zA-Z 路灯不亮请联系，。:()+\\-]{0,20}"
}

/// A mobile number as someone might type it: with or without +86, grouped 3-4-4 or not.
fn mobile() -> impl Strategy<Value = String> {
    (
        3u8..=9,
        "[0-9]{9}",
        prop::sample::select(vec!["", "+86", "+86 ", "0086", "86-"]),
        prop::sample::select(vec!["", " ", "-"]),
    )
        .prop_map(|(second, rest, prefix, sep)| {
            format!(
                "{prefix}1{second}{}{sep}{}{sep}{}",
                &rest[..1],
                &rest[1..5],
                &rest[5..]
            )
        })
}

/// An 18-digit ID number, sometimes ending in X.
fn id_number() -> impl Strategy<Value = String> {
    ("[1-9][0-9]{16}", prop::bool::ANY, 0u8..=9).prop_map(|(head, x, last)| {
        if x {
            format!("{head}X")
        } else {
            format!("{head}{last}")
        }
    })
}

/// A landline: area code 0 + 2–3 digits, optional separator, 7–8 digits not starting with 0/1.
fn landline() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["010", "021", "0872", "0871"]),
        prop::sample::select(vec!["-", " "]),
        "[2-9][0-9]{6,7}",
    )
        .prop_map(|(area, sep, local)| format!("{area}{sep}{local}"))
}

fn check_shape(text: &str) {
    let found = find(text);
    let mut last = 0;
    for f in &found {
        assert!(f.range.start >= last, "ranges in order, apart: {found:?}");
        assert!(f.range.start < f.range.end && f.range.end <= text.len());
        assert!(text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end));
        last = f.range.end;
    }
    let redacted = redact(text);
    assert!(
        find(&redacted).is_empty(),
        "{text:?} → {redacted:?} still holds {:?}",
        find(&redacted)
    );
    // Redaction replaces characters one for one, and only inside the ranges found.
    let before: Vec<char> = text.chars().collect();
    let after: Vec<char> = redacted.chars().collect();
    assert_eq!(before.len(), after.len());
    let mut inside = vec![false; before.len()];
    for (i, (b, _)) in text.char_indices().enumerate() {
        inside[i] = found.iter().any(|f| f.range.contains(&b));
    }
    for i in 0..before.len() {
        if !inside[i] {
            assert_eq!(before[i], after[i], "{text:?} → {redacted:?}");
        } else if before[i] != after[i] {
            assert_eq!(after[i], '*');
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_string_is_scanned_safely(text in "\\PC{0,80}") {
        check_shape(&text);
    }

    #[test]
    fn digit_rich_strings_are_scanned_safely(text in digity()) {
        check_shape(&text);
    }

    #[test]
    fn text_without_numbers_is_untouched(text in wordy()) {
        prop_assert!(!contains_number(&text));
        prop_assert!(matches!(redact(&text), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn numbers_in_text_are_found_and_hidden(
        before in wordy(),
        after in wordy(),
        (number, kind) in prop_oneof![
            mobile().prop_map(|n| (n, Kind::Mobile)),
            landline().prop_map(|n| (n, Kind::Landline)),
            id_number().prop_map(|n| (n, Kind::IdNumber)),
        ],
    ) {
        // A separator or a letter, never a digit, borders the number.
        let text = format!("{before}，{number}。{after}");
        let found = find(&text);
        prop_assert_eq!(found.len(), 1, "{:?}", found);
        prop_assert_eq!(found[0].kind, kind);
        prop_assert_eq!(&text[found[0].range.clone()], number.as_str());
        let redacted = redact(&text);
        prop_assert!(!redacted.contains(number.as_str()));
        let visible = redacted.chars().filter(char::is_ascii_digit).count();
        let digits = number.chars().filter(char::is_ascii_digit).count();
        let kept = match kind {
            Kind::Mobile => 5 + (digits - 11),
            Kind::Landline => number.find(['-', ' ']).unwrap(),
            Kind::IdNumber => 4 - usize::from(number.ends_with('X')),
        };
        prop_assert_eq!(visible, kept, "{}", redacted);
        check_shape(&text);
    }

    #[test]
    fn longer_digit_runs_are_not_numbers(run in "[0-9]{19,30}") {
        prop_assert!(find(&run).is_empty());
    }
}
