//! `cargo xtask test`: everything CI checks, in order, failing fast.
//!
//! Steps: install tools → PostgreSQL reachable → fmt → clippy (native) → clippy (wasm) → native
//! tests (incl. the PostgreSQL store suite) → wasm tests in headless Chromium → dist → server
//! binary → browser e2e. Each step is timed; the summary ends with `xtask: N passed, 0 failed`.
//!
//! With `CI=true` nothing is skipped: a missing browser, driver or database fails the run, and
//! the `--skip-*` options (for local iteration) are refused.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;

use crate::{dist, sh, tools};

#[derive(Args)]
pub struct TestArgs {
    /// Skip the browser e2e suite (local iteration only; refused when CI=true).
    #[arg(long)]
    skip_e2e: bool,
    /// Skip the wasm tests in headless Chromium (local iteration only; refused when CI=true).
    #[arg(long)]
    skip_wasm_tests: bool,
}

type StepFn = Box<dyn FnOnce() -> Result<()>>;

struct Step {
    name: &'static str,
    run: Option<StepFn>,
}

impl Step {
    fn new(name: &'static str, run: impl FnOnce() -> Result<()> + 'static) -> Self {
        Step {
            name,
            run: Some(Box::new(run)),
        }
    }

    fn skipped(name: &'static str) -> Self {
        Step { name, run: None }
    }
}

pub fn test(args: &TestArgs) -> Result<()> {
    let ci = crate::is_ci();
    if ci && (args.skip_e2e || args.skip_wasm_tests) {
        bail!("CI=true: --skip-e2e / --skip-wasm-tests are for local iteration only; CI runs everything");
    }
    let want_browser = !args.skip_e2e || !args.skip_wasm_tests;
    let skip_e2e = args.skip_e2e;
    let server_bin = crate::project_root()
        .join("target")
        .join("debug")
        .join(format!("tongxin{}", std::env::consts::EXE_SUFFIX));

    let mut steps = vec![
        Step::new("install tools", move || {
            tools::ensure_wasm_target()?;
            tools::ensure_wasm_bindgen()?;
            tools::ensure_wasm_split()?;
            if want_browser {
                tools::ensure_chromium()?;
            }
            if !skip_e2e {
                tools::ensure_node_modules()?;
            }
            Ok(())
        }),
        Step::new("postgres", move || tools::ensure_postgres(ci)),
        Step::new("fmt", || {
            sh::run(sh::cargo().args(["fmt", "--all", "--", "--check"]))
        }),
        Step::new("clippy native", || {
            sh::run(sh::cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        }),
        Step::new("clippy wasm", || {
            sh::run(sh::cargo().args([
                "clippy",
                "-p",
                "tongxin-app",
                "--target",
                tools::WASM_TARGET,
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        }),
        Step::new("native tests", native_tests),
    ];
    steps.push(if args.skip_wasm_tests {
        Step::skipped("wasm tests")
    } else {
        Step::new("wasm tests", || {
            sh::run(
                sh::cargo()
                    // Without the split points (`app` feature `split`): a test binary is never
                    // post-processed by wasm-split, so its loaders could not resolve.
                    .args([
                        "test",
                        "-p",
                        "tongxin-app",
                        "--target",
                        tools::WASM_TARGET,
                        "--no-default-features",
                    ])
                    .env("CHROMEDRIVER", tools::CHROMEDRIVER)
                    .env("WASM_BINDGEN_TEST_TIMEOUT", "300"),
            )
        })
    });
    if args.skip_e2e {
        steps.push(Step::skipped("dist"));
        steps.push(Step::skipped("server binary"));
        steps.push(Step::skipped("e2e"));
    } else {
        steps.push(Step::new("dist", || dist::build_dist().map(drop)));
        steps.push(Step::new("server binary", || {
            sh::run(sh::cargo().args(["build", "-p", "tongxin-server", "--bin", "tongxin"]))
        }));
        let bin = server_bin.clone();
        steps.push(Step::new("e2e", move || e2e(&bin, &dist::dist_dir())));
    }

    run_steps(steps);
    Ok(())
}

/// Native tests of every workspace member (the app included: `--workspace` ignores default-members).
fn native_tests() -> Result<()> {
    let pg = tools::test_pg_url();
    if sh::which("cargo-nextest").is_some() {
        sh::run(
            sh::cargo()
                .args(["nextest", "run", "--workspace", "--no-tests=warn"])
                .env("TONGXIN_TEST_PG_URL", &pg),
        )?;
        // nextest does not run doctests.
        sh::run(
            sh::cargo()
                .args(["test", "--workspace", "--doc"])
                .env("TONGXIN_TEST_PG_URL", &pg),
        )
    } else {
        sh::run(
            sh::cargo()
                .args(["test", "--workspace"])
                .env("TONGXIN_TEST_PG_URL", &pg),
        )
    }
}

/// The browser end-to-end suite (node's test runner + playwright-core + Debian Chromium).
fn e2e(bin: &Path, dist: &Path) -> Result<()> {
    sh::run(
        sh::cmd("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=spec",
                "--test-timeout=300000",
            ])
            .current_dir(tools::e2e_dir())
            .env("TONGXIN_BIN", bin)
            .env("TONGXIN_DIST", dist)
            .env("TONGXIN_CHROMIUM", tools::CHROMIUM),
    )
}

fn run_steps(steps: Vec<Step>) {
    let started = Instant::now();
    let mut results: Vec<(&'static str, Option<Duration>, bool)> = Vec::new();
    let mut failure = None;
    let total = steps.len();
    for (i, mut step) in steps.into_iter().enumerate() {
        let Some(run) = step.run.take() else {
            eprintln!(
                "\nxtask: [{}/{total}] {} SKIPPED (local option)",
                i + 1,
                step.name
            );
            results.push((step.name, None, true));
            continue;
        };
        eprintln!("\nxtask: [{}/{total}] {}", i + 1, step.name);
        let t = Instant::now();
        let outcome = run();
        let elapsed = t.elapsed();
        let ok = outcome.is_ok();
        results.push((step.name, Some(elapsed), ok));
        if let Err(err) = outcome {
            failure = Some((step.name, err));
            break;
        }
    }

    eprintln!("\nxtask: summary");
    for (name, elapsed, ok) in &results {
        match (elapsed, ok) {
            (None, _) => eprintln!("  {name:<16} skipped"),
            (Some(d), true) => eprintln!("  {name:<16} ok      {:>7.1} s", d.as_secs_f64()),
            (Some(d), false) => eprintln!("  {name:<16} FAILED  {:>7.1} s", d.as_secs_f64()),
        }
    }
    eprintln!(
        "  {:<16}         {:>7.1} s",
        "total",
        started.elapsed().as_secs_f64()
    );
    let passed = results.iter().filter(|r| r.1.is_some() && r.2).count();
    let skipped = results.iter().filter(|r| r.1.is_none()).count();
    let failed = usize::from(failure.is_some());
    let skipped_note = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    if let Some((name, err)) = failure {
        eprintln!("xtask: step {name} failed: {err:#}");
        println!("xtask: {passed} passed, {failed} failed{skipped_note}");
        // The pass/fail line above is the last line CI shows; exit without another error line.
        std::process::exit(1);
    }
    println!("xtask: {passed} passed, 0 failed{skipped_note}");
}
