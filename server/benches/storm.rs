//! The morning storm (issue 16, `cargo xtask bench storm`): 6,135 wardens push their day while
//! 200 managers hold live streams and pull on every poke, on SQLite (one server) and on
//! PostgreSQL (two servers on one database). The scenario is `storm/run.rs`; a small run of it
//! is in the test suite (`tests/storm.rs`). Figures go to BENCHMARKS.md; nothing asserts on them.
//!
//! `cargo bench -p tongxin-server --bench storm -- [sqlite|postgres] [--wardens N]
//! [--managers N] [--in-flight N] [--pace-ms N] [--quick]` (`--quick`: 300 wardens, 20
//! managers; `--pace-ms`: the servers' poke pace, default `live::POKE_PACE`).
//!
//! The servers run on a runtime of their own (threads `tx-server`), the clients on another
//! (threads `storm-client`), so the process's CPU time can be split between them; memory is the
//! process's (servers and clients together).
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a bench binary: panics and prints are its interface

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "storm/run.rs"]
mod run;

/// The allocator the `tongxin` binary ships with (`src/main.rs`): the servers in this process
/// allocate as the real one does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use run::{Backend, Config};

fn arg(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = Config::full();
    if args.iter().any(|a| a == "--quick") {
        cfg.wardens = 300;
        cfg.managers = 20;
    }
    cfg.wardens = arg(&args, "--wardens").unwrap_or(cfg.wardens);
    cfg.managers = arg(&args, "--managers").unwrap_or(cfg.managers);
    cfg.in_flight = arg(&args, "--in-flight").unwrap_or(cfg.in_flight);
    if let Some(ms) = arg(&args, "--pace-ms") {
        cfg.poke_pace = std::time::Duration::from_millis(ms as u64);
    }
    let only: Vec<&String> = args
        .iter()
        .filter(|a| *a == "sqlite" || *a == "postgres")
        .collect();
    let wants = |n: &str| only.is_empty() || only.iter().any(|a| *a == n);
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name("tx-server")
        .enable_all()
        .build()
        .unwrap();
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name("storm-client")
        .enable_all()
        .build()
        .unwrap();
    for (name, backend) in [("sqlite", Backend::Sqlite), ("postgres", Backend::Postgres)] {
        if wants(name) {
            // Spawned, so the scenario itself runs on the client threads, not on this one.
            let handle = server.handle().clone();
            let report =
                clients
                    .block_on(clients.spawn(async move {
                        run::run(backend, cfg, &handle, "storm-client").await
                    }))
                    .unwrap();
            run::print(&report);
        }
    }
}
