//! Fuzz target `judging`: the body is `tongxin_shared::fuzzing::judging` (its corpus is replayed on
//! stable by `shared/tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tongxin_shared::fuzzing::judging(data));
