//! Configuration: flags with environment fallbacks (clap), printed at start with secrets redacted.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use tongxin_shared::deadlines::{Deadlines, DeadlinesError};
use tongxin_shared::wire::TileLayer;

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
    /// Manage user accounts (add, set-role, reset-password, list).
    User(UserArgs),
}

/// `tongxin user …`.
#[derive(Args, Debug, Clone)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
    #[command(flatten)]
    pub db: ServeArgs,
}

/// What `tongxin user` does.
#[derive(Subcommand, Debug, Clone)]
pub enum UserAction {
    /// Create a user. The password is read from TONGXIN_NEW_PASSWORD, or else the first line of
    /// standard input (so it never appears in the shell history or the process list).
    Add(UserSpec),
    /// Change a user's role and area (their next sync resets to the new area).
    SetRole(UserSpec),
    /// Set a new password (TONGXIN_NEW_PASSWORD or standard input) and sign the user out everywhere.
    ResetPassword { username: String },
    /// List users with their role and area.
    List,
}

/// A user's role and area on the command line.
#[derive(Args, Debug, Clone)]
pub struct UserSpec {
    pub username: String,
    /// warden, grid_leader, community_manager, subdistrict_manager, city_manager, unit_liaison, admin
    #[arg(long)]
    pub role: String,
    /// Display name (defaults to the username).
    #[arg(long)]
    pub name: Option<String>,
    /// A grid's id (repeat for several); communities and subdistricts follow from grids.
    #[arg(long = "grid")]
    pub grids: Vec<String>,
    /// A community's id (repeat for several).
    #[arg(long = "community")]
    pub communities: Vec<String>,
    /// A subdistrict's id (repeat for several).
    #[arg(long = "subdistrict")]
    pub subdistricts: Vec<String>,
    /// Disable the account (it cannot sign in; its sessions stop working).
    #[arg(long)]
    pub disabled: bool,
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
    /// On an empty database, write the synthetic demo city and its demo accounts first
    /// (`cargo xtask run` does), and print the demo accounts.
    #[arg(long, env = "TONGXIN_DEMO_CITY")]
    pub demo_city: bool,
    /// A first administrator for a real deployment: created at start if no user has this name
    /// (with TONGXIN_ADMIN_PASSWORD).
    #[arg(long, env = "TONGXIN_ADMIN_USER")]
    pub admin_user: Option<String>,
    /// The first administrator's password (environment only; never printed).
    #[arg(
        long,
        env = "TONGXIN_ADMIN_PASSWORD",
        hide_env_values = true,
        hide = true
    )]
    pub admin_password: Option<Secret>,
    /// Case deadlines per category and the escalation steps: a JSON file (see docs/OPS.md).
    /// Without it, the built-in table (safety 24 h, … others 168 h; subdistrict after 3 days
    /// overdue, city after 7). A file that cannot be read or has a bad value stops the start.
    #[arg(long, env = "TONGXIN_DEADLINES")]
    pub deadlines: Option<PathBuf>,
    /// Minutes between two escalation sweeps (one also runs at start); the hand-back sweep
    /// (`handback`) runs on the same interval.
    #[arg(
        long,
        env = "TONGXIN_ESCALATION_MINUTES",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=1440)
    )]
    pub escalation_minutes: u32,
    /// A raster tile layer under the map's grids: a URL template with {z}, {x} and {y}
    /// (web-mercator XYZ tiles). Without it the map has a plain background and needs no
    /// internet. Its origin is added to the page's Content-Security-Policy (img-src).
    #[arg(long, env = "TONGXIN_TILE_URL")]
    pub tile_url: Option<String>,
    /// The credit the tile provider's terms require, shown in the map's corner.
    #[arg(long, env = "TONGXIN_TILE_ATTRIBUTION", default_value = "")]
    pub tile_attribution: String,
    /// Megabytes of new photos one user may upload per rolling 24 hours (more is refused with
    /// 429 and stays on the device).
    #[arg(
        long,
        env = "TONGXIN_BLOB_QUOTA_MB",
        default_value_t = 200,
        value_parser = clap::value_parser!(u64).range(1..=100_000)
    )]
    pub blob_quota_mb: u64,
    /// Days a photo that no record refers to is kept before the hourly clean-up deletes it.
    #[arg(
        long,
        env = "TONGXIN_BLOB_GRACE_DAYS",
        default_value_t = 7,
        value_parser = clap::value_parser!(u64).range(1..=3650)
    )]
    pub blob_grace_days: u64,
}

/// A configuration file or value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--tile-url is refused: {0}")]
    Tiles(String),
    #[error("cannot read the deadlines file {path}: {source}")]
    ReadDeadlines {
        path: String,
        source: std::io::Error,
    },
    #[error("the deadlines file {path} is refused: {source}")]
    Deadlines {
        path: String,
        source: DeadlinesError,
    },
}

/// A secret from the environment: its Debug form never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl ServeArgs {
    /// The photo limits in force.
    pub fn blob_limits(&self) -> crate::blobs::BlobLimits {
        crate::blobs::BlobLimits {
            quota_bytes: self.blob_quota_mb * 1_000_000,
            grace_ms: self.blob_grace_days * crate::blobs::DAY_MS,
        }
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("tongxin.sqlite3").display()
            )
        })
    }

    /// The map's tile layer, checked, when `--tile-url` is given.
    pub fn load_tiles(&self) -> Result<Option<TileLayer>, ConfigError> {
        self.tile_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|u| TileLayer::new(u, &self.tile_attribution).map_err(ConfigError::Tiles))
            .transpose()
    }

    /// The deadlines in force: the `--deadlines` file, checked, or the built-in table.
    pub fn load_deadlines(&self) -> Result<Deadlines, ConfigError> {
        let Some(path) = &self.deadlines else {
            return Ok(Deadlines::default());
        };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadDeadlines {
            path: shown.clone(),
            source,
        })?;
        Deadlines::from_json(&text).map_err(|source| ConfigError::Deadlines {
            path: shown,
            source,
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
    use super::{redact_url, Cli, ConfigError};
    use clap::Parser;
    use tongxin_shared::deadlines::Deadlines;

    #[test]
    fn deadlines_come_from_the_file_or_the_built_in_table() {
        let cli = Cli::parse_from(["tongxin"]);
        assert_eq!(cli.serve.load_deadlines().unwrap(), Deadlines::default());
        assert_eq!(cli.serve.escalation_minutes, 5);

        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"hours": {"safety": 12}}"#).unwrap();
        let cli = Cli::parse_from([
            "tongxin",
            "--deadlines",
            good.to_str().unwrap(),
            "--escalation-minutes",
            "1",
        ]);
        assert_eq!(cli.serve.load_deadlines().unwrap().hours_for("safety"), 12);
        assert_eq!(cli.serve.escalation_minutes, 1);

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"hours": {"safety": 0}}"#).unwrap();
        let cli = Cli::parse_from(["tongxin", "--deadlines", bad.to_str().unwrap()]);
        let err = cli.serve.load_deadlines().unwrap_err();
        assert!(matches!(err, ConfigError::Deadlines { .. }));
        assert!(
            err.to_string().ends_with(
                "is refused: hours.safety must be a whole number of hours from 1 to 8784; it is 0"
            ),
            "{err}"
        );
        let missing = dir.path().join("missing.json");
        let cli = Cli::parse_from(["tongxin", "--deadlines", missing.to_str().unwrap()]);
        assert!(cli
            .serve
            .load_deadlines()
            .unwrap_err()
            .to_string()
            .starts_with("cannot read the deadlines file"));
        assert!(Cli::try_parse_from(["tongxin", "--escalation-minutes", "0"]).is_err());
    }

    #[test]
    fn the_tile_layer_is_optional_and_checked() {
        let cli = Cli::parse_from(["tongxin"]);
        assert_eq!(cli.serve.load_tiles().unwrap(), None);
        let cli = Cli::parse_from([
            "tongxin",
            "--tile-url",
            "https://tiles.example.cn/{z}/{x}/{y}.png",
            "--tile-attribution",
            "© 底图",
        ]);
        let tiles = cli.serve.load_tiles().unwrap().unwrap();
        assert_eq!(tiles.origin(), "https://tiles.example.cn");
        assert_eq!(tiles.attribution, "© 底图");
        let cli = Cli::parse_from([
            "tongxin",
            "--tile-url",
            "https://tiles.example.cn/{z}/{x}.png",
        ]);
        let err = cli.serve.load_tiles().unwrap_err().to_string();
        assert!(
            err.starts_with("--tile-url is refused: the tile URL must contain {y}"),
            "{err}"
        );
    }

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
