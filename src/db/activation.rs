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

/// Makes the accounts and links for the secretaries of the cells under `unit_id` (open on `today`) that have no
/// enabled `cell_secretary` account on their cell. A second run makes nothing.
pub async fn activate_secretaries(
    pool: &PgPool,
    actor: &Actor,
    unit_id: i64,
    today: NaiveDate,
) -> anyhow::Result<Vec<Activation>> {
    let mut tx = pool.begin().await?;
    // two runs at once would both see the same cells without accounts
    sqlx::query!("select pg_advisory_xact_lock(hashtext('chibo.activate_secretaries'))").execute(&mut *tx).await?;
    let cells = crate::db::units::subtree_ids(&mut *tx, unit_id, today).await?;
    let rows = sqlx::query!(
        r#"select c.id, c.code, c.name, m.full_name, m.search_name,
                  coalesce(pu.code, '') as "committee_code!", coalesce(pu.name, '') as "committee_name!"
           from units c
           join positions p on p.cell_id = c.id and p.position = 'secretary'
                and p.valid_from <= $2 and (p.valid_to is null or p.valid_to >= $2)
           join members m on m.id = p.member_id
           cross join lateral parent_on(c.id, $2) pp(parent_id)
           left join units pu on pu.id = pp.parent_id
           where c.id = any($1) and c.kind = 'cell' and c.valid_from <= $2 and (c.valid_to is null or c.valid_to >= $2)
             and not exists (select 1 from users u
                             where u.unit_id = c.id and u.role = 'cell_secretary' and not u.disabled)
           order by pu.code, c.code"#,
        &cells,
        today,
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
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
    let ids = sqlx::query_scalar!(
        "insert into users (username, display_name, password_hash, role, unit_id)
         select u, d, $3, 'cell_secretary', c from unnest($1::text[], $2::text[], $4::bigint[]) with ordinality
              as t(u, d, c, n)
         order by n
         returning id",
        &usernames,
        &names,
        NO_PASSWORD,
        &unit_ids,
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
    let tokens: Vec<String> = rows.iter().map(|_| new_token()).collect();
    let hashes: Vec<String> = tokens.iter().map(|t| token_hash(t)).collect();
    sqlx::query!(
        "insert into password_resets (token_hash, user_id, created_by, expires_at)
         select h, u, $3, now() + make_interval(days => $4) from unnest($1::text[], $2::bigint[]) as t(h, u)",
        &hashes,
        &user_ids,
        actor.user_id,
        ACTIVATION_DAYS,
    )
    .execute(&mut *tx)
    .await?;
    let entity_ids: Vec<String> = user_ids.iter().map(i64::to_string).collect();
    let afters: Vec<serde_json::Value> = rows
        .iter()
        .zip(&usernames)
        .map(|(r, u)| {
            json!({"username": u, "display_name": r.full_name, "role": "cell_secretary", "unit_id": r.id,
                   "activation_link_days": ACTIVATION_DAYS})
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
