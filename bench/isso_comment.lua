-- wrk script: each request posts a different comment to Isso's POST /new, the
-- JSON body and headers its own client (js/app/isso.js, api.js) sends from a
-- page of the blog. BENCH_ORIGIN, BENCH_REFERER and BENCH_RUN come from the
-- environment (set by vs_isso.py).
local origin = os.getenv("BENCH_ORIGIN")
local referer = os.getenv("BENCH_REFERER")
local run = os.getenv("BENCH_RUN") or "0"
local counter = 0
local threads = 0

-- Numbered as in post_comment.lua, so both servers get the same texts.
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"author":"Lettore di carico","email":"carico@example.org","website":null,'
      .. '"text":"Commento di carico %s-%d-%d","parent":null,"title":null,'
      .. '"notification":0}',
    run, thread_id, counter)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Origin"] = origin,
    ["Referer"] = referer,
  }, body)
end
