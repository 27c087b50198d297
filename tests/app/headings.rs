//! Issue 17 item 4, spreadsheets as they are: an upload with the committee's own sheet names and Vietnamese
//! headings is mapped once on `/import/headings/{id}`, imported, and the next upload of the same spreadsheet uses
//! the saved mapping.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::{Client, Page, TestApp, set};

/// A members list as a commune keeps it: a row number, Vietnamese headings, its own file name.
const HEADINGS: [&str; 10] = [
    "STT",
    "Mã đảng viên",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Dân tộc",
    "Ngày vào Đảng",
    "Ngày chính thức",
    "Chi bộ",
    "Ngày ra khỏi danh sách",
];
/// Its values as people write them: "Nam", "Nữ", dates as day/month/year.
const ROWS: [[&str; 10]; 2] = [
    ["1", "M30", "Lò Văn Hùng", "Nam", "02/04/1979", "Thái", "01/09/2005", "01/09/2006", "A", ""],
    ["2", "M31", "Vàng Thị Dợ", "Nữ", "20/11/1990", "Mông", "19/05/2018", "", "A", ""],
];

/// What the page preselects for each heading, in order.
const GUESSED: [&str; 10] = [
    "ignore",
    "members.csv/code",
    "members.csv/full_name",
    "members.csv/gender",
    "members.csv/birth_date",
    "members.csv/ethnicity",
    "members.csv/joined_on",
    "members.csv/official_on",
    "members.csv/cell_code",
    "members.csv/left_on",
];

fn csv(rows: &[[&str; 10]]) -> Vec<u8> {
    let mut text = HEADINGS.join(",") + "\n";
    for r in rows {
        text += &(r.join(",") + "\n");
    }
    text.into_bytes()
}

/// The same list as a workbook's sheet named "Đảng viên" under a title, dates as dates, a blank last cell not
/// written.
fn workbook(rows: &[[&str; 10]]) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = book.add_worksheet().set_name("Đảng viên").unwrap();
    sheet.merge_range(0, 0, 0, 9, "DANH SÁCH ĐẢNG VIÊN XÃ XUÂN LẬP", &Format::new().set_bold()).unwrap();
    for (i, h) in HEADINGS.iter().enumerate() {
        sheet.write_string(2, i as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 3;
        for (i, v) in row.iter().enumerate() {
            let i = i as u16;
            if v.is_empty() {
                continue;
            }
            if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%d/%m/%Y") {
                use chrono::Datelike;
                let d = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).unwrap();
                sheet.write_date_with_format(r, i, d, &date).unwrap();
            } else if i == 0 {
                sheet.write_number(r, i, v.parse::<f64>().unwrap()).unwrap();
            } else {
                sheet.write_string(r, i, *v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn upload(admin: &mut Client<'_>, name: &str, bytes: Vec<u8>) -> Page {
    let token = admin.csrf("/import").await;
    let page = admin.post_multipart("/import", &[("csrf", &token)], &[(name, bytes)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page
}

/// The job's page once it has finished.
async fn finished(admin: &mut Client<'_>, sent: Page) -> String {
    let job = sent.location.clone().expect("the job's page");
    assert!(job.starts_with("/import?job="), "{job}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = admin.get(&job).await.text();
        if !text.contains("Đang nhập") {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "the import never finished");
        tokio::task::yield_now().await;
    }
}

fn chosen(page: &Page) -> Vec<String> {
    page.form_values().into_iter().filter(|(k, _)| k.starts_with("h-")).map(|(_, v)| v).collect()
}

async fn members(app: &TestApp) -> i64 {
    app.count("members").await
}

#[sqlx::test]
async fn vietnamese_headings_are_mapped_once_then_imported_straight_away(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let before = members(&app).await;

    // an upload with headings of its own: nothing imported, the headings asked about with a guess each
    let sent = upload(&mut admin, "dang_vien.csv", csv(&ROWS)).await;
    let at = sent.location.clone().unwrap();
    assert!(at.starts_with("/import/headings/"), "{at}");
    assert_eq!(members(&app).await, before, "nothing is imported before the headings are mapped");
    let page = admin.get(&at).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    for h in HEADINGS {
        assert!(text.contains(h), "{h}: {text}");
    }
    assert!(text.contains("Ví dụ: Lò Văn Hùng · Vàng Thị Dợ"), "{text}");
    assert!(text.contains("Ví dụ: Nam · Nữ"), "{text}");
    assert!(page.body.contains("<optgroup label=\"members.csv\">"), "{}", page.body);
    assert!(text.contains("Bỏ qua cột này"), "{text}");
    assert_eq!(chosen(&page), GUESSED);

    // two headings of one sheet to one column: refused at the field, every choice kept as sent
    let mut form = page.form_values();
    set(&mut form, "h-0-2", "members.csv/code");
    let refused = admin.post(&at, &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("Cột này đã được chọn cho một tiêu đề khác của cùng trang"), "{}", refused.text());
    assert!(refused.body.contains("id=\"h-0-2-error\""), "{}", refused.body);
    assert!(refused.body.contains("<a href=\"#h-0-2\">"), "the summary links to the field");
    let mut kept: Vec<_> = GUESSED.iter().map(|s| s.to_string()).collect();
    kept[2] = "members.csv/code".into();
    assert_eq!(chosen(&refused), kept);
    // a column of another file in the same sheet: refused at its field
    let mut form = page.form_values();
    set(&mut form, "h-0-3", "meetings.csv/kind");
    let refused = admin.post(&at, &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"h-0-3-error\""), "{}", refused.body);
    assert!(refused.text().contains("Các cột của một trang phải thuộc cùng một tệp của mẫu"), "{}", refused.text());
    // a forged post: refused, nothing remembered, the upload still kept
    let mut forged = page.form_values();
    set(&mut forged, "csrf", "forged");
    assert_eq!(admin.post(&at, &forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("import_headings").await, 0);
    assert_eq!(app.count("import_drafts").await, 1);
    assert_eq!(members(&app).await, before);

    // the guesses posted: remembered (audited), imported, the kept upload gone
    let audit = app.count("audit_log").await;
    let sent = admin.post(&at, &page.form_values()).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let text = finished(&mut admin, sent).await;
    assert!(text.contains("Đã nhập xong"), "{text}");
    assert_eq!(members(&app).await, before + 2);
    let list = admin.get("/units/A/members?q=lo+van+hung").await.text();
    assert!(list.contains("Lò Văn Hùng"), "{list}");
    assert!(admin.get("/units/A/members?q=vang+thi").await.text().contains("Vàng Thị Dợ"));
    // her "Nữ" and "20/11/1990" read as the bundle's female and 1990-11-20
    let do_: (String, String, Option<String>) =
        sqlx::query_as("select gender::text, birth_date::text, official_on::text from members where code = 'M31'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(do_, ("female".into(), "1990-11-20".into(), None));
    let actions: Vec<(String, String)> =
        sqlx::query_as("select action, entity from audit_log order by id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(
        actions[audit as usize..],
        [("update".into(), "heading_mapping".into()), ("import".into(), "bundle".into())],
        "the mapping and the import, each audited"
    );
    assert_eq!(app.count("import_drafts").await, 0, "the kept files are deleted once used");
    assert_eq!(admin.get(&at).await.status, StatusCode::NOT_FOUND, "a mapping is sent once");

    // the same spreadsheet again, a member more: imported at once with the saved mapping
    let more =
        [ROWS[0], ROWS[1], ["3", "M32", "Lường Văn Pọm", "male", "1985-01-15", "Thái", "2012-02-03", "", "B", ""]];
    let sent = upload(&mut admin, "dang_vien.csv", csv(&more)).await;
    let text = finished(&mut admin, sent).await;
    assert!(text.contains("Đã nhập xong"), "{text}");
    assert!(admin.get("/units/B/members?q=luong").await.text().contains("Lường Văn Pọm"));

    // its problems name the user's own file, line and heading
    let mut bad = more;
    bad[1][4] = "31/02/1990";
    let sent = upload(&mut admin, "dang_vien.csv", csv(&bad)).await;
    let text = finished(&mut admin, sent).await;
    assert!(text.contains("dang_vien.csv:3: Ngày sinh: ngày không hợp lệ «31/02/1990»"), "{text}");
}

#[sqlx::test]
async fn a_workbook_sheet_of_its_own_name_is_remembered_as_the_members_file(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let before = members(&app).await;
    let sent = upload(&mut admin, "Danh sách đảng viên.xlsx", workbook(&ROWS)).await;
    let at = sent.location.clone().unwrap();
    assert!(at.starts_with("/import/headings/"), "{at}");
    let page = admin.get(&at).await;
    assert!(page.text().contains("Trang hoặc tệp «Đảng viên.csv»"), "{}", page.text());
    // the workbook's dates read as dates, its row numbers as numbers
    assert!(page.text().contains("Ví dụ: 1979-04-02 · 1990-11-20"), "{}", page.text());
    assert_eq!(chosen(&page), GUESSED);
    let sent = admin.post(&at, &page.form_values()).await;
    let text = finished(&mut admin, sent).await;
    assert!(text.contains("Đã nhập xong"), "{text}");
    assert_eq!(members(&app).await, before + 2);
    let name: (String,) = sqlx::query_as("select name from import_file_names").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name.0, "dang vien");

    // the next workbook: no page, nothing new to write
    let sent = upload(&mut admin, "Danh sách đảng viên (2).xlsx", workbook(&ROWS)).await;
    let text = finished(&mut admin, sent).await;
    assert!(text.contains("Không có gì thay đổi"), "{text}");
    // a problem names the sheet and its row as the spreadsheet shows them (the title is rows 1-2)
    let mut bad = ROWS;
    bad[0][3] = "Không rõ";
    let sent = upload(&mut admin, "Danh sách đảng viên (3).xlsx", workbook(&bad)).await;
    let text = finished(&mut admin, sent).await;
    assert!(
        text.contains("Đảng viên.csv:4: Giới tính: giá trị không hợp lệ «Không rõ» (một trong: male, female)"),
        "{text}"
    );
}

#[sqlx::test]
async fn only_the_uploader_among_administrators_maps_a_kept_upload(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let at = upload(&mut admin, "dang_vien.csv", csv(&ROWS)).await.location.unwrap();
    let form = admin.get(&at).await.form_values();
    for user in ["clerk", "district", "viewer", "sec_a"] {
        let mut client = app.login(user).await;
        assert_eq!(client.get(&at).await.status, StatusCode::FORBIDDEN, "{user}");
        let csrf = client.csrf("/cells/A").await;
        let mut theirs = form.clone();
        set(&mut theirs, "csrf", &csrf);
        assert_eq!(client.post(&at, &theirs).await.status, StatusCode::FORBIDDEN, "{user}");
    }
    assert_eq!(app.anonymous().get(&at).await.location.as_deref(), Some("/login"));
    assert_eq!(app.count("import_headings").await, 0);
    // a kept upload lasts a day
    sqlx::query("update import_drafts set expires_at = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    assert_eq!(admin.get(&at).await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.post(&at, &form).await.status, StatusCode::NOT_FOUND);
    // and is deleted by the imports' sweep
    assert_eq!(app.count("import_drafts").await, 1);
    let runner = chibo::jobs::Runner::new(app.pool.clone(), chibo::jobs::standard()).named("sweeper");
    runner.tick(chrono::Utc::now()).await.unwrap();
    assert_eq!(app.count("import_drafts").await, 0);
    assert_eq!(app.count("import_draft_files").await, 0);
}
