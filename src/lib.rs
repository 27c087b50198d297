//! chibo: tracking party cell (chi bộ) meetings — attendance, self-assessment, resolutions — from a phone.
pub mod auth;
pub mod db;
pub mod demo;
pub mod domain;
pub mod i18n;
pub mod import;
pub mod jobs;
pub mod listen;
pub mod serve;
pub mod web;

pub use i18n::{tr, tr1, tr2, tr3};
pub use web::{AppState, app};
