//! Picking a grid without a pointer (`GridPicker`): a select of every grid, grouped by
//! community, that selects the grid on the map as a click on it does. It is how keyboard and
//! screen-reader users reach a grid's panel.

use super::data::MapData;
use crate::i18n::tr;
use crate::ui::context::{ctx, Ctx};
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_shared::RecordId;

#[component]
pub(crate) fn GridPicker(data: MapData, selected: RwSignal<Option<RecordId>>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <label class="grid-picker">
            <span>{move || tr(lang.get(), "map.pick")}</span>
            <select name="grid" data-testid="grid-picker"
                prop:value=move || selected.get().map(|id| id.to_string()).unwrap_or_default()
                on:change=move |ev| selected.set(RecordId::parse(&event_target_value(&ev)).ok())>
                <option value="">{move || tr(lang.get(), "map.pick.none")}</option>
                {move || {
                    let mut by_community: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
                    data.grids.with(|list| {
                        for g in list.iter().flatten() {
                            let label = if g.code.is_empty() { g.name.clone() } else { format!("{} {}", g.code, g.name) };
                            by_community.entry(g.community_name.clone()).or_default().push((g.id.to_string(), label));
                        }
                    });
                    by_community.into_iter().map(|(community, mut grids)| {
                        grids.sort_by(|a, b| a.1.cmp(&b.1));
                        view! {
                            <optgroup label=community>
                                {grids.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                            </optgroup>
                        }
                    }).collect_view()
                }}
            </select>
        </label>
    }
}
