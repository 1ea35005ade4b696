//! Filtering and searching case lists offline (the app runs this over its local records).
//! Search is a case-folded substring match of every term in the title and description: Chinese
//! text has no spaces to tokenise on, and a few thousand cases scan in milliseconds.

use crate::case::{is_overdue, Status};
use crate::record::Record;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a case list shows. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFilter {
    pub status: Option<Status>,
    pub grid: Option<String>,
    pub category: Option<String>,
    pub overdue_only: bool,
    /// Only cases the user reported or is assigned.
    pub mine: Option<String>,
    /// Search terms, separated by spaces.
    pub text: String,
    /// Only cases still open (not resolved or closed): the home screen's "mine" tile.
    #[serde(default)]
    pub open_only: bool,
    /// Only open cases due within a day and not yet overdue: the home screen's "due" tile.
    #[serde(default)]
    pub due_soon: bool,
}

/// How far ahead "due soon" looks.
pub const DUE_SOON_MS: u64 = crate::case::DAY_MS;

impl CaseFilter {
    /// Whether a record passes the filter at time `now_ms`.
    pub fn matches(&self, r: &Record, terms: &[String], now_ms: u64) -> bool {
        if r.collection != Collection::Cases || r.is_deleted() {
            return false;
        }
        let status = r.str("status").and_then(Status::parse);
        if self.status.is_some() && status != self.status {
            return false;
        }
        if self
            .grid
            .as_deref()
            .is_some_and(|g| r.str("grid") != Some(g))
        {
            return false;
        }
        if self
            .category
            .as_deref()
            .is_some_and(|c| r.str("category") != Some(c))
        {
            return false;
        }
        let open = status.is_some_and(Status::is_open);
        if (self.open_only || self.due_soon) && !open {
            return false;
        }
        if self.due_soon {
            let deadline = r.get("deadline").and_then(Value::as_u64);
            if !deadline.is_some_and(|d| d >= now_ms && d <= now_ms + DUE_SOON_MS) {
                return false;
            }
        }
        if self.overdue_only {
            let deadline = r.get("deadline").and_then(Value::as_u64);
            let late = match (status, deadline) {
                (Some(s), Some(d)) => is_overdue(s, d, now_ms),
                _ => false,
            };
            if !late {
                return false;
            }
        }
        if let Some(me) = self.mine.as_deref() {
            if r.str("reporter") != Some(me) && r.str("assignee") != Some(me) {
                return false;
            }
        }
        if !terms.is_empty() {
            let hay = format!(
                "{}\n{}",
                r.str("title").unwrap_or_default(),
                r.str("description").unwrap_or_default()
            )
            .to_lowercase();
            if !terms.iter().all(|t| hay.contains(t.as_str())) {
                return false;
            }
        }
        true
    }

    /// The search terms, case-folded.
    pub fn terms(&self) -> Vec<String> {
        self.text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect()
    }

    /// The matching cases, newest report first.
    pub fn apply<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Record>,
        now_ms: u64,
    ) -> Vec<&'a Record> {
        let terms = self.terms();
        let mut out: Vec<&Record> = records
            .into_iter()
            .filter(|r| self.matches(r, &terms, now_ms))
            .collect();
        out.sort_by_key(|r| {
            std::cmp::Reverse(r.get("reported_at").and_then(Value::as_u64).unwrap_or(0))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(n: u128, fields: Value) -> Record {
        crate::record::test_record(Collection::Cases, n, &fields)
    }

    #[test]
    fn filters_combine_and_search_is_case_folded() {
        let recs = vec![
            case(
                1,
                json!({"title": "楼道堆物", "description": "占用消防通道", "status": "reported", "grid": "g1", "category": "safety", "reporter": "w1", "reported_at": 1, "deadline": 10}),
            ),
            case(
                2,
                json!({"title": "Street LIGHT broken", "status": "in_progress", "grid": "g2", "category": "infrastructure", "assignee": "w1", "reported_at": 2, "deadline": 1000}),
            ),
            case(
                3,
                json!({"title": "路灯损坏", "status": "closed", "grid": "g1", "category": "infrastructure", "reported_at": 3, "deadline": 10}),
            ),
            case(
                4,
                json!({"title": "deleted", "status": "reported", "deleted": true, "reported_at": 4}),
            ),
        ];
        let ids = |f: &CaseFilter| {
            f.apply(&recs, 100)
                .iter()
                .map(|r| r.id.0.as_u128())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&CaseFilter::default()), vec![3, 2, 1]);
        assert_eq!(
            ids(&CaseFilter {
                text: "消防".into(),
                ..Default::default()
            }),
            vec![1]
        );
        assert_eq!(
            ids(&CaseFilter {
                text: "light street".into(),
                ..Default::default()
            }),
            vec![2]
        );
        assert_eq!(
            ids(&CaseFilter {
                grid: Some("g1".into()),
                ..Default::default()
            }),
            vec![3, 1]
        );
        assert_eq!(
            ids(&CaseFilter {
                overdue_only: true,
                ..Default::default()
            }),
            vec![1]
        );
        assert_eq!(
            ids(&CaseFilter {
                mine: Some("w1".into()),
                ..Default::default()
            }),
            vec![2, 1]
        );
        // The home tiles: my open cases; open cases due within a day (case 2: deadline 1000,
        // seen at 100, is due within a day; case 1 is already late, case 3 closed).
        assert_eq!(
            ids(&CaseFilter {
                mine: Some("w1".into()),
                open_only: true,
                ..Default::default()
            }),
            vec![2, 1]
        );
        assert_eq!(
            ids(&CaseFilter {
                due_soon: true,
                ..Default::default()
            }),
            vec![2]
        );
        assert_eq!(
            ids(&CaseFilter {
                status: Some(Status::Closed),
                category: Some("infrastructure".into()),
                ..Default::default()
            }),
            vec![3]
        );
    }
}
