//! `cargo xtask shots`: screenshots of every screen at phone and desktop size, each signed in
//! with the role that uses it, on the demo city (tests/e2e/shots.mjs; the screens are listed in
//! tests/e2e/screens.mjs, the same list the accessibility test checks).
//!
//! Installs what it needs first (Chromium, the e2e node modules, a CJK font so the Chinese text
//! renders), builds the app and the server, and writes `<size>-<role>-<screen>.png` into
//! `target/shots/` (or `--out`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::{dist, sh, tools};

#[derive(Args)]
pub struct ShotsArgs {
    /// Where the PNG files go (default: target/shots).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Months of demo history to generate (cases, visits, activities) before the shots.
    #[arg(long, default_value_t = 1)]
    months: u32,
    /// Use the app already in dist/ instead of building it again.
    #[arg(long)]
    no_build: bool,
}

pub fn shots(args: &ShotsArgs) -> Result<()> {
    let root = crate::project_root();
    tools::ensure_chromium()?;
    tools::ensure_cjk_font()?;
    tools::ensure_node_modules()?;
    if !args.no_build {
        tools::ensure_wasm_target()?;
        tools::ensure_wasm_bindgen()?;
        tools::ensure_wasm_split()?;
        dist::build_dist()?;
    }
    sh::run(sh::cargo().args(["build", "-p", "tongxin-server", "--bin", "tongxin"]))?;
    let bin = root
        .join("target")
        .join("debug")
        .join(format!("tongxin{}", std::env::consts::EXE_SUFFIX));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target").join("shots"));
    std::fs::create_dir_all(&out)?;
    let out = out.canonicalize()?;
    sh::run(
        sh::cmd("node")
            .arg("shots.mjs")
            .current_dir(tools::e2e_dir())
            .env("TONGXIN_BIN", &bin)
            .env("TONGXIN_DIST", dist::dist_dir())
            .env("TONGXIN_CHROMIUM", tools::CHROMIUM)
            .env("TONGXIN_SHOTS_DIR", &out)
            .env("TONGXIN_SHOTS_MONTHS", args.months.to_string())
            // A city manager's first sync of months of history takes longer than a test waits.
            .env("TONGXIN_E2E_WAIT_MS", "600000"),
    )?;
    eprintln!("xtask: screenshots in {}", out.display());
    Ok(())
}
