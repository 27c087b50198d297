//! Demo data that looks like Tuyên Quang province, 2020-01 to the current month.
pub mod names;

use sqlx::PgPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Small,
    Province,
}

pub async fn load(_pool: &PgPool, _scale: Scale) -> anyhow::Result<String> {
    todo!()
}

pub fn print_logins() {}
