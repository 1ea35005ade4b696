//! Personal numbers in free text: mainland mobile numbers, landlines and 18-digit resident ID
//! numbers that a person typed into a title, a description or a note. `find` locates them,
//! `redact` masks them for the levels that get personal fields masked (`crate::mask`), and the
//! app uses `find` to tell the warden such numbers belong in the phone field.
//!
//! A small hand-written scanner rather than a regular expression: the regex crate would add
//! ~100 KB to the wasm every warden downloads. Digits may be ASCII or full-width (what a Chinese
//! input method types); a number never matches inside a longer run of digits.

use std::borrow::Cow;
use std::ops::Range;

/// What kind of number was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `1[3-9]` + 9 digits, optionally `+86`/`0086`/`86` before it, grouped 3-4-4 by spaces or
    /// dashes (`138 1234 5678`, `+86-138-1234-5678`).
    Mobile,
    /// `0` + a 2–3 digit area code, an optional dash or space (or the code in parentheses),
    /// then 7–8 digits (`0872-2123456`, `(010) 12345678`).
    Landline,
    /// A resident ID number: 17 digits and a digit or `X`.
    IdNumber,
}

/// A number found in a text: its kind and its byte range (on char boundaries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub range: Range<usize>,
    /// Digits at the start of the range that are not part of the number proper (a `+86` prefix)
    /// or that stay visible (a landline's area code).
    lead: usize,
}

/// The numbers in `text`, in order, not overlapping.
pub fn find(text: &str) -> Vec<Found> {
    let cs: Vec<(usize, char)> = text.char_indices().collect();
    let end_byte = |i: usize| cs.get(i).map_or(text.len(), |(b, _)| *b);
    let mut found = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let after_digit = i > 0 && digit(cs[i - 1].1).is_some();
        let hit = if after_digit {
            None
        } else {
            id_number(&cs, i)
                .map(|e| (Kind::IdNumber, e, 0))
                .or_else(|| mobile(&cs, i).map(|(e, lead)| (Kind::Mobile, e, lead)))
                .or_else(|| landline(&cs, i).map(|(e, lead)| (Kind::Landline, e, lead)))
        };
        match hit {
            Some((kind, end, lead)) => {
                found.push(Found {
                    kind,
                    range: cs[i].0..end_byte(end),
                    lead,
                });
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

/// Whether `text` holds a phone or ID number (the app's notice next to free-text fields).
pub fn contains_number(text: &str) -> bool {
    !find(text).is_empty()
}

/// `text` with every number found masked by `*`: a mobile keeps its first 3 and last 2 digits,
/// a landline its area code, an ID number its last 4 characters. Separators, prefixes and all
/// other text stay as they were. Borrowed when nothing was found.
pub fn redact(text: &str) -> Cow<'_, str> {
    let found = find(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.range.start]);
        let (keep_head, keep_tail) = match f.kind {
            Kind::Mobile => (3, 2),
            Kind::Landline => (0, 0),
            Kind::IdNumber => (0, 4),
        };
        let part = &text[f.range.clone()];
        let total = part.chars().filter(|c| is_number_char(*c)).count() - f.lead;
        let mut n = 0;
        for c in part.chars() {
            if !is_number_char(c) {
                out.push(c);
                continue;
            }
            let k = n;
            n += 1;
            if k < f.lead {
                out.push(c);
                continue;
            }
            let k = k - f.lead;
            if k < keep_head || k >= total - keep_tail {
                out.push(c);
            } else {
                out.push('*');
            }
        }
        at = f.range.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The value of an ASCII or full-width digit.
fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(u32::from(c) - u32::from('0')),
        '０'..='９' => Some(u32::from(c) - u32::from('０')),
        _ => None,
    }
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// A character counted as one position of a number (a digit, or an ID number's final X).
fn is_number_char(c: char) -> bool {
    digit(c).is_some() || is_x(c)
}

fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '-' | '\u{3000}' | '－')
}

fn char_at(cs: &[(usize, char)], i: usize) -> Option<char> {
    cs.get(i).map(|(_, c)| *c)
}

/// Whether position `i` ends a number: no digit follows.
fn ends(cs: &[(usize, char)], i: usize) -> bool {
    char_at(cs, i).and_then(digit).is_none()
}

/// Reads `n` digits from `i`; the index after them.
fn digits(cs: &[(usize, char)], i: usize, n: usize) -> Option<usize> {
    (i..i + n)
        .all(|k| char_at(cs, k).and_then(digit).is_some())
        .then_some(i + n)
}

/// Skips one separator at `i`, if there is one.
fn skip_sep(cs: &[(usize, char)], i: usize) -> usize {
    if char_at(cs, i).is_some_and(is_sep) && char_at(cs, i + 1).and_then(digit).is_some() {
        i + 1
    } else {
        i
    }
}

/// An ID number starting at `i`: 17 digits and a digit or X, not followed by either.
fn id_number(cs: &[(usize, char)], i: usize) -> Option<usize> {
    let e = digits(cs, i, 17)?;
    let last = char_at(cs, e)?;
    (digit(last).is_some() || is_x(last))
        .then_some(e + 1)
        .filter(|e| char_at(cs, *e).is_none_or(|c| !is_number_char(c)))
}

/// A mobile number starting at `i` (with its prefix): the index after it and the prefix digits.
fn mobile(cs: &[(usize, char)], i: usize) -> Option<(usize, usize)> {
    let plus = char_at(cs, i).is_some_and(|c| matches!(c, '+' | '＋'));
    let prefixes: &[&[u32]] = if plus {
        &[&[8, 6]]
    } else {
        &[&[], &[0, 0, 8, 6], &[8, 6]]
    };
    let start = i + usize::from(plus);
    prefixes.iter().find_map(|prefix| {
        let mut at = start;
        for d in *prefix {
            if char_at(cs, at).and_then(digit) != Some(*d) {
                return None;
            }
            at += 1;
        }
        if !prefix.is_empty() {
            at = skip_sep(cs, at);
        }
        mobile_body(cs, at).map(|e| (e, prefix.len()))
    })
}

/// `1[3-9]` + 9 digits from `i`, with an optional separator after the 3rd and the 7th digit.
fn mobile_body(cs: &[(usize, char)], i: usize) -> Option<usize> {
    if char_at(cs, i).and_then(digit) != Some(1)
        || !char_at(cs, i + 1)
            .and_then(digit)
            .is_some_and(|d| (3..=9).contains(&d))
    {
        return None;
    }
    let mut at = digits(cs, i, 3)?;
    at = skip_sep(cs, at);
    at = digits(cs, at, 4)?;
    at = skip_sep(cs, at);
    at = digits(cs, at, 4)?;
    ends(cs, at).then_some(at)
}

/// A landline starting at `i`: the index after it and the digits of its area code.
fn landline(cs: &[(usize, char)], i: usize) -> Option<(usize, usize)> {
    let paren = char_at(cs, i).is_some_and(|c| matches!(c, '(' | '（'));
    let start = i + usize::from(paren);
    if char_at(cs, start).and_then(digit) != Some(0) {
        return None;
    }
    // The numbering plan: 010 and 02x are three digits, every other code four.
    let planned = if char_at(cs, start + 1)
        .and_then(digit)
        .is_some_and(|d| d == 1 || d == 2)
    {
        3
    } else {
        4
    };
    [3, 4].into_iter().find_map(|area| {
        let mut at = digits(cs, start, area)?;
        if paren {
            if !char_at(cs, at).is_some_and(|c| matches!(c, ')' | '）')) {
                return None;
            }
            at += 1;
            if char_at(cs, at).is_some_and(is_sep) {
                at += 1;
            }
        } else if char_at(cs, at).is_some_and(is_sep) {
            at += 1;
        } else if area != planned {
            return None;
        }
        if char_at(cs, at).and_then(digit).is_none_or(|d| d < 2) {
            return None;
        }
        [8, 7]
            .into_iter()
            .find_map(|n| digits(cs, at, n).filter(|e| ends(cs, *e)))
            .map(|e| (e, area))
    })
}

#[cfg(test)]
mod tests {
    use super::{find, redact, Kind};

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        find(text)
            .into_iter()
            .map(|f| (f.kind, &text[f.range]))
            .collect()
    }

    #[test]
    fn mobiles_in_the_ways_people_write_them() {
        for (text, number) in [
            ("电话13812345678请回电", "13812345678"),
            ("call 138 1234 5678.", "138 1234 5678"),
            ("138-1234-5678", "138-1234-5678"),
            ("tel:+86 138 1234 5678", "+86 138 1234 5678"),
            ("+8613912345678", "+8613912345678"),
            ("008615912345678", "008615912345678"),
            ("联系１３８１２３４５６７８", "１３８１２３４５６７８"),
        ] {
            assert_eq!(kinds(text), vec![(Kind::Mobile, number)], "{text}");
        }
        assert_eq!(redact("电话13812345678请回电"), "电话138******78请回电");
        assert_eq!(redact("138 1234 5678"), "138 **** **78");
        assert_eq!(redact("+86 138 1234 5678"), "+86 138 **** **78");
    }

    #[test]
    fn landlines_keep_their_area_code() {
        for (text, number) in [
            ("办公室 0872-2123456", "0872-2123456"),
            ("010 62345678", "010 62345678"),
            ("08722123456", "08722123456"),
            ("(0872)2123456", "(0872)2123456"),
            ("（010）87654321", "（010）87654321"),
        ] {
            assert_eq!(kinds(text), vec![(Kind::Landline, number)], "{text}");
        }
        assert_eq!(redact("0872-2123456"), "0872-*******");
        assert_eq!(redact("(010) 87654321"), "(010) ********");
    }

    #[test]
    fn id_numbers_keep_their_last_four() {
        assert_eq!(
            kinds("身份证53290119900307123X。"),
            vec![(Kind::IdNumber, "53290119900307123X")]
        );
        assert_eq!(redact("532901199003071234"), "**************1234");
        assert_eq!(redact("53290119900307123x"), "**************123x");
    }

    #[test]
    fn not_inside_longer_digit_runs_nor_other_numbers() {
        for text in [
            "订单号 213812345678",
            "138123456789",
            "1381234567",
            "12812345678",
            "5329011990030712345",
            "2026-11-29 10:30",
            "共 1000 户 30 栋",
            "0872-212",
            "0872-0123456",
            "",
            "路灯不亮",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn several_numbers_in_one_text() {
        let text = "张三 13812345678，李四 0872-2123456，证件 532901199003071234";
        assert_eq!(
            redact(text),
            "张三 138******78，李四 0872-*******，证件 **************1234"
        );
    }
}
