//! Dashboards of the user's area (community, subdistrict or city), computed on the device from
//! the synced records with `shared::figures`: cases (reported, closed 销号, open, overdue, closure
//! rate, median time to close, by category and by source), the same per subdistrict and per
//! community, cases opened and closed per week, visits per warden per week (over the weeks the
//! data covers, window shown), and each community's activity cadence (月月有专场、周周有活动)
//! with the weeks and months it misses and its alliance units. Every table sorts by any column
//! and all of them export as one CSV (UTF-8 with a BOM, so Excel opens the Chinese text).
//! A subdistrict or city manager's device (the summary profile, `shared::profile`) holds only
//! recent cases and visits: its case and visit figures come from the summaries instead
//! (`shared::summary::expand`), which give the same figures as every record.

mod build;
mod charts;

use super::browser::download;
use super::context::{ctx, live_records, profile, t, Ctx};
use super::format::now_ms;
use super::table::{tables_csv, Sorts};
use crate::i18n::{tr, trf};
use build::{build, median, rate, Data};
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_shared::profile::Profile;
use tongxin_shared::{summary, Collection};

/// Wardens listed on the page (all of them go into the CSV).
const WARDENS_SHOWN: usize = 20;

#[component]
pub(super) fn Dashboard() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let days = RwSignal::new(30u64);
    let sorts: Sorts = RwSignal::new(BTreeMap::new());
    let data = LocalResource::new(move || {
        sig.version.get();
        async move {
            // A summary-profile device holds only recent cases and visits: its figures come
            // from the summaries, which count every one of them (the same figures as the
            // records, `shared::summary`).
            let (cases, visits) = match profile() {
                Profile::Summary => summary::expand(&live_records(Collection::Summaries).await),
                Profile::Full => (
                    live_records(Collection::Cases).await,
                    live_records(Collection::Visits)
                        .await
                        .iter()
                        .filter_map(summary::VisitEntry::of)
                        .collect(),
                ),
            };
            Data {
                cases,
                visits,
                activities: live_records(Collection::Activities).await,
                subdistricts: live_records(Collection::Subdistricts).await,
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
            <label class="inline">
                <span>{t("dash.period")}</span>
                <select name="period" on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(30))>
                    {[7u64, 30, 90, 365].into_iter().map(|d| view! {
                        <option value=d.to_string() selected=move || days.get() == d>{move || trf(lang.get(), "dash.days", &[("n", &d.to_string())])}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || match data.get() {
                None => view! { <p class="muted" role="status" data-testid="dash-loading">{t("dash.loading")}</p> }.into_any(),
                Some(d) => page(&d, days.get(), sorts).into_any(),
            }}
        </section>
    }
}

/// The figures, charts and tables of one period.
fn page(d: &Data, days: u64, sorts: Sorts) -> impl IntoView {
    let l = ctx().lang.get();
    let b = build(d, l, days, now_ms());
    let f = &b.figures;
    let csv = tables_csv(&[
        &b.summary,
        &b.per_subdistrict,
        &b.per_community,
        &b.by_category_table,
        &b.by_source_table,
        &b.trend_table,
        &b.cadence,
        &b.per_warden,
    ]);
    let figure = |key: &'static str, testid: &'static str, value: String| {
        let shown = value.clone();
        view! {
            <div class="figure" data-testid=testid data-n=value><strong>{shown}</strong><span>{tr(l, key)}</span></div>
        }
    };
    let (from, to) = b.visits.window_dates();
    let weeks = format!("{:.1}", b.visits.weeks);
    let window = trf(
        l,
        "dash.visit_window",
        &[("from", &from), ("to", &to), ("weeks", &weeks)],
    );
    // The exact number of weeks, for tests and tools (the text rounds it).
    let weeks = format!("{:.4}", b.visits.weeks);
    view! {
        <button type="button" data-testid="export-dashboard" on:click=move |_| download("dashboard.csv", &csv, "text/csv;charset=utf-8")>
            {tr(l, "dash.export")}
        </button>
        <div class="figures-grid">
            {figure("dash.grids", "fig-grids", b.grids.to_string())}
            {figure("dash.wardens", "fig-wardens", b.wardens.to_string())}
            {figure("dash.reported", "fig-reported", f.reported.to_string())}
            {figure("dash.closed", "fig-closed", f.closed.to_string())}
            {figure("dash.open", "fig-open", f.open.to_string())}
            {figure("dash.overdue", "fig-overdue", f.overdue.to_string())}
            {figure("dash.unassigned", "fig-unassigned", f.unassigned.to_string())}
            {figure("dash.closure_rate", "fig-closure-rate", rate(f))}
            {figure("dash.median_close", "fig-median-close", median(f))}
            {figure("dash.visits_per_week", "fig-visits-week", format!("{:.1}", b.visits.average()))}
        </div>
        <p class="muted small" data-testid="visit-window" data-from=from.clone() data-to=to.clone() data-weeks=weeks.clone()>{window}</p>
        {b.per_subdistrict.view(usize::MAX, sorts)}
        {b.per_community.view(usize::MAX, sorts)}
        {b.trend_table.view_with(usize::MAX, sorts, view! {
            {charts::trend_chart(l, &b.trend)}
            <p class="muted small">{tr(l, "dash.trend_note")}</p>
        })}
        {charts::bar_chart(tr(l, "dash.by_category"), &b.by_category)}
        {b.by_category_table.view(usize::MAX, sorts)}
        {charts::bar_chart(tr(l, "dash.by_source"), &b.by_source)}
        {b.by_source_table.view(usize::MAX, sorts)}
        {b.cadence.view(usize::MAX, sorts)}
        <p class="muted small">{tr(l, "dash.cadence_note")}</p>
        {(!b.missing.is_empty()).then(|| view! { <p class="muted" data-testid="cadence-missing">{trf(l, "dash.missing", &[("c", &b.missing.join("、"))])}</p> })}
        {b.per_warden.view(WARDENS_SHOWN, sorts)}
    }
}
