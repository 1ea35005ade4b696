//! The case CSV: the list's export button (`CaseExport`, a manager's report) and what it
//! downloads — every case the filters match, read from the device (`export_selected`), written
//! by `cases_csv` with people and grids named from the device.

use super::labels::{case_deadline, case_status, category_label, status_label};
use super::state::CaseListState;
use crate::i18n::{tr, Lang};
use crate::store::LocalStore;
use crate::sync::client;
use crate::ui::browser::download;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::{level_label, now_ms, when};
use crate::ui::list;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::case::{
    is_overdue, recorded_escalation, supervision_level, Deadlines, ESCALATE,
};
use tongxin_shared::{Collection, Record, RecordId};

/// The export button, offered to managers only (wardens are not offered the report).
#[component]
pub(super) fn CaseExport(state: CaseListState) -> impl IntoView {
    let cx = ctx();
    let session = cx.session;
    move || {
        session
            .with(|s| s.as_ref().is_some_and(|s| s.me.role.is_manager()))
            .then(|| {
                view! {
                    <button type="button" data-testid="export-csv" on:click=move |_| export_selected(state, cx)>{t("cases.export")}</button>
                }
            })
    }
}

/// Downloads every case the list's filters match (not only the page shown), read from the device.
fn export_selected(state: CaseListState, Ctx { lang, sig, .. }: Ctx) {
    let Some(ids) = state.selected.with_untracked(|s| {
        s.as_ref().map(|(epoch, pos, _)| {
            list::index::with(|ix| {
                if ix.epoch == *epoch {
                    pos.iter()
                        .filter_map(|i| ix.cases.rows.get(*i as usize).map(|r| r.id))
                        .collect::<Vec<_>>()
                } else {
                    Vec::new()
                }
            })
        })
    }) else {
        return;
    };
    spawn_local(async move {
        let Some(c) = client() else { return };
        let mut by_id: std::collections::HashMap<RecordId, Record> = c
            .store
            .list(Collection::Cases)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let rows: Vec<Record> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        export_cases(lang.get_untracked(), sig.deadlines.get_untracked(), rows);
    });
}

/// Downloads the cases as CSV, with people and grids named from the device.
fn export_cases(lang: Lang, deadlines: Deadlines, rows: Vec<Record>) {
    spawn_local(async move {
        let names = Names {
            people: crate::ui::names::people().await,
            places: crate::ui::names::places().await,
        };
        let csv = cases_csv(lang, &deadlines, &names, &rows);
        download("cases.csv", &csv, "text/csv;charset=utf-8");
    });
}

/// How the CSV names people and places.
struct Names {
    people: crate::people::Directory,
    places: crate::ui::names::Places,
}

/// The cases as CSV, UTF-8 with a byte-order mark so Excel opens the Chinese text correctly.
/// The grid as code and name, the reporter by name (and login id, for joining other exports).
/// The supervision columns (督办): days overdue; the level whose queue the case is in (for a
/// case no longer open, the highest level it was escalated to); how many reminders it got, the
/// managers' and the server's escalation notices alike.
fn cases_csv(lang: Lang, deadlines: &Deadlines, names: &Names, cases: &[Record]) -> String {
    let header = [
        "id",
        "title",
        "category",
        "status",
        "source",
        "grid_code",
        "grid_name",
        "reporter",
        "reporter_id",
        "reported_at",
        "deadline",
        "closed_at",
        "overdue_days",
        "escalated_to",
        "reminders",
    ];
    let labels: Vec<String> = header
        .iter()
        .map(|h| tr(lang, &format!("csv.{h}")))
        .collect();
    let mut out = String::from(crate::csv::BOM);
    crate::csv::push_row(&mut out, &labels);
    let now = now_ms();
    for r in cases {
        let time = |f: &str| {
            r.get(f)
                .and_then(serde_json::Value::as_u64)
                .map(when)
                .unwrap_or_default()
        };
        // The supervision columns (督办): how late, whose queue, how many reminders so far.
        let late = match (case_status(r), case_deadline(r)) {
            (Some(st), Some(d)) if is_overdue(st, d, now) => Some(d),
            _ => None,
        };
        let overdue_days = late.map_or_else(String::new, |d| {
            format!(
                "{:.1}",
                (now - d) as f64 / tongxin_shared::case::DAY_MS as f64
            )
        });
        let escalated = supervision_level(deadlines, r, now)
            .or_else(|| recorded_escalation(r))
            .map_or_else(String::new, |l| level_label(lang, l));
        let reminders = r
            .log
            .values()
            .filter(|e| {
                matches!(
                    e.data.get("action").and_then(|a| a.as_str()),
                    Some("remind" | ESCALATE)
                )
            })
            .count();
        let grid_id = r.str("grid").unwrap_or_default();
        let grid = names.places.get(grid_id);
        let reporter = r.str("reporter").unwrap_or_default();
        let row = [
            r.id.to_string(),
            r.str("title").unwrap_or_default().to_owned(),
            category_label(lang, r.str("category").unwrap_or_default()),
            status_label(lang, r.str("status").unwrap_or_default()),
            r.str("source")
                .map(|s| tr(lang, &format!("source.{s}")))
                .unwrap_or_default(),
            grid.map_or_else(|| grid_id.to_owned(), |g| g.code.clone()),
            grid.map_or_else(String::new, |g| g.name.clone()),
            names.people.name(reporter).to_owned(),
            reporter.to_owned(),
            time("reported_at"),
            time("deadline"),
            time("closed_at"),
            overdue_days,
            escalated,
            reminders.to_string(),
        ];
        crate::csv::push_row(&mut out, &row);
    }
    out
}
