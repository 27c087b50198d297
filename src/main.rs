//! The `chibo` command: serve, migrate, demo, user.
use anyhow::{Context, bail};
use axum::serve::Listener;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

use chibo::db::{self, audit::Actor, credentials, users};
use chibo::demo::{self, Scale};
use chibo::domain::Role;

#[derive(Parser)]
#[command(name = "chibo", version, about = "Sổ sinh hoạt chi bộ — party cell meeting records")]
struct Cli {
    /// PostgreSQL connection string
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the web application
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Serve on this already-open listening socket instead of --host/--port (one socket shared by several
        /// instances; systemd's LISTEN_FDS is understood without it)
        #[arg(long)]
        listen_fd: Option<i32>,
        /// Seconds a connection has to send a whole request head (from its start, or from the end of the last
        /// answer on a kept-alive connection) before it is closed
        #[arg(long, env = "CHIBO_HEADER_TIMEOUT_SECS", default_value_t = chibo::serve::HEADER_TIMEOUT.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout_secs: u64,
        /// Connections open at once, at most (further ones wait in the socket's queue)
        #[arg(long, env = "CHIBO_MAX_CONNECTIONS", default_value_t = chibo::serve::MAX_CONNECTIONS,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        max_connections: usize,
        /// Serve over plain http: the session cookie without `Secure`, no Strict-Transport-Security. For
        /// development on one's own machine only; by default chibo expects https in front of it
        #[arg(long, env = "CHIBO_INSECURE_COOKIES", value_parser = clap::builder::FalseyValueParser::new())]
        insecure_cookies: bool,
    },
    /// Apply pending database migrations
    Migrate,
    /// Load demo data for Tuyên Quang into an empty, migrated database
    Demo {
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        /// Only print the demo logins
        #[arg(long)]
        print_logins: bool,
    },
    /// Print the metrics of a unit for a period of months (DOMAIN.md §9)
    Report {
        /// Code of the unit
        #[arg(long)]
        unit: String,
        /// First month, YYYY-MM
        #[arg(long)]
        from: String,
        /// Last month, YYYY-MM
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
    /// Import a bundle of CSV files (DOMAIN.md §8): everything is checked first; any error writes nothing
    Import {
        /// Directory holding units.csv, members.csv, meetings.csv … (every file is optional)
        dir: std::path::PathBuf,
        /// Check the bundle and say what it would change, without writing anything
        #[arg(long)]
        dry_run: bool,
        /// Language of the messages
        #[arg(long, value_enum, default_value_t = LangArg::Vi)]
        lang: LangArg,
    },
    /// Write the whole database as an import bundle into DIR
    Export { dir: std::path::PathBuf },
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Vi,
    En,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleArg {
    Small,
    Province,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user bound to a unit
    Add {
        username: String,
        #[arg(long)]
        name: String,
        /// admin, province_viewer, district_viewer, committee_clerk or cell_secretary
        #[arg(long)]
        role: String,
        /// Code of the user's unit (their scope is its subtree)
        #[arg(long)]
        unit: String,
        /// Password (or set CHIBO_PASSWORD)
        #[arg(long, env = "CHIBO_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Print a one-time link (good for 24 hours) with which the user sets a new password
    Reset {
        username: String,
        /// The address users open chibo at
        #[arg(long, env = "CHIBO_BASE_URL", default_value = "http://127.0.0.1:3000")]
        base_url: String,
    },
    /// Make an account and a one-time activation link (good for 14 days) for the secretary of every cell under a
    /// unit whose cell has none; prints one line per account. A second run makes nothing
    Secretaries {
        /// Code of the unit (a province, district or grassroots committee)
        #[arg(long)]
        unit: String,
        /// Also write one printable A4 page per grassroots committee into this directory
        #[arg(long)]
        sheets: Option<std::path::PathBuf>,
        /// The address users open chibo at
        #[arg(long, env = "CHIBO_BASE_URL", default_value = "https://chibo.example")]
        base_url: String,
    },
    /// Disable a user and end their sessions
    Disable { username: String },
    /// Unlock a user: enable a disabled account and forget the wrong passwords that paused its sign-in
    Unlock { username: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "chibo=info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Command::Demo { print_logins: true, .. } = cli.command {
        demo::print_logins();
        return Ok(());
    }
    let url = cli.database_url.context("DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/chibo)")?;
    let pool = db::connect(&url).await.context("cannot connect to the database at DATABASE_URL")?;
    match cli.command {
        Command::Serve { port, host, listen_fd, header_timeout_secs, max_connections, insecure_cookies } => {
            chibo::serve::return_large_blocks();
            db::migrate(&pool).await?;
            if insecure_cookies {
                tracing::warn!(
                    "CHIBO_INSECURE_COOKIES=1: the session cookie goes without `Secure` and no \
                     Strict-Transport-Security is sent: for plain http on one's own machine only, never behind a \
                     public address"
                );
            }
            // background work (src/jobs): imports left by a stopped instance, the outbox's upkeep
            let jobs = chibo::jobs::Runner::new(pool.clone(), chibo::jobs::standard()).start();
            let state = chibo::AppState::new(pool, !insecure_cookies);
            state.listen_for_changes();
            let app = chibo::app(state);
            let listener = match chibo::listen::inherited(listen_fd).context("cannot use the socket handed down")? {
                Some(l) => l,
                None => {
                    let addr = SocketAddr::new(host, port);
                    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?
                }
            };
            let limits = chibo::serve::Limits {
                header_timeout: std::time::Duration::from_secs(header_timeout_secs),
                max_connections: chibo::serve::fit_open_files(max_connections),
            };
            if limits.max_connections < max_connections {
                tracing::warn!(
                    "at most {} connections at once: the limit of open files (ulimit -n) leaves no room for {}",
                    limits.max_connections,
                    max_connections
                );
            }
            let (listener, stop) = chibo::listen::Draining::new(listener)?;
            tracing::info!("chibo is serving at http://{}", listener.local_addr()?);
            let shutdown = async move {
                shutdown_signal().await;
                let _ = stop.send(true);
                tokio::time::sleep(chibo::listen::DRAIN).await;
                tracing::info!("finishing the requests in flight");
            };
            chibo::serve::serve(listener, app, limits, shutdown).await;
            jobs.stop().await;
            tracing::info!("stopped");
        }
        Command::Report { unit, from, to, format } => {
            let Some(period) = chibo::domain::metrics::Period::parse(&from, &to) else {
                bail!("the period {from}..{to} is not two months YYYY-MM with the first not after the last");
            };
            let unit =
                db::units::by_code(&pool, &unit).await?.with_context(|| format!("no unit with code {unit:?}"))?;
            let report = db::metrics::report(&pool, unit, period, chibo::domain::time::today()).await?;
            match format {
                ReportFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&chibo::web::report::json(&report))?)
                }
                ReportFormat::Csv => print!("{}", chibo::web::report::csv(&report)),
            }
        }
        Command::Import { dir, dry_run, lang } => {
            let lang = match lang {
                LangArg::Vi => chibo::domain::metrics::Lang::Vi,
                LangArg::En => chibo::domain::metrics::Lang::En,
            };
            db::migrate(&pool).await?;
            let files = chibo::import::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
            let started = std::time::Instant::now();
            let progress = |step: chibo::import::Step| {
                eprintln!("[{:>6.1} s] {}", started.elapsed().as_secs_f64(), step.render(lang))
            };
            let outcome = chibo::import::import(&pool, files, dry_run, &Actor::cli(), &progress).await?;
            if !outcome.problems.is_empty() {
                for p in &outcome.problems {
                    println!("{}", chibo::web::problems::text_in(p, lang));
                }
                let en = lang == chibo::domain::metrics::Lang::En;
                if outcome.problems.len() >= chibo::import::MAX_PROBLEMS {
                    let (vi, en_text) = (
                        "chỉ liệt kê {} lỗi đầu tiên; có thể còn lỗi khác",
                        "only the first {} errors are listed; there may be more",
                    );
                    eprintln!(
                        "{}",
                        if en { en_text } else { vi }.replace("{}", &chibo::import::MAX_PROBLEMS.to_string())
                    );
                }
                eprintln!(
                    "{}",
                    if en {
                        "the bundle has errors: nothing was written"
                    } else {
                        "gói có lỗi: không ghi gì cả"
                    }
                );
                std::process::exit(1);
            }
            for (table, n) in &outcome.changed {
                println!("{table}: {n}");
            }
            let done = match (dry_run, lang) {
                (true, chibo::domain::metrics::Lang::En) => "dry run: the bundle is valid; nothing was written",
                (true, _) => "chạy thử: gói hợp lệ; chưa ghi gì",
                (false, chibo::domain::metrics::Lang::En) => "imported",
                (false, _) => "đã nhập",
            };
            let (n, secs) = (outcome.total_changed(), started.elapsed().as_secs_f64());
            match lang {
                chibo::domain::metrics::Lang::En => println!("{done} ({n} rows added or changed, {secs:.1} s)"),
                _ => println!("{done} ({n} dòng được thêm hoặc sửa, {secs:.1} s)"),
            }
        }
        Command::Export { dir } => {
            for (file, rows) in chibo::import::export::export(&pool, &dir).await? {
                println!("{file}: {rows}");
            }
        }
        Command::Migrate => {
            db::migrate(&pool).await?;
            println!("migrations applied");
        }
        Command::Demo { scale, .. } => {
            let scale = match scale {
                ScaleArg::Small => Scale::Small,
                ScaleArg::Province => Scale::Province,
            };
            let started = std::time::Instant::now();
            let summary = demo::load(&pool, scale, chibo::domain::time::today()).await?;
            println!("{summary}");
            println!("loaded in {:.1} s", started.elapsed().as_secs_f64());
            demo::print_logins();
        }
        Command::User { command: UserCommand::Add { username, name, role, unit, password } } => {
            // sign-in lowercases what is typed and takes at most MAX_USERNAME characters: a name outside that could
            // never sign in
            let max = chibo::web::auth::MAX_USERNAME;
            let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
            if username.is_empty() || username.chars().count() > max || !username.chars().all(allowed) {
                bail!("the user name must be 1 to {max} characters: lowercase letters a-z, digits, . _ -");
            }
            if name.trim().is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
                bail!("the name must be 1 to 200 characters, without control characters");
            }
            let Some(role) = Role::parse(&role) else {
                bail!(
                    "unknown role {role:?}: use admin, province_viewer, district_viewer, committee_clerk or cell_secretary"
                );
            };
            let unit =
                db::units::by_code(&pool, &unit).await?.with_context(|| format!("no unit with code {unit:?}"))?;
            if password.chars().count() < chibo::web::MIN_PASSWORD {
                bail!("the password must have at least {} characters", chibo::web::MIN_PASSWORD);
            }
            let new = users::NewUser {
                username: &username,
                display_name: &name,
                password_hash: chibo::auth::password::hash(password).await?,
                role,
                unit_id: unit.id,
            };
            let id = users::create(&pool, &Actor::cli(), new).await?;
            println!("user {username} created (id {id})");
        }
        Command::User { command: UserCommand::Reset { username, base_url } } => {
            let user = users::by_username(&pool, &username).await?.with_context(|| format!("no user {username:?}"))?;
            let token = credentials::create_reset(&pool, &Actor::cli(), &user).await?;
            println!("{}/reset/{token}", base_url.trim_end_matches('/'));
        }
        Command::User { command: UserCommand::Secretaries { unit, sheets, base_url } } => {
            let unit =
                db::units::by_code(&pool, &unit).await?.with_context(|| format!("no unit with code {unit:?}"))?;
            let today = chibo::domain::time::today();
            let made = db::activation::activate_secretaries(&pool, &Actor::cli(), unit.id, today, None).await?;
            let origin = base_url.trim_end_matches('/');
            for a in &made {
                println!("{}\t{}\t{}\t{origin}/reset/{}", a.cell_code, a.full_name, a.username, a.token);
            }
            eprintln!("{} accounts created", made.len());
            if let Some(dir) = sheets {
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                for (file, html) in chibo::web::activation::Sheet::files(&made, origin)? {
                    let path = dir.join(file);
                    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))?;
                }
            }
        }
        Command::User { command: UserCommand::Unlock { username } } => {
            let user = users::by_username(&pool, &username).await?.with_context(|| format!("no user {username:?}"))?;
            if credentials::unlock(&pool, &Actor::cli(), &user).await? {
                println!("user {username} unlocked: they can sign in again");
            } else {
                println!("user {username} was not locked");
            }
        }
        Command::User { command: UserCommand::Disable { username } } => {
            let user = users::by_username(&pool, &username).await?.with_context(|| format!("no user {username:?}"))?;
            credentials::disable(&pool, &Actor::cli(), &user).await?;
            println!("user {username} disabled; their sessions ended");
        }
    }
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, then exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: no new connections; serving those already taken");
}
