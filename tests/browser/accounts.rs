//! Day one (issue 17): a commune's clerk makes an account for every secretary of the commune and prints the sheet;
//! a secretary opens their link on a phone with no script, sets a password and signs in; a second run makes
//! nothing.
use super::*;

async fn users_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from users").fetch_one(pool).await.unwrap()
}

#[sqlx::test]
async fn a_clerk_prints_the_secretaries_sheet_and_a_secretary_activates_on_a_phone(pool: PgPool) {
    let today = chibo::domain::time::today();
    chibo::demo::load(&pool, chibo::demo::Scale::Small, today).await.unwrap();
    let committee: String =
        sqlx::query_scalar("select u.code from users s join units u on u.id = s.unit_id where s.username = 'xuanlap'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;

    // the clerk, at a desk: from the users page to the commune's secretaries, then the sheet
    let desk = browser(&driver, 1366, 900).await;
    sign_in(&desk, &base, "xuanlap").await;
    desk.goto(&format!("{base}/admin/users")).await.unwrap();
    wait_for(&desk, &format!("a[href='/units/{committee}/secretaries']")).await.click().await.unwrap();
    let form = wait_for(&desk, &format!("form[action='/units/{committee}/secretaries'] button")).await;
    let label = form.text().await.unwrap();
    let to_make: usize = label.split_whitespace().find_map(|w| w.parse().ok()).expect("a count on the button");
    assert!(to_make > 0, "{label}");
    screenshot(&desk, "desktop-secretaries").await;
    let before = users_count(&pool).await;
    form.click().await.unwrap();
    wait_for(&desk, ".sheet").await;
    let links: Vec<String> = {
        let mut out = Vec::new();
        for code in desk.find_all(Locator::Css(".sheet-table code.link")).await.unwrap() {
            out.push(code.text().await.unwrap());
        }
        out
    };
    assert_eq!(links.len(), to_make, "a line per account made");
    assert_eq!(desk.find_all(Locator::Css(".sheet-table .qr svg")).await.unwrap().len(), to_make, "a QR code each");
    assert_eq!(users_count(&pool).await, before + to_make as i64);
    let first_name = desk.find(Locator::Css(".sheet-table tbody tr td:nth-child(3) code")).await.unwrap();
    let username = first_name.text().await.unwrap();
    screenshot(&desk, "desktop-activation-sheet").await;

    // a second run: nothing left to make
    desk.find(Locator::Css("a[href$='/secretaries']")).await.unwrap().click().await.unwrap();
    let again = wait_for(&desk, &format!("form[action='/units/{committee}/secretaries'] button")).await;
    assert_eq!(again.attr("disabled").await.unwrap().as_deref(), Some("true"), "nothing to make: the button is off");
    assert!(again.text().await.unwrap().contains(" 0 "));
    assert_eq!(users_count(&pool).await, before + to_make as i64, "nothing made twice");

    // the secretary, on a phone with no script: the link, a password, then sign in (a browser of their own: one
    // profile serves one session at a time)
    desk.close().await.unwrap();
    let driver = start_driver().await;
    let phone = browser_with(&driver, 390, 844, false).await;
    let link = links[0].replace("http://localhost", &base);
    let link = if link.starts_with(&base) { link } else { format!("{base}{}", &link[link.find("/reset/").unwrap()..]) };
    phone.goto(&link).await.unwrap();
    let page = wait_for(&phone, "main").await.text().await.unwrap();
    assert!(page.contains(&username), "the page names the account: {page}");
    phone.find(Locator::Css("#new")).await.unwrap().send_keys("bi-thu-moi-2026").await.unwrap();
    phone.find(Locator::Css("#confirm")).await.unwrap().send_keys("bi-thu-moi-2026").await.unwrap();
    screenshot(&phone, "phone-activation").await;
    phone.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&phone, "#username").await.send_keys(&username).await.unwrap();
    phone.find(Locator::Css("#password")).await.unwrap().send_keys("bi-thu-moi-2026").await.unwrap();
    phone.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while phone.current_url().await.unwrap().path() == "/login" {
        assert!(Instant::now() < deadline, "{username} was not signed in");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let home = wait_for(&phone, "main").await.text().await.unwrap();
    assert!(home.contains("Chi bộ"), "the secretary's cell: {home}");
    assert_eq!(sideways(&phone).await, None, "no sideways scroll on the phone");
    // the link is spent
    phone.goto(&link).await.unwrap();
    assert!(!wait_for(&phone, "body").await.text().await.unwrap().contains(&username));
}
