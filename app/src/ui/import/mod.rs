//! The admin's GeoJSON import of grids: choose a file, say its coordinate system and which
//! properties hold code, name and community, check it (the server answers the plan or every
//! problem with its feature, numbered from 1), look at the preview — with its warnings (a grid
//! kilometres outside its community), which must be accepted — then apply. Nothing is written
//! until a clean check of exactly this file and these options is applied.

use super::admin::token;
use super::context::{ctx, t, Ctx};
use crate::api::{self, ApiError};
use crate::i18n::{tr, trf, Lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_map::{Shape, Viewport};
use tongxin_shared::geoimport::{
    Crs, GridImportRequest, ImportAction, PlannedGrid, Problem, PropertyMap,
};

/// Preview drawing size (CSS scales it to the screen's width).
const PW: f64 = 360.0;
const PH: f64 = 240.0;

/// Reads a chosen file as text.
async fn file_text(file: web_sys::File) -> Result<String, String> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|e| format!("{e:?}"))?;
    text.as_string()
        .ok_or_else(|| "the file is not text".into())
}

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

#[component]
// reason: not split yet (issue 13): the grid import's file, mapping, preview and apply steps share their signals
#[allow(clippy::too_many_lines)]
pub(super) fn GridImport() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let text = RwSignal::new(None::<(String, String)>); // (file name, contents)
    let crs = RwSignal::new(Crs::Wgs84);
    let code_prop = RwSignal::new(PropertyMap::default().code);
    let name_prop = RwSignal::new(PropertyMap::default().name);
    let community_prop = RwSignal::new(PropertyMap::default().community);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<Problem>::new());
    // The clean plan of the current file and options; cleared by any change.
    let plan = RwSignal::new(None::<Vec<PlannedGrid>>);
    let applied = RwSignal::new(None::<usize>);
    // The plan's warnings, and whether the admin accepts them.
    let warnings = RwSignal::new(Vec::<Problem>::new());
    let accepted = RwSignal::new(false);
    let reset = move || {
        error.set(None);
        problems.set(Vec::new());
        plan.set(None);
        applied.set(None);
        warnings.set(Vec::new());
        accepted.set(false);
    };
    let request = move |apply: bool| -> Option<GridImportRequest> {
        let (_, geojson) = text.get_untracked()?;
        Some(GridImportRequest {
            geojson,
            crs: crs.get_untracked(),
            properties: PropertyMap {
                code: code_prop.get_untracked().trim().to_owned(),
                name: name_prop.get_untracked().trim().to_owned(),
                community: community_prop.get_untracked().trim().to_owned(),
            },
            apply,
            accept_warnings: apply && accepted.get_untracked(),
        })
    };
    let send = move |apply: bool| {
        let l = lang.get_untracked();
        let Some(req) = request(apply) else {
            error.set(Some(tr(l, "import.error.no_file")));
            return;
        };
        let keep_plan = plan.get_untracked();
        let keep_warnings = (warnings.get_untracked(), accepted.get_untracked());
        reset();
        busy.set(true);
        spawn_local(async move {
            let answer = match token() {
                Ok(t) => api::import_grids(&t, &req).await,
                Err(e) => Err(ApiError::Network(e)),
            };
            match answer {
                Ok(report) => {
                    if !report.problems.is_empty() {
                        problems.set(report.problems);
                    } else if report.applied {
                        applied.set(Some(report.grids.len()));
                    } else {
                        warnings.set(report.warnings);
                        plan.set(Some(report.grids));
                    }
                }
                Err(ApiError::Network(e)) => {
                    if apply {
                        plan.set(keep_plan);
                        warnings.set(keep_warnings.0);
                        accepted.set(keep_warnings.1);
                    }
                    error.set(Some(trf(l, "import.error.network", &[("e", &e)])));
                }
                Err(e) => {
                    if apply {
                        plan.set(keep_plan);
                        warnings.set(keep_warnings.0);
                        accepted.set(keep_warnings.1);
                    }
                    error.set(Some(e.to_string()));
                }
            }
            busy.set(false);
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        reset();
        text.set(None);
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        spawn_local(async move {
            match file_text(file).await {
                Ok(s) => text.set(Some((name, s))),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let prop_input = move |label: &'static str, name: &'static str, sig: RwSignal<String>| {
        view! {
            <label><span>{t(label)}</span>
                <input name=name type="text" required prop:value=move || sig.get()
                    on:input=move |ev| { sig.set(event_target_value(&ev)); reset(); }/></label>
        }
    };
    view! {
        <section class="card" data-testid="grid-import">
            <h2>{t("import.title")}</h2>
            <p class="muted small">{t("import.hint")}</p>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); send(false); }>
                <label><span>{t("import.file")}</span>
                    <input name="geojson" type="file" accept=".geojson,.json,application/geo+json,application/json"
                        data-testid="import-file" on:change=on_file/></label>
                <label><span>{t("import.crs")}</span>
                    <select name="crs" on:change=move |ev| {
                        if let Some(c) = Crs::parse(&event_target_value(&ev)) { crs.set(c); }
                        reset();
                    }>
                        <option value="wgs84">{t("import.crs.wgs84")}</option>
                        <option value="gcj02">{t("import.crs.gcj02")}</option>
                        <option value="bd09">{t("import.crs.bd09")}</option>
                    </select></label>
                {prop_input("import.prop.code", "prop_code", code_prop)}
                {prop_input("import.prop.name", "prop_name", name_prop)}
                {prop_input("import.prop.community", "prop_community", community_prop)}
                {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-testid="import-error">{m}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get() || text.with(Option::is_none)
                    data-testid="import-check">{t("import.check")}</button>
            </form>
            <Show when=move || problems.with(|p| !p.is_empty())>
                <div role="alert" data-testid="import-problems">
                    <p class="field-error">{move || trf(lang.get(), "import.problems", &[("n", &problems.with(Vec::len).to_string())])}</p>
                    <ul class="list compact">
                        {move || problems.get().into_iter().map(|p| {
                            let feature = p.index.map(|i| (i + 1).to_string()).unwrap_or_default();
                            view! {
                                <li data-testid="import-problem" data-feature=feature>
                                    {move || problem_line(lang.get(), &p)}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
            {move || plan.get().map(|grids| {
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
                        <Warnings warnings=warnings accepted=accepted/>
                        <button type="button" class="primary" data-testid="import-apply"
                            disabled=move || busy.get() || (warnings.with(|w| !w.is_empty()) && !accepted.get())
                            on:click=move |_| send(true)>{t("import.apply")}</button>
                    </div>
                }
            })}
            {move || applied.get().map(|n| view! {
                <p class="ok" role="status" data-testid="import-applied" data-n=n.to_string()>
                    {move || trf(lang.get(), "import.applied", &[("n", &n.to_string())])}
                </p>
            })}
        </section>
    }
}

/// The plan's warnings (a grid far outside its community), and the box that accepts them.
#[component]
fn Warnings(warnings: RwSignal<Vec<Problem>>, accepted: RwSignal<bool>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <Show when=move || warnings.with(|w| !w.is_empty())>
            <div class="warn" role="alert" data-testid="import-warnings">
                <p>{move || trf(lang.get(), "import.warnings", &[("n", &warnings.with(Vec::len).to_string())])}</p>
                <ul class="list compact">
                    {move || warnings.get().into_iter().map(|w| {
                        let feature = w.index.map(|i| (i + 1).to_string()).unwrap_or_default();
                        let km = w.args.get("km").cloned().unwrap_or_default();
                        view! { <li data-testid="import-warning" data-feature=feature data-km=km>{move || problem_line(lang.get(), &w)}</li> }
                    }).collect_view()}
                </ul>
                <label class="check"><input type="checkbox" name="accept_warnings" data-testid="import-accept"
                    prop:checked=move || accepted.get() on:change=move |ev| accepted.set(event_target_checked(&ev))/>
                    <span>{t("import.accept_warnings")}</span></label>
            </div>
        </Show>
    }
}

/// A problem or warning with its feature, counted from 1 ("第 2 个要素：…").
fn problem_line(lang: Lang, p: &Problem) -> String {
    let m = problem_text(lang, p);
    match p.index {
        Some(i) => trf(
            lang,
            "import.problem.at",
            &[("i", &(i + 1).to_string()), ("m", &m)],
        ),
        None => m,
    }
}

/// A problem in the user's language (`import.why.<code>`), or the server's English text for a
/// code this app does not know (a newer server).
fn problem_text(lang: Lang, p: &Problem) -> String {
    let key = format!("import.why.{}", p.code);
    let template = tr(lang, &key);
    if p.code.is_empty() || template == key {
        return p.message.clone();
    }
    tongxin_shared::problem_text::fill(&template, &p.args)
}
