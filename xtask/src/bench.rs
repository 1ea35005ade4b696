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
        name: "decode",
        about: "records/s of reading a pull page of 1,000 realistic cases (pull_page::judge, criterion)",
        run: || sh::run(sh::cargo().args(["bench", "-p", "tongxin-shared", "--bench", "decode"])),
    },
    Bench {
        name: "demo",
        about: "generating the synthetic demo city, 3 and 12 months (criterion)",
        run: || sh::run(sh::cargo().args(["bench", "-p", "tongxin-demo", "--bench", "generate"])),
    },
    Bench {
        name: "ingest",
        about: "server ingest ops/s, pushes of 500 over HTTP, as the admin and as 4 wardens, SQLite and PostgreSQL",
        run: || server_sync_bench("ingest"),
    },
    Bench {
        name: "serve-pull",
        about: "the server's side of a first sync over HTTP: 10,000 cases in pages of 1,000, pulled whole by their warden (bodies handed on as stored) and masked by the city manager; ms per 1,000 records, SQLite and PostgreSQL",
        run: || server_sync_bench("pull"),
    },
    Bench {
        name: "poke",
        about: "push -> SSE poke latency, 1,000 streams of 250 users in 4 grids, p50/p95/p99",
        run: || server_sync_bench("poke"),
    },
    Bench {
        name: "storm",
        about: "the morning storm: 6,135 wardens push their day (visits, cases, photos) while 200 managers hold live streams; SQLite and PostgreSQL with 2 instances; latency, errors, pokes, RSS, CPU",
        run: || {
            crate::tools::ensure_postgres(crate::is_ci())?;
            sh::run(
                sh::cargo()
                    .args(["bench", "-p", "tongxin-server", "--bench", "storm"])
                    .env("TONGXIN_TEST_PG_URL", crate::tools::test_pg_url()),
            )
        },
    },
    Bench {
        name: "pull",
        about: "a warden's first sign-in pulling 10,000 full cases into IndexedDB, headless Chromium",
        run: pull_bench,
    },
    Bench {
        name: "map",
        about: "the city map: first paint of 1,200 and 2,000 grids, push -> recolour with 200 managers listening",
        run: map_bench,
    },
    Bench {
        name: "lists",
        about: "the city manager's case and visit lists and the admin's users on the demo city with history (TONGXIN_BENCH_MONTHS, default 12): navigation -> first rows, search, paging, scrolling",
        run: || browser_bench_with("bench/lists.mjs", true),
    },
    Bench {
        name: "admin-users",
        about: "the admin's user list on the demo city (6,357 accounts): a new device's first page, again, search, next page, after a reload",
        // What is timed is the server's paged answer and the page drawn: the debug build
        // (which `cargo xtask test` keeps warm) is the one the issue's figures came from.
        run: || browser_bench_with("bench/admin_users.mjs", false),
    },
    Bench {
        name: "city-sync",
        about: "the city, subdistrict and community managers' first sync on a new browser, the demo city with 3 and 12 months (TONGXIN_BENCH_MONTHS, e.g. \"3,12\"): time until synced and until the staged pages are unpacked, records and bytes pulled, device storage, the dashboard's first figures",
        run: || browser_bench_with("bench/city_sync.mjs", true),
    },
    Bench {
        name: "lists-reload",
        about: "the case and visit lists right after a reload, on a city seeded and synced once and kept (target/bench/lists-<months>m; TONGXIN_BENCH_MONTHS, default 12): at once from home, by address, from memory, with the lists' User Timing",
        run: || browser_bench_with("bench/lists_reload.mjs", true),
    },
    Bench {
        name: "memory",
        about: "the release server's resident memory: --demo-city start, seeding a year (TONGXIN_BENCH_MONTHS, default 12), the city manager's full pull",
        run: || browser_bench_with("bench/memory.mjs", true),
    },
    Bench {
        name: "lossy",
        about: "a week offline (200 visits, 61 households, 30 cases, 60 photos) reconnecting, CPU 4x: clean link vs 30% faulted",
        run: lossy_bench,
    },
    Bench {
        name: "size",
        about: "the built app per file: raw, gzip -9 and brotli 11 bytes; the warden's first load and the lazy modules",
        run: size_bench,
    },
    Bench {
        name: "load",
        about: "a warden's first load in headless Chromium: bytes over the wire and time to a usable sign-in, unthrottled, fast 3G, slow 3G",
        // The server only sends files here: its debug build (which `cargo xtask test` keeps
        // warm) serves them as fast as the emulated links can take them.
        run: || browser_bench_with("bench/load.mjs", false),
    },
    Bench {
        name: "wasm",
        about:
            "in headless Chromium's wasm: point-in-polygon over 1,200 grids, filtering 10,000 cases, reading a pull page of 1,000 cases, reading changed records from IndexedDB one by one or together, writing values or packs",
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
                        // As the wasm tests: a test binary is never split (`app` feature
                        // `split`), so its loaders could not resolve.
                        "--no-default-features",
                        "--test",
                        "bench_wasm",
                        "--",
                        "--include-ignored",
                        "--nocapture",
                    ])
                    .env("CHROMEDRIVER", crate::tools::CHROMEDRIVER)
                    .env("WASM_BINDGEN_TEST_TIMEOUT", "300"),
            )
        },
    },
    Bench {
        name: "seed",
        about: "seeding the demo city into SQLite, 3 and 12 months: time, database size, bytes per record",
        run: || server_sync_bench("seed"),
    },
    Bench {
        name: "faults",
        about: "the server under faults: 100 SIGKILLs with 3 pushers and 2 readers (SQLite and PostgreSQL), PostgreSQL crashed mid-storm, a full disk, skewed clocks; counts",
        run: faults_bench,
    },
];

/// The fault tests of `tongxin-server` at full length (`TONGXIN_KILLS=100`), one at a time, with
/// their counts printed (`server/tests/crash_loop.rs` and the others; RELIABILITY.md).
fn faults_bench() -> Result<()> {
    crate::tools::ensure_postgres(crate::is_ci())?;
    let kills = std::env::var("TONGXIN_KILLS").unwrap_or_else(|_| "100".into());
    let mut cmd = sh::cargo();
    cmd.args(["test", "-p", "tongxin-server"]);
    for test in [
        "crash_loop",
        "crash",
        "db_restart",
        "full_disk",
        "clock_skew",
    ] {
        cmd.args(["--test", test]);
    }
    cmd.args(["--", "--nocapture", "--test-threads=1"])
        .env("TONGXIN_KILLS", kills)
        .env("TONGXIN_TEST_PG_URL", crate::tools::test_pg_url());
    sh::run(&mut cmd)
}

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

/// One bench of the server's `sync` bench binary (`server/benches/sync.rs`), by its name there.
fn server_sync_bench(name: &str) -> Result<()> {
    sh::run(sh::cargo().args([
        "bench",
        "-p",
        "tongxin-server",
        "--bench",
        "sync",
        "--",
        name,
    ]))
}

/// Builds the app and the server, then runs `tests/e2e/bench/pull.mjs` (node + playwright-core).
fn pull_bench() -> Result<()> {
    browser_bench_with("bench/pull.mjs", true)
}

fn map_bench() -> Result<()> {
    browser_bench_with("bench/map.mjs", true)
}

/// Needs the sqlite3 command line tool: the bench reads the server's op log from its file.
fn lossy_bench() -> Result<()> {
    if sh::which("sqlite3").is_none() {
        bail!("the lossy bench reads the server's database with the sqlite3 tool: apt-get install sqlite3");
    }
    browser_bench_with("bench/lossy.mjs", true)
}

/// Builds the app and the server (release or debug), then runs a node + playwright-core script
/// in `tests/e2e/`.
fn browser_bench_with(script: &str, release: bool) -> Result<()> {
    crate::tools::ensure_wasm_target()?;
    crate::tools::ensure_wasm_bindgen()?;
    crate::tools::ensure_wasm_split()?;
    crate::tools::ensure_chromium()?;
    crate::tools::ensure_node_modules()?;
    let dist = crate::dist::build_dist()?;
    let mut build = sh::cargo();
    build.args(["build", "-p", "tongxin-server", "--bin", "tongxin"]);
    if release {
        build.arg("--release");
    }
    sh::run(&mut build)?;
    let profile = if release { "release" } else { "debug" };
    let bin = crate::project_root()
        .join("target")
        .join(profile)
        .join("tongxin");
    sh::run(
        sh::cmd("node")
            .arg(script)
            .current_dir(crate::tools::e2e_dir())
            .env("TONGXIN_BIN", bin)
            .env("TONGXIN_DIST", dist)
            .env("TONGXIN_CHROMIUM", crate::tools::CHROMIUM),
    )
}

/// Builds `dist/` and prints every served file's raw, gzip and brotli size (the precompressed
/// copies `cargo xtask dist` wrote), then the totals a warden's first load (before the sign-in),
/// the field screens' modules and the lazy modules come to.
fn size_bench() -> Result<()> {
    crate::tools::ensure_wasm_target()?;
    crate::tools::ensure_wasm_bindgen()?;
    crate::tools::ensure_wasm_split()?;
    let dist = crate::dist::build_dist()?;
    let sw = std::fs::read_to_string(dist.join("sw.js"))?;
    let lazy = list_in(&sw, "const LAZY = ")?;
    let precache = list_in(&sw, "const PRECACHE = ")?;
    let size = |url: &str, ext: &str| -> u64 {
        let path = dist.join(format!("{}{ext}", url.trim_start_matches('/')));
        std::fs::metadata(path).map_or(0, |m| m.len())
    };
    // A file without a precompressed copy is served as it is (or compressed by the server).
    let sizes = |url: &str| {
        let raw = size(url, "");
        let or_raw = |n: u64| if n == 0 { raw } else { n };
        (raw, or_raw(size(url, ".gz")), or_raw(size(url, ".br")))
    };
    println!("{:>10} {:>10} {:>10}  file", "raw", "gzip -9", "brotli 11");
    let mut shell = (0, 0, 0);
    let mut modules = (0, 0, 0);
    for (list, total) in [(&precache, &mut shell), (&lazy, &mut modules)] {
        for url in list {
            let (raw, gz, br) = sizes(url);
            println!("{raw:>10} {gz:>10} {br:>10}  {url}");
            *total = (total.0 + raw, total.1 + gz, total.2 + br);
        }
    }
    let first_load = [
        "/index.html",
        "/assets/app.",
        "/assets/split.",
        "/assets/boot.",
    ];
    let mut warden = (0, 0, 0);
    for url in precache
        .iter()
        .filter(|u| first_load.iter().any(|p| u.starts_with(p)))
    {
        let (raw, gz, br) = sizes(url);
        warden = (warden.0 + raw, warden.1 + gz, warden.2 + br);
    }
    println!(
        "size: warden's first load before the sign-in (index.html, app glue, loader, wasm, css, boot): {} raw, {} gzip, {} brotli",
        warden.0, warden.1, warden.2
    );
    // The field screens: split modules the service worker precaches with the shell.
    let mut field = (0, 0, 0);
    for url in precache
        .iter()
        .filter(|u| u.starts_with("/assets/split_") || u.starts_with("/assets/chunk_"))
    {
        let (raw, gz, br) = sizes(url);
        field = (field.0 + raw, field.1 + gz, field.2 + br);
    }
    println!(
        "size: field screens, fetched once the sign-in is usable (split_field and its chunks): {} raw, {} gzip, {} brotli",
        field.0, field.1, field.2
    );
    println!(
        "size: precached shell {} raw, {} gzip, {} brotli; lazy modules ({}) {} raw, {} gzip, {} brotli",
        shell.0,
        shell.1,
        shell.2,
        lazy.len(),
        modules.0,
        modules.1,
        modules.2
    );
    Ok(())
}

/// The JSON list on the line of `sw.js` that starts with `prefix`.
fn list_in(sw: &str, prefix: &str) -> Result<Vec<String>> {
    let line = sw
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .ok_or_else(|| anyhow::anyhow!("dist/sw.js has no line `{prefix}…`"))?;
    Ok(serde_json::from_str(line.trim_end_matches(';'))?)
}
