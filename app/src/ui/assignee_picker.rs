//! Picking who handles a case (受理派单): the wardens and grid leaders of the case's grid, the
//! managers of its community and the alliance units paired with it, searchable by name. The
//! candidates are those `shared::policy::assign::works_at` accepts for the case's place, so what
//! is offered is what the server lets through (`crate::views::assign`). Staff come from
//! `GET /api/v1/staff` (kept for offline use), units and pairings from the records on the device.

use super::case_place::CasePlace;
use super::context::{ctx, live_records, t, Ctx};
use crate::i18n::tr;
use crate::views::assign::{candidates, Candidate};
use leptos::prelude::*;
use tongxin_shared::{Collection, RecordId};

/// Everyone a case at `place` may be assigned to, from the server's staff list (or the last kept)
/// and the device's units and alliances.
pub(crate) async fn load_candidates(place: &CasePlace) -> Vec<Candidate> {
    let staff = super::staff::staff().await;
    let units = live_records(Collection::Units).await;
    let alliances = live_records(Collection::Alliances).await;
    candidates(&staff, &units, &alliances, &place.place)
}

/// The picker: a search box and the candidates as radio buttons; `on_pick` gets the chosen
/// value when the user confirms. `preselect` is chosen at first when it is a candidate.
#[component]
pub(crate) fn AssigneePicker(
    place: CasePlace,
    #[prop(optional)] preselect: Option<String>,
    #[prop(into)] confirm_label: Signal<String>,
    on_pick: Callback<String>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let text = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<String>);
    let list = LocalResource::new(move || {
        let place = place.clone();
        async move { load_candidates(&place).await }
    });
    Effect::new(move |_| {
        if let (Some(list), Some(pre)) = (list.get(), preselect.as_ref()) {
            if chosen.get_untracked().is_none() && list.iter().any(|c| &c.value == pre) {
                chosen.set(Some(pre.clone()));
            }
        }
    });
    let group = RecordId(uuid::Uuid::now_v7()).to_string();
    view! {
        <div class="picker" role="group" data-testid="assignee-picker" aria-label=move || tr(lang.get(), "assign.title")>
            <label>
                <span>{t("assign.title")}</span>
                <input type="search" name="assignee-search" placeholder=move || tr(lang.get(), "assign.search")
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </label>
            {move || match list.get() {
                None => view! { <p class="muted small" role="status">{t("assign.loading")}</p> }.into_any(),
                Some(all) if all.is_empty() => view! { <p class="muted small" role="status" data-testid="assign-none">{t("assign.none")}</p> }.into_any(),
                Some(all) => {
                    let group = group.clone();
                    view! {
                        <ul class="choices" data-testid="assign-candidates">
                            {all.into_iter().filter(|c| c.matches(&text.get())).map(|c| {
                                let value = c.value.clone();
                                let checked = value.clone();
                                let kind = c.clone();
                                view! {
                                    <li><label class="check">
                                        <input type="radio" name=group.clone() value=value.clone() data-testid="assign-option"
                                            prop:checked=move || chosen.get().as_deref() == Some(checked.as_str())
                                            on:change=move |_| chosen.set(Some(value.clone()))/>
                                        <span>{c.name.clone()}</span>
                                        <span class="tag">{move || kind.kind(lang.get())}</span>
                                    </label></li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
            <div class="actions">
                <button type="button" class="primary" data-testid="assign-confirm" disabled=move || chosen.get().is_none()
                    on:click=move |_| if let Some(v) = chosen.get_untracked() { on_pick.run(v) }>{move || confirm_label.get()}</button>
                <button type="button" data-testid="assign-cancel" on:click=move |_| on_cancel.run(())>{t("assign.cancel")}</button>
            </div>
        </div>
    }
}
