//! Where a visit is (`VisitPlace`): the grid (asked only of a user with several) and a compound
//! (小区/楼栋) of that grid, from the device.

use super::state::VisitForm;
use crate::ui::context::{live_records, t};
use leptos::prelude::*;
use tongxin_shared::Collection;

/// The compounds on the device: (id, grid, name), by name.
async fn compounds_on_device() -> Vec<(String, String, String)> {
    let mut list: Vec<(String, String, String)> = live_records(Collection::Compounds)
        .await
        .iter()
        .map(|r| {
            (
                r.id.to_string(),
                r.str("grid").unwrap_or_default().to_owned(),
                r.str("name").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    list.sort_by(|a, b| a.2.cmp(&b.2));
    list
}

/// The grid select (with more than one grid) and the compound select (when the chosen grid has
/// compounds on the device).
#[component]
pub(super) fn VisitPlace(form: VisitForm) -> impl IntoView {
    let VisitForm { grid, compound, .. } = form;
    let compounds = LocalResource::new(compounds_on_device);
    view! {
        {move || (form.grids().len() > 1).then(|| view! {
            <label>
                <span>{t("case.grid")}</span>
                <select name="grid" on:change=move |ev| grid.set(Some(event_target_value(&ev)))>
                    {form.grids().into_iter().map(|g| {
                        let id = g.to_string();
                        let this = id.clone();
                        view! { <option value=id selected=move || form.chosen_grid() == this>{g.to_string()}</option> }
                    }).collect_view()}
                </select>
            </label>
        })}
        {move || {
            let chosen = form.chosen_grid();
            let here: Vec<(String, String)> = compounds.get().unwrap_or_default().into_iter()
                .filter(|(_, g, _)| *g == chosen).map(|(id, _, name)| (id, name)).collect();
            (!here.is_empty()).then(|| view! {
                <label>
                    <span>{t("visits.compound")}</span>
                    <select name="compound" on:change=move |ev| compound.set(event_target_value(&ev))>
                        <option value="">{t("visits.no_compound")}</option>
                        {here.into_iter().map(|(id, name)| {
                            let this = id.clone();
                            view! { <option value=id selected=move || compound.get() == this>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
            })
        }}
    }
}
