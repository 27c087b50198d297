//! Input refused at its field: redirect targets that stay on this site, units that nest by level, text without
//! control characters and within its length, and forms that send each field once. Each refusal shows the page a
//! user gets (status, the message at the field, what was typed kept) and writes nothing.
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chibo::domain::metrics::Lang;
use chibo::import;
use chibo::web::problems::text_in;
use sqlx::PgPool;

use crate::common::{Client, Page, TestApp, send_to, set};
use crate::meetings::filled_form;

/// The message shown in the field block of the control with this id, if any.
fn message_at(body: &str, id: &str) -> Option<String> {
    let at = body.find(&format!(" id=\"{id}\""))?;
    let start = body[..at].rfind("<div class=\"field")?;
    let block = &body[start..at];
    if !block.starts_with("<div class=\"field has-error\"") {
        return None;
    }
    let p = &block[block.find("class=\"field-error\"")?..];
    Some(crate::common::unescape(&p[p.find('>')? + 1..p.find("</p>")?]))
}

/// Counts of every table a record form may write to, and the audit trail.
async fn records_written(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for t in ["units", "unit_moves", "members", "officials", "audit_log", "import_jobs"] {
        counts.push(app.count(t).await);
    }
    counts
}

/// Posts the meeting form and checks the refusal: 422, the message at `field`, the typed topic kept, nothing
/// written. Returns the page for further checks.
async fn refused_meeting(app: &TestApp, client: &mut Client<'_>, form: &[(String, String)], field: &str) -> Page {
    let before = app.written().await;
    let page = client.post("/cells/A/meetings", form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", page.text());
    assert!(page.body.contains(&format!("href=\"#{field}\"")), "{field}: the summary links to the field");
    assert!(message_at(&page.body, field).is_some(), "{field}: no message at the field: {}", page.body);
    let topic = form.iter().find(|(k, _)| k == "topic").map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(page.input("topic").map(|t| crate::common::unescape(&t)), Some(topic), "the typed topic is kept");
    assert_eq!(app.written().await, before, "{field}: nothing is written");
    page
}

// ---- 9. redirect targets

#[sqlx::test]
async fn redirects_taken_from_the_request_go_only_to_a_path_of_this_site(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let mut form = filled_form(&mut sec, "A").await;
    let an = app.member_id("Nguyễn Văn An").await;
    let targets = [
        "/\\evil.example",
        "/\t/evil.example",
        "//evil.example",
        "https://evil.example/",
        "/ /evil.example",
        "",
        "/cells/A\u{1}",
        "/cells/A\r\nSet-Cookie: x=1",
    ];
    for n in 0..targets.len() {
        set(&mut form, &format!("task.{n}.description"), &format!("Nhiệm vụ {n}"));
        set(&mut form, &format!("task.{n}.assignee"), &an.to_string());
    }
    let saved = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let meeting = saved.location.unwrap().trim_end_matches("?saved=1").to_string();
    let tasks: Vec<i64> = sqlx::query_scalar("select id from tasks order by id").fetch_all(&app.pool).await.unwrap();
    let csrf = sec.get("/cells/A").await.input("csrf").unwrap();
    for (task, next) in tasks.iter().zip(targets) {
        let done = sec.post(&format!("/tasks/{task}/done"), &[("csrf", csrf.as_str()), ("next", next)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{next:?}");
        let back = format!("{meeting}?done_task={task}#tasks");
        assert_eq!(done.location.as_deref(), Some(back.as_str()), "{next:?}: the meeting's page instead");
    }
    let open: i64 =
        sqlx::query_scalar("select count(*) from tasks where status = 'open'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(open, 0, "each task was marked done all the same");
    // a path of this site is followed, its query kept
    sqlx::query("update tasks set status = 'open', done_on = null").execute(&app.pool).await.unwrap();
    let done =
        sec.post(&format!("/tasks/{}/done", tasks[0]), &[("csrf", csrf.as_str()), ("next", "/cells/A?x=1")]).await;
    assert_eq!(done.location, Some(format!("/cells/A?x=1&done_task={}#tasks", tasks[0])));

    // the language switch goes back to the referring page only when it is a path of this site
    for (referer, back) in [
        ("http://localhost/\\evil.example", "/"),
        ("http://localhost//evil.example", "/"),
        ("http://localhost/\t/evil.example", "/"),
        ("http://localhost/cells/A/meetings?x=1", "/cells/A/meetings?x=1"),
        ("not an address", "/"),
    ] {
        let req = Request::get("/lang/en").header(header::REFERER, referer).body(Body::empty()).unwrap();
        let res = send_to(chibo::app(app.state.clone()), req).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{referer:?}");
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), back, "{referer:?}");
    }

    // a record form comes back to its own page
    let mut clerk = app.login("clerk").await;
    let csrf = clerk.get("/units/A/records").await.input("csrf").unwrap();
    for back in ["/\\evil.example", "//evil.example", "/\t/evil.example", "/units/A/records\u{7}"] {
        let sent = clerk
            .post(
                "/units/A/records",
                &[
                    ("csrf", csrf.as_str()),
                    ("file", "moves.csv"),
                    ("back", back),
                    ("code", "A"),
                    ("parent_code", "ZZ"),
                    ("effective_on", "2026-11-01"),
                ],
            )
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{back:?}: {}", sent.text());
        let location = sent.location.unwrap();
        assert!(location.starts_with("/units/A/records?job="), "{back:?}: {location}");
    }
}

// ---- 10. units nest by level

#[sqlx::test]
async fn a_unit_above_its_parents_level_is_refused_at_the_level_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let csrf = clerk.get("/units/XL/records").await.input("csrf").unwrap();
    let before = records_written(&app).await;
    let units = app.count("units").await;
    for kind in ["province", "district", "committee"] {
        let sent = clerk
            .post(
                "/units/XL/records",
                &[
                    ("csrf", csrf.as_str()),
                    ("file", "units.csv"),
                    ("back", "/units/XL/records"),
                    ("code", "XL-T"),
                    ("kind", kind),
                    ("name", "Đảng bộ tỉnh Lâm Bình mới"),
                    ("parent_code", "XL"),
                    ("valid_from", "2026-11-01"),
                    ("valid_to", ""),
                    ("cell_type", ""),
                ],
            )
            .await;
        let page = clerk.follow(sent).await;
        assert_eq!(page.status, StatusCode::OK);
        let message = message_at(&page.body, "f-units-kind").unwrap_or_else(|| panic!("{kind}: {}", page.text()));
        assert!(
            message.contains(&format!("«Cấp»: cấp «{kind}» không thể trực thuộc «XL» (cấp «committee»)")),
            "{kind}: {message}"
        );
        assert!(page.text().contains("Chưa lưu: có lỗi cần sửa"), "{}", page.text());
        assert!(page.body.contains("value=\"Đảng bộ tỉnh Lâm Bình mới\""), "the typed name is kept");
        assert_eq!(app.count("units").await, units, "{kind}: nothing written");
    }
    let mid = records_written(&app).await;
    assert_eq!(mid[..5], before[..5], "nothing written but the jobs");

    // a move under a unit of the same level or deeper is refused at the parent's field
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/units/XL/records").await.input("csrf").unwrap();
    for (unit, parent) in [("XL", "YY"), ("D1", "D2"), ("D2", "XL")] {
        let sent = admin
            .post(
                &format!("/units/{unit}/records"),
                &[
                    ("csrf", csrf.as_str()),
                    ("file", "moves.csv"),
                    ("back", &format!("/units/{unit}/records")),
                    ("code", unit),
                    ("parent_code", parent),
                    ("effective_on", "2026-11-01"),
                ],
            )
            .await;
        let page = admin.follow(sent).await;
        let message =
            message_at(&page.body, "f-moves-parent_code").unwrap_or_else(|| panic!("{unit}: {}", page.text()));
        assert!(message.contains(&format!("không thể trực thuộc «{parent}»")), "{unit} → {parent}: {message}");
        assert!(page.body.contains(&format!("value=\"{parent}\"")), "the typed parent is kept");
    }
    assert_eq!(app.count("unit_moves").await, before[1], "no move written");
    // the same form with a parent of a higher level is saved
    let sent = admin
        .post(
            "/units/XL/records",
            &[
                ("csrf", csrf.as_str()),
                ("file", "moves.csv"),
                ("back", "/units/XL/records"),
                ("code", "XL"),
                ("parent_code", "D2"),
                ("effective_on", "2026-11-01"),
            ],
        )
        .await;
    assert!(admin.follow(sent).await.text().contains("Đã lưu."));
    assert_eq!(app.count("unit_moves").await, before[1] + 1);
}

// ---- 11. control characters

#[sqlx::test]
async fn a_nul_byte_in_a_meeting_text_is_refused_at_its_field_with_the_text_kept(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let an = app.member_id("Nguyễn Văn An").await.to_string();
    for (field, key) in [
        ("topic", "topic"),
        ("content", "content"),
        ("location", "location"),
        ("resolution", "resolution"),
        ("task-0-description", "task.0.description"),
    ] {
        let mut form = filled_form(&mut sec, "A").await;
        set(&mut form, "task.0.assignee", &an);
        set(&mut form, "task.0.description", "Vận động các hộ");
        let typed = "Họp chi bộ\0 tháng 10";
        set(&mut form, key, typed);
        let page = refused_meeting(&app, &mut sec, &form, field).await;
        let message = message_at(&page.body, field).unwrap();
        assert!(message.contains("có ký tự điều khiển không lưu được (U+0000)"), "{field}: {message}");
        let kept = page.form_values().into_iter().find(|(k, _)| k == key).map(|(_, v)| v);
        assert_eq!(kept.as_deref(), Some(typed), "{field}: what was typed is kept");
    }
    // an escape character too, and the message in the user's language
    sec.get("/lang/en").await;
    let mut form = filled_form(&mut sec, "A").await;
    set(&mut form, "topic", "Họp \u{1b}[2J chi bộ");
    let page = refused_meeting(&app, &mut sec, &form, "topic").await;
    assert_eq!(
        message_at(&page.body, "topic").as_deref(),
        Some("Topic: holds a control character that cannot be saved (U+001B); please remove it.")
    );
}

#[sqlx::test]
async fn a_nul_byte_or_an_overlong_value_in_a_record_form_is_refused_at_its_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut clerk = app.login("clerk").await;
    let csrf = clerk.get("/units/A/records").await.input("csrf").unwrap();
    let before = app.count("members").await;
    let audit = app.count("audit_log").await;
    let long: String = (0..3000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    for (name, ethnicity, field, message) in [
        ("Lò Thị\0 Xuân", "Dao", "f-members-full_name", "«Họ và tên»: có ký tự điều khiển không lưu được (U+0000)"),
        ("Lò Thị Xuân", "Dao\u{1b}", "f-members-ethnicity", "«Dân tộc»: có ký tự điều khiển không lưu được (U+001B)"),
        (long.as_str(), "Dao", "f-members-full_name", "«Họ và tên»: quá dài, tối đa 200 ký tự (hiện có 3000)"),
    ] {
        let sent = clerk
            .post(
                "/units/A/records",
                &[
                    ("csrf", csrf.as_str()),
                    ("file", "members.csv"),
                    ("back", "/units/A/records"),
                    ("code", "M10"),
                    ("full_name", name),
                    ("gender", "female"),
                    ("birth_date", "1990-01-01"),
                    ("ethnicity", ethnicity),
                    ("joined_on", "2026-10-01"),
                    ("official_on", ""),
                    ("cell_code", "A"),
                    ("left_on", ""),
                ],
            )
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{field}: {}", sent.text());
        let page = clerk.follow(sent).await;
        assert_eq!(page.status, StatusCode::OK);
        let shown = message_at(&page.body, field).unwrap_or_else(|| panic!("{field}: {}", page.text()));
        assert!(shown.contains(message), "{field}: {shown}");
        // what was typed is kept (a NUL, which no page can show, as U+FFFD)
        let kept = page.form_values().into_iter().find(|(k, _)| k == "full_name").map(|(_, v)| v).unwrap();
        assert_eq!(kept, name.replace('\0', "\u{fffd}"), "{field}");
        assert_eq!(app.count("members").await, before, "{field}: nothing written");
        assert_eq!(app.count("audit_log").await, audit, "{field}: nothing recorded");
    }
    // the text fields say their limit
    let page = clerk.get("/units/A/records").await;
    assert!(page.body.contains("name=\"full_name\" type=\"text\" value=\"\" maxlength=\"200\""), "{}", page.body);
}

#[sqlx::test]
async fn a_control_character_or_an_overlong_value_in_a_bundle_is_listed_and_writes_nothing(pool: PgPool) {
    crate::common::seed(&pool).await;
    let header = "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on";
    let long_name = format!("{}Lan", "Nguyễn Thị ".repeat(30));
    let members = format!(
        "{header}\n\
         M10,Hà Thị\0 Lan,female,1980-01-01,Tày,2015-01-01,,A,\n\
         M11,Hà Thị Lan,female,1980-01-01,Tày\u{7},2015-01-01,,A,\n\
         M12,{long_name},female,1980-01-01,Tày,2015-01-01,,A,\n\
         M1\0,Hà Thị Mai,female,1980-01-01,Tày,2015-01-01,,A,\n\
         {},Hà Thị Mai,female,1980-01-01,Tày,2015-01-01,,A,\n\
         M14,\"Hà Thị\tMai\",female,1980-01-01,Tày,2015-01-01,,A,\n",
        "M".repeat(51)
    );
    let before = app_rows(&pool).await;
    let out = import::import_quiet(&pool, vec![("members.csv".into(), members.into_bytes())], false).await.unwrap();
    let listed: Vec<String> = out.problems.iter().map(|p| text_in(p, Lang::En)).collect();
    assert_eq!(
        listed,
        [
            "members.csv:2: full_name: holds a control character that cannot be stored (U+0000)",
            "members.csv:3: ethnicity: holds a control character that cannot be stored (U+0007)",
            "members.csv:4: full_name: too long, at most 200 characters (333 given)",
            "members.csv:5: code: holds a control character that cannot be stored (U+0000)",
            "members.csv:6: code: too long, at most 50 characters (51 given)",
        ]
    );
    assert!(!out.written);
    assert_eq!(app_rows(&pool).await, before, "nothing written");
    let vi = text_in(&out.problems[0], Lang::Vi);
    assert_eq!(vi, "members.csv:2: họ và tên (full_name): có ký tự điều khiển không lưu được (U+0000)");
}

async fn app_rows(pool: &PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for t in ["units", "members", "audit_log"] {
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {t}"))).fetch_one(pool).await.unwrap(),
        );
    }
    counts
}

#[sqlx::test]
async fn any_other_form_carrying_a_nul_byte_gets_a_page_in_the_users_language(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut anon = app.anonymous();
    let page = anon.post_raw("/login", "username=sec%00_a&password=x").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    assert!(page.text().contains("Biểu mẫu có ký tự NUL, không lưu được."), "{}", page.text());
    anon.get("/lang/en").await;
    let page = anon.post_raw("/login", "username=sec_a&password=x\0y").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    assert!(page.text().contains("The form holds a NUL character, which cannot be saved."), "{}", page.text());

    // a signed-in form: the API key's name
    let mut sec = app.login("sec_a").await;
    let csrf = sec.get("/account/tokens").await.input("csrf").unwrap();
    let tokens = app.count("api_tokens").await;
    let page = sec.post("/account/tokens", &[("csrf", csrf.as_str()), ("name", "điện thoại\0")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    assert_eq!(app.count("api_tokens").await, tokens);
}

// ---- 12. length limits

#[sqlx::test]
async fn each_meeting_text_has_a_limit_shown_on_the_form_and_checked_on_the_server(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let page = sec.get("/cells/A/meetings/new").await;
    for (id, max) in
        [("topic", 500), ("location", 200), ("content", 20_000), ("resolution", 20_000), ("task-0-description", 1_000)]
    {
        let at = page.body.find(&format!("id=\"{id}\"")).unwrap();
        let tag = &page.body[at..at + page.body[at..].find('>').unwrap()];
        assert!(tag.contains(&format!("maxlength=\"{max}\"")), "{id}: {tag}");
    }
    assert_eq!(page.text().matches("Tối đa 20.000 ký tự.").count(), 2, "content and resolution say their limit");

    let an = app.member_id("Nguyễn Văn An").await.to_string();
    for (field, key, max) in [
        ("topic", "topic", 500),
        ("location", "location", 200),
        ("content", "content", 20_000),
        ("resolution", "resolution", 20_000),
        ("task-0-description", "task.0.description", 1_000),
    ] {
        let mut form = filled_form(&mut sec, "A").await;
        set(&mut form, "task.0.assignee", &an);
        set(&mut form, "task.0.description", "Vận động các hộ");
        let mut typed: String = "Chi bộ họp bàn việc làm đường. ".chars().cycle().take(max).collect();
        typed.push('x');
        set(&mut form, key, &typed);
        let page = refused_meeting(&app, &mut sec, &form, field).await;
        let message = message_at(&page.body, field).unwrap();
        let max = chibo::i18n::in_lang(Lang::Vi, async { chibo::i18n::count(max as i64) }).await;
        let length = chibo::i18n::in_lang(Lang::Vi, async { chibo::i18n::count(typed.chars().count() as i64) }).await;
        assert!(
            message.ends_with(&format!("tối đa {max} ký tự (hiện có {length}); hãy rút gọn.")),
            "{field}: {message}"
        );
        let kept = page.form_values().into_iter().find(|(k, _)| k == key).map(|(_, v)| v);
        assert_eq!(kept.as_deref(), Some(typed.as_str()), "{field}: what was typed is kept");
    }
    // at the limit, with line breaks sent as CR LF and counted once as the browser counts them, it is saved
    let mut form = filled_form(&mut sec, "A").await;
    let topic: String = "x".repeat(500);
    let content: String = "Một dòng.\r\n".repeat(2_000);
    assert_eq!(content.chars().count(), 22_000);
    set(&mut form, "topic", &topic);
    set(&mut form, "content", &content);
    let saved = sec.post("/cells/A/meetings", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let stored: String = sqlx::query_scalar("select topic from meetings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, topic);
}

#[sqlx::test]
async fn a_record_name_over_its_limit_is_refused_at_its_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = app.login("admin").await;
    let csrf = admin.get("/units/XL/records").await.input("csrf").unwrap();
    let before = records_written(&app).await;
    let name: String = "Chi bộ thôn Nà Thưa ".chars().cycle().take(201).collect();
    let sent = admin
        .post(
            "/units/XL/records",
            &[
                ("csrf", csrf.as_str()),
                ("file", "units.csv"),
                ("back", "/units/XL/records"),
                ("code", "XL-05"),
                ("kind", "cell"),
                ("name", name.as_str()),
                ("parent_code", "XL"),
                ("valid_from", "2026-11-01"),
                ("valid_to", ""),
                ("cell_type", "village"),
            ],
        )
        .await;
    let page = admin.follow(sent).await;
    let message = message_at(&page.body, "f-units-name").unwrap_or_else(|| panic!("{}", page.text()));
    assert_eq!(message, "«Tên»: quá dài, tối đa 200 ký tự (hiện có 201)");
    assert!(page.body.contains(&format!("value=\"{name}\"")), "the typed name is kept");
    let after = records_written(&app).await;
    assert_eq!(after[..5], before[..5], "nothing written but the job");
}

// ---- 13. a field sent twice

#[sqlx::test]
async fn a_meeting_form_sending_a_field_twice_is_refused_whole(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let binh = app.member_id("Hoàng Thị Bình").await;
    for (key, first, second) in [
        (format!("att.{binh}"), "present", "unexcused"),
        ("score.conduct".to_string(), "40", "45"),
        ("topic".to_string(), "Họp chi bộ", "Chủ đề khác"),
        ("task.0.description".to_string(), "Một việc", "Việc khác"),
    ] {
        let mut form = filled_form(&mut sec, "A").await;
        set(&mut form, &key, first);
        form.push((key.clone(), second.to_string()));
        let before = app.written().await;
        let page = sec.post("/cells/A/meetings", &form).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{key}: {}", page.text());
        assert!(
            page.text().contains(&format!("Biểu mẫu gửi «{key}» nhiều hơn một lần nên không đọc được.")),
            "{key}: {}",
            page.text()
        );
        assert_eq!(app.written().await, before, "{key}: nothing written");
    }
    // the same on an edit, in English
    let form = filled_form(&mut sec, "A").await;
    let saved = sec.post("/cells/A/meetings", &form).await;
    let meeting = saved.location.unwrap().trim_end_matches("?saved=1").to_string();
    sec.get("/lang/en").await;
    let mut form = sec.get(&format!("{meeting}/edit")).await.form_values();
    form.push((format!("att.{binh}"), "excused".into()));
    let before = app.written().await;
    let page = sec.post(&meeting, &form).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    assert!(page.text().contains(&format!("The form sent «att.{binh}» more than once")), "{}", page.text());
    assert_eq!(app.written().await, before);

    // a record form too: the parent given twice is not guessed at
    let mut clerk = app.login("clerk").await;
    let csrf = clerk.get("/units/XL/records").await.input("csrf").unwrap();
    let before = records_written(&app).await;
    let page = clerk
        .post(
            "/units/XL/records",
            &[
                ("csrf", csrf.as_str()),
                ("file", "units.csv"),
                ("code", "XL-05"),
                ("kind", "cell"),
                ("name", "Chi bộ thôn Nà Thưa"),
                ("parent_code", "XL"),
                ("parent_code", "YY"),
                ("valid_from", "2026-11-01"),
                ("valid_to", ""),
                ("cell_type", "village"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    assert!(page.text().contains("Biểu mẫu gửi «parent_code» nhiều hơn một lần"), "{}", page.text());
    assert_eq!(records_written(&app).await, before, "nothing written, no job started");
}
