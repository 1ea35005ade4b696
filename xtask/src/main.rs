//! `cargo xtask run | test | bench`: the project's commands.
fn main() {}
