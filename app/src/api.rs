//! The app's one HTTP client. Every request to the server goes through a typed call here: it
//! carries the session's token and the protocol header, and maps what went wrong to an
//! [`ApiError`] (the server's `ErrorBody` read once, here, instead of `["error"]["message"]` by
//! hand at every call site).

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tongxin_shared::geoimport::{GridImportReport, GridImportRequest};
use tongxin_shared::userimport::{UserImportReport, UserImportRequest};
use tongxin_shared::userlist::{UserPage, UserQuery};
use tongxin_shared::wire::{
    ErrorBody, HistoryPage, LoginRequest, LoginResponse, Me, Person, PushRequest, PushResponse,
    StaffMember, UserUpsert, PROTOCOL_HEADER, PULL_NEXT_CURSOR_HEADER, PULL_NEXT_SCOPE_HEADER,
};
use tongxin_shared::{Collection, RecordId, PROTOCOL_VERSION};

/// Why a request did not give the answer asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No answer: offline, connection cut, DNS, CORS.
    #[error("network: {0}")]
    Network(String),
    /// 401: the session ended (expired, revoked, signed out elsewhere).
    #[error("the session ended; sign in again")]
    Unauthorized,
    /// 426: the server no longer speaks this app's protocol.
    #[error("the app must be updated")]
    UpgradeRequired,
    /// Any other 4xx: the server refused this request, with its code and message.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// 5xx (or an unexpected status): the server or a proxy failed; worth trying again.
    #[error("server answered {status}: {message}")]
    Server { status: u16, message: String },
    /// The answer came but could not be read (truncated, or not what this app expects).
    #[error("unreadable answer: {0}")]
    Decode(String),
}

impl ApiError {
    /// Whether the same request may succeed if sent again shortly (a lossy link, a restarting
    /// server, a rate limit), as opposed to a refusal that will not change by itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) | Self::Server { .. } | Self::Decode(_) => true,
            Self::Refused { status, .. } => matches!(status, 408 | 429),
            Self::Unauthorized | Self::UpgradeRequired => false,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized => Some(401),
            Self::UpgradeRequired => Some(426),
            Self::Refused { status, .. } | Self::Server { status, .. } => Some(*status),
            Self::Network(_) | Self::Decode(_) => None,
        }
    }

    /// Maps a non-2xx answer: its status and its body (`ErrorBody` when the server wrote it).
    pub fn from_answer(status: u16, body: &str) -> Self {
        let (code, message) = serde_json::from_str::<ErrorBody>(body).map_or_else(
            |_| (String::new(), format!("HTTP {status}")),
            |b| (b.error.code, b.error.message),
        );
        match status {
            401 => Self::Unauthorized,
            426 => Self::UpgradeRequired,
            400..=499 => Self::Refused {
                status,
                code,
                message,
            },
            _ => Self::Server { status, message },
        }
    }
}

fn network(e: impl std::fmt::Display) -> ApiError {
    ApiError::Network(e.to_string())
}

fn decode(e: impl std::fmt::Display) -> ApiError {
    ApiError::Decode(e.to_string())
}

/// Adds the protocol header and, when given, the bearer token.
fn headers(builder: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    let builder = builder.header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string());
    match token {
        Some(t) => builder.header("authorization", &format!("Bearer {t}")),
        None => builder,
    }
}

/// Sends and keeps only 2xx answers; anything else becomes an [`ApiError`].
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    let res = request.map_err(network)?.send().await.map_err(network)?;
    if res.ok() {
        Ok(res)
    } else {
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        Err(ApiError::from_answer(status, &body))
    }
}

async fn json<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    let text = res.text().await.map_err(network)?;
    serde_json::from_str(&text).map_err(decode)
}

async fn get<T: DeserializeOwned>(token: &str, path: &str) -> Result<T, ApiError> {
    json(send(headers(Request::get(path), Some(token)).build()).await?).await
}

async fn post_json<B: Serialize>(
    token: Option<&str>,
    path: &str,
    body: &B,
) -> Result<Response, ApiError> {
    send(headers(Request::post(path), token).json(body)).await
}

/// `POST /api/v1/auth/login` (no token yet).
pub async fn login(body: &LoginRequest) -> Result<LoginResponse, ApiError> {
    json(post_json(None, "/api/v1/auth/login", body).await?).await
}

/// `POST /api/v1/auth/logout`: revokes this token.
pub async fn logout(token: &str) -> Result<(), ApiError> {
    send(headers(Request::post("/api/v1/auth/logout"), Some(token)).build())
        .await
        .map(drop)
}

/// `GET /api/v1/auth/me`: the user's current role and area.
pub async fn me(token: &str) -> Result<Me, ApiError> {
    get(token, "/api/v1/auth/me").await
}

/// `GET /api/v1/settings`, as text (the settings module decodes and keeps it).
pub async fn settings_text(token: &str) -> Result<String, ApiError> {
    let res = send(headers(Request::get("/api/v1/settings"), Some(token)).build()).await?;
    res.text().await.map_err(network)
}

/// `POST /api/v1/sync/push`.
pub async fn push(token: &str, body: &PushRequest) -> Result<PushResponse, ApiError> {
    json(post_json(Some(token), "/api/v1/sync/push", body).await?).await
}

/// A pull answer: its text, and the next page its headers name (only an answer with more to
/// come, from a server that says it).
pub struct PullText {
    pub text: String,
    pub next: Option<NextPage>,
}

/// The page after a pull answer: asked for with this cursor and area fingerprint.
pub struct NextPage {
    pub cursor: u64,
    pub scope: String,
}

/// `GET /api/v1/sync/pull`, as text: the sync client decodes it page by page and record by
/// record (a record it cannot read must not wedge sync).
pub async fn pull_text(
    token: &str,
    cursor: u64,
    limit: u32,
    scope: &str,
) -> Result<PullText, ApiError> {
    let scope = String::from(js_sys::encode_uri_component(scope));
    let path = format!("/api/v1/sync/pull?cursor={cursor}&limit={limit}&scope={scope}");
    let res = send(headers(Request::get(&path), Some(token)).build()).await?;
    let header = |name: &str| res.headers().get(name);
    let next = header(PULL_NEXT_CURSOR_HEADER)
        .and_then(|c| c.parse().ok())
        .zip(header(PULL_NEXT_SCOPE_HEADER))
        .map(|(cursor, scope)| NextPage { cursor, scope });
    // Read as bytes, not as text: `text()` decodes the body into a JavaScript string that is
    // then encoded again on its way into the wasm; the bytes are copied in once and checked.
    // (Not UTF-8, never from this server: read as `text()` would, with U+FFFD for bad bytes.)
    let bytes = res.binary().await.map_err(network)?;
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(PullText { text, next })
}

/// `HEAD /api/v1/blobs/{sha}`: whether the server already holds this photo.
pub async fn blob_exists(token: &str, sha256: &str) -> Result<bool, ApiError> {
    let path = format!("/api/v1/blobs/{sha256}");
    let builder = headers(
        RequestBuilder::new(&path).method(gloo_net::http::Method::HEAD),
        Some(token),
    );
    match send(builder.build()).await {
        Ok(_) => Ok(true),
        Err(ApiError::Refused { status: 404, .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `PUT /api/v1/blobs/{sha}`: uploads a photo (idempotent: the same bytes under the same hash).
pub async fn put_blob(
    token: &str,
    sha256: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<(), ApiError> {
    let body = js_sys::Uint8Array::from(bytes);
    let builder = headers(
        Request::put(&format!("/api/v1/blobs/{sha256}")),
        Some(token),
    )
    .header("content-type", content_type);
    send(builder.body(body)).await.map(drop)
}

/// Where an `<img>` loads a photo from the server (an image element cannot send headers).
pub fn blob_url(token: &str, sha256: &str) -> String {
    let token = String::from(js_sys::encode_uri_component(token));
    format!("/api/v1/blobs/{sha256}?access_token={token}")
}

/// The live stream's address (an EventSource cannot send headers either).
pub fn live_url(token: &str) -> String {
    let token = String::from(js_sys::encode_uri_component(token));
    format!("/api/v1/live?access_token={token}")
}

/// `GET /api/v1/staff`: wardens and grid leaders of the caller's area.
pub async fn staff(token: &str) -> Result<Vec<StaffMember>, ApiError> {
    get(token, "/api/v1/staff").await
}

/// `GET /api/v1/history`: a page of a grid's cases or visits, latest change first (the
/// summary profile's older history, shown and not stored).
pub async fn history(
    token: &str,
    collection: Collection,
    grid: RecordId,
    before: Option<u64>,
    limit: u32,
) -> Result<HistoryPage, ApiError> {
    let before = before.map_or_else(String::new, |b| format!("&before={b}"));
    let path = format!(
        "/api/v1/history?collection={}&grid={grid}&limit={limit}{before}",
        collection.as_str()
    );
    get(token, &path).await
}

/// `GET /api/v1/people`: the colleagues of the caller's area, by name.
pub async fn people(token: &str) -> Result<Vec<Person>, ApiError> {
    get(token, "/api/v1/people").await
}

/// `POST /api/v1/admin/import/users`: the preview, the created accounts (with their generated
/// passwords), or (422) every problem.
pub async fn import_users(
    token: &str,
    body: &UserImportRequest,
) -> Result<UserImportReport, ApiError> {
    report(token, "/api/v1/admin/import/users", body).await
}

/// A POST whose refusal (422) carries a report naming every problem, like its success does.
async fn report<B: Serialize, R: DeserializeOwned>(
    token: &str,
    path: &str,
    body: &B,
) -> Result<R, ApiError> {
    let res = headers(Request::post(path), Some(token))
        .json(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    let status = res.status();
    let text = res.text().await.map_err(network)?;
    if (200..300).contains(&status) || status == 422 {
        if let Ok(report) = serde_json::from_str::<R>(&text) {
            return Ok(report);
        }
        if status != 422 {
            return Err(ApiError::Decode(format!("the answer of {path}")));
        }
    }
    Err(ApiError::from_answer(status, &text))
}

/// `GET /api/v1/admin/users?…`: one page of the users matching `query`, with the counts and
/// the names of the page's places.
pub async fn users(token: &str, query: &UserQuery) -> Result<UserPage, ApiError> {
    let request = headers(Request::get("/api/v1/admin/users"), Some(token))
        .query(query.params())
        .build();
    json(send(request).await?).await
}

/// `POST /api/v1/admin/users` (create) or `PUT /api/v1/admin/users/{name}` (update).
pub async fn save_user(token: &str, user: &UserUpsert, create: bool) -> Result<(), ApiError> {
    let request = if create {
        headers(Request::post("/api/v1/admin/users"), Some(token)).json(user)
    } else {
        let name = String::from(js_sys::encode_uri_component(&user.username));
        headers(
            Request::put(&format!("/api/v1/admin/users/{name}")),
            Some(token),
        )
        .json(user)
    };
    send(request).await.map(drop)
}

/// `POST /api/v1/admin/users/{name}/password`.
pub async fn reset_password(token: &str, username: &str, password: &str) -> Result<(), ApiError> {
    let name = String::from(js_sys::encode_uri_component(username));
    let path = format!("/api/v1/admin/users/{name}/password");
    post_json(
        Some(token),
        &path,
        &serde_json::json!({ "password": password }),
    )
    .await
    .map(drop)
}

/// `POST /api/v1/admin/grids/import`: the plan, the applied grids, or (422) every problem.
pub async fn import_grids(
    token: &str,
    body: &GridImportRequest,
) -> Result<GridImportReport, ApiError> {
    // A file with problems is answered 422 with the report naming each one.
    report(token, "/api/v1/admin/grids/import", body).await
}
