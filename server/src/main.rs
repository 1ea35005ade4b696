//! The `tongxin` binary: parses config and calls [`tongxin_server::serve`]. Startup problems
//! (a bad option, an unusable database, a port in use) end with one clear line and exit code 1.

use anyhow::Context;
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use tongxin_server::auth::{check_password, check_username, complete_area, hash_password_blocking};
use tongxin_server::config::{
    redact_url, Cli, Command, DemoArgs, ServeArgs, UserAction, UserArgs, UserSpec,
};
use tongxin_server::store::{AnyStore, UserRow};
use tongxin_server::AppState;
use tongxin_shared::case::Role;
use tongxin_shared::RecordId;

/// mimalloc instead of glibc's malloc: after a burst (the demo seeding, a city pull) glibc kept
/// the freed memory in its per-thread arenas (RSS ~220 MB with ~20 MB in use); mimalloc gives
/// freed pages back to the OS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Some(Command::User(args)) => runtime.block_on(user(args)),
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
    // A bad deadlines file stops the start before anything else happens.
    let deadlines = args.load_deadlines()?;
    let tiles = args.load_tiles()?;
    tracing::info!(
        addr = %args.addr,
        database = %redact_url(&url),
        dist = %args.dist_dir.display(),
        deadlines = %args.deadlines.as_ref().map_or_else(|| "built-in".to_owned(), |p| p.display().to_string()),
        escalation_minutes = args.escalation_minutes,
        tiles = tiles.as_ref().map_or("none", |t| t.origin()),
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
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?
        .with_deadlines(deadlines)
        .with_tiles(tiles)
        .with_blob_limits(args.blob_limits());
    bootstrap_admin(&args, &*state.store).await?;
    if args.demo_city {
        demo_on_first_start(&*state.store).await?;
    }
    let sweep_every = std::time::Duration::from_secs(u64::from(args.escalation_minutes) * 60);
    tongxin_server::escalation::spawn(state.clone(), sweep_every);
    // The hand-backs' safety net runs on the same interval.
    tongxin_server::handback::spawn(state.clone(), sweep_every);
    tongxin_server::blobs::spawn_cleanup(state.clone());
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

/// Creates the first administrator from TONGXIN_ADMIN_USER / TONGXIN_ADMIN_PASSWORD when no
/// user has that name yet (a real deployment's first start).
async fn bootstrap_admin(args: &ServeArgs, store: &AnyStore) -> anyhow::Result<()> {
    let Some(username) = args.admin_user.as_deref().map(str::trim) else {
        return Ok(());
    };
    let password = args
        .admin_password
        .as_ref()
        .map(|s| s.0.clone())
        .context("TONGXIN_ADMIN_USER is set but TONGXIN_ADMIN_PASSWORD is not")?;
    if store.user(username).await?.is_some() {
        return Ok(());
    }
    check_username(username).map_err(|e| anyhow::anyhow!("TONGXIN_ADMIN_USER: {e}"))?;
    check_password(&password).map_err(|e| anyhow::anyhow!("TONGXIN_ADMIN_PASSWORD: {e}"))?;
    let row = UserRow {
        username: username.to_owned(),
        display_name: username.to_owned(),
        role: Role::Admin,
        grids: vec![],
        communities: vec![],
        subdistricts: vec![],
        password_hash: hash_password_blocking(password).await?,
        disabled: false,
    };
    store.insert_users(&[row], tongxin_server::now_ms()).await?;
    tracing::info!(username, "first administrator created");
    Ok(())
}

/// `--demo-city`: seeds the synthetic city and its accounts into an empty database, then prints
/// the demo accounts (on every start, so a newcomer always sees how to sign in).
async fn demo_on_first_start(store: &AnyStore) -> anyhow::Result<()> {
    use tongxin_server::demo;
    let now = tongxin_server::now_ms();
    if store.max_seq().await? == 0 {
        println!("seeding the synthetic demo city (first start; about a minute)…");
        let _ = std::io::stdout().flush();
        let done = demo::seed(store, 1, 3, now)
            .await
            .context("seeding failed")?;
        println!(
            "demo city (synthetic): {} grids, {} wardens, {} cases, {} visits, {} activities",
            done.stats.grids,
            done.stats.wardens,
            done.stats.cases,
            done.stats.visits,
            done.stats.activities
        );
    }
    println!(
        "demo accounts (synthetic data; password for all: {}):",
        demo::DEMO_PASSWORD
    );
    for (role, username) in tongxin_demo::SHOWCASE {
        println!("  {:<20} {username}", role.as_str());
    }
    Ok(())
}

async fn open_store(db: &ServeArgs) -> anyhow::Result<std::sync::Arc<AnyStore>> {
    let url = db.database_url();
    if db.uses_data_dir() {
        std::fs::create_dir_all(&db.data_dir).with_context(|| {
            format!("cannot create the data directory {}", db.data_dir.display())
        })?;
    }
    tongxin_server::store::open(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))
}

/// A new password: TONGXIN_NEW_PASSWORD, or else the first line of standard input.
fn read_new_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("TONGXIN_NEW_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        eprint!("new password: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn parse_ids(what: &str, ids: &[String]) -> anyhow::Result<Vec<RecordId>> {
    ids.iter()
        .map(|s| RecordId::parse(s.trim()).map_err(|_| anyhow::anyhow!("'{s}' is not a {what} id")))
        .collect()
}

fn row_of(spec: &UserSpec, password_hash: String) -> anyhow::Result<UserRow> {
    let role = Role::parse(&spec.role).with_context(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role '{}'; one of: {}", spec.role, all.join(", "))
    })?;
    Ok(UserRow {
        username: spec.username.trim().to_owned(),
        display_name: spec
            .name
            .clone()
            .unwrap_or_else(|| spec.username.trim().to_owned()),
        role,
        grids: parse_ids("grid", &spec.grids)?,
        communities: parse_ids("community", &spec.communities)?,
        subdistricts: parse_ids("subdistrict", &spec.subdistricts)?,
        password_hash,
        disabled: spec.disabled,
    })
}

/// `tongxin user add|set-role|reset-password|list`.
async fn user(args: UserArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    let now = tongxin_server::now_ms();
    let fail = |e: tongxin_server::error::ApiError| anyhow::anyhow!("{e}");
    match args.action {
        UserAction::Add(spec) => {
            check_username(spec.username.trim()).map_err(fail)?;
            let mut row = row_of(&spec, String::new())?;
            complete_area(&*store, &mut row).await.map_err(fail)?;
            let password = read_new_password()?;
            check_password(&password).map_err(fail)?;
            row.password_hash = hash_password_blocking(password).await.map_err(fail)?;
            if store.insert_users(std::slice::from_ref(&row), now).await? == 0 {
                anyhow::bail!("a user named '{}' already exists", row.username);
            }
            println!("created {} ({})", row.username, row.role);
        }
        UserAction::SetRole(spec) => {
            let existing = store
                .user(spec.username.trim())
                .await?
                .with_context(|| format!("no user named '{}'", spec.username))?;
            let mut row = row_of(&spec, existing.password_hash)?;
            if spec.name.is_none() {
                row.display_name = existing.display_name;
            }
            complete_area(&*store, &mut row).await.map_err(fail)?;
            store.update_user(&row, now).await?;
            println!(
                "{} is now {} ({} grids, {} communities, {} subdistricts)",
                row.username,
                row.role,
                row.grids.len(),
                row.communities.len(),
                row.subdistricts.len()
            );
        }
        UserAction::ResetPassword { username } => {
            let password = read_new_password()?;
            check_password(&password).map_err(fail)?;
            let hash = hash_password_blocking(password).await.map_err(fail)?;
            if !store.set_password(&username, &hash, now).await? {
                anyhow::bail!("no user named '{username}'");
            }
            println!("password of {username} reset; their sessions are signed out");
        }
        UserAction::List => {
            for u in store.users().await? {
                println!(
                    "{}\t{}\t{}\tgrids={}\tcommunities={}\tsubdistricts={}{}",
                    u.username,
                    u.role,
                    u.display_name,
                    u.grids.len(),
                    u.communities.len(),
                    u.subdistricts.len(),
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
        }
    }
    Ok(())
}

async fn demo_city(args: DemoArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    let done =
        tongxin_server::demo::seed(&*store, args.seed, args.months, tongxin_server::now_ms())
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
