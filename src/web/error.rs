//! One error type for every handler: each variant becomes the page (or redirect) a user would expect.
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("not found")]
    NotFound,
    #[error("outside your scope")]
    Forbidden,
    #[error("form expired or sent from another site")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
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
            AppError::NotSignedIn => (StatusCode::UNAUTHORIZED, "Chưa đăng nhập", "Hãy đăng nhập để tiếp tục."),
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Không tìm thấy trang",
                "Trang này không tồn tại hoặc đã bị xóa. Kiểm tra lại địa chỉ.",
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Không có quyền truy cập",
                "Nội dung này nằm ngoài phạm vi đơn vị của tài khoản bạn.",
            ),
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "Biểu mẫu đã hết hạn",
                "Biểu mẫu đã hết hạn hoặc được gửi từ trang khác. Hãy quay lại, tải lại trang và gửi lại.",
            ),
            AppError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "Yêu cầu không hợp lệ",
                "Dữ liệu gửi lên không đúng định dạng. Hãy quay lại và thử lại.",
            ),
            AppError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Nội dung quá lớn",
                "Nội dung gửi lên quá lớn so với một biên bản. Hãy rút gọn rồi gửi lại.",
            ),
            AppError::Db(e) if is_unavailable(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Tạm thời gián đoạn",
                "Hệ thống tạm thời không kết nối được cơ sở dữ liệu. Dữ liệu bạn nhập chưa được lưu; hãy thử lại sau ít phút.",
            ),
            AppError::Db(_) | AppError::Template(_) | AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống",
                "Đã xảy ra lỗi. Dữ liệu bạn nhập chưa được lưu; hãy thử lại hoặc báo quản trị viên.",
            ),
        }
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
