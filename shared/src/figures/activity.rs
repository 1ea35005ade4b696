//! Figures over time: each warden's weekly visits over the weeks the data actually covers, and
//! the cases opened and closed per week (the dashboard's trend).

use super::{date_from_days, u64_field};
use crate::case::{Status, DAY_MS};
use crate::record::Record;
use crate::schema::Collection;
use crate::summary::VisitEntry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const WEEK_MS: u64 = 7 * DAY_MS;

/// Visits per warden per week, with the window the rate was computed over.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitRate {
    /// Start of the window, ms: the period's start, or the day of the first visit on record
    /// when the records begin later (a 365-day period over three months of data is not divided
    /// by 52 weeks).
    pub from_ms: u64,
    /// End of the window (exclusive), ms.
    pub to_ms: u64,
    /// Weeks in the window (at least one: a couple of days is not extrapolated to a week).
    pub weeks: f64,
    /// Visits in the window.
    pub visits: u32,
    /// Visits per week of every listed warden (zero when they made none) and of anyone else
    /// who logged a visit in the window.
    pub per_warden: BTreeMap<String, f64>,
}

impl VisitRate {
    /// The average over the wardens in `per_warden` (0 when there are none).
    pub fn average(&self) -> f64 {
        if self.per_warden.is_empty() {
            0.0
        } else {
            self.per_warden.values().sum::<f64>() / self.per_warden.len() as f64
        }
    }

    /// The window's first and last day, `YYYY-MM-DD` (UTC).
    pub fn window_dates(&self) -> (String, String) {
        (
            date_from_days((self.from_ms / DAY_MS) as i64),
            date_from_days((self.to_ms.saturating_sub(1) / DAY_MS) as i64),
        )
    }
}

/// Visits per warden per week over `[from_ms, to_ms)`, counted over the weeks the visits cover:
/// the window starts at the later of `from_ms` and the (UTC) day of the earliest of `visits`
/// (each live visit's entry, `VisitEntry::of`, or a summary's). `wardens` are listed even
/// without a visit.
pub fn visit_rate<'a>(
    visits: impl IntoIterator<Item = &'a VisitEntry>,
    wardens: &[String],
    from_ms: u64,
    to_ms: u64,
) -> VisitRate {
    let mut first: Option<u64> = None;
    let mut in_window: Vec<(&'a str, u64)> = Vec::new();
    for VisitEntry(at, warden) in visits {
        let at = *at;
        first = Some(first.map_or(at, |f| f.min(at)));
        if (from_ms..to_ms).contains(&at) {
            if let Some(w) = warden {
                in_window.push((w, at));
            }
        }
    }
    let data_start = first.map_or(from_ms, |f| f - f % DAY_MS);
    let start = from_ms.max(data_start).min(to_ms);
    let weeks = (to_ms.saturating_sub(start) as f64 / WEEK_MS as f64).max(1.0);
    let mut counts: BTreeMap<String, u32> = wardens.iter().map(|w| (w.clone(), 0)).collect();
    for (w, _) in &in_window {
        *counts.entry((*w).to_owned()).or_default() += 1;
    }
    VisitRate {
        from_ms: start,
        to_ms,
        weeks,
        visits: in_window.len() as u32,
        per_warden: counts
            .into_iter()
            .map(|(w, n)| (w, f64::from(n) / weeks))
            .collect(),
    }
}

/// Cases opened (reported) and closed (销号) in one week.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCounts {
    /// The week's Monday, `YYYY-MM-DD` (UTC).
    pub week: String,
    pub opened: u32,
    pub closed: u32,
}

/// The Monday-based week number of a time (1970-01-01 was a Thursday).
fn week_of(ms: u64) -> i64 {
    ((ms / DAY_MS) as i64 + 3).div_euclid(7)
}

/// Cases opened and closed per week over `[from_ms, to_ms)`, every week of the period listed
/// (oldest first), zeros included. `opened` counts cases by `reported_at`, `closed` closed
/// cases by `closed_at`, each only inside the period: the opened column sums to
/// [`super::case_figures`]`.reported` over the same period.
pub fn weekly_trend<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    from_ms: u64,
    to_ms: u64,
) -> Vec<WeekCounts> {
    if to_ms <= from_ms {
        return Vec::new();
    }
    let (w0, w1) = (week_of(from_ms), week_of(to_ms - 1));
    let mut weeks: Vec<WeekCounts> = (w0..=w1)
        .map(|w| WeekCounts {
            week: date_from_days(w * 7 - 3),
            ..WeekCounts::default()
        })
        .collect();
    let slot = |at: u64| -> Option<usize> {
        (from_ms..to_ms)
            .contains(&at)
            .then(|| (week_of(at) - w0) as usize)
    };
    for r in records {
        if r.collection != Collection::Cases || r.is_deleted() {
            continue;
        }
        let Some(st) = r.str("status").and_then(Status::parse) else {
            continue;
        };
        if let Some(i) = u64_field(r, "reported_at").and_then(slot) {
            weeks[i].opened += 1;
        }
        if st == Status::Closed {
            if let Some(i) = u64_field(r, "closed_at").and_then(slot) {
                weeks[i].closed += 1;
            }
        }
    }
    weeks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{case_figures, days_from_date};
    use serde_json::{json, Value};

    fn rec(c: Collection, n: u128, fields: Value) -> Record {
        crate::record::test_record(c, n, &fields)
    }

    fn day(date: &str) -> u64 {
        days_from_date(date).unwrap() as u64 * DAY_MS
    }

    #[test]
    fn the_visit_rate_counts_only_the_weeks_the_data_covers() {
        let now = day("2026-11-30");
        let visit = |n, w: &str, at| {
            rec(
                Collection::Visits,
                n,
                json!({"warden": w, "visited_at": at}),
            )
        };
        // The first visit on record is 14 days before now: a 365-day period counts 2 weeks.
        let recs = [
            visit(1, "w1", now - 14 * DAY_MS + 5),
            visit(2, "w1", now - 3 * DAY_MS),
            visit(3, "w1", now - DAY_MS),
            visit(4, "w2", now - 2 * DAY_MS),
            rec(
                Collection::Visits,
                5,
                json!({"warden": "w2", "visited_at": now - DAY_MS, "deleted": true}),
            ),
        ];
        let recs: Vec<VisitEntry> = recs.iter().filter_map(VisitEntry::of).collect();
        assert_eq!(recs.len(), 4, "the deleted visit has no entry");
        let wardens = vec!["w1".to_owned(), "w2".to_owned(), "w3".to_owned()];
        let year = visit_rate(&recs, &wardens, now - 365 * DAY_MS, now);
        assert_eq!(year.from_ms, now - 14 * DAY_MS);
        assert!((year.weeks - 2.0).abs() < 1e-9);
        assert_eq!(year.visits, 4);
        assert!((year.per_warden["w1"] - 1.5).abs() < 1e-9);
        assert!((year.per_warden["w2"] - 0.5).abs() < 1e-9);
        assert!(
            year.per_warden["w3"].abs() < 1e-12,
            "a warden without visits counts as 0"
        );
        assert!((year.average() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            year.window_dates(),
            ("2026-11-16".to_owned(), "2026-11-29".to_owned())
        );
        // A 7-day period starts after the first visit: the period itself is the window, and
        // the visit before it is not counted.
        let week = visit_rate(&recs, &wardens, now - 7 * DAY_MS, now);
        assert_eq!(week.from_ms, now - 7 * DAY_MS);
        assert_eq!(week.visits, 3);
        assert!((week.per_warden["w1"] - 2.0).abs() < 1e-9);
        // Two days of data are not stretched into a week's rate.
        let short = visit_rate(&recs[2..3], &wardens, now - 30 * DAY_MS, now);
        assert!((short.weeks - 1.0).abs() < 1e-9);
        // No visits at all: the period is the window.
        let none = visit_rate(&[], &wardens, now - 14 * DAY_MS, now);
        assert_eq!(none.from_ms, now - 14 * DAY_MS);
        assert!(none.average().abs() < 1e-12);
    }

    #[test]
    fn the_trend_lists_every_week_and_sums_to_the_period_counts() {
        let g = "00000000-0000-0000-0000-000000000009";
        let case = |n, status: &str, reported: u64, closed: Option<u64>| {
            let mut f = json!({"grid": g, "status": status, "reported_at": reported, "deadline": reported + DAY_MS});
            if let Some(c) = closed {
                f["closed_at"] = json!(c);
            }
            rec(Collection::Cases, n, f)
        };
        // Monday 2026-11-02 .. Sunday 2026-11-29 are four whole weeks; the period starts on a
        // Wednesday so its first week is partial.
        let from = day("2026-11-04");
        let to = day("2026-11-30");
        let recs = vec![
            case(1, "closed", day("2026-11-05"), Some(day("2026-11-10"))),
            case(2, "reported", day("2026-11-12"), None),
            case(3, "in_progress", day("2026-11-12") + 5, None),
            // Reported before the period, closed inside it: a closure, not an opening.
            case(4, "closed", day("2026-10-20"), Some(day("2026-11-27"))),
            // Reported in the period's first days outside it (Monday, Tuesday): nowhere.
            case(5, "reported", day("2026-11-02"), None),
            case(6, "bogus", day("2026-11-12"), None),
        ];
        let t = weekly_trend(&recs, from, to);
        let weeks: Vec<&str> = t.iter().map(|w| w.week.as_str()).collect();
        assert_eq!(
            weeks,
            ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
        );
        let opened: Vec<u32> = t.iter().map(|w| w.opened).collect();
        let closed: Vec<u32> = t.iter().map(|w| w.closed).collect();
        assert_eq!(opened, [1, 2, 0, 0]);
        assert_eq!(closed, [0, 1, 0, 1]);
        let f = case_figures(&recs, from, to, to);
        assert_eq!(opened.iter().sum::<u32>(), f.reported);
        assert!(weekly_trend(&recs, to, to).is_empty());
    }
}
