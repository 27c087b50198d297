//! Integration tests: HTTP through the real router against a real PostgreSQL (one database per test).
mod attack;
mod authz;
mod backup;
mod budget;
mod cache;
mod common;
mod demo;
mod followup;
mod hardening;
mod import;
mod input;
mod meetings;
mod metrics;
mod outage;
mod records;
mod schema;
mod security;
