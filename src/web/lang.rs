//! The language of a request: its `chibo_lang` cookie, set by `/lang/{code}`, is carried in `crate::i18n`'s
//! task-local for the request's whole handling.
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cookies;
use super::extract::{LocalPath, Path};
use super::routes::{Access, Routes};
use crate::i18n::Lang;

pub const COOKIE: &str = "chibo_lang";

pub fn routes() -> Routes {
    Routes::default().get("/lang/{code}", Access::Public, choose)
}

fn from_cookie(headers: &HeaderMap) -> Lang {
    if cookies::get(headers, COOKIE).as_deref() == Some("en") { Lang::En } else { Lang::Vi }
}

/// Runs the request in its language.
pub async fn scope(req: Request, next: Next) -> Response {
    let lang = from_cookie(req.headers());
    crate::i18n::in_lang(lang, next.run(req)).await
}

/// `/lang/{code}`: remembers the choice for a year and goes back to the page it was made on.
async fn choose(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = if code == "en" { "en" } else { "vi" };
    // back to the same page of this site: only the path of the referring address, if it is one of ours
    let back = LocalPath::referer(&headers).unwrap_or_default();
    let cookie = format!("{COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    let mut response = back.redirect().into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a cookie"));
    response
}
