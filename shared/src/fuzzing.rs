//! The bodies of the fuzz targets (feature `testkit`): each takes arbitrary bytes, runs them
//! through the project's own code path and panics when an invariant breaks. The cargo-fuzz
//! targets in `fuzz/` call them under libFuzzer; `tests/fuzz_corpus.rs` replays the corpus kept
//! in `fuzz/corpus/<target>/` through the same functions on stable, in the ordinary test run.
//!
//! - [`op_decoding`]: one op as the server reads it (`intake::judge`): a verdict, never a panic;
//!   an accepted op survives a serialise/deserialise round trip unchanged (same digest).
//! - [`judging`]: a whole push body (`intake::RawPush`) → decode → `policy::plan` → merge,
//!   against a small committed city: one verdict per op, every refusal with a known code,
//!   nothing stored lost, every stored record readable by the app's pull decoder, and the
//!   applied ops sent again are known and change nothing.
//! - [`geo_import`]: an admin's GeoJSON file through `geoimport::parse_grids`: grids or problems,
//!   and every grid's boundary a polygon of WGS84 positions.
//! - [`pull_page`]: a pull answer through the app's decoder (`pull_page::judge`): the limit only
//!   shrinks on failure, a record is skipped only when alone, the cursor never moves back.
#![allow(clippy::missing_panics_doc, clippy::unwrap_used, clippy::expect_used)]

use crate::geoimport::{parse_grids, Crs, PropertyMap};
use crate::intake::{judge, RawPush};
use crate::policy::testkit::{city, people, report, World, G111, HOUR, T0};
use crate::policy::{op_digest, Key, OpSlot};
use crate::pull_page::{self, Step};
use crate::record::Record;
use crate::wire::{OpResult, PulledRecord, MAX_PUSH_OPS, REFUSAL_CODES};
use crate::Op;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The server's clock in the judging targets: 100 hours after the test city's epoch.
pub const NOW: u64 = T0 + 100 * HOUR;

/// A fuzz target's body: arbitrary bytes in, a panic when an invariant breaks.
pub type Body = fn(&[u8]);

/// The fuzz targets, by the name of their corpus directory.
pub const TARGETS: [(&str, Body); 4] = [
    ("op_decoding", op_decoding),
    ("judging", judging),
    ("geo_import", geo_import),
    ("pull_page", pull_page),
];

fn assert_known(r: &OpResult) {
    if let OpResult::Rejected { rejected, .. } = r {
        assert!(
            REFUSAL_CODES.contains(&rejected.code.as_str()),
            "refusal code {:?} is not in wire::REFUSAL_CODES",
            rejected.code
        );
        assert!(!rejected.message.is_empty(), "a refusal without a message");
    }
}

/// One op as the server reads it from a push.
pub fn op_decoding(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text) else {
        return;
    };
    match judge(&raw, 0) {
        Ok(op) => {
            let again = serde_json::to_string(&op).expect("an accepted op serialises");
            let back: Op = serde_json::from_str(&again).expect("an accepted op reads back");
            assert_eq!(back, op, "an accepted op changes through a round trip");
            assert_eq!(op_digest(&back), op_digest(&op));
        }
        Err(r) => assert_known(&r),
    }
}

/// The committed world the judging target starts from: the test city (two subdistricts, three
/// communities, four grids) and one case reported by warden `w1` in grid 111.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut w = city();
        report(&mut w, 900, G111, "w1", T0);
        w
    })
}

/// A whole push body through the server's judging path.
pub fn judging(data: &[u8]) {
    let Ok(push) = serde_json::from_slice::<RawPush>(data) else {
        return;
    };
    if push.ops.len() > MAX_PUSH_OPS {
        return; // the server refuses the whole push (413) before judging any op
    }
    let mut accepted = Vec::new();
    for (i, raw) in push.ops.iter().enumerate() {
        match judge(raw, i) {
            Ok(op) => accepted.push(op),
            Err(r) => assert_known(&r),
        }
    }
    // The pusher: one of the city's people of every role, chosen by the push's actor id.
    let everyone = people();
    let who = everyone[push.actor.0.as_bytes()[15] as usize % everyone.len()].clone();
    let mut w = world().clone();
    let before = w.records.clone();
    let verdicts = w.commit(&accepted, Some(who.clone()));
    assert_eq!(verdicts.len(), accepted.len(), "every op gets a verdict");
    for v in &verdicts {
        if let OpSlot::Denied(d) = v {
            assert!(
                REFUSAL_CODES.contains(&d.code()),
                "refusal code {:?} is not in wire::REFUSAL_CODES",
                d.code()
            );
        }
    }
    nothing_lost(&before, &w.records);
    for (seq, record) in w.records.values() {
        readable_by_the_app(*seq, record);
    }
    // The applied ops again (a device that did not get the answer): each is answered from the
    // op log and nothing changes. (A refused op may pass when sent again: an op before it in the
    // batch may have created the record it needed.)
    let applied: Vec<Op> = verdicts
        .iter()
        .zip(&accepted)
        .filter(|(v, _)| matches!(v, OpSlot::Record(_)))
        .map(|(_, op)| op.clone())
        .collect();
    let stored = w.records.clone();
    let again = w.commit(&applied, Some(who));
    assert!(
        again.iter().all(|v| matches!(v, OpSlot::Known(_))),
        "an applied op sent again must be known: {again:?}"
    );
    assert_eq!(
        w.records, stored,
        "applied ops sent again changed stored records"
    );
}

/// Every field stored before keeps a value at least as new, every entry stays as it was.
fn nothing_lost(before: &HashMap<Key, (u64, Record)>, after: &HashMap<Key, (u64, Record)>) {
    for (key, (_, old)) in before {
        let (_, new) = after.get(key).expect("a stored record disappeared");
        for (name, fv) in &old.fields {
            let now = new.fields.get(name).expect("a stored field disappeared");
            assert!(
                now.stamp >= fv.stamp,
                "field {name} went back to an older stamp"
            );
        }
        for (id, entry) in &old.log {
            assert_eq!(
                new.log.get(id),
                Some(entry),
                "a timeline entry changed or vanished"
            );
        }
    }
}

/// A stored record, served in a pull page, reads on the device as the same record.
fn readable_by_the_app(seq: u64, record: &Record) {
    let pulled = PulledRecord {
        seq,
        record: record.clone(),
    };
    let text = format!(
        r#"{{"records":[{}],"cursor":{seq},"more":false,"reset":false,"scope":"s","server_time_ms":{NOW}}}"#,
        serde_json::to_string(&pulled).expect("a record serialises")
    );
    match pull_page::judge(&text, 1) {
        Step::Apply { page, .. } => {
            assert_eq!(page.records.len(), 1);
            assert_eq!(
                &page.records[0], record,
                "a stored record reads back different"
            );
        }
        other => panic!("a stored record cannot be read by the app: {other:?}"),
    }
}

/// An admin's GeoJSON file, read in the coordinate system chosen by the file's length.
pub fn geo_import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let crs = [Crs::Wgs84, Crs::Gcj02, Crs::Bd09][text.len() % 3];
    match parse_grids(text, crs, &PropertyMap::default()) {
        Ok(grids) => {
            for g in &grids {
                assert!(!g.code.is_empty() && !g.name.is_empty() && !g.community_code.is_empty());
                let shape = crate::geo::polygon_from_geojson(&g.boundary)
                    .expect("an imported boundary is a polygon");
                for p in shape.0.iter().flat_map(|p| {
                    p.exterior()
                        .coords()
                        .chain(p.interiors().iter().flat_map(geo::LineString::coords))
                }) {
                    assert!(
                        p.x.is_finite()
                            && p.y.is_finite()
                            && (-180.0..=180.0).contains(&p.x)
                            && (-90.0..=90.0).contains(&p.y),
                        "an imported position is not a WGS84 position: {p:?}"
                    );
                }
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "a refused file names no problem");
            for p in &problems {
                assert!(!p.message.is_empty(), "a problem without a message: {p:?}");
            }
        }
    }
}

/// A pull answer, asked with the limit given by the first byte.
pub fn pull_page(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let limit = match first {
        0..=63 => 1,
        64..=127 => 2,
        _ => u32::from(first) * 8,
    };
    let asked_cursor = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("cursor").and_then(Value::as_u64));
    match pull_page::judge(text, limit) {
        Step::Apply { page, next_limit } => {
            assert!(next_limit >= limit.min(pull_page::PULL_LIMIT));
            assert!(next_limit <= pull_page::PULL_LIMIT.max(limit));
            assert_eq!(Some(page.cursor), asked_cursor);
        }
        Step::Shrink { limit: l } => {
            assert!(limit > 1, "a one-record page must not shrink");
            assert!(l < limit && l >= 1, "shrink from {limit} to {l}");
        }
        Step::Skip {
            skipped, cursor, ..
        } => {
            assert_eq!(limit, 1, "a record is skipped only when asked alone");
            assert!(
                cursor >= skipped.seq,
                "the cursor stays before the skipped record"
            );
            assert!(
                asked_cursor.is_none_or(|c| cursor >= c),
                "the cursor moved back"
            );
        }
        Step::Fail(why) => {
            assert_eq!(limit, 1, "a failing page must first shrink");
            assert!(!why.is_empty());
        }
    }
}
