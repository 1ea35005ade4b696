//! Configuration: flags with environment fallbacks (clap), printed at start with secrets redacted.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The `tongxin` command line.
#[derive(Parser, Debug)]
#[command(
    name = "tongxin",
    version,
    about = "Tongxin 同心: the grid-governance server",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the app and the sync API (the default when no command is given).
    Serve(ServeArgs),
    /// Write the synthetic demo city into the database (deterministic: the same seed twice
    /// changes nothing).
    DemoCity(DemoArgs),
}

/// Options of `tongxin demo-city`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Months of history (visits, cases, activities) before now.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=36))]
    pub months: u32,
    #[command(flatten)]
    pub db: ServeArgs,
}

/// Options of `tongxin serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "TONGXIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for server data; the default SQLite database lives here.
    #[arg(long, env = "TONGXIN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (default: SQLite in the data dir).
    #[arg(long, env = "TONGXIN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The built app to serve (`cargo xtask dist` writes it).
    #[arg(long, env = "TONGXIN_DIST_DIR", default_value = "./dist")]
    pub dist_dir: PathBuf,
}

impl ServeArgs {
    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("tongxin.sqlite3").display()
            )
        })
    }

    /// Whether the database is the default embedded file in the data dir.
    pub fn uses_data_dir(&self) -> bool {
        self.database_url.is_none()
    }
}

/// A URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let redacted = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let mut out = format!("{scheme}://{redacted}");
    if !tail.is_empty() || rest.contains('/') {
        out.push('/');
        out.push_str(&redact_query(tail));
    }
    out
}

fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            redact_url("postgres://tx:s3cret@db:5432/tongxin"),
            "postgres://tx:***@db:5432/tongxin"
        );
        assert_eq!(
            redact_url("postgres://root@127.0.0.1/test"),
            "postgres://root@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("postgres://h/db?user=a&password=b"),
            "postgres://h/db?user=a&password=***"
        );
        assert_eq!(
            redact_url("sqlite://data/tongxin.sqlite3"),
            "sqlite://data/tongxin.sqlite3"
        );
    }
}
