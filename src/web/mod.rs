//! The HTTP side: one module per area, each exposing `router()`; the middleware stack is here.
pub mod access;
mod account;
mod accounts;
pub mod activation;
mod admin;
mod api;
pub mod assets;
pub mod auth;
pub mod cache;
mod cells;
mod chart;
mod cookies;
mod dashboard;
pub mod error;
pub(crate) mod extract;
mod followup;
mod headings;
mod health;
mod jobs;
mod lang;
pub mod limits;
#[doc(hidden)]
pub mod meetings;
mod members;
pub mod problems;
mod programmes;
mod published;
mod records;
pub mod report;
pub(crate) mod reports;
pub mod routes;
mod rubrics;
mod settings;
mod units;
mod upload;
mod view;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

pub use account::MIN_PASSWORD;
pub use auth::CurrentUser;
pub use error::{ApiError, AppError, AppResult};
pub use routes::{Access, RouteSpec, Routes};

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

pub struct App {
    pub pool: PgPool,
    /// Served over https: every cookie is `Secure` and every response carries Strict-Transport-Security. On in
    /// `chibo serve` unless CHIBO_INSECURE_COOKIES=1 says it runs on plain http.
    pub secure_cookies: bool,
    /// Pages and sessions kept in memory; off until [`AppState::listen_for_changes`] hears the database.
    pub cache: Arc<cache::Cache>,
    /// How fast passwords may be tried, per address and in all.
    pub sign_in_limits: limits::SignInLimits,
    /// The route guard's answers (which unit a path names, and whether a scope holds it), per data generation.
    pub access: access::Memo,
}

impl AppState {
    pub fn new(pool: PgPool, secure_cookies: bool) -> AppState {
        AppState::with_sign_in_limits(pool, secure_cookies, limits::SignInLimits::default())
    }

    pub fn with_sign_in_limits(pool: PgPool, secure_cookies: bool, sign_in_limits: limits::SignInLimits) -> AppState {
        AppState(Arc::new(App {
            pool,
            secure_cookies,
            cache: Arc::default(),
            sign_in_limits,
            access: Default::default(),
        }))
    }

    pub fn pool(&self) -> &PgPool {
        &self.0.pool
    }

    pub fn cache(&self) -> &cache::Cache {
        &self.0.cache
    }

    /// Turns the in-memory cache on: a task listens for the database's change notices until the pool closes.
    pub fn listen_for_changes(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(cache::listen(self.pool().clone(), self.0.cache.clone()))
    }
}

/// Every request is answered within 20 s (503 past that), but an upload, which may be a province's whole history
/// sent over a slow line, gets 30 minutes to arrive; its import then runs in the background.
async fn deadline(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let upload = req.method() == axum::http::Method::POST && req.uri().path() == "/import";
    let limit = if upload { Duration::from_secs(30 * 60) } else { Duration::from_secs(20) };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Over https, browsers are told to use nothing else for a year, and no cookie of chibo's may travel without it.
async fn transport_security(State(state): State<AppState>, mut response: Response) -> Response {
    if state.0.secure_cookies {
        let headers = response.headers_mut();
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
        if let header::Entry::Occupied(mut cookies) = headers.entry(header::SET_COOKIE) {
            for cookie in cookies.iter_mut() {
                let text = cookie.to_str().unwrap_or_default();
                if !text.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure"))
                    && let Ok(secure) = HeaderValue::from_str(&format!("{text}; Secure"))
                {
                    *cookie = secure;
                }
            }
        }
    }
    response
}

/// Every route of the application with its access rule.
pub fn app_routes() -> Routes {
    Routes::default()
        .merge(health::routes())
        .merge(assets::routes())
        .merge(auth::routes())
        .merge(units::routes())
        .merge(members::routes())
        .merge(cells::routes())
        .merge(reports::routes())
        .merge(meetings::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(accounts::routes())
        .merge(activation::routes())
        .merge(api::routes())
        .merge(dashboard::routes())
        .merge(followup::routes())
        .merge(programmes::routes())
        .merge(rubrics::routes())
        .merge(published::routes())
        .merge(settings::routes())
        .merge(records::routes())
        .merge(upload::routes())
        .merge(headings::routes())
        .merge(lang::routes())
}

/// The whole application: routes, static files and the middleware stack.
pub fn app(state: AppState) -> Router {
    let (router, _) = app_routes().into_parts();
    router
        .fallback(|| async { AppError::NotFound })
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache::invalidate_after_writes))
        .layer(axum::middleware::from_fn(auth::same_origin_only))
        // forms are small: a larger body is refused by the extractors, with chibo's own error page
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(deadline))
        .layer(axum::middleware::from_fn(lang::scope))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        // signed-in pages and exports hold names and figures: no browser or proxy keeps them. The fingerprinted
        // static files say otherwise for themselves (assets.rs).
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(axum::middleware::map_response_with_state(state.clone(), transport_security))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
