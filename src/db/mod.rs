//! All SQL lives here, one module per aggregate.
pub mod audit;
pub mod credentials;
pub mod meetings;
pub mod members;
pub mod officials;
pub mod sessions;
pub mod units;
pub mod users;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects to `DATABASE_URL`, failing fast when the database is away so that pages answer instead of hanging.
pub async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(10).acquire_timeout(Duration::from_secs(5)).connect(url).await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

pub use crate::domain::text::search_key;
