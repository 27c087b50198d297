//! Who a user is, from what they type: between `db` (which stores password hashes and reads them back) and the
//! callers that take passwords (`web`, the command line, the demo).
pub mod password;

pub use password::authenticate;
