-- wrk script: POST one pre-generated entry per request, never the same one twice.
--   wrk ... -s bench/post_pool.lua URL -- POOL_FILE THREADS PATH CSRF_SECRET [cycle]
-- POOL_FILE has one "cookie<TAB>url-encoded body" line per request; thread t of T takes
-- lines t, t+T, t+2T, ... . done() prints, per thread, how many it sent and how many
-- answers it got, so the caller knows exactly which entries were submitted. With "cycle"
-- the entries are reused round-robin (for baselines that may repeat a body).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local pool_file, thread_count = args[1], tonumber(args[2])
  path, csrf, cycle = args[3], args[4], args[5] == "cycle"
  entries = {}
  local line_number = 0
  for line in io.lines(pool_file) do
    if line_number % thread_count == id then
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      table.insert(entries, {cookie = cookie, body = body})
    end
    line_number = line_number + 1
  end
  sent, answered, exhausted = 0, 0, 0
end

function request()
  sent = sent + 1
  local entry = entries[sent]
  if cycle then
    entry = entries[(sent - 1) % #entries + 1]
  elseif entry == nil then
    -- Out of entries: repeat the last one (the caller sees exhausted > 0 and fails the run).
    exhausted = exhausted + 1
    entry = entries[#entries]
  end
  return wrk.format("POST", path, {
    ["Cookie"] = entry.cookie .. "; csrftoken=" .. csrf,
    ["X-CSRFToken"] = csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, entry.body)
end

function response(status, headers, body)
  answered = answered + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("POOL thread=%d sent=%d answered=%d exhausted=%d\n",
      thread:get("id"), thread:get("sent"), thread:get("answered"), thread:get("exhausted")))
  end
end
