//! The vocabulary enums of `domain::vocab` as PostgreSQL `text` values: bound and read as enums by every query
//! (`query_as!` columns name them with `col as "col: UnitKind"`). A code outside the enum is a decode error,
//! never a silent default; the tables' check constraints keep such codes out in the first place.
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::vocab::*;

macro_rules! text_codes {
    ($($name:ident),+ $(,)?) => {$(
        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $name {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let code = <&str as Decode<Postgres>>::decode(value)?;
                Ok(code.parse::<$name>()?)
            }
        }
    )+};
}

text_codes!(
    UnitKind,
    CellType,
    Gender,
    MeetingKind,
    AttendanceStatus,
    AttendanceMode,
    Rating,
    TaskStatus,
    ClassLevel,
    ClassSubject,
    Position,
    OfficialGroup,
    Role,
    JobState,
    OutboxState,
    Metric,
    ReportState,
);
