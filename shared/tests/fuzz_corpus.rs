//! The fuzz corpus, replayed on stable as ordinary tests: every input kept in
//! `fuzz/corpus/<target>/` (the hand-made seeds, what `cargo xtask fuzz` found that reaches new
//! code, minimised, and every input that once crashed) goes through the same function the
//! cargo-fuzz target calls (`tongxin_shared::fuzzing`). A fixed bug stays fixed without a
//! nightly toolchain; a new invariant is checked against everything the fuzzer ever found.

use std::path::{Path, PathBuf};
use tongxin_shared::fuzzing::TARGETS;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn replay(target: &str) {
    let (_, body) = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a known target");
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "{}: the corpus must hold at least the seeds",
        dir.display()
    );
    for file in &files {
        let data = std::fs::read(file).expect("a corpus file");
        let outcome = std::panic::catch_unwind(|| body(&data));
        assert!(
            outcome.is_ok(),
            "{target}: the input {} breaks an invariant (run `cargo xtask fuzz {target}` on it)",
            file.display()
        );
    }
}

#[test]
fn op_decoding_corpus() {
    replay("op_decoding");
}

#[test]
fn judging_corpus() {
    replay("judging");
}

#[test]
fn geo_import_corpus() {
    replay("geo_import");
}

#[test]
fn pull_page_corpus() {
    replay("pull_page");
}

/// Every target has its corpus directory and its test above.
#[test]
fn every_target_has_a_corpus() {
    for (name, _) in TARGETS {
        assert!(corpus_dir(name).is_dir(), "fuzz/corpus/{name} is missing");
    }
}

/// Found by the `op_decoding` target (its input is in the corpus): a long decimal in a boundary
/// was read as a double one ulp off the nearest, whose shortest text then read back as another
/// double, so an op (and the record it wrote) changed through one store-and-read. Fixed by
/// serde_json's `float_roundtrip` (correctly rounded parsing) for the whole workspace.
#[test]
fn a_long_decimal_reads_back_as_the_same_number() {
    for text in [
        "100.17777777777777777777777777777777",
        "25.123456789012345678901234567890",
        "0.30000000000000000000000000000001",
    ] {
        let first: f64 = serde_json::from_str(text).expect("a number");
        let again: f64 =
            serde_json::from_str(&serde_json::to_string(&first).expect("text")).expect("a number");
        assert_eq!(
            first.to_bits(),
            again.to_bits(),
            "{text} changed through a round trip"
        );
        assert_eq!(
            first.to_bits(),
            text.parse::<f64>().expect("std parses it").to_bits(),
            "{text} misread"
        );
    }
}
