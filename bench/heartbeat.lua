-- wrk script for bench_heartbeat.py: heartbeats from many signed-in learners.
--
-- BEAT_LIST names a file written by the benchmark, one "sessionid lesson tab" per line; thread
-- k of n sends lines k, k+n, k+2n, ... so every request is another learner's tab. BEAT_PATH is
-- the endpoint, BEAT_CSRF the CSRF secret all the learners' cookies carry. With BEAT_DELAY_MS
-- set, each connection waits a random 0..2*BEAT_DELAY_MS ms before each request (an open,
-- Poisson-like arrival rate); without it, the load is closed-loop (as fast as answers come).
-- BEAT_PLAYING=false sends beats of a paused video (read only: used to warm the server up).
-- done() prints one JSON line with the counts and latency percentiles (microseconds).

local list_file = os.getenv("BEAT_LIST")
local path = os.getenv("BEAT_PATH")
local csrf = os.getenv("BEAT_CSRF")
local delay_ms = tonumber(os.getenv("BEAT_DELAY_MS") or "")
local extra = os.getenv("BEAT_PLAYING") == "false" and ', "playing": false' or ""

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local threads = tonumber(args[1])
  requests_list = {}
  local n = 0
  for line in io.lines(list_file) do
    n = n + 1
    if (n - 1) % threads == thread_index then
      local session, lesson, tab = line:match("(%S+) (%S+) (%S+)")
      requests_list[#requests_list + 1] = wrk.format("POST", path, {
        ["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf,
        ["X-CSRFToken"] = csrf,
        ["Content-Type"] = "application/json",
      }, '{"lesson": ' .. lesson .. ', "tab": "' .. tab .. '"' .. extra .. '}')
    end
  end
  next_request = 1
  math.randomseed(thread_index + 1)
end

function request()
  local item = requests_list[next_request]
  next_request = next_request % #requests_list + 1
  return item
end

if delay_ms then
  function delay()
    return math.random(0, 2 * delay_ms)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
