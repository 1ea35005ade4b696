//! The `tongxin` binary: parses config and calls [`tongxin_server::serve`]. Startup problems
//! (a bad option, an unusable database, a port in use) end with one clear line and exit code 1.

use anyhow::Context;
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use tongxin_server::config::{redact_url, Cli, Command, DemoArgs, ServeArgs};
use tongxin_server::AppState;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tongxin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Some(Command::Serve(args)) => runtime.block_on(run(args)),
        Some(Command::DemoCity(args)) => runtime.block_on(demo_city(args)),
        None => runtime.block_on(run(cli.serve)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tongxin: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let url = args.database_url();
    tracing::info!(
        addr = %args.addr,
        database = %redact_url(&url),
        dist = %args.dist_dir.display(),
        "starting tongxin {}",
        env!("CARGO_PKG_VERSION")
    );
    if args.uses_data_dir() {
        std::fs::create_dir_all(&args.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                args.data_dir.display()
            )
        })?;
    }
    if !args.dist_dir.join("index.html").exists() {
        tracing::warn!(dist = %args.dist_dir.display(), "no built app found; run `cargo xtask dist` (the API works without it)");
    }
    let state = AppState::start(&url, args.dist_dir.clone())
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    println!("tongxin listening on http://{local}");
    let _ = std::io::stdout().flush();
    tongxin_server::serve(state, listener, shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn demo_city(args: DemoArgs) -> anyhow::Result<()> {
    let url = args.db.database_url();
    if args.db.uses_data_dir() {
        std::fs::create_dir_all(&args.db.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                args.db.data_dir.display()
            )
        })?;
    }
    let store = tongxin_server::store::AnyStore::open(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    let done = tongxin_server::demo::seed(&store, args.seed, args.months, tongxin_server::now_ms())
        .await
        .context("seeding failed")?;
    let s = &done.stats;
    println!(
        "demo city (synthetic) seed {} months {}: {} subdistricts, {} communities, {} grids, {} compounds, {} wardens, {} units, {} service centres, {} visits, {} cases, {} activities = {} ops; generated in {} ms, stored in {} ms",
        args.seed, args.months, s.subdistricts, s.communities, s.grids, s.compounds, s.wardens, s.units, s.service_centres, s.visits, s.cases, s.activities, s.ops, done.generate_ms, done.commit_ms
    );
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
