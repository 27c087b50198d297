-- "Is a unit inside a user's scope on a day": the subtree of the scope unit as the tree stands that day.
-- One definition, used by the route guard (web/access.rs through db/access.rs) and db::units::is_within.
-- plpgsql, not sql: its statement's plan is kept per connection instead of made again at every call.
create or replace function unit_within(scope_id bigint, unit_id bigint, day date) returns boolean
language plpgsql stable as $$
begin
    return exists (
        with recursive up(id, depth) as (
            select unit_within.unit_id, 0
            union all
            select p.parent_id, up.depth + 1 from up cross join lateral parent_on(up.id, unit_within.day) p(parent_id)
            where up.depth < 32 and p.parent_id is not null
        )
        select 1 from up where up.id = unit_within.scope_id
    );
end
$$;

-- A meeting's four counts, whether kept per member (attendance rows) or copied from a paper book (the meeting's own
-- columns): one definition for the meeting's page and the cell's list.
create view meeting_counts as
select m.id as meeting_id,
       coalesce(m.present, a.present, 0)::bigint as present,
       coalesce(m.excused, a.excused, 0)::bigint as excused,
       coalesce(m.unexcused, a.unexcused, 0)::bigint as unexcused,
       coalesce(m.exempt, a.exempt, 0)::bigint as exempt
from meetings m left join lateral (
    select count(*) filter (where status = 'present') as present,
           count(*) filter (where status = 'excused') as excused,
           count(*) filter (where status = 'unexcused') as unexcused,
           count(*) filter (where status = 'exempt') as exempt
    from attendance where meeting_id = m.id) a on true;
