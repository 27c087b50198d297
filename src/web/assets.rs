//! The few static files, built into the binary and served under names that carry their content's hash, so that
//! a phone keeps them for a year and asks again only when they change (`/static/app.3f2a9c1b0d.css`). The plain
//! name still answers, revalidated on each use, for links kept from older pages.
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

use super::AppError;
use super::extract::Path;
use super::routes::{Access, Routes};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: [Asset; 4] = [
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../../static/app.css") },
    Asset {
        name: "print.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/print.css"),
    },
    Asset {
        name: "meeting-form.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/meeting-form.js"),
    },
    Asset {
        name: "copy.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/copy.js"),
    },
];

/// Each file's fingerprinted name, in the order of `FILES`.
static FINGERPRINTED: LazyLock<Vec<String>> = LazyLock::new(|| {
    use sha2::Digest;
    FILES
        .iter()
        .map(|a| {
            let hash: String = sha2::Sha256::digest(a.bytes).iter().take(5).map(|b| format!("{b:02x}")).collect();
            let (stem, ext) = a.name.rsplit_once('.').expect("a file name with an extension");
            format!("{stem}.{hash}.{ext}")
        })
        .collect()
});

static URLS: LazyLock<Vec<String>> = LazyLock::new(|| FINGERPRINTED.iter().map(|f| format!("/static/{f}")).collect());

/// The address to link a static file by (its fingerprinted name).
pub fn url(name: &str) -> &'static str {
    let i = FILES.iter().position(|a| a.name == name).unwrap_or_else(|| panic!("no static file {name}"));
    &URLS[i]
}

pub fn routes() -> Routes {
    Routes::default().get("/static/{file}", Access::Public, serve)
}

async fn serve(Path(file): Path<String>) -> Result<Response, AppError> {
    let (asset, cache) = if let Some(i) = FINGERPRINTED.iter().position(|f| *f == file) {
        (&FILES[i], "public, max-age=31536000, immutable")
    } else if let Some(a) = FILES.iter().find(|a| a.name == file) {
        (a, "no-cache")
    } else {
        return Err(AppError::NotFound);
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
    ];
    Ok((headers, asset.bytes).into_response())
}
