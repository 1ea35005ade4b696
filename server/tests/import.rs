//! GeoJSON import of grids over real HTTP, on SQLite and PostgreSQL: a file with one broken
//! feature is refused with that feature named and nothing written; the fixed file previews, then
//! applies (new grids created, a grid with a known code replaced in place); a GCJ-02 file lands
//! within a metre of its WGS84 twin; bad requests get clear errors.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use tongxin_shared::geoimport::Crs;
use tongxin_shared::{Collection, Hlc};

const OLD: u128 = 0x01D;

/// `[lon, lat]` ring of a square with its south-west corner at (x, y), converted to `crs`.
fn square(x: f64, y: f64, d: f64, crs: Crs) -> Value {
    let ring: Vec<Value> = [(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]
        .iter()
        .map(|&(a, b)| {
            let (a, b) = crs.convert_from_wgs84(a, b);
            json!([a, b])
        })
        .collect();
    json!({"type": "Polygon", "coordinates": [ring]})
}

fn feature(code: &str, community: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"编码": code, "名称": format!("网格{code}"), "社区": community}, "geometry": geometry})
}

fn request(features: Vec<Value>, crs: &str, apply: bool) -> Value {
    json!({
        "geojson": json!({"type": "FeatureCollection", "features": features}).to_string(),
        "crs": crs,
        "properties": {"code": "编码", "name": "名称", "community": "社区"},
        "apply": apply,
    })
}

/// A subdistrict with communities C1 and C2 (codes "C1", "C2") and one grid "OLD" in C1.
async fn city(app: &TestApp) {
    let t = now_ms();
    let old = square(100.30, 25.60, 0.01, Crs::Wgs84);
    let ops = vec![
        set(
            Collection::Subdistricts,
            1,
            SD,
            Hlc::new(t, 1),
            json!({"name": "S", "code": "S"}),
        ),
        set(
            Collection::Communities,
            2,
            C1,
            Hlc::new(t, 2),
            json!({"name": "C1", "code": "C1", "subdistrict": rid(SD)}),
        ),
        set(
            Collection::Communities,
            3,
            C2,
            Hlc::new(t, 3),
            json!({"name": "C2", "code": "C2", "subdistrict": rid(SD)}),
        ),
        set(
            Collection::Grids,
            4,
            OLD,
            Hlc::new(t, 4),
            json!({"name": "旧网格", "code": "OLD", "community": rid(C1), "boundary": old}),
        ),
    ];
    assert_all_acked(&app.push(&ops).await);
}

/// Every grid on the server by code: (id, fields).
async fn grids(app: &TestApp) -> Vec<(String, String, Value)> {
    let mut out: Vec<(String, String, Value)> = app
        .pull_all()
        .await
        .into_iter()
        .filter(|(_, (_, r))| r["collection"] == "grids")
        .map(|(_, (_, r))| {
            let code = r["fields"]["code"]["value"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            (
                code,
                r["id"].as_str().unwrap().to_owned(),
                r["fields"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

async fn post(app: &TestApp, client: &reqwest::Client, body: &Value) -> (u16, Value) {
    let res = client
        .post(format!("{}/api/v1/admin/grids/import", app.base))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn one_broken_feature_imports_none_until_fixed(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    city(&app).await;
    let before = grids(&app).await;
    let open_ring = json!({"type": "Polygon", "coordinates": [[[100.2, 25.6], [100.21, 25.6], [100.21, 25.61], [100.2, 25.62]]]});
    let broken = vec![
        feature("A", "C1", square(100.20, 25.60, 0.01, Crs::Wgs84)),
        feature("B", "C1", open_ring),
        feature("OLD", "C1", square(100.30, 25.60, 0.012, Crs::Wgs84)),
    ];
    let (status, report) = post(&app, &app.client, &request(broken, "wgs84", true)).await;
    assert_eq!(status, 422, "{report}");
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["index"], 1);
    assert_eq!(problems[0]["code"], "ring_not_closed");
    // People count from 1: the second feature's first (outer) ring.
    assert_eq!(problems[0]["args"]["ring"], "1");
    assert_eq!(
        problems[0]["message"],
        "ring 1 is not closed: its first and last positions differ"
    );
    assert_eq!(report["applied"], false);
    assert_eq!(grids(&app).await, before, "nothing was written");

    // Fixed: the preview names the plan and still writes nothing.
    let fixed = vec![
        feature("A", "C1", square(100.20, 25.60, 0.01, Crs::Wgs84)),
        feature("B", "C2", square(100.21, 25.60, 0.01, Crs::Wgs84)),
        feature("OLD", "C1", square(100.30, 25.60, 0.012, Crs::Wgs84)),
    ];
    let (status, report) = post(&app, &app.client, &request(fixed.clone(), "wgs84", false)).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], false);
    let actions: Vec<(&str, &str)> = report["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["code"].as_str().unwrap(), g["action"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("A", "new"), ("B", "new"), ("OLD", "update")]);
    assert_eq!(grids(&app).await, before, "a preview writes nothing");

    let (status, report) = post(&app, &app.client, &request(fixed, "wgs84", true)).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], true);
    let after = grids(&app).await;
    let codes: Vec<&str> = after.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(codes, ["A", "B", "OLD"]);
    let old = &after[2];
    assert_eq!(
        old.1,
        rid(OLD),
        "a known code keeps its grid (and its cases)"
    );
    assert_eq!(old.2["name"]["value"], "网格OLD");
    let ring = &old.2["boundary"]["value"]["coordinates"][0];
    assert_eq!(
        ring[2],
        json!([100.312, 25.612]),
        "the boundary was replaced"
    );
    assert_eq!(after[1].2["community"]["value"], rid(C2));
    assert_eq!(after[1].2["synthetic"]["value"], false);
}

/// Metres between two WGS84 positions (equirectangular; exact enough at 1 m).
fn metres(a: &Value, b: &Value) -> f64 {
    let (ax, ay, bx, by) = (
        a[0].as_f64().unwrap(),
        a[1].as_f64().unwrap(),
        b[0].as_f64().unwrap(),
        b[1].as_f64().unwrap(),
    );
    let dx = (bx - ax).to_radians() * ay.to_radians().cos() * 6_371_000.0;
    let dy = (by - ay).to_radians() * 6_371_000.0;
    dx.hypot(dy)
}

async fn a_gcj02_file_lands_within_a_metre_of_its_wgs84_twin(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    city(&app).await;
    // Beside OLD (C1's only other grid): no distance warning.
    let wgs = vec![feature(
        "T",
        "C1",
        square(100.285, 25.60, 0.013, Crs::Wgs84),
    )];
    let (status, report) = post(&app, &app.client, &request(wgs, "wgs84", true)).await;
    assert_eq!(status, 200, "{report}");
    let twin = grids(&app).await.into_iter().find(|g| g.0 == "T").unwrap();
    let wgs_ring = twin.2["boundary"]["value"]["coordinates"][0].clone();

    for crs in ["gcj02", "bd09"] {
        let shifted = vec![feature(
            "T",
            "C1",
            square(100.285, 25.60, 0.013, Crs::parse(crs).unwrap()),
        )];
        let sent = &shifted[0]["geometry"]["coordinates"][0][0];
        assert!(
            metres(sent, &wgs_ring[0]) > 100.0,
            "{crs}: the offset is real"
        );
        let (status, report) = post(&app, &app.client, &request(shifted, crs, true)).await;
        assert_eq!(status, 200, "{report}");
        let got = grids(&app).await.into_iter().find(|g| g.0 == "T").unwrap();
        assert_eq!(got.1, twin.1, "same grid");
        let ring = got.2["boundary"]["value"]["coordinates"][0]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(ring.len(), 5);
        for (p, w) in ring.iter().zip(wgs_ring.as_array().unwrap()) {
            let d = metres(p, w);
            assert!(d < 1.0, "{crs}: {p} is {d:.2} m from {w}");
        }
    }
}

async fn bad_imports_get_clear_errors_and_change_nothing(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    city(&app).await;
    let before = grids(&app).await;
    let good = || vec![feature("A", "C1", square(100.20, 25.60, 0.01, Crs::Wgs84))];

    let (warden, _) = app
        .user("w-import", "warden", json!({"grids": [rid(OLD)]}))
        .await;
    let (status, body) = post(&app, &warden, &request(good(), "wgs84", true)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("administrator"));

    let unknown_community = vec![feature("A", "C9", square(100.20, 25.60, 0.01, Crs::Wgs84))];
    let (status, body) = post(
        &app,
        &app.client,
        &request(unknown_community, "wgs84", true),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["problems"][0]["index"], 0);
    assert!(
        body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'C9'"),
        "{body}"
    );

    // Overlapping a grid the file does not replace.
    let over = vec![feature(
        "NEW",
        "C1",
        square(100.305, 25.605, 0.01, Crs::Wgs84),
    )];
    let (status, body) = post(&app, &app.client, &request(over, "wgs84", true)).await;
    assert_eq!(status, 422);
    assert!(
        body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("OLD"),
        "{body}"
    );

    // Moving a grid between communities is refused (its records would keep the old place).
    let moved = vec![feature(
        "OLD",
        "C2",
        square(100.30, 25.60, 0.01, Crs::Wgs84),
    )];
    let (status, body) = post(&app, &app.client, &request(moved, "wgs84", true)).await;
    assert_eq!(status, 422);
    assert!(body["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("another community"));

    // A property missing, an unknown CRS inside the file, not GeoJSON at all.
    let mut missing = request(good(), "wgs84", true);
    missing["properties"]["code"] = json!("code");
    let (status, body) = post(&app, &app.client, &missing).await;
    assert_eq!(status, 422);
    assert!(body["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("'code' is missing"));
    let projected = json!({
        "geojson": json!({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "features": good()}).to_string(),
        "crs": "wgs84", "apply": true,
    });
    let (status, body) = post(&app, &app.client, &projected).await;
    assert_eq!(status, 422);
    assert!(body["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("EPSG:3857"));
    let (status, body) = post(
        &app,
        &app.client,
        &json!({"geojson": "{not json", "crs": "wgs84", "apply": true}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    // An unknown coordinate system name in the request itself.
    let (status, body) = post(&app, &app.client, &request(good(), "utm47", true)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("crs"),
        "{body}"
    );

    assert_eq!(
        grids(&app).await,
        before,
        "nothing was written by any of them"
    );
}

/// A grid 9 km outside its community's area (C1 has only OLD, which the file keeps) is a
/// warning with the distance in the preview; an apply must accept it, else nothing is written.
async fn a_grid_far_outside_its_community_is_a_warning_to_accept(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    city(&app).await;
    let before = grids(&app).await;
    let far = || {
        vec![
            feature("NEAR", "C1", square(100.31, 25.60, 0.01, Crs::Wgs84)),
            feature("FAR", "C1", square(100.20, 25.60, 0.01, Crs::Wgs84)),
        ]
    };
    let (status, preview) = post(&app, &app.client, &request(far(), "wgs84", false)).await;
    assert_eq!(status, 200, "{preview}");
    let warnings = preview["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{preview}");
    assert_eq!(warnings[0]["index"], 1);
    assert_eq!(warnings[0]["code"], "far_from_community");
    // From 100.21° to 100.30° at 25.6°N: 0.09° × 100.3 km.
    assert_eq!(warnings[0]["args"]["km"], "9.0", "{preview}");
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .contains("lies 9.0 km outside the area of its community C1 C1"));

    let (status, refused) = post(&app, &app.client, &request(far(), "wgs84", true)).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["problems"][0]["code"], "warnings_not_accepted");
    assert_eq!(refused["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(grids(&app).await, before, "not accepted: nothing written");

    let mut accepted = request(far(), "wgs84", true);
    accepted["accept_warnings"] = json!(true);
    let (status, done) = post(&app, &app.client, &accepted).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["applied"], true);
    assert_eq!(grids(&app).await.len(), before.len() + 2);
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(
    one_broken_feature_imports_none_until_fixed,
    a_gcj02_file_lands_within_a_metre_of_its_wgs84_twin,
    bad_imports_get_clear_errors_and_change_nothing,
    a_grid_far_outside_its_community_is_a_warning_to_accept,
);
