//! Meetings with their attendance, guests and resolution tasks; each user action is one transaction.
use chrono::{NaiveDate, NaiveTime};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::db::audit::{self, Actor, Change};
use crate::domain::meeting::{AttendanceCounts, AttendanceStatus, MeetingDraft, MeetingKind, OfficialGroup, Rating};
use crate::domain::rubric::Facts;
use crate::domain::vocab::{AttendanceMode, TaskStatus};

/// A line of the meeting list: enough to see at a glance what happened.
#[derive(Debug, Clone)]
pub struct MeetingSummary {
    pub id: i64,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    pub topic: String,
    pub rating: Option<Rating>,
    pub present: i64,
    pub excused: i64,
    pub unexcused: i64,
    pub exempt: i64,
}

impl MeetingSummary {
    pub fn counts(&self) -> AttendanceCounts {
        AttendanceCounts {
            present: self.present,
            excused: self.excused,
            unexcused: self.unexcused,
            exempt: self.exempt,
        }
    }
}

// Both queries below take the four counts from the view `meeting_counts` (migration 0010): per-member rows where
// there are any, else the counts copied from a paper book.
pub async fn list_for_cell(db: impl PgExecutor<'_>, cell_id: i64, limit: i64) -> sqlx::Result<Vec<MeetingSummary>> {
    sqlx::query_as!(
        MeetingSummary,
        r#"select m.id, m.held_on, m.kind as "kind: MeetingKind", m.topic, m.rating as "rating: Rating",
                  c.present as "present!", c.excused as "excused!", c.unexcused as "unexcused!", c.exempt as "exempt!"
           from meetings m join meeting_counts c on c.meeting_id = m.id
           where m.cell_id = $1 order by m.held_on desc, m.id desc limit $2"#,
        cell_id,
        limit
    )
    .fetch_all(db)
    .await
}

/// Everything stored about one meeting.
#[derive(Debug, Clone)]
pub struct Meeting {
    pub id: i64,
    pub cell_id: i64,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    pub topic: String,
    pub content: String,
    pub resolution: String,
    pub location: String,
    pub started_at: Option<NaiveTime>,
    pub ended_at: Option<NaiveTime>,
    pub rating: Option<Rating>,
    pub score: Option<i16>,
    pub score_detail: Option<Value>,
    pub chair_id: Option<i64>,
    pub minute_taker_id: Option<i64>,
    pub version: i32,
    /// The rubric version the meeting is judged by (the one in force on `held_on` when it was written).
    pub rubric_version_id: i64,
    /// HD 42: the notice, the committee's preparatory meeting, the materials posted, the thematic part held too
    pub notice_on: Option<NaiveDate>,
    pub prepared_on: Option<NaiveDate>,
    pub materials_on: Option<NaiveDate>,
    pub combined_thematic: bool,
    pub present: i64,
    pub excused: i64,
    pub unexcused: i64,
    pub exempt: i64,
    /// True for paper-book history: counts without per-member rows.
    pub counts_only: bool,
}

impl Meeting {
    pub fn counts(&self) -> AttendanceCounts {
        AttendanceCounts {
            present: self.present,
            excused: self.excused,
            unexcused: self.unexcused,
            exempt: self.exempt,
        }
    }

    /// Points given for one criterion of the 100-point helper.
    pub fn score_part(&self, key: &str) -> Option<u8> {
        self.score_detail.as_ref()?.get(key)?.as_u64().map(|p| p as u8)
    }

    /// The HD 42 facts, as the warnings read them.
    pub fn facts(&self) -> Facts {
        Facts {
            notice_on: self.notice_on,
            prepared_on: self.prepared_on,
            materials_on: self.materials_on,
            combined_thematic: self.combined_thematic,
        }
    }
}

pub async fn get(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Meeting>> {
    sqlx::query_as!(
        Meeting,
        r#"select m.id, m.cell_id, m.held_on, m.kind as "kind: MeetingKind", m.topic, m.content, m.resolution,
                  m.location, m.started_at, m.ended_at, m.rating as "rating: Rating", m.score, m.score_detail,
                  m.chair_id, m.minute_taker_id, m.version, m.rubric_version_id, m.notice_on, m.prepared_on,
                  m.materials_on, m.combined_thematic, m.present is not null as "counts_only!",
                  c.present as "present!", c.excused as "excused!", c.unexcused as "unexcused!", c.exempt as "exempt!"
           from meetings m join meeting_counts c on c.meeting_id = m.id
           where m.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone)]
pub struct AttendanceRow {
    pub member_id: i64,
    pub full_name: String,
    pub status: AttendanceStatus,
    /// Why an excused member was absent, when a reason was given.
    pub reason: Option<String>,
    /// In person or online (read for present members only).
    pub mode: AttendanceMode,
}

impl AttendanceRow {
    /// Present, and online.
    pub fn online(&self) -> bool {
        self.status == AttendanceStatus::Present && self.mode == AttendanceMode::Online
    }
}

pub async fn attendance(db: impl PgExecutor<'_>, meeting_id: i64) -> sqlx::Result<Vec<AttendanceRow>> {
    let mut rows = sqlx::query_as!(
        AttendanceRow,
        r#"select a.member_id, m.full_name, a.status as "status: AttendanceStatus", a.reason,
                  a.mode as "mode: AttendanceMode"
           from attendance a join members m on m.id = a.member_id
           where a.meeting_id = $1"#,
        meeting_id
    )
    .fetch_all(db)
    .await?;
    crate::db::members::sort_by_vietnamese_name(&mut rows, |r| &r.full_name);
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: i64,
    pub meeting_id: i64,
    pub assignee_id: i64,
    pub assignee_name: String,
    pub description: String,
    pub due_on: Option<NaiveDate>,
    pub status: TaskStatus,
    pub done_on: Option<NaiveDate>,
}

impl Task {
    pub fn is_overdue(&self, today: &NaiveDate) -> bool {
        self.status == TaskStatus::Open && self.due_on.is_some_and(|d| d < *today)
    }

    pub fn is_done(&self) -> bool {
        self.status == TaskStatus::Done
    }
}

// The three task queries below read the same columns (a task with its assignee's name).

/// One task, whatever its state.
pub async fn task(db: impl PgExecutor<'_>, task_id: i64) -> sqlx::Result<Option<Task>> {
    sqlx::query_as!(
        Task,
        r#"select t.id, t.meeting_id, t.assignee_id, p.full_name as assignee_name, t.description, t.due_on,
                  t.status as "status: TaskStatus", t.done_on
           from tasks t join members p on p.id = t.assignee_id where t.id = $1"#,
        task_id
    )
    .fetch_optional(db)
    .await
}

pub async fn tasks(db: impl PgExecutor<'_>, meeting_id: i64) -> sqlx::Result<Vec<Task>> {
    sqlx::query_as!(
        Task,
        r#"select t.id, t.meeting_id, t.assignee_id, p.full_name as assignee_name, t.description, t.due_on,
                  t.status as "status: TaskStatus", t.done_on
           from tasks t join members p on p.id = t.assignee_id
           where t.meeting_id = $1 order by t.id"#,
        meeting_id
    )
    .fetch_all(db)
    .await
}

/// A cell's open tasks, the most urgent first.
pub async fn open_tasks_for_cell(db: impl PgExecutor<'_>, cell_id: i64) -> sqlx::Result<Vec<Task>> {
    sqlx::query_as!(
        Task,
        r#"select t.id, t.meeting_id, t.assignee_id, p.full_name as assignee_name, t.description, t.due_on,
                  t.status as "status: TaskStatus", t.done_on
           from tasks t join members p on p.id = t.assignee_id
           join meetings m on m.id = t.meeting_id
           where m.cell_id = $1 and t.status = $2 order by t.due_on nulls last, t.id"#,
        cell_id,
        TaskStatus::Open.as_str()
    )
    .fetch_all(db)
    .await
}

/// The cell a task belongs to (for the scope check), if the task exists: (cell, meeting).
pub async fn task_cell(db: impl PgExecutor<'_>, task_id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    let row = sqlx::query!(
        "select m.cell_id, m.id from tasks t join meetings m on m.id = t.meeting_id where t.id = $1",
        task_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.cell_id, r.id)))
}

/// Marks a task done today; marking it twice changes nothing.
pub async fn complete_task(pool: &PgPool, actor: &Actor, task_id: i64, today: NaiveDate) -> sqlx::Result<()> {
    set_task_done(pool, actor, task_id, Some(today)).await
}

/// Undoes [`complete_task`]: the task is open again (audited).
pub async fn reopen_task(pool: &PgPool, actor: &Actor, task_id: i64) -> sqlx::Result<()> {
    set_task_done(pool, actor, task_id, None).await
}

/// Marks a task done on `done_on`, or open again with `None`; a task already so is left alone.
async fn set_task_done(pool: &PgPool, actor: &Actor, task_id: i64, done_on: Option<NaiveDate>) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let (from, to) =
        if done_on.is_some() { (TaskStatus::Open, TaskStatus::Done) } else { (TaskStatus::Done, TaskStatus::Open) };
    let done = sqlx::query!(
        "update tasks set status = $3, done_on = $2 where id = $1 and status = $4",
        task_id,
        done_on,
        to.as_str(),
        from.as_str()
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        let cell_id = sqlx::query_scalar!(
            "select m.cell_id from tasks t join meetings m on m.id = t.meeting_id where t.id = $1",
            task_id
        )
        .fetch_optional(&mut *tx)
        .await?;
        let before = serde_json::json!({"status": from});
        let after = serde_json::json!({"status": to, "done_on": done_on});
        audit::record(
            &mut tx,
            actor,
            Change {
                action: "update",
                entity: "task",
                entity_id: task_id.to_string(),
                unit_id: cell_id,
                before: Some(before),
                after: Some(after),
            },
        )
        .await?;
    }
    tx.commit().await
}

/// An official recorded as a guest of a meeting.
#[derive(Debug, Clone)]
pub struct Guest {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub group: OfficialGroup,
}

/// Guests recorded at a meeting.
pub async fn guests(db: impl PgExecutor<'_>, meeting_id: i64) -> sqlx::Result<Vec<Guest>> {
    sqlx::query_as!(
        Guest,
        r#"select o.id, o.code, o.full_name, o."group" as "group: OfficialGroup"
           from meeting_guests g join officials o on o.id = g.official_id
           where g.meeting_id = $1 order by o.full_name"#,
        meeting_id
    )
    .fetch_all(db)
    .await
}

/// Regular meetings of a cell held in the month of `day`, other than `except`.
pub async fn regular_in_month(
    db: impl PgExecutor<'_>,
    cell_id: i64,
    day: NaiveDate,
    except: Option<i64>,
) -> sqlx::Result<Vec<(i64, NaiveDate)>> {
    let rows = sqlx::query!(
        "select id, held_on from meetings
         where cell_id = $1 and kind = $4 and date_trunc('month', held_on) = date_trunc('month', $2::date)
           and id is distinct from $3
         order by held_on",
        cell_id,
        day,
        except,
        MeetingKind::Regular.as_str()
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.held_on)).collect())
}

/// The outcome of saving a new meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New(i64),
    /// The same form (idempotency key) was already saved: nothing was written again.
    AlreadySaved(i64),
}

impl Created {
    pub fn id(self) -> i64 {
        match self {
            Created::New(id) | Created::AlreadySaved(id) => id,
        }
    }
}

/// Saves a new meeting with its attendance, guests and tasks in one transaction.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    cell_id: i64,
    idempotency_key: &str,
    draft: &MeetingDraft,
) -> sqlx::Result<Created> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into meetings (cell_id, idempotency_key, created_by, held_on, kind, topic, content, resolution, location,
                               started_at, ended_at, rating, score, score_detail, chair_id, minute_taker_id,
                               notice_on, prepared_on, materials_on, combined_thematic)
         select $1, $2, $3, r.held_on, r.kind, r.topic, r.content, r.resolution, r.location,
                r.started_at, r.ended_at, r.rating, r.score, r.score_detail, r.chair_id, r.minute_taker_id,
                r.notice_on, r.prepared_on, r.materials_on, coalesce(r.combined_thematic, false)
         from jsonb_populate_record(null::meetings, $4) r
         on conflict (idempotency_key) do nothing
         returning id",
        cell_id,
        idempotency_key,
        actor.user_id,
        fields(draft)
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = inserted else {
        tx.rollback().await?;
        let id = by_idempotency_key(pool, idempotency_key).await?.ok_or(sqlx::Error::RowNotFound)?;
        return Ok(Created::AlreadySaved(id));
    };
    write_children(&mut tx, id, draft).await?;
    let after = snapshot(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Change {
            action: "create",
            entity: "meeting",
            entity_id: id.to_string(),
            unit_id: Some(cell_id),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Created::New(id))
}

/// The outcome of saving an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    Saved,
    /// Someone else saved the meeting after this edit began: nothing was written.
    Conflict,
}

/// Saves an edit made from `version`; refuses it if the meeting has changed since.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    version: i32,
    draft: &MeetingDraft,
) -> sqlx::Result<Updated> {
    let mut tx = pool.begin().await?;
    let before = snapshot(&mut tx, id).await?;
    let changed = sqlx::query!(
        "update meetings m
         set (held_on, kind, topic, content, resolution, location, started_at, ended_at, rating, score, score_detail,
              chair_id, minute_taker_id, notice_on, prepared_on, materials_on, combined_thematic)
             = (r.held_on, r.kind, r.topic, r.content, r.resolution, r.location, r.started_at, r.ended_at, r.rating,
                r.score, r.score_detail, r.chair_id, r.minute_taker_id, r.notice_on, r.prepared_on, r.materials_on,
                coalesce(r.combined_thematic, false)),
             present = null, excused = null, unexcused = null, exempt = null,
             version = m.version + 1, updated_at = now()
         from jsonb_populate_record(null::meetings, $3) r
         where m.id = $1 and m.version = $2",
        id,
        version,
        fields(draft)
    )
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(Updated::Conflict);
    }
    sqlx::query!("delete from attendance where meeting_id = $1", id).execute(&mut *tx).await?;
    sqlx::query!("delete from meeting_guests where meeting_id = $1", id).execute(&mut *tx).await?;
    let kept: Vec<i64> = draft.tasks.iter().filter_map(|t| t.id).collect();
    sqlx::query!("delete from tasks where meeting_id = $1 and id <> all($2)", id, &kept[..]).execute(&mut *tx).await?;
    write_children(&mut tx, id, draft).await?;
    let after = snapshot(&mut tx, id).await?;
    let cell_id = sqlx::query_scalar!("select cell_id from meetings where id = $1", id).fetch_one(&mut *tx).await?;
    audit::record(
        &mut tx,
        actor,
        Change {
            action: "update",
            entity: "meeting",
            entity_id: id.to_string(),
            unit_id: Some(cell_id),
            before: Some(before),
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Updated::Saved)
}

/// The meeting's own columns as the draft sets them, one JSON record that `create` and `update` both read with
/// `jsonb_populate_record(null::meetings, …)`: the fields are listed once, here.
fn fields(draft: &MeetingDraft) -> Value {
    serde_json::json!({
        "held_on": draft.held_on,
        "kind": draft.kind,
        "topic": draft.topic,
        "content": draft.content,
        "resolution": draft.resolution,
        "location": draft.location,
        "started_at": draft.started_at,
        "ended_at": draft.ended_at,
        "rating": draft.rating,
        "score": draft.score(),
        "score_detail": score_json(draft),
        "chair_id": draft.chair_id,
        "minute_taker_id": draft.minute_taker_id,
        "notice_on": draft.facts.notice_on,
        "prepared_on": draft.facts.prepared_on,
        "materials_on": draft.facts.materials_on,
        "combined_thematic": draft.facts.combined_thematic,
    })
}

fn score_json(draft: &MeetingDraft) -> Option<Value> {
    draft.score_detail.as_ref().map(|d| Value::Object(d.iter().map(|(k, p)| (k.clone(), Value::from(*p))).collect()))
}

async fn write_children(tx: &mut PgConnection, id: i64, draft: &MeetingDraft) -> sqlx::Result<()> {
    let (members, statuses): (Vec<i64>, Vec<AttendanceStatus>) = draft.attendance.iter().copied().unzip();
    // the reason of each excused member who has one, in the roll's order (null for the others)
    let reasons: Vec<Option<String>> = draft
        .attendance
        .iter()
        .map(|(member, status)| {
            let reason = draft.reasons.iter().find(|(m, _)| m == member).map(|(_, r)| r.clone());
            reason.filter(|_| *status == AttendanceStatus::Excused)
        })
        .collect();
    // online only for a present member; everyone else in person
    let modes: Vec<AttendanceMode> = draft
        .attendance
        .iter()
        .map(|(member, status)| {
            if *status == AttendanceStatus::Present && draft.online.contains(member) {
                AttendanceMode::Online
            } else {
                AttendanceMode::InPerson
            }
        })
        .collect();
    sqlx::query!(
        "insert into attendance (meeting_id, member_id, status, reason, mode)
         select $1, * from unnest($2::bigint[], $3::text[], $4::text[], $5::text[])",
        id,
        &members[..],
        &statuses[..] as _,
        &reasons[..] as _,
        &modes[..] as _
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into meeting_guests (meeting_id, official_id) select $1, unnest($2::bigint[])",
        id,
        &draft.guests[..]
    )
    .execute(&mut *tx)
    .await?;
    for t in &draft.tasks {
        match t.id {
            Some(task_id) => {
                sqlx::query!(
                    "update tasks set assignee_id = $3, description = $4, due_on = $5 where id = $2 and meeting_id = $1",
                    id,
                    task_id,
                    t.assignee_id,
                    t.description,
                    t.due_on
                )
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query!(
                    "insert into tasks (meeting_id, assignee_id, description, due_on) values ($1, $2, $3, $4)",
                    id,
                    t.assignee_id,
                    t.description,
                    t.due_on
                )
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    Ok(())
}

/// The whole meeting as JSON, for the audit trail's before and after.
async fn snapshot(tx: &mut PgConnection, id: i64) -> sqlx::Result<Value> {
    sqlx::query_scalar!(
        r#"select to_jsonb(m) - 'idempotency_key'
            || jsonb_build_object(
                'attendance', (select jsonb_object_agg(member_id, status) from attendance where meeting_id = m.id),
                'reasons', (select jsonb_object_agg(member_id, reason) from attendance
                            where meeting_id = m.id and reason is not null),
                'online', (select jsonb_agg(member_id order by member_id) from attendance
                           where meeting_id = m.id and mode = 'online'),
                'guests', (select jsonb_agg(official_id order by official_id) from meeting_guests where meeting_id = m.id),
                'tasks', (select jsonb_agg(to_jsonb(t) order by t.id) from tasks t where t.meeting_id = m.id))
              as "snapshot!"
         from meetings m where m.id = $1"#,
        id
    )
    .fetch_one(&mut *tx)
    .await
}

/// The meeting a form with this idempotency key already saved, if any.
pub async fn by_idempotency_key(db: impl PgExecutor<'_>, key: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select id from meetings where idempotency_key = $1", key).fetch_optional(db).await
}

/// For each of `cell_ids`: whether it has a regular meeting on or after `month_start`, and the day of its latest
/// meeting of any kind up to `today`. Cells with no meeting at all are absent.
pub async fn month_status(
    db: impl PgExecutor<'_>,
    cell_ids: &[i64],
    month_start: NaiveDate,
    today: NaiveDate,
) -> sqlx::Result<Vec<(i64, bool, NaiveDate)>> {
    let rows = sqlx::query!(
        r#"select cell_id, bool_or(kind = $4 and held_on >= $2) as "regular!", max(held_on) as "latest!"
           from meetings where cell_id = any($1) and held_on <= $3 group by cell_id"#,
        cell_ids,
        month_start,
        today,
        MeetingKind::Regular.as_str()
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.cell_id, r.regular, r.latest)).collect())
}
