//! All SQL lives here, one module per aggregate.
pub mod access;
pub mod activation;
pub mod audit;
pub mod copy;
pub mod credentials;
pub mod followup;
pub mod headings;
pub mod jobs;
pub mod meetings;
pub mod members;
pub mod metrics;
pub mod officials;
pub mod outbox;
pub mod programmes;
pub mod published;
pub mod records;
pub mod reminders;
pub mod reports;
pub mod rubric;
pub mod sessions;
pub mod settings;
pub mod units;
pub mod users;
pub mod vocab;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects to `DATABASE_URL`, failing fast when the database is away so that pages answer instead of hanging.
pub async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    // JIT compilation costs more than it saves on the short queries of a web page
    let options = url.parse::<PgConnectOptions>()?.options([("jit", "off")]);
    PgPoolOptions::new().max_connections(10).acquire_timeout(Duration::from_secs(3)).connect_with(options).await
}

/// Whether the database answers.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(pool).await.map(|_| ())
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

pub use crate::domain::text::search_key;
