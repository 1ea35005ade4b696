//! The JSON API handlers: thin — extract, call one domain function, map the result.

use crate::auth::{scope_fingerprint, Authed};
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::store::Scope;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::value::RawValue;
use tongxin_shared::profile::Profile;
use tongxin_shared::wire::{
    Health, OpResult, PullQuery, PullResponse, PushResponse, Settings, DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT, MAX_PUSH_OPS, PROTOCOL_HEADER, PULL_NEXT_CURSOR_HEADER, PULL_NEXT_SCOPE_HEADER,
};
use tongxin_shared::{OpId, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};

fn check_protocol(v: u16) -> Result<(), ApiError> {
    if (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&v) {
        Ok(())
    } else {
        Err(ApiError::UpgradeRequired(v.to_string()))
    }
}

/// Middleware on `/api`: a protocol version the server does not speak gets 426 (every app
/// release sends the header; protocol 1 apps read records with a stamp per field and must
/// update). A request without the header (a person with curl) is let through.
pub async fn protocol(req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get(PROTOCOL_HEADER) {
        let parsed = v.to_str().ok().and_then(|s| s.trim().parse::<u16>().ok());
        match parsed {
            Some(v) => {
                if let Err(e) = check_protocol(v) {
                    return e.into_response();
                }
            }
            None => {
                return ApiError::UpgradeRequired(
                    String::from_utf8_lossy(v.as_bytes())
                        .chars()
                        .take(16)
                        .collect(),
                )
                .into_response()
            }
        }
    }
    next.run(req).await
}

// The push body and the first judgement of each op (decode, shape) are pure and live in
// `tongxin_shared::intake`, where the fuzz targets run them; re-exported under their old path.
use tongxin_shared::intake::reject;
pub use tongxin_shared::intake::{judge, RawPush};

/// `GET /api/v1/settings`: the deployment's deadlines and escalation steps, for any signed-in
/// user (the app computes a new case's deadline and the supervision queues with them).
pub async fn settings(State(state): State<AppState>, _authed: Authed) -> Json<Settings> {
    Json(Settings {
        deadlines: (*state.deadlines).clone(),
        tiles: state.tiles.as_deref().cloned(),
    })
}

/// `POST /api/v1/sync/push`.
#[tracing::instrument(skip_all, fields(ops))]
pub async fn push(
    State(state): State<AppState>,
    authed: Authed,
    AppJson(push): AppJson<RawPush>,
) -> Result<Json<PushResponse>, ApiError> {
    check_protocol(push.protocol)?;
    if push.ops.len() > MAX_PUSH_OPS {
        return Err(ApiError::TooLarge(format!(
            "a push may carry at most {MAX_PUSH_OPS} ops; this one has {}",
            push.ops.len()
        )));
    }
    tracing::Span::current().record("ops", push.ops.len());
    let mut results: Vec<Option<OpResult>> = Vec::with_capacity(push.ops.len());
    let mut accepted = Vec::new();
    let mut slots = Vec::new();
    for (i, raw) in push.ops.iter().enumerate() {
        match judge(raw, i) {
            Ok(op) => {
                slots.push(i);
                accepted.push(op);
                results.push(None);
            }
            Err(r) => {
                if let OpResult::Rejected { rejected, .. } = &r {
                    tracing::warn!(index = i, code = %rejected.code, "op rejected");
                }
                results.push(Some(r));
            }
        }
    }
    let ids: Vec<OpId> = accepted.iter().map(|o| o.id).collect();
    let parents: Vec<_> = accepted.iter().map(crate::handback::parent_set).collect();
    let outcomes = state
        .writer
        .submit(accepted, Some(authed.principal.clone()))
        .await?;
    // A moved grid or community: its cases' assignees may no longer work there.
    crate::handback::after_commit(&state, &parents, &outcomes).await;
    for ((slot, op_id), outcome) in slots.into_iter().zip(ids).zip(outcomes) {
        results[slot] = Some(match outcome {
            Ok(seq) => OpResult::Acked { op_id, seq },
            Err(denied) => {
                // Logged with who and why, never with the op's content (it may hold personal data).
                tracing::warn!(%op_id, user = %authed.user.username, role = %authed.user.role, code = denied.code(), "op refused by the rules");
                reject(op_id, denied.code(), denied.to_string())
            }
        });
    }
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| reject(OpId::NIL, "internal", "no result")))
        .collect();
    Ok(Json(PushResponse {
        results,
        server_time_ms: crate::now_ms(),
    }))
}

/// A pull answer as the server writes it: each record's JSON as [`crate::seen`] made it.
type PullAnswer = PullResponse<Box<RawValue>>;

/// `GET /api/v1/sync/pull?cursor=C&limit=N&scope=S`: the records of the caller's area, with
/// residents' personal data masked where the caller does not handle the record. A `scope` that
/// is no longer the caller's (their area changed) answers `reset` so the app starts over from
/// zero in the new area, keeping its outbox.
#[tracing::instrument(skip_all)]
pub async fn pull(
    State(state): State<AppState>,
    authed: Authed,
    AppQuery(q): AppQuery<PullQuery>,
) -> Result<(HeaderMap, Json<PullAnswer>), ApiError> {
    let limit = q
        .limit
        .unwrap_or(DEFAULT_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT);
    let principal = &authed.principal;
    // The area, and the last hierarchy move that took records out of it: a device that holds
    // records it may no longer read starts over.
    let moves = state.store.hierarchy_moves().await?;
    let scope = match crate::store::last_loss(principal, &moves) {
        0 => scope_fingerprint(principal),
        seq => format!("{}-m{seq}", scope_fingerprint(principal)),
    };
    if q.cursor > 0 && q.scope.as_ref().is_some_and(|s| *s != scope) {
        tracing::info!(user = %principal.username, "area changed: pull reset");
        let body = PullResponse {
            records: Vec::new(),
            cursor: 0,
            more: true,
            reset: true,
            dropped: Vec::new(),
            scope,
            server_time_ms: crate::now_ms(),
        };
        return Ok((HeaderMap::new(), Json(body)));
    }
    let now = crate::now_ms();
    let profile = Profile::of(principal.role);
    let page = state
        .store
        .pull_stored_as(&Scope::of(principal), profile, now, q.cursor, limit)
        .await?;
    let records = crate::seen::stored_as_seen_by(principal, page.records, &page.places)?;
    let mut headers = HeaderMap::new();
    if page.more {
        // The fingerprint is hex and `-m<seq>`: always a valid header value.
        if let Ok(s) = HeaderValue::from_str(&scope) {
            headers.insert(PULL_NEXT_CURSOR_HEADER, HeaderValue::from(page.cursor));
            headers.insert(PULL_NEXT_SCOPE_HEADER, s);
        }
    }
    let body = PullResponse {
        records,
        cursor: page.cursor,
        more: page.more,
        reset: false,
        dropped: page.dropped,
        scope,
        server_time_ms: now,
    };
    Ok((headers, Json(body)))
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: PROTOCOL_VERSION,
    })
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::Unavailable("the database does not answer".into())
    })?;
    Ok(healthz().await)
}

/// Unknown `/api/…` paths.
pub async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no API endpoint at {} {}",
        req.method(),
        req.uri().path()
    ))
}
