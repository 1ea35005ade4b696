//! The signed-in session: kept in its own IndexedDB database so a warden stays signed in offline
//! for weeks; signing in and out.

use crate::api::{self, ApiError};
use crate::idb::IdbStore;
use crate::store::{LocalStore, StoreError};
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use tongxin_shared::wire::{LoginRequest, Me};

/// The IndexedDB database that holds the signed-in session (separate from any user's data).
pub const SESSION_DB: &str = "tongxin-session";
const SESSION_KEY: &str = "session";
/// How long sign-out waits for the server to revoke the token before going on without it.
const LOGOUT_TIMEOUT_MS: u32 = 3_000;

/// The IndexedDB database of one user's data: each user on a shared phone has their own, so
/// user B never sees user A's records or drafts.
pub fn data_db_name(username: &str) -> String {
    format!("tongxin-data-{username}")
}

/// A signed-in session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_at_ms: u64,
    pub me: Me,
    /// `me` is the sign-in's answer, just given: the first sync round need not ask for it
    /// again. Never stored, so a session read back is checked by the round.
    #[serde(skip)]
    pub me_fresh: bool,
}

async fn session_db() -> Result<IdbStore, StoreError> {
    IdbStore::open(SESSION_DB).await
}

/// The stored session, if any.
pub async fn load_session() -> Option<Session> {
    let db = session_db().await.ok()?;
    let text = db.meta_get(SESSION_KEY).await.ok()??;
    serde_json::from_str(&text).ok()
}

pub async fn save_session(s: &Session) -> Result<(), StoreError> {
    let text = serde_json::to_string(s).map_err(|e| StoreError::Backend(e.to_string()))?;
    session_db().await?.meta_set(SESSION_KEY, &text).await
}

/// Forgets the session (sign-out). The user's data database is kept: their unsent ops wait for
/// them to sign in again.
pub async fn clear_session() -> Result<(), StoreError> {
    session_db().await?.meta_delete(SESSION_KEY).await
}

/// Why signing in failed, for the login screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    BadCredentials,
    RateLimited,
    Offline,
    Other(String),
}

impl From<ApiError> for LoginError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unauthorized => Self::BadCredentials,
            ApiError::Refused { status: 429, .. } => Self::RateLimited,
            ApiError::Network(_) => Self::Offline,
            other => Self::Other(other.to_string()),
        }
    }
}

/// Signs in; on success the session is stored.
pub async fn sign_in(username: &str, password: &str) -> Result<Session, LoginError> {
    let body = LoginRequest {
        username: username.trim().to_owned(),
        password: password.to_owned(),
    };
    let ok = api::login(&body).await?;
    let session = Session {
        token: ok.token,
        expires_at_ms: ok.expires_at_ms,
        me: ok.me,
        me_fresh: true,
    };
    save_session(&session)
        .await
        .map_err(|e| LoginError::Other(e.to_string()))?;
    Ok(session)
}

/// Revokes the token on the server (best effort: offline, the token simply expires).
/// A hanging network does not hold the sign-out up for more than [`LOGOUT_TIMEOUT_MS`].
pub async fn sign_out_remote(token: &str) {
    let request = api::logout(token).fuse();
    let timer = gloo_timers::future::TimeoutFuture::new(LOGOUT_TIMEOUT_MS).fuse();
    futures::pin_mut!(request, timer);
    futures::select! {
        _ = request => {},
        () = timer => {},
    }
}
