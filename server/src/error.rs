//! One error type for the HTTP API: every failure becomes a status and a JSON body
//! `{"error": {"code", "message", "op_id"?}}` with a message a person understands.

use crate::store::StoreError;
use crate::writer::WriteError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tongxin_shared::wire::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("protocol version {0} is not spoken by this server")]
    UpgradeRequired(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unavailable(String),
    /// 507: the server's disk is full. Nothing of the request was stored; the app keeps it and
    /// sends it again later (a 5xx, so it is retried like any other server failure).
    #[error("{0}")]
    InsufficientStorage(String),
    /// No valid session: 401. The app asks the user to sign in again and keeps its outbox.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// 429 with a `Retry-After` header.
    #[error("{message}")]
    RateLimited { message: String, retry_after_s: u64 },
}

impl ApiError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }
}

impl ApiError {
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }
}

/// The writer's failures: nothing of the batch was applied, so the client may send it again.
/// What a full disk answers, for pushes and photos alike.
pub const DISK_FULL_MESSAGE: &str = "the server's disk is full, so nothing of this was stored; \
     your records stay on this device and are sent again by themselves once the server's \
     administrator frees space";

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Commit(e) if e.is_disk_full() => {
                Self::InsufficientStorage(DISK_FULL_MESSAGE.into())
            }
            WriteError::Stopped => {
                Self::Unavailable("the server is shutting down; try again shortly".into())
            }
            WriteError::Commit(_) => Self::Unavailable(
                "the server could not store this batch; nothing was applied, it will be sent again"
                    .into(),
            ),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(_) => Self::bad(
                "malformed_json",
                format!("the request body is not valid JSON: {}", r.body_text()),
            ),
            JsonRejection::JsonDataError(_) => Self::bad(
                "bad_shape",
                format!(
                    "the request body does not have the expected shape: {}",
                    r.body_text()
                ),
            ),
            JsonRejection::MissingJsonContentType(_) => Self::bad(
                "bad_content_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::TooLarge("the request body is too large".into())
            }
            other => Self::bad("bad_request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad(
            "bad_query",
            format!("the query string is not valid: {}", r.body_text()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            Self::BadRequest { code, message } => (StatusCode::BAD_REQUEST, *code, message.clone()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            Self::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.clone()),
            Self::UpgradeRequired(v) => (
                StatusCode::UPGRADE_REQUIRED,
                "upgrade_required",
                format!("this server no longer speaks protocol version {v}; please update the app (your unsent records are kept on the device)"),
            ),
            Self::Store(e) if e.is_disk_full() => {
                tracing::error!(error = %e, "storage failure: the disk is full");
                (StatusCode::INSUFFICIENT_STORAGE, "storage_full", DISK_FULL_MESSAGE.to_owned())
            }
            Self::Store(e) => {
                tracing::error!(error = %e, "storage failure");
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "the server cannot reach its database right now; nothing was lost, try again shortly".to_owned())
            }
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m.clone()),
            Self::InsufficientStorage(m) => {
                (StatusCode::INSUFFICIENT_STORAGE, "storage_full", m.clone())
            }
            Self::Unauthorized { code, message } => (StatusCode::UNAUTHORIZED, *code, message.clone()),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            Self::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
            Self::TooManyRequests(m) | Self::RateLimited { message: m, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", m.clone())
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                op_id: None,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let Self::RateLimited { retry_after_s, .. } = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        res
    }
}
