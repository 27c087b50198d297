-- Issue 17 items 2 and 3 (DOMAIN.md §13): a cell secretary's account knows whose it is, and ends when the position
-- passes to another member.
--
-- member_id: the member a secretary's account was made for (by `chibo user secretaries` or the web's "every
--   secretary" page); null for accounts made by hand, which are taken to be the cell's secretary of the day they
--   were made.
-- access_until: the last day the account may be used (local date, Asia/Ho_Chi_Minh); set by a handover, the day
--   before the next secretary's position starts (or the last day of the member's own position). Past it the account
--   counts as disabled: no sign-in, no session, no reset link, no reminder.
alter table users
    add column member_id bigint references members (id) on delete set null,
    add column access_until date;
create index users_secretaries on users (unit_id) where role = 'cell_secretary';

-- The form a batch of activation links was issued from: a double submit of that form issues the same accounts'
-- links again (the first answer never reached the person) instead of creating anything twice.
alter table password_resets add column batch text;
create index password_resets_batch on password_resets (batch) where batch is not null;

-- Today in the province's time zone, the day access is judged by.
create function local_today() returns date language sql stable as
$$ select (now() at time zone 'Asia/Ho_Chi_Minh')::date $$;

-- Whether an account may be used today.
create function account_active(disabled boolean, access_until date) returns boolean language sql stable as
$$ select not disabled and (access_until is null or access_until >= local_today()) $$;

-- Whether `u` is the account of the secretary `member` on its cell on `day`: made for that member and not ended by a
-- handover before that day, or made by hand (no member) and usable. The rule of who already has an account, for the
-- activation and its page.
create function is_secretarys_account(u users, member bigint, day date) returns boolean language sql stable as
$$ select u.role = 'cell_secretary'
          and ((u.member_id = member and (u.access_until is null or u.access_until >= day))
               or (u.member_id is null and account_active(u.disabled, u.access_until))) $$;
