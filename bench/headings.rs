//! What spreadsheets as they are (issue 17 item 4) cost a large upload, without a database: a members file of
//! ROWS rows (default 1,000,000, about 90 MB), read
//!   - by `import::headings::plan` under the bundle's names (what every upload now pays before it imports),
//!   - by `plan` under Vietnamese headings (what an upload asked about pays: its header and a few samples),
//!   - by `spec::read_file` (the import's own reading, the peer: checks every value into COPY text),
//!   - by `spec::read_file_as` under a mapping (Vietnamese headings, "Nam"/"Nữ", dates as day/month/year).
//!
//! Prints each time, the best of 3, and its ratio to the peer: `cargo run --release --example headings -- [ROWS]`.
use chibo::import::headings::{Choice, Saved, plan};
use chibo::import::spec::{read_file, read_file_as, spec};
use std::time::{Duration, Instant};

fn best(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    let rows: usize = std::env::args().nth(1).map_or(1_000_000, |n| n.parse().expect("a number of rows"));
    let bundle_head = "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n";
    let vi_head = "STT,Mã đảng viên,Họ và tên,Giới tính,Ngày sinh,Dân tộc,Ngày vào Đảng,Ngày chính thức,Chi bộ,\
                   Ngày ra khỏi danh sách\n";
    let (mut bundle, mut sheet) = (String::from(bundle_head), String::from(vi_head));
    for i in 0..rows {
        let (g, gv) = if i % 2 == 0 { ("male", "Nam") } else { ("female", "Nữ") };
        let (d, m) = (i % 28 + 1, i % 12 + 1);
        bundle += &format!("M{i},Nguyễn Thị Hoa {i},{g},1980-{m:02}-{d:02},Tày,2010-{m:02}-{d:02},,A,\n");
        sheet += &format!("{i},M{i},Nguyễn Thị Hoa {i},{gv},{d:02}/{m:02}/1980,Tày,{d:02}/{m:02}/2010,,A,\n");
    }
    let members = spec("members.csv").unwrap();
    let files = vec![("members.csv".to_string(), bundle.clone().into_bytes())];
    let theirs = vec![("dang_vien.csv".to_string(), sheet.clone().into_bytes())];
    let saved = Saved::default();

    let t_plan = best(|| assert!(plan(&files, &saved).complete()));
    let asked = plan(&theirs, &saved);
    let t_asked = best(|| assert!(!plan(&theirs, &saved).complete()));
    let t_read = best(|| {
        let mut problems = Vec::new();
        let buf = read_file(members, &bundle, &mut problems);
        assert!(problems.is_empty() && buf.rows == rows);
    });
    // the guesses as the page offers them, answered
    let answers = asked.sheets[0]
        .headings
        .iter()
        .enumerate()
        .map(|(h, x)| ((0, h), x.suggested.unwrap_or(Choice::Ignore)))
        .collect();
    let mapping = asked.choose(&answers).unwrap_or_else(|e| panic!("{e:?}")).mapping;
    let source = mapping.source(0).unwrap();
    let t_mapped = best(|| {
        let mut problems = Vec::new();
        let buf = read_file_as(members, &sheet, Some(source), &mut problems);
        assert!(problems.is_empty() && buf.rows == rows, "{:?}", &problems[..problems.len().min(3)]);
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = |d: Duration| d.as_secs_f64() / t_read.as_secs_f64();
    println!("== cargo run --release --example headings -- {rows}");
    println!(
        "members file: {rows} rows, {:.1} MB (bundle names), {:.1} MB (Vietnamese)",
        bundle.len() as f64 / 1e6,
        sheet.len() as f64 / 1e6
    );
    println!("plan, bundle names          {:>9.1} ms  {:.4} × read_file", ms(t_plan), ratio(t_plan));
    println!("plan, Vietnamese headings   {:>9.1} ms  {:.4} × read_file", ms(t_asked), ratio(t_asked));
    println!("read_file (peer)            {:>9.1} ms  1", ms(t_read));
    println!("read_file_as, mapped        {:>9.1} ms  {:.3} × read_file", ms(t_mapped), ratio(t_mapped));
}
