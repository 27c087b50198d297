//! Page weight on a first visit, as it travels (gzip), with the page's own CSS and JS: the secretary's pages
//! within 30 KB, dashboards within 100 KB. Static files carry their hash and are kept for a year.
use axum::http::{StatusCode, header};
use sqlx::PgPool;

use crate::common::{Client, TestApp};

const SECRETARY_BUDGET: usize = 30 * 1024;
const DASHBOARD_BUDGET: usize = 100 * 1024;

/// The addresses of the stylesheets and scripts a page links.
fn assets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["href=\"/static/", "src=\"/static/"] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let start = i + attr.find('/').unwrap();
            let end = start + rest[start..].find('"').unwrap();
            found.push(rest[start..end].to_string());
            rest = &rest[end..];
        }
    }
    found
}

/// Bytes on the wire for the page and everything it links, checking each answer is compressed.
async fn first_visit(client: &Client<'_>, path: &str) -> (usize, Vec<String>) {
    let (status, headers, body) = client.get_compressed(path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    assert_eq!(headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), Some("gzip"), "{path}");
    let html = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut s).unwrap();
        s
    };
    let mut total = body.len();
    let linked = assets(&html);
    for a in &linked {
        let (status, headers, bytes) = client.get_compressed(a).await;
        assert_eq!(status, StatusCode::OK, "{a}");
        assert_eq!(
            headers.get(header::CACHE_CONTROL).unwrap(),
            "public, max-age=31536000, immutable",
            "{a} is fingerprinted and kept"
        );
        total += bytes.len();
    }
    (total, linked)
}

#[sqlx::test]
async fn the_secretarys_pages_fit_in_30_kb_and_dashboards_in_100_kb(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let anonymous = app.anonymous();
    let mut sec = app.login("sec_a").await;
    let mut figures = Vec::new();
    let (login, _) = first_visit(&anonymous, "/login").await;
    figures.push(("/login".to_string(), login));
    // a meeting in the list, so that the list is not empty
    let form = crate::meetings::filled_form(&mut sec, "A").await;
    assert_eq!(sec.post("/cells/A/meetings", &form).await.status, StatusCode::SEE_OTHER);
    for path in ["/cells/A", "/cells/A/meetings/new", "/cells/A/meetings"] {
        let (bytes, linked) = first_visit(&sec, path).await;
        assert!(!linked.is_empty(), "{path} links its stylesheet");
        figures.push((path.to_string(), bytes));
    }
    for (path, bytes) in &figures {
        eprintln!("first visit {path}: {bytes} bytes gzipped with its CSS and JS");
        assert!(*bytes <= SECRETARY_BUDGET, "{path}: {bytes} bytes > {SECRETARY_BUDGET}");
    }
    let viewer = app.login("viewer").await;
    let (bytes, _) = first_visit(&viewer, "/dashboard/P?from=2020-01&to=2026-12").await;
    eprintln!("first visit /dashboard/P: {bytes} bytes gzipped with its CSS");
    assert!(bytes <= DASHBOARD_BUDGET, "dashboard: {bytes} bytes > {DASHBOARD_BUDGET}");

    // an old link by the plain name still works, revalidated; a name that is not ours does not
    let (status, headers, _) = anonymous.get_compressed("/static/app.css").await;
    assert_eq!((status, headers.get(header::CACHE_CONTROL).unwrap().to_str().unwrap()), (StatusCode::OK, "no-cache"));
    assert_eq!(anonymous.get_compressed("/static/../Cargo.toml").await.0, StatusCode::NOT_FOUND);
}
