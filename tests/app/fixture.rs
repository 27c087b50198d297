//! The data tests start from, written through the app's own write paths: the structure, members and officials
//! as an import bundle (as the record pages and `/import` write them), meetings through `db::meetings::create`
//! (as the meeting form saves one) or, given as a paper book's four counts, as a bundle's `meetings.csv` row.
use chibo::db::audit::Actor;
use chibo::domain::meeting::{AttendanceStatus, MeetingDraft, MeetingKind, Rating, TaskDraft};
use chibo::domain::metrics::Lang;
use chibo::import::{self, AuditAs, Outcome};
use chrono::{NaiveDate, NaiveTime};
use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};

/// The fixture: province P → district D1 → committee XL (Xuân Lập) → cells A (Khuổi Trang, opened 2020-01-01)
/// and B (Nà Mỏ); P → district D2 → committee YY → cell C.
/// A has five members (Triệu Văn Em exempt since 2021); Đặng Văn Giang moved from A to B on 2026-06-01.
pub async fn seed(pool: &PgPool) {
    // the root of the tree, as an installation starts; everything under it is imported under the province's name
    // (the audit trail names a unit for every change)
    sqlx::query(
        "insert into units (code, kind, name, parent_id, valid_from)
         values ('P', 'province', 'Đảng bộ tỉnh Tuyên Quang', null, '1991-10-01')",
    )
    .execute(pool)
    .await
    .expect("the province");
    import_bundle(
        pool,
        &[
            (
                "units.csv",
                "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                 D1,district,Đảng bộ huyện Lâm Bình,P,2000-01-01,,\n\
                 D2,district,Đảng bộ huyện Na Hang,P,2000-01-01,,\n\
                 XL,committee,Đảng bộ xã Xuân Lập,D1,2000-01-01,,\n\
                 YY,committee,Đảng bộ xã Côn Lôn,D2,2000-01-01,,\n\
                 A,cell,Chi bộ thôn Khuổi Trang,XL,2020-01-01,,village\n\
                 B,cell,Chi bộ thôn Nà Mỏ,XL,2000-01-01,,village\n\
                 C,cell,Chi bộ bản Nà Khà,YY,2000-01-01,,village\n",
            ),
            (
                "members.csv",
                "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
                 M1,Nguyễn Văn An,male,1970-05-01,Tày,2010-03-01,2011-03-01,A,\n\
                 M2,Hoàng Thị Bình,female,1970-05-01,Tày,2010-03-01,2011-03-01,A,\n\
                 M3,Ma Văn Cường,male,1970-05-01,Tày,2010-03-01,2011-03-01,A,\n\
                 M4,Lý Thị Dung,female,1970-05-01,Tày,2010-03-01,2011-03-01,A,\n\
                 M5,Triệu Văn Em,male,1970-05-01,Tày,2010-03-01,2011-03-01,A,\n\
                 M6,Đặng Văn Giang,male,1970-05-01,Tày,2010-03-01,2011-03-01,A,\n\
                 M7,Bàn Văn Phúc,male,1970-05-01,Tày,2010-03-01,2011-03-01,B,\n\
                 M8,Nông Thị Hoa,female,1970-05-01,Tày,2010-03-01,2011-03-01,B,\n\
                 M9,Sùng Văn Páo,male,1970-05-01,Tày,2010-03-01,2011-03-01,C,\n",
            ),
            ("exemptions.csv", "member_code,valid_from,valid_to\nM5,2021-01-01,\n"),
            ("transfers.csv", "member_code,cell_code,effective_on\nM6,B,2026-06-01\n"),
            ("officials.csv", "code,full_name,group,unit_code\nO1,Hà Văn Quyết,grassroots_committee,XL\n"),
        ],
    )
    .await;
}

/// Writes `files` as one import bundle, recorded as an upload by an administrator at the tree's root; panics
/// with the problems listed if the bundle has any.
pub async fn import_bundle(pool: &PgPool, files: &[(&str, &str)]) -> Outcome {
    let root: i64 = sqlx::query_scalar("select id from units where parent_id is null order by id limit 1")
        .fetch_one(pool)
        .await
        .expect("a tree to import into");
    let audit_as = AuditAs {
        action: "import",
        entity: "bundle",
        entity_id: String::new(),
        unit_id: Some(root),
        before: None,
        after: None,
    };
    let files = files.iter().map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())).collect();
    let out = import::import_as(pool, files, false, &Actor::cli(), &|_| {}, Some(audit_as)).await.unwrap();
    let problems: Vec<_> = out.problems.iter().map(|p| chibo::web::problems::text_in(p, Lang::En)).collect();
    assert!(problems.is_empty() && out.written, "the fixture's bundle: {problems:#?}");
    out
}

/// A day given as `YYYY-MM-DD` or as a date.
pub trait Day {
    fn day(&self) -> NaiveDate;
}

impl Day for NaiveDate {
    fn day(&self) -> NaiveDate {
        *self
    }
}

impl Day for &str {
    fn day(&self) -> NaiveDate {
        self.parse().expect("a day YYYY-MM-DD")
    }
}

impl Day for String {
    fn day(&self) -> NaiveDate {
        self.as_str().day()
    }
}

/// A meeting to add: `TestApp::meeting(cell, day)`, what it was, then `save()`. A regular meeting titled "Họp",
/// unless told otherwise; members listed with their status (only those), or four counts.
#[must_use]
pub struct MeetingFixture<'a> {
    pool: &'a PgPool,
    cell: String,
    held_on: NaiveDate,
    kind: MeetingKind,
    topic: String,
    rating: Option<Rating>,
    statuses: Vec<(String, AttendanceStatus)>,
    counts: Option<[u32; 4]>,
    tasks: Vec<(String, String)>,
    guests: Vec<String>,
    times: (NaiveTime, NaiveTime),
    combined: bool,
    online: Vec<String>,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

impl<'a> MeetingFixture<'a> {
    pub fn new(pool: &'a PgPool, cell: &str, day: impl Day) -> MeetingFixture<'a> {
        MeetingFixture {
            pool,
            cell: cell.to_string(),
            held_on: day.day(),
            kind: MeetingKind::Regular,
            topic: "Họp".into(),
            rating: None,
            statuses: Vec::new(),
            counts: None,
            tasks: Vec::new(),
            guests: Vec::new(),
            times: (NaiveTime::from_hms_opt(19, 0, 0).unwrap(), NaiveTime::from_hms_opt(21, 0, 0).unwrap()),
            combined: false,
            online: Vec::new(),
        }
    }

    pub fn kind(mut self, kind: MeetingKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn topic(mut self, topic: &str) -> Self {
        self.topic = topic.into();
        self
    }

    pub fn rating(mut self, rating: Rating) -> Self {
        self.rating = Some(rating);
        self
    }

    /// The status of the member with this code.
    pub fn status(mut self, member: &str, status: AttendanceStatus) -> Self {
        self.statuses.push((member.into(), status));
        self
    }

    /// Present, excused, unexcused, exempt, as a paper book gives them (no per-member rows).
    pub fn counts(mut self, counts: [u32; 4]) -> Self {
        self.counts = Some(counts);
        self
    }

    /// A resolution task for the member with this code.
    pub fn task(mut self, member: &str, description: &str) -> Self {
        self.tasks.push((member.into(), description.into()));
        self
    }

    /// Started and ended at these times, `HH:MM` (19:00–21:00 unless told).
    pub fn times(mut self, start: &str, end: &str) -> Self {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").expect("HH:MM");
        self.times = (t(start), t(end));
        self
    }

    /// A regular meeting that also held the quarter's thematic part (HD 42).
    pub fn combined(mut self) -> Self {
        self.combined = true;
        self
    }

    /// The member with this code, present, attended online.
    pub fn online(mut self, member: &str) -> Self {
        self.statuses.push((member.into(), AttendanceStatus::Present));
        self.online.push(member.into());
        self
    }

    /// An official (by code) who attended as a guest.
    pub fn guest(mut self, official: &str) -> Self {
        self.guests.push(official.into());
        self
    }

    /// Saves the meeting; its id.
    pub async fn save(self) -> i64 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pool = self.pool;
        if let Some([present, excused, unexcused, exempt]) = self.counts {
            assert!(self.statuses.is_empty() && self.tasks.is_empty(), "a paper book's meeting has counts only");
            let reference = format!("T{}-{n}", std::process::id());
            let rating = self.rating.map_or("", Rating::as_str);
            let mut topic = String::new();
            chibo::import::csv::write_field(&mut topic, &self.topic);
            let (cell, day, kind) = (&self.cell, self.held_on, self.kind.as_str());
            let row =
                format!("{reference},{cell},{day},{kind},{topic},,,{rating},,{present},{excused},{unexcused},{exempt}");
            let header =
                "ref,cell_code,held_on,kind,topic,started_at,ended_at,rating,score,present,excused,unexcused,exempt";
            let guests: String = self.guests.iter().map(|g| format!("{reference},{g}\n")).collect();
            let meetings = format!("{header}\n{row}\n");
            let guests = format!("meeting_ref,official_code\n{guests}");
            import_bundle(pool, &[("meetings.csv", &meetings), ("guests.csv", &guests)]).await;
            return sqlx::query_scalar("select id from meetings where ref = $1")
                .bind(&reference)
                .fetch_one(pool)
                .await
                .unwrap();
        }
        let cell = chibo::db::units::by_code(pool, &self.cell).await.unwrap().expect("the cell exists");
        let mut attendance = Vec::new();
        for (member, status) in &self.statuses {
            attendance.push((member_id(pool, member).await, *status));
        }
        let mut online = Vec::new();
        for member in &self.online {
            online.push(member_id(pool, member).await);
        }
        let mut tasks = Vec::new();
        for (member, description) in &self.tasks {
            let assignee_id = member_id(pool, member).await;
            tasks.push(TaskDraft { id: None, assignee_id, description: description.clone(), due_on: None });
        }
        let mut guests = Vec::new();
        for official in &self.guests {
            let id = sqlx::query_scalar("select id from officials where code = $1").bind(official).fetch_one(pool);
            guests.push(id.await.unwrap_or_else(|e| panic!("official {official}: {e}")));
        }
        let draft = MeetingDraft {
            held_on: self.held_on,
            kind: self.kind,
            started_at: self.times.0,
            ended_at: self.times.1,
            location: String::new(),
            topic: self.topic,
            content: String::new(),
            resolution: String::new(),
            chair_id: None,
            minute_taker_id: None,
            rating: self.rating,
            score_detail: None,
            attendance,
            reasons: Vec::new(),
            online,
            facts: chibo::domain::rubric::Facts { combined_thematic: self.combined, ..Default::default() },
            guests,
            tasks,
        };
        let key = format!("fixture-{}-{n}", std::process::id());
        chibo::db::meetings::create(pool, &Actor::cli(), cell.id, &key, &draft).await.unwrap().id()
    }
}

async fn member_id(pool: &PgPool, code: &str) -> i64 {
    sqlx::query_scalar("select id from members where code = $1")
        .bind(code)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("member {code}: {e}"))
}
