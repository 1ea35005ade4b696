//! `GET /api/v1/people`: the people directory — the colleagues the caller works with
//! (`authz::sees_colleague`), by login id, name and role, so that the app shows names instead of
//! login ids on timelines, visits and tables, and keeps them on the device for offline use.
//! Staff names are not residents' personal data (they are not masked), but a name is no place
//! for a phone or ID number: any typed into one is redacted like free text (`shared::redact`).

use crate::auth::Authed;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use tongxin_shared::authz::sees_colleague;
use tongxin_shared::redact::redact;
use tongxin_shared::wire::Person;

/// `GET /api/v1/people`, ordered by username. Disabled accounts are left out.
#[tracing::instrument(skip_all)]
pub async fn people(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<Vec<Person>>, ApiError> {
    let users = state.store.users().await?;
    let mut out: Vec<Person> = users
        .into_iter()
        .filter(|u| !u.disabled && sees_colleague(&authed.principal, &u.principal()))
        .map(|u| Person {
            display_name: redact(&u.display_name).into_owned(),
            username: u.username,
            role: u.role,
        })
        .collect();
    out.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(Json(out))
}
