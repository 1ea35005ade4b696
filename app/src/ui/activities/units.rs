//! The organising units of an activity (`ActivityUnits`): the alliance units paired with the
//! user's community (同心圆), each a checkbox.

use crate::store::LocalStore;
use crate::sync::client;
use crate::ui::context::{ctx, t, Ctx};
use leptos::prelude::*;
use tongxin_shared::Collection;

/// The alliance units paired with the user's community: (id, name).
async fn paired_units() -> Vec<(String, String)> {
    let Some(c) = client() else { return Vec::new() };
    let community = c.me().communities.first().map(ToString::to_string);
    let alliances = c
        .store
        .list(Collection::Alliances)
        .await
        .unwrap_or_default();
    let all_units = c.store.list(Collection::Units).await.unwrap_or_default();
    let ids: Vec<String> = alliances
        .iter()
        .filter(|a| a.str("community").map(ToOwned::to_owned) == community)
        .filter_map(|a| a.str("unit").map(ToOwned::to_owned))
        .collect();
    all_units
        .iter()
        .filter(|u| ids.contains(&u.id.to_string()))
        .map(|u| {
            (
                u.id.to_string(),
                u.str("name").unwrap_or_default().to_owned(),
            )
        })
        .collect::<Vec<_>>()
}

/// The units to pick the organisers from; `units` holds the ids ticked.
#[component]
pub(super) fn ActivityUnits(units: RwSignal<Vec<String>>) -> impl IntoView {
    let Ctx { sig, .. } = ctx();
    let paired = LocalResource::new(move || {
        sig.version.get();
        paired_units()
    });
    view! {
        <fieldset class="units">
            <legend>{t("activities.units")}</legend>
            {move || paired.get().unwrap_or_default().into_iter().map(|(id, name)| {
                let value = id.clone();
                let this = id.clone();
                view! {
                    <label class="check"><input type="checkbox" name="unit" value=value
                        prop:checked=move || units.with(|u| u.contains(&this))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let id = id.clone();
                            units.update(|u| { u.retain(|x| *x != id); if on { u.push(id); } });
                        }/><span>{name}</span></label>
                }
            }).collect_view()}
        </fieldset>
    }
}
