//! The figures managers read (一张图 and the dashboards), computed from records by pure
//! functions: the server answers dashboard requests with them and tests compare them with direct
//! database counts; the app can compute the same from its local records.

use crate::case::{is_overdue, Status};
use crate::ids::RecordId;
use crate::record::Record;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

mod activity;
mod rollup;

pub use activity::{visit_rate, weekly_trend, VisitRate, WeekCounts};
pub use rollup::case_figures_by_area;

/// A grid's state on the live map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridState {
    pub open: u32,
    pub overdue: u32,
    /// Time of the last visit or patrol, ms.
    pub last_visit_ms: Option<u64>,
}

fn grid_of(r: &Record) -> Option<RecordId> {
    r.str("grid").and_then(|s| RecordId::parse(s).ok())
}

fn u64_field(r: &Record, f: &str) -> Option<u64> {
    r.get(f).and_then(Value::as_u64)
}

fn status(r: &Record) -> Option<Status> {
    r.str("status").and_then(Status::parse)
}

/// Folds one record into the map state of its grid (cases, visits and summaries; others are
/// ignored). A summary (`crate::summary`) counts with its latest visit: the summary profile's
/// device holds only a week of visits, and the latest is a maximum, so a visit counted both in
/// full and in its summary changes nothing.
pub fn fold_grid_state(states: &mut BTreeMap<RecordId, GridState>, r: &Record, now_ms: u64) {
    if r.is_deleted() {
        return;
    }
    let Some(grid) = grid_of(r) else { return };
    match r.collection {
        Collection::Cases => {
            let Some(st) = status(r) else { return };
            let s = states.entry(grid).or_default();
            if st.is_open() {
                s.open += 1;
                if u64_field(r, "deadline").is_some_and(|d| is_overdue(st, d, now_ms)) {
                    s.overdue += 1;
                }
            }
        }
        Collection::Visits => {
            if let Some(at) = u64_field(r, "visited_at") {
                let s = states.entry(grid).or_default();
                s.last_visit_ms = Some(s.last_visit_ms.map_or(at, |x| x.max(at)));
            }
        }
        Collection::Summaries => {
            let s = states.entry(grid).or_default();
            if let Some(at) = crate::summary::last_visit(r) {
                s.last_visit_ms = Some(s.last_visit_ms.map_or(at, |x| x.max(at)));
            }
        }
        _ => {}
    }
}

/// What one case or visit adds to its grid's map state, kept so a changed record can be taken
/// out again.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// A case: open or not, with its deadline while open (overdue is judged at read time).
    Case {
        grid: RecordId,
        open: bool,
        deadline: Option<u64>,
    },
    Visit {
        grid: RecordId,
        at: u64,
    },
    /// A summary of the grid's cases and visits of one month: only its latest visit counts
    /// (cases come from the case records, every open one is on the device).
    Summary {
        grid: RecordId,
        last_visit: Option<u64>,
    },
}

impl Part {
    fn grid(&self) -> RecordId {
        match self {
            Part::Case { grid, .. } | Part::Visit { grid, .. } | Part::Summary { grid, .. } => {
                *grid
            }
        }
    }
}

/// Per grid: open cases, their deadlines, and visit times (with counts: two visits may share a
/// millisecond).
#[derive(Clone, Debug, Default)]
struct GridParts {
    records: u32,
    open: u32,
    deadlines: BTreeMap<u64, u32>,
    visits: BTreeMap<u64, u32>,
}

fn bump(m: &mut BTreeMap<u64, u32>, k: u64, up: bool) {
    if up {
        *m.entry(k).or_default() += 1;
    } else if let Some(n) = m.get_mut(&k) {
        *n -= 1;
        if *n == 0 {
            m.remove(&k);
        }
    }
}

/// The live map's grid states, kept up to date record by record: a pull that brings a few
/// changed cases updates their grids without reading every case and visit on the device again.
/// `states(now)` equals folding every record with [`fold_grid_state`].
#[derive(Clone, Debug, Default)]
pub struct GridStateIndex {
    parts: BTreeMap<RecordId, Part>,
    grids: BTreeMap<RecordId, GridParts>,
}

impl GridStateIndex {
    /// Builds the index from every case, visit and summary (other collections are ignored).
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Self {
        let mut ix = Self::default();
        for r in records {
            ix.upsert(r);
        }
        ix
    }

    fn part(r: &Record) -> Option<Part> {
        if r.is_deleted() {
            return None;
        }
        let grid = grid_of(r)?;
        match r.collection {
            Collection::Cases => {
                let st = status(r)?;
                Some(Part::Case {
                    grid,
                    open: st.is_open(),
                    deadline: u64_field(r, "deadline").filter(|_| st.is_open()),
                })
            }
            Collection::Visits => Some(Part::Visit {
                grid,
                at: u64_field(r, "visited_at")?,
            }),
            Collection::Summaries => Some(Part::Summary {
                grid,
                last_visit: crate::summary::last_visit(r),
            }),
            _ => None,
        }
    }

    fn apply(&mut self, part: &Part, up: bool) {
        let grid = part.grid();
        let g = self.grids.entry(grid).or_default();
        if up {
            g.records += 1;
        } else {
            g.records -= 1;
        }
        match part {
            Part::Case { open, deadline, .. } => {
                if *open {
                    if up {
                        g.open += 1;
                    } else {
                        g.open -= 1;
                    }
                    if let Some(d) = deadline {
                        bump(&mut g.deadlines, *d, up);
                    }
                }
            }
            Part::Visit { at, .. } => bump(&mut g.visits, *at, up),
            Part::Summary { last_visit, .. } => {
                if let Some(at) = last_visit {
                    bump(&mut g.visits, *at, up);
                }
            }
        }
        if g.records == 0 {
            self.grids.remove(&grid);
        }
    }

    /// Puts a record's current version in (replacing what it added before). Returns the grids
    /// whose state may have changed (its old and new grid).
    pub fn upsert(&mut self, r: &Record) -> Vec<RecordId> {
        let mut touched = self.remove(r.collection, r.id);
        if let Some(part) = Self::part(r) {
            self.apply(&part, true);
            let grid = part.grid();
            if !touched.contains(&grid) {
                touched.push(grid);
            }
            self.parts.insert(r.id, part);
        }
        touched
    }

    /// Takes a record out (deleted or gone from the device). Returns the grid it was in.
    pub fn remove(&mut self, collection: Collection, id: RecordId) -> Vec<RecordId> {
        if !matches!(
            collection,
            Collection::Cases | Collection::Visits | Collection::Summaries
        ) {
            return Vec::new();
        }
        match self.parts.remove(&id) {
            Some(part) => {
                self.apply(&part, false);
                vec![part.grid()]
            }
            None => Vec::new(),
        }
    }

    /// The cases and the visits the index holds in one grid (ids), so a screen can read just
    /// those records instead of every case and visit on the device (never summaries).
    pub fn records_in(&self, grid: RecordId) -> (Vec<RecordId>, Vec<RecordId>) {
        let mut cases = Vec::new();
        let mut visits = Vec::new();
        for (id, part) in &self.parts {
            match part {
                Part::Case { grid: g, .. } if *g == grid => cases.push(*id),
                Part::Visit { grid: g, .. } if *g == grid => visits.push(*id),
                _ => {}
            }
        }
        (cases, visits)
    }

    /// The state of one grid at `now_ms` (default when nothing is known of it).
    pub fn state(&self, grid: RecordId, now_ms: u64) -> GridState {
        self.grids
            .get(&grid)
            .map_or_else(GridState::default, |g| GridState {
                open: g.open,
                // Deadlines strictly before now are overdue (as `is_overdue`: now > deadline).
                overdue: g.deadlines.range(..now_ms).map(|(_, n)| n).sum(),
                last_visit_ms: g.visits.keys().next_back().copied(),
            })
    }

    /// Every grid that has a case or visit, with its state at `now_ms`.
    pub fn states(&self, now_ms: u64) -> BTreeMap<RecordId, GridState> {
        self.grids
            .keys()
            .map(|g| (*g, self.state(*g, now_ms)))
            .collect()
    }
}

/// Counts of cases for a dashboard.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseFigures {
    pub reported: u32,
    pub closed: u32,
    pub open: u32,
    pub overdue: u32,
    /// Open cases nobody has been assigned yet (待派单).
    #[serde(default)]
    pub unassigned: u32,
    /// closed / reported, 0 when nothing was reported.
    pub closure_rate: f64,
    /// Median hours from report to close (销号), over the closed cases.
    pub median_hours_to_close: Option<f64>,
    pub by_category: BTreeMap<String, u32>,
    pub by_source: BTreeMap<String, u32>,
}

/// Figures over the cases among `records`, reported within `[from_ms, to_ms)`.
pub fn case_figures<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    from_ms: u64,
    to_ms: u64,
    now_ms: u64,
) -> CaseFigures {
    let mut f = CaseFigures::default();
    let mut hours = Vec::new();
    for r in records {
        if r.collection != Collection::Cases || r.is_deleted() {
            continue;
        }
        let Some(reported_at) = u64_field(r, "reported_at") else {
            continue;
        };
        if reported_at < from_ms || reported_at >= to_ms {
            continue;
        }
        let Some(st) = status(r) else { continue };
        f.reported += 1;
        *f.by_category
            .entry(r.str("category").unwrap_or("other").to_owned())
            .or_default() += 1;
        *f.by_source
            .entry(r.str("source").unwrap_or("other").to_owned())
            .or_default() += 1;
        if st == Status::Closed {
            f.closed += 1;
            if let Some(closed_at) = u64_field(r, "closed_at") {
                hours.push(closed_at.saturating_sub(reported_at) as f64 / 3_600_000.0);
            }
        }
        if st.is_open() {
            f.open += 1;
            if r.str("assignee").is_none_or(str::is_empty) {
                f.unassigned += 1;
            }
            if u64_field(r, "deadline").is_some_and(|d| is_overdue(st, d, now_ms)) {
                f.overdue += 1;
            }
        }
    }
    if f.reported > 0 {
        f.closure_rate = f64::from(f.closed) / f64::from(f.reported);
    }
    f.median_hours_to_close = median(&mut hours);
    f
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    })
}

/// Whether a community meets "a special event every month, an activity every week"
/// (月月有专场、周周有活动) over whole weeks and months of a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadence {
    pub activities: u32,
    pub specials: u32,
    /// Monday dates (YYYY-MM-DD) of whole weeks with no activity.
    pub weeks_missed: Vec<String>,
    /// Months (YYYY-MM) fully in the period with no special event.
    pub months_missed: Vec<String>,
}

impl Cadence {
    pub fn meets(&self) -> bool {
        self.weeks_missed.is_empty() && self.months_missed.is_empty()
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn days_from_date(s: &str) -> Option<i64> {
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` of days since 1970-01-01.
pub fn date_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Cadence per community over the dates `[from, to]` (inclusive, `YYYY-MM-DD`).
pub fn cadence<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    communities: &[RecordId],
    from: &str,
    to: &str,
) -> BTreeMap<RecordId, Cadence> {
    let (Some(d0), Some(d1)) = (days_from_date(from), days_from_date(to)) else {
        return BTreeMap::new();
    };
    let mut weeks: BTreeMap<RecordId, BTreeSet<i64>> = BTreeMap::new();
    let mut months: BTreeMap<RecordId, BTreeSet<String>> = BTreeMap::new();
    let mut out: BTreeMap<RecordId, Cadence> = communities
        .iter()
        .map(|c| (*c, Cadence::default()))
        .collect();
    for r in records {
        if r.collection != Collection::Activities || r.is_deleted() {
            continue;
        }
        let Some(c) = r.str("community").and_then(|s| RecordId::parse(s).ok()) else {
            continue;
        };
        let Some(entry) = out.get_mut(&c) else {
            continue;
        };
        let Some(date) = r.str("date") else { continue };
        let Some(day) = days_from_date(date) else {
            continue;
        };
        if day < d0 || day > d1 {
            continue;
        }
        entry.activities += 1;
        // 1970-01-01 was a Thursday: (day + 3) / 7 numbers Monday-based weeks.
        weeks.entry(c).or_default().insert((day + 3).div_euclid(7));
        if r.get("special").and_then(Value::as_bool).unwrap_or(false) {
            entry.specials += 1;
            months.entry(c).or_default().insert(date[..7].to_owned());
        }
    }
    // Whole weeks and whole months within the period.
    let first_week = (d0 + 3).div_euclid(7) + i64::from((d0 + 3).rem_euclid(7) != 0);
    let last_week = (d1 + 3 + 1).div_euclid(7) - 1;
    let mut whole_months = Vec::new();
    let mut day = d0;
    while day <= d1 {
        let date = date_from_days(day);
        let month = date[..7].to_owned();
        let first_of_month = days_from_date(&format!("{month}-01")).unwrap_or(day);
        let next = next_month_first(&month);
        if first_of_month >= d0 && next - 1 <= d1 {
            whole_months.push(month);
        }
        day = next;
    }
    for (c, entry) in &mut out {
        let have_w = weeks.get(c);
        for w in first_week..=last_week {
            if !have_w.is_some_and(|s| s.contains(&w)) {
                entry.weeks_missed.push(date_from_days(w * 7 - 3));
            }
        }
        let have_m = months.get(c);
        for m in &whole_months {
            if !have_m.is_some_and(|s| s.contains(m)) {
                entry.months_missed.push(m.clone());
            }
        }
    }
    out
}

fn next_month_first(month: &str) -> i64 {
    let y: i64 = month[..4].parse().unwrap_or(1970);
    let m: i64 = month[5..7].parse().unwrap_or(1);
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_date(&format!("{y:04}-{m:02}-01")).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(c: Collection, n: u128, fields: Value) -> Record {
        crate::record::test_record(c, n, &fields)
    }

    const H: u64 = 3_600_000;

    proptest::proptest! {
        /// Any sequence of record versions (moves between grids, status changes, deletions,
        /// summaries gaining and losing visits) leaves the index equal to folding the final
        /// records from scratch, at any time.
        #[test]
        fn the_grid_state_index_equals_a_full_fold(
            steps in proptest::collection::vec(
                (0u128..12, 0u8..3, 0u8..3, 0usize..7, 0u64..20, proptest::bool::ANY, 0u8..4),
                1..80,
            ),
            now in 0u64..24,
        ) {
            let grids = ["00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2", "00000000-0000-0000-0000-0000000000a3"];
            let statuses = ["reported", "accepted", "in_progress", "resolved", "closed", "returned", "bogus"];
            let mut ix = GridStateIndex::default();
            let mut last: BTreeMap<(u8, u128), Record> = BTreeMap::new();
            for (n, kind, g, st, t, deleted, how) in steps {
                let grid = grids[usize::from(g)];
                let (c, mut fields, timed) = match kind {
                    0 => (Collection::Cases, json!({"grid": grid, "status": statuses[st], "deadline": t * H}), "status"),
                    1 => (Collection::Visits, json!({"grid": grid, "visited_at": t * H}), "visited_at"),
                    // A summary with up to two visits (how many: `st`), its latest the later.
                    _ => {
                        let visits: Vec<Value> = [json!([t * H / 2, "w1"]), json!([t * H, null])]
                            .into_iter()
                            .take(st % 3)
                            .collect();
                        (Collection::Summaries, json!({"grid": grid, "month": "1970-01", "visits": visits, "cases": []}), "visits")
                    }
                };
                if how == 0 {
                    // A record without its status or time (half-synced): counts nowhere (a
                    // summary without visits still names its grid).
                    fields.as_object_mut().unwrap().remove(timed);
                }
                if deleted {
                    fields["deleted"] = json!(true);
                }
                // Ids of cases, visits and summaries never collide (uuid v7 and v5 in real life).
                let r = rec(c, n + 1000 * u128::from(kind), fields);
                if how == 1 {
                    ix.remove(c, r.id);
                    last.remove(&(kind, n));
                } else {
                    ix.upsert(&r);
                    last.insert((kind, n), r);
                }
            }
            let mut want = BTreeMap::new();
            for r in last.values() {
                fold_grid_state(&mut want, r, now * H);
            }
            proptest::prop_assert_eq!(ix.states(now * H), want.clone());
            // Each grid's record ids are the final records of that grid (cases and visits apart).
            for grid in grids {
                let g = RecordId::parse(grid).unwrap();
                let (cases, visits) = ix.records_in(g);
                let of = |c: Collection| -> Vec<RecordId> {
                    let mut v: Vec<RecordId> = last.values()
                        .filter(|r| r.collection == c && GridStateIndex::part(r).is_some() && grid_of(r) == Some(g))
                        .map(|r| r.id).collect();
                    v.sort();
                    v
                };
                proptest::prop_assert_eq!(cases, of(Collection::Cases));
                proptest::prop_assert_eq!(visits, of(Collection::Visits));
            }
            proptest::prop_assert_eq!(GridStateIndex::from_records(last.values()).states(now * H), want);
        }
    }

    #[test]
    fn a_summary_gives_its_grid_the_latest_visit_and_no_records() {
        let g = "00000000-0000-0000-0000-0000000000a1";
        let gid = RecordId::parse(g).unwrap();
        // The device holds the week's visit (at 30 h) and the month's summary, which counts
        // it too and an older one (at 10 h); then a summary of a later visit arrives.
        let visit = rec(
            Collection::Visits,
            1,
            json!({"grid": g, "visited_at": 30 * H}),
        );
        let month = rec(
            Collection::Summaries,
            2,
            json!({"grid": g, "month": "1970-01", "cases": [], "visits": [[10 * H, "w1"], [30 * H, "w1"]]}),
        );
        let mut ix = GridStateIndex::from_records([&visit, &month]);
        assert_eq!(ix.state(gid, 0).last_visit_ms, Some(30 * H));
        let later = rec(
            Collection::Summaries,
            2,
            json!({"grid": g, "month": "1970-01", "cases": [], "visits": [[10 * H, "w1"], [30 * H, "w1"], [40 * H, null]]}),
        );
        assert_eq!(ix.upsert(&later), vec![gid]);
        assert_eq!(ix.state(gid, 0).last_visit_ms, Some(40 * H));
        // The visit ages out of the device: the summary still knows it.
        ix.remove(Collection::Visits, visit.id);
        assert_eq!(ix.state(gid, 0).last_visit_ms, Some(40 * H));
        let mut folded = BTreeMap::new();
        fold_grid_state(&mut folded, &later, 0);
        assert_eq!(ix.states(0), folded);
        // A summary is no record of the grid's lists.
        assert_eq!(ix.records_in(gid), (vec![], vec![]));
        assert_eq!(ix.remove(Collection::Summaries, later.id), vec![gid]);
        assert_eq!(ix.states(0), BTreeMap::new());
    }

    #[test]
    fn dates_round_trip() {
        for d in [-1000, 0, 365, 20_000, 20_419] {
            assert_eq!(days_from_date(&date_from_days(d)), Some(d));
        }
        assert_eq!(date_from_days(0), "1970-01-01");
        assert_eq!(days_from_date("2025-11-25"), Some(20_417));
        assert_eq!(days_from_date("2026-11-25"), Some(20_782));
    }

    #[test]
    fn case_figures_count_rates_and_medians() {
        let g = "00000000-0000-0000-0000-000000000009";
        let recs = vec![
            rec(
                Collection::Cases,
                1,
                json!({"grid": g, "status": "closed", "reported_at": 0, "closed_at": 10 * H, "deadline": 100 * H, "category": "safety", "source": "red_checkup"}),
            ),
            rec(
                Collection::Cases,
                2,
                json!({"grid": g, "status": "closed", "reported_at": 0, "closed_at": 30 * H, "deadline": 100 * H, "category": "safety", "source": "patrol"}),
            ),
            rec(
                Collection::Cases,
                3,
                json!({"grid": g, "status": "in_progress", "reported_at": H, "deadline": 2 * H, "category": "other", "source": "patrol"}),
            ),
            rec(
                Collection::Cases,
                4,
                json!({"grid": g, "status": "resolved", "reported_at": H, "deadline": 2 * H, "category": "other", "source": "patrol"}),
            ),
            rec(
                Collection::Cases,
                5,
                json!({"grid": g, "status": "reported", "reported_at": 500 * H, "deadline": 600 * H}),
            ),
        ];
        let f = case_figures(&recs, 0, 400 * H, 50 * H);
        assert_eq!((f.reported, f.closed, f.open, f.overdue), (4, 2, 1, 1));
        assert_eq!(f.unassigned, 1, "the open case has no assignee");
        let assigned = rec(
            Collection::Cases,
            3,
            json!({"grid": g, "status": "in_progress", "reported_at": H, "deadline": 2 * H, "assignee": "w1"}),
        );
        let with = [recs[0].clone(), assigned];
        assert_eq!(case_figures(&with, 0, 400 * H, 50 * H).unassigned, 0);
        assert!((f.closure_rate - 0.5).abs() < 1e-9);
        assert_eq!(f.median_hours_to_close, Some(20.0));
        assert_eq!(f.by_category["safety"], 2);
        assert_eq!(f.by_source["red_checkup"], 1);
        let mut states = BTreeMap::new();
        for r in &recs {
            fold_grid_state(&mut states, r, 50 * H);
        }
        let s = &states[&RecordId::parse(g).unwrap()];
        assert_eq!((s.open, s.overdue), (2, 1));
    }

    #[test]
    fn cadence_finds_missed_weeks_and_months() {
        let c = "00000000-0000-0000-0000-000000000007";
        let cid = RecordId::parse(c).unwrap();
        // November 2026: Mondays are 2, 9, 16, 23, 30.
        let recs = vec![
            rec(
                Collection::Activities,
                1,
                json!({"community": c, "date": "2026-11-03", "special": true}),
            ),
            rec(
                Collection::Activities,
                2,
                json!({"community": c, "date": "2026-11-10", "special": false}),
            ),
            rec(
                Collection::Activities,
                3,
                json!({"community": c, "date": "2026-11-24", "special": false}),
            ),
            rec(
                Collection::Activities,
                4,
                json!({"community": c, "date": "2026-12-01", "special": false}),
            ),
        ];
        let got = cadence(&recs, &[cid], "2026-11-01", "2026-12-06");
        let cad = &got[&cid];
        assert_eq!(cad.activities, 4);
        assert_eq!(cad.weeks_missed, vec!["2026-11-16".to_owned()]);
        assert!(
            cad.months_missed.is_empty(),
            "December is not whole in the period"
        );
        assert!(!cad.meets());
        let december = cadence(&recs, &[cid], "2026-11-30", "2026-12-31");
        assert_eq!(december[&cid].months_missed, vec!["2026-12".to_owned()]);
    }
}
