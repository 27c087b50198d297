//! Pure types and rules of the domain: no I/O here, so everything is unit-tested directly.
pub mod contact;
pub mod limits;
pub mod meeting;
pub mod metrics;
pub mod reports;
pub mod role;
pub mod rubric;
pub mod text;
pub mod time;
pub mod vocab;

pub use meeting::{AttendanceStatus, MeetingKind, Rating};
pub use vocab::{Code, Role};
