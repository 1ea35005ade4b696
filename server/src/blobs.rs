//! Photos: `PUT /api/v1/blobs/{sha256}` and `GET /api/v1/blobs/{sha256}`, the per-user upload
//! quota, and the clean-up of photos no record refers to.
//!
//! **Who reads a photo.** A photo is readable by a user when a record whose place is in their
//! read scope (`Scope::of`, the rule of the scoped pull) refers to it in a photos field, or when
//! they uploaded it and no record refers to it yet (the app shows a photo between taking it and
//! pushing the record). Anyone else gets the same 404 as for a photo that does not exist, so a
//! hash reveals nothing. The references are the `blob_refs` table, written by the store in the
//! same transaction as the records (`store::photos_of` reads the fields from the schema).
//!
//! **Quota.** A user may upload at most `--blob-quota-mb` of new photos per rolling 24 hours
//! (429 with the figures when over it; nothing is stored). Re-uploading a stored photo costs
//! nothing.
//!
//! **Clean-up.** Photos that no record refers to are deleted once older than
//! `--blob-grace-days` ([`clean`], run hourly by [`spawn_cleanup`]), so uploads that never
//! became part of a record do not pile up.

use crate::auth::Authed;
use crate::error::ApiError;
use crate::store::{NewBlob, PutBlob, Scope, UploadQuota};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tongxin_shared::schema::is_sha256_hex;
use tongxin_shared::wire::MAX_BLOB_BYTES;

/// A day in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The quota's window: a rolling day.
pub const QUOTA_WINDOW_MS: u64 = DAY_MS;

/// How often the clean-up runs.
pub const CLEANUP_EVERY: Duration = Duration::from_hours(1);

/// The deployment's limits on photos (`--blob-quota-mb`, `--blob-grace-days`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobLimits {
    /// Bytes of new photos one user may upload per [`QUOTA_WINDOW_MS`].
    pub quota_bytes: u64,
    /// How long a photo no record refers to is kept.
    pub grace_ms: u64,
}

impl Default for BlobLimits {
    /// 200 MB a day (some 400 phone photos at the app's size) and 7 days.
    fn default() -> Self {
        Self {
            quota_bytes: 200 * 1_000_000,
            grace_ms: 7 * DAY_MS,
        }
    }
}

fn check_hash(sha256: &str) -> Result<(), ApiError> {
    if is_sha256_hex(sha256) {
        Ok(())
    } else {
        Err(ApiError::bad(
            "bad_hash",
            "the blob name must be its SHA-256 as 64 lowercase hex characters",
        ))
    }
}

/// The image types a photo may have, by their magic bytes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `PUT /api/v1/blobs/{sha256}`: idempotent; the bytes must hash to the name.
pub async fn put_blob(
    State(state): State<AppState>,
    authed: Authed,
    Path(sha256): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_hash(&sha256)?;
    if body.len() > MAX_BLOB_BYTES {
        return Err(ApiError::TooLarge(format!(
            "a photo may be at most {} KB",
            MAX_BLOB_BYTES / 1024
        )));
    }
    let actual = hex::encode(Sha256::digest(&body));
    if actual != sha256 {
        return Err(ApiError::bad(
            "hash_mismatch",
            format!("the bytes do not match their name: they hash to {actual}"),
        ));
    }
    let Some(content_type) = image_type(&body) else {
        return Err(ApiError::bad(
            "not_an_image",
            "only JPEG, PNG or WebP photos are accepted",
        ));
    };
    let now = crate::now_ms();
    let limits = state.blob_limits;
    let blob = NewBlob {
        sha256: &sha256,
        content_type,
        bytes: &body,
        uploader: &authed.user.username,
    };
    let quota = UploadQuota {
        since_ms: now.saturating_sub(QUOTA_WINDOW_MS),
        max_bytes: limits.quota_bytes,
    };
    let put = state.store.put_blob(&blob, quota, now).await?;
    let status = match put {
        PutBlob::Created => StatusCode::CREATED,
        PutBlob::Existed => StatusCode::OK,
        PutBlob::OverQuota { used } => {
            tracing::warn!(user = %authed.user.username, used, "photo upload quota reached");
            return Err(ApiError::TooManyRequests(format!(
                "photo upload limit reached: {} uploaded in the last 24 hours, at most {} a day; \
                 this photo ({}) was not stored — it is sent again later",
                mb(used),
                mb(limits.quota_bytes),
                mb(body.len() as u64),
            )));
        }
    };
    Ok((
        status,
        Json(serde_json::json!({ "sha256": sha256, "size": body.len() })),
    )
        .into_response())
}

/// `GET /api/v1/blobs/{sha256}`: the photo, if the caller may see it (see the module docs);
/// otherwise 404, the same as for a photo that does not exist.
pub async fn get_blob(
    State(state): State<AppState>,
    authed: Authed,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    check_hash(&sha256)?;
    let scope = Scope::of(&authed.principal);
    let blob = state
        .store
        .get_blob(&sha256, &authed.user.username, &scope)
        .await?
        .ok_or_else(|| ApiError::NotFound("no photo with that hash has been uploaded".into()))?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = blob.content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok((headers, blob.bytes).into_response())
}

/// Deletes the photos no record refers to that are older than the grace period as of `now_ms`;
/// returns how many.
pub async fn clean(state: &AppState, now_ms: u64) -> Result<u64, ApiError> {
    let before = now_ms.saturating_sub(state.blob_limits.grace_ms);
    Ok(state.store.delete_unreferenced_blobs(before).await?)
}

/// Runs [`clean`] now and then every [`CLEANUP_EVERY`] until the server closes.
pub fn spawn_cleanup(state: AppState) -> tokio::task::JoinHandle<()> {
    crate::periodic::spawn_every(state.closing.clone(), CLEANUP_EVERY, move || {
        let state = state.clone();
        async move {
            match clean(&state, crate::now_ms()).await {
                Ok(0) => tracing::debug!("photo clean-up: nothing to delete"),
                Ok(n) => tracing::info!(deleted = n, "photo clean-up"),
                Err(e) => tracing::warn!(error = %e, "photo clean-up failed; the next one retries"),
            }
        }
    })
}
