//! The one reader of the cookies a request carries: the session's and the language's.
use axum::http::{HeaderMap, header};

/// The value of the cookie `name`, the first one sent, from every `Cookie` header of the request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_cookie_is_read_from_any_cookie_header_by_its_exact_name() {
        let mut headers = HeaderMap::new();
        assert_eq!(get(&headers, "chibo_lang"), None);
        headers.append(header::COOKIE, HeaderValue::from_static("xchibo_lang=vi; chibo_session=abc"));
        headers.append(header::COOKIE, HeaderValue::from_static(" chibo_lang=en ;chibo_lang=vi"));
        assert_eq!(get(&headers, "chibo_session").as_deref(), Some("abc"));
        assert_eq!(get(&headers, "chibo_lang").as_deref(), Some("en"));
        assert_eq!(get(&headers, "other"), None);
    }
}
