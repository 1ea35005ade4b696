//! What the grid import's steps share (`ImportState`: the file, its options, and the server's
//! last answer), and the one request they make (`send_import`: check, or apply).

use crate::api::{self, ApiError};
use crate::i18n::{tr, trf, Lang};
use crate::ui::admin::token;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::geoimport::{Crs, GridImportRequest, PlannedGrid, Problem, PropertyMap};

/// The import's signals, handed to each step (a `Copy` of signals).
#[derive(Clone, Copy)]
pub(super) struct ImportState {
    /// The chosen file: (name, contents).
    pub(super) text: RwSignal<Option<(String, String)>>,
    pub(super) crs: RwSignal<Crs>,
    pub(super) code_prop: RwSignal<String>,
    pub(super) name_prop: RwSignal<String>,
    pub(super) community_prop: RwSignal<String>,
    /// A request is under way.
    pub(super) busy: RwSignal<bool>,
    pub(super) error: RwSignal<Option<String>>,
    pub(super) problems: RwSignal<Vec<Problem>>,
    /// The clean plan of the current file and options; cleared by any change.
    pub(super) plan: RwSignal<Option<Vec<PlannedGrid>>>,
    /// How many grids the apply wrote.
    pub(super) applied: RwSignal<Option<usize>>,
    /// The plan's warnings, and whether the admin accepts them.
    pub(super) warnings: RwSignal<Vec<Problem>>,
    pub(super) accepted: RwSignal<bool>,
}

impl ImportState {
    /// No file yet, the default property names, WGS84.
    pub(super) fn new() -> Self {
        let props = PropertyMap::default();
        Self {
            text: RwSignal::new(None),
            crs: RwSignal::new(Crs::Wgs84),
            code_prop: RwSignal::new(props.code),
            name_prop: RwSignal::new(props.name),
            community_prop: RwSignal::new(props.community),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            problems: RwSignal::new(Vec::new()),
            plan: RwSignal::new(None),
            applied: RwSignal::new(None),
            warnings: RwSignal::new(Vec::new()),
            accepted: RwSignal::new(false),
        }
    }

    /// Forgets the server's last answer (the file or an option changed, or a request starts).
    pub(super) fn reset(self) {
        self.error.set(None);
        self.problems.set(Vec::new());
        self.plan.set(None);
        self.applied.set(None);
        self.warnings.set(Vec::new());
        self.accepted.set(false);
    }

    /// The request for the chosen file and options (None without a file).
    fn request(self, apply: bool) -> Option<GridImportRequest> {
        let (_, geojson) = self.text.get_untracked()?;
        Some(GridImportRequest {
            geojson,
            crs: self.crs.get_untracked(),
            properties: PropertyMap {
                code: self.code_prop.get_untracked().trim().to_owned(),
                name: self.name_prop.get_untracked().trim().to_owned(),
                community: self.community_prop.get_untracked().trim().to_owned(),
            },
            apply,
            accept_warnings: apply && self.accepted.get_untracked(),
        })
    }
}

/// Checks the file (`apply` false: the server answers the plan or every problem) or applies the
/// checked plan. An apply that fails keeps the plan on screen, so it can be tried again.
pub(super) fn send_import(state: ImportState, apply: bool, l: Lang) {
    let ImportState {
        busy,
        error,
        problems,
        plan,
        applied,
        warnings,
        accepted,
        ..
    } = state;
    let Some(req) = state.request(apply) else {
        error.set(Some(tr(l, "import.error.no_file")));
        return;
    };
    let keep_plan = plan.get_untracked();
    let keep_warnings = (warnings.get_untracked(), accepted.get_untracked());
    state.reset();
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
            Err(e) => {
                if apply {
                    plan.set(keep_plan);
                    warnings.set(keep_warnings.0);
                    accepted.set(keep_warnings.1);
                }
                error.set(Some(match e {
                    ApiError::Network(e) => trf(l, "import.error.network", &[("e", &e)]),
                    e => e.to_string(),
                }));
            }
        }
        busy.set(false);
    });
}
