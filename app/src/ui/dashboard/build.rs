//! The dashboard's figures and tables, built from the records on the device with
//! `shared::figures` (pure functions the tests compare with direct counts of the server's
//! records). Each table is rows of text: shown on the page and exported as one CSV.

use super::super::cases::category_label;
use super::super::table::Table;
use crate::i18n::{tr, Lang};
use std::collections::{BTreeMap, BTreeSet};
use tongxin_shared::case::{Role, DAY_MS};
use tongxin_shared::figures::{
    cadence, case_figures, case_figures_by_area, date_from_days, visit_rate, weekly_trend, Cadence,
    CaseFigures, VisitRate, WeekCounts,
};
use tongxin_shared::summary::VisitEntry;
use tongxin_shared::wire::StaffMember;
use tongxin_shared::{Record, RecordId};

/// What the dashboard reads from the device.
#[derive(Clone)]
pub(super) struct Data {
    /// The cases and visits the figures count: the case records on the device and each live
    /// visit's entry, or on a summary-profile device the cases rebuilt from its summaries and
    /// their visit entries.
    pub cases: Vec<Record>,
    pub visits: Vec<VisitEntry>,
    pub activities: Vec<Record>,
    pub subdistricts: Vec<Record>,
    pub communities: Vec<Record>,
    pub grids: Vec<Record>,
    pub alliances: Vec<Record>,
    pub staff: Vec<StaffMember>,
    /// Names of the people (the per-warden table names wardens, not login ids).
    pub people: crate::people::Directory,
}

/// Everything the page shows for one period.
pub(super) struct Built {
    pub figures: CaseFigures,
    pub grids: usize,
    /// Wardens (网格员) only: grid leaders (网格长) lead wardens and are not counted as wardens.
    pub wardens: usize,
    pub visits: VisitRate,
    pub by_category: Vec<(String, u32)>,
    pub by_source: Vec<(String, u32)>,
    pub trend: Vec<WeekCounts>,
    /// Communities missing the cadence, by name.
    pub missing: Vec<String>,
    pub summary: Table,
    pub per_subdistrict: Table,
    pub per_community: Table,
    pub by_category_table: Table,
    pub by_source_table: Table,
    pub trend_table: Table,
    pub cadence: Table,
    pub per_warden: Table,
}

pub(super) fn rate(f: &CaseFigures) -> String {
    format!("{:.0}%", f.closure_rate * 100.0)
}

pub(super) fn median(f: &CaseFigures) -> String {
    f.median_hours_to_close
        .map_or_else(|| "—".to_owned(), |h| format!("{h:.1}"))
}

fn counts(
    l: Lang,
    testid: &'static str,
    title: &str,
    first: &str,
    rows: &[(String, u32)],
) -> Table {
    Table::new(
        testid,
        tr(l, title),
        vec![tr(l, first), tr(l, "dash.cases")],
        rows.iter()
            .map(|(k, n)| vec![k.clone(), n.to_string()])
            .collect(),
    )
}

fn name_of(r: &Record) -> String {
    r.str("name").unwrap_or_default().to_owned()
}

fn id_field(r: &Record, f: &str) -> Option<RecordId> {
    r.str(f).and_then(|s| RecordId::parse(s).ok())
}

/// The figure columns of an area's row: reported, closed, open, overdue, rate, median.
fn case_cells(f: &CaseFigures) -> [String; 6] {
    [
        f.reported.to_string(),
        f.closed.to_string(),
        f.open.to_string(),
        f.overdue.to_string(),
        rate(f),
        median(f),
    ]
}

/// A cadence gap list: how many, then the first few (weeks as their Monday's `MM-DD`).
fn gaps(list: &[String], short: impl Fn(&str) -> &str) -> String {
    const SHOWN: usize = 6;
    if list.is_empty() {
        return "0".to_owned();
    }
    let mut shown: Vec<&str> = list.iter().take(SHOWN).map(|s| short(s.as_str())).collect();
    if list.len() > SHOWN {
        shown.push("…");
    }
    format!("{} · {}", list.len(), shown.join("、"))
}

fn cadence_row(name: String, c: &Cadence, units: usize) -> Vec<String> {
    vec![
        name,
        c.activities.to_string(),
        c.specials.to_string(),
        if c.meets() { "✓" } else { "✗" }.to_owned(),
        gaps(&c.weeks_missed, |w| w.get(5..).unwrap_or(w)),
        gaps(&c.months_missed, |m| m),
        units.to_string(),
    ]
}

fn header(l: Lang, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| tr(l, k)).collect()
}

/// Grids and wardens per area, community and subdistrict (a warden of two grids counts once per
/// area).
fn per_area<'a>(
    wardens: &[&'a StaffMember],
    community_of: &BTreeMap<RecordId, RecordId>,
    subdistrict_of: &BTreeMap<RecordId, RecordId>,
) -> (
    BTreeMap<RecordId, usize>,
    BTreeMap<RecordId, BTreeSet<&'a str>>,
) {
    let mut grids_in: BTreeMap<RecordId, usize> = BTreeMap::new();
    for (g, c) in community_of {
        *grids_in.entry(*c).or_default() += 1;
        if let Some(s) = subdistrict_of.get(g) {
            *grids_in.entry(*s).or_default() += 1;
        }
    }
    let mut wardens_in: BTreeMap<RecordId, BTreeSet<&'a str>> = BTreeMap::new();
    for m in wardens {
        for g in &m.grids {
            for area in [community_of.get(g), subdistrict_of.get(g)]
                .into_iter()
                .flatten()
            {
                wardens_in
                    .entry(*area)
                    .or_default()
                    .insert(m.username.as_str());
            }
        }
    }
    (grids_in, wardens_in)
}

/// The tables per subdistrict and per community (grids, wardens and case figures of each), and
/// the communities' ids. `(from, to, now)`: the period and the clock.
fn area_tables(
    d: &Data,
    l: Lang,
    wardens: &[&StaffMember],
    (from, to, now): (u64, u64, u64),
) -> (Table, Table, Vec<RecordId>) {
    // The hierarchy: grid → community → subdistrict.
    let community_of: BTreeMap<RecordId, RecordId> = d
        .grids
        .iter()
        .filter_map(|g| Some((g.id, id_field(g, "community")?)))
        .collect();
    let subdistrict_of_community: BTreeMap<RecordId, RecordId> = d
        .communities
        .iter()
        .filter_map(|c| Some((c.id, id_field(c, "subdistrict")?)))
        .collect();
    let subdistrict_of: BTreeMap<RecordId, RecordId> = community_of
        .iter()
        .filter_map(|(g, c)| Some((*g, *subdistrict_of_community.get(c)?)))
        .collect();
    let community_ids: Vec<RecordId> = d.communities.iter().map(|c| c.id).collect();
    let subdistrict_ids: Vec<RecordId> = d.subdistricts.iter().map(|s| s.id).collect();
    let per_c = case_figures_by_area(d.cases.iter(), &community_of, &community_ids, from, to, now);
    let per_s = case_figures_by_area(
        d.cases.iter(),
        &subdistrict_of,
        &subdistrict_ids,
        from,
        to,
        now,
    );
    let (grids_in, wardens_in) = per_area(wardens, &community_of, &subdistrict_of);
    let n_wardens = |a: &RecordId| wardens_in.get(a).map_or(0, BTreeSet::len).to_string();
    let n_grids = |a: &RecordId| grids_in.get(a).copied().unwrap_or(0).to_string();

    let per_subdistrict = Table::new(
        "per-subdistrict",
        tr(l, "dash.per_subdistrict"),
        header(
            l,
            &[
                "dash.subdistrict",
                "dash.communities",
                "dash.grids",
                "dash.wardens",
                "dash.reported",
                "dash.closed",
                "dash.open",
                "dash.overdue",
                "dash.closure_rate",
                "dash.median_close",
            ],
        ),
        d.subdistricts
            .iter()
            // Only the subdistricts of the user's area: a community manager's device knows
            // the other subdistricts by name only.
            .filter(|s| grids_in.contains_key(&s.id))
            .map(|s| {
                let communities = subdistrict_of_community
                    .values()
                    .filter(|x| **x == s.id)
                    .count();
                let mut row = vec![
                    name_of(s),
                    communities.to_string(),
                    n_grids(&s.id),
                    n_wardens(&s.id),
                ];
                row.extend(case_cells(&per_s[&s.id]));
                row
            })
            .collect(),
    );
    let per_community = Table::new(
        "per-community",
        tr(l, "dash.per_community"),
        header(
            l,
            &[
                "dash.community",
                "dash.grids",
                "dash.wardens",
                "dash.reported",
                "dash.closed",
                "dash.open",
                "dash.overdue",
                "dash.closure_rate",
                "dash.median_close",
            ],
        ),
        d.communities
            .iter()
            .map(|c| {
                let mut row = vec![name_of(c), n_grids(&c.id), n_wardens(&c.id)];
                row.extend(case_cells(&per_c[&c.id]));
                row
            })
            .collect(),
    );
    (per_subdistrict, per_community, community_ids)
}

/// The cadence table (月月有专场、周周有活动) over the period, and the communities missing it.
fn cadence_tables(
    d: &Data,
    l: Lang,
    days: u64,
    now: u64,
    community_ids: &[RecordId],
) -> (Table, Vec<String>) {
    let today = (now / DAY_MS) as i64;
    let cad = cadence(
        d.activities.iter(),
        community_ids,
        &date_from_days(today - days as i64),
        &date_from_days(today),
    );
    let names: BTreeMap<RecordId, String> =
        d.communities.iter().map(|c| (c.id, name_of(c))).collect();
    let name = |id: &RecordId| names.get(id).cloned().unwrap_or_default();
    let missing = cad
        .iter()
        .filter(|(_, c)| !c.meets())
        .map(|(id, _)| name(id))
        .collect();
    let cadence_table = Table::new(
        "cadence",
        tr(l, "dash.cadence"),
        header(
            l,
            &[
                "dash.community",
                "dash.activities",
                "dash.specials",
                "dash.meets",
                "dash.weeks_missed",
                "dash.months_missed",
                "dash.units",
            ],
        ),
        cad.iter()
            .map(|(id, c)| {
                // Alliance units paired with the community (同心圆).
                let units = d
                    .alliances
                    .iter()
                    .filter(|a| id_field(a, "community") == Some(*id))
                    .count();
                cadence_row(name(id), c, units)
            })
            .collect(),
    );
    (cadence_table, missing)
}

/// The summary: the period's headline figures.
fn summary_table(d: &Data, l: Lang, wardens: usize, f: &CaseFigures, visits: &VisitRate) -> Table {
    Table::new(
        "summary",
        tr(l, "dash.summary"),
        header(l, &["dash.figure", "dash.value"]),
        vec![
            vec![tr(l, "dash.grids"), d.grids.len().to_string()],
            vec![tr(l, "dash.wardens"), wardens.to_string()],
            vec![tr(l, "dash.reported"), f.reported.to_string()],
            vec![tr(l, "dash.closed"), f.closed.to_string()],
            vec![tr(l, "dash.open"), f.open.to_string()],
            vec![tr(l, "dash.overdue"), f.overdue.to_string()],
            vec![tr(l, "dash.closure_rate"), rate(f)],
            vec![tr(l, "dash.median_close"), median(f)],
            vec![
                tr(l, "dash.visits_per_week"),
                format!("{:.1}", visits.average()),
            ],
        ],
    )
}

/// The figures over the period of `days` days ending now.
pub(super) fn build(d: &Data, l: Lang, days: u64, now: u64) -> Built {
    let from = now.saturating_sub(days * DAY_MS);
    let to = now + 1;
    let f = case_figures(d.cases.iter(), from, to, now);
    let wardens: Vec<&StaffMember> = d.staff.iter().filter(|m| m.role == Role::Warden).collect();
    let warden_names: Vec<String> = wardens.iter().map(|m| m.username.clone()).collect();
    let visits = visit_rate(d.visits.iter(), &warden_names, from, to);
    let trend = weekly_trend(d.cases.iter(), from, to);

    let (per_subdistrict, per_community, community_ids) =
        area_tables(d, l, &wardens, (from, to, now));

    let (cadence_table, missing) = cadence_tables(d, l, days, now, &community_ids);

    let by_category: Vec<(String, u32)> = f
        .by_category
        .iter()
        .map(|(k, n)| (category_label(l, k), *n))
        .collect();
    let by_source: Vec<(String, u32)> = f
        .by_source
        .iter()
        .map(|(k, n)| (tr(l, &format!("source.{k}")), *n))
        .collect();
    let trend_table = Table::new(
        "trend",
        tr(l, "dash.trend"),
        header(l, &["dash.week", "dash.opened", "dash.closed_in_week"]),
        trend
            .iter()
            .map(|w| vec![w.week.clone(), w.opened.to_string(), w.closed.to_string()])
            .collect(),
    );
    // Fewest visits first: who needs a word.
    let mut per: Vec<(&String, &f64)> = visits.per_warden.iter().collect();
    per.sort_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(b.0)));
    let per_warden = Table::new(
        "per-warden",
        tr(l, "dash.per_warden"),
        header(l, &["dash.warden", "dash.visits_per_week"]),
        per.into_iter()
            .map(|(w, n)| vec![d.people.name(w).to_owned(), format!("{n:.1}")])
            .collect(),
    );
    let summary = summary_table(d, l, wardens.len(), &f, &visits);
    Built {
        by_category_table: counts(
            l,
            "by-category",
            "dash.by_category",
            "csv.category",
            &by_category,
        ),
        by_source_table: counts(l, "by-source", "dash.by_source", "csv.source", &by_source),
        figures: f,
        grids: d.grids.len(),
        wardens: wardens.len(),
        visits,
        by_category,
        by_source,
        trend,
        missing,
        summary,
        per_subdistrict,
        per_community,
        trend_table,
        cadence: cadence_table,
        per_warden,
    }
}
