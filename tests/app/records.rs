//! Keeping structure and people current from the pages: each form writes through the import's checks, in one
//! transaction, keeps what was typed when refused, and leaves history behind. And the bundle upload.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::{Client, TestApp};

/// Sends one record form of `page` as a browser would, then follows to the page it comes back to.
async fn save(
    client: &mut Client<'_>,
    page: &str,
    unit: &str,
    file: &str,
    fields: &[(&str, &str)],
) -> crate::common::Page {
    let token = client.csrf(page).await;
    // a transfer's confirmation given (firstuse.rs shows the question it asks first)
    let mut form = vec![("csrf", token.as_str()), ("file", file), ("back", page), ("confirmed", "1")];
    form.extend_from_slice(fields);
    let sent = client.post(&format!("/units/{unit}/records"), &form).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{file}: {}", sent.body);
    client.follow(sent).await
}

#[sqlx::test]
async fn a_clerk_keeps_members_current_and_every_record_keeps_its_history(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/members/M1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Nguyễn Văn An") && page.text().contains("Đảng viên chính thức"), "{}", page.text());

    // a transfer to cell B from 1 November: added to the history, the member's cell today changes
    let page = save(
        &mut clerk,
        "/members/M1",
        "A",
        "transfers.csv",
        &[("member_code", "M1"), ("cell_code", "B"), ("effective_on", "2026-11-01")],
    )
    .await;
    let text = page.text();
    assert!(text.contains("Đã lưu."), "{text}");
    assert!(text.contains("Chi bộ hôm nay Chi bộ thôn Nà Mỏ"), "{text}");
    assert!(text.contains("Chi bộ thôn Nà Mỏ 01/11/2026"), "the transfers table, by name: {text}");
    assert_eq!(app.count("member_transfers").await, 2);

    // the same form again (a double submit) writes nothing more
    let audit = app.count("audit_log").await;
    save(
        &mut clerk,
        "/members/M1",
        "B",
        "transfers.csv",
        &[("member_code", "M1"), ("cell_code", "B"), ("effective_on", "2026-11-01")],
    )
    .await;
    assert_eq!(app.count("member_transfers").await, 2);
    assert_eq!(app.count("audit_log").await, audit, "nothing changed, nothing recorded");

    // an unknown cell: the message at its field, what was typed still there, nothing written
    let page = save(
        &mut clerk,
        "/members/M2",
        "A",
        "transfers.csv",
        &[("member_code", "M2"), ("cell_code", "ZZ-9"), ("effective_on", "2026-11-02")],
    )
    .await;
    let text = page.text();
    assert!(text.contains("Chưa lưu: có lỗi cần sửa"), "{text}");
    assert!(page.body.contains("id=\"f-transfers-cell_code-error\""), "the error sits at the field");
    assert!(text.contains("«Mã chi bộ»: không có «ZZ-9» trong gói hay trong cơ sở dữ liệu"), "{text}");
    assert!(page.body.contains("<option value=\"ZZ-9\" selected>ZZ-9</option>"), "what was typed is kept");
    assert!(page.body.contains("value=\"2026-11-02\""), "the date typed is kept");
    assert_eq!(app.count("member_transfers").await, 2);

    // outside the clerk's scope: refused, nothing written
    let token = clerk.csrf("/members/M2").await;
    let refused = clerk
        .post(
            "/units/A/records",
            &[
                ("csrf", token.as_str()),
                ("file", "transfers.csv"),
                ("member_code", "M2"),
                ("cell_code", "C"),
                ("effective_on", "2026-11-02"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("member_transfers").await, 2);

    // a new probationary member in cell A, made official, then leaving: one record, its history in order
    let page = save(
        &mut clerk,
        "/units/A/records",
        "A",
        "members.csv",
        &[
            ("code", "M10"),
            ("full_name", "Lò Thị Xuân"),
            ("gender", "female"),
            ("birth_date", "1990-01-01"),
            ("ethnicity", "Dao"),
            ("joined_on", "2026-10-01"),
            ("official_on", ""),
            ("cell_code", "A"),
            ("left_on", ""),
        ],
    )
    .await;
    assert!(page.text().contains("Đã lưu."), "{}", page.text());
    assert!(clerk.get("/members/M10").await.text().contains("Đảng viên dự bị"));
    let mut form = clerk.get("/members/M10").await.form_values();
    form.retain(|(k, _)| k != "csrf");
    let edit = |official: &'static str, left: &'static str| {
        vec![
            ("code", "M10"),
            ("full_name", "Lò Thị Xuân"),
            ("gender", "female"),
            ("birth_date", "1990-01-01"),
            ("ethnicity", "Dao"),
            ("joined_on", "2026-10-01"),
            ("official_on", official),
            ("cell_code", "A"),
            ("left_on", left),
        ]
    };
    let page = save(&mut clerk, "/members/M10", "A", "members.csv", &edit("2026-11-20", "")).await;
    assert!(page.text().contains("Đảng viên chính thức"), "{}", page.text());
    let page = save(&mut clerk, "/members/M10", "A", "members.csv", &edit("2026-11-20", "2026-11-25")).await;
    let text = page.text();
    assert!(text.contains("Đã ra khỏi danh sách ngày 25/11/2026"), "{text}");
    let history = &text[text.find("Lịch sử thay đổi").unwrap()..];
    let (left, official, added) = (
        history.find("25/11/2026").unwrap(),
        history.find("Sửa đảng viên").unwrap(),
        history.rfind("Tạo đảng viên").unwrap(),
    );
    assert!(left < added && official < added, "newest first: {history}");
    assert_eq!(history.matches("clerk").count(), 3, "three changes, each with who made it: {history}");

    // an exemption, a position, a training, a classification: each kept as its own dated row
    for (file, fields) in [
        ("exemptions.csv", vec![("member_code", "M2"), ("valid_from", "2026-11-01"), ("valid_to", "")]),
        (
            "positions.csv",
            vec![
                ("member_code", "M2"),
                ("cell_code", "A"),
                ("position", "deputy_secretary"),
                ("valid_from", "2026-01-01"),
                ("valid_to", ""),
            ],
        ),
        ("trainings.csv", vec![("member_code", "M2"), ("trained_on", "2026-03-15"), ("course", "Nghiệp vụ bí thư")]),
        ("classifications.csv", vec![("subject", "member"), ("code", "M2"), ("year", "2025"), ("level", "good")]),
    ] {
        let page = save(&mut clerk, "/members/M2", "A", file, &fields).await;
        assert!(page.text().contains("Đã lưu."), "{file}: {}", page.text());
    }
    let text = clerk.get("/members/M2").await.text();
    for shown in ["01/11/2026", "Phó bí thư 01/01/2026", "15/03/2026 Nghiệp vụ bí thư", "2025 Hoàn thành tốt nhiệm vụ"]
    {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    // an overlapping exemption is refused
    let page = save(
        &mut clerk,
        "/members/M2",
        "A",
        "exemptions.csv",
        &[("member_code", "M2"), ("valid_from", "2026-11-10"), ("valid_to", "")],
    )
    .await;
    assert!(page.text().contains("trùng thời gian"), "{}", page.text());
    assert_eq!(app.count("exemptions").await, 2);
}

#[sqlx::test]
async fn units_open_close_and_move_on_a_date_and_a_cycle_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    // a new cell under Xuân Lập
    let page = save(
        &mut admin,
        "/units/XL/records",
        "XL",
        "units.csv",
        &[
            ("code", "XL-05"),
            ("kind", "cell"),
            ("name", "Chi bộ thôn Nà Thưa"),
            ("parent_code", "XL"),
            ("valid_from", "2026-11-01"),
            ("valid_to", ""),
            ("cell_type", "village"),
        ],
    )
    .await;
    assert!(page.text().contains("Chi bộ thôn Nà Thưa"), "listed under XL today: {}", page.text());
    // cell B moves to Côn Lôn from 1 November: its page shows the move, the new parent lists it
    let page = save(
        &mut admin,
        "/units/B/records",
        "B",
        "moves.csv",
        &[("code", "B"), ("parent_code", "YY"), ("effective_on", "2026-11-01")],
    )
    .await;
    let text = page.text();
    assert!(text.contains("Đảng bộ xã Côn Lôn 01/11/2026") && text.contains("Trực thuộc Đảng bộ xã Côn Lôn"), "{text}");
    assert!(admin.get("/units/YY/records").await.text().contains("Chi bộ thôn Nà Mỏ"));
    // a report for October still counts B under Xuân Lập
    let october = chibo::domain::metrics::Period::parse("2026-10", "2026-10").unwrap();
    let xl = chibo::db::units::by_code(&app.pool, "XL").await.unwrap().unwrap();
    let report = chibo::db::metrics::report(&app.pool, xl, october, chibo::domain::time::today()).await.unwrap();
    assert!(report.children.iter().any(|c| c.unit.code == "B"), "B was under XL in October");
    // closing cell C at the end of November
    let mut fields: Vec<(String, String)> = admin.get("/units/C/records").await.form_values();
    fields.retain(|(k, _)| k != "csrf" && k != "file" && k != "back");
    let page = save(
        &mut admin,
        "/units/C/records",
        "C",
        "units.csv",
        &[
            ("code", "C"),
            ("kind", "cell"),
            ("name", "Chi bộ bản Nà Khà"),
            ("parent_code", "YY"),
            ("valid_from", "2000-01-01"),
            ("valid_to", "2026-11-30"),
            ("cell_type", "village"),
        ],
    )
    .await;
    assert!(page.text().contains("từ 01/01/2000 đến 30/11/2026"), "{}", page.text());
    // a cycle: district D1 under its own committee
    let moves = app.count("unit_moves").await;
    let page = save(
        &mut admin,
        "/units/D1/records",
        "D1",
        "moves.csv",
        &[("code", "D1"), ("parent_code", "XL"), ("effective_on", "2026-11-15")],
    )
    .await;
    assert!(page.text().contains("vòng lặp cấp trên"), "{}", page.text());
    assert_eq!(app.count("unit_moves").await, moves, "nothing written");
    // a committee clerk cannot move a unit out of the tree they look after
    let mut clerk = app.login("clerk").await;
    let token = clerk.csrf("/units/A/records").await;
    let refused = clerk
        .post(
            "/units/A/records",
            &[
                ("csrf", token.as_str()),
                ("file", "moves.csv"),
                ("code", "A"),
                ("parent_code", "YY"),
                ("effective_on", "2026-11-15"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // officials and their Regulation 18 assignments
    save(
        &mut admin,
        "/units/XL/records",
        "XL",
        "officials.csv",
        &[("code", "O2"), ("full_name", "Hoàng Văn Thắng"), ("group", "grassroots_committee"), ("unit_code", "XL")],
    )
    .await;
    let page = save(
        &mut admin,
        "/units/A/records",
        "A",
        "assignments.csv",
        &[("official_code", "O2"), ("cell_code", "A"), ("year", "2026"), ("required", "4")],
    )
    .await;
    assert!(page.text().contains("O2 2026 4"), "{}", page.text());
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        zip.start_file(format!("bundle/{name}"), zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A workbook as a clerk would make it: a sheet per file, dates as real dates shown dd/mm/yyyy.
fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let units = book.add_worksheet().set_name("units").unwrap();
    for (i, h) in ["code", "kind", "name", "parent_code", "valid_from", "valid_to", "cell_type"].iter().enumerate() {
        units.write_string(0, i as u16, *h).unwrap();
    }
    units.write_string(1, 0, "XL-07").unwrap();
    units.write_string(1, 1, "cell").unwrap();
    units.write_string(1, 2, "Chi bộ thôn Bản Khiếng").unwrap();
    units.write_string(1, 3, "XL").unwrap();
    units.write_date_with_format(1, 4, ExcelDateTime::from_ymd(2026, 1, 1).unwrap(), &date).unwrap();
    units.write_string(1, 6, "village").unwrap();
    let members = book.add_worksheet().set_name("members.csv").unwrap();
    let heads =
        ["code", "full_name", "gender", "birth_date", "ethnicity", "joined_on", "official_on", "cell_code", "left_on"];
    for (i, h) in heads.iter().enumerate() {
        members.write_string(0, i as u16, *h).unwrap();
    }
    members.write_string(1, 0, "M21").unwrap();
    members.write_string(1, 1, "Triệu Thị Mai").unwrap();
    members.write_string(1, 2, "female").unwrap();
    members.write_date_with_format(1, 3, ExcelDateTime::from_ymd(1988, 7, 9).unwrap(), &date).unwrap();
    members.write_string(1, 4, "Dao").unwrap();
    members.write_date_with_format(1, 5, ExcelDateTime::from_ymd(2015, 3, 2).unwrap(), &date).unwrap();
    members.write_date_with_format(1, 6, ExcelDateTime::from_ymd(2016, 3, 2).unwrap(), &date).unwrap();
    members.write_string(1, 7, "XL-07").unwrap();
    book.save_to_buffer().unwrap()
}

#[sqlx::test]
async fn an_uploaded_zip_or_workbook_imports_as_the_command_line_does(pool: PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(app.login("clerk").await.get("/import").await.status, StatusCode::FORBIDDEN);
    let mut admin = app.login("admin").await;
    let token = admin.csrf("/import").await;
    let units = "code,kind,name,parent_code,valid_from,valid_to,cell_type\nXL-06,cell,Chi bộ thôn Khuổi Củng,XL,2026-01-01,,village\n";
    let members = "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
                   M20,Ma Thị Lan,female,1985-02-03,Tày,2010-05-06,2011-05-06,XL-06,\n";

    // errors: listed by file and line, nothing written; a dry run of a good bundle writes nothing either
    let bad = members.replace("1985-02-03", "1985-13-03");
    let sent = admin
        .post_multipart(
            "/import",
            &[("csrf", &token)],
            &[("units.csv", units.as_bytes().to_vec()), ("members.csv", bad.into_bytes())],
        )
        .await;
    let page = admin.follow(sent).await;
    let text = page.text();
    assert!(text.contains("Gói có lỗi: không ghi gì cả"), "{text}");
    assert!(
        text.contains("members.csv:2: ngày sinh (birth_date): ngày không hợp lệ «1985-13-03» (cần YYYY-MM-DD)"),
        "{text}"
    );
    let sent = admin
        .post_multipart(
            "/import",
            &[("csrf", &token), ("dry_run", "1")],
            &[("bundle.zip", zip_of(&[("units.csv", units), ("members.csv", members)]))],
        )
        .await;
    assert!(admin.follow(sent).await.text().contains("Kiểm tra xong: không có lỗi (chưa ghi gì)"));
    assert_eq!(app.count("members").await, 9, "nothing written");

    // a zip of the files: written, with the steps and the rows changed shown
    let sent = admin
        .post_multipart(
            "/import",
            &[("csrf", &token)],
            &[("bundle.zip", zip_of(&[("units.csv", units), ("members.csv", members)]))],
        )
        .await;
    let page = admin.follow(sent).await;
    let text = page.text();
    assert!(text.contains("Đã nhập xong"), "{text}");
    assert!(page.body.contains("<ol class=\"steps\"><li>"), "the steps are listed: {text}");
    assert!(text.contains("members 1"), "{text}");
    let lan: (String, String) = sqlx::query_as(
        "select u.code, m.birth_date::text from members m join units u on u.id = m.cell_id where m.code = 'M20'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(lan, ("XL-06".to_string(), "1985-02-03".to_string()));

    // a workbook: a sheet per file, with or without ".csv" in its name, dates typed as dates
    let sent = admin.post_multipart("/import", &[("csrf", &token)], &[("so-lieu.xlsx", workbook())]).await;
    let text = admin.follow(sent).await.text();
    assert!(text.contains("Đã nhập xong"), "{text}");
    let mai: (String, String, String) = sqlx::query_as(
        "select u.code, m.birth_date::text, m.official_on::text from members m join units u on u.id = m.cell_id
         where m.code = 'M21'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(mai, ("XL-07".to_string(), "1988-07-09".to_string(), "2016-03-02".to_string()));

    // the same workbook again changes nothing; an upload with no file says so at the field
    let audit = app.count("audit_log").await;
    let sent = admin.post_multipart("/import", &[("csrf", &token)], &[("so-lieu.xlsx", workbook())]).await;
    assert!(admin.follow(sent).await.text().contains("Không có gì thay đổi: gói giống hệt dữ liệu đang có."));
    assert_eq!(app.count("audit_log").await, audit);
    let page = admin.post_multipart("/import", &[("csrf", &token)], &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("Chưa chọn tệp nào"), "{}", page.text());
    // a forged upload is refused
    let page =
        admin.post_multipart("/import", &[("csrf", "forged")], &[("units.csv", units.as_bytes().to_vec())]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
