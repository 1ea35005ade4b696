//! Cases (事件/诉求): the list with its offline filters (here, `CaseList`), built from named
//! pieces — the state they share (`state.rs`: `CaseListState`), the filters and the home tiles'
//! chips (`filters.rs`), the CSV export (`export.rs`: the button and `cases_csv`). What the case
//! screens share: the labels and deadline helpers (`labels.rs`) and the timeline
//! (`timeline.rs`). The report and edit form is `case_form`, a case's page `case_detail`, its
//! lifecycle buttons `lifecycle`.

mod export;
mod filters;
mod labels;
mod state;
mod timeline;

pub(super) use labels::{case_deadline, case_status, category_label, deadline_text, status_label};
pub(super) use timeline::Timeline;

use super::context::t;
use super::list;
use export::CaseExport;
use filters::CaseFilters;
use leptos::prelude::*;
use state::CaseListState;

/// The cases on the device, filtered offline, one page at a time.
#[component]
pub(super) fn CaseList() -> impl IntoView {
    let state = CaseListState::new();
    let CaseListState {
        selected,
        first,
        plain,
        page,
        sort,
        ..
    } = state;
    // Which of loading / empty / the list to show (re-drawn only when that changes, so the
    // search box keeps its focus while the rows change under it).
    let shown = Memo::new(move |_| list::page::live_total(selected, first).map(|n| n > 0));
    view! {
        <section class="list-screen">
            <h1>{t("cases.title")}</h1>
            <CaseFilters state=state/>
            {move || match shown.get() {
                None => view! { <p class="muted" role="status" data-testid="list-loading">{t("cases.loading")}</p> }.into_any(),
                Some(false) => view! { <p class="muted">{t("cases.empty")}</p> }.into_any(),
                Some(true) => view! {
                    <CaseExport state=state/>
                    {list::page::paged::<list::cases::Cases>(selected, first, plain, page, sort)}
                }.into_any(),
            }}
        </section>
    }
}
