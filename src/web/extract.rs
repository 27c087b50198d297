//! The form and path extractors of every handler: input that cannot be read (malformed, too large, a path
//! parameter of the wrong kind, a NUL byte) becomes chibo's own error page with a 4xx status instead of axum's
//! plain text or a database error; and [`LocalPath`], the only way a redirect target is taken from a request.
use axum::body::Body;
use axum::extract::rejection::{FormRejection, PathRejection, RawFormRejection};
use axum::extract::{FromRequest, FromRequestParts, RawForm, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Redirect;
use serde::de::DeserializeOwned;

use super::AppError;

/// A form that carries nothing but the session's token (a button that changes one thing).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// A form, refused whole (400, in the user's language) when any name or value holds a NUL byte, which no text
/// column can store.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let (parts, body) = req.into_parts();
        let RawForm(bytes) = RawForm::from_request(Request::from_parts(parts.clone(), body), state).await?;
        if holds_nul(&bytes) || parts.uri.query().is_some_and(|q| holds_nul(q.as_bytes())) {
            return Err(AppError::Refused(crate::tr("input.nul").into()));
        }
        let axum::Form(value) = axum::Form::from_request(Request::from_parts(parts, Body::from(bytes)), state).await?;
        Ok(Form(value))
    }
}

/// An urlencoded form holds a NUL once decoded: a raw 0 byte or `%00`.
fn holds_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0) || encoded.windows(3).any(|w| w == b"%00")
}

/// A form's fields as sent, in order, NUL bytes and repeated names included: for the forms that check each
/// value and say what is wrong at its field (the meeting and record forms).
pub struct Fields(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let axum::Form(pairs) = axum::Form::from_request(req, state).await?;
        Ok(Fields(pairs))
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> AppError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    }
}

impl From<RawFormRejection> for AppError {
    fn from(rejection: RawFormRejection) -> AppError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> AppError {
        // an id that is not a number cannot name anything that exists
        AppError::NotFound
    }
}

/// A path of this site to redirect to (`/…`, with its query, without a fragment). A redirect whose target comes
/// from the request (a form's `next` or `back`, the `Referer`, a job's page to go back to) is made from one, and
/// one is only made by [`LocalPath::parse`], which refuses whatever a browser could read as another site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// `target` if it is a path of this site: see [`local_path`].
    pub fn parse(target: &str) -> Option<LocalPath> {
        local_path(target).map(LocalPath)
    }

    /// `target` if it is a path of this site, else `fallback` (a path the server made), else the start page.
    pub fn parse_or(target: Option<&str>, fallback: &str) -> LocalPath {
        target.and_then(LocalPath::parse).or_else(|| LocalPath::parse(fallback)).unwrap_or_default()
    }

    /// The path (and query) of the referring page, if it is one of this site's.
    pub fn referer(headers: &HeaderMap) -> Option<LocalPath> {
        headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| r.parse::<Uri>().ok())
            .and_then(|uri| uri.path_and_query().and_then(|p| LocalPath::parse(p.as_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A redirect (303) here.
    pub fn redirect(&self) -> Redirect {
        Redirect::to(&self.0)
    }

    /// A redirect (303) here with `query` (`key=value`) added to the path's own, and then `#fragment`, if any.
    pub fn redirect_with(&self, query: &str, fragment: Option<&str>) -> Redirect {
        let sep = if self.0.contains('?') { '&' } else { '?' };
        match fragment {
            Some(fragment) => Redirect::to(&format!("{}{sep}{query}#{fragment}", self.0)),
            None => Redirect::to(&format!("{}{sep}{query}", self.0)),
        }
    }
}

/// The start page.
impl Default for LocalPath {
    fn default() -> LocalPath {
        LocalPath("/".into())
    }
}

/// `target` if it is a path of this site to redirect to (`/…`, with its query, without a fragment); `None` for
/// anything a browser could read as another site: `//host`, `/\host` (browsers read `\` as `/`), control
/// characters or whitespace (browsers drop tabs and line breaks: `/\t/host`), or what is not a path at all.
fn local_path(target: &str) -> Option<String> {
    let plain = target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.chars().any(|c| c.is_control() || c.is_whitespace());
    if !plain {
        return None;
    }
    let parsed: PathAndQuery = target.parse().ok()?;
    // what is redirected to is what was parsed (a fragment is dropped): it must still be a local path
    let path = parsed.as_str();
    (path.starts_with('/') && !path.starts_with("//")).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_parsed_path_of_this_site_is_a_redirect_target() {
        for local in ["/", "/cells/A", "/units/XL/records?job=3", "/meetings/7?saved=1&x=%2F%2Fa", "/a/b/c.d"] {
            assert_eq!(local_path(local).as_deref(), Some(local), "{local:?}");
        }
        // the fragment stays in the browser
        assert_eq!(local_path("/cells/A#tasks").as_deref(), Some("/cells/A"));
        for other in [
            "",
            "cells/A",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/cells\\..\\x",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/cells/A\u{0}",
            "/cells/A\u{7f}",
            "/cells/A\u{85}",
            "/cells/A\u{a0}x",
            "/cells/A\u{2028}",
            "/cells/A\r\nSet-Cookie: x=1",
            "https://evil.example/",
            "http:/evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_path(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_redirect_is_made_from_a_local_path_or_the_fallback() {
        let to = |r: Redirect| {
            use axum::response::IntoResponse;
            r.into_response().headers()[header::LOCATION].to_str().unwrap().to_string()
        };
        assert_eq!(to(LocalPath::parse_or(Some("/cells/A#t"), "/x").redirect()), "/cells/A");
        assert_eq!(to(LocalPath::parse_or(Some("//evil.example"), "/meetings/7").redirect()), "/meetings/7");
        assert_eq!(to(LocalPath::parse_or(None, "//evil.example").redirect()), "/");
        let back = LocalPath::parse("/units/XL/records").unwrap();
        assert_eq!(to(back.redirect_with("job=3", Some("f-units"))), "/units/XL/records?job=3#f-units");
        assert_eq!(to(LocalPath::parse("/a?b=1").unwrap().redirect_with("job=3", None)), "/a?b=1&job=3");
        let mut headers = HeaderMap::new();
        assert_eq!(LocalPath::referer(&headers), None);
        headers.insert(header::REFERER, "https://chibo.example/cells/A?x=1#top".parse().unwrap());
        assert_eq!(LocalPath::referer(&headers).unwrap().as_str(), "/cells/A?x=1");
        headers.insert(header::REFERER, "https://chibo.example//evil.example/".parse().unwrap());
        assert_eq!(LocalPath::referer(&headers), None);
    }

    #[test]
    fn a_nul_is_found_raw_or_percent_encoded() {
        assert!(holds_nul(b"topic=a%00b"));
        assert!(holds_nul(b"topic=a\0b"));
        assert!(holds_nul(b"a%00=b"));
        assert!(!holds_nul(b"topic=a%2500b&x=100"));
        assert!(!holds_nul(b"topic=%C3%A0%20"));
    }
}
