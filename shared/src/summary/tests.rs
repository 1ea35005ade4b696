use super::*;
use crate::figures::{case_figures, case_figures_by_area, visit_rate, weekly_trend};
use crate::hlc::Hlc;
use crate::ids::ActorId;
use proptest::prelude::*;
use serde_json::{json, Map};
use std::collections::HashMap;

/// 2026-03-01T00:00:00Z: month boundaries are a day either side of the times below.
const T0: u64 = 1_772_323_200_000;
const HOUR: u64 = 3_600_000;

fn grid(n: u128) -> RecordId {
    RecordId(Uuid::from_u128(0xa000 + n))
}

fn record(c: Collection, id: u128, fields: &Map<String, Value>, at: u64) -> Record {
    let mut r = Record::new(c, RecordId(Uuid::from_u128(id)));
    let stamp = Stamp {
        hlc: Hlc::new(at, 0),
        actor: ActorId(Uuid::nil()),
    };
    for (k, v) in fields {
        if !v.is_null() {
            r.fields.insert(
                k.clone(),
                FieldValue {
                    value: v.clone(),
                    stamp,
                },
            );
        }
    }
    r
}

fn arb_time() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (0u64..24 * 45).prop_map(|h| json!(T0 - 15 * DAY_MS + h * HOUR)),
        1 => Just(Value::Null),
        1 => Just(json!("not a time")),
    ]
}

fn arb_grid() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (0u128..3).prop_map(|g| json!(grid(g).to_string())),
        1 => Just(Value::Null),
        1 => Just(json!("not an id")),
    ]
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(values).prop_map(|s| json!(s)),
        1 => Just(Value::Null),
        1 => Just(json!(7)),
    ]
}

/// A version of a case or a visit, with the fields the figures read in every shape a stored
/// record may hold them.
fn arb_version(c: Collection) -> BoxedStrategy<Map<String, Value>> {
    let deleted = prop_oneof![6 => Just(Value::Null), 1 => Just(json!(true))];
    match c {
        Collection::Cases => (
            (arb_grid(), arb_time(), arb_time(), arb_time()),
            pick(&[
                "reported",
                "accepted",
                "in_progress",
                "resolved",
                "closed",
                "bogus",
            ]),
            pick(&["safety", "environment", "other"]),
            pick(&["inspection", "hotline"]),
            prop_oneof![Just(Value::Null), Just(json!("")), Just(json!("w1"))],
            deleted,
        )
            .prop_map(
                |((g, reported, closed, deadline), st, cat, src, who, del)| {
                    let mut m = Map::new();
                    m.insert("grid".into(), g);
                    m.insert("reported_at".into(), reported);
                    m.insert("closed_at".into(), closed);
                    m.insert("deadline".into(), deadline);
                    m.insert("status".into(), st);
                    m.insert("category".into(), cat);
                    m.insert("source".into(), src);
                    m.insert("assignee".into(), who);
                    m.insert("deleted".into(), del);
                    m
                },
            )
            .boxed(),
        _ => (arb_grid(), arb_time(), pick(&["w1", "w2", "w3"]), deleted)
            .prop_map(|(g, at, w, del)| {
                let mut m = Map::new();
                m.insert("grid".into(), g);
                m.insert("visited_at".into(), at);
                m.insert("warden".into(), w);
                m.insert("deleted".into(), del);
                m
            })
            .boxed(),
    }
}

/// One batch of writes: each `(collection, id, version)`.
type Batch = Vec<(Collection, u128, Map<String, Value>)>;

/// Batches of writes.
fn arb_batches() -> impl Strategy<Value = Vec<Batch>> {
    let write = prop::sample::select(vec![Collection::Cases, Collection::Visits])
        .prop_flat_map(|c| (Just(c), 0u128..8, arb_version(c)));
    prop::collection::vec(prop::collection::vec(write, 1..6), 1..12)
}

/// Records and summaries after the batches, the summaries kept up the way the server does:
/// per batch, each record's state before the batch and after it.
fn run(batches: &[Batch]) -> (Vec<Record>, BTreeMap<SummaryKey, Record>) {
    let mut records: HashMap<(Collection, u128), Record> = HashMap::new();
    let mut summaries: BTreeMap<SummaryKey, Record> = BTreeMap::new();
    let mut now = T0;
    for batch in batches {
        now += HOUR;
        let mut before: HashMap<(Collection, u128), Option<Record>> = HashMap::new();
        for (c, id, fields) in batch {
            // Visits and cases never share an id on the server; keep them apart here too.
            let id = if *c == Collection::Visits {
                id + 100
            } else {
                *id
            };
            before
                .entry((*c, id))
                .or_insert_with(|| records.get(&(*c, id)).cloned());
            records.insert((*c, id), record(*c, id, fields, now));
        }
        let pairs: Vec<(Option<&Record>, &Record)> = before
            .iter()
            .map(|(k, b)| (b.as_ref(), &records[k]))
            .collect();
        for (key, change) in changes(pairs) {
            if let Some(r) = apply(summaries.get(&key).cloned(), &key, &change, now) {
                summaries.insert(key, r);
            }
        }
    }
    (records.into_values().collect(), summaries)
}

proptest! {
    #[test]
    fn summaries_kept_up_commit_by_commit_equal_those_built_from_nothing(batches in arb_batches()) {
        let (records, summaries) = run(&batches);
        let built: BTreeMap<RecordId, Entries> = build(&records, T0)
            .iter()
            .map(|r| (r.id, Entries::of(r)))
            .collect();
        for (key, s) in &summaries {
            prop_assert_eq!(s.id, key.id());
            let kept = Entries::of(s);
            let want = built.get(&s.id).cloned().unwrap_or_default();
            prop_assert_eq!(kept, want, "summary {:?}", key);
        }
        for id in built.keys() {
            prop_assert!(summaries.values().any(|s| s.id == *id));
        }
    }

    #[test]
    fn figures_from_summaries_equal_figures_from_the_records(
        batches in arb_batches(),
        from_h in 0u64..24 * 50,
        len_h in 0u64..24 * 50,
        now_h in 0u64..24 * 60,
    ) {
        let (records, summaries) = run(&batches);
        let (cases, visits) = expand(summaries.values());
        let from = T0 - 20 * DAY_MS + from_h * HOUR;
        let to = from + len_h * HOUR;
        let now = T0 - 20 * DAY_MS + now_h * HOUR;
        let direct_cases: Vec<&Record> = records.iter().filter(|r| r.collection == Collection::Cases).collect();
        // The visit figures read entries: the records' own against the summaries'.
        let direct_visits: Vec<VisitEntry> = records.iter().filter_map(VisitEntry::of).collect();
        prop_assert_eq!(
            case_figures(direct_cases.iter().copied(), from, to, now),
            case_figures(&cases, from, to, now)
        );
        prop_assert_eq!(
            weekly_trend(direct_cases.iter().copied(), from, to),
            weekly_trend(&cases, from, to)
        );
        let wardens = vec!["w1".to_owned(), "w9".to_owned()];
        prop_assert_eq!(
            visit_rate(&direct_visits, &wardens, from, to),
            visit_rate(&visits, &wardens, from, to)
        );
        let area = RecordId(Uuid::from_u128(0xb000));
        let area_of: BTreeMap<RecordId, RecordId> = [(grid(0), area), (grid(1), area)].into();
        prop_assert_eq!(
            case_figures_by_area(direct_cases.iter().copied(), &area_of, &[area], from, to, now),
            case_figures_by_area(&cases, &area_of, &[area], from, to, now)
        );
    }
}

#[test]
fn a_change_moves_the_entry_between_summaries_and_stamps_win_the_merge() {
    let mut m = Map::new();
    m.insert("grid".into(), json!(grid(0).to_string()));
    m.insert("visited_at".into(), json!(T0 - DAY_MS));
    m.insert("warden".into(), json!("w1"));
    let v1 = record(Collection::Visits, 1, &m, T0);
    m.insert("visited_at".into(), json!(T0 + DAY_MS));
    let v2 = record(Collection::Visits, 1, &m, T0 + 1);
    let first = changes([(None, &v1)]);
    let (k1, c1) = first.iter().next().unwrap();
    assert_eq!(k1.month, "2026-02");
    let s1 = apply(None, k1, c1, T0).unwrap();
    assert_eq!(last_visit(&s1), Some(T0 - DAY_MS));
    let second = changes([(Some(&v1), &v2)]);
    assert_eq!(second.len(), 2, "out of February, into March");
    let s1b = apply(Some(s1.clone()), k1, &second[k1], T0).unwrap();
    assert!(Entries::of(&s1b).visits.is_empty());
    // Written again in the same millisecond: the new value still wins.
    assert!(s1b.fields["visits"].stamp > s1.fields["visits"].stamp);
    let mut merged = s1.clone();
    crate::merge::merge_record(&mut merged, &s1b);
    assert_eq!(merged, s1b);
    // The same change again changes nothing.
    assert!(apply(Some(s1b.clone()), k1, &Change::default(), T0).is_none());
}
