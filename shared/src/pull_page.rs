//! Reading a pull page without letting one unreadable record wedge sync (the app's pull loop;
//! pure, so it is tested and fuzzed natively).
//!
//! A page is read in two steps: the envelope (cursor, more, reset, scope, time) with each record
//! kept as raw JSON, then each record on its own. When anything fails the page is asked for again
//! with half the `limit`, down to 1; a single record that still cannot be read is skipped (the
//! cursor moves past its `seq`) and reported, so the records after it keep coming.

use crate::ids::RecordId;
use crate::record::Record;
use crate::schema::Collection;
use crate::wire::PulledRecord;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Records per pull page when every page reads well.
pub const PULL_LIMIT: u32 = 1000;

/// A page as read: the envelope and every record decoded.
#[derive(Debug)]
pub struct Page {
    pub records: Vec<Record>,
    /// Where each record's JSON sits in the text judged (`text[spans[i]]` is `records[i]` as the
    /// server sent it): a first sync stages those bytes instead of encoding the records again.
    /// Empty if they could not be told (the app then encodes).
    pub spans: Vec<std::ops::Range<usize>>,
    /// Records the device's profile no longer keeps (`crate::wire::PullResponse::dropped`).
    pub dropped: Vec<(Collection, RecordId)>,
    pub cursor: u64,
    pub more: bool,
    pub reset: bool,
    pub scope: String,
    pub server_time_ms: u64,
}

/// A record the app could not read and skipped, shown in the sync panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub seq: u64,
    pub error: String,
}

/// What to do with the answer to a pull asked with `limit`.
#[derive(Debug)]
pub enum Step {
    /// The page reads: apply it (the next page may be asked with `next_limit`).
    Apply { page: Page, next_limit: u32 },
    /// Ask the same cursor again with this smaller limit.
    Shrink { limit: u32 },
    /// A single record cannot be read: move the cursor past it and go on.
    Skip {
        skipped: Skipped,
        /// The page's dropped records (the cursor moves past them too).
        dropped: Vec<(Collection, RecordId)>,
        cursor: u64,
        more: bool,
        server_time_ms: u64,
    },
    /// Not even the envelope of a one-record page reads (a broken answer): the round fails
    /// and is tried again later.
    Fail(String),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
    cursor: u64,
    more: bool,
    reset: bool,
    #[serde(default)]
    scope: String,
    server_time_ms: u64,
    #[serde(default, borrow)]
    dropped: Vec<&'a RawValue>,
}

/// The dropped records of a page that the app can name: one it cannot (a collection of a newer
/// server) it does not hold either, and never keeps the page from applying.
fn dropped(raw: &[&RawValue]) -> Vec<(Collection, RecordId)> {
    raw.iter()
        .filter_map(|r| serde_json::from_str(r.get()).ok())
        .collect()
}

#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// Half the limit (at least 1).
pub fn halve(limit: u32) -> u32 {
    (limit / 2).max(1)
}

/// After a page read well: grow back towards [`PULL_LIMIT`].
pub fn grow(limit: u32) -> u32 {
    limit.saturating_mul(2).min(PULL_LIMIT)
}

/// Where each of `raw` (borrowed from `text`) sits in `text`; empty if any does not.
fn spans_in(text: &str, raw: &[&RawValue]) -> Vec<std::ops::Range<usize>> {
    let base = text.as_ptr() as usize;
    raw.iter()
        .map(|r| {
            let json = r.get();
            let start = (json.as_ptr() as usize).checked_sub(base)?;
            let span = start..start + json.len();
            (text.get(span.clone()) == Some(json)).then_some(span)
        })
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default()
}

/// Judges the answer `text` to a pull asked with `limit`.
pub fn judge(text: &str, limit: u32) -> Step {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) if limit > 1 => {
            let _ = e;
            return Step::Shrink {
                limit: halve(limit),
            };
        }
        Err(e) => return Step::Fail(format!("the pull answer cannot be read: {e}")),
    };
    let spans = spans_in(text, &envelope.records);
    let mut records = Vec::with_capacity(envelope.records.len());
    for raw in &envelope.records {
        match serde_json::from_str::<PulledRecord>(raw.get()) {
            Ok(r) => records.push(r.record),
            Err(_) if limit > 1 => {
                return Step::Shrink {
                    limit: halve(limit),
                }
            }
            Err(e) => {
                // One record alone: skip it, past its own seq (or the page's cursor, which is
                // that record's seq when it is the only one).
                let seq =
                    serde_json::from_str::<SeqOnly>(raw.get()).map_or(envelope.cursor, |s| s.seq);
                return Step::Skip {
                    skipped: Skipped {
                        seq,
                        error: e.to_string(),
                    },
                    dropped: dropped(&envelope.dropped),
                    cursor: envelope.cursor.max(seq),
                    more: envelope.more,
                    server_time_ms: envelope.server_time_ms,
                };
            }
        }
    }
    Step::Apply {
        page: Page {
            records,
            spans,
            dropped: dropped(&envelope.dropped),
            cursor: envelope.cursor,
            more: envelope.more,
            reset: envelope.reset,
            scope: envelope.scope,
            server_time_ms: envelope.server_time_ms,
        },
        next_limit: grow(limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(seq: u64, n: u32) -> String {
        json!({
            "seq": seq,
            "collection": "cases",
            "id": format!("00000000-0000-4000-8000-{n:012}"),
            "fields": {},
        })
        .to_string()
    }

    /// A record whose field nests deeper than serde_json reads (its recursion limit): what a
    /// server once accepted in entry data.
    fn too_deep(seq: u64) -> String {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        format!(
            r#"{{"seq":{seq},"collection":"cases","id":"00000000-0000-4000-8000-000000000999","fields":{{"title":{{"value":{deep},"stamp":{{"hlc":"000000000000001-000000","actor":"00000000-0000-4000-a000-000000000001"}}}}}}}}"#
        )
    }

    fn page(records: Vec<String>, cursor: u64, more: bool) -> String {
        format!(
            r#"{{"records":[{}],"cursor":{cursor},"more":{more},"reset":false,"scope":"s","server_time_ms":5}}"#,
            records.join(",")
        )
    }

    #[test]
    fn dropped_records_are_read_and_unknown_ones_left_out() {
        let text = format!(
            r#"{{"records":[{}],"cursor":9,"more":false,"reset":false,"scope":"s","server_time_ms":5,"dropped":[["cases","00000000-0000-4000-8000-000000000001"],["planets","00000000-0000-4000-8000-000000000002"],["visits","00000000-0000-4000-8000-000000000003"]]}}"#,
            record(9, 4)
        );
        let Step::Apply { page, .. } = judge(&text, 10) else {
            panic!("the page must apply");
        };
        let id = |s: &str| RecordId::parse(s).unwrap();
        assert_eq!(
            page.dropped,
            vec![
                (
                    Collection::Cases,
                    id("00000000-0000-4000-8000-000000000001")
                ),
                (
                    Collection::Visits,
                    id("00000000-0000-4000-8000-000000000003")
                ),
            ]
        );
        let Step::Apply { page, .. } = judge(&page_text_without_dropped(), 10) else {
            panic!("the page must apply");
        };
        assert!(page.dropped.is_empty());
    }

    fn page_text_without_dropped() -> String {
        page(vec![record(3, 1)], 3, false)
    }

    #[test]
    fn a_good_page_applies_and_the_limit_grows_back() {
        let text = page(vec![record(3, 1), record(7, 2)], 7, true);
        let Step::Apply { page, next_limit } = judge(&text, 250) else {
            panic!("a good page must apply");
        };
        assert_eq!(page.records.len(), 2);
        assert_eq!((page.cursor, page.more, page.server_time_ms), (7, true, 5));
        assert_eq!(next_limit, 500);
        assert_eq!(grow(PULL_LIMIT), PULL_LIMIT);
    }

    #[test]
    fn each_records_span_is_its_json_as_sent_and_reads_back_as_the_record() {
        // Spaces around the records, so a span that is off by one shows.
        let (a, b) = (record(3, 1), record(7, 2));
        let text = format!(
            r#"{{"records": [ {a} ,{b}], "cursor":7,"more":false,"reset":false,"scope":"s","server_time_ms":5}}"#
        );
        let Step::Apply { page, .. } = judge(&text, 250) else {
            panic!("a good page must apply");
        };
        let sent: Vec<&str> = page.spans.iter().map(|s| &text[s.clone()]).collect();
        assert_eq!(sent, vec![a.as_str(), b.as_str()]);
        for (json, record) in sent.iter().zip(&page.records) {
            let read: Record = serde_json::from_str(json).expect("a record");
            assert_eq!(&read, record);
        }
    }

    #[test]
    fn a_bad_record_halves_the_limit_down_to_one_then_is_skipped_past_its_seq() {
        let mut limit = PULL_LIMIT;
        let mut asked = Vec::new();
        let text = page(vec![record(3, 1), too_deep(9), record(12, 3)], 12, false);
        let step = loop {
            asked.push(limit);
            // At limit 1 the server answers the bad record alone.
            let answer = if limit == 1 {
                page(vec![too_deep(9)], 9, true)
            } else {
                text.clone()
            };
            match judge(&answer, limit) {
                Step::Shrink { limit: l } => {
                    assert!(l < limit, "the limit must shrink");
                    limit = l;
                }
                other => break other,
            }
        };
        assert_eq!(asked, vec![1000, 500, 250, 125, 62, 31, 15, 7, 3, 1]);
        let Step::Skip {
            skipped,
            cursor,
            more,
            ..
        } = step
        else {
            panic!("a single unreadable record must be skipped, got {step:?}");
        };
        assert_eq!(skipped.seq, 9);
        assert_eq!(cursor, 9, "the cursor moves past the skipped record");
        assert!(more, "sync goes on after the skip");
        assert!(skipped.error.contains("recursion"), "{}", skipped.error);
    }

    #[test]
    fn a_record_of_an_unknown_collection_is_skipped_alone() {
        let bad = record(4, 1).replace("cases", "spaceships");
        let Step::Skip {
            skipped, cursor, ..
        } = judge(&page(vec![bad], 4, false), 1)
        else {
            panic!("must skip");
        };
        assert_eq!((skipped.seq, cursor), (4, 4));
    }

    #[test]
    fn a_broken_answer_shrinks_then_fails_the_round_without_moving_the_cursor() {
        let truncated = &page(vec![record(3, 1)], 3, false)[..20];
        assert!(matches!(judge(truncated, 8), Step::Shrink { limit: 4 }));
        assert!(matches!(judge(truncated, 1), Step::Fail(_)));
    }
}
