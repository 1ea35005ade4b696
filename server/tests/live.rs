//! The live stream's lifecycle over real HTTP, on SQLite and PostgreSQL: a stream ends with its
//! session (signed out, user disabled, session expired, or revoked behind this instance's back,
//! as another instance would), a user holds at most four streams (a fifth ends the oldest), and
//! a burst of commits is folded into one poke.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::json;
use std::time::Duration;
use tongxin_server::auth::new_token;
use tongxin_server::streams::MAX_STREAMS_PER_USER;
use tongxin_shared::Hlc;

/// How long a stream may take to end once its session has (sign-out and disabling end it at
/// once; the re-check of [`app`] runs every 200 ms).
const BOUND: Duration = Duration::from_secs(3);

/// An open live stream, read raw: whether it ends, and its pokes.
struct Live {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Live {
    async fn open(base: &str, token: &str) -> Self {
        let res = reqwest::Client::new()
            .get(format!("{base}/api/v1/live?access_token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        Self {
            body: Box::pin(res.bytes_stream()),
            buf: String::new(),
        }
    }

    /// Whether the server ends the stream (cleanly) within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, async {
            while let Some(chunk) = self.body.next().await {
                chunk.expect("the stream ends cleanly, not with an error");
            }
        })
        .await
        .is_ok()
    }

    /// The id of the next poke (fails the test after 10 s or if the stream ends).
    async fn poke(&mut self) -> u64 {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                while let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim().to_owned())
                    };
                    if field("event:").as_deref() == Some("poke") {
                        return field("id:").unwrap().parse().unwrap();
                    }
                }
                let chunk = self.body.next().await.expect("the stream is open").unwrap();
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("a poke within 10 s")
    }
}

/// A test server whose streams re-check their session every 200 ms.
async fn app(db: &TestDb) -> TestApp {
    let state = tongxin_server::AppState::start(&db.url, std::env::temp_dir().join("no-dist"))
        .await
        .unwrap()
        .with_live_recheck(Duration::from_millis(200));
    TestApp::serve(state).await
}

/// With the default re-check (30 s), so only the sign-out itself can end the stream in time.
async fn signing_out_ends_the_stream(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (w, token) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let (_, other_token) = app.user("w2", "warden", json!({"grids": [rid(G1)]})).await;
    let mut stream = Live::open(&app.base, &token).await;
    let mut other = Live::open(&app.base, &other_token).await;
    assert!(!stream.ends_within(Duration::from_millis(500)).await);
    let res = w
        .post(format!("{}/api/v1/auth/logout", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        stream.ends_within(BOUND).await,
        "signed out: the stream ends"
    );
    assert!(
        !other.ends_within(Duration::from_millis(500)).await,
        "another user's stream stays open"
    );
    // EventSource reconnects: the ended session is refused.
    let res = reqwest::get(format!("{}/api/v1/live?access_token={token}", app.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// With the default re-check (30 s), so only the disabling itself can end the stream in time.
async fn disabling_the_user_ends_the_stream(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let (_, token) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let mut stream = Live::open(&app.base, &token).await;
    let res = app
        .client
        .put(format!("{}/api/v1/admin/users/w1", app.base))
        .json(&json!({"username": "w1", "display_name": "w1", "role": "warden", "grids": [rid(G1)], "disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(stream.ends_within(BOUND).await, "disabled: the stream ends");
}

/// What another instance does (or the `tongxin user` CLI) is not announced here: the stream's
/// re-check finds the session revoked, and the expiry ends a stream on time.
async fn a_session_ended_elsewhere_or_expired_ends_the_stream(db: TestDb) {
    let app = app(&db).await;
    small_city(&app).await;
    let (_, token) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let mut stream = Live::open(&app.base, &token).await;
    assert!(!stream.ends_within(Duration::from_millis(500)).await);
    app.state
        .store
        .revoke_session(&tongxin_server::auth::token_hash(&token), now_ms())
        .await
        .unwrap();
    assert!(stream.ends_within(BOUND).await, "revoked elsewhere");
    // A session that expires in a second (the re-check would not see it sooner than the
    // expiry itself: it ends on time).
    let (short, hash) = new_token();
    let now = now_ms();
    app.state
        .store
        .create_session(&hash, "w1", now, now + 1_000)
        .await
        .unwrap();
    let mut stream = Live::open(&app.base, &short).await;
    assert!(stream.ends_within(BOUND).await, "expired");
}

/// A fifth stream of one user ends their oldest; the four others keep getting pokes.
async fn a_fifth_stream_ends_the_oldest(db: TestDb) {
    let app = app(&db).await;
    small_city(&app).await;
    let (_, token) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let mut streams = Vec::new();
    for _ in 0..MAX_STREAMS_PER_USER {
        streams.push(Live::open(&app.base, &token).await);
    }
    for s in &mut streams {
        assert!(!s.ends_within(Duration::from_millis(100)).await);
    }
    streams.push(Live::open(&app.base, &token).await);
    assert!(streams[0].ends_within(BOUND).await, "the oldest ends");
    assert_eq!(
        app.state.streams.count("w1"),
        MAX_STREAMS_PER_USER,
        "the ended one is no longer counted"
    );
    let res = app
        .push(&[set_case(
            0x900,
            1,
            0x901,
            Hlc::new(now_ms(), 0),
            json!({"title": "x", "grid": rid(G1)}),
        )])
        .await;
    let seq = res["results"][0]["seq"].as_u64().unwrap();
    for s in &mut streams[1..] {
        // The first poke of a stream may be the catch-up one; the commit's seq comes by then.
        let mut got = s.poke().await;
        while got < seq {
            got = s.poke().await;
        }
        assert_eq!(got, seq);
    }
}

/// A burst of commits in a stream's area: the first is poked, the rest are folded into one poke
/// a pace later, carrying the burst's last seq (so the pull it triggers brings them
/// all). The pace is long enough for the four pushes to finish within it.
async fn a_burst_of_commits_is_folded_into_one_poke(db: TestDb) {
    let state = tongxin_server::AppState::start(&db.url, std::env::temp_dir().join("no-dist"))
        .await
        .unwrap()
        .with_live_pace(Duration::from_millis(1500));
    let app = TestApp::serve(state).await;
    small_city(&app).await;
    let (_, token) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    let mut stream = Live::open(&app.base, &token).await;
    let now = app.state.store.max_seq().await.unwrap();
    assert_eq!(stream.poke().await, now, "the catch-up poke");
    let t = now_ms();
    let mut seqs = Vec::new();
    for n in 0..5u32 {
        let op = set_case(
            0xA00 + u128::from(n),
            1,
            0xB00 + u128::from(n),
            Hlc::new(t, n),
            json!({"title": "burst", "grid": rid(G1)}),
        );
        seqs.push(app.push(&[op]).await["results"][0]["seq"].as_u64().unwrap());
        if n == 0 {
            // A pace after the catch-up poke (the paused-clock unit test times it exactly).
            assert_eq!(stream.poke().await, seqs[0], "the burst's first commit");
        }
    }
    assert_eq!(
        stream.poke().await,
        seqs[4],
        "the other four folded into one poke with the last seq"
    );
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(
    signing_out_ends_the_stream,
    disabling_the_user_ends_the_stream,
    a_session_ended_elsewhere_or_expired_ends_the_stream,
    a_fifth_stream_ends_the_oldest,
    a_burst_of_commits_is_folded_into_one_poke,
);
