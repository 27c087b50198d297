//! `/healthz`: answers 200 when the database answers, 503 otherwise.
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default().get("/healthz", Access::Public, healthz)
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), crate::db::ping(state.pool())).await;
    match ping {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}
