//! The managers' live map (一张图).

use super::browser::download;
use super::context::{ctx, live_records, t, Ctx};
use super::format::now_ms;
use crate::i18n::{tr, trf};
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use tongxin_shared::{Collection, RecordId};

/// The map's drawing size in SVG pixels (it scales to the screen's width).
pub(super) const W: f64 = 640.0;
pub(super) const H: f64 = 520.0;

/// The managers' live map (一张图): every grid in the user's area drawn from its boundary,
/// coloured by a chosen measure, recolouring as pulls land (each live poke triggers one), with a
/// brief highlight on the grids that changed. Pan by dragging or the arrow keys, zoom with the
/// wheel or +/-; select a grid for its figures.
#[component]
pub(super) fn MapView() -> impl IntoView {
    use tongxin_map::colour::Measure;
    use tongxin_map::{Shape, Viewport};
    let Ctx { lang, sig, .. } = ctx();
    // Shapes change only with the grids; states with every case and visit.
    let shapes = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let Some(c) = client() else { return Vec::new() };
            let grids = c.store.list(Collection::Grids).await.unwrap_or_default();
            grids
                .iter()
                .filter(|r| !r.is_deleted())
                .filter_map(|r| {
                    let mp = tongxin_shared::geo::polygon_from_geojson(r.get("boundary")?).ok()?;
                    let shape: Shape = tongxin_map::shape(&mp)?;
                    Some((r.id, r.str("name").unwrap_or_default().to_owned(), shape))
                })
                .collect::<Vec<_>>()
        }
    });
    // Each grid's community (for the panel's activities).
    let grid_community = RwSignal::new(BTreeMap::<RecordId, String>::new());
    Effect::new(move |_| {
        sig.places_version.get();
        spawn_local(async move {
            let map = live_records(Collection::Grids)
                .await
                .iter()
                .filter_map(|g| Some((g.id, g.str("community")?.to_owned())))
                .collect();
            grid_community.set(map);
        });
    });
    // Subdistrict and community outlines with their names, drawn over the grids.
    let areas = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let mut out = Vec::new();
            for (coll, level) in [
                (Collection::Subdistricts, "subdistrict"),
                (Collection::Communities, "community"),
            ] {
                for r in live_records(coll).await {
                    let Some(shape) = r
                        .get("boundary")
                        .and_then(|b| tongxin_shared::geo::polygon_from_geojson(b).ok())
                        .and_then(|mp| tongxin_map::shape(&mp))
                    else {
                        continue;
                    };
                    out.push((level, r.str("name").unwrap_or_default().to_owned(), shape));
                }
            }
            out
        }
    });
    // The grid states, kept record by record: the first read folds every case and visit on the
    // device; after that a pull's changed records are read one by one (a city manager's device
    // holds months of history, and a live push changes one or two records).
    let index = StoredValue::new(tongxin_shared::figures::GridStateIndex::default());
    let indexed_version = StoredValue::new(None::<u64>);
    let started = StoredValue::new(0u64);
    let states = LocalResource::new(move || {
        let version = sig.version.get();
        started.set_value(version);
        async move {
            let Some(c) = client() else {
                return BTreeMap::new();
            };
            mark("tongxin:grid-states:start");
            let known = sig.changes.with_value(|ch| {
                (ch.version == version && indexed_version.get_value() == Some(version - 1))
                    .then(|| ch.records.clone())
                    .flatten()
            });
            // Read first, then apply at once, and only if no newer read began meanwhile (it
            // re-reads everything, and a slower older read must not overwrite it).
            if let Some(records) = known {
                let mut read = Vec::new();
                for (coll, id) in records {
                    if matches!(coll, Collection::Cases | Collection::Visits) {
                        if let Ok(r) = c.store.get(coll, id).await {
                            read.push((coll, id, r));
                        }
                    }
                }
                if started.get_value() == version {
                    index.update_value(|ix| {
                        for (coll, id, r) in &read {
                            match r {
                                Some(r) => ix.upsert(r),
                                None => ix.remove(*coll, *id),
                            };
                        }
                    });
                    indexed_version.set_value(Some(version));
                }
            } else {
                let mut all = c.store.list(Collection::Cases).await.unwrap_or_default();
                all.extend(c.store.list(Collection::Visits).await.unwrap_or_default());
                if started.get_value() == version {
                    index.set_value(tongxin_shared::figures::GridStateIndex::from_records(&all));
                    indexed_version.set_value(Some(version));
                }
            }
            let out = index.with_value(|ix| ix.states(now_ms()));
            measure("tongxin:grid-states", "tongxin:grid-states:start");
            out
        }
    });
    // One state signal and one highlight signal per grid path: a live change sets only the
    // signals of the grids that changed, so only their attributes update (not 1,200 paths).
    let cells = StoredValue::new(BTreeMap::<RecordId, GridCell>::new());
    // The service network (1+5+44): centres as points; with the toggle, each community centre's
    // 15-minute reach (1.2 km straight line) and the grids whose centroid lies beyond all of them.
    let centres = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            live_records(Collection::ServiceCentres)
                .await
                .iter()
                .filter_map(|r| {
                    let p = r.get("position")?.as_array()?;
                    let (lon, lat) = (p.first()?.as_f64()?, p.get(1)?.as_f64()?);
                    Some((
                        r.str("name").unwrap_or_default().to_owned(),
                        r.str("level").unwrap_or("community").to_owned(),
                        lon,
                        lat,
                    ))
                })
                .collect::<Vec<_>>()
        }
    });
    let show_reach = RwSignal::new(false);
    // The optional raster base layer (`--tile-url` on the server), on by default when configured.
    let show_tiles = RwSignal::new(true);
    let tile_layer = move || sig.tiles.get().filter(|_| show_tiles.get());
    let outside = LocalResource::new(move || {
        sig.places_version.get();
        async move {
            let grids = live_records(Collection::Grids).await;
            let community_centres: Vec<(f64, f64)> = live_records(Collection::ServiceCentres)
                .await
                .iter()
                .filter(|r| r.str("level") == Some("community"))
                .filter_map(|r| {
                    let p = r.get("position")?.as_array()?;
                    Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
                })
                .collect();
            let names: BTreeMap<RecordId, String> = grids
                .iter()
                .map(|g| (g.id, g.str("name").unwrap_or_default().to_owned()))
                .collect();
            let mut out = tongxin_shared::service::grids_outside_reach(
                grids
                    .iter()
                    .filter_map(|g| Some((g.id, g.get("boundary")?))),
                &community_centres,
            )
            .into_iter()
            .map(|(id, m)| (id, names.get(&id).cloned().unwrap_or_default(), m))
            .collect::<Vec<_>>();
            // Farthest first: where a new centre would help most.
            out.sort_by(|a, b| b.2.total_cmp(&a.2));
            out
        }
    });
    let measure_sel = RwSignal::new(Measure::OpenCases);
    let view_port = RwSignal::new(None::<Viewport>);
    let selected = RwSignal::new(None::<RecordId>);
    let is_selected = leptos::reactive::computed::Selector::new(move || selected.get());
    // None until the first states are computed: nothing flashes on the first paint.
    let previous = StoredValue::new(None::<BTreeMap<RecordId, tongxin_shared::figures::GridState>>);
    // Fit the whole area once the shapes are known.
    Effect::new(move |_| {
        if view_port.get_untracked().is_some() {
            return;
        }
        if let Some(list) = shapes.get() {
            let mut min = (f64::MAX, f64::MAX);
            let mut max = (f64::MIN, f64::MIN);
            for (_, _, s) in &list {
                min = (min.0.min(s.min.0), min.1.min(s.min.1));
                max = (max.0.max(s.max.0), max.1.max(s.max.1));
            }
            if !list.is_empty() {
                view_port.set(Some(Viewport::fit(min, max, W, H, 12.0)));
            }
        }
    });
    // Apply new states: set the changed grids' signals and highlight them for 1.5 s (not on
    // the first paint).
    Effect::new(move |_| {
        let Some(now) = states.get() else { return };
        let first = previous.with_value(Option::is_none);
        // Recolour: from the new states to the DOM updated, measured up to the next frame.
        mark("tongxin:recolour:start");
        let changed: Vec<GridCell> = cells.with_value(|cells| {
            cells
                .iter()
                .filter_map(|(id, cell)| {
                    let new = now.get(id).cloned().unwrap_or_default();
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
        let step = 60.0;
        let centre = (W / 2.0, H / 2.0);
        let f: Option<Box<dyn Fn(Viewport) -> Viewport>> = match ev.key().as_str() {
            "ArrowLeft" => Some(Box::new(move |v: Viewport| v.pan(step, 0.0))),
            "ArrowRight" => Some(Box::new(move |v: Viewport| v.pan(-step, 0.0))),
            "ArrowUp" => Some(Box::new(move |v: Viewport| v.pan(0.0, step))),
            "ArrowDown" => Some(Box::new(move |v: Viewport| v.pan(0.0, -step))),
            "+" | "=" => Some(Box::new(move |v: Viewport| v.zoom_at(1.25, centre))),
            "-" => Some(Box::new(move |v: Viewport| v.zoom_at(0.8, centre))),
            _ => None,
        };
        if let Some(f) = f {
            ev.prevent_default();
            view_port.update(|v| *v = v.map(&f));
        }
    };
    let live = move || sig.online.get() && !sig.signed_out.get();
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
                <button type="button" data-testid="export-geojson" on:click=move |_| {
                    spawn_local(async move {
                        let text = grids_geojson(&states.get_untracked().unwrap_or_default()).await;
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
            <div class="map-frame">
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
                        let list = shapes.get().unwrap_or_default();
                        // Fresh signals for this set of paths, starting from the latest states.
                        let fresh: BTreeMap<RecordId, GridCell> = previous.with_value(|prev| {
                            list.iter().map(|(id, _, _)| {
                                let state = prev.as_ref().and_then(|p| p.get(id).cloned()).unwrap_or_default();
                                (*id, GridCell { state: RwSignal::new(state), flash: RwSignal::new(false) })
                            }).collect()
                        });
                        cells.set_value(fresh.clone());
                        list.into_iter().map(|(id, name, shape)| {
                            let cell = fresh[&id];
                            let colour = move || cell.state.with(|s| measure_sel.get().colour(s, now_ms()));
                            let value = move || cell.state.with(|s| measure_sel.get().value(s, now_ms())).to_string();
                            let is_selected = is_selected.clone();
                            let class = move || match (cell.flash.get(), is_selected.selected(&Some(id))) {
                                (true, true) => "grid flash selected",
                                (true, false) => "grid flash",
                                (false, true) => "grid selected",
                                (false, false) => "grid",
                            };
                            view! {
                                <path d=shape.path class=class fill=colour data-testid="grid-shape" data-id=id.to_string()
                                    data-value=value data-colour=colour
                                    on:click=move |_| selected.set(Some(id))>
                                    <title>{name}</title>
                                </path>
                            }
                        }).collect_view()
                    }}
                    {move || {
                        let vp = view_port.get();
                        let scale = vp.map_or(1.0, |v| v.scale);
                        areas.get().unwrap_or_default().into_iter().map(|(level, name, shape)| {
                            // Subdistrict names always; community names once their area is wide
                            // enough on screen to hold one.
                            let labelled = level == "subdistrict"
                                || vp.is_some_and(|v| v.fits_label(shape.min, shape.max, 90.0));
                            let px = if level == "subdistrict" { 15.0 } else { 12.0 };
                            let (x, y) = shape.label_at;
                            view! {
                                <g data-testid="area" data-level=level>
                                    <path d=shape.path class=format!("area area-{level}")></path>
                                    {labelled.then(|| view! {
                                        <text class=format!("area-label area-label-{level}") x=x y=y
                                            font-size=px / scale stroke-width=3.0 / scale data-testid="area-label">{name}</text>
                                    })}
                                </g>
                            }
                        }).collect_view()
                    }}
                    {move || centres.get().unwrap_or_default().into_iter().map(|(name, level, lon, lat)| {
                        let (x, y) = tongxin_map::project(lon, lat);
                        // World units per metre at this latitude (Web Mercator).
                        let per_metre = tongxin_map::WORLD / (40_075_016.686 * lat.to_radians().cos());
                        let reach = tongxin_shared::service::WALK_15_MIN_METRES * per_metre;
                        let dot = 3.0 / view_port.get().map_or(1.0, |v| v.scale);
                        let show = show_reach.get() && level == "community";
                        view! {
                            <g data-testid="centre" data-level=level.clone()>
                                {show.then(|| view! { <circle class="reach" cx=x cy=y r=reach></circle> })}
                                <circle class=format!("centre centre-{level}") cx=x cy=y r=dot><title>{name}</title></circle>
                            </g>
                        }
                    }).collect_view()}
                </g>
            </svg>
            {move || tile_layer().filter(|l| !l.attribution.is_empty()).map(|l| view! {
                <span class="tile-attribution" data-testid="tile-attribution">{l.attribution}</span>
            })}
            </div>
            <Show when=move || show_reach.get()>
                <div class="card" data-testid="outside-reach">
                    <p>{t("map.reach_note")}</p>
                    {move || outside.get().map(|list| {
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
            </Show>
            <ul class="legend" data-testid="legend">
                {move || {
                    let m = measure_sel.get();
                    let legend = m.legend();
                    let mut lo = 0u32;
                    legend.iter().map(|(hi, colour)| {
                        let label = match hi {
                            Some(h) if *h == lo => h.to_string(),
                            Some(h) => format!("{lo}–{h}"),
                            None => format!("{lo}+"),
                        };
                        lo = hi.map_or(lo, |h| h + 1);
                        view! { <li><span class="swatch" style=format!("background:{colour}")></span>{label}</li> }
                    }).collect_view()
                }}
            </ul>
            {move || selected.get().and_then(|id| {
                let name = shapes.get()?.into_iter().find(|(g, _, _)| *g == id)?.1;
                let community = grid_community.with(|m| m.get(&id).cloned());
                Some(view! { <super::grid_panel::GridPanel grid=id name=name community=community/> })
            })}
        </section>
    }
}

/// A grid path's reactive state on the map: its figures and whether it is highlighted.
#[derive(Clone, Copy)]
pub(super) struct GridCell {
    state: RwSignal<tongxin_shared::figures::GridState>,
    flash: RwSignal<bool>,
}

/// A pointer's position in the map's viewBox units (the SVG is scaled to the screen's width).
pub(super) fn svg_point(ev: &web_sys::MouseEvent) -> (f64, f64) {
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

/// A User Timing mark (read by `cargo xtask bench map`; shows in the browser's profiler).
pub(super) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// A User Timing measure from the mark `start` to now.
pub(super) fn measure(name: &str, start: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.measure_with_start_mark(name, start);
    }
}

/// Runs `f` at the next animation frame, after the pending DOM updates.
pub(super) fn after_frame(f: impl FnOnce() + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

/// The grids on the device as a GeoJSON FeatureCollection (WGS-84), each with its code, name,
/// community and current state (open and overdue cases, last visit).
pub(super) async fn grids_geojson(
    states: &BTreeMap<RecordId, tongxin_shared::figures::GridState>,
) -> String {
    let features: Vec<serde_json::Value> = live_records(Collection::Grids)
        .await
        .iter()
        .filter_map(|g| {
            let s = states.get(&g.id).cloned().unwrap_or_default();
            Some(serde_json::json!({
                "type": "Feature",
                "id": g.id.to_string(),
                "geometry": g.get("boundary")?.clone(),
                "properties": {
                    "code": g.str("code"),
                    "name": g.str("name"),
                    "community": g.str("community"),
                    "open_cases": s.open,
                    "overdue_cases": s.overdue,
                    "last_visit_ms": s.last_visit_ms,
                },
            }))
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}
