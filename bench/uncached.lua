-- The dashboard's uncached path: every request asks for another page (a period and a sort drawn from a fixed
-- seed, so two runs ask the same sequence), so the in-memory page cache almost never answers. The path prefix
-- comes from the environment (BENCH_PATH, e.g. /dashboard/TQ).
local prefix = os.getenv("BENCH_PATH") or "/dashboard/TQ"
local sorts = {"", "attendance_rate", "good_meeting_share", "meeting_regularity", "thematic_coverage",
  "cells_good_or_better", "members_good_or_better", "secretaries_trained", "reg18_participation"}
local thread_no = 0
setup = function(thread)
  thread_no = thread_no + 1
  thread:set("seed", thread_no)
end
init = function(args)
  math.randomseed(seed)
end
local function month(n)
  return string.format("%04d-%02d", 2020 + math.floor(n / 12), n % 12 + 1)
end
request = function()
  local a, b = math.random(0, 71), math.random(0, 71)
  if a > b then a, b = b, a end
  local sort = sorts[math.random(#sorts)]
  local desc = math.random(2) == 1 and "&desc=1" or ""
  return wrk.format("GET", prefix .. "?from=" .. month(a) .. "&to=" .. month(b) .. "&sort=" .. sort .. desc)
end
