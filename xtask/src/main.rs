//! `cargo xtask run | dist | test | bench | fuzz`: the project's commands (the matklad xtask pattern).
//!
//! - `run`   installs what is missing, builds the app into `dist/`, builds the server in release
//!   and replaces this process with it (so Ctrl-C and SIGTERM reach the server directly).
//! - `dist`  builds the app only: wasm → wasm-bindgen → content-hashed assets → `sw.js`.
//! - `test`  everything CI runs, in order, failing fast, with a timing summary.
//! - `bench` the benchmarks (never part of `test`).
//! - `fuzz`  the cargo-fuzz targets, each for a given time (never part of `test`, which replays
//!   their kept corpus).
//! - `shots` screenshots of every screen at phone and desktop size (target/shots).
//!
//! Every step prints the command it runs, so a failure can be reproduced by hand.

mod bench;
mod compress;
mod dist;
mod fuzz;
mod run;
mod sh;
mod shots;
mod test;
#[cfg(test)]
mod tidy;
mod tools;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Tongxin's project commands", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the app and the server (release) and start the server.
    Run(run::RunArgs),
    /// Build the app into dist/ (wasm, JS glue, CSS, index.html, sw.js, manifest, icons).
    Dist(dist::DistArgs),
    /// Install what is missing, then run fmt, clippy, native + wasm tests and the browser e2e suite.
    Test(test::TestArgs),
    /// Run the benchmarks (`cargo xtask bench --list` shows them).
    Bench(bench::BenchArgs),
    /// Run the cargo-fuzz targets, each for `--seconds` (`fuzz/`; executions and crashes printed).
    Fuzz(fuzz::FuzzArgs),
    /// Screenshot every screen at 390×844 and 1,280×900 on the demo city (into target/shots).
    Shots(shots::ShotsArgs),
}

fn main() {
    let cli = Cli::parse();
    sh::prepare_env();
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Dist(args) => dist::dist_command(&args),
        Command::Test(args) => test::test(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Fuzz(args) => fuzz::fuzz(&args),
        Command::Shots(args) => shots::shots(&args),
    };
    if let Err(err) = result {
        eprintln!("xtask: error: {err:#}");
        std::process::exit(1);
    }
}

/// The repository root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), std::path::Path::to_path_buf)
}

/// True when running under CI (`CI=true`, as CI systems set it).
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| matches!(v.trim(), "true" | "1" | "yes"))
}
