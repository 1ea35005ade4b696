//! What the map draws, layer by layer, in world units inside the viewport's transformed group:
//! the grids coloured by the measure (or hatched while their states are unknown), the subdistrict
//! and community outlines, the service centres with their reach, and the names, placed so that
//! none collides with another.

use super::data::{GridPlace, MapData};
use crate::ui::format::now_ms;
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_map::colour::Measure;
use tongxin_map::labels::{place_labels, text_size, LabelBox};
use tongxin_map::Viewport;
use tongxin_shared::figures::GridState;
use tongxin_shared::RecordId;

/// A grid path's reactive state: its figures (`None` while unknown) and whether it is
/// highlighted after a change.
#[derive(Clone, Copy)]
pub(crate) struct GridCell {
    pub state: RwSignal<Option<GridState>>,
    pub flash: RwSignal<bool>,
}

/// The fill of a grid whose state is not known yet (a hatch, defined in the map's `<defs>`).
pub(crate) const LOADING_FILL: &str = "url(#grid-loading)";

/// The grid paths, one state signal per path: a live change updates only the grids it touched.
pub(crate) fn grid_layer(
    list: Vec<GridPlace>,
    previous: Option<&BTreeMap<RecordId, GridState>>,
    cells: StoredValue<BTreeMap<RecordId, GridCell>>,
    measure: RwSignal<Measure>,
    selected: RwSignal<Option<RecordId>>,
    is_selected: leptos::reactive::computed::Selector<Option<RecordId>>,
) -> impl IntoView {
    // Fresh signals for this set of paths, starting from the latest known states.
    let fresh: BTreeMap<RecordId, GridCell> = list
        .iter()
        .map(|g| {
            let state = previous.map(|p| p.get(&g.id).cloned().unwrap_or_default());
            (
                g.id,
                GridCell {
                    state: RwSignal::new(state),
                    flash: RwSignal::new(false),
                },
            )
        })
        .collect();
    cells.set_value(fresh.clone());
    list.into_iter()
        .map(|g| {
            let id = g.id;
            let cell = fresh[&id];
            let colour = move || {
                cell.state.with(|s| {
                    s.as_ref()
                        .map_or(LOADING_FILL, |s| measure.get().colour(s, now_ms()))
                })
            };
            let data_colour = move || {
                cell.state.with(|s| {
                    s.as_ref()
                        .map_or("loading", |s| measure.get().colour(s, now_ms()))
                })
            };
            let value = move || {
                cell.state.with(|s| {
                    s.as_ref()
                        .map(|s| measure.get().value(s, now_ms()).to_string())
                })
            };
            let is_selected = is_selected.clone();
            let class = move || {
                let mut c = String::from("grid");
                if cell.state.with(Option::is_none) {
                    c.push_str(" loading");
                }
                if cell.flash.get() {
                    c.push_str(" flash");
                }
                if is_selected.selected(&Some(id)) {
                    c.push_str(" selected");
                }
                c
            };
            let title = if g.community_name.is_empty() {
                g.name
            } else {
                format!("{} · {}", g.community_name, g.name)
            };
            view! {
                <path d=g.shape.path class=class fill=colour data-testid="grid-shape" data-id=id.to_string()
                    data-value=value data-colour=data_colour
                    on:click=move |_| selected.set(Some(id))>
                    <title>{title}</title>
                </path>
            }
        })
        .collect_view()
}

/// Subdistrict and community outlines (their names are in the label layer).
pub(crate) fn area_layer(data: MapData) -> impl IntoView {
    move || {
        data.areas.get().unwrap_or_default().into_iter().map(|a| {
            view! {
                <path d=a.shape.path class=format!("area area-{}", a.level) data-testid="area" data-level=a.level></path>
            }
        }).collect_view()
    }
}

/// The service centres (dots by level) and, when asked, each community centre's 15-minute
/// reach (1.2 km straight line).
pub(crate) fn centre_layer(
    data: MapData,
    view_port: RwSignal<Option<Viewport>>,
    show_reach: RwSignal<bool>,
) -> impl IntoView {
    move || {
        let scale = view_port.get().map_or(1.0, |v| v.scale);
        data.centres.get().unwrap_or_default().into_iter().map(|c| {
            let (x, y) = tongxin_map::project(c.lon, c.lat);
            // World units per metre at this latitude (Web Mercator).
            let per_metre = tongxin_map::WORLD / (40_075_016.686 * c.lat.to_radians().cos());
            let reach = tongxin_shared::service::WALK_15_MIN_METRES * per_metre;
            let dot = match c.level.as_str() {
                "city" => 6.0,
                "subdistrict" => 4.5,
                _ => 3.5,
            } / scale;
            let show = show_reach.get() && c.level == "community";
            view! {
                <g data-testid="centre" data-level=c.level.clone()>
                    {show.then(|| view! { <circle class="reach" cx=x cy=y r=reach></circle> })}
                    <circle class=format!("centre centre-{}", c.level) cx=x cy=y r=dot><title>{c.name}</title></circle>
                </g>
            }
        }).collect_view()
    }
}

/// One name to draw: text, CSS class, font size (px) and priority (lower is placed first).
struct Name {
    text: String,
    class: &'static str,
    kind: &'static str,
    px: f64,
    priority: u8,
    at: (f64, f64),
}

/// How many of the map's viewBox units make one CSS pixel on this screen (about 2 on a phone,
/// where the 640-unit map is drawn ~310 px wide): names are sized so they read the same on
/// every screen, and placed by the room they really take.
fn units_per_css_px() -> f64 {
    let width = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[data-testid=map]").ok().flatten())
        .map_or(0.0, |el| el.get_bounding_client_rect().width());
    if width > 0.0 {
        (super::W / width).clamp(1.0, 3.0)
    } else {
        1.0
    }
}

/// From this zoom on, community centres are named too (below it their dots are close together).
const CENTRE_NAMES_ZOOM: f64 = 14.0;

/// Every name on screen, placed without collisions: subdistrict names first, then the city and
/// subdistrict service centres, community names (once the community is wide enough on screen to
/// hold one), and community service centres when zoomed in. A name that finds no free spot near
/// its place is left out until zooming makes room.
pub(crate) fn label_layer(data: MapData, view_port: RwSignal<Option<Viewport>>) -> impl IntoView {
    move || {
        let Some(vp) = view_port.get() else {
            return Vec::new();
        };
        let unit = units_per_css_px();
        let on_screen = |p: (f64, f64)| {
            p.0 >= -40.0 && p.0 <= vp.width + 40.0 && p.1 >= -20.0 && p.1 <= vp.height + 20.0
        };
        let mut names: Vec<Name> = Vec::new();
        data.areas.with(|areas| {
            for a in areas.iter().flatten() {
                let sub = a.level == "subdistrict";
                if !sub && !vp.fits_label(a.shape.min, a.shape.max, 90.0 * unit) {
                    continue;
                }
                let at = vp.to_screen(a.shape.label_at);
                if on_screen(at) {
                    names.push(Name {
                        text: a.name.clone(),
                        class: if sub {
                            "area-label area-label-subdistrict"
                        } else {
                            "area-label area-label-community"
                        },
                        kind: if sub { "subdistrict" } else { "community" },
                        px: if sub { 15.0 } else { 12.0 } * unit,
                        priority: if sub { 0 } else { 2 },
                        at,
                    });
                }
            }
        });
        data.centres.with(|centres| {
            for c in centres.iter().flatten() {
                let community = c.level == "community";
                if community && vp.zoom() < CENTRE_NAMES_ZOOM {
                    continue;
                }
                let (x, y) = vp.to_screen(tongxin_map::project(c.lon, c.lat));
                // Under the dot.
                let at = (x, y + 12.0 * unit);
                if on_screen(at) {
                    names.push(Name {
                        text: c.name.clone(),
                        class: "centre-label",
                        kind: "centre",
                        px: 11.0 * unit,
                        priority: if community { 3 } else { 1 },
                        at,
                    });
                }
            }
        });
        let boxes: Vec<LabelBox> = names
            .iter()
            .map(|n| LabelBox {
                at: n.at,
                size: text_size(&n.text, n.px),
                priority: n.priority,
            })
            .collect();
        let placed = place_labels(&boxes);
        names
            .into_iter()
            .zip(placed)
            .filter_map(|(n, p)| {
                let (x, y) = vp.to_world(p?);
                Some(view! {
                    <text class=n.class x=x y=y font-size=n.px / vp.scale stroke-width=3.0 / vp.scale
                        data-testid="map-label" data-kind=n.kind>{n.text}</text>
                })
            })
            .collect::<Vec<_>>()
    }
}
