-- wrk script: comment POSTs as from many addresses, each at the allowed pace.
-- Every request comes from a new address (X-Forwarded-For, read by the blog
-- under BLOG_PROXY_FIX=1) with a new email and text, so no rule that counts a
-- sender refuses it: each is one reader's first comment. BENCH_COOKIE and
-- BENCH_BODY_PREFIX (CSRF token, name) come from the environment.
local cookie = os.getenv("BENCH_COOKIE")
local prefix = os.getenv("BENCH_BODY_PREFIX")
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

request = function()
  counter = counter + 1
  local n = thread_id * 1000000 + counter
  local address = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
  local body = prefix .. "&email=lettore" .. n .. "%40example.org"
    .. "&comment=Commento+numero+" .. n
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
    ["X-Forwarded-For"] = address,
  }, body)
end
