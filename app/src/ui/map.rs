//! The managers' live map (一张图): every grid in the user's area drawn from its boundary,
//! coloured by a chosen measure, recolouring as pulls land (each live poke triggers one), with a
//! brief highlight on the grids that changed. Until the device has completed a sync round the
//! grids are hatched as loading (a grid whose cases have not arrived must not read "0 open").
//! Pan by dragging or the arrow keys, zoom with the wheel or +/-; select a grid (click, or the
//! grid picker) for its panel, which opens beside the map on wide screens and right under it on
//! phones.
//!
//! The pieces: [`data::use_map_data`] reads the device, [`canvas::MapCanvas`] draws,
//! [`legend::MapLegend`] explains, [`picker::GridPicker`] selects without a pointer,
//! [`reach::OutsideReach`] lists the grids beyond the service centres' reach.

mod canvas;
mod data;
mod export;
mod layers;
mod legend;
mod picker;
mod reach;
mod timing;

use super::browser::download;
use super::context::{ctx, t, Ctx};
use crate::i18n::tr;
use canvas::MapCanvas;
use data::use_map_data;
use legend::MapLegend;
use leptos::prelude::*;
use leptos::task::spawn_local;
use picker::GridPicker;
use reach::OutsideReach;
use tongxin_map::colour::Measure;
use tongxin_shared::RecordId;

/// The map's drawing size in SVG pixels (it scales to the screen's width).
pub(super) const W: f64 = 640.0;
pub(super) const H: f64 = 520.0;

#[component]
pub(super) fn MapView() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let data = use_map_data();
    let measure_sel = RwSignal::new(Measure::OpenCases);
    let selected = RwSignal::new(None::<RecordId>);
    let show_reach = RwSignal::new(false);
    // The optional raster base layer (`--tile-url` on the server), on by default when configured.
    let show_tiles = RwSignal::new(true);
    let live = move || sig.online.get() && !sig.signed_out.get();
    // On a phone the panel opens under the map: bring it into view when it starts below the
    // fold (beside the map on a wide screen it is already in view).
    Effect::new(move |_| {
        if selected.get().is_some() {
            timing::after_frame(|| {
                let Some(w) = web_sys::window() else { return };
                let Some(el) = w
                    .document()
                    .and_then(|d| d.query_selector("[data-testid=grid-panel]").ok().flatten())
                else {
                    return;
                };
                let fold = w
                    .inner_height()
                    .ok()
                    .and_then(|h| h.as_f64())
                    .unwrap_or(0.0);
                if el.get_bounding_client_rect().top() > fold - 80.0 {
                    el.scroll_into_view();
                }
            });
        }
    });
    view! {
        <section class="map-screen">
            <h1>{t("map.title")}</h1>
            <div class="map-bar">
                <label>
                    <span>{t("map.measure")}</span>
                    <select name="measure" on:change=move |ev| if let Some(m) = Measure::parse(&event_target_value(&ev)) { measure_sel.set(m); }>
                        {Measure::ALL.into_iter().map(|m| view! { <option value=m.as_str()>{move || tr(lang.get(), &format!("map.measure.{}", m.as_str()))}</option> }).collect_view()}
                    </select>
                </label>
                <GridPicker data=data selected=selected/>
                <button type="button" data-testid="export-geojson" disabled=move || !data.known.get() on:click=move |_| {
                    spawn_local(async move {
                        let states = data.states.get_untracked().map(|s| s.1).unwrap_or_default();
                        let text = export::grids_geojson(&states).await;
                        download("grids.geojson", &text, "application/geo+json");
                    });
                }>{t("map.export")}</button>
                <label class="check"><input name="reach" type="checkbox" prop:checked=move || show_reach.get()
                    on:change=move |ev| show_reach.set(event_target_checked(&ev))/><span>{t("map.reach")}</span></label>
                {move || sig.tiles.get().is_some().then(|| view! {
                    <label class="check"><input name="tiles" type="checkbox" prop:checked=move || show_tiles.get()
                        on:change=move |ev| show_tiles.set(event_target_checked(&ev))/><span>{t("map.tiles")}</span></label>
                })}
                <span class="live" class:off=move || !live() data-testid="map-live" data-live=move || live().to_string()>
                    {move || if live() { tr(lang.get(), "map.live") } else { tr(lang.get(), "map.not_live") }}
                </span>
            </div>
            <div class="map-layout" class:with-panel=move || selected.get().is_some()>
                <div class="map-main">
                    <MapCanvas data=data measure_sel=measure_sel selected=selected show_reach=show_reach show_tiles=show_tiles/>
                    <MapLegend data=data measure_sel=measure_sel show_reach=show_reach/>
                </div>
                {move || selected.get().and_then(|id| {
                    let g = data.grids.with(|list| list.as_ref()?.iter().find(|g| g.id == id).cloned())?;
                    Some(view! {
                        <super::grid_panel::GridPanel grid=id name=g.name code=g.code community=g.community
                            community_name=g.community_name index=data.index known=data.known
                            on_close=Callback::new(move |()| selected.set(None))/>
                    })
                })}
            </div>
            <Show when=move || show_reach.get()>
                <OutsideReach data=data/>
            </Show>
        </section>
    }
}
