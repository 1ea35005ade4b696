//! Wire types of the sync protocol (`/api/v1/…`). JSON via serde; the shapes are snapshot-tested
//! (`tests/wire_snapshots.rs`) so that a protocol change shows up as a visible diff.

use crate::ids::{ActorId, OpId, RecordId};
use crate::op::Op;
use crate::record::Record;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};

/// Header carrying the protocol version on every request.
pub const PROTOCOL_HEADER: &str = "x-tongxin-protocol";

/// Headers of a pull answer with more to come (not of a reset): the cursor and the area
/// fingerprint to ask the next page with, as in its body. The app asks for that page as soon
/// as they arrive, while it still reads this one; the body stays what it judges.
pub const PULL_NEXT_CURSOR_HEADER: &str = "x-tongxin-next-cursor";
pub const PULL_NEXT_SCOPE_HEADER: &str = "x-tongxin-next-scope";

/// Most ops one push may carry.
pub const MAX_PUSH_OPS: usize = 1000;
/// Largest push body in bytes.
pub const MAX_PUSH_BYTES: usize = 8 * 1024 * 1024;
/// Default and largest page of a pull.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
pub const MAX_PULL_LIMIT: u32 = 2000;
/// Largest photo blob in bytes.
pub const MAX_BLOB_BYTES: usize = 2 * 1024 * 1024;

/// `POST /api/v1/sync/push`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u16,
    pub actor: ActorId,
    pub ops: Vec<Op>,
}

/// The server's verdict on one op: acknowledged with the sequence number of the commit that
/// holds it, or rejected with a reason. Re-sending an acknowledged op gets the same ack again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OpResult {
    Acked { op_id: OpId, seq: u64 },
    Rejected { op_id: OpId, rejected: Rejection },
}

impl OpResult {
    pub fn op_id(&self) -> OpId {
        match self {
            Self::Acked { op_id, .. } | Self::Rejected { op_id, .. } => *op_id,
        }
    }
}

/// Why an op was refused: a stable code and a message for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: String,
    pub message: String,
}

/// Every refusal code the server sends (`Rejection::code`): the intake's (`intake::judge`), the
/// schema's (`schema::Invalid`) and the policy's (`authz::Denied::code`). The app explains each
/// in the user's language; the fuzz targets and the push property tests assert that every
/// refusal carries one of them.
pub const REFUSAL_CODES: &[&str] = &[
    "out_of_scope",
    "forbidden_collection",
    "forged_author",
    "forbidden_transition",
    "system_only",
    "not_owner",
    "clock_ahead",
    "bad_op",
    "refused",
    "unknown_schema",
    "unknown_field",
    "wrong_type",
    "bad_value",
    "out_of_range",
    "too_long",
    "too_large",
    "too_many",
    "too_many_fields",
    "no_log",
    "empty_op",
    // The shared policy (`shared::policy`, `authz::Denied`).
    "forbidden_field",
    "case_closed",
    "immutable_field",
    "bad_transition",
    "bad_deadline",
    "forbidden_extension",
    "bad_reported_at",
    "bad_entry",
    "entry_conflict",
    "op_id_conflict",
    "forged_actor",
    "unknown_source",
    "bad_assignee",
    // What every device must be able to decode (`schema`).
    "too_deep",
    "too_many_entries",
    "record_too_large",
    "control_character",
];

/// Answer to a push: one result per op, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<OpResult>,
    pub server_time_ms: u64,
}

/// `GET /api/v1/history?collection=cases&grid=G&before=SEQ&limit=N`: a grid's cases or visits,
/// latest change first, for a device that does not keep the older ones (the summary profile,
/// [`crate::profile`]): shown while online, not stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub collection: Collection,
    pub grid: RecordId,
    /// Records changed before this seq (the previous page's `next`); none for the first page.
    #[serde(default)]
    pub before: Option<u64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of a grid's history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryPage {
    pub records: Vec<PulledRecord>,
    /// The `before` of the next page; none after the last.
    pub next: Option<u64>,
}

/// `GET /api/v1/sync/pull?cursor=C&limit=N`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: u64,
    #[serde(default)]
    pub limit: Option<u32>,
    /// The area fingerprint the app's pulled data belongs to (`Me::scope`); absent on the
    /// first pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A record as pulled: whole, with the sequence number of its last change, in one object
/// (`{"seq":…,"c":…,…}`, the record in its compact encoding, [`crate::compact`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PulledRecord {
    pub seq: u64,
    pub record: Record,
}

impl Serialize for PulledRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("seq", &self.seq)?;
        crate::compact::serialize_entries(&self.record, &mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for PulledRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (seq, record) = crate::compact::deserialize_pulled(d)?;
        Ok(Self { seq, record })
    }
}

/// Answer to a pull. `reset` tells the app to drop its pulled state and pull again from zero
/// (scope changed, or the cursor is older than the tombstone horizon); its outbox stays.
/// `R` is how the server writes each record (it may hand on a stored body as it is); the app
/// reads [`PulledRecord`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse<R = PulledRecord> {
    pub records: Vec<R>,
    pub cursor: u64,
    pub more: bool,
    pub reset: bool,
    /// Records the device's profile no longer keeps (`crate::profile`): the device drops its
    /// copies (a record with an op still waiting in its outbox stays).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<(Collection, RecordId)>,
    /// The area fingerprint of this answer: the app stores it with its cursor.
    #[serde(default)]
    pub scope: String,
    pub server_time_ms: u64,
}

/// An event on the live stream (`GET /api/v1/live`, server-sent events). The SSE `id` is the
/// sequence number, so `Last-Event-ID` resumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// Something in the subscriber's scope changed up to `seq`: pull.
    Poke { seq: u64 },
}

/// Every error body of the API: `{"error": {"code": …, "message": …}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The detail of an API error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_id: Option<OpId>,
}

/// `GET /healthz` and `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub protocol: u16,
}

/// `POST /api/v1/auth/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Answer to a login: an opaque bearer token (sent as `Authorization: Bearer …`), its expiry and
/// who signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at_ms: u64,
    pub me: Me,
}

/// `GET /api/v1/auth/me`: the signed-in user, their area, and the fingerprint of that area.
/// The app sends `scope` back with every pull; when the user's area has changed since, the pull
/// answers `reset` and the app pulls its new area from zero (keeping its outbox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: crate::case::Role,
    #[serde(default)]
    pub grids: Vec<crate::ids::RecordId>,
    #[serde(default)]
    pub communities: Vec<crate::ids::RecordId>,
    #[serde(default)]
    pub subdistricts: Vec<crate::ids::RecordId>,
    pub scope: String,
}

/// A user as the admin screens list them (never a password or hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub username: String,
    pub display_name: String,
    pub role: crate::case::Role,
    #[serde(default)]
    pub grids: Vec<crate::ids::RecordId>,
    #[serde(default)]
    pub communities: Vec<crate::ids::RecordId>,
    #[serde(default)]
    pub subdistricts: Vec<crate::ids::RecordId>,
    pub disabled: bool,
}

/// `POST /api/v1/admin/users` (create, with `password`) and `PUT /api/v1/admin/users/{name}`
/// (change role and area; `password` ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpsert {
    pub username: String,
    pub display_name: String,
    pub role: crate::case::Role,
    #[serde(default)]
    pub grids: Vec<crate::ids::RecordId>,
    #[serde(default)]
    pub communities: Vec<crate::ids::RecordId>,
    #[serde(default)]
    pub subdistricts: Vec<crate::ids::RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub disabled: bool,
}

/// `POST /api/v1/admin/users/{name}/password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub password: String,
}

/// Shortest password a user may be given.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// `GET /api/v1/staff`: a warden, grid leader or community manager working in the caller's area,
/// with the grids (wardens, grid leaders) or communities (managers) of theirs the caller can see:
/// the map's grid panel, the dashboards' warden counts and the assignee picker (受理派单).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub username: String,
    pub display_name: String,
    pub role: crate::case::Role,
    pub grids: Vec<crate::ids::RecordId>,
    /// A community manager's communities (empty for wardens and grid leaders; absent in lists
    /// kept on a device before managers were listed).
    #[serde(default)]
    pub communities: Vec<crate::ids::RecordId>,
}

/// `GET /api/v1/people`: a colleague as the directory names them (`authz::sees_colleague`), so
/// that timelines, visits and tables show people's names instead of their login ids. The app
/// keeps the last list on the device, so the names are there offline too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub username: String,
    pub display_name: String,
    pub role: crate::case::Role,
}

/// `GET /api/v1/settings`: the deployment's settings every signed-in user needs (any role). The
/// app keeps the last copy it fetched, so it works offline with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Hours to resolve a case per category, and the escalation steps.
    pub deadlines: crate::deadlines::Deadlines,
    /// The map's raster base layer, when the deployment configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiles: Option<TileLayer>,
}

/// A raster tile layer for the map: a URL template with `{z}`, `{x}` and `{y}` (web-mercator
/// XYZ tiles, e.g. `https://tiles.example.cn/{z}/{x}/{y}.png`) and the credit its terms require.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileLayer {
    pub url: String,
    #[serde(default)]
    pub attribution: String,
}

impl TileLayer {
    /// Checks a configured template. The origin goes into the page's Content-Security-Policy,
    /// so only plain URL characters are accepted.
    pub fn new(url: &str, attribution: &str) -> Result<Self, String> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                format!("the tile URL must start with https:// or http://; it is {url:?}")
            })?;
        let host = rest.split('/').next().unwrap_or_default();
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            && !host.starts_with([':', '.', '-']);
        if !host_ok || !rest.contains('/') {
            return Err(format!(
                "the tile URL needs a host name and a path, like https://tiles.example.cn/{{z}}/{{x}}/{{y}}.png; it is {url:?}"
            ));
        }
        if let Some(bad) = url
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&()*+=%{}".contains(*c)))
        {
            return Err(format!(
                "the tile URL may not contain {bad:?} (spaces, quotes, commas and semicolons are refused); it is {url:?}"
            ));
        }
        for part in ["{z}", "{x}", "{y}"] {
            if !url.contains(part) {
                return Err(format!(
                    "the tile URL must contain {part} (and {{z}}, {{x}}, {{y}} in all); it is {url:?}"
                ));
            }
        }
        let attribution = attribution.trim();
        if attribution.chars().count() > 200 {
            return Err("the tile attribution may be at most 200 characters".into());
        }
        Ok(Self {
            url: url.to_owned(),
            attribution: attribution.to_owned(),
        })
    }

    /// `scheme://host[:port]` of the tiles (for the Content-Security-Policy's `img-src`).
    pub fn origin(&self) -> &str {
        let scheme_end = self.url.find("://").map_or(0, |i| i + 3);
        let host_end = self.url[scheme_end..]
            .find('/')
            .map_or(self.url.len(), |i| scheme_end + i);
        &self.url[..host_end]
    }
}

#[cfg(test)]
mod tests {
    use super::TileLayer;

    #[test]
    fn tile_templates_are_checked_and_give_their_origin() {
        let t = TileLayer::new(
            " https://tiles.example.cn:8443/base/{z}/{x}/{y}.png ",
            "© 底图",
        )
        .unwrap();
        assert_eq!(t.url, "https://tiles.example.cn:8443/base/{z}/{x}/{y}.png");
        assert_eq!(t.origin(), "https://tiles.example.cn:8443");
        assert_eq!(t.attribution, "© 底图");
        let q = TileLayer::new("http://127.0.0.1:9000/t?z={z}&x={x}&y={y}", "").unwrap();
        assert_eq!(q.origin(), "http://127.0.0.1:9000");
        for (bad, says) in [
            ("ftp://tiles.example.cn/{z}/{x}/{y}.png", "must start with"),
            ("tiles.example.cn/{z}/{x}/{y}.png", "must start with"),
            ("https:///{z}/{x}/{y}.png", "needs a host"),
            ("https://tiles.example.cn", "needs a host"),
            ("https://tiles.example.cn/{z}/{x}.png", "must contain {y}"),
            // What would break out of the CSP header or the attribute.
            (
                "https://a.cn/{z}/{x}/{y}.png; script-src *",
                "may not contain",
            ),
            ("https://a.cn/{z}/{x}/{y}.png'", "may not contain"),
            ("https://evil.cn,https://a.cn/{z}/{x}/{y}", "needs a host"),
        ] {
            let err = TileLayer::new(bad, "").unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(TileLayer::new("https://a.cn/{z}/{x}/{y}", &"x".repeat(201)).is_err());
    }
}
