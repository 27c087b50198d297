//! chibo: tracking party cell (chi bộ) meetings — attendance, self-assessment, resolutions — from a phone.
pub mod db;
pub mod demo;
pub mod domain;
pub mod import;
pub mod listen;
pub mod web;

pub use web::{AppState, app};
