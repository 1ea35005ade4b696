//! Where a position lies: point-in-polygon over the grids, offline in the app and on the server
//! (the `geo` crate). A position on the shared edge of two grids belongs to the one with the
//! smaller code, so every replica decides the same; a point inside a polygon's hole is outside.

use crate::ids::RecordId;
use geo::{BoundingRect, Contains, Intersects, MultiPolygon, Point, Rect};
use serde_json::Value;

/// Why a geometry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    #[error("not a GeoJSON geometry: {0}")]
    NotGeoJson(String),
    #[error("the geometry is a {0}; a Polygon or MultiPolygon is needed")]
    NotAPolygon(String),
}

/// Parses a GeoJSON Polygon or MultiPolygon geometry value.
pub fn polygon_from_geojson(value: &Value) -> Result<MultiPolygon<f64>, GeoError> {
    let geometry: geojson::Geometry =
        serde_json::from_value(value.clone()).map_err(|e| GeoError::NotGeoJson(e.to_string()))?;
    let g: geo::Geometry<f64> = geometry
        .try_into()
        .map_err(|e: geojson::Error| GeoError::NotGeoJson(e.to_string()))?;
    match g {
        geo::Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(mp) => Ok(mp),
        other => Err(GeoError::NotAPolygon(geometry_name(&other).to_owned())),
    }
}

fn geometry_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::Line(_) | geo::Geometry::LineString(_) => "LineString",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "geometry",
    }
}

struct Entry {
    id: RecordId,
    code: String,
    bbox: Rect<f64>,
    shape: MultiPolygon<f64>,
}

/// An index of grid polygons for point lookups.
#[derive(Default)]
pub struct GridIndex {
    entries: Vec<Entry>,
}

impl GridIndex {
    /// Builds the index. Grids whose boundary is not a polygon are skipped and returned, so the
    /// caller can say which.
    pub fn build<'a>(
        grids: impl IntoIterator<Item = (RecordId, &'a str, &'a Value)>,
    ) -> (Self, Vec<(RecordId, GeoError)>) {
        let mut entries = Vec::new();
        let mut bad = Vec::new();
        for (id, code, boundary) in grids {
            match polygon_from_geojson(boundary) {
                Ok(shape) => match shape.bounding_rect() {
                    Some(bbox) => entries.push(Entry {
                        id,
                        code: code.to_owned(),
                        bbox,
                        shape,
                    }),
                    None => bad.push((id, GeoError::NotAPolygon("empty polygon".into()))),
                },
                Err(e) => bad.push((id, e)),
            }
        }
        // Sorted by code: the first match is the one that wins a shared edge.
        entries.sort_by(|a, b| a.code.cmp(&b.code).then(a.id.cmp(&b.id)));
        (Self { entries }, bad)
    }

    /// How many grids the index holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The grid a position `(lon, lat)` lies in, if any.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<RecordId> {
        let p = Point::new(lon, lat);
        self.entries
            .iter()
            .filter(|e| e.bbox.intersects(&p))
            .find(|e| e.shape.contains(&p) || e.shape.intersects(&p))
            .map(|e| e.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    #[test]
    fn edges_go_to_the_smaller_code_and_holes_are_outside() {
        let west = json!({"type":"Polygon","coordinates":[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,1.0],[0.0,0.0]]]});
        let east = json!({"type":"Polygon","coordinates":[
            [[1.0,0.0],[2.0,0.0],[2.0,1.0],[1.0,1.0],[1.0,0.0]],
            [[1.4,0.4],[1.6,0.4],[1.6,0.6],[1.4,0.6],[1.4,0.4]]
        ]});
        let (idx, bad) = GridIndex::build([(id(2), "G-B", &east), (id(1), "G-A", &west)]);
        assert!(bad.is_empty());
        assert_eq!(idx.locate(0.5, 0.5), Some(id(1)));
        assert_eq!(idx.locate(1.2, 0.5), Some(id(2)));
        assert_eq!(
            idx.locate(1.0, 0.5),
            Some(id(1)),
            "shared edge → smaller code"
        );
        assert_eq!(idx.locate(1.5, 0.5), None, "inside the hole");
        assert_eq!(idx.locate(1.4, 0.5), Some(id(2)), "on the hole's edge");
        assert_eq!(idx.locate(2.0, 1.0), Some(id(2)), "corner");
        assert_eq!(idx.locate(3.0, 0.5), None, "outside every grid");
    }

    #[test]
    fn non_polygons_are_reported() {
        let point = json!({"type":"Point","coordinates":[1.0,2.0]});
        let junk = json!({"type":"Polygon","coordinates":"no"});
        let (idx, bad) = GridIndex::build([(id(1), "A", &point), (id(2), "B", &junk)]);
        assert!(idx.is_empty());
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].1, GeoError::NotAPolygon("Point".into()));
    }
}
