-- wrk script: each request asks for the page with a query string it has not
-- sent before, as a script trying to get past a cache would (bench/run.py).
-- The page reads none of these arguments, so the shared copy answers them.
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", wrk.path .. "?utm_source=bench&n=" .. counter)
end
