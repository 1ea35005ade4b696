//! Summaries (docs/SYNC.md, "What each level's device holds"): one record per (grid, month)
//! in the derived collection `summaries`, written by the server inside the commit that changes
//! the cases and visits it projects. Each holds, for every case and visit of its grid reported
//! (or made) in its month, exactly the fields the figures read (`crate::figures`), so a
//! subdistrict or city manager's device computes every dashboard figure from summaries alone and
//! gets the same numbers as a direct count of the records ([`expand`] turns a summary back into
//! records the figure functions take).
//!
//! The entries are multisets: a change takes the record's old entry out of its summary and puts
//! its new entry into its (possibly other) summary, so the server needs only the record before
//! and after a commit, never the other records of the grid.

use crate::case::{SYSTEM_ACTOR, SYSTEM_NAMESPACE};
use crate::figures::date_from_days;
use crate::hlc::{Hlc, Stamp};
use crate::ids::RecordId;
use crate::record::{FieldValue, Record};
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

const DAY_MS: u64 = crate::case::DAY_MS;

/// What one case contributes to the figures: `[reported_at, category, source, status,
/// closed_at, deadline, assigned]`, each as the figures read it from the record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseEntry(
    pub Option<u64>,
    pub Option<String>,
    pub Option<String>,
    pub Option<String>,
    pub Option<u64>,
    pub Option<u64>,
    pub bool,
);

/// What one visit contributes: `[visited_at, warden]`. Also what the visit figures read of a
/// visit (`figures::visit_rate`): a summary's entries and a device's records give the same.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VisitEntry(pub u64, pub Option<String>);

impl VisitEntry {
    /// A live visit's entry (`None`: not a visit, deleted, or without a time).
    pub fn of(r: &Record) -> Option<Self> {
        if r.collection != Collection::Visits || r.is_deleted() {
            return None;
        }
        Some(Self(u64_field(r, "visited_at")?, string_field(r, "warden")))
    }
}

/// One record's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Case(CaseEntry),
    Visit(VisitEntry),
}

/// Where an entry is kept: the record's grid (none for a record outside every grid) and the
/// month (`YYYY-MM`, UTC) of its report or visit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SummaryKey {
    pub grid: Option<RecordId>,
    pub month: String,
}

impl SummaryKey {
    /// The summary record's id: a version 5 id of the key, so every instance and every
    /// backfill names the same record, and no device can take it.
    pub fn id(&self) -> RecordId {
        let grid = self.grid.map(|g| g.to_string()).unwrap_or_default();
        let name = format!("summary/{grid}/{}", self.month);
        RecordId(Uuid::new_v5(&SYSTEM_NAMESPACE, name.as_bytes()))
    }
}

fn u64_field(r: &Record, f: &str) -> Option<u64> {
    r.get(f).and_then(Value::as_u64)
}

fn string_field(r: &Record, f: &str) -> Option<String> {
    r.str(f).map(str::to_owned)
}

/// `YYYY-MM` (UTC) of a time in ms.
pub fn month_of(ms: u64) -> String {
    let mut d = date_from_days((ms / DAY_MS) as i64);
    d.truncate(7);
    d
}

/// The entry a record contributes and where, or `None` (not a case or visit, deleted, or
/// nothing the figures would count).
pub fn entry_of(r: &Record) -> Option<(SummaryKey, Entry)> {
    if r.is_deleted() {
        return None;
    }
    let grid = r.str("grid").and_then(|s| RecordId::parse(s).ok());
    let (at, entry) = match r.collection {
        Collection::Cases => {
            let reported_at = u64_field(r, "reported_at");
            let closed_at = u64_field(r, "closed_at");
            let entry = CaseEntry(
                reported_at,
                string_field(r, "category"),
                string_field(r, "source"),
                string_field(r, "status"),
                closed_at,
                u64_field(r, "deadline"),
                r.str("assignee").is_some_and(|a| !a.is_empty()),
            );
            (reported_at.or(closed_at)?, Entry::Case(entry))
        }
        Collection::Visits => {
            let entry = VisitEntry::of(r)?;
            (entry.0, Entry::Visit(entry))
        }
        _ => return None,
    };
    let month = month_of(at);
    Some((SummaryKey { grid, month }, entry))
}

/// The entries to take out of and put into one summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub remove: Vec<Entry>,
    pub add: Vec<Entry>,
}

/// What a batch of record changes (`(before, after)`, before `None` for a new record) does to
/// the summaries, by summary key; a record whose entry and key are unchanged changes nothing.
pub fn changes<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a Record>, &'a Record)>,
) -> BTreeMap<SummaryKey, Change> {
    let mut out: BTreeMap<SummaryKey, Change> = BTreeMap::new();
    for (before, after) in pairs {
        let old = before.and_then(entry_of);
        let new = entry_of(after);
        if old == new {
            continue;
        }
        if let Some((k, e)) = old {
            out.entry(k).or_default().remove.push(e);
        }
        if let Some((k, e)) = new {
            out.entry(k).or_default().add.push(e);
        }
    }
    out
}

/// The case and visit entries a summary record holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entries {
    pub cases: Vec<CaseEntry>,
    pub visits: Vec<VisitEntry>,
}

impl Entries {
    /// Reads a summary record's entries; a field that does not read (not a summary) is empty.
    pub fn of(r: &Record) -> Self {
        // Read in place: a busy grid's month holds many entries.
        fn read<T: serde::de::DeserializeOwned>(v: Option<&Value>) -> Vec<T> {
            v.and_then(|v| Vec::<T>::deserialize(v).ok())
                .unwrap_or_default()
        }
        Self {
            cases: read(r.get("cases")),
            visits: read(r.get("visits")),
        }
    }

    /// Takes `change`'s old entries out and puts its new ones in, keeping each list sorted (as
    /// stored) by binary search rather than re-sorting the whole summary; whether the cases and
    /// the visits changed (an entry taken out and put back is no change). Reading and writing
    /// the summary's JSON still costs its size.
    fn apply(&mut self, change: &Change) -> (bool, bool) {
        fn take<T: Ord>(v: &mut Vec<T>, x: &T, out: &mut Vec<T>) {
            if let Ok(i) = v.binary_search(x) {
                out.push(v.remove(i));
            }
        }
        fn put<T: Ord + Clone>(v: &mut Vec<T>, x: &T, added: &mut Vec<T>) {
            let i = v.binary_search(x).unwrap_or_else(|i| i);
            v.insert(i, x.clone());
            added.push(x.clone());
        }
        fn differ<T: Ord>(mut a: Vec<T>, mut b: Vec<T>) -> bool {
            a.sort();
            b.sort();
            a != b
        }
        // Stored lists are sorted; one written otherwise is sorted once here.
        if !self.cases.is_sorted() {
            self.cases.sort();
        }
        if !self.visits.is_sorted() {
            self.visits.sort();
        }
        let (mut cases_out, mut visits_out) = (Vec::new(), Vec::new());
        for e in &change.remove {
            match e {
                Entry::Case(c) => take(&mut self.cases, c, &mut cases_out),
                Entry::Visit(v) => take(&mut self.visits, v, &mut visits_out),
            }
        }
        let (mut cases_in, mut visits_in) = (Vec::new(), Vec::new());
        for e in &change.add {
            match e {
                Entry::Case(c) => put(&mut self.cases, c, &mut cases_in),
                Entry::Visit(v) => put(&mut self.visits, v, &mut visits_in),
            }
        }
        (differ(cases_out, cases_in), differ(visits_out, visits_in))
    }
}

/// The stamp of a server write to a summary field last stamped `prev`: the commit's clock
/// `now_ms`, or just after `prev` if that is later, so the new value always wins the merge.
fn next_stamp(prev: Option<Stamp>, now_ms: u64) -> Stamp {
    let hlc = match prev {
        Some(p) if p.hlc >= Hlc::new(now_ms, 0) => p.hlc.tick(now_ms),
        _ => Hlc::new(now_ms, 0),
    };
    Stamp {
        hlc,
        actor: SYSTEM_ACTOR,
    }
}

/// The summary `key` after `change`, from its stored state (`None`: not stored yet), written
/// at the server's clock `now_ms`; `None` when nothing changes. Takes the stored record: a busy
/// grid's month is large, and is changed in place rather than copied.
pub fn apply(
    stored: Option<Record>,
    key: &SummaryKey,
    change: &Change,
    now_ms: u64,
) -> Option<Record> {
    let new = stored.is_none();
    let mut r = stored.unwrap_or_else(|| Record::new(Collection::Summaries, key.id()));
    let mut entries = Entries::of(&r);
    let (cases_changed, visits_changed) = entries.apply(change);
    let set = |r: &mut Record, name: &str, value: Value| {
        if r.get(name) == Some(&value) {
            return false;
        }
        let stamp = next_stamp(r.fields.get(name).map(|f| f.stamp), now_ms);
        r.fields
            .insert(name.to_owned(), FieldValue { value, stamp });
        true
    };
    let mut changed = false;
    if let Some(g) = key.grid {
        changed |= set(&mut r, "grid", json!(g.to_string()));
    }
    changed |= set(&mut r, "month", json!(key.month));
    if cases_changed || new {
        changed |= set(&mut r, "cases", json!(entries.cases));
    }
    if visits_changed || new {
        changed |= set(&mut r, "visits", json!(entries.visits));
    }
    changed.then_some(r)
}

/// Every summary of `records` built from nothing (the start-up backfill, and the tests'
/// reference for the incremental upkeep).
pub fn build<'a>(records: impl IntoIterator<Item = &'a Record>, now_ms: u64) -> Vec<Record> {
    changes(records.into_iter().map(|r| (None, r)))
        .iter()
        .filter_map(|(k, c)| apply(None, k, c, now_ms))
        .collect()
}

/// What the figure functions read, rebuilt from summaries: a case record per case entry, with
/// only the fields the figures read (and synthetic ids), and the visit entries as they are
/// (the visit figures read entries: a year of a city's visits as records took hundreds of MB).
pub fn expand<'a>(
    summaries: impl IntoIterator<Item = &'a Record>,
) -> (Vec<Record>, Vec<VisitEntry>) {
    let stamp = Stamp {
        hlc: Hlc::new(0, 0),
        actor: SYSTEM_ACTOR,
    };
    let mut n: u128 = 0;
    let mut make = |c: Collection, fields: Vec<(&str, Value)>| {
        n += 1;
        let mut r = Record::new(c, RecordId(Uuid::from_u128(n)));
        for (k, v) in fields {
            if !v.is_null() {
                r.fields
                    .insert(k.to_owned(), FieldValue { value: v, stamp });
            }
        }
        r
    };
    let (mut cases, mut visits) = (Vec::new(), Vec::new());
    for s in summaries {
        if s.collection != Collection::Summaries || s.is_deleted() {
            continue;
        }
        let grid = s.get("grid").cloned().unwrap_or(Value::Null);
        let e = Entries::of(s);
        for CaseEntry(reported_at, category, source, status, closed_at, deadline, assigned) in
            e.cases
        {
            cases.push(make(
                Collection::Cases,
                vec![
                    ("grid", grid.clone()),
                    ("reported_at", json!(reported_at)),
                    ("category", json!(category)),
                    ("source", json!(source)),
                    ("status", json!(status)),
                    ("closed_at", json!(closed_at)),
                    ("deadline", json!(deadline)),
                    ("assignee", if assigned { json!("·") } else { Value::Null }),
                ],
            ));
        }
        visits.extend(e.visits);
    }
    (cases, visits)
}

/// The latest visit time in a summary (the map's "days since the last visit").
pub fn last_visit(s: &Record) -> Option<u64> {
    Entries::of(s).visits.iter().map(|v| v.0).max()
}

#[cfg(test)]
mod tests;
