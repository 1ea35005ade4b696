//! Photos over HTTP (issue 12, item 7): a photo is read only where a record in the reader's area
//! refers to it (or by its uploader while nothing does), uploads have a daily quota per user,
//! and unreferenced photos are cleaned up. Both backends.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tongxin_server::blobs::BlobLimits;
use tongxin_server::AppState;
use tongxin_shared::Hlc;

/// A small JPEG-looking body, distinct per tag, and its hash.
fn jpeg(tag: &str, len: usize) -> (Vec<u8>, String) {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend(tag.as_bytes());
    bytes.resize(len.max(bytes.len()), b'.');
    let hash = hex::encode(Sha256::digest(&bytes));
    (bytes, hash)
}

async fn put(app: &TestApp, client: &reqwest::Client, bytes: &[u8]) -> reqwest::Response {
    let hash = hex::encode(Sha256::digest(bytes));
    client
        .put(format!("{}/api/v1/blobs/{hash}", app.base))
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, client: &reqwest::Client, hash: &str) -> (u16, Vec<u8>) {
    let res = client
        .get(format!("{}/api/v1/blobs/{hash}", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

async fn status(app: &TestApp, client: &reqwest::Client, hash: &str) -> u16 {
    get(app, client, hash).await.0
}

/// A case in `grid` reported by `reporter`, with photos.
fn case_with_photos(
    op: u128,
    record: u128,
    grid: u128,
    reporter: &str,
    photos: &[&str],
) -> tongxin_shared::Op {
    set_case(
        op,
        1,
        record,
        Hlc::new(now_ms(), op as u32),
        json!({"grid": rid(grid), "title": "broken lamp", "reporter": reporter, "status": "reported", "photos": photos}),
    )
}

async fn item7_blob_get_is_scoped(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (w1, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let (w3, _) = app.user("w3", "warden", json!({"grids": [rid(G3)]})).await;
    let (m1, _) = app
        .user("m1", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    let (m2, _) = app
        .user("m2", "community_manager", json!({"communities": [rid(C2)]}))
        .await;
    let (photo, hash) = jpeg("lamp in G1", 64);
    assert_eq!(put(&app, &w1, &photo).await.status(), 201);
    assert_all_acked(
        &app.push_as(&w1, &[case_with_photos(10, 0xCA5E, G1, "w1", &[&hash])])
            .await,
    );

    // Readable where the case is: its grid, its community, the city.
    assert_eq!(get(&app, &w1, &hash).await, (200, photo.clone()));
    assert_eq!(status(&app, &m1, &hash).await, 200);
    assert_eq!(
        status(&app, &app.client, &hash).await,
        200,
        "admin: the whole city"
    );
    // Not from another grid or community, and they cannot tell it exists.
    let (_, never) = jpeg("never uploaded", 64);
    for other in [&w3, &m2] {
        let (s, body) = get(&app, other, &hash).await;
        let (s_never, body_never) = get(&app, other, &never).await;
        assert_eq!(s, 404);
        assert_eq!(
            (s, body),
            (s_never, body_never),
            "same answer as a missing photo"
        );
    }

    // When the case leaves the photo, it stops being readable through it (uploader included:
    // the case referred to it).
    assert_all_acked(
        &app.push_as(&w1, &[case_with_photos(11, 0xCA5E, G1, "w1", &[])])
            .await,
    );
    assert_eq!(status(&app, &m1, &hash).await, 404);
    assert_eq!(
        status(&app, &w1, &hash).await,
        200,
        "unreferenced again: its uploader"
    );
}

async fn item7_own_unreferenced_upload_is_readable(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (w1, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let (w3, _) = app.user("w3", "warden", json!({"grids": [rid(G3)]})).await;
    let (photo, hash) = jpeg("taken in G3, not pushed yet", 64);
    assert_eq!(put(&app, &w3, &photo).await.status(), 201);
    assert_eq!(get(&app, &w3, &hash).await, (200, photo.clone()));
    assert_eq!(status(&app, &w1, &hash).await, 404, "someone else's upload");
    assert_eq!(
        status(&app, &app.client, &hash).await,
        404,
        "admin too: no record refers to it"
    );
    // Re-uploading someone else's photo gives no access to it.
    assert_eq!(put(&app, &w1, &photo).await.status(), 200);
    assert_eq!(status(&app, &w1, &hash).await, 404);
    // Once a record in another grid refers to it, its uploader reads it only through its area.
    assert_all_acked(
        &app.push_as(&w1, &[case_with_photos(10, 0xCA5E, G1, "w1", &[&hash])])
            .await,
    );
    assert_eq!(status(&app, &w3, &hash).await, 404);
    assert_eq!(status(&app, &w1, &hash).await, 200);
}

async fn item7_upload_quota_is_per_user_per_day(db: TestDb) {
    let state = AppState::start(&db.url, std::env::temp_dir().join("tongxin-no-dist"))
        .await
        .unwrap()
        .with_blob_limits(BlobLimits {
            quota_bytes: 10_000,
            ..BlobLimits::default()
        });
    let app = TestApp::serve(state).await;
    small_city(&app).await;
    let (w1, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let (w2, _) = app.user("w2", "warden", json!({"grids": [rid(G2)]})).await;
    let (a, _) = jpeg("a", 6_000);
    let (b, b_hash) = jpeg("b", 6_000);
    assert_eq!(put(&app, &w1, &a).await.status(), 201);
    let res = put(&app, &w1, &b).await;
    assert_eq!(res.status(), 429);
    let err: Value = res.json().await.unwrap();
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("upload limit reached") && message.contains("last 24 hours"),
        "{message}"
    );
    assert_eq!(status(&app, &w1, &b_hash).await, 404, "nothing stored");
    // A photo already stored costs nothing; another user has their own quota.
    assert_eq!(put(&app, &w1, &a).await.status(), 200);
    assert_eq!(put(&app, &w2, &b).await.status(), 201);
    assert_eq!(status(&app, &w2, &b_hash).await, 200);
}

async fn item7_cleanup_removes_old_unreferenced_photos(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (w1, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let (kept, kept_hash) = jpeg("on a case", 64);
    let (dropped, dropped_hash) = jpeg("never used", 64);
    put(&app, &w1, &kept).await;
    put(&app, &w1, &dropped).await;
    assert_all_acked(
        &app.push_as(
            &w1,
            &[case_with_photos(10, 0xCA5E, G1, "w1", &[&kept_hash])],
        )
        .await,
    );
    let grace = app.state.blob_limits.grace_ms;
    assert_eq!(
        tongxin_server::blobs::clean(&app.state, now_ms())
            .await
            .unwrap(),
        0,
        "within the grace period"
    );
    assert_eq!(status(&app, &w1, &dropped_hash).await, 200);
    let later = now_ms() + grace + 1;
    assert_eq!(
        tongxin_server::blobs::clean(&app.state, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(status(&app, &w1, &dropped_hash).await, 404);
    assert_eq!(status(&app, &w1, &kept_hash).await, 200);
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

suite!(
    item7_blob_get_is_scoped,
    item7_own_unreferenced_upload_is_readable,
    item7_upload_quota_is_per_user_per_day,
    item7_cleanup_removes_old_unreferenced_photos,
);
