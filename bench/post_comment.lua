-- wrk script: each request posts a different comment with a valid CSRF token.
-- BENCH_COOKIE, BENCH_BODY_PREFIX come from the environment (set by run.py).
local cookie = os.getenv("BENCH_COOKIE")
local prefix = os.getenv("BENCH_BODY_PREFIX")
local counter = 0

request = function()
  counter = counter + 1
  local body = prefix .. "&comment=Commento+di+carico+" .. counter .. "+" .. math.random(1, 1000000000)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, body)
end
