//! Issue 17 item 4 in the browser: a commune's own members list, Vietnamese headings and all, uploaded from a phone
//! without script, its headings matched on one page that fits the screen, then imported.
use super::*;

#[sqlx::test]
async fn a_members_list_with_vietnamese_headings_is_matched_and_imported_on_a_phone(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let cell: String = sqlx::query_scalar("select code from units where kind = 'cell' order by code limit 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("chibo-headings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dang_vien.csv");
    let list = format!(
        "STT,Mã đảng viên,Họ và tên,Giới tính,Ngày sinh,Dân tộc,Ngày vào Đảng,Ngày chính thức,Chi bộ,\
         Ngày ra khỏi danh sách,Ghi chú\n\
         1,HV-901,Hoàng Văn Sình,Nam,02/04/1979,Tày,01/09/2005,01/09/2006,{cell},,\n\
         2,HV-902,Bàn Thị Mẩy,Nữ,20/11/1990,Dao,19/05/2018,,{cell},,mới kết nạp\n"
    );
    std::fs::write(&file, list).unwrap();
    let base = serve(pool.clone()).await;
    let driver = start_driver().await;
    let c = browser_with(&driver, 390, 844, false).await;
    sign_in(&c, &base, "admin").await;
    c.goto(&format!("{base}/import")).await.unwrap();
    wait_for(&c, "#files").await.send_keys(file.to_str().unwrap()).await.unwrap();
    // imported, not only checked
    c.find(Locator::Css("input[name=dry_run]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form[action='/import'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "form[action^='/import/headings/']").await;
    let guessed = c.find(Locator::Css("#h-0-2 option[selected]")).await.unwrap().attr("value").await.unwrap();
    assert_eq!(guessed.as_deref(), Some("members.csv/full_name"));
    let mut scrolls = Vec::new();
    shoot(&c, "phone-import-headings", &mut scrolls).await;
    assert!(scrolls.is_empty(), "the headings page scrolls sideways: {scrolls:?}");
    // the guesses as they stand ("STT" and "Ghi chú" ignored)
    c.find(Locator::Css("form[action^='/import/headings/'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#job").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // the job's page refreshes itself while the import runs
        let text = match c.find(Locator::Css("#job")).await {
            Ok(job) => job.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains("Đã nhập xong") {
            break;
        }
        assert!(!text.contains("không ghi gì"), "{text}");
        assert!(Instant::now() < deadline, "the import never finished: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let added: i64 = sqlx::query_scalar("select count(*) from members where code like 'HV-90_' and gender = 'female'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(added, 1, "Bàn Thị Mẩy, Nữ, imported as female");
    screenshot(&c, "phone-import-headings-done").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
