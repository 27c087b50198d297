-- Issue 15 item 14: the reason an excused absence was given, for the meeting page and the printed minutes.
-- Only an excused absence has one; its length is domain::limits::REASON (500 characters); blank is no reason.
alter table attendance
    add column reason text
        check (reason is null or (status = 'excused' and length(trim(reason)) > 0 and char_length(reason) <= 500));
