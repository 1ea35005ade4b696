//! Importing grids from a GeoJSON file (an admin's upload): parse, convert the coordinate system,
//! validate every feature, and either hand back a complete plan or the list of problems, each
//! naming its feature. Nothing is applied while any problem remains ("imports none until
//! fixed"); applying the plan is the server's job. Warnings (a grid far outside its community)
//! do not block, but an apply must say it accepts them.
//!
//! Numbers meant for people (features, rings) count from 1 in every text; `Problem::index`
//! stays the 0-based position in the `features` array, for programs.
//!
//! Chinese map data is often in GCJ-02 (the "Mars" offset) or Baidu's BD-09; positions are
//! converted to WGS84 with `coordtransform`'s refined inverse (sub-millimetre round trip).

use crate::geo::polygon_from_geojson;
use geo::{
    BoundingRect, Distance, Euclidean, Intersects, MapCoords, MultiPolygon, Relate, Validation,
};
use geojson::GeoJson;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The coordinate system of the uploaded positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    Wgs84,
    Gcj02,
    Bd09,
}

impl Crs {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "epsg4326" | "crs84" => Some(Self::Wgs84),
            "gcj02" => Some(Self::Gcj02),
            "bd09" => Some(Self::Bd09),
            _ => None,
        }
    }

    /// Converts one position `(lon, lat)` to WGS84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => coordtransform::gcj02_to_wgs84(lon, lat),
            Self::Bd09 => coordtransform::bd09_to_wgs84(lon, lat),
        }
    }

    /// Converts one WGS84 position `(lon, lat)` into this system (for files that must be
    /// offset, e.g. a GCJ-02 twin of a WGS84 file).
    pub fn convert_from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => coordtransform::wgs84_to_gcj02(lon, lat),
            Self::Bd09 => coordtransform::wgs84_to_bd09(lon, lat),
        }
    }
}

/// Which feature properties hold the grid's code, name and community code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyMap {
    pub code: String,
    pub name: String,
    pub community: String,
}

impl Default for PropertyMap {
    fn default() -> Self {
        Self {
            code: "code".into(),
            name: "name".into(),
            community: "community".into(),
        }
    }
}

/// A grid ready to be written: WGS84 boundary, code, name, and its community's code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportedGrid {
    pub index: usize,
    pub code: String,
    pub name: String,
    pub community_code: String,
    pub boundary: Value,
}

/// `POST /api/v1/admin/grids/import`: an admin's GeoJSON file and how to read it. With
/// `apply = false` the server only checks it and answers the plan (the preview).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridImportRequest {
    /// The file's text (a GeoJSON FeatureCollection).
    pub geojson: String,
    pub crs: Crs,
    #[serde(default)]
    pub properties: PropertyMap,
    #[serde(default)]
    pub apply: bool,
    /// The admin saw the preview's warnings and imports anyway (an apply with warnings is
    /// refused without it).
    #[serde(default)]
    pub accept_warnings: bool,
}

/// What an import does to one grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// A grid with a code not seen before.
    New,
    /// The grid with this code exists: its name, community and boundary are replaced.
    Update,
}

/// One grid of the plan, as it will be written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedGrid {
    pub index: usize,
    pub id: crate::ids::RecordId,
    pub action: ImportAction,
    pub code: String,
    pub name: String,
    pub community_code: String,
    pub community: crate::ids::RecordId,
    /// WGS84 GeoJSON geometry.
    pub boundary: Value,
}

/// The answer to an import: the problems (then nothing was written, status 422), or the plan,
/// written when `applied`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GridImportReport {
    pub problems: Vec<Problem>,
    /// What looks wrong but may be right (a grid far outside its community's area): shown in
    /// the preview; an apply must accept them.
    #[serde(default)]
    pub warnings: Vec<Problem>,
    pub grids: Vec<PlannedGrid>,
    pub applied: bool,
}

/// One problem with the file: the feature's position in `features` (0-based; texts say it
/// from 1) if it is about one, a stable
/// `code` with the values its text names (the app says it in the user's language from its
/// `import.problem.<code>` strings), and the English text for API users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub index: Option<usize>,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    pub message: String,
}

/// The problems an import reports, by code, with their English text (`{name}` is an arg).
pub const PROBLEM_TEXTS: &[(&str, &str)] = &[
    ("not_json", "the file is not valid JSON: {e}"),
    ("unknown_crs", "unknown coordinate reference system '{name}'; use WGS84 lon/lat (and choose GCJ-02 or BD-09 if the positions are offset)"),
    ("not_collection", "the file must be a GeoJSON FeatureCollection"),
    ("not_geojson", "the file is not valid GeoJSON: {e}"),
    ("no_features", "the file has no features"),
    ("missing_property", "the property '{key}' is missing or empty"),
    ("no_geometry", "the feature has no geometry"),
    ("unreadable_geometry", "the geometry cannot be read: {e}"),
    ("no_coordinates", "the geometry has no coordinates"),
    ("not_polygon", "the geometry is a {kind}; a Polygon or MultiPolygon is needed"),
    ("bad_coordinates", "the coordinates are not nested arrays of [lon, lat] positions"),
    ("no_rings", "a polygon has no rings"),
    ("short_ring", "ring {ring} has {n} positions; a closed ring needs at least 4"),
    ("bad_position", "ring {ring} has a position that is not [lon, lat]"),
    ("out_of_range", "ring {ring} has a position outside lon/lat ranges: [{lon}, {lat}] (are these projected metres?)"),
    ("ring_not_closed", "ring {ring} is not closed: its first and last positions differ"),
    ("bad_geometry", "the geometry cannot be used: {e}"),
    ("invalid_polygon", "invalid polygon: {reasons}"),
    ("duplicate_code", "the code '{code}' is used by feature {first} too"),
    ("overlaps_feature", "the polygon overlaps feature {other}"),
    ("overlaps_grid", "the polygon overlaps the existing grid {code} ({name}), which this file does not replace"),
    ("unknown_community", "there is no community with the code '{code}'"),
    ("other_community", "the grid {code} exists in another community; an import does not move grids between communities (move it first, or give it a new code)"),
    ("invalid_record", "the grid would be an invalid record: {e}"),
    ("refused", "the grid was refused: {e}"),
    ("far_from_community", "the grid {code} lies {km} km outside the area of its community {community}: check the community code and the coordinate system"),
    ("warnings_not_accepted", "the file has {n} warnings: look at them in the preview, and send accept_warnings to import anyway"),
];

/// A grid farther than this from its community's area (its boundary, or else its other grids)
/// is warned about: grids tile their community, so kilometres away is a wrong community code or
/// coordinate system far more often than a real grid.
pub const FAR_FROM_COMMUNITY_M: f64 = 2_000.0;

/// Mean Earth radius for the local projection (m).
const EARTH_M: f64 = 6_371_000.0;

/// The distance in metres between a grid and its community's area (0 when they touch or
/// overlap), in a local equirectangular projection (within metres at a city's scale).
pub fn distance_m(grid: &MultiPolygon<f64>, area: &MultiPolygon<f64>) -> Option<f64> {
    let lat0 = area.bounding_rect()?.center().y.to_radians();
    let local = |mp: &MultiPolygon<f64>| {
        mp.map_coords(|c| {
            geo::coord! {
                x: c.x.to_radians() * lat0.cos() * EARTH_M,
                y: c.y.to_radians() * EARTH_M,
            }
        })
    };
    let (g, a) = (local(grid), local(area));
    g.0.iter()
        .map(|p| Euclidean.distance(&a, p))
        .reduce(f64::min)
}

/// A community's area for [`far_from_community`]: its boundary when drawn, else its grids'
/// outlines together (`None` when it has neither).
pub fn community_area<'a>(
    boundary: Option<&Value>,
    grids: impl IntoIterator<Item = &'a Value>,
) -> Option<MultiPolygon<f64>> {
    if let Some(b) = boundary {
        return polygon_from_geojson(b).ok();
    }
    let polygons: Vec<geo::Polygon<f64>> = grids
        .into_iter()
        .filter_map(|g| polygon_from_geojson(g).ok())
        .flat_map(|mp| mp.0)
        .collect();
    (!polygons.is_empty()).then_some(MultiPolygon(polygons))
}

/// A warning when an imported grid lies more than [`FAR_FROM_COMMUNITY_M`] outside `area`, its
/// community's area, naming the distance in km.
pub fn far_from_community(
    grid: &ImportedGrid,
    community_name: &str,
    area: &MultiPolygon<f64>,
) -> Option<Problem> {
    let shape = polygon_from_geojson(&grid.boundary).ok()?;
    let d = distance_m(&shape, area)?;
    (d > FAR_FROM_COMMUNITY_M).then(|| {
        problem(
            Some(grid.index),
            "far_from_community",
            &[
                ("code", grid.code.clone()),
                ("km", format!("{:.1}", d / 1000.0)),
                (
                    "community",
                    format!("{} {community_name}", grid.community_code),
                ),
            ],
        )
    })
}

/// A problem by its code (one of [`PROBLEM_TEXTS`]) and the values its text names.
pub fn problem(index: Option<usize>, code: &'static str, args: &[(&str, String)]) -> Problem {
    let (args, message) = crate::problem_text::render(PROBLEM_TEXTS, code, args);
    Problem {
        index,
        code: code.to_owned(),
        message,
        args,
    }
}

/// Why a geometry cannot be used: a problem code and its values.
type Why = (&'static str, Vec<(&'static str, String)>);

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "feature {}: {}", i + 1, self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// CRS names accepted in a file's legacy `crs` member (all mean WGS84 lon/lat).
const WGS84_NAMES: [&str; 4] = [
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4326",
];

/// The features of a file that is a GeoJSON FeatureCollection in WGS84 lon/lat (or no `crs`
/// member), at least one.
fn read_features(text: &str) -> Result<Vec<geojson::Feature>, Vec<Problem>> {
    let raw: Value = serde_json::from_str(text)
        .map_err(|e| vec![problem(None, "not_json", &[("e", e.to_string())])])?;
    if let Some(name) = raw.pointer("/crs/properties/name").and_then(Value::as_str) {
        if !WGS84_NAMES.contains(&name) {
            return Err(vec![problem(
                None,
                "unknown_crs",
                &[("name", name.to_owned())],
            )]);
        }
    }
    let features = match serde_json::from_value::<GeoJson>(raw) {
        Ok(GeoJson::FeatureCollection(fc)) => fc.features,
        Ok(_) => return Err(vec![problem(None, "not_collection", &[])]),
        Err(e) => return Err(vec![problem(None, "not_geojson", &[("e", e.to_string())])]),
    };
    if features.is_empty() {
        return Err(vec![problem(None, "no_features", &[])]);
    }
    Ok(features)
}

/// Parses and validates a GeoJSON FeatureCollection of grids. Returns every grid, or every
/// problem found (not just the first).
pub fn parse_grids(
    text: &str,
    crs: Crs,
    props: &PropertyMap,
) -> Result<Vec<ImportedGrid>, Vec<Problem>> {
    let features = read_features(text)?;
    let mut problems = Vec::new();
    let mut grids = Vec::new();
    let mut shapes: Vec<(usize, MultiPolygon<f64>)> = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for (i, feature) in features.into_iter().enumerate() {
        let at = Some(i);
        let properties = feature.properties.unwrap_or_default();
        let text_prop = |key: &str, problems: &mut Vec<Problem>| -> Option<String> {
            match properties.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => {
                    problems.push(problem(at, "missing_property", &[("key", key.to_owned())]));
                    None
                }
            }
        };
        let code = text_prop(&props.code, &mut problems);
        let name = text_prop(&props.name, &mut problems);
        let community = text_prop(&props.community, &mut problems);
        let Some(geometry) = feature.geometry else {
            problems.push(problem(at, "no_geometry", &[]));
            continue;
        };
        let value = match serde_json::to_value(&geometry) {
            Ok(v) => v,
            Err(e) => {
                problems.push(problem(at, "unreadable_geometry", &[("e", e.to_string())]));
                continue;
            }
        };
        let converted = match convert_geometry(&value, crs) {
            Ok(v) => v,
            Err((code, args)) => {
                problems.push(problem(at, code, &args));
                continue;
            }
        };
        let shape = match polygon_from_geojson(&converted) {
            Ok(s) => s,
            Err(e) => {
                problems.push(problem(at, "bad_geometry", &[("e", e.to_string())]));
                continue;
            }
        };
        let errors = shape.validation_errors();
        if !errors.is_empty() {
            let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
            problems.push(problem(
                at,
                "invalid_polygon",
                &[("reasons", reasons.join("; "))],
            ));
            continue;
        }
        if let Some(code) = &code {
            if let Some(first) = codes.insert(code.clone(), i) {
                problems.push(problem(
                    at,
                    "duplicate_code",
                    &[("code", code.clone()), ("first", (first + 1).to_string())],
                ));
            }
        }
        shapes.push((i, shape));
        if let (Some(code), Some(name), Some(community_code)) = (code, name, community) {
            grids.push(ImportedGrid {
                index: i,
                code,
                name,
                community_code,
                boundary: converted,
            });
        }
    }
    problems.extend(overlaps(&shapes));
    if problems.is_empty() {
        Ok(grids)
    } else {
        problems.sort_by_key(|p| p.index);
        Err(problems)
    }
}

/// Pairs of features whose interiors overlap (sharing an edge is fine: grids tile).
fn overlaps(shapes: &[(usize, MultiPolygon<f64>)]) -> Vec<Problem> {
    let boxes: Vec<_> = shapes.iter().map(|(_, s)| s.bounding_rect()).collect();
    let mut out = Vec::new();
    for a in 0..shapes.len() {
        for b in a + 1..shapes.len() {
            let (Some(ba), Some(bb)) = (boxes[a], boxes[b]) else {
                continue;
            };
            if !ba.intersects(&bb) {
                continue;
            }
            let m = shapes[a].1.relate(&shapes[b].1);
            if m.is_intersects() && !m.is_touches() {
                out.push(problem(
                    Some(shapes[b].0),
                    "overlaps_feature",
                    &[("other", (shapes[a].0 + 1).to_string())],
                ));
            }
        }
    }
    out
}

/// Imported grids whose interiors overlap an existing grid that the import does not replace
/// (grids are matched by code). `existing` is (code, name, boundary) of the grids stored now.
pub fn overlaps_existing<'a>(
    imported: &[ImportedGrid],
    existing: impl IntoIterator<Item = (&'a str, &'a str, &'a Value)>,
) -> Vec<Problem> {
    let replaced: std::collections::BTreeSet<&str> =
        imported.iter().map(|g| g.code.as_str()).collect();
    let kept: Vec<(&str, &str, MultiPolygon<f64>)> = existing
        .into_iter()
        .filter(|(code, _, _)| !replaced.contains(code))
        .filter_map(|(code, name, b)| Some((code, name, polygon_from_geojson(b).ok()?)))
        .collect();
    let kept_boxes: Vec<_> = kept.iter().map(|(_, _, s)| s.bounding_rect()).collect();
    let mut out = Vec::new();
    for g in imported {
        let Ok(shape) = polygon_from_geojson(&g.boundary) else {
            continue;
        };
        let Some(bbox) = shape.bounding_rect() else {
            continue;
        };
        for ((code, name, other), obox) in kept.iter().zip(&kept_boxes) {
            if !obox.is_some_and(|b| b.intersects(&bbox)) {
                continue;
            }
            let m = shape.relate(other);
            if m.is_intersects() && !m.is_touches() {
                out.push(problem(
                    Some(g.index),
                    "overlaps_grid",
                    &[("code", (*code).to_owned()), ("name", (*name).to_owned())],
                ));
            }
        }
    }
    out
}

/// Checks ring closure and ranges, and converts every position to WGS84.
fn convert_geometry(g: &Value, crs: Crs) -> Result<Value, Why> {
    let bad = || ("bad_coordinates", Vec::new());
    let ty = g.get("type").and_then(Value::as_str).unwrap_or("");
    let coords = g.get("coordinates").ok_or(("no_coordinates", Vec::new()))?;
    let polygons: Vec<&Value> = match ty {
        "Polygon" => vec![coords],
        "MultiPolygon" => coords.as_array().ok_or_else(bad)?.iter().collect(),
        other => return Err(("not_polygon", vec![("kind", other.to_owned())])),
    };
    let mut out_polys = Vec::new();
    for poly in polygons {
        let rings = poly.as_array().ok_or_else(bad)?;
        if rings.is_empty() {
            return Err(("no_rings", Vec::new()));
        }
        let mut out_rings = Vec::new();
        for (ri, ring) in rings.iter().enumerate() {
            let pts = ring.as_array().ok_or_else(bad)?;
            let ring_no = ("ring", (ri + 1).to_string());
            if pts.len() < 4 {
                return Err(("short_ring", vec![ring_no, ("n", pts.len().to_string())]));
            }
            let mut out_pts = Vec::with_capacity(pts.len());
            for p in pts {
                let (lon, lat) = match p.as_array().map(Vec::as_slice) {
                    Some([x, y, ..]) => (x.as_f64(), y.as_f64()),
                    _ => (None, None),
                };
                let (Some(lon), Some(lat)) = (lon, lat) else {
                    return Err(("bad_position", vec![ring_no]));
                };
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                    return Err((
                        "out_of_range",
                        vec![ring_no, ("lon", lon.to_string()), ("lat", lat.to_string())],
                    ));
                }
                let (x, y) = crs.to_wgs84(lon, lat);
                out_pts.push(json!([round7(x), round7(y)]));
            }
            if pts.first() != pts.last() {
                return Err(("ring_not_closed", vec![ring_no]));
            }
            // Keep the ring exactly closed after rounding.
            if let Some(first) = out_pts.first().cloned() {
                if let Some(last) = out_pts.last_mut() {
                    *last = first;
                }
            }
            out_rings.push(Value::Array(out_pts));
        }
        out_polys.push(Value::Array(out_rings));
    }
    let mut m = Map::new();
    if ty == "Polygon" {
        m.insert("type".into(), json!("Polygon"));
        m.insert(
            "coordinates".into(),
            out_polys.into_iter().next().unwrap_or(Value::Null),
        );
    } else {
        m.insert("type".into(), json!("MultiPolygon"));
        m.insert("coordinates".into(), Value::Array(out_polys));
    }
    Ok(Value::Object(m))
}

/// 1e-7 degrees is about 1 cm.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, d: f64) -> Value {
        json!({"type":"Polygon","coordinates":[[[x,y],[x+d,y],[x+d,y+d],[x,y+d],[x,y]]]})
    }

    fn fc(features: Vec<Value>) -> String {
        json!({"type":"FeatureCollection","features":features}).to_string()
    }

    fn feature(code: &str, g: Value) -> Value {
        json!({"type":"Feature","properties":{"code":code,"name":format!("网格{code}"),"community":"S1-C01"},"geometry":g})
    }

    #[test]
    fn a_clean_file_imports_every_grid() {
        let text = fc(vec![
            feature("A", square(100.2, 25.6, 0.01)),
            feature("B", square(100.21, 25.6, 0.01)),
        ]);
        let grids = parse_grids(&text, Crs::Wgs84, &PropertyMap::default()).unwrap();
        assert_eq!(grids.len(), 2, "shared edges are fine");
        assert_eq!(grids[1].code, "B");
    }

    #[test]
    fn one_broken_feature_stops_the_import_and_is_named() {
        let open_ring = json!({"type":"Polygon","coordinates":[[[100.0,25.0],[100.1,25.0],[100.1,25.1],[100.0,25.2]]]});
        let bowtie = json!({"type":"Polygon","coordinates":[[[100.0,25.0],[100.1,25.1],[100.1,25.0],[100.0,25.1],[100.0,25.0]]]});
        let text = fc(vec![
            feature("A", square(100.2, 25.6, 0.01)),
            feature("B", open_ring),
            feature("C", bowtie),
            json!({"type":"Feature","properties":{"name":"x","community":"c"},"geometry":square(100.5, 25.6, 0.01)}),
            feature("E", square(100.205, 25.605, 0.01)),
            feature("F", square(400.0, 25.0, 1.0)),
            feature("A", square(100.7, 25.6, 0.01)),
        ]);
        let problems = parse_grids(&text, Crs::Wgs84, &PropertyMap::default()).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |i: usize, s: &str| {
            problems
                .iter()
                .any(|p| p.index == Some(i) && p.message.contains(s))
        };
        assert!(has(1, "not closed"), "{text:?}");
        assert!(has(2, "invalid polygon"), "{text:?}");
        assert!(has(3, "'code' is missing"), "{text:?}");
        assert!(has(4, "overlaps feature 1"), "{text:?}");
        assert!(has(5, "outside lon/lat"), "{text:?}");
        assert!(has(6, "used by feature 1"), "{text:?}");
        // People count from 1: the second feature's open ring is "feature 2: ring 1".
        assert!(
            text.contains(
                &"feature 2: ring 1 is not closed: its first and last positions differ".to_owned()
            ),
            "{text:?}"
        );
        // Each has a known code whose English text, filled from its args, is the message.
        for p in &problems {
            let template = PROBLEM_TEXTS
                .iter()
                .find(|(c, _)| *c == p.code)
                .map(|(_, t)| *t);
            assert_eq!(
                template.map(|t| crate::problem_text::fill(t, &p.args)),
                Some(p.message.clone()),
                "{p:?}"
            );
        }
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        for c in [
            "ring_not_closed",
            "invalid_polygon",
            "missing_property",
            "overlaps_feature",
            "out_of_range",
            "duplicate_code",
        ] {
            assert!(codes.contains(&c), "{c} in {codes:?}");
        }
    }

    #[test]
    fn unknown_crs_and_non_geojson_are_refused() {
        let text = json!({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}).to_string();
        let p = parse_grids(&text, Crs::Wgs84, &PropertyMap::default()).unwrap_err();
        assert!(p[0].message.contains("EPSG:3857"));
        assert!(parse_grids("{", Crs::Wgs84, &PropertyMap::default()).is_err());
        assert!(parse_grids(
            r#"{"type":"Point","coordinates":[1,2]}"#,
            Crs::Wgs84,
            &PropertyMap::default()
        )
        .is_err());
    }

    #[test]
    fn overlaps_with_grids_kept_are_reported_and_replaced_ones_are_not() {
        let text = fc(vec![
            feature("A", square(100.2, 25.6, 0.01)),
            feature("B", square(100.3, 25.6, 0.01)),
        ]);
        let grids = parse_grids(&text, Crs::Wgs84, &PropertyMap::default()).unwrap();
        let old_a = square(100.201, 25.601, 0.01);
        let old_x = square(100.305, 25.605, 0.01);
        let neighbour = square(100.21, 25.6, 0.01);
        let existing = [
            ("A", "old A", &old_a),
            ("X", "其他网格", &old_x),
            ("N", "neighbour", &neighbour),
        ];
        let problems = overlaps_existing(&grids, existing);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].index, Some(1));
        assert!(problems[0].message.contains("X (其他网格)"));
    }

    /// Metres between two WGS84 positions (equirectangular; exact enough at 1 m).
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let lat = a.1.to_radians();
        let dx = (b.0 - a.0).to_radians() * lat.cos() * 6_371_000.0;
        let dy = (b.1 - a.1).to_radians() * 6_371_000.0;
        dx.hypot(dy)
    }

    #[test]
    fn a_gcj02_file_lands_within_a_metre_of_its_wgs84_twin() {
        let wgs = [
            (100.2, 25.6),
            (100.21, 25.6),
            (100.21, 25.61),
            (100.2, 25.61),
            (100.2, 25.6),
        ];
        for (crs, forward) in [
            (
                Crs::Gcj02,
                coordtransform::wgs84_to_gcj02 as fn(f64, f64) -> (f64, f64),
            ),
            (Crs::Bd09, coordtransform::wgs84_to_bd09),
        ] {
            let shifted: Vec<Value> = wgs
                .iter()
                .map(|&(x, y)| {
                    let (a, b) = forward(x, y);
                    json!([a, b])
                })
                .collect();
            // The offset is real: hundreds of metres before conversion.
            let first = shifted[0].as_array().unwrap();
            assert!(
                metres(
                    wgs[0],
                    (first[0].as_f64().unwrap(), first[1].as_f64().unwrap())
                ) > 100.0
            );
            let text = fc(vec![feature(
                "A",
                json!({"type":"Polygon","coordinates":[shifted]}),
            )]);
            let grids = parse_grids(&text, crs, &PropertyMap::default()).unwrap();
            let ring = grids[0].boundary["coordinates"][0].as_array().unwrap();
            for (p, w) in ring.iter().zip(wgs) {
                let got = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
                assert!(metres(got, w) < 1.0, "{crs:?}: {got:?} vs {w:?}");
            }
        }
    }

    #[test]
    fn a_grid_kilometres_outside_its_community_is_warned_about_with_the_distance() {
        let area = polygon_from_geojson(&square(100.2, 25.6, 0.02)).unwrap();
        let text = fc(vec![
            feature("IN", square(100.205, 25.605, 0.005)),
            feature("NEXT", square(100.22, 25.6, 0.01)),
            feature("FAR", square(100.32, 25.6, 0.01)),
        ]);
        let grids = parse_grids(&text, Crs::Wgs84, &PropertyMap::default()).unwrap();
        let warned: Vec<Problem> = grids
            .iter()
            .filter_map(|g| far_from_community(g, "一社区", &area))
            .collect();
        assert_eq!(warned.len(), 1, "inside and adjacent are fine: {warned:?}");
        let w = &warned[0];
        assert_eq!((w.index, w.code.as_str()), (Some(2), "far_from_community"));
        // 0.1° of longitude at 25.6°N is about 10.0 km.
        let km: f64 = w.args["km"].parse().unwrap();
        assert!((km - 10.0).abs() < 0.2, "{w:?}");
        assert!(w.message.contains("S1-C01 一社区"), "{w:?}");
        let inside = polygon_from_geojson(&square(100.205, 25.605, 0.005)).unwrap();
        assert_eq!(distance_m(&inside, &area), Some(0.0));
    }
}
