//! The map's drawing (`MapCanvas`): the SVG with its layers, fitted to the area once the shapes
//! are known, recoloured as states land, panned by dragging or the arrow keys and zoomed with
//! the wheel, +/- or a two-finger pinch. While the grids' states are unknown the grids are
//! hatched and a status line says the map is loading.

use super::data::MapData;
use super::layers::{area_layer, centre_layer, grid_layer, label_layer, GridCell};
use super::timing::{after_frame, mark, measure};
use super::{H, W};
use crate::i18n::{tr, trf};
use crate::ui::context::{ctx, Ctx};
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_map::colour::Measure;
use tongxin_map::Viewport;
use tongxin_shared::figures::GridState;
use tongxin_shared::RecordId;

/// A pointer's position in the map's viewBox units (the SVG is scaled to the screen's width).
fn svg_point(ev: &web_sys::MouseEvent) -> (f64, f64) {
    use wasm_bindgen::JsCast;
    let (cx, cy) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
    let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return (cx, cy);
    };
    let r = el.get_bounding_client_rect();
    if r.width() <= 0.0 || r.height() <= 0.0 {
        return (cx, cy);
    }
    (
        (cx - r.left()) * W / r.width(),
        (cy - r.top()) * H / r.height(),
    )
}

/// Fits the whole area once the shapes are known.
fn fit_once(data: MapData, view_port: RwSignal<Option<Viewport>>) {
    Effect::new(move |_| {
        if view_port.get_untracked().is_some() {
            return;
        }
        data.grids.with(|list| {
            let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
                return;
            };
            let mut min = (f64::MAX, f64::MAX);
            let mut max = (f64::MIN, f64::MIN);
            for g in list {
                min = (min.0.min(g.shape.min.0), min.1.min(g.shape.min.1));
                max = (max.0.max(g.shape.max.0), max.1.max(g.shape.max.1));
            }
            view_port.set(Some(Viewport::fit(min, max, W, H, 12.0)));
        });
    });
}

/// Applies new states once they are known: sets the changed grids' signals and highlights them
/// for 1.5 s (not on the first paint).
fn recolour(
    data: MapData,
    cells: StoredValue<BTreeMap<RecordId, GridCell>>,
    previous: StoredValue<Option<BTreeMap<RecordId, GridState>>>,
) {
    Effect::new(move |_| {
        if !data.known.get() {
            return;
        }
        let Some((_, now)) = data.states.get() else {
            return;
        };
        let first = previous.with_value(Option::is_none);
        // Recolour: from the new states to the DOM updated, measured up to the next frame.
        mark("tongxin:recolour:start");
        let changed: Vec<GridCell> = cells.with_value(|cells| {
            cells
                .iter()
                .filter_map(|(id, cell)| {
                    let new = Some(now.get(id).cloned().unwrap_or_default());
                    (cell.state.with_untracked(|s| *s != new)).then(|| {
                        cell.state.set(new);
                        *cell
                    })
                })
                .collect()
        });
        previous.set_value(Some(now));
        after_frame(|| measure("tongxin:recolour", "tongxin:recolour:start"));
        if !first && !changed.is_empty() {
            for cell in &changed {
                cell.flash.set(true);
            }
            gloo_timers::callback::Timeout::new(1500, move || {
                for cell in changed {
                    cell.flash.try_set(false);
                }
            })
            .forget();
        }
    });
}

/// What a key does to the view: the arrows pan, + and - zoom at the centre.
fn key_move(key: &str) -> Option<Box<dyn Fn(Viewport) -> Viewport>> {
    let step = 60.0;
    let centre = (W / 2.0, H / 2.0);
    match key {
        "ArrowLeft" => Some(Box::new(move |v: Viewport| v.pan(step, 0.0))),
        "ArrowRight" => Some(Box::new(move |v: Viewport| v.pan(-step, 0.0))),
        "ArrowUp" => Some(Box::new(move |v: Viewport| v.pan(0.0, step))),
        "ArrowDown" => Some(Box::new(move |v: Viewport| v.pan(0.0, -step))),
        "+" | "=" => Some(Box::new(move |v: Viewport| v.zoom_at(1.25, centre))),
        "-" => Some(Box::new(move |v: Viewport| v.zoom_at(0.8, centre))),
        _ => None,
    }
}

/// The loading line over the map: how many records have arrived so far.
#[component]
fn MapLoading() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    view! {
        <p class="map-loading" role="status" data-testid="map-loading">
            <span class="spinner" aria-hidden="true"></span>
            {move || {
                let n = sig.received.get();
                if n > 0 {
                    trf(lang.get(), "map.loading.received", &[("n", &n.to_string())])
                } else {
                    tr(lang.get(), "map.loading")
                }
            }}
        </p>
    }
}

#[component]
pub(crate) fn MapCanvas(
    data: MapData,
    measure_sel: RwSignal<Measure>,
    selected: RwSignal<Option<RecordId>>,
    show_reach: RwSignal<bool>,
    show_tiles: RwSignal<bool>,
) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let tile_layer = move || sig.tiles.get().filter(|_| show_tiles.get());
    let view_port = RwSignal::new(None::<Viewport>);
    let is_selected = leptos::reactive::computed::Selector::new(move || selected.get());
    let cells = StoredValue::new(BTreeMap::<RecordId, GridCell>::new());
    // None until the first known states: nothing flashes on the first paint.
    let previous = StoredValue::new(None::<BTreeMap<RecordId, GridState>>);
    fit_once(data, view_port);
    recolour(data, cells, previous);

    // Pointers down on the map, by id, in viewBox units: one drags, two pinch (touch).
    let pointers = StoredValue::new(BTreeMap::<i32, (f64, f64)>::new());
    let on_down = move |ev: leptos::ev::PointerEvent| {
        let p = svg_point(&ev);
        pointers.update_value(|m| {
            m.insert(ev.pointer_id(), p);
        });
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let id = ev.pointer_id();
        let p1 = svg_point(&ev);
        let Some((before, others)) = pointers.with_value(|m| {
            let before = *m.get(&id)?;
            let others: Vec<(f64, f64)> = m
                .iter()
                .filter(|(k, _)| **k != id)
                .map(|(_, v)| *v)
                .collect();
            Some((before, others))
        }) else {
            return;
        };
        pointers.update_value(|m| {
            m.insert(id, p1);
        });
        view_port.update(|v| {
            *v = v.map(|v| match others.first() {
                // The other finger stays where it is during this move.
                Some(&b) => v.pinch(before, b, p1, b),
                None => v.pan(p1.0 - before.0, p1.1 - before.1),
            });
        });
    };
    let on_up = move |ev: leptos::ev::PointerEvent| {
        pointers.update_value(|m| {
            m.remove(&ev.pointer_id());
        });
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let factor = if ev.delta_y() < 0.0 { 1.25 } else { 0.8 };
        let at = svg_point(&ev);
        view_port.update(|v| *v = v.map(|v| v.zoom_at(factor, at)));
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if let Some(f) = key_move(&ev.key()) {
            ev.prevent_default();
            view_port.update(|v| *v = v.map(&f));
        }
    };
    let loading = move || !data.known.get() || data.grids.with(Option::is_none);
    view! {
        <div class="map-frame" aria-busy=move || loading().to_string()>
            <svg class="map" class:tiled=move || tile_layer().is_some() data-testid="map" viewBox=format!("0 0 {W} {H}") tabindex="0" role="application"
                aria-label=move || tr(lang.get(), "map.aria")
                on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointercancel=on_up on:pointerleave=on_up
                on:wheel=on_wheel on:keydown=on_key>
                <g transform=move || view_port.get().map(|v| v.svg_transform()).unwrap_or_default()>
                    // The raster base layer, under everything; tiles are keyed so panning keeps
                    // the images already loaded.
                    <For
                        each=move || {
                            let Some(layer) = tile_layer() else { return Vec::new() };
                            view_port.get().map(|v| v.tiles()).unwrap_or_default().into_iter()
                                .map(|tile| (tile, tile.url(&layer.url))).collect::<Vec<_>>()
                        }
                        key=|(tile, _)| (tile.z, tile.x, tile.y)
                        children=|(tile, href)| view! {
                            <image href=href x=tile.world_x y=tile.world_y width=tile.world_size height=tile.world_size
                                preserveAspectRatio="none" class="tile" data-testid="tile"></image>
                        }
                    />
                    {move || {
                        let list = data.grids.get().unwrap_or_default();
                        previous.with_value(|prev| grid_layer(list, prev.as_ref(), cells, measure_sel, selected, is_selected.clone()))
                    }}
                    {area_layer(data)}
                    {centre_layer(data, view_port, show_reach)}
                    {label_layer(data, view_port)}
                </g>
                // After the drawing: the map's first group is the transformed one.
                <defs>
                    <pattern id="grid-loading" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect width="8" height="8" fill="#eceff1"></rect>
                        <line x1="0" y1="0" x2="0" y2="8" stroke="#b0bec5" stroke-width="3"></line>
                    </pattern>
                </defs>
            </svg>
            <Show when=loading>
                <MapLoading/>
            </Show>
            {move || tile_layer().filter(|l| !l.attribution.is_empty()).map(|l| view! {
                <span class="tile-attribution" data-testid="tile-attribution">{l.attribution}</span>
            })}
        </div>
    }
}
