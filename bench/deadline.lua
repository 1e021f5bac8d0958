-- Submissions at a deadline: every request is a new submission (a unique Idempotency-Key
-- and title), sent by one of the bench activists in turn; the statuses are counted and
-- printed by done() as "STATUS <code> <count>" lines, which bench/run.py reads.
--
-- BENCH_ROUND: the round's id; BENCH_TOKENS: a file with one access token a line.

local round_id = os.getenv("BENCH_ROUND")
local path = "/api/v1/rounds/" .. round_id .. "/submissions"
-- BENCH_RUN (set by bench/run.py for each wrk run): one-second runs start within the
-- same second, and their Idempotency-Keys must not meet
local run = os.getenv("BENCH_RUN") or tostring(os.time())

local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then
    tokens[#tokens + 1] = line
  end
end

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
  threads[#threads + 1] = thread
end

function init(args)
  sent = 0
  statuses = {}
end

function request()
  sent = sent + 1
  local tag = run .. "-" .. thread_id .. "-" .. sent
  local token = tokens[(sent * 7 + thread_id) % #tokens + 1]
  local body = '{"kind":"concern","title":"Deadline submission ' .. tag .. '",'
    .. '"body":"Please explain the whereabouts of the lawyer detained without charges. '
    .. tag .. '","language":"en","addressed_to":["CN"]}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "bench-" .. tag,
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("STATUS %d %d\n", status, count))
  end
end
