//! Installing what a fresh machine lacks: the wasm target, the matching wasm-bindgen-cli,
//! wasm-split, Chromium with its driver, the e2e node modules, a CJK font for screenshots; and
//! checking that PostgreSQL answers.
//!
//! Everything here is idempotent and cheap when the tool is already present.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sh;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The crate whose `wasm-split-cli` binary splits the app's wasm at its `#[wasm_split]` points.
/// Its output must match the `wasm_split_helpers` runtime in Cargo.lock (0.2.x, via leptos).
pub const WASM_SPLIT_CRATE: &str = "wasm_split_cli_support";
pub const WASM_SPLIT_VERSION: &str = "0.2.4";
pub const WASM_SPLIT: &str = "wasm-split-cli";

/// `rustup target add wasm32-unknown-unknown` unless it is installed.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = sh::output(sh::cmd("rustup").args(["target", "list", "--installed"]))
        .context("`rustup target list --installed` failed: is rustup installed?")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    sh::run(sh::cmd("rustup").args(["target", "add", WASM_TARGET]))
}

/// The version of the `wasm-bindgen` crate in Cargo.lock; the CLI must be exactly this version.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock_path = crate::project_root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    parse_lock_version(&lock, "wasm-bindgen").with_context(|| {
        format!(
            "{} has no `wasm-bindgen` package: the app crate must depend on wasm-bindgen",
            lock_path.display()
        )
    })
}

fn parse_lock_version(lock: &str, package: &str) -> Option<String> {
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            for next in lines.by_ref() {
                let next = next.trim();
                if let Some(rest) = next.strip_prefix("version = \"") {
                    return rest.strip_suffix('"').map(str::to_owned);
                }
                if next.is_empty() || next.starts_with('[') {
                    break;
                }
            }
        }
    }
    None
}

/// Install wasm-bindgen-cli (wasm-bindgen + wasm-bindgen-test-runner) in the Cargo.lock version.
pub fn ensure_wasm_bindgen() -> Result<()> {
    let wanted = locked_wasm_bindgen_version()?;
    let have = sh::output(sh::cmd("wasm-bindgen").arg("--version"));
    let runner = sh::output(sh::cmd("wasm-bindgen-test-runner").arg("--version"));
    let expected = format!("wasm-bindgen {wanted}");
    let runner_ok = runner.as_deref().is_some_and(|v| v.ends_with(&wanted));
    if have.as_deref() == Some(expected.as_str()) && runner_ok {
        return Ok(());
    }
    eprintln!(
        "xtask: wasm-bindgen-cli {wanted} needed (found {}); installing (~5 min on 2 cores)",
        have.as_deref().unwrap_or("none")
    );
    // Without --locked: the CLI's own lock file names a webpki-roots release the registry lacks.
    sh::run(sh::cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &wanted,
        "--force",
    ]))
}

/// Install `wasm-split-cli` (crate `wasm_split_cli_support`, feature `build-binary`) in the pinned
/// version unless `cargo install --list` shows it; ~2 min on 2 cores.
pub fn ensure_wasm_split() -> Result<()> {
    let listed = sh::output(sh::cargo().args(["install", "--list"])).unwrap_or_default();
    let wanted = format!("{WASM_SPLIT_CRATE} v{WASM_SPLIT_VERSION}:");
    if listed.lines().any(|l| l.trim() == wanted) && sh::which(WASM_SPLIT).is_some() {
        return Ok(());
    }
    eprintln!(
        "xtask: {WASM_SPLIT_CRATE} {WASM_SPLIT_VERSION} needed; installing (~2 min on 2 cores)"
    );
    sh::run(sh::cargo().args([
        "install",
        WASM_SPLIT_CRATE,
        "--version",
        &format!("={WASM_SPLIT_VERSION}"),
        "--features",
        "build-binary",
        "--locked",
        "--force",
    ]))
}

/// cargo-fuzz, pinned: `cargo xtask fuzz` runs it with `RUSTC_BOOTSTRAP=1` on the stable compiler.
pub const CARGO_FUZZ_VERSION: &str = "0.13.1";

/// Install cargo-fuzz in the pinned version unless `cargo fuzz --version` reports it (~1 min).
pub fn ensure_cargo_fuzz() -> Result<()> {
    let have = sh::output(sh::cargo().args(["fuzz", "--version"]));
    if have.as_deref() == Some(format!("cargo-fuzz {CARGO_FUZZ_VERSION}").as_str()) {
        return Ok(());
    }
    eprintln!(
        "xtask: cargo-fuzz {CARGO_FUZZ_VERSION} needed (found {}); installing",
        have.as_deref().unwrap_or("none")
    );
    sh::run(sh::cargo().args([
        "install",
        "cargo-fuzz",
        "--version",
        &format!("={CARGO_FUZZ_VERSION}"),
        "--locked",
        "--force",
    ]))
}

/// The SQLite shell: the e2e tests read the server's op log straight from its database file.
const SQLITE3: &str = "/usr/bin/sqlite3";

/// `apt-get install chromium chromium-driver sqlite3` when any of them is missing.
pub fn ensure_chromium() -> Result<()> {
    if [CHROMIUM, CHROMEDRIVER, SQLITE3]
        .iter()
        .all(|b| Path::new(b).exists())
    {
        return Ok(());
    }
    if sh::which("apt-get").is_none() {
        bail!(
            "{CHROMIUM}, {CHROMEDRIVER} or {SQLITE3} is missing and apt-get is not available to install them"
        );
    }
    eprintln!("xtask: installing Chromium, chromedriver and sqlite3 with apt-get");
    sh::run(
        sh::cmd("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    sh::run(
        sh::cmd("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "chromium",
                "chromium-driver",
                "sqlite3",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    for bin in [CHROMIUM, CHROMEDRIVER, SQLITE3] {
        if !Path::new(bin).exists() {
            bail!("apt-get finished but {bin} is still missing");
        }
    }
    Ok(())
}

/// A font with Chinese glyphs (Noto Sans CJK), without which Chromium draws the app's Chinese
/// text as boxes in screenshots.
const CJK_FONT_DIR: &str = "/usr/share/fonts/opentype/noto";

/// `apt-get install fonts-noto-cjk` unless a Noto CJK font is installed.
pub fn ensure_cjk_font() -> Result<()> {
    let have = std::fs::read_dir(CJK_FONT_DIR).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("CJK"))
    });
    if have {
        return Ok(());
    }
    if sh::which("apt-get").is_none() {
        bail!("no CJK font in {CJK_FONT_DIR} and apt-get is not available: install Noto Sans CJK (fonts-noto-cjk)");
    }
    eprintln!("xtask: installing a CJK font (fonts-noto-cjk) with apt-get");
    sh::run(
        sh::cmd("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    sh::run(
        sh::cmd("apt-get")
            .args(["install", "-y", "--no-install-recommends", "fonts-noto-cjk"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The e2e suite's directory.
pub fn e2e_dir() -> PathBuf {
    crate::project_root().join("tests").join("e2e")
}

/// `npm ci` in tests/e2e when node_modules is missing or older than package-lock.json.
pub fn ensure_node_modules() -> Result<()> {
    if sh::which("node").is_none() || sh::which("npm").is_none() {
        bail!("node and npm (node ≥ 20.10) are needed for the browser e2e tests: apt-get install nodejs npm, or install node 20");
    }
    let dir = e2e_dir();
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let fresh = match (mtime(&lock), mtime(&installed)) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    };
    let modules = dir.join("node_modules");
    if fresh
        && ["playwright-core", "axe-core"]
            .iter()
            .all(|m| modules.join(m).is_dir())
    {
        return Ok(());
    }
    sh::run(
        sh::cmd("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    )
}

fn mtime(path: &Path) -> Option<std::time::SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// The PostgreSQL URL the server's tests use.
pub fn test_pg_url() -> String {
    std::env::var("TONGXIN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned())
}

/// `host:port` of a `postgres://user@host:port/db` URL (port defaults to 5432).
fn pg_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // IPv6 literal: [::1]:5432
        let (host, after) = bracketed.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => port.parse().ok()?,
            None => 5432,
        };
        (host, port)
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (host_port, 5432),
        }
    };
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    Some((host.to_owned(), port))
}

fn tcp_reachable(host: &str, port: u16) -> bool {
    let Ok(addrs) = (host, port).to_socket_addrs() else {
        return false;
    };
    addrs
        .collect::<Vec<SocketAddr>>()
        .iter()
        .any(|addr| TcpStream::connect_timeout(addr, Duration::from_secs(2)).is_ok())
}

/// Make sure PostgreSQL answers on the test URL's host and port.
/// Under CI an unreachable database fails the run; locally we try to start the cluster first.
pub fn ensure_postgres(ci: bool) -> Result<()> {
    let url = test_pg_url();
    let (host, port) = pg_host_port(&url)
        .with_context(|| format!("TONGXIN_TEST_PG_URL is not a postgres:// URL: {url}"))?;
    if tcp_reachable(&host, port) {
        eprintln!("xtask: PostgreSQL answers on {host}:{port}");
        return Ok(());
    }
    if ci {
        bail!(
            "PostgreSQL is not reachable on {host}:{port} (TONGXIN_TEST_PG_URL={url}); CI=true, \
             so the PostgreSQL suite cannot be skipped. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        );
    }
    eprintln!("xtask: PostgreSQL is not reachable on {host}:{port}; trying to start it");
    let versions = std::fs::read_dir("/etc/postgresql")
        .context("PostgreSQL is down and /etc/postgresql does not exist: install postgresql")?;
    for version in versions.flatten() {
        let version = version.file_name().to_string_lossy().into_owned();
        // A failure here is reported by the reachability check below.
        let _ = sh::run(sh::cmd("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            "start",
        ]));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if tcp_reachable(&host, port) {
            eprintln!("xtask: PostgreSQL started and answers on {host}:{port}");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("PostgreSQL is still not reachable on {host}:{port} after trying to start it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_version_is_found_for_the_exact_package_only() {
        let lock = r#"
[[package]]
name = "wasm-bindgen-backend"
version = "9.9.9"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        assert_eq!(
            parse_lock_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(parse_lock_version(lock, "leptos"), None);
    }

    #[test]
    fn pg_urls_give_host_and_port() {
        assert_eq!(
            pg_host_port("postgres://root@127.0.0.1:5432/test"),
            Some(("127.0.0.1".to_owned(), 5432))
        );
        assert_eq!(
            pg_host_port("postgresql://u:pw@db.example:6543/x?sslmode=disable"),
            Some(("db.example".to_owned(), 6543))
        );
        assert_eq!(
            pg_host_port("postgres://localhost/test"),
            Some(("localhost".to_owned(), 5432))
        );
        assert_eq!(pg_host_port("sqlite://x"), None);
    }
}
