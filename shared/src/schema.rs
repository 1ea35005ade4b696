//! Collections and their field schemas: what an op may write, validated once at the edge (the
//! server on every push, the app before it queues an op). Unknown fields, wrong types and
//! oversized values are refused with a code and a message a person understands.

use crate::op::{Op, OpBody};
use crate::record::Record;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The collections of records that sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    Subdistricts,
    Communities,
    Grids,
    Compounds,
    Households,
    Cases,
    Visits,
    Activities,
    Units,
    Alliances,
    ServiceCentres,
    Projects,
    /// Derived per (grid, month) by the server (`crate::summary`); no op may write them.
    Summaries,
}

impl Collection {
    /// Every collection, in a stable order.
    pub const ALL: [Collection; 13] = [
        Self::Subdistricts,
        Self::Communities,
        Self::Grids,
        Self::Compounds,
        Self::Households,
        Self::Cases,
        Self::Visits,
        Self::Activities,
        Self::Units,
        Self::Alliances,
        Self::ServiceCentres,
        Self::Projects,
        Self::Summaries,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subdistricts => "subdistricts",
            Self::Communities => "communities",
            Self::Grids => "grids",
            Self::Compounds => "compounds",
            Self::Households => "households",
            Self::Cases => "cases",
            Self::Visits => "visits",
            Self::Activities => "activities",
            Self::Units => "units",
            Self::Alliances => "alliances",
            Self::ServiceCentres => "service_centres",
            Self::Projects => "projects",
            Self::Summaries => "summaries",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The fields an op may set on a record of this collection.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Self::Subdistricts => SUBDISTRICT,
            Self::Communities => COMMUNITY,
            Self::Grids => GRID,
            Self::Compounds => COMPOUND,
            Self::Households => HOUSEHOLD,
            Self::Cases => CASE,
            Self::Visits => VISIT,
            Self::Activities => ACTIVITY,
            Self::Units => UNIT,
            Self::Alliances => ALLIANCE,
            Self::ServiceCentres => SERVICE_CENTRE,
            Self::Projects => PROJECT,
            Self::Summaries => &[],
        }
    }

    /// Whether the collection keeps an append-only log (timeline, attendance, progress).
    pub fn has_log(self) -> bool {
        matches!(self, Self::Cases | Self::Activities | Self::Projects)
    }

    /// Where a record of this collection sits in the hierarchy: which field names its place.
    pub fn scope(self) -> ScopeRule {
        match self {
            Self::Subdistricts => ScopeRule::SelfSubdistrict,
            Self::Communities => ScopeRule::SelfCommunity,
            Self::Grids => ScopeRule::SelfGrid,
            Self::Compounds | Self::Households | Self::Cases | Self::Visits | Self::Summaries => {
                ScopeRule::Grid("grid")
            }
            Self::Activities | Self::Alliances | Self::ServiceCentres | Self::Projects => {
                ScopeRule::Community("community")
            }
            Self::Units => ScopeRule::City,
        }
    }

    /// The spec of one field, if the collection has it.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        match name {
            "deleted" => return Some(&DELETED),
            "synthetic" => return Some(&SYNTHETIC),
            _ => {}
        }
        self.fields().iter().find(|f| f.name == name)
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record sits in the city → subdistrict → community → grid hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeRule {
    /// The record is a subdistrict; its own id is its place.
    SelfSubdistrict,
    /// The record is a community; its own id is its place (its `subdistrict` field the parent).
    SelfCommunity,
    /// The record is a grid; its own id is its place (its `community` field the parent).
    SelfGrid,
    /// The named field holds the id of the grid the record belongs to.
    Grid(&'static str),
    /// The named field holds the id of the community the record belongs to.
    Community(&'static str),
    /// City-wide: visible to every signed-in user.
    City,
}

/// The type of a field's value. `null` is accepted for every field that is not `required`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldType {
    /// A string of at most this many characters.
    Text(usize),
    /// An integer in the range.
    Int(i64, i64),
    /// A number in the range.
    Float(f64, f64),
    Bool,
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// The id (UUID string) of a record in the collection.
    Ref(Collection),
    /// A list of at most N record ids of the collection.
    Refs(Collection, usize),
    /// Milliseconds since the Unix epoch.
    Time,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// `[lon, lat]` in WGS84, with an optional third element: accuracy in metres.
    Point,
    /// A GeoJSON Polygon or MultiPolygon geometry object of at most N bytes.
    Geometry(usize),
    /// A list of at most N photo hashes (64 lowercase hex characters, SHA-256).
    Photos(usize),
    /// A list of at most N strings, each at most M characters.
    TextList(usize, usize),
}

/// One field of a collection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    /// Personal data (a resident's name, phone or ID number): masked by role, never logged.
    pub personal: bool,
}

/// Text fields that hold a user name or a code rather than words a person typed: programs compare
/// them (whose case, which warden), so they are never redacted.
const IDENTIFIER_TEXT: &[&str] = &["code", "reporter", "assignee", "warden"];

impl FieldSpec {
    /// Whether the field is free text a person types (a title, a description, notes, appeals):
    /// a text field that is neither personal data nor an identifier. Phone and ID numbers typed
    /// into such fields are redacted for the levels that get personal fields masked.
    pub fn is_free_text(&self) -> bool {
        matches!(self.ty, FieldType::Text(_) | FieldType::TextList(..))
            && !self.personal
            && !IDENTIFIER_TEXT.contains(&self.name)
    }
}

const fn f(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        personal: false,
    }
}
const fn personal(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        personal: true,
    }
}

/// Every collection's tombstone field.
const DELETED: FieldSpec = f("deleted", FieldType::Bool);
/// Every collection's marker for generated demo data (shown as "synthetic" in the UI).
const SYNTHETIC: FieldSpec = f("synthetic", FieldType::Bool);
const NAME: FieldType = FieldType::Text(120);
const NOTE: FieldType = FieldType::Text(4000);

/// Case sources (DOMAIN.md): resident appeal, patrol, red checkup, consultation meeting, 12345.
pub const CASE_SOURCES: &[&str] = &[
    "resident_appeal",
    "patrol",
    "red_checkup",
    "consultation",
    "hotline_12345",
];
/// Themes of joint activities (health, Erhai lake protection …).
pub const ACTIVITY_THEMES: &[&str] = &[
    "health",
    "erhai_protection",
    "elderly_care",
    "party_education",
    "culture",
    "volunteer",
    "safety",
    "other",
];
/// Case lifecycle states: reported → accepted → in progress → resolved → closed (销号).
pub const CASE_STATUSES: &[&str] = &["reported", "accepted", "in_progress", "resolved", "closed"];
/// Case categories.
pub const CASE_CATEGORIES: &[&str] = &[
    "environment",
    "infrastructure",
    "safety",
    "neighbour_dispute",
    "elderly_care",
    "property_management",
    "erhai_protection",
    "other",
];

const SUBDISTRICT: &[FieldSpec] = &[
    f("code", FieldType::Text(32)),
    f("name", NAME),
    f("kind", FieldType::Enum(&["subdistrict", "town"])),
    f("boundary", FieldType::Geometry(256 * 1024)),
];
const COMMUNITY: &[FieldSpec] = &[
    f("code", FieldType::Text(32)),
    f("name", NAME),
    f("subdistrict", FieldType::Ref(Collection::Subdistricts)),
    f("boundary", FieldType::Geometry(256 * 1024)),
];
const GRID: &[FieldSpec] = &[
    f("code", FieldType::Text(32)),
    f("name", NAME),
    f("community", FieldType::Ref(Collection::Communities)),
    f("boundary", FieldType::Geometry(64 * 1024)),
    f("party_org", FieldType::Text(120)),
];
const COMPOUND: &[FieldSpec] = &[
    f("grid", FieldType::Ref(Collection::Grids)),
    f("name", NAME),
    f("kind", FieldType::Enum(&["compound", "building", "street"])),
    f("position", FieldType::Point),
    f("households", FieldType::Int(0, 100_000)),
    f(
        "property",
        FieldType::Enum(&["property", "quasi_property", "none"]),
    ),
];
const HOUSEHOLD: &[FieldSpec] = &[
    f("grid", FieldType::Ref(Collection::Grids)),
    f("compound", FieldType::Ref(Collection::Compounds)),
    f("address", FieldType::Text(200)),
    personal("head_name", FieldType::Text(60)),
    personal("phone", FieldType::Text(20)),
    f("note", NOTE),
];
const CASE: &[FieldSpec] = &[
    f("grid", FieldType::Ref(Collection::Grids)),
    f("compound", FieldType::Ref(Collection::Compounds)),
    f("title", FieldType::Text(200)),
    f("description", NOTE),
    f("category", FieldType::Enum(CASE_CATEGORIES)),
    f("source", FieldType::Enum(CASE_SOURCES)),
    f("status", FieldType::Enum(CASE_STATUSES)),
    f("reporter", FieldType::Text(64)),
    f("assignee", FieldType::Text(64)),
    f("reported_at", FieldType::Time),
    f("deadline", FieldType::Time),
    f("closed_at", FieldType::Time),
    f("position", FieldType::Point),
    f("photos", FieldType::Photos(9)),
    personal("resident_name", FieldType::Text(60)),
    personal("resident_phone", FieldType::Text(20)),
    personal("resident_id_number", FieldType::Text(18)),
];
const VISIT: &[FieldSpec] = &[
    f("grid", FieldType::Ref(Collection::Grids)),
    f("compound", FieldType::Ref(Collection::Compounds)),
    f("household", FieldType::Ref(Collection::Households)),
    f("kind", FieldType::Enum(&["household_visit", "patrol"])),
    f("warden", FieldType::Text(64)),
    f("visited_at", FieldType::Time),
    f("notes", NOTE),
    f("appeals", FieldType::TextList(20, 500)),
    f("position", FieldType::Point),
    f("photos", FieldType::Photos(9)),
];
const ACTIVITY: &[FieldSpec] = &[
    f("community", FieldType::Ref(Collection::Communities)),
    f("title", FieldType::Text(200)),
    f("theme", FieldType::Enum(ACTIVITY_THEMES)),
    f("special", FieldType::Bool),
    f("date", FieldType::Date),
    f("place", FieldType::Text(200)),
    f("units", FieldType::Refs(Collection::Units, 50)),
    f("volunteers", FieldType::Int(0, 100_000)),
    f("residents_served", FieldType::Int(0, 1_000_000)),
    f("description", NOTE),
    f("photos", FieldType::Photos(9)),
];
const UNIT: &[FieldSpec] = &[
    f("name", NAME),
    f(
        "kind",
        FieldType::Enum(&["agency", "enterprise", "institution", "school", "hospital"]),
    ),
    f("liaison", FieldType::Text(64)),
];
const ALLIANCE: &[FieldSpec] = &[
    f("community", FieldType::Ref(Collection::Communities)),
    f("unit", FieldType::Ref(Collection::Units)),
    f("since", FieldType::Date),
];
const SERVICE_CENTRE: &[FieldSpec] = &[
    f("community", FieldType::Ref(Collection::Communities)),
    f("name", NAME),
    f(
        "level",
        FieldType::Enum(&["city", "subdistrict", "community"]),
    ),
    f("position", FieldType::Point),
];
const PROJECT: &[FieldSpec] = &[
    f("community", FieldType::Ref(Collection::Communities)),
    f("title", FieldType::Text(200)),
    f("target", NOTE),
    f("measures", NOTE),
    f("deadline", FieldType::Date),
    f("responsible", FieldType::Text(64)),
    f("progress", FieldType::Int(0, 100)),
];

/// Most fields one op may set.
pub const MAX_FIELDS_PER_OP: usize = 64;
/// Largest log entry, as serialised JSON.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;
/// Deepest JSON value an op may carry, in a field or as a timeline entry's data: a scalar is
/// depth 0, `[1]` depth 1, `{"a": [1]}` depth 2. The deepest value the schema itself needs is a
/// MultiPolygon boundary (depth 5). A pull page wraps a value six levels deeper (page → records
/// → record → log → entry → data) and the app decodes pages with serde_json, which refuses
/// nesting past 128; 8 leaves that decoder far behind (`app/tests/limits.rs` proves it).
pub const MAX_VALUE_DEPTH: usize = 8;
/// Most timeline entries one record may hold. A busy case gets a few dozen (report, accept,
/// reminders, escalations, close); 1,000 is far beyond honest use, and keeps a record that only
/// grows by appends from growing without end.
pub const MAX_LOG_ENTRIES: usize = 1000;
/// Largest stored record, as serialised JSON (fields with their stamps, and the log). The
/// largest record the field limits alone allow is a subdistrict with a 256 KiB boundary (about
/// 258 KiB with its other fields and stamps), so a set can never trip this; only appends can.
/// 512 KiB keeps one record well inside one pull page that a phone decodes at once.
pub const MAX_RECORD_BYTES: usize = 512 * 1024;

/// Why an op is refused. `code` is stable (the app maps it to a message); `message` names the
/// problem in words a person understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct Invalid {
    pub code: String,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Checks an op's shape against the schema: known fields, right types, sizes. Authorisation and
/// clock checks are the server's; this is the part both sides share.
pub fn validate_op(op: &Op) -> Result<(), Invalid> {
    if op.schema == 0 || op.schema > crate::SCHEMA_VERSION {
        return Err(Invalid::new(
            "unknown_schema",
            format!("schema version {} is not known to this server", op.schema),
        ));
    }
    match &op.body {
        OpBody::Set { fields } => {
            if fields.is_empty() {
                return Err(Invalid::new("empty_op", "the op sets no fields"));
            }
            if fields.len() > MAX_FIELDS_PER_OP {
                return Err(Invalid::new(
                    "too_many_fields",
                    format!(
                        "the op sets {} fields; at most {MAX_FIELDS_PER_OP}",
                        fields.len()
                    ),
                ));
            }
            for (name, value) in fields {
                check_text(name, || format!("a field name of {}", op.collection))?;
                let spec = op.collection.field(name).ok_or_else(|| {
                    Invalid::new(
                        "unknown_field",
                        format!("{} has no field '{}'", op.collection, clip(name)),
                    )
                })?;
                check_json(value, || format!("field '{}'", spec.name))?;
                validate_value(spec, value)?;
            }
            Ok(())
        }
        OpBody::Append { entry } => {
            if !op.collection.has_log() {
                return Err(Invalid::new(
                    "no_log",
                    format!(
                        "{} keeps no timeline; entries cannot be appended",
                        op.collection
                    ),
                ));
            }
            let data = Value::Object(entry.data.clone());
            check_json(&data, || "the timeline entry".to_owned())?;
            let size = data.to_string().len();
            if size > MAX_ENTRY_BYTES {
                return Err(Invalid::new(
                    "too_large",
                    format!("the timeline entry is {size} bytes; at most {MAX_ENTRY_BYTES}"),
                ));
            }
            Ok(())
        }
    }
}

/// Checks a stored record against the limits a single op cannot see: entries per record and
/// bytes per record (`MAX_LOG_ENTRIES`, `MAX_RECORD_BYTES`). The server calls it on the record
/// an op would produce, so whatever it stores, every device can decode.
pub fn check_record_limits(record: &Record) -> Result<(), Invalid> {
    let entries = record.log.len();
    if entries > MAX_LOG_ENTRIES {
        return Err(Invalid::new(
            "too_many_entries",
            format!(
                "this {} record would hold {entries} timeline entries; at most {MAX_LOG_ENTRIES}",
                record.collection
            ),
        ));
    }
    let bytes = record_bytes(record);
    if bytes > MAX_RECORD_BYTES {
        return Err(Invalid::new(
            "record_too_large",
            format!(
                "this {} record would take {bytes} bytes; at most {MAX_RECORD_BYTES}",
                record.collection
            ),
        ));
    }
    Ok(())
}

/// The size of a record serialised as JSON, counted without building the text.
pub fn record_bytes(record: &Record) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serialising plain data into a counter cannot fail.
    serde_json::to_writer(&mut count, record).unwrap_or_default();
    count.0
}

/// Whether a character is refused in stored text: the C0 controls except tab, line feed and
/// carriage return, and DEL. NUL in particular cannot be stored in PostgreSQL's jsonb.
pub fn is_refused_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// Refuses a text holding a control character; `what` names where it is, for the message.
fn check_text(s: &str, what: impl FnOnce() -> String) -> Result<(), Invalid> {
    match s.chars().find(|c| is_refused_control(*c)) {
        None => Ok(()),
        Some(c) => Err(Invalid::new(
            "control_character",
            format!(
                "{} contains the control character U+{:04X}; remove it and save again",
                what(),
                u32::from(c)
            ),
        )),
    }
}

/// Checks every string and object key in a value for control characters, and its nesting depth
/// against `MAX_VALUE_DEPTH`. Iterative, so even a hostile value cannot exhaust the stack.
fn check_json(value: &Value, what: impl Fn() -> String) -> Result<(), Invalid> {
    let too_deep = |what: &dyn Fn() -> String| {
        Invalid::new(
            "too_deep",
            format!(
                "{} is nested more than {MAX_VALUE_DEPTH} levels deep",
                what()
            ),
        )
    };
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::String(s) => check_text(s, &what)?,
            Value::Array(items) => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(too_deep(&what));
                }
                stack.extend(items.iter().map(|i| (i, depth + 1)));
            }
            Value::Object(map) => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(too_deep(&what));
                }
                for (k, i) in map {
                    check_text(k, &what)?;
                    stack.push((i, depth + 1));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

fn wrong(spec: &FieldSpec, expected: &str) -> Invalid {
    Invalid::new(
        "wrong_type",
        format!("field '{}' must be {expected}", spec.name),
    )
}

/// Checks one value against its field's spec.
pub fn validate_value(spec: &FieldSpec, value: &Value) -> Result<(), Invalid> {
    if value.is_null() {
        return Ok(());
    }
    match spec.ty {
        FieldType::Text(max) => {
            let s = value.as_str().ok_or_else(|| wrong(spec, "text"))?;
            let n = s.chars().count();
            if n > max {
                return Err(Invalid::new(
                    "too_long",
                    format!("field '{}' has {n} characters; at most {max}", spec.name),
                ));
            }
        }
        FieldType::Int(lo, hi) => {
            let n = value
                .as_i64()
                .ok_or_else(|| wrong(spec, "a whole number"))?;
            if n < lo || n > hi {
                return Err(Invalid::new(
                    "out_of_range",
                    format!("field '{}' must be between {lo} and {hi}", spec.name),
                ));
            }
        }
        FieldType::Float(lo, hi) => {
            let n = value.as_f64().ok_or_else(|| wrong(spec, "a number"))?;
            if !(lo..=hi).contains(&n) {
                return Err(Invalid::new(
                    "out_of_range",
                    format!("field '{}' must be between {lo} and {hi}", spec.name),
                ));
            }
        }
        FieldType::Bool => {
            value
                .as_bool()
                .ok_or_else(|| wrong(spec, "true or false"))?;
        }
        FieldType::Enum(options) => {
            let s = value.as_str().ok_or_else(|| wrong(spec, "text"))?;
            if !options.contains(&s) {
                return Err(Invalid::new(
                    "bad_value",
                    format!(
                        "field '{}' must be one of: {}",
                        spec.name,
                        options.join(", ")
                    ),
                ));
            }
        }
        FieldType::Ref(_) => check_uuid(spec, value)?,
        FieldType::Refs(_, max) => {
            let items = value
                .as_array()
                .ok_or_else(|| wrong(spec, "a list of ids"))?;
            check_len(spec, items.len(), max)?;
            for item in items {
                check_uuid(spec, item)?;
            }
        }
        FieldType::Time => {
            let n = value
                .as_i64()
                .ok_or_else(|| wrong(spec, "a time in milliseconds"))?;
            if !(0..=crate::hlc::MAX_WALL_MS as i64).contains(&n) {
                return Err(Invalid::new(
                    "out_of_range",
                    format!("field '{}' is not a plausible time", spec.name),
                ));
            }
        }
        FieldType::Date => {
            let s = value
                .as_str()
                .ok_or_else(|| wrong(spec, "a date YYYY-MM-DD"))?;
            if !is_date(s) {
                return Err(wrong(spec, "a date YYYY-MM-DD"));
            }
        }
        FieldType::Point => check_point(spec, value)?,
        FieldType::Geometry(max) => check_geometry(spec, value, max)?,
        FieldType::Photos(max) => check_photos(spec, value, max)?,
        FieldType::TextList(max, each) => check_text_list(spec, value, max, each)?,
    }
    Ok(())
}

/// A list of at most `max` photo hashes (SHA-256, hex).
fn check_photos(spec: &FieldSpec, value: &Value, max: usize) -> Result<(), Invalid> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong(spec, "a list of photo hashes"))?;
    check_len(spec, items.len(), max)?;
    for item in items {
        let ok = item.as_str().is_some_and(is_sha256_hex);
        if !ok {
            return Err(wrong(spec, "a list of SHA-256 photo hashes"));
        }
    }
    Ok(())
}

/// A list of at most `max` texts of at most `each` characters.
fn check_text_list(
    spec: &FieldSpec,
    value: &Value,
    max: usize,
    each: usize,
) -> Result<(), Invalid> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong(spec, "a list of texts"))?;
    check_len(spec, items.len(), max)?;
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| wrong(spec, "a list of texts"))?;
        if s.chars().count() > each {
            return Err(Invalid::new(
                "too_long",
                format!(
                    "an item of '{}' is longer than {each} characters",
                    spec.name
                ),
            ));
        }
    }
    Ok(())
}

fn check_len(spec: &FieldSpec, n: usize, max: usize) -> Result<(), Invalid> {
    if n > max {
        return Err(Invalid::new(
            "too_many",
            format!("field '{}' has {n} items; at most {max}", spec.name),
        ));
    }
    Ok(())
}

fn check_uuid(spec: &FieldSpec, value: &Value) -> Result<(), Invalid> {
    let ok = value
        .as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok());
    if ok {
        Ok(())
    } else {
        Err(wrong(spec, "a record id (UUID)"))
    }
}

fn check_point(spec: &FieldSpec, value: &Value) -> Result<(), Invalid> {
    let bad = || {
        wrong(
            spec,
            "a position [longitude, latitude] or [lon, lat, accuracy_m]",
        )
    };
    let items = value.as_array().ok_or_else(bad)?;
    if !(2..=3).contains(&items.len()) {
        return Err(bad());
    }
    let nums: Vec<f64> = items
        .iter()
        .map(Value::as_f64)
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let (lon, lat) = (nums[0], nums[1]);
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(Invalid::new(
            "out_of_range",
            format!("field '{}' is outside longitude/latitude ranges", spec.name),
        ));
    }
    if nums.get(2).is_some_and(|a| *a < 0.0) {
        return Err(bad());
    }
    Ok(())
}

fn check_geometry(spec: &FieldSpec, value: &Value, max: usize) -> Result<(), Invalid> {
    let size = value.to_string().len();
    if size > max {
        return Err(Invalid::new(
            "too_large",
            format!("field '{}' is {size} bytes; at most {max}", spec.name),
        ));
    }
    let obj = value
        .as_object()
        .ok_or_else(|| wrong(spec, "a GeoJSON geometry"))?;
    let ty = obj.get("type").and_then(Value::as_str);
    let depth = match ty {
        Some("Polygon") => 3,
        Some("MultiPolygon") => 4,
        _ => return Err(wrong(spec, "a GeoJSON Polygon or MultiPolygon")),
    };
    let coords = obj
        .get("coordinates")
        .ok_or_else(|| wrong(spec, "a GeoJSON geometry"))?;
    if !positions_ok(coords, depth) {
        return Err(wrong(spec, "a GeoJSON geometry with [lon, lat] positions"));
    }
    Ok(())
}

fn positions_ok(v: &Value, depth: usize) -> bool {
    let Some(items) = v.as_array() else {
        return false;
    };
    if depth == 1 {
        return items.len() >= 2
            && items.len() <= 3
            && items[0]
                .as_f64()
                .is_some_and(|x| (-180.0..=180.0).contains(&x))
            && items[1]
                .as_f64()
                .is_some_and(|y| (-90.0..=90.0).contains(&y));
    }
    !items.is_empty() && items.iter().all(|i| positions_ok(i, depth - 1))
}

/// Whether `s` is a lowercase hex SHA-256 digest.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d))
}

/// The record's fields as a plain object with personal fields replaced by a mask, for roles that
/// do not handle the record. Phones keep their last four digits.
pub fn mask_personal(collection: Collection, fields: &mut Map<String, Value>) {
    for spec in collection.fields().iter().filter(|s| s.personal) {
        if let Some(v) = fields.get_mut(spec.name) {
            if let Some(s) = v.as_str() {
                *v = Value::String(mask(s));
            }
        }
    }
}

/// A phone number as people type them: digits with optional +, spaces and dashes, 5 to 20
/// characters with at least 5 digits (what the forms accept before a number is stored).
pub fn plausible_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&p.chars().count())
        && digits >= 5
        && p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
}

/// Masks a personal value: keeps the last 4 characters of long values, the first of short ones.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n >= 7 => {
            let tail: String = chars[n - 4..].iter().collect();
            format!("{}{tail}", "*".repeat(n - 4))
        }
        n => format!("{}{}", chars[0], "*".repeat(n - 1)),
    }
}
