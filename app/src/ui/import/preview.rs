//! The clean plan of a check (`ImportPreview`): how many grids are new or replaced, their
//! shapes drawn, a table of them, and the apply step (`ImportApply`).

use super::apply::ImportApply;
use super::state::ImportState;
use crate::i18n::{tr, trf};
use crate::ui::context::{ctx, t, Ctx};
use leptos::prelude::*;
use tongxin_map::{Shape, Viewport};
use tongxin_shared::geoimport::{ImportAction, PlannedGrid};

/// Preview drawing size (CSS scales it to the screen's width).
const PW: f64 = 360.0;
const PH: f64 = 240.0;

/// World shapes of the planned grids and a viewport fitting them all.
fn preview_shapes(grids: &[PlannedGrid]) -> (Vec<(String, ImportAction, Shape)>, Option<Viewport>) {
    let shapes: Vec<_> = grids
        .iter()
        .filter_map(|g| {
            let mp = tongxin_shared::geo::polygon_from_geojson(&g.boundary).ok()?;
            Some((g.code.clone(), g.action, tongxin_map::shape(&mp)?))
        })
        .collect();
    let mut min = (f64::MAX, f64::MAX);
    let mut max = (f64::MIN, f64::MIN);
    for (_, _, s) in &shapes {
        min = (min.0.min(s.min.0), min.1.min(s.min.1));
        max = (max.0.max(s.max.0), max.1.max(s.max.1));
    }
    let fit = (!shapes.is_empty()).then(|| Viewport::fit(min, max, PW, PH, 8.0));
    (shapes, fit)
}

/// The plan, while there is one (the first 200 grids in the table).
#[component]
pub(super) fn ImportPreview(state: ImportState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    move || {
        state.plan.get().map(|grids| {
        let new = grids.iter().filter(|g| g.action == ImportAction::New).count();
        let updated = grids.len() - new;
        let (shapes, fit) = preview_shapes(&grids);
        let transform = fit.map(|v| v.svg_transform()).unwrap_or_default();
        view! {
            <div data-testid="import-preview" data-new=new.to_string() data-updated=updated.to_string()>
                <p role="status">{move || trf(lang.get(), "import.plan", &[("new", &new.to_string()), ("updated", &updated.to_string())])}</p>
                <svg class="map preview" viewBox=format!("0 0 {PW} {PH}") role="img" aria-label=move || tr(lang.get(), "import.preview")>
                    <g transform=transform>
                        {shapes.into_iter().map(|(code, action, s)| view! {
                            <path d=s.path class=if action == ImportAction::New { "grid import-new" } else { "grid import-update" }>
                                <title>{code}</title>
                            </path>
                        }).collect_view()}
                    </g>
                </svg>
                <table class="table">
                    <thead><tr><th>{t("import.col.code")}</th><th>{t("import.col.name")}</th><th>{t("import.col.community")}</th><th>{t("import.col.action")}</th></tr></thead>
                    <tbody>
                        {grids.into_iter().take(200).map(|g| view! {
                            <tr data-testid="import-row">
                                <td>{g.code}</td><td>{g.name}</td><td>{g.community_code}</td>
                                <td>{move || tr(lang.get(), if g.action == ImportAction::New { "import.action.new" } else { "import.action.update" })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <ImportApply state=state/>
            </div>
        }
    })
    }
}
