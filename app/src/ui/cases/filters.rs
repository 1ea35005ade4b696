//! The case list's filters (`CaseFilters`): the search, status, category, grid (when the device
//! holds more than one), overdue, mine, the home tiles' chips (`CaseChips`) and, for managers,
//! the supervision queue.

use super::labels::{category_label, status_label};
use super::state::CaseListState;
use crate::i18n::tr;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::list;
use leptos::prelude::*;
use tongxin_shared::case::Status;
use tongxin_shared::schema::CASE_CATEGORIES;

/// The filters' form, applied offline as they change.
#[component]
pub(super) fn CaseFilters(state: CaseListState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let CaseListState {
        status,
        overdue,
        mine,
        text,
        category,
        grid,
        page,
        grids,
        escalated,
        ..
    } = state;
    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <list::SearchBox query=text page label="cases.search"/>
            <select name="status" aria-label=move || tr(lang.get(), "case.status")
                on:change=move |ev| status.set(event_target_value(&ev))>
                <option value="">{t("cases.all_states")}</option>
                {Status::ALL.iter().map(|st| {
                    let v = st.as_str();
                    view! { <option value=v>{move || status_label(lang.get(), v)}</option> }
                }).collect_view()}
            </select>
            <select name="category" aria-label=move || tr(lang.get(), "case.category")
                on:change=move |ev| category.set(event_target_value(&ev))>
                <option value="">{t("cases.all_categories")}</option>
                {CASE_CATEGORIES.iter().map(|c| {
                    let c = *c;
                    view! { <option value=c>{move || category_label(lang.get(), c)}</option> }
                }).collect_view()}
            </select>
            {move || Some(grids.get()).filter(|g| g.len() > 1).map(|list| view! {
                <select name="grid" aria-label=move || tr(lang.get(), "case.grid")
                    on:change=move |ev| grid.set(event_target_value(&ev))>
                    <option value="">{t("cases.all_grids")}</option>
                    {list.into_iter().map(|(id, name)| {
                        let this = id.clone();
                        view! { <option value=id selected=move || grid.get() == this>{name}</option> }
                    }).collect_view()}
                </select>
            })}
            <label class="check"><input name="overdue" type="checkbox" prop:checked=move || overdue.get()
                on:change=move |ev| overdue.set(event_target_checked(&ev))/><span>{t("cases.overdue_only")}</span></label>
            <label class="check"><input name="mine" type="checkbox" prop:checked=move || mine.get()
                on:change=move |ev| mine.set(event_target_checked(&ev))/><span>{t("cases.mine")}</span></label>
            <CaseChips state=state/>
            {move || state.my_level().map(|_| view! {
                <label class="check"><input name="escalated" type="checkbox" prop:checked=move || escalated.get()
                    on:change=move |ev| escalated.set(event_target_checked(&ev))/><span>{t("cases.escalated")}</span></label>
            })}
        </form>
    }
}

/// The filters a home tile set that have no control of their own: shown as chips that clear them.
#[component]
fn CaseChips(state: CaseListState) -> impl IntoView {
    let chip = move |on: RwSignal<bool>, key: &'static str, testid: &'static str| {
        move || {
            on.get().then(|| {
                view! {
                    <button type="button" class="chip" data-testid=testid aria-pressed="true"
                        on:click=move |_| on.set(false)>{t(key)}" ×"</button>
                }
            })
        }
    };
    view! {
        {chip(state.open_only, "cases.filter.open", "filter-open")}
        {chip(state.due_soon, "cases.filter.due_soon", "filter-due-soon")}
    }
}
