//! Request extractors whose rejections are [`ApiError`]s: a body that is not JSON, not of the
//! expected shape or too large, or a query string that does not parse, is answered with the
//! API's JSON error (`{"error": {"code", "message"}}`) in one place (`error.rs`), never with
//! axum's plain-text rejection. Handlers take `AppJson<T>` / `AppQuery<T>` and never unpack a
//! `Result<Json<T>, JsonRejection>` themselves.

use crate::error::ApiError;
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

/// A JSON request body (`Content-Type: application/json`), as [`axum::Json`] reads it.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

/// A query string, as [`axum::extract::Query`] reads it.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);
