//! Accounts and sessions: argon2 password hashes, opaque session tokens (random, stored only as
//! their SHA-256, with an expiry), the [`Authed`] extractor every API handler takes (and where a
//! token may be sent), sign-in (its limits are `login_limits`), and the admin endpoints. Who may
//! do what with records is not here: that is
//! `tongxin_shared::authz`, applied to every op inside the commit (`store::plan`).

use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::login_limits::MAX_LOGIN_USERNAME_CHARS;
use crate::store::{SessionRow, Store, StoreError, UserRow};
use crate::AppState;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Path, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tongxin_shared::authz::Principal;
use tongxin_shared::case::Role;
use tongxin_shared::policy::handback::Only;
use tongxin_shared::profile::Profile;
use tongxin_shared::userlist::{UserListParams, UserPage, UserQuery};
use tongxin_shared::wire::{
    LoginRequest, LoginResponse, Me, PasswordReset, UserSummary, UserUpsert, MIN_PASSWORD_CHARS,
};
use tongxin_shared::RecordId;

/// How long a session lasts: a warden may work offline for weeks and must stay signed in.
pub const SESSION_TTL_MS: u64 = 30 * 24 * 3600 * 1000;

/// Hashes a password with argon2 (default parameters, random salt). CPU-bound: callers on the
/// runtime use [`hash_password_blocking`].
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Unavailable(format!("cannot hash the password: {e}")))
}

/// [`hash_password`] off the async runtime.
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::Unavailable("password hashing was interrupted".into()))?
}

/// Whether `password` matches the stored PHC hash (argon2's comparison is constant-time).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash that no password matches, verified against when the username is unknown, so that a
/// wrong username takes as long as a wrong password (no hint which part was wrong).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no password matches this").unwrap_or_default())
}

/// The SHA-256 of a token, hex: the only form in which tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random session token (256 bits, hex) and its hash.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The fingerprint of a user's area and of what their device holds. The app stores it with its
/// pull cursor; when it differs from the user's current one, the pull answers `reset`.
pub fn scope_fingerprint(p: &Principal) -> String {
    let mut h = Sha256::new();
    h.update(p.role.as_str());
    // What the device holds (`profile`): a subdistrict or city manager's device from before the
    // summary profile held every record; it starts over with the summaries instead of pruning
    // a year of visits record by record.
    if Profile::of(p.role) == Profile::Summary {
        h.update("profile:summary");
    }
    for (tag, ids) in [
        ("g", &p.grids),
        ("c", &p.communities),
        ("s", &p.subdistricts),
    ] {
        let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        ids.sort();
        h.update(tag);
        for id in ids {
            h.update(id);
        }
    }
    hex::encode(&h.finalize()[..12])
}

/// The signed-in user as `/auth/me` shows them.
pub fn me(user: &UserRow) -> Me {
    Me {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        grids: user.grids.clone(),
        communities: user.communities.clone(),
        subdistricts: user.subdistricts.clone(),
        scope: scope_fingerprint(&user.principal()),
    }
}

/// A request with a valid session. Handlers take it as an argument; without a valid token the
/// request is answered 401 before the handler runs.
#[derive(Clone, Debug)]
pub struct Authed {
    pub user: UserRow,
    pub principal: Arc<Principal>,
    pub token_hash: String,
    /// When the session expires (ms since the epoch).
    pub expires_at_ms: u64,
}

/// The routes that take the session token from the query string (`?access_token=…`), because a
/// browser fetches them without headers: the live stream (EventSource) and photos (`<img src>`).
/// Everywhere else a token in the URL is refused: URLs end up in logs, histories and referrers.
pub const QUERY_TOKEN_ROUTES: [(Method, &str); 2] = [
    (Method::GET, "/api/v1/live"),
    (Method::GET, "/api/v1/blobs/{sha256}"),
];

fn query_token_allowed(parts: &Parts) -> bool {
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    QUERY_TOKEN_ROUTES
        .iter()
        .any(|(method, path)| parts.method == *method && route == Some(*path))
}

/// The token of a request: `Authorization: Bearer …`, or `?access_token=…` on the
/// [`QUERY_TOKEN_ROUTES`].
fn token_of(parts: &Parts) -> Result<Option<String>, ApiError> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        let v = v.to_str().unwrap_or_default().trim();
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "unauthenticated",
                    "the Authorization header must be 'Bearer <token>'; please sign in again",
                )
            })?;
        return Ok(Some(token.to_owned()));
    }
    let query = form_urlencoded_token(parts.uri.query().unwrap_or_default());
    if query.is_some() && !query_token_allowed(parts) {
        return Err(ApiError::unauthorized(
            "token_in_query",
            "send the session token in the 'Authorization: Bearer <token>' header; \
             '?access_token=' is accepted only by the live stream and photos",
        ));
    }
    Ok(query)
}

fn form_urlencoded_token(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "access_token")
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Checks a session row found by the hash of `presented`.
fn judge_session(
    row: Option<SessionRow>,
    presented_hash: &str,
    now: u64,
) -> Result<SessionRow, ApiError> {
    let expired = || {
        ApiError::unauthorized(
            "session_expired",
            "your session has ended; please sign in again (nothing on your device is lost)",
        )
    };
    let Some(row) = row else {
        return Err(ApiError::unauthorized(
            "unauthenticated",
            "this sign-in is not valid; please sign in again",
        ));
    };
    // The row was found by its hash; compare once more in constant time so that no timing of
    // ours depends on how much of a guessed token is right.
    if !bool::from(row.token_hash.as_bytes().ct_eq(presented_hash.as_bytes())) {
        return Err(ApiError::unauthorized(
            "unauthenticated",
            "this sign-in is not valid; please sign in again",
        ));
    }
    if row.revoked || row.expires_at <= now {
        return Err(expired());
    }
    if row.user.disabled {
        return Err(ApiError::unauthorized(
            "account_disabled",
            "this account has been disabled; ask your administrator",
        ));
    }
    Ok(row)
}

/// Whether the session stored under `token_hash` is still valid: not revoked, not expired, its
/// user not disabled (one indexed lookup; live streams re-check with it).
pub async fn session_valid(store: &dyn Store, token_hash: &str) -> Result<bool, StoreError> {
    let row = store.session(token_hash).await?;
    Ok(judge_session(row, token_hash, crate::now_ms()).is_ok())
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token_of(parts)?
            .ok_or_else(|| ApiError::unauthorized("unauthenticated", "please sign in first"))?;
        let hash = token_hash(&token);
        let row = state.store.session(&hash).await?;
        let row = judge_session(row, &hash, crate::now_ms()).inspect_err(|e| {
            tracing::warn!(path = parts.uri.path(), reason = %e, "request refused: no valid session");
        })?;
        Ok(Self {
            principal: Arc::new(row.user.principal()),
            user: row.user,
            token_hash: row.token_hash,
            expires_at_ms: row.expires_at,
        })
    }
}

/// The client's address as the listener saw it (None in tests that drive the router without a
/// socket). A proxy in front must be trusted to pass the real client through; see docs/OPS.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// `POST /api/v1/auth/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = req.username.trim();
    if username.chars().count() > MAX_LOGIN_USERNAME_CHARS {
        return Err(ApiError::bad(
            "username_too_long",
            format!("a username has at most {MAX_LOGIN_USERNAME_CHARS} characters"),
        ));
    }
    let username = username.to_owned();
    if username.is_empty() || req.password.is_empty() {
        return Err(ApiError::bad(
            "missing_credentials",
            "enter your username and password",
        ));
    }
    // Counted before the password is checked, so parallel guesses are all counted.
    state
        .login_limits
        .attempt(&username, ip, crate::now_ms())
        .map_err(|limited| {
            // Never the username (personal data, or a password typed in the wrong box).
            tracing::warn!(
                retry_after_s = limited.retry_after_s,
                "sign-in rate limited"
            );
            ApiError::RateLimited {
                message: "too many sign-in attempts; wait a moment and try again".into(),
                retry_after_s: limited.retry_after_s,
            }
        })?;
    let user = state.store.user(&username).await?;
    let hash = user
        .as_ref()
        .filter(|u| !u.disabled)
        .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        tracing::warn!("sign-in failed");
        return Err(ApiError::unauthorized(
            "bad_credentials",
            "wrong username or password",
        ));
    };
    let (token, hash) = new_token();
    let now = crate::now_ms();
    let expires_at_ms = now + SESSION_TTL_MS;
    state
        .store
        .create_session(&hash, &user.username, now, expires_at_ms)
        .await?;
    state.login_limits.succeeded(&username, ip);
    tracing::info!(role = %user.role, "signed in");
    Ok(Json(LoginResponse {
        token,
        expires_at_ms,
        me: me(&user),
    }))
}

/// `POST /api/v1/auth/logout`: revokes the presented token.
pub async fn logout(State(state): State<AppState>, authed: Authed) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_session(&authed.token_hash, crate::now_ms())
        .await?;
    state.streams.end_session(&authed.token_hash);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/auth/me`.
pub async fn whoami(authed: Authed) -> Json<Me> {
    Json(me(&authed.user))
}

pub(crate) fn require_admin(authed: &Authed) -> Result<(), ApiError> {
    if authed.user.role == Role::Admin {
        Ok(())
    } else {
        tracing::warn!(role = %authed.user.role, "admin endpoint refused");
        Err(ApiError::Forbidden(
            "only an administrator may manage users".into(),
        ))
    }
}

/// Checks a username: 2–40 characters of letters, digits, `.`, `_` and `-`.
pub fn check_username(username: &str) -> Result<(), ApiError> {
    let ok = (2..=40).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(
            "bad_username",
            "a username has 2 to 40 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad(
            "weak_password",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Completes and checks a user's area: a warden's or grid leader's communities and subdistricts
/// follow from their grids, a community manager's subdistrict from the community. Every id must
/// be a known grid/community/subdistrict, and each role needs the area it works in.
pub async fn complete_area(store: &dyn Store, user: &mut UserRow) -> Result<(), ApiError> {
    let mut all: Vec<RecordId> = user.grids.clone();
    all.extend(&user.communities);
    all.extend(&user.subdistricts);
    let places = store.places(&all).await?;
    let unknown: Vec<String> = all
        .iter()
        .filter(|id| !places.contains_key(id))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad(
            "unknown_area",
            format!(
                "no grid, community or subdistrict has the id {}",
                unknown.join(", ")
            ),
        ));
    }
    let push = |v: &mut Vec<RecordId>, id: Option<RecordId>| {
        if let Some(id) = id {
            if !v.contains(&id) {
                v.push(id);
            }
        }
    };
    for g in user.grids.clone() {
        let p = &places[&g];
        if p.grid != Some(g) {
            return Err(ApiError::bad("not_a_grid", format!("{g} is not a grid")));
        }
        push(&mut user.communities, p.community);
        push(&mut user.subdistricts, p.subdistrict);
    }
    for c in user.communities.clone() {
        push(
            &mut user.subdistricts,
            places.get(&c).and_then(|p| p.subdistrict),
        );
    }
    let needs = match user.role {
        Role::Warden | Role::GridLeader => (!user.grids.is_empty())
            .then_some(())
            .ok_or("at least one grid"),
        Role::CommunityManager | Role::UnitLiaison => (!user.communities.is_empty())
            .then_some(())
            .ok_or("a community"),
        Role::SubdistrictManager => (!user.subdistricts.is_empty())
            .then_some(())
            .ok_or("a subdistrict"),
        Role::CityManager | Role::Admin => Ok(()),
    };
    needs.map_err(|what| ApiError::bad("missing_area", format!("a {} needs {what}", user.role)))
}

fn row_from(up: UserUpsert, password_hash: String) -> UserRow {
    UserRow {
        username: up.username.trim().to_owned(),
        display_name: up.display_name.trim().to_owned(),
        role: up.role,
        grids: up.grids,
        communities: up.communities,
        subdistricts: up.subdistricts,
        password_hash,
        disabled: up.disabled,
    }
}

/// `GET /api/v1/admin/users?q=&role=&sort=&limit=&offset=`: one page of the users matching
/// the search (`tongxin_shared::userlist`), how many match and how many there are, and the names
/// of the page's places. Bad parameters are a 400 saying what is wrong.
#[tracing::instrument(skip_all)]
pub async fn list_users(
    State(state): State<AppState>,
    authed: Authed,
    AppQuery(params): AppQuery<UserListParams>,
) -> Result<Json<UserPage>, ApiError> {
    require_admin(&authed)?;
    let query = UserQuery::parse(&params).map_err(|m| ApiError::bad("bad_query", m))?;
    let found = state.store.user_list(&query).await?;
    Ok(Json(UserPage {
        users: found.users.iter().map(UserRow::summary).collect(),
        total: found.total,
        all: found.all,
        places: found.places,
    }))
}

/// `POST /api/v1/admin/users`.
pub async fn create_user(
    State(state): State<AppState>,
    authed: Authed,
    AppJson(mut up): AppJson<UserUpsert>,
) -> Result<Response, ApiError> {
    require_admin(&authed)?;
    check_username(up.username.trim())?;
    let password = up.password.take().unwrap_or_default();
    check_password(&password)?;
    let mut row = row_from(up, String::new());
    if row.display_name.is_empty() {
        row.display_name.clone_from(&row.username);
    }
    complete_area(&*state.store, &mut row).await?;
    row.password_hash = hash_password_blocking(password).await?;
    if state
        .store
        .insert_users(std::slice::from_ref(&row), crate::now_ms())
        .await?
        == 0
    {
        return Err(ApiError::Conflict(format!(
            "a user named '{}' already exists",
            row.username
        )));
    }
    tracing::info!(role = %row.role, "user created");
    Ok((StatusCode::CREATED, Json(row.summary())).into_response())
}

/// `PUT /api/v1/admin/users/{username}`: role, area, name, disabled. A changed area changes the
/// user's scope fingerprint, so their next pull resets to the new area.
pub async fn update_user(
    State(state): State<AppState>,
    authed: Authed,
    Path(username): Path<String>,
    AppJson(mut up): AppJson<UserUpsert>,
) -> Result<Json<UserSummary>, ApiError> {
    require_admin(&authed)?;
    up.username.clone_from(&username);
    let existing = state
        .store
        .user(&username)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user named '{username}'")))?;
    let mut row = row_from(up, existing.password_hash);
    if row.display_name.is_empty() {
        row.display_name = existing.display_name;
    }
    complete_area(&*state.store, &mut row).await?;
    state.store.update_user(&row, crate::now_ms()).await?;
    // Their live streams poke for the old area (or a disabled account): end them; the app
    // reconnects with the new area, or is refused.
    state.streams.end_user(&row.username);
    tracing::info!(role = %row.role, "user updated");
    // Their open cases where they no longer work (or all of them, disabled) go back to be
    // dispatched again.
    let moved = existing.role != row.role
        || existing.grids != row.grids
        || existing.communities != row.communities
        || existing.disabled != row.disabled;
    if moved {
        crate::handback::run_logged(&state, Only::AssignedTo(&row.username)).await;
    }
    Ok(Json(row.summary()))
}

/// `POST /api/v1/admin/users/{username}/password`: sets a new password and signs the user out
/// everywhere.
pub async fn reset_password(
    State(state): State<AppState>,
    authed: Authed,
    Path(username): Path<String>,
    AppJson(req): AppJson<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    require_admin(&authed)?;
    check_password(&req.password)?;
    let hash = hash_password_blocking(req.password).await?;
    if !state
        .store
        .set_password(&username, &hash, crate::now_ms())
        .await?
    {
        return Err(ApiError::NotFound(format!("no user named '{username}'")));
    }
    state.streams.end_user(&username);
    tracing::info!("password reset");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").expect("hash");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct hors"));
        assert!(!verify_password("not a phc string", "x"));
        assert!(!verify_password(dummy_hash(), ""));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(ha, token_hash(&a));
        assert_ne!(ha, a);
    }

    #[test]
    fn the_access_token_is_read_from_the_query() {
        assert_eq!(
            form_urlencoded_token("x=1&access_token=abc"),
            Some("abc".into())
        );
        assert_eq!(form_urlencoded_token("access_token="), None);
        assert_eq!(form_urlencoded_token(""), None);
    }

    #[test]
    fn the_scope_fingerprint_follows_the_area_not_its_order() {
        let id = |n| RecordId(uuid::Uuid::from_u128(n));
        let p = |grids: Vec<RecordId>| Principal {
            username: "w".into(),
            role: Role::Warden,
            grids,
            communities: vec![],
            subdistricts: vec![],
        };
        assert_eq!(
            scope_fingerprint(&p(vec![id(1), id(2)])),
            scope_fingerprint(&p(vec![id(2), id(1)]))
        );
        assert_ne!(
            scope_fingerprint(&p(vec![id(1)])),
            scope_fingerprint(&p(vec![id(2)]))
        );
    }
}
