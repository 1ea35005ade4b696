//! Dashboards of the user's area (community, subdistrict or city), computed on the device from
//! the synced records with `shared::figures`: cases (reported, closed 销号, open, overdue, closure
//! rate, median time to close, by category and by source), the same per community, visits per
//! warden per week, and each community's activity cadence (月月有专场、周周有活动) with those
//! that miss it and their alliance units. Every table is built once as rows of text, shown on the
//! page and exported as one CSV (UTF-8 with a BOM, so Excel opens the Chinese text correctly).

use super::browser::download;
use super::cases::category_label;
use super::context::{ctx, live_records, t, Ctx};
use super::format::now_ms;
use crate::i18n::{tr, trf, Lang};
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_shared::case::DAY_MS;
use tongxin_shared::figures::{
    cadence, case_figures, date_from_days, visits_per_warden_week, CaseFigures,
};
use tongxin_shared::{Collection, Record, RecordId};

/// Wardens listed on the page (all of them go into the CSV).
const WARDENS_SHOWN: usize = 20;

/// One table on the page (and in the CSV), with its test id.
struct Table {
    testid: &'static str,
    data: crate::csv::Table,
}

impl Table {
    fn new(
        testid: &'static str,
        title: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    ) -> Self {
        Self {
            testid,
            data: crate::csv::Table {
                title,
                header,
                rows,
            },
        }
    }

    fn view(&self, limit: usize) -> impl IntoView {
        let d = &self.data;
        let more = d.rows.len().saturating_sub(limit);
        view! {
            <h2>{d.title.clone()}</h2>
            <table class="table" data-testid=self.testid data-rows=d.rows.len().to_string()>
                <thead><tr>{d.header.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {d.rows.iter().take(limit).map(|row| view! {
                        <tr>{row.iter().enumerate().map(|(i, c)| {
                            let class = if i > 0 && c.starts_with(|ch: char| ch.is_ascii_digit()) { "num" } else { "" };
                            view! { <td class=class>{c.clone()}</td> }
                        }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
            {(more > 0).then(|| view! { <p class="muted small">{format!("… +{more}")}</p> })}
        }
    }
}

/// The tables as one CSV (see `crate::csv::tables`).
fn tables_csv(tables: &[&Table]) -> String {
    let parts: Vec<&crate::csv::Table> = tables.iter().map(|t| &t.data).collect();
    crate::csv::tables(&parts)
}

fn rate(f: &CaseFigures) -> String {
    format!("{:.0}%", f.closure_rate * 100.0)
}

fn median(f: &CaseFigures) -> String {
    f.median_hours_to_close
        .map_or_else(|| "—".to_owned(), |h| format!("{h:.1}"))
}

fn counts(
    l: Lang,
    testid: &'static str,
    title: &str,
    first: &str,
    rows: Vec<(String, u32)>,
) -> Table {
    Table::new(
        testid,
        tr(l, title),
        vec![tr(l, first), tr(l, "dash.cases")],
        rows.into_iter()
            .map(|(k, n)| vec![k, n.to_string()])
            .collect(),
    )
}

fn bar_chart(rows: &[(String, u32)]) -> impl IntoView {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let h = 22.0 * rows.len() as f64 + 4.0;
    view! {
        <svg class="bars" viewBox=format!("0 0 320 {h}") role="img">
            {rows.iter().enumerate().map(|(i, (label, n))| {
                let y = 22.0 * i as f64 + 2.0;
                let w = 180.0 * f64::from(*n) / f64::from(max);
                view! {
                    <g>
                        <text x="0" y=y + 14.0 class="bar-label">{label.clone()}</text>
                        <rect x="110" y=y width=w.max(1.0) height="16" class="bar"></rect>
                        <text x=112.0 + w + 4.0 y=y + 13.0 class="bar-value">{n.to_string()}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

/// What the dashboard reads from the device.
#[derive(Clone)]
struct Data {
    cases: Vec<Record>,
    visits: Vec<Record>,
    activities: Vec<Record>,
    communities: Vec<Record>,
    grids: Vec<Record>,
    alliances: Vec<Record>,
    staff: Vec<tongxin_shared::wire::StaffMember>,
    /// Names of the people (the per-warden table names wardens, not login ids).
    people: crate::people::Directory,
}

#[component]
pub(super) fn Dashboard() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let days = RwSignal::new(30u64);
    let data = LocalResource::new(move || {
        sig.version.get();
        async move {
            Data {
                cases: live_records(Collection::Cases).await,
                visits: live_records(Collection::Visits).await,
                activities: live_records(Collection::Activities).await,
                communities: live_records(Collection::Communities).await,
                grids: live_records(Collection::Grids).await,
                alliances: live_records(Collection::Alliances).await,
                staff: super::staff::staff().await,
                people: super::names::people().await,
            }
        }
    });
    view! {
        <section class="dashboard">
            <h1>{t("dash.title")}</h1>
            <label>
                <span>{t("dash.period")}</span>
                <select name="period" on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(30))>
                    {[7u64, 30, 90, 365].into_iter().map(|d| view! {
                        <option value=d.to_string() selected=move || days.get() == d>{move || trf(lang.get(), "dash.days", &[("n", &d.to_string())])}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || data.get().map(|d| {
                let l = lang.get();
                let period = days.get();
                let now = now_ms();
                let from = now.saturating_sub(period * DAY_MS);
                let f = case_figures(d.cases.iter(), from, now + 1, now);
                let per_warden = visits_per_warden_week(d.visits.iter(), from, now + 1);
                let avg = if per_warden.is_empty() { 0.0 } else { per_warden.values().sum::<f64>() / per_warden.len() as f64 };
                let today = (now / DAY_MS) as i64;
                let ids: Vec<RecordId> = d.communities.iter().map(|c| c.id).collect();
                let names: BTreeMap<RecordId, String> = d.communities.iter().map(|c| (c.id, c.str("name").unwrap_or_default().to_owned())).collect();
                let name = |id: &RecordId| names.get(id).cloned().unwrap_or_default();
                let cad = cadence(d.activities.iter(), &ids, &date_from_days(today - period as i64), &date_from_days(today));
                let missing: Vec<String> = cad.iter().filter(|(_, c)| !c.meets()).map(|(id, _)| name(id)).collect();
                let by_category: Vec<(String, u32)> = f.by_category.iter().map(|(k, n)| (category_label(l, k), *n)).collect();
                let by_source: Vec<(String, u32)> = f.by_source.iter().map(|(k, n)| (tr(l, &format!("source.{k}")), *n)).collect();

                // Per community: its grids, and the figures over the cases in them.
                let mut grids_of: BTreeMap<RecordId, Vec<String>> = BTreeMap::new();
                for g in &d.grids {
                    if let Some(c) = g.str("community").and_then(|c| RecordId::parse(c).ok()) {
                        grids_of.entry(c).or_default().push(g.id.to_string());
                    }
                }
                // Wardens (and grid leaders) per community, through their grids.
                let community_of: BTreeMap<String, RecordId> = grids_of
                    .iter()
                    .flat_map(|(c, gs)| gs.iter().map(move |g| (g.clone(), *c)))
                    .collect();
                let mut staff_of: BTreeMap<RecordId, std::collections::BTreeSet<&str>> = BTreeMap::new();
                for m in &d.staff {
                    for g in &m.grids {
                        if let Some(c) = community_of.get(&g.to_string()) {
                            staff_of.entry(*c).or_default().insert(m.username.as_str());
                        }
                    }
                }
                let staff_count = d.staff.len();
                let per_community = Table::new(
                    "per-community",
                    tr(l, "dash.per_community"),
                    ["dash.community", "dash.grids", "dash.wardens", "dash.reported", "dash.closed", "dash.open", "dash.overdue", "dash.closure_rate", "dash.median_close"]
                        .iter().map(|k| tr(l, k)).collect(),
                    d.communities.iter().map(|c| {
                        let grids = grids_of.get(&c.id).cloned().unwrap_or_default();
                        let cf = case_figures(
                            d.cases.iter().filter(|r| r.str("grid").is_some_and(|g| grids.iter().any(|x| x == g))),
                            from, now + 1, now,
                        );
                        vec![name(&c.id), grids.len().to_string(), staff_of.get(&c.id).map_or(0, std::collections::BTreeSet::len).to_string(), cf.reported.to_string(), cf.closed.to_string(),
                             cf.open.to_string(), cf.overdue.to_string(), rate(&cf), median(&cf)]
                    }).collect(),
                );
                let summary = Table::new(
                    "summary",
                    tr(l, "dash.summary"),
                    vec![tr(l, "dash.figure"), tr(l, "dash.value")],
                    vec![
                        vec![tr(l, "dash.grids"), d.grids.len().to_string()],
                        vec![tr(l, "dash.wardens"), staff_count.to_string()],
                        vec![tr(l, "dash.reported"), f.reported.to_string()],
                        vec![tr(l, "dash.closed"), f.closed.to_string()],
                        vec![tr(l, "dash.open"), f.open.to_string()],
                        vec![tr(l, "dash.overdue"), f.overdue.to_string()],
                        vec![tr(l, "dash.closure_rate"), rate(&f)],
                        vec![tr(l, "dash.median_close"), median(&f)],
                        vec![tr(l, "dash.visits_per_week"), format!("{avg:.1}")],
                    ],
                );
                let category_table = counts(l, "by-category", "dash.by_category", "csv.category", by_category.clone());
                let source_table = counts(l, "by-source", "dash.by_source", "csv.source", by_source.clone());
                let cadence_table = Table::new(
                    "cadence",
                    tr(l, "dash.cadence"),
                    ["dash.community", "dash.activities", "dash.specials", "dash.meets", "dash.units"].iter().map(|k| tr(l, k)).collect(),
                    cad.iter().map(|(id, c)| {
                        // Alliance units paired with the community (同心圆).
                        let units = d.alliances.iter().filter(|a| a.str("community") == Some(id.to_string().as_str())).count();
                        vec![name(id), c.activities.to_string(), c.specials.to_string(),
                             if c.meets() { "✓" } else { "✗" }.to_owned(), units.to_string()]
                    }).collect(),
                );
                // Fewest visits first: who needs a word.
                let mut wardens: Vec<(&String, &f64)> = per_warden.iter().collect();
                wardens.sort_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(b.0)));
                let warden_table = Table::new(
                    "per-warden",
                    tr(l, "dash.per_warden"),
                    vec![tr(l, "dash.warden"), tr(l, "dash.visits_per_week")],
                    wardens.into_iter().map(|(w, n)| vec![d.people.name(w).to_owned(), format!("{n:.1}")]).collect(),
                );
                let csv = tables_csv(&[&summary, &per_community, &category_table, &source_table, &cadence_table, &warden_table]);
                let figure = |key: &'static str, testid: &'static str, value: String| {
                    let shown = value.clone();
                    view! {
                        <div class="figure" data-testid=testid data-n=value><strong>{shown}</strong><span>{tr(l, key)}</span></div>
                    }
                };
                view! {
                    <button type="button" data-testid="export-dashboard" on:click=move |_| download("dashboard.csv", &csv, "text/csv;charset=utf-8")>
                        {tr(l, "dash.export")}
                    </button>
                    <div class="figures-grid">
                        {figure("dash.grids", "fig-grids", d.grids.len().to_string())}
                        {figure("dash.wardens", "fig-wardens", staff_count.to_string())}
                        {figure("dash.reported", "fig-reported", f.reported.to_string())}
                        {figure("dash.closed", "fig-closed", f.closed.to_string())}
                        {figure("dash.open", "fig-open", f.open.to_string())}
                        {figure("dash.overdue", "fig-overdue", f.overdue.to_string())}
                        {figure("dash.unassigned", "fig-unassigned", f.unassigned.to_string())}
                        {figure("dash.closure_rate", "fig-closure-rate", rate(&f))}
                        {figure("dash.median_close", "fig-median-close", median(&f))}
                        {figure("dash.visits_per_week", "fig-visits-week", format!("{avg:.1}"))}
                    </div>
                    {per_community.view(usize::MAX)}
                    {bar_chart(&by_category)}
                    {category_table.view(usize::MAX)}
                    {bar_chart(&by_source)}
                    {source_table.view(usize::MAX)}
                    {cadence_table.view(usize::MAX)}
                    {(!missing.is_empty()).then(|| view! { <p class="muted" data-testid="cadence-missing">{trf(l, "dash.missing", &[("c", &missing.join("、"))])}</p> })}
                    {warden_table.view(WARDENS_SHOWN)}
                }
            })}
        </section>
    }
}
