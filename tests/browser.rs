//! End to end in Debian's headless Chromium at phone size (390×844): the demo secretary signs in, logs this
//! month's meeting with one excused and one unexcused absence, and finds it in the list with the right counts.
//! Needs `chromium` and `chromium-driver` (scripts/test installs them).
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "browser tests need Debian's chromium and chromium-driver: run scripts/test, or apt-get install chromium chromium-driver"
    );
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = std::env::temp_dir().join(format!("chibo-chromium-{port}"));
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: TempDir(profile) };
    // poll until it accepts connections
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            // headless windows are at least 500 px wide: emulate the phone's viewport exactly
            "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}},
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--lang=vi", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", driver._profile.0.display()),
            ]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    ClientBuilder::new(HttpConnector::new()).capabilities(caps).connect(&driver.url).await.expect("a chromium session")
}

/// The app on a free loopback port, serving the given database.
async fn serve(pool: PgPool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = chibo::app(chibo::AppState::new(pool, false));
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// Waits for an element to appear (pages load asynchronously from the test's point of view).
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

async fn screenshot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[sqlx::test]
async fn the_demo_secretary_logs_a_meeting_on_a_phone(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;

    c.goto(&format!("{base}/login")).await.unwrap();
    wait_for(&c, "#username").await.send_keys("khuoitrang").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys(chibo::demo::DEMO_PASSWORD).await.unwrap();
    screenshot(&c, "phone-login").await;
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

    let status = wait_for(&c, "#month-status").await.text().await.unwrap();
    assert!(status.contains("Chưa ghi sinh hoạt định kỳ tháng"), "{status}");
    screenshot(&c, "phone-cell-home").await;
    c.find(Locator::LinkText("Ghi biên bản sinh hoạt")).await.unwrap().click().await.unwrap();

    wait_for(&c, "#meeting-form").await;
    // time inputs take their value from script: typing into them depends on the browser's locale
    c.execute(
        "document.getElementById('started_at').value = '19:30'; document.getElementById('ended_at').value = '21:40';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("#topic")).await.unwrap().send_keys("Triển khai làm nhà vệ sinh hợp vệ sinh").await.unwrap();
    let members = c.find_all(Locator::Css(".member:not(.exempt)")).await.unwrap();
    assert!(members.len() >= 3, "the demo cell has members");
    let expected = members.len();
    members[0].find(Locator::Css("input[value=excused]")).await.unwrap().click().await.unwrap();
    members[1].find(Locator::Css("input[value=unexcused]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("input[name=rating][value=good]")).await.unwrap().click().await.unwrap();
    let tally = c.find(Locator::Css("#tally")).await.unwrap().text().await.unwrap();
    assert_eq!(tally, format!("{}/{expected} có mặt", expected - 2), "the running count follows the radios");
    screenshot(&c, "phone-log-meeting").await;
    c.find(Locator::Css("button.primary[value=save]")).await.unwrap().click().await.unwrap();

    let notice = wait_for(&c, ".notice").await.text().await.unwrap();
    assert!(notice.contains("Đã lưu biên bản sinh hoạt chi bộ tháng"), "{notice}");
    screenshot(&c, "phone-meeting-saved").await;

    c.find(Locator::LinkText("Các buổi sinh hoạt")).await.unwrap().click().await.unwrap();
    let first = wait_for(&c, ".meeting-item").await.text().await.unwrap();
    let today = chibo::domain::time::format_date(chibo::domain::time::today());
    assert!(first.contains(&today), "{first}");
    assert!(first.contains("Triển khai làm nhà vệ sinh hợp vệ sinh"), "{first}");
    let counts = format!("{}/{expected} có mặt · 1 vắng có lý do · 1 vắng không lý do", expected - 2);
    assert!(first.contains(&counts), "expected {counts:?} in {first:?}");
    screenshot(&c, "phone-meeting-list").await;
    c.close().await.unwrap();
}

#[sqlx::test]
async fn the_committee_drills_down_from_the_province_dashboard(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 1366, 768).await;
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_for(&c, "#username").await.send_keys("bantochuc").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys(chibo::demo::DEMO_PASSWORD).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, ".tiles").await;
    c.find(Locator::LinkText("Cả Đề án 16 (2020–2025)")).await.unwrap().click().await.unwrap();
    let tile = wait_for(&c, ".tile").await.text().await.unwrap();
    assert!(tile.contains("Tỷ lệ đảng viên dự sinh hoạt") && tile.contains("chỉ tiêu 90,00 %"), "{tile}");
    screenshot(&c, "desktop-province-dashboard").await;
    // the district that closed on 30/06/2025 is still a child for the programme's years
    let district = c.find(Locator::LinkText("Đảng bộ huyện Lâm Bình")).await.unwrap();
    district.click().await.unwrap();
    let heading = wait_for(&c, "h1").await.text().await.unwrap();
    assert!(heading.contains("Đảng bộ huyện Lâm Bình"), "{heading}");
    let crumbs = c.find(Locator::Css(".crumbs")).await.unwrap().text().await.unwrap();
    assert!(crumbs.contains("Đảng bộ tỉnh Tuyên Quang"), "breadcrumbs lead back up: {crumbs}");
    screenshot(&c, "desktop-district-dashboard").await;
    c.close().await.unwrap();
}
