//! All SQL lives here, one module per aggregate.
pub mod audit;
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
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Lower case without Vietnamese accents, for search: "Nguyễn Thị Hòa" → "nguyen thi hoa".
pub fn search_key(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(strip_accent)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn strip_accent(c: char) -> char {
    const GROUPS: [(&str, char); 12] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
        ("ç", 'c'),
        ("ñ", 'n'),
        ("äâ", 'a'),
        ("ëê", 'e'),
        ("öô", 'o'),
    ];
    if c.is_ascii() {
        return c;
    }
    GROUPS
        .iter()
        .find(|(set, _)| set.contains(c))
        .map(|(_, base)| *base)
        .unwrap_or(c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_key_drops_accents_and_case() {
        assert_eq!(super::search_key("Nguyễn  Thị Hòa"), "nguyen thi hoa");
        assert_eq!(super::search_key("ĐẶNG Văn Quý"), "dang van quy");
        assert_eq!(super::search_key("H'Mông"), "h'mong");
    }
}
