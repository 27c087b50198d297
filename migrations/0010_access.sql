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
