-- wrk script: each request posts a different comment with a valid CSRF token.
-- BENCH_COOKIE and BENCH_BODY_PREFIX come from the environment (set by run.py);
-- BENCH_RUN, when set, tells apart the texts of several runs on one database.
local cookie = os.getenv("BENCH_COOKIE")
local prefix = os.getenv("BENCH_BODY_PREFIX")
local run = os.getenv("BENCH_RUN") or "0"
local counter = 0
local threads = 0

-- Each wrk thread has its own Lua state: number them so that no two threads
-- ever send the same text (the blog refuses duplicates with 409).
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

request = function()
  counter = counter + 1
  local body = prefix .. "&comment=Commento+di+carico+" .. run .. "-" .. thread_id
    .. "-" .. counter
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, body)
end
