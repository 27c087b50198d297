//! Bulk loading with PostgreSQL's COPY, for the import and the demo: rows are written as COPY text and sent in
//! large chunks.
use chrono::{NaiveDate, NaiveTime};
use sqlx::PgConnection;
use std::fmt::Write;

/// One table's rows in COPY text format.
pub struct CopyBuffer {
    pub table: &'static str,
    pub columns: &'static str,
    pub text: String,
    pub rows: usize,
}

/// A value as COPY text writes it.
pub trait CopyValue {
    fn write_to(&self, out: &mut String);
}

impl CopyValue for &str {
    fn write_to(&self, out: &mut String) {
        // most values hold nothing COPY text escapes: copied whole
        if !self.as_bytes().iter().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
            out.push_str(self);
            return;
        }
        for c in self.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
}

impl CopyValue for String {
    fn write_to(&self, out: &mut String) {
        self.as_str().write_to(out)
    }
}

macro_rules! display_value {
    ($($t:ty),*) => {$(
        impl CopyValue for $t {
            fn write_to(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
display_value!(i64, i32, i16, u8, usize, bool);

impl CopyValue for NaiveDate {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{}", self.format("%Y-%m-%d"));
    }
}

impl CopyValue for NaiveTime {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{}", self.format("%H:%M"));
    }
}

impl<T: CopyValue> CopyValue for Option<T> {
    fn write_to(&self, out: &mut String) {
        match self {
            Some(v) => v.write_to(out),
            None => out.push_str("\\N"),
        }
    }
}

impl CopyBuffer {
    pub fn new(table: &'static str, columns: &'static str) -> CopyBuffer {
        CopyBuffer { table, columns, text: String::new(), rows: 0 }
    }

    pub fn row(&mut self, values: &[&dyn CopyValue]) {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push('\t');
            }
            v.write_to(&mut self.text);
        }
        self.text.push('\n');
        self.rows += 1;
    }

    /// Sends the rows to the table.
    pub async fn send(self, conn: &mut PgConnection) -> sqlx::Result<usize> {
        let sql = format!("copy {} ({}) from stdin", self.table, self.columns);
        self.send_sql(conn, &sql).await
    }

    /// Sends the rows with a COPY statement of the caller's.
    pub async fn send_sql(self, conn: &mut PgConnection, sql: &str) -> sqlx::Result<usize> {
        let mut copy = conn.copy_in_raw(sql).await?;
        // chunks of 4 MiB cut at line ends, so memory stays flat on the server side
        let bytes = self.text.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            let mut end = (start + (4 << 20)).min(bytes.len());
            while end < bytes.len() && bytes[end - 1] != b'\n' {
                end += 1;
            }
            copy.send(&bytes[start..end]).await?;
            start = end;
        }
        copy.finish().await?;
        Ok(self.rows)
    }
}
