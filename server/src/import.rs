//! `POST /api/v1/admin/grids/import`: an admin uploads grids as GeoJSON. The server parses and
//! validates the whole file (`tongxin_shared::geoimport`), matches it against the stored
//! hierarchy (community codes, grids with the same code, overlaps with grids it keeps) and
//! answers the plan. Nothing is written while any problem remains; with `apply` a clean plan is
//! committed as ops through the writer in one batch, so pulls and live streams carry it like any
//! other change. A grid kilometres outside its community's area is a warning with the distance
//! (`geoimport::far_from_community`): shown in the preview, and an apply must accept it.

use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::store::Store;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tongxin_shared::case::Role;
use tongxin_shared::geoimport::{
    community_area, far_from_community, overlaps_existing, parse_grids, problem, GridImportReport,
    GridImportRequest, ImportAction, ImportedGrid, PlannedGrid, Problem,
};
use tongxin_shared::schema::validate_op;
use tongxin_shared::{
    ActorId, Collection, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;

/// Largest GeoJSON upload (2,000 detailed grid outlines fit easily).
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// The actor of changes the server itself makes on an admin's behalf (the op log also records
/// the admin as author).
pub const SERVER_ACTOR: ActorId =
    ActorId(Uuid::from_u128(0x7f1e_5e7e_0000_4000_8000_0000_0000_0001));

/// The stored hierarchy an import is matched against.
struct Stored {
    communities: HashMap<String, RecordId>,
    /// Communities by id: their name and boundary (if drawn).
    community_records: HashMap<RecordId, Record>,
    grids: HashMap<String, Record>,
}

impl Stored {
    async fn load(store: &dyn Store) -> Result<Self, ApiError> {
        let community_records: HashMap<RecordId, Record> = store
            .records(Collection::Communities)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let communities = community_records
            .values()
            .filter_map(|r| Some((r.str("code")?.to_owned(), r.id)))
            .collect();
        let grids = store
            .records(Collection::Grids)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.str("code")?.to_owned(), r)))
            .collect();
        Ok(Self {
            communities,
            community_records,
            grids,
        })
    }
}

/// Grids far outside their community's area: its boundary when drawn, else its stored grids
/// that this file keeps (a community with neither gets no warning).
fn warnings(planned: &[PlannedGrid], imported: &[ImportedGrid], stored: &Stored) -> Vec<Problem> {
    let replaced: std::collections::BTreeSet<&str> =
        planned.iter().map(|g| g.code.as_str()).collect();
    let mut areas: HashMap<RecordId, Option<_>> = HashMap::new();
    let mut out = Vec::new();
    for (g, p) in imported.iter().zip(planned) {
        let area = areas.entry(p.community).or_insert_with(|| {
            let community = p.community.to_string();
            community_area(
                stored
                    .community_records
                    .get(&p.community)
                    .and_then(|r| r.get("boundary")),
                stored
                    .grids
                    .iter()
                    .filter(|(code, r)| {
                        !replaced.contains(code.as_str())
                            && r.str("community") == Some(community.as_str())
                    })
                    .filter_map(|(_, r)| r.get("boundary")),
            )
        });
        let name = stored
            .community_records
            .get(&p.community)
            .and_then(|r| r.str("name"))
            .unwrap_or("");
        if let Some(w) = area.as_ref().and_then(|a| far_from_community(g, name, a)) {
            out.push(w);
        }
    }
    out
}

/// Matches parsed grids to the stored hierarchy: the plan, or every problem found.
fn plan(imported: Vec<ImportedGrid>, stored: &Stored) -> Result<Vec<PlannedGrid>, Vec<Problem>> {
    let mut problems = overlaps_existing(
        &imported,
        stored.grids.iter().filter_map(|(code, r)| {
            Some((
                code.as_str(),
                r.str("name").unwrap_or(""),
                r.get("boundary")?,
            ))
        }),
    );
    let mut planned = Vec::with_capacity(imported.len());
    for g in imported {
        let Some(&community) = stored.communities.get(&g.community_code) else {
            problems.push(problem(
                Some(g.index),
                "unknown_community",
                &[("code", g.community_code.clone())],
            ));
            continue;
        };
        let (id, action) = match stored.grids.get(&g.code) {
            Some(existing) => {
                let now_in = existing
                    .str("community")
                    .and_then(|c| RecordId::parse(c).ok());
                if now_in.is_some_and(|c| c != community) {
                    problems.push(problem(
                        Some(g.index),
                        "other_community",
                        &[("code", g.code.clone())],
                    ));
                    continue;
                }
                (existing.id, ImportAction::Update)
            }
            None => (RecordId(Uuid::now_v7()), ImportAction::New),
        };
        planned.push(PlannedGrid {
            index: g.index,
            id,
            action,
            code: g.code,
            name: g.name,
            community_code: g.community_code,
            community,
            boundary: g.boundary,
        });
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        problems.sort_by_key(|p| p.index);
        Err(problems)
    }
}

/// One op per planned grid, stamped after every value stored now so that they win the merge.
fn ops_for(planned: &[PlannedGrid], stored: &Stored, now_ms: u64) -> Vec<Op> {
    let newest = stored
        .grids
        .values()
        .filter_map(Record::last_stamp)
        .map(|s| s.hlc.wall_ms + 1)
        .max()
        .unwrap_or(0);
    let wall = now_ms.max(newest);
    planned
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let fields: BTreeMap<String, Value> = [
                ("code", Value::from(g.code.clone())),
                ("name", Value::from(g.name.clone())),
                ("community", Value::from(g.community.to_string())),
                ("boundary", g.boundary.clone()),
                ("synthetic", Value::Bool(false)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            Op {
                id: OpId(Uuid::now_v7()),
                actor: SERVER_ACTOR,
                hlc: Hlc::new(wall, i as u32),
                collection: Collection::Grids,
                record: g.id,
                body: OpBody::Set { fields },
                schema: SCHEMA_VERSION,
            }
        })
        .collect()
}

fn refused(problems: Vec<Problem>) -> Response {
    tracing::info!(problems = problems.len(), "grid import refused");
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(GridImportReport {
            problems,
            ..GridImportReport::default()
        }),
    )
        .into_response()
}

/// `POST /api/v1/admin/grids/import`: 200 with the plan (applied or not), 422 with the
/// problems (nothing written), 403 for anyone but an admin.
pub async fn import_grids(
    State(state): State<AppState>,
    authed: Authed,
    AppJson(req): AppJson<GridImportRequest>,
) -> Result<Response, ApiError> {
    if authed.user.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an administrator may import grids".into(),
        ));
    }
    let (crs, props, text) = (req.crs, req.properties, req.geojson);
    let parsed = tokio::task::spawn_blocking(move || parse_grids(&text, crs, &props))
        .await
        .map_err(|e| ApiError::Unavailable(format!("the import check failed: {e}")))?;
    let imported = match parsed {
        Ok(g) => g,
        Err(problems) => return Ok(refused(problems)),
    };
    let stored = Stored::load(&*state.store).await?;
    let planned = match plan(imported.clone(), &stored) {
        Ok(p) => p,
        Err(problems) => return Ok(refused(problems)),
    };
    let warned = warnings(&planned, &imported, &stored);
    let ops = ops_for(&planned, &stored, crate::now_ms());
    let invalid: Vec<Problem> = ops
        .iter()
        .zip(&planned)
        .filter_map(|(op, g)| {
            validate_op(op)
                .err()
                .map(|e| problem(Some(g.index), "invalid_record", &[("e", e.message)]))
        })
        .collect();
    if !invalid.is_empty() {
        return Ok(refused(invalid));
    }
    if !req.apply {
        return Ok(Json(GridImportReport {
            problems: Vec::new(),
            warnings: warned,
            grids: planned,
            applied: false,
        })
        .into_response());
    }
    if !warned.is_empty() && !req.accept_warnings {
        let n = warned.len().to_string();
        tracing::info!(warnings = warned.len(), "grid import not accepted");
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(GridImportReport {
                problems: vec![problem(None, "warnings_not_accepted", &[("n", n)])],
                warnings: warned,
                grids: Vec::new(),
                applied: false,
            }),
        )
            .into_response());
    }
    let parents: Vec<_> = ops.iter().map(crate::handback::parent_set).collect();
    let outcomes = state
        .writer
        .submit(ops, Some(authed.principal.clone()))
        .await?;
    // Grids moved to another community: their cases' assignees may no longer work there.
    crate::handback::after_commit(&state, &parents, &outcomes).await;
    let denied: Vec<Problem> = outcomes
        .iter()
        .zip(&planned)
        .filter_map(|(o, g)| {
            o.as_ref()
                .err()
                .map(|d| problem(Some(g.index), "refused", &[("e", d.to_string())]))
        })
        .collect();
    if !denied.is_empty() {
        // Unreachable for an admin (who may write every grid); said rather than hidden.
        tracing::error!(refused = denied.len(), "grid import partly refused");
        return Ok(refused(denied));
    }
    let new = planned
        .iter()
        .filter(|g| g.action == ImportAction::New)
        .count();
    tracing::info!(grids = planned.len(), new, "grid import applied");
    Ok(Json(GridImportReport {
        problems: Vec::new(),
        warnings: warned,
        grids: planned,
        applied: true,
    })
    .into_response())
}
