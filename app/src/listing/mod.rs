//! Lists at city scale, the pure part: compact rows kept per record (cases, visits, users),
//! search terms, sorting and paging. The screens (`ui::list`) keep the rows in memory and ask
//! these functions which rows match and in what order; only one page of rows is ever drawn.
//!
//! A city manager's device holds thousands of cases and tens of thousands of visits: a keystroke
//! in a search box must not re-read or clone them. Rows hold what a list shows, sorts and
//! searches (case-folded once, when the row is built); places and people are interned in
//! [`Names`] so a row carries a number, and a search term is matched once per place, not once
//! per row.

pub mod cases;
pub mod rows;
pub mod users;
pub mod visits;

use std::cmp::Ordering;
use std::collections::HashMap;

/// Rows on one page of a list.
pub const PAGE_SIZE: usize = 50;

/// How many pages `matched` rows make (at least one, so "page 1 of 1" for an empty list).
pub fn page_count(matched: usize) -> usize {
    matched.div_ceil(PAGE_SIZE).max(1)
}

/// The rows page `page` (from 0, clamped to the last page) shows out of `matched`.
pub fn page_range(matched: usize, page: usize) -> std::ops::Range<usize> {
    let page = page.min(page_count(matched) - 1);
    let start = page * PAGE_SIZE;
    start..(start + PAGE_SIZE).min(matched)
}

/// Search terms: separated by white space, case-folded. A row matches when every term is found
/// in one of its fields (Chinese has no spaces to tokenise on: substring match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    pub fn parse(text: &str) -> Self {
        Self(text.split_whitespace().map(str::to_lowercase).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// For each term, which of `names` contain it (computed once per search, not per row).
    pub fn in_names(&self, names: &Names) -> Vec<Vec<bool>> {
        self.0
            .iter()
            .map(|t| {
                names
                    .folded
                    .iter()
                    .map(|f| f.contains(t.as_str()))
                    .collect()
            })
            .collect()
    }
}

/// A sort order: a column and a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort<K> {
    pub key: K,
    pub desc: bool,
}

impl<K: Copy + PartialEq> Sort<K> {
    /// The order after a click on `key`'s header: the other direction when it is already the
    /// sort column, else that column in its natural direction.
    #[must_use]
    pub fn toggled(self, key: K, natural_desc: bool) -> Self {
        if self.key == key {
            Self {
                key,
                desc: !self.desc,
            }
        } else {
            Self {
                key,
                desc: natural_desc,
            }
        }
    }

    /// `ord` in this direction.
    pub fn apply(self, ord: Ordering) -> Ordering {
        if self.desc {
            ord.reverse()
        } else {
            ord
        }
    }
}

/// An interned place or person: rows carry its number. `NONE` is "not set".
pub type NameId = u32;
pub const NONE: NameId = u32::MAX;

/// Places or people by key (a record id, a username), with a label to show and the text a
/// search looks in (label, code, key — case-folded).
#[derive(Clone, Debug, Default)]
pub struct Names {
    by_key: HashMap<String, NameId>,
    keys: Vec<String>,
    labels: Vec<String>,
    folded: Vec<String>,
}

impl Names {
    /// The number of `key`, interning it (labelled by the key itself until [`Names::label`]).
    pub fn intern(&mut self, key: &str) -> NameId {
        if key.is_empty() {
            return NONE;
        }
        if let Some(id) = self.by_key.get(key) {
            return *id;
        }
        let id = NameId::try_from(self.keys.len()).unwrap_or(NONE);
        self.by_key.insert(key.to_owned(), id);
        self.keys.push(key.to_owned());
        self.labels.push(key.to_owned());
        self.folded.push(key.to_lowercase());
        id
    }

    /// Sets what `key` is shown as, and the other words a search finds it by (a code).
    pub fn label(&mut self, key: &str, label: &str, also: &[&str]) {
        let id = self.intern(key);
        let Some(i) = usize::try_from(id).ok().filter(|i| *i < self.keys.len()) else {
            return;
        };
        let shown = if label.is_empty() { key } else { label };
        shown.clone_into(&mut self.labels[i]);
        let mut hay = format!("{shown}\n{key}");
        for a in also {
            hay.push('\n');
            hay.push_str(a);
        }
        self.folded[i] = hay.to_lowercase();
    }

    pub fn get(&self, key: &str) -> NameId {
        self.by_key.get(key).copied().unwrap_or(NONE)
    }

    /// What `id` is shown as ("" for `NONE`).
    pub fn shown(&self, id: NameId) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.labels.get(i))
            .map_or("", String::as_str)
    }

    /// The key `id` stands for ("" for `NONE`).
    pub fn key(&self, id: NameId) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.keys.get(i))
            .map_or("", String::as_str)
    }

    /// Every (key, label), in label order (a filter's options).
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .keys
            .iter()
            .cloned()
            .zip(self.labels.iter().cloned())
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Each name's place in label order (`NONE` last), for sorting rows by a place or person.
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        order.sort_by(|a, b| self.labels[*a].cmp(&self.labels[*b]));
        let mut rank = vec![0u32; order.len()];
        for (r, i) in order.into_iter().enumerate() {
            rank[i] = u32::try_from(r).unwrap_or(u32::MAX);
        }
        rank
    }
}

/// `id`'s rank (`NONE` and unknown ids after every name).
pub fn rank_of(ranks: &[u32], id: NameId) -> u32 {
    usize::try_from(id)
        .ok()
        .and_then(|i| ranks.get(i).copied())
        .unwrap_or(u32::MAX)
}

/// Whether term `t` (by its index in the search) is in name `id`, per [`Terms::in_names`].
pub fn term_in(hits: &[Vec<bool>], t: usize, id: NameId) -> bool {
    usize::try_from(id)
        .ok()
        .and_then(|i| hits.get(t)?.get(i).copied())
        .unwrap_or(false)
}

/// A record with `fields` (one stamp for all), for the lists' tests.
#[cfg(test)]
fn fixture(
    collection: tongxin_shared::Collection,
    n: u128,
    fields: &serde_json::Value,
) -> tongxin_shared::Record {
    let mut r = tongxin_shared::Record::new(
        collection,
        tongxin_shared::RecordId(uuid::Uuid::from_u128(n)),
    );
    let stamp = tongxin_shared::Stamp {
        hlc: tongxin_shared::Hlc::new(1, 0),
        actor: tongxin_shared::ActorId(uuid::Uuid::from_u128(9)),
    };
    for (k, v) in fields.as_object().into_iter().flatten() {
        r.fields.insert(
            k.clone(),
            tongxin_shared::FieldValue {
                value: v.clone(),
                stamp,
            },
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_row_once_and_clamp() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_range(0, 0), 0..0);
        assert_eq!(page_count(8_405), 169);
        assert_eq!(page_range(8_405, 0), 0..50);
        assert_eq!(page_range(8_405, 168), 8_400..8_405);
        // Past the end (the list shrank under a search): the last page.
        assert_eq!(page_range(8_405, 500), 8_400..8_405);
        assert_eq!(page_range(120, 2), 100..120);
        let covered: usize = (0..page_count(1_234))
            .map(|p| page_range(1_234, p).len())
            .sum();
        assert_eq!(covered, 1_234);
    }

    #[test]
    fn terms_are_case_folded_and_matched_against_names() {
        let t = Terms::parse("  Grid  楼道 ");
        assert_eq!(t.iter().collect::<Vec<_>>(), ["grid", "楼道"]);
        let mut n = Names::default();
        n.label("g1", "第一网格", &["G-01"]);
        let hits = t.in_names(&n);
        assert!(!term_in(&hits, 0, n.get("g1")));
        let hits = Terms::parse("g-01").in_names(&n);
        assert!(term_in(&hits, 0, n.get("g1")));
        assert!(!term_in(&hits, 0, NONE));
    }

    #[test]
    fn names_rank_by_label_and_toggle_sorts() {
        let mut n = Names::default();
        n.label("b", "乙", &[]);
        n.label("a", "甲", &[]);
        let x = n.intern("x");
        assert_eq!(n.shown(x), "x");
        let ranks = n.ranks();
        assert!(rank_of(&ranks, n.get("x")) < rank_of(&ranks, n.get("b")));
        assert_eq!(rank_of(&ranks, NONE), u32::MAX);
        let s = Sort {
            key: 1,
            desc: false,
        };
        assert_eq!(s.toggled(1, false), Sort { key: 1, desc: true });
        assert_eq!(s.toggled(2, true), Sort { key: 2, desc: true });
        assert_eq!(s.apply(Ordering::Less), Ordering::Less);
    }
}
