//! The `tongxin` binary: parses config and calls `tongxin_server::serve`.
fn main() {}
