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
    browser_with(driver, width, height, true).await
}

/// A Chromium session at the given size, with page scripts on or off.
async fn browser_with(driver: &Driver, width: u32, height: u32, javascript: bool) -> Client {
    let client = session(driver, width, height).await;
    if !javascript {
        // No script file reaches the page, and chibo's CSP forbids inline script: the page runs no script at all.
        // (Switching script execution off in Chromium also stops chromedriver, which finds elements by script.)
        client.issue_cmd(Cdp { cmd: "Network.enable", params: serde_json::json!({}) }).await.expect("network domain");
        let block = Cdp { cmd: "Network.setBlockedURLs", params: serde_json::json!({"urls": ["*.js", "*.js?*"]}) };
        client.issue_cmd(block).await.expect("scripts blocked");
    }
    client
}

/// A Chrome DevTools command sent through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.expect("a session")))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.cmd, "params": self.params});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

async fn session(driver: &Driver, width: u32, height: u32) -> Client {
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

/// A screenshot named `name`, and a line in `scrolls` if the page scrolls sideways.
async fn shoot(c: &Client, name: &str, scrolls: &mut Vec<String>) {
    screenshot(c, name).await;
    if let Some(w) = sideways(c).await {
        scrolls.push(format!("{name}: {w}"));
    }
}

/// The page's width beyond the window's, if the whole page scrolls sideways (a table in its own scroll box does not).
async fn sideways(c: &Client) -> Option<String> {
    let widths =
        c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.expect("widths");
    let widths: Vec<i64> = serde_json::from_value(widths).expect("two numbers");
    (widths[0] > widths[1]).then(|| format!("{} px wide in a {} px window", widths[0], widths[1]))
}

#[sqlx::test]
async fn the_demo_secretary_logs_a_meeting_on_a_phone(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
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
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
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

/// Chromium's network emulation (chromedriver's `network_conditions`): the browser offline, or back online.
#[derive(Debug)]
struct Network {
    offline: bool,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Network {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/chromium/network_conditions", session.expect("a session")))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let conditions = serde_json::json!({"network_conditions": {
            "offline": self.offline, "latency": 0, "download_throughput": 1_000_000, "upload_throughput": 1_000_000
        }});
        (axum::http::Method::POST, Some(conditions.to_string()))
    }
}

async fn sign_in(c: &Client, base: &str, username: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_for(c, "#username").await.send_keys(username).await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys(chibo::demo::DEMO_PASSWORD).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // signed in when the browser has left the sign-in page
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.current_url().await.unwrap().path() == "/login" {
        assert!(Instant::now() < deadline, "{username} was not signed in");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn meetings_with_topic(pool: &PgPool, topic: &str) -> i64 {
    sqlx::query_scalar("select count(*) from meetings where topic = $1").bind(topic).fetch_one(pool).await.unwrap()
}

#[sqlx::test]
async fn a_meeting_saved_offline_is_sent_once_when_the_network_returns(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &base, "khuoitrang").await;
    wait_for(&c, "#month-status").await;
    c.find(Locator::LinkText("Ghi biên bản sinh hoạt")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#meeting-form").await;
    let topic = "Họp khi mất sóng điện thoại";
    c.find(Locator::Css("#topic")).await.unwrap().send_keys(topic).await.unwrap();
    c.find(Locator::Css("input[name=rating][value=good]")).await.unwrap().click().await.unwrap();

    // the draft is kept on the phone: the page opened again still holds what was typed
    c.refresh().await.unwrap();
    wait_for(&c, "#meeting-form").await;
    let kept = c.find(Locator::Css("#topic")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some(topic), "the draft was restored");
    let state = wait_for(&c, "#send-state:not([hidden])").await.text().await.unwrap();
    assert!(state.contains("Đã mở lại bản nháp"), "{state}");
    c.execute(
        "document.getElementById('started_at').value = '19:30'; document.getElementById('ended_at').value = '21:00';
         document.getElementById('meeting-form').dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();

    // no network: the save is kept and says so; nothing reached the server
    c.issue_cmd(Network { offline: true }).await.unwrap();
    c.find(Locator::Css("button.primary[value=save]")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state = c.find(Locator::Css("#send-state")).await.unwrap().text().await.unwrap();
        if state.contains("Đang chờ gửi") {
            break;
        }
        assert!(Instant::now() < deadline, "no waiting state shown: {state:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    screenshot(&c, "phone-meeting-waiting-to-send").await;
    assert_eq!(meetings_with_topic(&pool, topic).await, 0);

    // the network returns: sent by itself, exactly once, and the saved meeting is shown
    c.issue_cmd(Network { offline: false }).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while meetings_with_topic(&pool, topic).await == 0 {
        assert!(Instant::now() < deadline, "the kept meeting was never sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let notice = wait_for(&c, ".notice").await.text().await.unwrap();
    assert!(notice.contains("Đã lưu biên bản sinh hoạt chi bộ tháng"), "{notice}");
    screenshot(&c, "phone-meeting-sent").await;
    assert_eq!(meetings_with_topic(&pool, topic).await, 1, "exactly one meeting");
    // and the draft is gone: a new form starts empty
    c.goto(&format!("{base}/cells/TQ-LB-01-01/meetings/new")).await.unwrap();
    wait_for(&c, "#meeting-form").await;
    let fresh = c.find(Locator::Css("#topic")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(fresh.as_deref(), Some(""));
    c.close().await.unwrap();
}

#[sqlx::test]
async fn a_secretary_signs_in_and_logs_a_meeting_with_javascript_off(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser_with(&driver, 390, 844, false).await;
    sign_in(&c, &base, "khuoitrang").await;
    wait_for(&c, "#month-status").await;
    c.find(Locator::LinkText("Ghi biên bản sinh hoạt")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#meeting-form").await;
    let topic = "Họp không cần JavaScript";
    c.find(Locator::Css("#topic")).await.unwrap().send_keys(topic).await.unwrap();
    // the test sets the time fields itself (typing into them depends on the browser's locale); this is the
    // test driver's script, not the page's
    c.execute(
        "document.getElementById('started_at').value = '19:30'; document.getElementById('ended_at').value = '21:00';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("input[name=rating][value=fair]")).await.unwrap().click().await.unwrap();
    // chibo's script would have kept a draft of what was typed on the phone: none, so no script ran
    let drafts = c.execute("return localStorage.length", vec![]).await.unwrap();
    assert_eq!(drafts, serde_json::json!(0), "no page script ran");
    screenshot(&c, "phone-log-meeting-no-javascript").await;
    c.find(Locator::Css("button.primary[value=save]")).await.unwrap().click().await.unwrap();
    let outcome = wait_for(&c, ".notice, #error-summary").await.text().await.unwrap();
    screenshot(&c, "phone-meeting-saved-no-javascript").await;
    assert!(outcome.contains("Đã lưu biên bản sinh hoạt chi bộ tháng"), "{outcome}");
    assert_eq!(meetings_with_topic(&pool, topic).await, 1);
    c.close().await.unwrap();
}

#[sqlx::test]
async fn screenshots_of_the_key_pages_at_phone_and_desktop_size(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    // no page may scroll sideways, on a phone or a desktop
    let mut scrolls = Vec::new();
    for (size, width, height) in [("phone", 390, 844), ("desktop", 1366, 768)] {
        let c = browser(&driver, width, height).await;
        c.goto(&format!("{base}/login")).await.unwrap();
        wait_for(&c, "#username").await;
        shoot(&c, &format!("{size}-01-sign-in"), &mut scrolls).await;
        sign_in(&c, &base, "khuoitrang").await;
        wait_for(&c, "#month-status").await;
        shoot(&c, &format!("{size}-02-cell-home"), &mut scrolls).await;
        for (n, path, css) in [
            ("03-log-meeting", "/cells/TQ-LB-01-01/meetings/new", "#meeting-form"),
            ("04-meeting-list", "/cells/TQ-LB-01-01/meetings", "h1"),
        ] {
            c.goto(&format!("{base}{path}")).await.unwrap();
            wait_for(&c, css).await;
            shoot(&c, &format!("{size}-{n}"), &mut scrolls).await;
        }
        c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        wait_for(&c, "#username").await;
        sign_in(&c, &base, "bantochuc").await;
        wait_for(&c, ".tiles").await;
        shoot(&c, &format!("{size}-05-province-dashboard"), &mut scrolls).await;
        c.goto(&format!("{base}/followup/TQ")).await.unwrap();
        wait_for(&c, "h1").await;
        shoot(&c, &format!("{size}-06-follow-up"), &mut scrolls).await;
        c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        wait_for(&c, "#username").await;
        sign_in(&c, &base, "xuanlap").await;
        c.goto(&format!("{base}/units/TQ-LB-01-01/records")).await.unwrap();
        wait_for(&c, "#f-members").await;
        shoot(&c, &format!("{size}-07-cell-record"), &mut scrolls).await;
        c.close().await.unwrap();
    }
    assert!(scrolls.is_empty(), "pages that scroll sideways: {scrolls:#?}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    for size in ["phone", "desktop"] {
        let png = std::fs::read(dir.join(format!("{size}-05-province-dashboard.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{size}: a real picture");
    }
}

/// axe-core's serious and critical findings on the page the browser shows, as `rule: elements` lines.
async fn accessibility_problems(c: &Client) -> Vec<String> {
    const AXE: &str = include_str!("vendor/axe-core/axe.min.js");
    c.execute(&format!("{AXE}\n;return true;"), vec![]).await.expect("axe-core loads");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
                      + v.nodes.map(n => n.target.join(' ')).join(', '))));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    serde_json::from_value(found).expect("a list of findings")
}

/// Controls a thumb must hit that are less than 44 px tall.
async fn small_targets(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            "return [...document.querySelectorAll('button, select, textarea, .button, .choice, \
                 input:not([type=hidden]):not([type=radio]):not([type=checkbox])')]
               .filter(e => e.offsetParent !== null && !e.classList.contains('default-submit'))
               .filter(e => e.getBoundingClientRect().height < 44)
               .map(e => e.outerHTML.slice(0, 100));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

#[sqlx::test]
async fn axe_core_finds_nothing_serious_on_the_main_pages(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    let mut problems = Vec::new();
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_for(&c, "#username").await;
    problems.extend(accessibility_problems(&c).await.into_iter().map(|p| format!("sign-in: {p}")));
    sign_in(&c, &base, "khuoitrang").await;
    wait_for(&c, "#month-status").await;
    problems.extend(accessibility_problems(&c).await.into_iter().map(|p| format!("home: {p}")));
    problems.extend(small_targets(&c).await.into_iter().map(|p| format!("home, under 44 px: {p}")));
    c.goto(&format!("{base}/cells/TQ-LB-01-01/meetings/new")).await.unwrap();
    wait_for(&c, "#meeting-form").await;
    problems.extend(accessibility_problems(&c).await.into_iter().map(|p| format!("log meeting: {p}")));
    problems.extend(small_targets(&c).await.into_iter().map(|p| format!("log meeting, under 44 px: {p}")));
    // the same form sent back with its errors
    c.find(Locator::Css("button.primary[value=save]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#error-summary").await;
    problems.extend(accessibility_problems(&c).await.into_iter().map(|p| format!("log meeting, errors: {p}")));
    c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#username").await;
    sign_in(&c, &base, "bantochuc").await;
    wait_for(&c, ".tiles").await;
    problems.extend(accessibility_problems(&c).await.into_iter().map(|p| format!("dashboard: {p}")));
    // the check can fail: an input without a label, added to the page, is found
    c.execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=\"unlabelled\">');", vec![])
        .await
        .unwrap();
    let control = accessibility_problems(&c).await;
    assert!(control.iter().any(|p| p.starts_with("label (critical)") && p.contains("#unlabelled")), "{control:?}");
    c.execute(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<button id=\"tiny\" style=\"min-height:0;height:20px\">x</button>');",
        vec![],
    )
    .await
    .unwrap();
    let tiny = small_targets(&c).await;
    assert!(tiny.iter().any(|t| t.contains("tiny")), "{tiny:?}");
    c.close().await.unwrap();
    assert!(problems.is_empty(), "axe-core found:\n{}", problems.join("\n"));
}

#[sqlx::test]
async fn the_language_switches_to_english_and_back_with_its_formats(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 1366, 768).await;
    c.goto(&format!("{base}/login")).await.unwrap();
    assert_eq!(wait_for(&c, "h1").await.text().await.unwrap(), "Đăng nhập", "Vietnamese by default");
    c.find(Locator::LinkText("English")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap() != "Sign in" {
        assert!(Instant::now() < deadline, "the page did not turn English");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(c.find(Locator::Css("label[for=username]")).await.unwrap().text().await.unwrap(), "User name");
    let html_lang = c.find(Locator::Css("html")).await.unwrap().attr("lang").await.unwrap();
    assert_eq!(html_lang.as_deref(), Some("en"));
    // the choice is remembered: signed in, the dashboard is in English, with English number formats
    sign_in(&c, &base, "bantochuc").await;
    wait_for(&c, ".tiles").await;
    c.find(Locator::LinkText("All of Project 16 (2020–2025)")).await.unwrap().click().await.unwrap();
    let tile = wait_for(&c, ".tile").await.text().await.unwrap();
    assert!(tile.contains("Member attendance") && tile.contains("target 90.00%"), "{tile}");
    assert!(!tile.contains(" %"), "no Vietnamese percentage left: {tile}");
    screenshot(&c, "desktop-province-dashboard-english").await;
    // and back
    c.find(Locator::LinkText("Tiếng Việt")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tile = c.find(Locator::Css(".tile")).await.unwrap().text().await.unwrap();
        if tile.contains("Tỷ lệ đảng viên dự sinh hoạt") {
            assert!(tile.contains("chỉ tiêu 90,00 %"), "{tile}");
            break;
        }
        assert!(Instant::now() < deadline, "the page did not turn Vietnamese again: {tile}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.close().await.unwrap();
}

/// The province dashboard on a phone: the unit table keeps its names in view (a sticky first column, a hint to
/// swipe), names do not break word by word, and the chart's labels are at least 12 px. On a desktop the page uses
/// the width: tiles in one row, names on one line.
#[sqlx::test]
async fn the_dashboard_reads_on_a_phone_and_uses_a_desktop(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &base, "bantochuc").await;
    c.goto(&format!("{base}/dashboard/TQ?from=2026-01&to=2026-06")).await.unwrap();
    wait_for(&c, "#children").await;
    let phone = c
        .execute(
            "const th = document.querySelector('#children tbody th');
             const hint = document.querySelector('.scroll-hint');
             const labels = [...document.querySelectorAll('.chart .axis')].map(t =>
                 parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
             const widths = [...document.querySelectorAll('#children tbody th')].map(h => h.getBoundingClientRect().width);
             return [getComputedStyle(th).position, hint.offsetParent !== null, Math.min(...labels), Math.min(...widths)];",
            vec![],
        )
        .await
        .unwrap();
    let (position, hint, smallest_label, narrowest_name): (String, bool, f64, f64) =
        serde_json::from_value(phone).unwrap();
    assert_eq!(position, "sticky", "the unit names stay in view while the figures scroll");
    assert!(hint, "the phone is told the table scrolls sideways");
    assert!(smallest_label >= 12.0, "chart labels {smallest_label:.1} px");
    assert!(narrowest_name >= 130.0, "a name column of {narrowest_name:.0} px breaks names word by word");
    c.close().await.unwrap();

    let c = browser(&driver, 1366, 768).await;
    sign_in(&c, &base, "bantochuc").await;
    c.goto(&format!("{base}/dashboard/TQ?from=2026-01&to=2026-06")).await.unwrap();
    wait_for(&c, "#children").await;
    let desktop = c
        .execute(
            "const tops = new Set([...document.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().top));
             const lines = [...document.querySelectorAll('#children tbody th a')].map(a => {
                 const r = document.createRange(); r.selectNodeContents(a); return r.getClientRects().length; });
             return [document.querySelector('main').getBoundingClientRect().width, tops.size, Math.max(...lines),
                     document.querySelector('.scroll-hint').offsetParent !== null];",
            vec![],
        )
        .await
        .unwrap();
    let (width, rows_of_tiles, most_lines, hint): (f64, usize, usize, bool) = serde_json::from_value(desktop).unwrap();
    assert!(width >= 1000.0, "the content uses the desktop's width: {width} px");
    assert_eq!(rows_of_tiles, 1, "the tiles stand in one row");
    assert_eq!(most_lines, 1, "every unit name on one line");
    assert!(!hint, "no swipe hint on a desktop");
    c.close().await.unwrap();
}

/// On a phone the header keeps to one line; the account's pages are on a menu page, in words a secretary reads.
#[sqlx::test]
async fn the_header_is_one_line_on_a_phone_and_the_account_menu_explains_itself(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &base, "khuoitrang").await;
    wait_for(&c, "#month-status").await;
    let header = c
        .execute(
            "const h = document.querySelector('header.top');
             const tops = [...h.querySelectorAll('a, button')].filter(e => e.offsetParent !== null)
                 .map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2));
             return [h.getBoundingClientRect().height, Math.max(...tops) - Math.min(...tops), document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (height, spread, width): (f64, f64, f64) = serde_json::from_value(header).unwrap();
    assert!(spread <= 4.0 && height <= 64.0, "one line: {height} px high, items {spread} px apart");
    assert!(width <= 390.0, "nothing pushed sideways: {width} px");
    c.find(Locator::Css("a.menu-link")).await.unwrap().click().await.unwrap();
    wait_for(&c, "ul.menu").await;
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Khóa API (cho phần mềm khác)") && text.contains("Nhật ký thay đổi"), "{text}");
    screenshot(&c, "phone-account-menu").await;
    c.close().await.unwrap();
}
