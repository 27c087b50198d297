-- Wrong passwords are counted per user name AND address (so that a stranger elsewhere cannot lock the owner out)
-- and per address (so that one address cannot try many user names). An attempt is written here *before* its
-- password is checked, under a lock on the user name, so that concurrent attempts cannot all slip under the limit;
-- a right password then removes the attempts of that user name from that address.
alter table login_failures add column ip text not null default '';
-- where the attempt came from: the sign-in page, or the current-password field of the password page
alter table login_failures add column source text not null default 'login' check (source in ('login', 'password'));
drop index login_failures_user;
create index login_failures_user on login_failures (username, ip, failed_at);
create index login_failures_ip on login_failures (ip, failed_at);
