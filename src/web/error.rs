//! One error type for every handler: each variant becomes the page (or redirect) a user would expect.
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    /// An API token that is not (or no longer) one of ours.
    #[error("unknown or revoked API token")]
    BadToken,
    #[error("not found")]
    NotFound,
    #[error("outside your scope")]
    Forbidden,
    #[error("form expired or sent from another site")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A request refused whole, with the reason in the user's language (a forged form, a NUL byte).
    #[error("refused: {0}")]
    Refused(String),
    #[error("request body too large")]
    TooLarge,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("{0}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::NotSignedIn | AppError::BadToken => {
                (StatusCode::UNAUTHORIZED, crate::tr("error.not_signed_in"), crate::tr("error.not_signed_in_detail"))
            }
            AppError::NotFound => {
                (StatusCode::NOT_FOUND, crate::tr("error.not_found"), crate::tr("error.not_found_detail"))
            }
            AppError::Forbidden => {
                (StatusCode::FORBIDDEN, crate::tr("error.forbidden"), crate::tr("error.forbidden_detail"))
            }
            AppError::Csrf => (StatusCode::FORBIDDEN, crate::tr("error.csrf"), crate::tr("error.csrf_detail")),
            AppError::BadRequest(_) | AppError::Refused(_) => {
                (StatusCode::BAD_REQUEST, crate::tr("error.bad_request"), crate::tr("error.bad_request_detail"))
            }
            AppError::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, crate::tr("error.too_large"), crate::tr("error.too_large_detail"))
            }
            AppError::Db(e) if crate::db::reports::locked_month(e).is_some() => {
                (StatusCode::CONFLICT, crate::tr("cycle.locked_title"), crate::tr("cycle.locked_title"))
            }
            AppError::Db(e) if is_unavailable(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, crate::tr("error.unavailable"), crate::tr("error.unavailable_detail"))
            }
            AppError::Db(_) | AppError::Template(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, crate::tr("error.internal"), crate::tr("error.internal_detail"))
            }
        }
    }
}

impl AppError {
    /// The API's rendering: `{"error": "..."}` with the status of the HTML page, in English (API clients are
    /// programs; their shape is the contract).
    pub fn json_response(self) -> Response {
        let (status, _, _) = self.parts();
        let message: &str = match &self {
            AppError::NotSignedIn => "an API token is required: Authorization: Bearer <token>",
            AppError::BadToken => "the API token is unknown or revoked",
            AppError::NotFound => "no such unit",
            AppError::Forbidden => "outside the scope of this token",
            AppError::BadRequest(reason) | AppError::Refused(reason) => reason.as_str(),
            AppError::Csrf => "bad request",
            AppError::TooLarge => "request body too large",
            AppError::Db(e) if crate::db::reports::locked_month(e).is_some() => {
                "the report of this cell-month is approved: its meetings are locked"
            }
            AppError::Db(e) if is_unavailable(e) => "the database is unavailable; retry later",
            _ => "internal error",
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "API request failed");
        }
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// An error of the JSON API: the same [`AppError`], rendered as `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError(AppError::Db(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.json_response()
    }
}

/// The database is away (stopped, unreachable, pool exhausted): the user should retry, not report a bug.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Protocol(_) => true,
        // 08: connection exceptions; 57P01–57P03: the server is shutting down, crashed or starting up
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if matches!(self, AppError::NotSignedIn) {
            return Redirect::to("/login").into_response();
        }
        let (status, title, message) = self.parts();
        let locked = match &self {
            AppError::Db(e) => crate::db::reports::locked_month(e).map(|m| crate::web::reports::locked_message(&m)),
            _ => None,
        };
        let message = match (&self, &locked) {
            (AppError::Refused(reason), _) => reason.as_str(),
            (_, Some(said)) => said.as_str(),
            _ => message,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let page = ErrorPage { status: status.as_u16(), title, message };
        let body = page.render().unwrap_or_else(|_| message.to_string());
        let mut res = (status, Html(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
        }
        res
    }
}
