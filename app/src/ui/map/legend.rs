//! The map's legend (`MapLegend`): what each colour of the chosen measure means, the hatch of
//! grids still loading, and the service centres by level with their 15-minute reach.

use super::data::MapData;
use crate::i18n::tr;
use crate::ui::context::{ctx, Ctx};
use leptos::prelude::*;
use tongxin_map::colour::Measure;

/// The bins of a measure as labels with their colours (`0`, `1–2`, …, `31+`).
fn bins(m: Measure) -> Vec<(String, &'static str)> {
    let mut lo = 0u32;
    m.legend()
        .iter()
        .map(|(hi, colour)| {
            let label = match hi {
                Some(h) if *h == lo => h.to_string(),
                Some(h) => format!("{lo}–{h}"),
                None => format!("{lo}+"),
            };
            lo = hi.map_or(lo, |h| h + 1);
            (label, *colour)
        })
        .collect()
}

#[component]
pub(crate) fn MapLegend(
    data: MapData,
    measure_sel: RwSignal<Measure>,
    show_reach: RwSignal<bool>,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let name = move || {
        tr(
            lang.get(),
            &format!("map.measure.{}", measure_sel.get().as_str()),
        )
    };
    view! {
        <div class="map-legends">
            <ul class="legend" data-testid="legend" aria-label=name>
                <li class="legend-title" aria-hidden="true">{name}</li>
                {move || bins(measure_sel.get()).into_iter().map(|(label, colour)| view! {
                    <li><span class="swatch" style=format!("background:{colour}")></span>{label}</li>
                }).collect_view()}
                <Show when=move || !data.known.get()>
                    <li data-testid="legend-loading"><span class="swatch swatch-loading"></span>{move || tr(lang.get(), "map.legend.loading")}</li>
                </Show>
            </ul>
            <ul class="legend" data-testid="centre-legend" aria-label=move || tr(lang.get(), "map.legend.centres")>
                <li class="legend-title" aria-hidden="true">{move || tr(lang.get(), "map.legend.centres")}</li>
                {["city", "subdistrict", "community"].into_iter().map(|level| view! {
                    <li data-level=level><span class=format!("dot dot-{level}")></span>{move || tr(lang.get(), &format!("map.centre.{level}"))}</li>
                }).collect_view()}
                <Show when=move || show_reach.get()>
                    <li data-testid="legend-reach"><span class="ring"></span>{move || tr(lang.get(), "map.reach")}</li>
                </Show>
            </ul>
        </div>
    }
}
