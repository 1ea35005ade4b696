//! The service network (1+5+44) and the 15-minute service circle (15分钟服务圈). A 15-minute walk
//! is taken as 1.2 km in a straight line — stated wherever it is shown, since streets are longer.

use crate::geo::polygon_from_geojson;
use crate::ids::RecordId;
use geo::{Centroid, Distance, Haversine, Point};
use serde_json::Value;

/// The reach of a 15-minute walk, as a straight line, in metres.
pub const WALK_15_MIN_METRES: f64 = 1200.0;

/// Grids whose centroid lies farther than [`WALK_15_MIN_METRES`] from every given centre
/// (`(lon, lat)`), with the distance in metres to the nearest one. Grids without a readable
/// boundary are skipped.
pub fn grids_outside_reach<'a>(
    grids: impl IntoIterator<Item = (RecordId, &'a Value)>,
    centres: &[(f64, f64)],
) -> Vec<(RecordId, f64)> {
    let centres: Vec<Point<f64>> = centres.iter().map(|&(x, y)| Point::new(x, y)).collect();
    let mut out = Vec::new();
    for (id, boundary) in grids {
        let Ok(shape) = polygon_from_geojson(boundary) else {
            continue;
        };
        let Some(c) = shape.centroid() else { continue };
        let nearest = centres
            .iter()
            .map(|p| Haversine.distance(c, *p))
            .fold(f64::INFINITY, f64::min);
        if nearest > WALK_15_MIN_METRES {
            out.push((id, nearest));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn grids_beyond_1_2_km_are_listed() {
        // ~0.01° of latitude is ~1.11 km.
        let near = json!({"type":"Polygon","coordinates":[[[100.2,25.6],[100.202,25.6],[100.202,25.602],[100.2,25.602],[100.2,25.6]]]});
        let far = json!({"type":"Polygon","coordinates":[[[100.2,25.62],[100.202,25.62],[100.202,25.622],[100.2,25.622],[100.2,25.62]]]});
        let a = RecordId(Uuid::from_u128(1));
        let b = RecordId(Uuid::from_u128(2));
        let out = grids_outside_reach([(a, &near), (b, &far)], &[(100.201, 25.601)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, b);
        assert!((out[0].1 - 2224.0).abs() < 20.0, "{}", out[0].1);
        assert_eq!(
            grids_outside_reach([(a, &near)], &[]).len(),
            1,
            "no centre at all"
        );
    }
}
