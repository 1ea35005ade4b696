//! `cargo xtask fuzz [--seconds N] [TARGET…]`: runs the cargo-fuzz targets in `fuzz/` (libFuzzer,
//! coverage-guided), each for N seconds, and prints per target the executions, the corpus size
//! and any crash. Never part of `cargo xtask test`, which replays the kept corpus instead
//! (`shared/tests/fuzz_corpus.rs`).
//!
//! cargo-fuzz passes `-Z` flags to rustc, which a stable toolchain refuses; the project has only
//! stable Rust, so the fuzz build runs with `RUSTC_BOOTSTRAP=1` (the same compiler, its unstable
//! flags unlocked) and `--sanitizer none` (AddressSanitizer needs nightly's `-Zsanitizer` runtime
//! and buys nothing here: `unsafe` is forbidden in every crate). Inputs that reach new code are
//! written into `fuzz/corpus/<target>/` by libFuzzer; `--minimize` shrinks the corpus afterwards
//! to a set cover of its coverage (see [`minimize`]) so what is committed stays small. A crash lands in
//! `fuzz/artifacts/<target>/`: copy it into the corpus with its fix, so CI replays it for ever.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::{sh, tools};

/// The targets, as named in `fuzz/Cargo.toml` (and `tongxin_shared::fuzzing::TARGETS`).
pub const TARGETS: [&str; 4] = ["op_decoding", "judging", "geo_import", "pull_page"];

/// Largest input tried: enough for a push of a few dozen ops or a file of a few grids; inputs
/// near the record limits (512 KiB) are the property tests' part (`server/tests/push_limits.rs`).
const MAX_LEN: usize = 16 * 1024;

#[derive(Args)]
pub struct FuzzArgs {
    /// How long each target runs.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Shrink each corpus afterwards to a set cover of its coverage (seeds and crashes kept).
    #[arg(long)]
    minimize: bool,
    /// Targets to run (default: all).
    targets: Vec<String>,
}

/// What one run of a target did, read from libFuzzer's output.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    executions: u64,
    crashed: Option<String>,
}

fn fuzz_dir() -> PathBuf {
    crate::project_root().join("fuzz")
}

/// `cargo fuzz …` in `fuzz/`, on the stable compiler with its unstable flags unlocked.
fn cargo_fuzz() -> Command {
    let mut cmd = sh::cargo();
    cmd.current_dir(fuzz_dir())
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fuzz");
    cmd
}

pub fn fuzz(args: &FuzzArgs) -> Result<()> {
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        for t in &args.targets {
            if !TARGETS.contains(&t.as_str()) {
                bail!(
                    "unknown fuzz target `{t}`; the targets are {}",
                    TARGETS.join(", ")
                );
            }
        }
        args.targets.iter().map(String::as_str).collect()
    };
    tools::ensure_cargo_fuzz()?;
    let mut summaries = Vec::new();
    for target in &targets {
        sh::run(cargo_fuzz().args(["build", "-O", "--sanitizer", "none", target]))?;
        let summary = run_target(target, args.seconds)?;
        if args.minimize && summary.crashed.is_none() {
            minimize(target)?;
        }
        summaries.push((*target, summary));
    }
    println!("\ntarget        seconds   executions   corpus files   crash");
    let mut crashes = 0;
    for (target, s) in &summaries {
        let corpus = count_files(&fuzz_dir().join("corpus").join(target));
        println!(
            "{target:<13} {:>7} {:>12} {corpus:>14}   {}",
            args.seconds,
            s.executions,
            s.crashed.as_deref().unwrap_or("none")
        );
        crashes += usize::from(s.crashed.is_some());
    }
    if crashes > 0 {
        bail!("{crashes} target(s) crashed; the inputs are in fuzz/artifacts/");
    }
    Ok(())
}

/// Runs one target for `seconds` with libFuzzer's output captured (and echoed) to read its figures.
fn run_target(target: &str, seconds: u64) -> Result<Summary> {
    let corpus = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
    let mut cmd = cargo_fuzz();
    cmd.args(["run", "-O", "--sanitizer", "none", target])
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-max_len={MAX_LEN}"))
        .arg(format!(
            "-dict={}",
            fuzz_dir().join("tongxin.dict").display()
        ))
        .arg("-print_final_stats=1")
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped());
    eprintln!("$ {}", sh::display(&cmd));
    let out = cmd
        .output()
        .with_context(|| format!("could not start cargo fuzz run {target}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    // libFuzzer's log is long; keep the end, where the figures and any crash are.
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    for line in tail.iter().rev() {
        eprintln!("{line}");
    }
    let summary = parse_log(&log);
    if !out.status.success() && summary.crashed.is_none() {
        bail!(
            "cargo fuzz run {target} failed ({}) without a crash report",
            out.status
        );
    }
    Ok(summary)
}

/// Longest input kept in the committed corpus (the seeds and crash inputs excepted): the
/// fuzzer's coverage is reached by short inputs, and the corpus stays a few hundred KB.
const KEEP_LEN: usize = 1024;

/// Shrinks `fuzz/corpus/<target>/` to a set cover of its coverage edges (libFuzzer's
/// `-set_cover_merge`, hit counts ignored, inputs up to [`KEEP_LEN`]), keeping every
/// hand-made `seed-*` and every `crash-*` input as they are.
fn minimize(target: &str) -> Result<()> {
    let corpus = fuzz_dir().join("corpus").join(target);
    let merged = fuzz_dir().join("target").join(format!("merged-{target}"));
    if merged.exists() {
        std::fs::remove_dir_all(&merged)
            .with_context(|| format!("removing {}", merged.display()))?;
    }
    std::fs::create_dir_all(&merged)?;
    sh::run(
        cargo_fuzz()
            .args(["run", "-O", "--sanitizer", "none", target])
            .arg(&merged)
            .arg(&corpus)
            .arg("--")
            .args(["-set_cover_merge=1", "-use_counters=0"])
            .arg(format!("-max_len={KEEP_LEN}")),
    )?;
    let before = count_files(&corpus);
    for entry in std::fs::read_dir(&corpus)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("seed-") || name.starts_with("crash-")) {
            std::fs::remove_file(&path)?;
        }
    }
    for entry in std::fs::read_dir(&merged)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // libFuzzer names an input by its SHA-1, as the seeds are named after the prefix.
        if !corpus.join(format!("seed-{name}")).exists() {
            std::fs::copy(&path, corpus.join(name))?;
        }
    }
    eprintln!(
        "xtask: {target}: corpus {before} -> {} files",
        count_files(&corpus)
    );
    Ok(())
}

/// Reads libFuzzer's final stats (`stat::number_of_executed_units: N`) and its crash line
/// (`Test unit written to <path>`).
fn parse_log(log: &str) -> Summary {
    let mut s = Summary::default();
    for line in log.lines() {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            s.executions = n.trim().parse().unwrap_or(0);
        }
        if let Some(i) = line.find("Test unit written to ") {
            s.crashed = Some(line[i + "Test unit written to ".len()..].trim().to_owned());
        }
    }
    s
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter_map(Result::ok).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzers_figures_and_crash() {
        let log = "#2 INITED cov: 10\nDone 1234 runs in 5 second(s)\nstat::number_of_executed_units: 1234\nstat::average_exec_per_sec:     246\n";
        assert_eq!(
            parse_log(log),
            Summary {
                executions: 1234,
                crashed: None
            }
        );
        let crash = "==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='/f/artifacts/judging/'; Test unit written to /f/artifacts/judging/crash-ab12\nstat::number_of_executed_units: 77\n";
        assert_eq!(
            parse_log(crash),
            Summary {
                executions: 77,
                crashed: Some("/f/artifacts/judging/crash-ab12".into())
            }
        );
    }

    #[test]
    fn the_targets_match_the_fuzz_crate() {
        let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
        for t in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{t}\"")),
                "{t} missing in fuzz/Cargo.toml"
            );
        }
    }
}
