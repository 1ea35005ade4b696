//! A case as a list row, the case list's filters (the same as `shared::query::CaseFilter`, over
//! rows) and its sort orders.

use super::rows::CaseCells;
use super::{rank_of, term_in, NameId, Names, Sort, Terms, NONE};
use std::cmp::Ordering;
use tongxin_shared::case::{escalation_level, is_overdue, Deadlines};
use tongxin_shared::case::{Level, Status};
use tongxin_shared::{Record, RecordId};

/// What the case list shows, sorts and searches of a case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRow {
    pub id: RecordId,
    pub title: String,
    /// Title and description, case-folded (what a search looks in, with the grid's name).
    pub hay: String,
    pub category: String,
    pub status: Option<Status>,
    pub grid: NameId,
    pub reporter: NameId,
    pub assignee: NameId,
    pub reported_at: u64,
    pub deadline: Option<u64>,
    pub synthetic: bool,
    /// The highest level its timeline records it was escalated to.
    pub escalated: Option<Level>,
    /// A deleted case stays in the row table (positions are stable) but never matches.
    pub deleted: bool,
}

impl CaseRow {
    /// The row of a case record; its grid and people are interned in `grids` and `people`.
    pub fn new(r: &Record, grids: &mut Names, people: &mut Names) -> Self {
        Self::from_cells(&CaseCells::of(r), grids, people)
    }

    /// The row of a case's stored cells (what [`CaseRow::new`] makes of the record).
    pub fn from_cells(c: &CaseCells, grids: &mut Names, people: &mut Names) -> Self {
        Self {
            id: c.id,
            title: c.title.clone(),
            hay: c.hay.clone(),
            category: c.category.clone(),
            status: Status::parse(&c.status),
            grid: grids.intern(&c.grid),
            reporter: people.intern(&c.reporter),
            assignee: people.intern(&c.assignee),
            reported_at: c.reported_at,
            deadline: c.deadline,
            synthetic: c.synthetic,
            escalated: c.escalated,
            deleted: c.deleted,
        }
    }

    pub fn overdue(&self, now_ms: u64) -> bool {
        matches!((self.status, self.deadline), (Some(s), Some(d)) if is_overdue(s, d, now_ms))
    }

    /// The supervision queue the case sits in now (as `shared::case::supervision_level`).
    pub fn supervision(&self, deadlines: &Deadlines, now_ms: u64) -> Option<Level> {
        let by_clock = escalation_level(deadlines, self.status?, self.deadline?, now_ms)?;
        Some(by_clock.max(self.escalated.unwrap_or(by_clock)))
    }
}

/// The case list's filters. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseQuery {
    pub status: Option<Status>,
    pub grid: Option<String>,
    pub category: Option<String>,
    pub overdue_only: bool,
    /// Only cases this user (a username) reported or is assigned.
    pub mine: Option<String>,
    /// Only overdue cases in this level's supervision queue.
    pub queue: Option<Level>,
    /// Only cases still open (the home screen's "mine" tile).
    pub open_only: bool,
    /// Only open cases due within a day and not yet overdue (the home screen's "due" tile).
    pub due_soon: bool,
    pub terms: Terms,
}

impl CaseQuery {
    /// The list's query of a shared case filter (the home tiles' filters: `views::home::Tile`),
    /// so a tile counts what the list it opens shows.
    pub fn of_filter(f: &tongxin_shared::query::CaseFilter) -> Self {
        Self {
            status: f.status,
            grid: f.grid.clone(),
            category: f.category.clone(),
            overdue_only: f.overdue_only,
            mine: f.mine.clone(),
            queue: None,
            open_only: f.open_only,
            due_soon: f.due_soon,
            terms: Terms::parse(&f.text),
        }
    }
}

/// The columns the case list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseSort {
    Reported,
    /// Open cases by deadline (the most overdue first), then the closed ones.
    Deadline,
    Status,
    Grid,
}

impl CaseSort {
    /// The direction a first click on the column sorts in (newest reports first).
    pub fn natural_desc(self) -> bool {
        matches!(self, Self::Reported)
    }
}

/// The default order: newest report first.
pub const NEWEST: Sort<CaseSort> = Sort {
    key: CaseSort::Reported,
    desc: true,
};

fn status_rank(s: Option<Status>) -> usize {
    s.and_then(|s| Status::ALL.iter().position(|x| *x == s))
        .unwrap_or(usize::MAX)
}

/// The positions in `rows` of the cases `q` matches, in `sort` order (ties: newest report, then
/// id, so the order is total and stable from one keystroke to the next).
pub fn select(
    rows: &[CaseRow],
    grids: &Names,
    people: &Names,
    deadlines: &Deadlines,
    q: &CaseQuery,
    sort: Sort<CaseSort>,
    now_ms: u64,
) -> Vec<u32> {
    let grid = q.grid.as_deref().map(|g| grids.get(g));
    let mine = q.mine.as_deref().map(|m| people.get(m));
    let hits = q.terms.in_names(grids);
    let terms: Vec<&str> = q.terms.iter().collect();
    let matches = |r: &CaseRow| {
        !r.deleted
            && q.status.is_none_or(|s| r.status == Some(s))
            && grid.is_none_or(|g| g != NONE && r.grid == g)
            && q.category.as_deref().is_none_or(|c| r.category == c)
            && (!q.overdue_only || r.overdue(now_ms))
            && (!(q.open_only || q.due_soon) || r.status.is_some_and(Status::is_open))
            && (!q.due_soon
                || r.deadline.is_some_and(|d| {
                    d >= now_ms && d <= now_ms + tongxin_shared::query::DUE_SOON_MS
                }))
            && mine.is_none_or(|m| m != NONE && (r.reporter == m || r.assignee == m))
            && q.queue
                .is_none_or(|l| r.supervision(deadlines, now_ms) == Some(l))
            && terms
                .iter()
                .enumerate()
                .all(|(i, t)| r.hay.contains(t) || term_in(&hits, i, r.grid))
    };
    let mut out: Vec<u32> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| matches(r))
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    let ranks = matches!(sort.key, CaseSort::Grid).then(|| grids.ranks());
    let row = |i: &u32| &rows[*i as usize];
    out.sort_by(|a, b| {
        let (x, y) = (row(a), row(b));
        let primary = match sort.key {
            CaseSort::Reported => Ordering::Equal,
            CaseSort::Deadline => {
                let key = |r: &CaseRow| {
                    let open = r.status.is_some_and(Status::is_open);
                    (!open, r.deadline.unwrap_or(u64::MAX))
                };
                key(x).cmp(&key(y))
            }
            CaseSort::Status => status_rank(x.status).cmp(&status_rank(y.status)),
            CaseSort::Grid => {
                let r = ranks.as_deref().unwrap_or_default();
                rank_of(r, x.grid).cmp(&rank_of(r, y.grid))
            }
        };
        let tie = y
            .reported_at
            .cmp(&x.reported_at)
            .then_with(|| y.id.cmp(&x.id));
        match sort.key {
            CaseSort::Reported => {
                sort.apply(x.reported_at.cmp(&y.reported_at).then(x.id.cmp(&y.id)))
            }
            _ => sort.apply(primary).then(tie),
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct City {
        rows: Vec<CaseRow>,
        grids: Names,
        people: Names,
    }

    fn city() -> City {
        let mut grids = Names::default();
        let mut people = Names::default();
        grids.label("g1", "第一网格", &["G1"]);
        grids.label("g2", "第二网格", &["G2"]);
        let cases = [
            json!({"title": "楼道堆物", "description": "占用消防通道", "status": "reported", "grid": "g1", "reporter": "w1", "reported_at": 300, "deadline": 1000, "category": "safety"}),
            json!({"title": "路灯不亮", "status": "closed", "grid": "g2", "reporter": "w2", "assignee": "w1", "reported_at": 100, "deadline": 50, "category": "facility"}),
            json!({"title": "噪音扰民", "description": "楼上装修", "status": "in_progress", "grid": "g2", "reporter": "w2", "reported_at": 200, "deadline": 400, "category": "dispute"}),
        ];
        let rows = cases
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = u128::try_from(i).expect("small") + 1;
                CaseRow::new(
                    &crate::listing::fixture(tongxin_shared::Collection::Cases, n, f),
                    &mut grids,
                    &mut people,
                )
            })
            .collect();
        City {
            rows,
            grids,
            people,
        }
    }

    fn titles(c: &City, q: &CaseQuery, sort: Sort<CaseSort>, now: u64) -> Vec<String> {
        select(
            &c.rows,
            &c.grids,
            &c.people,
            &Deadlines::default(),
            q,
            sort,
            now,
        )
        .into_iter()
        .map(|i| c.rows[i as usize].title.clone())
        .collect()
    }

    #[test]
    fn search_finds_title_description_and_grid_name_every_term() {
        let c = city();
        let q = |t: &str| CaseQuery {
            terms: Terms::parse(t),
            ..CaseQuery::default()
        };
        assert_eq!(titles(&c, &q("消防"), NEWEST, 0), ["楼道堆物"]);
        assert_eq!(
            titles(&c, &q("第二网格"), NEWEST, 0),
            ["噪音扰民", "路灯不亮"]
        );
        assert_eq!(titles(&c, &q("g2 装修"), NEWEST, 0), ["噪音扰民"]);
        assert!(titles(&c, &q("g1 装修"), NEWEST, 0).is_empty());
    }

    #[test]
    fn filters_combine_as_the_shared_case_filter_does() {
        let c = city();
        let mine = CaseQuery {
            mine: Some("w1".into()),
            ..CaseQuery::default()
        };
        assert_eq!(titles(&c, &mine, NEWEST, 0), ["楼道堆物", "路灯不亮"]);
        let late = CaseQuery {
            overdue_only: true,
            ..CaseQuery::default()
        };
        // At 500 the in-progress case (deadline 400) is late; the closed one never is.
        assert_eq!(titles(&c, &late, NEWEST, 500), ["噪音扰民"]);
        let nobody = CaseQuery {
            mine: Some("stranger".into()),
            ..CaseQuery::default()
        };
        assert!(titles(&c, &nobody, NEWEST, 0).is_empty());
        let grid = CaseQuery {
            grid: Some("g1".into()),
            status: Some(Status::Reported),
            ..CaseQuery::default()
        };
        assert_eq!(titles(&c, &grid, NEWEST, 0), ["楼道堆物"]);
    }

    #[test]
    fn a_shared_filter_selects_the_rows_of_the_records_it_matches() {
        use tongxin_shared::query::CaseFilter;
        let cases = [
            json!({"title": "楼道堆物", "status": "reported", "grid": "g1", "reporter": "w1", "reported_at": 300, "deadline": 1000}),
            json!({"title": "路灯不亮", "status": "closed", "grid": "g2", "reporter": "w2", "assignee": "w1", "reported_at": 100, "deadline": 50}),
            json!({"title": "噪音扰民", "status": "in_progress", "grid": "g2", "reporter": "w2", "assignee": "w1", "reported_at": 200, "deadline": 400}),
            json!({"title": "井盖缺失", "status": "accepted", "grid": "g1", "reporter": "w1", "reported_at": 250, "deadline": 560}),
            json!({"title": "已删除", "status": "reported", "reporter": "w1", "reported_at": 260, "deadline": 520, "deleted": true}),
        ];
        let records: Vec<Record> = cases
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = u128::try_from(i).expect("small") + 1;
                crate::listing::fixture(tongxin_shared::Collection::Cases, n, f)
            })
            .collect();
        let (mut grids, mut people) = (Names::default(), Names::default());
        let rows: Vec<CaseRow> = records
            .iter()
            .map(|r| CaseRow::new(r, &mut grids, &mut people))
            .collect();
        let filters = [
            CaseFilter {
                mine: Some("w1".into()),
                open_only: true,
                ..CaseFilter::default()
            },
            CaseFilter {
                due_soon: true,
                ..CaseFilter::default()
            },
            CaseFilter {
                overdue_only: true,
                ..CaseFilter::default()
            },
            CaseFilter {
                grid: Some("g1".into()),
                text: "井盖".into(),
                ..CaseFilter::default()
            },
        ];
        for now in [0, 450, 500, 990, 2_000] {
            for f in &filters {
                let q = CaseQuery::of_filter(f);
                let mut by_rows: Vec<RecordId> = select(
                    &rows,
                    &grids,
                    &people,
                    &Deadlines::default(),
                    &q,
                    NEWEST,
                    now,
                )
                .into_iter()
                .map(|i| rows[i as usize].id)
                .collect();
                let mut by_records: Vec<RecordId> =
                    f.apply(&records, now).into_iter().map(|r| r.id).collect();
                by_rows.sort_unstable();
                by_records.sort_unstable();
                assert_eq!(by_rows, by_records, "{f:?} at {now}");
            }
        }
    }

    #[test]
    fn sorts_by_each_column_both_ways() {
        let c = city();
        let all = CaseQuery::default();
        let by = |key, desc| Sort { key, desc };
        assert_eq!(
            titles(&c, &all, by(CaseSort::Reported, false), 0),
            ["路灯不亮", "噪音扰民", "楼道堆物"]
        );
        // Open cases by deadline first, the closed one last.
        assert_eq!(
            titles(&c, &all, by(CaseSort::Deadline, false), 0),
            ["噪音扰民", "楼道堆物", "路灯不亮"]
        );
        assert_eq!(
            titles(&c, &all, by(CaseSort::Deadline, true), 0),
            ["路灯不亮", "楼道堆物", "噪音扰民"]
        );
        assert_eq!(
            titles(&c, &all, by(CaseSort::Status, false), 0),
            ["楼道堆物", "噪音扰民", "路灯不亮"]
        );
        // Grid by name; within a grid, newest report first.
        assert_eq!(
            titles(&c, &all, by(CaseSort::Grid, false), 0),
            ["楼道堆物", "噪音扰民", "路灯不亮"]
        );
    }
}
