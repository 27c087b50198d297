//! Every secretary at once (issue 17, DOMAIN.md §13): for the cells under a unit whose current secretary has no
//! account on that cell, a `cell_secretary` account each and a one-time activation link with which the person
//! sets their own password at `/reset/{token}`. One transaction, one batch of inserts, no password hashing.
use chrono::NaiveDate;
use serde_json::json;
use sqlx::PgPool;

use crate::db::audit::Actor;
use crate::db::sessions::{new_token, token_hash};

/// An activation link is good for this many days, and once.
pub const ACTIVATION_DAYS: i32 = 14;

/// Stored as the password hash of an account not yet activated: no password ever matches it (it is no PHC string).
pub const NO_PASSWORD: &str = "!activation";

/// User names are at most this long (as sign-in reads them).
const MAX_USERNAME: usize = 64;

/// An account made for a cell's secretary, with its link's token (shown once).
#[derive(Debug, Clone)]
pub struct Activation {
    pub committee_code: String,
    pub committee_name: String,
    pub cell_code: String,
    pub cell_name: String,
    pub full_name: String,
    pub username: String,
    pub user_id: i64,
    pub token: String,
}

/// The user name a person's name gives: its letters and digits without accents, lower case
/// ("Nguyễn Văn An" → "nguyenvanan"); `search_name` is the name already folded so.
pub fn base_username(search_name: &str) -> String {
    let base: String = search_name
        .chars()
        .map(|c| if c == 'đ' || c == 'Đ' { 'd' } else { c })
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(MAX_USERNAME - 6)
        .collect();
    if base.is_empty() { "bithu".into() } else { base }
}

/// The first of `base`, `base2`, `base3` … that `taken` does not hold; it is then taken.
pub fn free_username(base: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let mut n = 1;
    loop {
        let candidate = if n == 1 { base.to_string() } else { format!("{base}{n}") };
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Makes the accounts and links for the secretaries of the cells under `unit_id` (open on `today`) who have no
/// account on their cell yet (an unlinked enabled account made by hand counts as theirs). A second run makes
/// nothing. `batch` names the form this run was sent from: when it makes nothing because the same form was sent
/// a moment ago (a double submit, whose first answer the person never saw), it issues that run's links again.
pub async fn activate_secretaries(
    pool: &PgPool,
    actor: &Actor,
    unit_id: i64,
    today: NaiveDate,
    batch: Option<&str>,
) -> anyhow::Result<Vec<Activation>> {
    let mut tx = pool.begin().await?;
    // two runs at once would both see the same cells without accounts
    sqlx::query!("select pg_advisory_xact_lock(hashtext('chibo.activate_secretaries'))").execute(&mut *tx).await?;
    let cells = crate::db::units::subtree_ids(&mut *tx, unit_id, today).await?;
    let rows = sqlx::query!(
        r#"select c.id, c.code, c.name, m.id as member_id, m.full_name, m.search_name,
                  coalesce(pu.code, '') as "committee_code!", coalesce(pu.name, '') as "committee_name!"
           from units c
           join positions p on p.cell_id = c.id and p.position = 'secretary'
                and p.valid_from <= $2 and (p.valid_to is null or p.valid_to >= $2)
           join members m on m.id = p.member_id
           cross join lateral parent_on(c.id, $2) pp(parent_id)
           left join units pu on pu.id = pp.parent_id
           where c.id = any($1) and c.kind = 'cell' and c.valid_from <= $2 and (c.valid_to is null or c.valid_to >= $2)
             and not exists (select 1 from users u where u.unit_id = c.id and is_secretarys_account(u, m.id, $2))
           order by pu.code, c.code"#,
        &cells,
        today,
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        let again = match batch {
            Some(batch) => {
                sqlx::query_scalar!(
                    "select distinct r.user_id from password_resets r
                 where r.batch = $1 and r.used_at is null and r.created_at > now() - interval '15 minutes'",
                    batch
                )
                .fetch_all(&mut *tx)
                .await?
            }
            None => Vec::new(),
        };
        let made = issue_links(&mut tx, actor, &again, today, batch).await?;
        tx.commit().await?;
        return Ok(made);
    }
    let bases: Vec<String> = rows.iter().map(|r| base_username(&r.search_name)).collect();
    let patterns: Vec<String> = bases.iter().map(|b| format!("{b}%")).collect();
    let mut taken: std::collections::HashSet<String> =
        sqlx::query_scalar!("select username from users where username like any($1)", &patterns)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let usernames: Vec<String> = bases.iter().map(|b| free_username(b, &mut taken)).collect();
    let names: Vec<String> = rows.iter().map(|r| r.full_name.clone()).collect();
    let unit_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let member_ids: Vec<i64> = rows.iter().map(|r| r.member_id).collect();
    let ids = sqlx::query_scalar!(
        "insert into users (username, display_name, password_hash, role, unit_id, member_id)
         select u, d, $3, 'cell_secretary', c, m
         from unnest($1::text[], $2::text[], $4::bigint[], $5::bigint[]) with ordinality as t(u, d, c, m, n)
         order by n
         returning id",
        &usernames,
        &names,
        NO_PASSWORD,
        &unit_ids,
        &member_ids,
    )
    .fetch_all(&mut *tx)
    .await?;
    // `returning` follows the order rows were inserted in; map by user name all the same
    let by_name: std::collections::HashMap<String, i64> =
        sqlx::query!("select id, username from users where id = any($1)", &ids)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (r.username, r.id))
            .collect();
    let user_ids: Vec<i64> = usernames.iter().map(|u| by_name[u]).collect();
    let tokens = insert_links(&mut tx, actor, &user_ids, batch).await?;
    let entity_ids: Vec<String> = user_ids.iter().map(i64::to_string).collect();
    let afters: Vec<serde_json::Value> = rows
        .iter()
        .zip(&usernames)
        .map(|(r, u)| {
            json!({"username": u, "display_name": r.full_name, "role": "cell_secretary", "unit_id": r.id,
                   "member_id": r.member_id, "activation_link_days": ACTIVATION_DAYS})
        })
        .collect();
    sqlx::query!(
        "insert into audit_log (user_id, ip, action, entity, entity_id, unit_id, after)
         select $1, $2, 'create', 'user', e, c, a from unnest($3::text[], $4::bigint[], $5::jsonb[]) as t(e, c, a)",
        actor.user_id,
        actor.ip.as_deref(),
        &entity_ids,
        &unit_ids,
        &afters,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .zip(usernames)
        .zip(user_ids)
        .zip(tokens)
        .map(|(((r, username), user_id), token)| Activation {
            committee_code: r.committee_code,
            committee_name: r.committee_name,
            cell_code: r.code,
            cell_name: r.name,
            full_name: r.full_name,
            username,
            user_id,
            token,
        })
        .collect())
}

/// A new activation link for each of `user_ids`, in one statement; the tokens in the same order.
async fn insert_links(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    user_ids: &[i64],
    batch: Option<&str>,
) -> sqlx::Result<Vec<String>> {
    let tokens: Vec<String> = user_ids.iter().map(|_| new_token()).collect();
    let hashes: Vec<String> = tokens.iter().map(|t| token_hash(t)).collect();
    sqlx::query!(
        "insert into password_resets (token_hash, user_id, created_by, expires_at, batch)
         select h, u, $3, now() + make_interval(days => $4), $5 from unnest($1::text[], $2::bigint[]) as t(h, u)",
        &hashes,
        user_ids,
        actor.user_id,
        ACTIVATION_DAYS,
        batch,
    )
    .execute(&mut *tx)
    .await?;
    Ok(tokens)
}

/// New links for accounts that exist already: their unused links stop working, each new one is audited.
async fn issue_links(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    user_ids: &[i64],
    today: NaiveDate,
    batch: Option<&str>,
) -> sqlx::Result<Vec<Activation>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"select u.id, u.username, u.display_name, c.code, c.name,
                  coalesce(pu.code, '') as "committee_code!", coalesce(pu.name, '') as "committee_name!"
           from users u join units c on c.id = u.unit_id
           cross join lateral parent_on(c.id, $2) pp(parent_id)
           left join units pu on pu.id = pp.parent_id
           where u.id = any($1)
           order by pu.code, c.code, u.username"#,
        user_ids,
        today,
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    sqlx::query!("delete from password_resets where user_id = any($1) and used_at is null", &ids)
        .execute(&mut *tx)
        .await?;
    let tokens = insert_links(tx, actor, &ids, batch).await?;
    let entity_ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    sqlx::query!(
        "insert into audit_log (user_id, ip, action, entity, entity_id, unit_id, after)
         select $1, $2, 'create', 'password_reset', e, u.unit_id, $4
         from unnest($3::text[]) as t(e) join users u on u.id = t.e::bigint",
        actor.user_id,
        actor.ip.as_deref(),
        &entity_ids,
        json!({"activation_link_days": ACTIVATION_DAYS}),
    )
    .execute(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .zip(tokens)
        .map(|(r, token)| Activation {
            committee_code: r.committee_code,
            committee_name: r.committee_name,
            cell_code: r.code,
            cell_name: r.name,
            full_name: r.display_name,
            username: r.username,
            user_id: r.id,
            token,
        })
        .collect())
}

/// New links for the secretaries' accounts under `unit_id` that were never activated (the printed sheet was lost):
/// the links printed before stop working.
pub async fn reissue(pool: &PgPool, actor: &Actor, unit_id: i64, today: NaiveDate) -> anyhow::Result<Vec<Activation>> {
    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtext('chibo.activate_secretaries'))").execute(&mut *tx).await?;
    let cells = crate::db::units::subtree_ids(&mut *tx, unit_id, today).await?;
    let ids = sqlx::query_scalar!(
        "select id from users
         where unit_id = any($1) and role = 'cell_secretary' and password_hash = $2
           and account_active(disabled, access_until)",
        &cells,
        NO_PASSWORD,
    )
    .fetch_all(&mut *tx)
    .await?;
    let made = issue_links(&mut tx, actor, &ids, today, None).await?;
    tx.commit().await?;
    Ok(made)
}

/// Where a cell's secretary stands with their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    /// the cell has no secretary today
    NoSecretary,
    /// a secretary without an account: the next run makes one
    ToCreate,
    /// an account whose activation link was not used yet
    Pending,
    Active,
    /// disabled, or access ended
    Disabled,
}

/// A cell open today under the unit, its secretary and their account.
#[derive(Debug, Clone)]
pub struct CellAccount {
    pub committee_code: String,
    pub committee_name: String,
    pub cell_code: String,
    pub cell_name: String,
    pub secretary: Option<String>,
    pub username: Option<String>,
    pub state: AccountState,
}

/// Every cell open on `today` under `unit_id` with its secretary's account, by committee and cell.
pub async fn status(pool: &PgPool, unit_id: i64, today: NaiveDate) -> sqlx::Result<Vec<CellAccount>> {
    let cells = crate::db::units::subtree_ids(pool, unit_id, today).await?;
    let rows = sqlx::query!(
        r#"select c.code, c.name, m.full_name as "secretary?", a.username as "username?",
                  a.pending as "pending?", a.active as "active?",
                  coalesce(pu.code, '') as "committee_code!", coalesce(pu.name, '') as "committee_name!"
           from units c
           cross join lateral parent_on(c.id, $2) pp(parent_id)
           left join units pu on pu.id = pp.parent_id
           left join positions p on p.cell_id = c.id and p.position = 'secretary'
                and p.valid_from <= $2 and (p.valid_to is null or p.valid_to >= $2)
           left join members m on m.id = p.member_id
           left join lateral (
               select u.username, u.password_hash = $3 as pending, account_active(u.disabled, u.access_until) as active
               from users u
               where u.unit_id = c.id and is_secretarys_account(u, m.id, $2)
               order by account_active(u.disabled, u.access_until) desc, u.id desc
               limit 1) a on m.id is not null
           where c.id = any($1) and c.kind = 'cell' and c.valid_from <= $2 and (c.valid_to is null or c.valid_to >= $2)
           order by pu.code, c.code"#,
        &cells,
        today,
        NO_PASSWORD,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let state = match (&r.secretary, &r.username, r.active, r.pending) {
                (None, _, _, _) => AccountState::NoSecretary,
                (Some(_), None, _, _) => AccountState::ToCreate,
                (_, Some(_), Some(false), _) => AccountState::Disabled,
                (_, Some(_), _, Some(true)) => AccountState::Pending,
                _ => AccountState::Active,
            };
            CellAccount {
                committee_code: r.committee_code,
                committee_name: r.committee_name,
                cell_code: r.code,
                cell_name: r.name,
                secretary: r.secretary,
                username: r.username,
                state,
            }
        })
        .collect())
}

/// A handover (DOMAIN.md §13): ends the access of every cell secretary's account whose secretary no longer holds
/// the position. An account linked to a member ends on the last day of that member's position, or the day before
/// another member's starts; an unlinked one the day before the first secretary's position starting after the
/// account was made. Only ever brought forward, each ending audited. Run in the transaction that wrote positions
/// (the import, and the records forms that go through it); returns how many accounts it ended.
pub async fn end_replaced(tx: &mut sqlx::PgConnection, actor: &Actor) -> sqlx::Result<u64> {
    let ended = sqlx::query!(
        r#"with ends as (
               select u.id, u.unit_id, u.access_until as before,
                      least(
                          (select min(p.valid_from) - 1 from positions p
                           where p.cell_id = u.unit_id and p.position = 'secretary'
                             and p.member_id is distinct from u.member_id
                             and p.valid_from > (u.created_at at time zone 'Asia/Ho_Chi_Minh')::date),
                          (select max(p.valid_to) from positions p
                           where u.member_id is not null and p.cell_id = u.unit_id and p.position = 'secretary'
                             and p.member_id = u.member_id
                             and not exists (select 1 from positions q
                                             where q.cell_id = p.cell_id and q.member_id = p.member_id
                                               and q.position = 'secretary' and q.valid_to is null))
                      ) as until
               from users u
               where u.role = 'cell_secretary' and not u.disabled
           )
           update users u set access_until = e.until
           from ends e
           where u.id = e.id and e.until is not null and (e.before is null or e.until < e.before)
           returning u.id, u.unit_id, e.before, e.until as "until!""#,
    )
    .fetch_all(&mut *tx)
    .await?;
    if ended.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = ended.iter().map(|r| r.id.to_string()).collect();
    let units: Vec<i64> = ended.iter().map(|r| r.unit_id).collect();
    let befores: Vec<serde_json::Value> = ended.iter().map(|r| json!({"access_until": r.before})).collect();
    let afters: Vec<serde_json::Value> =
        ended.iter().map(|r| json!({"access_until": r.until, "reason": "secretary_handover"})).collect();
    sqlx::query!(
        "insert into audit_log (user_id, ip, action, entity, entity_id, unit_id, before, after)
         select $1, $2, 'update', 'user', e, c, b, a
         from unnest($3::text[], $4::bigint[], $5::jsonb[], $6::jsonb[]) as t(e, c, b, a)",
        actor.user_id,
        actor.ip.as_deref(),
        &ids,
        &units,
        &befores,
        &afters,
    )
    .execute(&mut *tx)
    .await?;
    // their sessions end with their access, if that is today already
    let user_ids: Vec<i64> = ended.iter().map(|r| r.id).collect();
    sqlx::query!(
        "delete from sessions s using users u
         where s.user_id = u.id and u.id = any($1) and not account_active(u.disabled, u.access_until)",
        &user_ids,
    )
    .execute(&mut *tx)
    .await?;
    Ok(ended.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_from_folded_names_numbered_when_taken() {
        assert_eq!(base_username("nguyen van an"), "nguyenvanan");
        assert_eq!(base_username("đang van giang"), "dangvangiang");
        assert_eq!(base_username("  "), "bithu");
        let mut taken = ["nguyenvanan".to_string()].into_iter().collect();
        assert_eq!(free_username("nguyenvanan", &mut taken), "nguyenvanan2");
        assert_eq!(free_username("nguyenvanan", &mut taken), "nguyenvanan3");
        assert_eq!(free_username("hoangthibinh", &mut taken), "hoangthibinh");
    }
}
