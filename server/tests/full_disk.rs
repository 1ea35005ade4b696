//! A full disk: the SQLite data directory on a small size-limited tmpfs mounted by the test
//! (the tests run as root; without root the test fails under `CI=true` and is skipped loudly
//! elsewhere). Filled by pushes: the server answers 507 with a clear message (the app keeps
//! the ops in its outbox and retries, as for any 5xx), stores nothing of the refused batch,
//! keeps serving reads, the database stays sound (`PRAGMA integrity_check`), and once space is
//! freed the same batch and photo go through and nothing acknowledged is missing.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use tongxin_shared::{Collection, Hlc, Op};

/// A tmpfs mounted for one test; unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    /// `mode`: of its root (0755 lets the `postgres` user reach a cluster made inside).
    fn tmpfs(size: &str, mode: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode={mode}")])
            .arg("tmpfs")
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazy: the test's pool may still hold the file for a moment.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the filesystem with a ballast file, then gives back `leave` bytes of it.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let path = dir.join("ballast");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5A_u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("ballast: {e}"),
        }
    }
    f.set_len(written.saturating_sub(leave)).unwrap();
    f.sync_all().unwrap();
    path
}

fn batch(from: u128, len: u128) -> Vec<Op> {
    let t = now_ms();
    (from..from + len)
        .map(|k| {
            set(
                Collection::Cases,
                0x0A00_0000 + k,
                0x0C00_0000 + k,
                Hlc::new(t, 0),
                json!({"title": format!("{k:>6} {}", "楼道堆物".repeat(40))}),
            )
        })
        .collect()
}

async fn push(app: &TestApp, ops: &[Op]) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/api/v1/sync/push", app.base))
        .json(&json!({"protocol": 2, "actor": uuid(ROOT_DEVICE), "ops": ops}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A photo of `len` bytes (JPEG magic, then noise that does not compress).
fn photo(len: usize, seed: u64) -> (String, Vec<u8>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((4..len).map(|_| rng.u8(..)));
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

async fn put_photo(app: &TestApp, sha: &str, bytes: &[u8]) -> (u16, Value) {
    let res = app
        .client
        .put(format!("{}/api/v1/blobs/{sha}", app.base))
        .header("content-type", "image/jpeg")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

fn assert_disk_full(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 507, "{what}: {body}");
    assert_eq!(body["error"]["code"], "storage_full", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("disk is full") && message.contains("stay on this device"),
        "{what}: {message}"
    );
}

fn mount_or_skip(size: &str, mode: &str, test: &str) -> Option<Mount> {
    match Mount::tmpfs(size, mode) {
        Ok(m) => Some(m),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: cannot mount a tmpfs (CI=true: no skip; run as root): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: cannot mount a tmpfs (run as root): {e}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_answers_507_stays_sound_and_recovers_once_freed() {
    let test = "sqlite_on_a_full_disk_answers_507_stays_sound_and_recovers_once_freed";
    let Some(mount) = mount_or_skip("16m", "0700", test) else {
        return;
    };
    let db_url = format!("sqlite://{}", mount.path().join("t.sqlite3").display());
    full_disk(&db_url, mount.path(), "sqlite").await;
}

/// PostgreSQL's data directory on the small filesystem: a private cluster made in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_on_a_full_disk_answers_507_and_recovers_once_freed() {
    let test = "postgres_on_a_full_disk_answers_507_and_recovers_once_freed";
    let Some(mount) = mount_or_skip("160m", "0755", test) else {
        return;
    };
    let cluster = match PrivateCluster::start_in(mount.path()) {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: cannot start a private PostgreSQL cluster (CI=true: no skip): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: cannot start a private PostgreSQL cluster: {e}");
            return;
        }
    };
    full_disk(&cluster.url, mount.path(), "postgres").await;
    drop(cluster);
}

async fn full_disk(db_url: &str, fs: &Path, backend: &str) {
    let app = TestApp::spawn(db_url).await;
    // A photo stored while there is room: it stays readable throughout.
    let (early_sha, early) = photo(300 * 1024, 1);
    assert_eq!(put_photo(&app, &early_sha, &early).await.0, 201);
    let ballast = fill(fs, 512 * 1024);
    // Pushes fill the rest.
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let mut next = 0;
    let (refused_batch, body) = loop {
        let ops = batch(next, 100);
        next += 100;
        let (status, body) = push(&app, &ops).await;
        if status != 200 {
            break (ops, (status, body));
        }
        for r in body["results"].as_array().unwrap() {
            acked.insert(
                r["op_id"].as_str().unwrap().to_owned(),
                r["seq"].as_u64().unwrap(),
            );
        }
        assert!(next < 100_000, "512 KB never filled up");
    };
    assert!(!acked.is_empty(), "some pushes fit before the disk filled");
    assert_disk_full(body.0, &body.1, "the push that did not fit");
    // A photo does not fit either.
    let (sha, bytes) = photo(1_500_000, 2);
    let (status, body) = put_photo(&app, &sha, &bytes).await;
    assert_disk_full(status, &body, "a photo on a full disk");

    // While full: reads still served, the database sound, nothing of the refused batch stored.
    let pulled = app.pull_all().await;
    assert_eq!(
        pulled.len(),
        acked.len(),
        "every acknowledged case is served while the disk is full"
    );
    let res = app
        .client
        .get(format!("{}/api/v1/blobs/{early_sha}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), early.as_slice());
    let full = stored(db_url).await; // on SQLite, asserts integrity_check = ok
    assert_eq!(full.seqs, acked, "exactly the acknowledged ops are stored");
    for op in &refused_batch {
        assert!(!full.seqs.contains_key(&op.id.to_string()));
    }

    // Space freed: the same batch and photo go through, as the app's retry sends them.
    std::fs::remove_file(&ballast).unwrap();
    let (status, body) = push(&app, &refused_batch).await;
    assert_eq!(status, 200, "{body}");
    for r in body["results"].as_array().unwrap() {
        acked.insert(
            r["op_id"].as_str().unwrap().to_owned(),
            r["seq"].as_u64().expect("applied"),
        );
    }
    assert_eq!(put_photo(&app, &sha, &bytes).await.0, 201);
    let after = stored(db_url).await;
    assert_eq!(
        after.seqs, acked,
        "every acknowledged op stored once, with its seq"
    );
    assert_eq!(after.rows, after.distinct);
    assert_eq!(app.pull_all().await.len(), acked.len());
    eprintln!(
        "full disk [{backend}]: {} ops acknowledged before the disk filled, then 507 for a batch of {} and a \
         photo of {} KB; after freeing space both stored, {} ops in all",
        acked.len() - refused_batch.len(),
        refused_batch.len(),
        bytes.len() / 1024,
        acked.len()
    );
    drop(app);
}
