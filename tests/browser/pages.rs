//! The pages as people see them: screenshots at phone and desktop size, accessibility, the language, the
//! dashboard's and the header's layout.
use super::*;

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
        // the commune's home: each cell's month at a glance
        wait_for(&c, ".month-status").await;
        shoot(&c, &format!("{size}-07-commune-home"), &mut scrolls).await;
        let home = c.current_url().await.unwrap().path().to_string();
        c.goto(&format!("{base}{home}/reports")).await.unwrap();
        wait_for(&c, "h1").await;
        shoot(&c, &format!("{size}-08-report-queue"), &mut scrolls).await;
        c.goto(&format!("{base}/units/TQ-LB-01-01/records")).await.unwrap();
        wait_for(&c, "#f-members").await;
        shoot(&c, &format!("{size}-09-cell-record"), &mut scrolls).await;
        c.close().await.unwrap();
    }
    assert!(scrolls.is_empty(), "pages that scroll sideways: {scrolls:#?}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    for size in ["phone", "desktop"] {
        for name in ["05-province-dashboard", "07-commune-home"] {
            let png = std::fs::read(dir.join(format!("{size}-{name}.png"))).unwrap();
            assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{size}-{name}: a real picture");
        }
    }
}

/// axe-core's serious and critical findings on the page the browser shows, as `rule: elements` lines.
async fn accessibility_problems(c: &Client) -> Vec<String> {
    const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
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
            "const tops = {size: Math.max(...[...document.querySelectorAll('.tiles')].map(s =>
                 new Set([...s.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().top)).size))};
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
    assert_eq!(rows_of_tiles, 1, "each group of tiles stands in one row");
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
