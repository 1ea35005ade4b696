//! The grids beyond every community service centre's 15-minute reach (`OutsideReach`), farthest
//! first: where a new centre would help most.

use super::data::MapData;
use crate::i18n::{tr, trf};
use crate::ui::context::{ctx, Ctx};
use leptos::prelude::*;

#[component]
pub(crate) fn OutsideReach(data: MapData) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <div class="card" data-testid="outside-reach">
            <p>{move || tr(lang.get(), "map.reach_note")}</p>
            {move || data.outside.get().map(|list| {
                let n = list.len();
                view! {
                    <p data-testid="outside-count" data-n=n.to_string()>{move || trf(lang.get(), "map.outside", &[("n", &n.to_string())])}</p>
                    <ul class="list compact">
                        {list.into_iter().take(50).map(|(id, name, m)| view! {
                            <li data-testid="outside-grid" data-id=id.to_string()>{format!("{name} · {:.1} km", m / 1000.0)}</li>
                        }).collect_view()}
                    </ul>
                }
            })}
        </div>
    }
}
