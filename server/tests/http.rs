//! The HTTP API through a real server on a port-0 listener: per-op judging, error shapes, static
//! files and their cache headers, blobs, the live stream.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tongxin_shared::{Hlc, MAX_CLOCK_SKEW_MS};

async fn push_judges_each_op_and_rejections_change_nothing(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let t = now_ms();
    let good = set_case(
        1,
        1,
        100,
        Hlc::new(t, 0),
        json!({"title": "楼道堆物", "category": "safety"}),
    );
    let mut unknown_field = set_case(2, 1, 100, Hlc::new(t, 1), json!({"title": "x"}));
    if let tongxin_shared::OpBody::Set { fields } = &mut unknown_field.body {
        fields.insert("colour".into(), json!("red"));
    }
    let wrong_type = set_case(3, 1, 100, Hlc::new(t, 2), json!({"title": 5}));
    let future = set_case(
        4,
        1,
        100,
        Hlc::new(t + MAX_CLOCK_SKEW_MS + 60_000, 0),
        json!({"title": "from the future"}),
    );
    let oversized = set_case(5, 1, 100, Hlc::new(t, 3), json!({"title": "x".repeat(201)}));
    let mut body = json!({"protocol": 2, "actor": uuid(1), "ops": [good, unknown_field, wrong_type, future, oversized]});
    body["ops"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": uuid(6).to_string(), "collection": "gossip"}));
    let res: Value = app
        .client
        .post(format!("{}/api/v1/sync/push", app.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = res["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert!(results[0]["seq"].as_u64().unwrap() > 0);
    let codes: Vec<&str> = results[1..]
        .iter()
        .map(|r| r["rejected"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "unknown_field",
            "wrong_type",
            "clock_ahead",
            "too_long",
            "bad_op"
        ]
    );
    for (i, r) in results.iter().enumerate() {
        assert_eq!(
            r["op_id"],
            uuid(i as u128 + 1).to_string(),
            "every result names its op"
        );
    }
    assert!(results[3]["rejected"]["message"]
        .as_str()
        .unwrap()
        .contains("clock"));
    assert!(res["server_time_ms"].as_u64().unwrap() >= t);
    let all = app.pull_all().await;
    let rec = &all[&uuid(100).to_string()].1;
    assert_eq!(
        rec["fields"]["title"]["value"], "楼道堆物",
        "rejected ops changed nothing"
    );
    assert!(rec["fields"].get("colour").is_none());
}

async fn bad_requests_get_json_errors(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let c = &app.client;
    let push = format!("{}/api/v1/sync/push", app.base);
    let r = c
        .post(&push)
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "malformed_json");
    let r = c
        .post(&push)
        .json(&json!({"protocol": 2, "actor": uuid(1), "ops": vec![json!({}); 1001]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "too_large"
    );
    let r = c
        .post(&push)
        .json(&json!({"protocol": 99, "actor": uuid(1), "ops": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 426);
    // Protocol 1 apps (records with a stamp per field) must update before they pull or push.
    for old in ["0", "1"] {
        let r = c
            .get(format!("{}/api/v1/sync/pull", app.base))
            .header("x-tongxin-protocol", old)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 426, "protocol {old}");
    }
    let r = c
        .post(&push)
        .json(&json!({"protocol": 1, "actor": uuid(1), "ops": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 426);
    let r = c
        .get(format!("{}/api/v1/sync/pull", app.base))
        .header("x-tongxin-protocol", "1")
        .send()
        .await
        .unwrap();
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("update"));
    let r = c
        .get(format!("{}/api/v1/sync/pull?cursor=minus", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(format!("{}/api/v2/anything", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    let r = c.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let big = vec![0u8; tongxin_shared::wire::MAX_PUSH_BYTES + 10];
    let r = c
        .post(&push)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

async fn blobs_check_hash_and_type(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"a tiny jpeg body"].concat();
    let hash = hex::encode(Sha256::digest(&jpeg));
    let url = format!("{}/api/v1/blobs/{hash}", app.base);
    assert_eq!(
        app.client
            .put(&url)
            .body(jpeg.clone())
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        app.client
            .put(&url)
            .body(jpeg.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "idempotent"
    );
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().as_ref(), jpeg.as_slice());
    let wrong = format!("{}/api/v1/blobs/{}", app.base, "0".repeat(64));
    let r = app
        .client
        .put(&wrong)
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "hash_mismatch"
    );
    let text = b"not an image".to_vec();
    let r = app
        .client
        .put(format!(
            "{}/api/v1/blobs/{}",
            app.base,
            hex::encode(Sha256::digest(&text))
        ))
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_an_image"
    );
    assert_eq!(app.client.get(&wrong).send().await.unwrap().status(), 404);
}

async fn live_pokes_after_commits_and_resumes(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let mut sse = Sse::connect(&app, None).await;
    let t = now_ms();
    let res = app
        .push(&[set_case(1, 1, 100, Hlc::new(t, 0), json!({"title": "a"}))])
        .await;
    let seq = res["results"][0]["seq"].as_u64().unwrap();
    let (event, id, data) = sse.next().await;
    assert_eq!((event.as_str(), id.parse::<u64>().unwrap()), ("poke", seq));
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        json!({"type": "poke", "seq": seq})
    );
    // A client that was behind is poked at once on reconnect …
    let mut behind = Sse::connect(&app, Some(seq - 1)).await;
    assert_eq!(behind.next().await.1, seq.to_string());
    // … one that is up to date is poked only by the next commit.
    let mut current = Sse::connect(&app, Some(seq)).await;
    let res = app
        .push(&[set_case(2, 1, 101, Hlc::new(t, 1), json!({"title": "b"}))])
        .await;
    let next = res["results"][0]["seq"].as_u64().unwrap();
    assert_eq!(current.next().await.1, next.to_string());
}

/// Every endpoint that reads a JSON body or a query string answers a body that is not JSON, a
/// body of the wrong shape, a missing content type and a bad query with the API's JSON error
/// (the rejection is mapped once, by `AppJson`/`AppQuery`), never with a plain-text rejection.
async fn every_body_and_query_error_is_a_json_error(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let c = &app.client;
    let url = |p: &str| format!("{}/api/v1/{p}", app.base);
    let endpoints = [
        (reqwest::Method::POST, url("sync/push")),
        (reqwest::Method::POST, url("auth/login")),
        (reqwest::Method::POST, url("admin/users")),
        (reqwest::Method::PUT, url("admin/users/root")),
        (reqwest::Method::POST, url("admin/users/root/password")),
        (reqwest::Method::POST, url("admin/grids/import")),
    ];
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(kind, "application/json", "a JSON error, not plain text");
        let v: Value = r.json().await.unwrap();
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        (status, v["error"]["code"].as_str().unwrap().to_owned())
    };
    for (method, url) in endpoints {
        let send = |body: &'static str, json: bool| {
            let mut req = c.request(method.clone(), &url).body(body);
            if json {
                req = req.header("content-type", "application/json");
            }
            req.send()
        };
        let got = code(send("{bad", true).await.unwrap()).await;
        assert_eq!(got, (400, "malformed_json".into()), "{method} {url}");
        let got = code(send("[1, 2]", true).await.unwrap()).await;
        assert_eq!(got, (400, "bad_shape".into()), "{method} {url}");
        let got = code(send("{}", false).await.unwrap()).await;
        assert_eq!(got, (400, "bad_content_type".into()), "{method} {url}");
    }
    let got = code(c.get(url("sync/pull?cursor=minus")).send().await.unwrap()).await;
    assert_eq!(got, (400, "bad_query".into()));
}

/// A commit that fails (here: its table is gone) answers the push with 503 and a message that
/// says nothing was applied (the writer's `WriteError`, mapped in one place), and the op is not
/// acked: the app keeps it and sends it again.
async fn a_failed_commit_is_a_503_that_applies_nothing(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let drop_ops = "DROP TABLE ops";
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(drop_ops).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(drop_ops).execute(&pool).await.unwrap();
        pool.close().await;
    }
    let body = json!({"protocol": 2, "actor": uuid(1), "ops": [set_case(1, 1, 100, Hlc::new(now_ms(), 0), json!({"title": "a"}))]});
    let r = app
        .client
        .post(format!("{}/api/v1/sync/push", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unavailable");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was applied"),
        "{v}"
    );
}

/// The clock window is one minute: an op stamped three minutes ahead of the server is refused
/// with `clock_ahead` (and a message a person understands), one 30 s ahead is taken.
async fn ops_more_than_a_minute_ahead_are_refused(db: TestDb) {
    assert_eq!(MAX_CLOCK_SKEW_MS, 60_000);
    let app = TestApp::spawn(&db.url).await;
    let t = now_ms();
    let ahead = |op: u128, ms: u64| {
        set_case(
            op,
            1,
            0x100 + op,
            Hlc::new(t + ms, 0),
            json!({"title": "ahead"}),
        )
    };
    let res = app
        .push(&[ahead(1, 30_000), ahead(2, 3 * 60_000), ahead(3, 9 * 60_000)])
        .await;
    let results = res["results"].as_array().unwrap();
    assert!(
        results[0]["seq"].is_u64(),
        "30 s ahead is within the window"
    );
    for r in &results[1..] {
        assert_eq!(r["rejected"]["code"], "clock_ahead", "{r}");
        assert!(r["rejected"]["message"]
            .as_str()
            .unwrap()
            .contains("ahead of the server"));
    }
    assert!(results[1]["rejected"]["message"]
        .as_str()
        .unwrap()
        .contains("3 minutes"));
    let all = app.pull_all().await;
    assert!(all.contains_key(&uuid(0x101).to_string()));
    assert!(!all.contains_key(&uuid(0x102).to_string()));
    assert!(!all.contains_key(&uuid(0x103).to_string()));
}

/// `?access_token=` opens the live stream and photos (a browser sends no headers there) and
/// nothing else: every other route answers a token in the URL with a 401 naming the header.
async fn the_query_token_is_only_for_the_live_stream_and_photos(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"a photo"].concat();
    let hash = hex::encode(Sha256::digest(&jpeg));
    let blob = format!("{}/api/v1/blobs/{hash}", app.base);
    assert_eq!(
        app.client
            .put(&blob)
            .body(jpeg.clone())
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let bare = reqwest::Client::new();
    let token = &app.token;
    // Photos and the live stream: the query token is enough.
    let r = bare
        .get(format!("{blob}?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), jpeg.as_slice());
    Sse::connect(&app, None).await;
    // Everything else: 401, saying where the token goes.
    for (method, path) in [
        (reqwest::Method::GET, "sync/pull"),
        (reqwest::Method::POST, "sync/push"),
        (reqwest::Method::GET, "auth/me"),
        (reqwest::Method::POST, "auth/logout"),
        (reqwest::Method::GET, "staff"),
        (reqwest::Method::GET, "settings"),
        (reqwest::Method::GET, "admin/users"),
        (reqwest::Method::PUT, &format!("blobs/{hash}")),
    ] {
        let r = bare
            .request(
                method.clone(),
                format!("{}/api/v1/{path}?access_token={token}", app.base),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "token_in_query", "{method} {path}");
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"));
    }
    // The header still works, and the session was not harmed by the refusals.
    let r = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Every API answer that carries user data says `Cache-Control: no-store` (also errors, which
/// may name a user); photos keep their own immutable, private policy.
async fn api_answers_are_not_stored_by_caches(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    let get = |p: &str| app.client.get(format!("{}/api/v1/{p}", app.base)).send();
    for path in [
        "sync/pull?cursor=0",
        "auth/me",
        "staff",
        "settings",
        "admin/users",
        "no/such/endpoint",
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    let push = app
        .client
        .post(format!("{}/api/v1/sync/push", app.base))
        .json(&json!({"protocol": 2, "actor": uuid(1), "ops": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(push.status(), 200);
    assert_eq!(push.headers()["cache-control"], "no-store");
    let unauthenticated = reqwest::get(format!("{}/api/v1/sync/pull", app.base))
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(unauthenticated.headers()["cache-control"], "no-store");
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": ROOT, "password": ROOT_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["cache-control"], "no-store", "the token");
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"cached photo"].concat();
    let blob = format!(
        "{}/api/v1/blobs/{}",
        app.base,
        hex::encode(Sha256::digest(&jpeg))
    );
    app.client.put(&blob).body(jpeg).send().await.unwrap();
    let r = app.client.get(&blob).send().await.unwrap();
    assert_eq!(
        r.headers()["cache-control"],
        "private, max-age=31536000, immutable"
    );
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both!(
    push_judges_each_op_and_rejections_change_nothing,
    bad_requests_get_json_errors,
    every_body_and_query_error_is_a_json_error,
    a_failed_commit_is_a_503_that_applies_nothing,
    ops_more_than_a_minute_ahead_are_refused,
    the_query_token_is_only_for_the_live_stream_and_photos,
    api_answers_are_not_stored_by_caches,
    blobs_check_hash_and_type,
    live_pokes_after_commits_and_resumes,
);

/// `cargo xtask dist` writes `.br` and `.gz` copies; they are sent byte for byte (the bytes here
/// are not even valid brotli/gzip, so a server compressing on the fly could not produce them).
#[tokio::test]
async fn precompressed_assets_are_sent_as_built() {
    let db = TestDb::sqlite().await;
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html>").unwrap();
    std::fs::create_dir_all(dist.path().join("assets")).unwrap();
    let raw = "wasm bytes ".repeat(200);
    std::fs::write(dist.path().join("assets/m.0123abcd.wasm"), &raw).unwrap();
    std::fs::write(dist.path().join("assets/m.0123abcd.wasm.br"), "BROTLI-11").unwrap();
    std::fs::write(dist.path().join("assets/m.0123abcd.wasm.gz"), "GZIP-9").unwrap();
    let app = TestApp::spawn_with_dist(&db.url, dist.path().to_path_buf()).await;
    let fetch = |encoding: &'static str| {
        app.client
            .get(format!("{}/assets/m.0123abcd.wasm", app.base))
            .header("accept-encoding", encoding)
            .send()
    };
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), "BROTLI-11"),
        ("gzip", Some("gzip"), "GZIP-9"),
        ("identity", None, raw.as_str()),
    ] {
        let r = fetch(accept).await.unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        assert_eq!(
            r.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(r.headers()["content-type"], "application/wasm", "{accept}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(r.text().await.unwrap(), body, "{accept}");
    }
}

#[tokio::test]
async fn static_files_spa_fallback_and_cache_headers() {
    let db = TestDb::sqlite().await;
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>同心</title>",
    )
    .unwrap();
    std::fs::create_dir_all(dist.path().join("assets")).unwrap();
    // Large enough to be compressed on the fly (no precompressed copy of it is written).
    let js = "console.log('同心');\n".repeat(300);
    std::fs::write(dist.path().join("assets/app.0123abcd.js"), &js).unwrap();
    std::fs::write(dist.path().join("sw.js"), "self.x=1").unwrap();
    let app = TestApp::spawn_with_dist(&db.url, dist.path().to_path_buf()).await;
    let get = |p: &str| app.client.get(format!("{}{p}", app.base)).send();
    let r = get("/").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("wasm-unsafe-eval"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.text().await.unwrap().contains("同心"));
    let r = get("/assets/app.0123abcd.js").await.unwrap();
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        get("/sw.js").await.unwrap().headers()["cache-control"],
        "no-cache"
    );
    let r = get("/cases/0192-abc").await.unwrap();
    assert_eq!(r.status(), 200, "app routes fall back to index.html");
    assert!(r.text().await.unwrap().contains("同心"));
    assert_eq!(get("/assets/missing.0000.js").await.unwrap().status(), 404);
    assert_eq!(get("/missing.png").await.unwrap().status(), 404);
    // Compressed on the fly as the browser asks, and the bytes decompress to the file.
    for accept in ["gzip", "br", "identity"] {
        let r = app
            .client
            .get(format!("{}/assets/app.0123abcd.js", app.base))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let encoding = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.bytes().await.unwrap();
        let plain = match accept {
            "gzip" => {
                assert_eq!(encoding.as_deref(), Some("gzip"));
                let mut out = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&body[..]),
                    &mut out,
                )
                .unwrap();
                out
            }
            "br" => {
                assert_eq!(encoding.as_deref(), Some("br"));
                let mut out = String::new();
                std::io::Read::read_to_string(
                    &mut brotli::Decompressor::new(&body[..], 4096),
                    &mut out,
                )
                .unwrap();
                out
            }
            _ => {
                assert_eq!(encoding, None);
                String::from_utf8(body.to_vec()).unwrap()
            }
        };
        assert!(
            accept == "identity" || body.len() < js.len() / 4,
            "{accept}: {} bytes",
            body.len()
        );
        assert_eq!(plain, js, "{accept}");
    }
}
