//! `cargo xtask run`: install what is missing, build the app and the server, start the server.
//!
//! On Unix this process *becomes* the server (`exec`), and `cargo run` execs xtask too, so Ctrl-C
//! and SIGTERM reach the server directly and it shuts down gracefully; there is nothing in between
//! to forward signals or to leave behind as an orphan.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;

use crate::{dist, sh, tools};

#[derive(Args)]
pub struct RunArgs {
    /// Address to listen on.
    #[arg(long, env = "TONGXIN_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Directory for the SQLite database and other server data.
    #[arg(long, env = "TONGXIN_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: SQLite in the data dir.
    #[arg(long, env = "TONGXIN_DATABASE_URL")]
    database_url: Option<String>,
    /// Start without the synthetic demo city (a real deployment: create the first admin with
    /// TONGXIN_ADMIN_USER / TONGXIN_ADMIN_PASSWORD).
    #[arg(long)]
    no_demo: bool,
}

pub fn run(args: &RunArgs) -> Result<()> {
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    tools::ensure_wasm_split()?;
    let dist = dist::build_dist()?;
    sh::run(sh::cargo().args([
        "build",
        "-p",
        "tongxin-server",
        "--release",
        "--bin",
        "tongxin",
    ]))?;

    let bin = crate::project_root()
        .join("target")
        .join("release")
        .join(format!("tongxin{}", std::env::consts::EXE_SUFFIX));
    let data_dir = absolute(&args.data_dir)?;
    let mut cmd = Command::new(&bin);
    cmd.arg("--addr")
        .arg(&args.addr)
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--dist-dir")
        .arg(&dist);
    if let Some(url) = &args.database_url {
        cmd.arg("--database-url").arg(url);
    }
    if !args.no_demo {
        // Seeds the demo city and its accounts into an empty database; prints the accounts.
        cmd.arg("--demo-city");
    }
    let database = args
        .database_url
        .as_deref()
        .map_or_else(|| "SQLite in the data dir".to_owned(), redact);
    eprintln!(
        "xtask: starting {} (data {}, database {database})",
        bin.display(),
        data_dir.display()
    );
    if args.addr.ends_with(":0") {
        eprintln!("xtask: the server picks a free port and prints its URL below (Ctrl-C stops it)");
    } else {
        eprintln!(
            "xtask: open http://{}/  (Ctrl-C stops the server)",
            args.addr
        );
    }
    exec(cmd)
}

#[cfg(unix)]
fn exec(mut cmd: Command) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    // Only returns on failure.
    let err = cmd.exec();
    Err(err).context("could not start the server")
}

#[cfg(not(unix))]
fn exec(mut cmd: Command) -> Result<()> {
    let status = cmd.status().context("could not start the server")?;
    if !status.success() {
        anyhow::bail!("the server exited with {status}");
    }
    Ok(())
}

/// Resolve a path given on the command line against the directory the user ran the command in.
fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().context("current directory")?;
    Ok(path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .fold(cwd, |acc, c| acc.join(c)))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://root@127.0.0.1/test"),
            "postgres://root@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite://data/t.db"), "sqlite://data/t.db");
    }

    #[test]
    fn relative_paths_resolve_against_cwd() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(absolute(Path::new("./data")).unwrap(), cwd.join("data"));
        assert_eq!(absolute(Path::new("/x/y")).unwrap(), PathBuf::from("/x/y"));
    }
}
