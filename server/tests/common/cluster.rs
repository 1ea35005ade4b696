//! A private, throwaway PostgreSQL cluster for tests that stop and start the database (the
//! machine's shared cluster serves other tests in parallel and is never touched): `initdb` and
//! `pg_ctl` in a temporary directory, on a free loopback port, run as the `postgres` OS user
//! (`runuser`, since tests run as root). Stopped and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
}

/// The newest `/usr/lib/postgresql/VERSION/bin` that has `initdb`.
fn pg_bin() -> Result<PathBuf, String> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .flatten()
        .filter_map(|d| {
            let v: u32 = d.file_name().to_str()?.parse().ok()?;
            let bin = d.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, b)| b)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql".into())
}

fn as_postgres(program: &Path) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(program);
    cmd.stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PrivateCluster {
    /// A new cluster, started. `Err` says why it could not be made.
    pub fn start() -> Result<Self, String> {
        Self::start_in(&std::env::temp_dir())
    }

    /// A new cluster whose directory is made under `parent` (a small filesystem, say).
    pub fn start_in(parent: &Path) -> Result<Self, String> {
        let bin = pg_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("tongxin-pg-")
            .tempdir_in(parent)
            .map_err(|e| e.to_string())?;
        run(
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()),
            "chown to postgres",
        )?;
        run(
            as_postgres(&bin.join("initdb"))
                .arg("-D")
                .arg(dir.path().join("data"))
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
            "initdb",
        )?;
        let port = free_port();
        let cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
        };
        cluster.start_again()?;
        Ok(cluster)
    }

    /// [`Self::start`], or — when it cannot be made — a failure under `CI=true` and a loud skip
    /// elsewhere (a developer machine without PostgreSQL's server binaries or root).
    pub fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start() {
            Ok(c) => Some(c),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("{test}: cannot start a private PostgreSQL cluster (CI=true: no skip): {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED {test}: cannot start a private PostgreSQL cluster: {e}");
                None
            }
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        run(
            as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .arg("-l")
                .arg(self.dir.path().join("log"))
                .args(args),
            &format!("pg_ctl {}", args.join(" ")),
        )
    }

    /// Starts the stopped cluster again, on the same port; returns once it accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        self.pg_ctl(&["-w", "-t", "120", "-o", &opts, "start"])
    }

    /// Stops the cluster as a crash would (`-m immediate`: connections cut, no checkpoint).
    pub fn crash(&self) {
        self.pg_ctl(&["-w", "-m", "immediate", "stop"])
            .expect("stop the private cluster");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
    }
}
