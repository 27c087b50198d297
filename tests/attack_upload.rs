//! Security findings 1 and 2, against the real server as the security test ran them: uploads to `/import` built
//! to take the server down (a 1.8 KB sparse workbook, zip bombs, a bomb under a forged token). Each is refused
//! with a message, writes nothing, leaves the server up and its peak memory (VmHWM) under 300 MB; an ordinary
//! zip of a bundle still imports.
use sqlx::PgPool;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CHIBO: &str = env!("CARGO_BIN_EXE_chibo");
const MB: usize = 1024 * 1024;
/// The server's peak resident memory may not pass this, whatever is uploaded.
const PEAK_KB: u64 = 300 * 1024;

/// The URL of the test's own database: DATABASE_URL's server with the database sqlx::test made.
fn url_of(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool.connect_options().get_database().expect("a database name").to_string();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{db}")
}

fn chibo(url: &str, args: &[&str]) {
    let out = Command::new(CHIBO).args(args).env("DATABASE_URL", url).output().expect("chibo runs");
    assert!(out.status.success(), "chibo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An answer as it came over the wire.
struct Answer {
    status: u16,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> Vec<&str> {
        let head = self.text.split("\r\n\r\n").next().unwrap_or_default();
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// `chibo serve` on a free port, with an administrator of the whole tree signed in; killed when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
    cookie: String,
    csrf: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(pool: &PgPool) -> Server {
        let url = url_of(pool);
        chibo(&url, &["migrate"]);
        sqlx::query(
            "insert into units (code, kind, name, valid_from) values ('TQ', 'province', 'Đảng bộ tỉnh Tuyên Quang', '2020-01-01')",
        )
        .execute(pool)
        .await
        .unwrap();
        chibo(
            &url,
            &[
                "user",
                "add",
                "quantri",
                "--name",
                "Quản trị",
                "--role",
                "admin",
                "--unit",
                "TQ",
                "--password",
                "mat-khau-dai-1",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHIBO)
            .args(["serve", "--port", &port.to_string()])
            .env("DATABASE_URL", &url)
            .env("CHIBO_INSECURE_COOKIES", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server { child, port, cookie: String::new(), csrf: String::new() };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !server.healthy() {
            assert!(Instant::now() < deadline, "chibo serve did not answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let login = server.send(
            "POST",
            "/login",
            "application/x-www-form-urlencoded",
            b"username=quantri&password=mat-khau-dai-1",
        );
        assert_eq!(login.status, 303, "{}", login.text);
        server.cookie =
            login.header("set-cookie").iter().filter_map(|c| c.split(';').next()).collect::<Vec<_>>().join("; ");
        let page = server.send("GET", "/import", "", b"");
        assert_eq!(page.status, 200, "{}", page.text);
        let (_, rest) = page.text.split_once("name=\"csrf\" value=\"").expect("the form's token");
        server.csrf = rest.split('"').next().unwrap().to_string();
        server
    }

    /// One request on its own connection. The body is written from another thread while the answer is read, as
    /// a browser does: the server may answer (and close) before it has read the whole body.
    fn send(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Answer {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("the server accepts");
        s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if !self.cookie.is_empty() {
            head.push_str(&format!("Cookie: {}\r\n", self.cookie));
        }
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        s.write_all(head.as_bytes()).unwrap();
        let mut writer = s.try_clone().unwrap();
        let body = body.to_vec();
        let writing = std::thread::spawn(move || {
            let _ = writer.write_all(&body);
        });
        let mut got = Vec::new();
        let mut buf = [0; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                // a connection closed early, after the answer: what came is the answer
                Err(_) if !got.is_empty() => break,
                Err(e) => panic!("no answer to {method} {path}: {e}"),
            }
        }
        let _ = s.shutdown(std::net::Shutdown::Both);
        let _ = writing.join();
        let text = String::from_utf8_lossy(&got).into_owned();
        let status =
            text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {text:.300}"));
        Answer { status, text }
    }

    fn healthy(&self) -> bool {
        (|| -> std::io::Result<bool> {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out.starts_with("HTTP/1.1 200"))
        })()
        .unwrap_or(false)
    }

    /// The server process's peak resident memory so far, in kB.
    fn peak_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("the server runs");
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The upload form as a browser sends it: the token first, then the files.
    fn upload(&self, csrf: &str, files: &[(&str, &[u8])]) -> Answer {
        let boundary = "----chibo-attack-7d1f";
        let mut body =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").into_bytes();
        for (name, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").bytes());
        self.send("POST", "/import", &format!("multipart/form-data; boundary={boundary}"), &body)
    }

    /// Sends an upload the server must refuse with `message`, and checks it stayed up, within its memory, and
    /// wrote nothing.
    async fn refuses(&self, pool: &PgPool, files: &[(&str, &[u8])], status: u16, message: &str) {
        let answer = self.upload(&self.csrf.clone(), files);
        assert_eq!(answer.status, status, "{:.2000}", answer.text);
        assert!(answer.text.contains(message), "{message:?} not in {:.3000}", answer.text);
        assert!(self.healthy(), "the server is down after the upload");
        let peak = self.peak_kb();
        assert!(peak < PEAK_KB, "the server's peak memory reached {} MB", peak / 1024);
        eprintln!("{message}: refused, server peak {} MB", peak / 1024);
        let jobs: i64 = sqlx::query_scalar("select count(*) from import_jobs").fetch_one(pool).await.unwrap();
        let units: i64 = sqlx::query_scalar("select count(*) from units").fetch_one(pool).await.unwrap();
        assert_eq!((jobs, units), (0, 1), "nothing written");
    }
}

/// A zip of `entries` entries named after bundle files, each 1,000 MB of zeros (built once, streamed in 1 MB
/// chunks; the later entries are raw copies of the first).
fn bomb(entries: usize) -> Vec<u8> {
    static ONE: OnceLock<Vec<u8>> = OnceLock::new();
    let one = ONE.get_or_init(|| {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("bundle/attendance.csv", options).unwrap();
        let chunk = vec![0u8; MB];
        for _ in 0..1000 {
            zip.write_all(&chunk).unwrap();
        }
        zip.finish().unwrap().into_inner()
    });
    if entries == 1 {
        return one.clone();
    }
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(one.as_slice())).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in ["bundle/attendance.csv", "bundle/members.csv", "bundle/meetings.csv"].iter().take(entries) {
        zip.raw_copy_file_rename(source.by_index(0).unwrap(), *name).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Finding 1: an XLSX whose one sheet holds only A1 and XFD1048576 made the server allocate the whole grid
/// (549 GB) and abort.
#[sqlx::test(migrations = false)]
async fn a_sparse_workbook_is_refused_and_the_server_stays_up(pool: PgPool) {
    let server = Server::start(&pool).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("units").unwrap();
    sheet.write_string(0, 0, "code").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    assert!(xlsx.len() < 10_000, "a small file: {} bytes", xlsx.len());
    eprintln!("sparse workbook: {} bytes", xlsx.len());
    server
        .refuses(
            &pool,
            &[("sparse.xlsx", &xlsx)],
            422,
            "sparse.xlsx: trang units có giá trị ngoài cột BL; tệp của gói có ít cột hơn nhiều",
        )
        .await;
}

/// A workbook written by hand, one sheet "units" showing shared string 0, with this shared-strings part.
fn workbook_with_strings(strings: &str) -> Vec<u8> {
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="units" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#,
        ),
        ("xl/sharedStrings.xml", strings),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Found while fixing finding 1: calamine makes room for as many shared strings as the workbook says it holds,
/// before reading one; a workbook of 1.5 KB saying 100 billion made the server abort just the same.
#[sqlx::test(migrations = false)]
async fn a_workbook_lying_about_its_strings_is_refused(pool: PgPool) {
    let server = Server::start(&pool).await;
    let xlsx = workbook_with_strings(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="100000000000"><si><t>code</t></si></sst>"#,
    );
    assert!(xlsx.len() < 2_000, "a small file: {} bytes", xlsx.len());
    server.refuses(&pool, &[("strings.xlsx", &xlsx)], 422, "strings.xlsx: không đọc được tệp XLSX").await;
}

/// Finding 2: a 1 MB zip holding one 1,000 MB entry raised the server's memory by about 900 MB.
#[sqlx::test(migrations = false)]
async fn a_zip_bomb_is_refused_after_a_megabyte(pool: PgPool) {
    let server = Server::start(&pool).await;
    let zip = bomb(1);
    assert!(zip.len() < 11 * MB / 10, "about 1 MB: {} bytes", zip.len());
    eprintln!("bomb: {} bytes", zip.len());
    server
        .refuses(
            &pool,
            &[("bomb.zip", &zip)],
            422,
            "bomb.zip: attendance.csv bị nén hơn 100 lần, chỉ tệp zip độc hại mới như vậy; không nhận",
        )
        .await;
}

/// Finding 2: three such entries took the server to 4 GB.
#[sqlx::test(migrations = false)]
async fn a_zip_of_three_bombs_is_refused(pool: PgPool) {
    let server = Server::start(&pool).await;
    let zip = bomb(3);
    assert!(zip.len() < 4 * MB, "about 3 MB: {} bytes", zip.len());
    server.refuses(&pool, &[("bombs.zip", &zip)], 422, "bombs.zip: attendance.csv bị nén hơn 100 lần").await;
    // and the same bomb as the second file of an upload, after a good one
    let units =
        b"code,kind,name,parent_code,valid_from,valid_to,cell_type\nTQ-01,cell,Chi bo 1,TQ,2026-01-01,,village\n";
    server
        .refuses(
            &pool,
            &[("units.csv", units), ("bombs.zip", &zip)],
            422,
            "bombs.zip: attendance.csv bị nén hơn 100 lần",
        )
        .await;
}

/// Finding 2: the token was checked only after every field was read, so a bomb under a forged token was expanded
/// before the 403. Now nothing of the upload is read before the token.
#[sqlx::test(migrations = false)]
async fn a_bomb_under_a_forged_token_is_refused_before_it_is_read(pool: PgPool) {
    let server = Server::start(&pool).await;
    let zip = bomb(3);
    let before = server.peak_kb();
    let answer = server.upload("forged", &[("bombs.zip", &zip)]);
    assert_eq!(answer.status, 403, "{:.2000}", answer.text);
    assert!(answer.text.contains("Biểu mẫu đã hết hạn"), "the CSRF page: {:.3000}", answer.text);
    assert!(server.healthy());
    let after = server.peak_kb();
    eprintln!("forged token: server peak {} MB before, {} MB after", before / 1024, after / 1024);
    assert!(after - before < 8 * 1024, "the peak memory moved by {} MB", (after - before) / 1024);
    // a token that is not the first field is refused just the same
    let boundary = "b0undary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\n1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}--\r\n",
        server.csrf
    );
    let answer = server.send("POST", "/import", &format!("multipart/form-data; boundary={boundary}"), body.as_bytes());
    assert_eq!(answer.status, 403, "{:.2000}", answer.text);
    let jobs: i64 = sqlx::query_scalar("select count(*) from import_jobs").fetch_one(&pool).await.unwrap();
    assert_eq!(jobs, 0);
}

/// The caps still take an ordinary bundle: a small zip imports.
#[sqlx::test(migrations = false)]
async fn an_ordinary_zip_still_imports(pool: PgPool) {
    let server = Server::start(&pool).await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bundle/units.csv", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(
        "code,kind,name,parent_code,valid_from,valid_to,cell_type\nTQ-01,cell,Chi bộ thôn Nà Khà,TQ,2026-01-01,,village\n"
            .as_bytes(),
    )
    .unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let answer = server.upload(&server.csrf.clone(), &[("bundle.zip", &zip)]);
    assert_eq!(answer.status, 303, "{:.2000}", answer.text);
    let location = answer.header("location")[0].to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = server.send("GET", &location, "", b"");
        if page.text.contains("Đã nhập xong") {
            break;
        }
        assert!(!page.text.contains("Gói có lỗi"), "{:.3000}", page.text);
        assert!(Instant::now() < deadline, "the import never finished: {:.3000}", page.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cell: String =
        sqlx::query_scalar("select name from units where code = 'TQ-01'").fetch_one(&pool).await.unwrap();
    assert_eq!(cell, "Chi bộ thôn Nà Khà");
    assert!(server.peak_kb() < PEAK_KB);
}
