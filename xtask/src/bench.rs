//! `cargo xtask bench [NAME…]`: the benchmarks, by name. Never part of `cargo xtask test`.
//!
//! To add one, append an entry to [`BENCHES`]: a name, one line saying what it measures, and the
//! function that runs it (usually one `cargo bench -p <crate> --bench <name>`).

use anyhow::{bail, Result};
use clap::Args;

use crate::sh;

#[derive(Args)]
pub struct BenchArgs {
    /// List the benchmarks and exit.
    #[arg(long)]
    list: bool,
    /// Benchmarks to run (default: all).
    names: Vec<String>,
}

struct Bench {
    name: &'static str,
    about: &'static str,
    run: fn() -> Result<()>,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "merge",
        about: "ops/s of the pure merge in tongxin-shared (criterion)",
        run: || sh::run(sh::cargo().args(["bench", "-p", "tongxin-shared", "--bench", "merge"])),
    },
    Bench {
        name: "demo",
        about: "generating the synthetic demo city, 3 and 12 months (criterion)",
        run: || sh::run(sh::cargo().args(["bench", "-p", "tongxin-demo", "--bench", "generate"])),
    },
    Bench {
        name: "ingest",
        about: "server ingest ops/s, pushes of 500 over HTTP, SQLite and PostgreSQL",
        run: || {
            sh::run(sh::cargo().args([
                "bench",
                "-p",
                "tongxin-server",
                "--bench",
                "sync",
                "--",
                "ingest",
            ]))
        },
    },
    Bench {
        name: "poke",
        about: "push -> SSE poke latency with 1,000 subscribers, p50/p95/p99",
        run: || {
            sh::run(sh::cargo().args([
                "bench",
                "-p",
                "tongxin-server",
                "--bench",
                "sync",
                "--",
                "poke",
            ]))
        },
    },
    Bench {
        name: "pull",
        about: "initial pull of 10,000 records into IndexedDB, end to end in headless Chromium",
        run: pull_bench,
    },
    Bench {
        name: "map",
        about: "the city map: first paint of 1,200 and 2,000 grids, push -> recolour with 200 managers listening",
        run: map_bench,
    },
    Bench {
        name: "lossy",
        about: "a week offline (200 visits, 61 households, 30 cases, 60 photos) reconnecting, CPU 4x: clean link vs 30% faulted",
        run: lossy_bench,
    },
    Bench {
        name: "wasm",
        about:
            "in headless Chromium's wasm: point-in-polygon over 1,200 grids, filtering 10,000 cases",
        run: || {
            crate::tools::ensure_wasm_target()?;
            crate::tools::ensure_wasm_bindgen()?;
            sh::run(
                sh::cargo()
                    .args([
                        "test",
                        "-p",
                        "tongxin-app",
                        "--target",
                        crate::tools::WASM_TARGET,
                        "--release",
                        "--test",
                        "bench_wasm",
                        "--",
                        "--include-ignored",
                        "--nocapture",
                    ])
                    .env("CHROMEDRIVER", crate::tools::CHROMEDRIVER),
            )
        },
    },
    Bench {
        name: "seed",
        about: "seeding the demo city into SQLite, 3 and 12 months: time and database size",
        run: || {
            sh::run(sh::cargo().args([
                "bench",
                "-p",
                "tongxin-server",
                "--bench",
                "sync",
                "--",
                "seed",
            ]))
        },
    },
];

pub fn bench(args: &BenchArgs) -> Result<()> {
    if args.list {
        for b in BENCHES {
            println!("{:<12} {}", b.name, b.about);
        }
        return Ok(());
    }
    for name in &args.names {
        if !BENCHES.iter().any(|b| b.name == name) {
            let known: Vec<&str> = BENCHES.iter().map(|b| b.name).collect();
            bail!("unknown benchmark `{name}` (known: {})", known.join(", "));
        }
    }
    for b in BENCHES {
        if args.names.is_empty() || args.names.iter().any(|n| n == b.name) {
            eprintln!("xtask: bench {}: {}", b.name, b.about);
            (b.run)()?;
        }
    }
    Ok(())
}

/// Builds the app and the server, then runs `tests/e2e/bench/pull.mjs` (node + playwright-core).
fn pull_bench() -> Result<()> {
    browser_bench("bench/pull.mjs")
}

fn map_bench() -> Result<()> {
    browser_bench("bench/map.mjs")
}

/// Needs the sqlite3 command line tool: the bench reads the server's op log from its file.
fn lossy_bench() -> Result<()> {
    if sh::which("sqlite3").is_none() {
        bail!("the lossy bench reads the server's database with the sqlite3 tool: apt-get install sqlite3");
    }
    browser_bench("bench/lossy.mjs")
}

/// Builds the app and the release server, then runs a node + playwright-core script in
/// `tests/e2e/`.
fn browser_bench(script: &str) -> Result<()> {
    crate::tools::ensure_chromium()?;
    crate::tools::ensure_node_modules()?;
    let dist = crate::dist::build_dist().map(|_| crate::dist::dist_dir())?;
    sh::run(sh::cargo().args([
        "build",
        "--release",
        "-p",
        "tongxin-server",
        "--bin",
        "tongxin",
    ]))?;
    let bin = crate::project_root().join("target/release/tongxin");
    sh::run(
        sh::cmd("node")
            .arg(script)
            .current_dir(crate::tools::e2e_dir())
            .env("TONGXIN_BIN", bin)
            .env("TONGXIN_DIST", dist)
            .env("TONGXIN_CHROMIUM", crate::tools::CHROMIUM),
    )
}
