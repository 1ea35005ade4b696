//! The grids on the device as a GeoJSON FeatureCollection (WGS-84), each with its code, name,
//! community and current state (open and overdue cases, last visit).

use crate::ui::context::live_records;
use std::collections::BTreeMap;
use tongxin_shared::figures::GridState;
use tongxin_shared::{Collection, RecordId};

pub(crate) async fn grids_geojson(states: &BTreeMap<RecordId, GridState>) -> String {
    let features: Vec<serde_json::Value> = live_records(Collection::Grids)
        .await
        .iter()
        .filter_map(|g| {
            let s = states.get(&g.id).cloned().unwrap_or_default();
            Some(serde_json::json!({
                "type": "Feature",
                "id": g.id.to_string(),
                "geometry": g.get("boundary")?.clone(),
                "properties": {
                    "code": g.str("code"),
                    "name": g.str("name"),
                    "community": g.str("community"),
                    "open_cases": s.open,
                    "overdue_cases": s.overdue,
                    "last_visit_ms": s.last_visit_ms,
                },
            }))
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}
