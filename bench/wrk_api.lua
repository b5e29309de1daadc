-- wrk script for bench/api_latency.sh. Every request carries the bearer token in $HIKESHI_TOKEN.
-- WRK_MODE=list: GET /api/v1/incidents?limit=50 (the queue's first page).
-- WRK_MODE=get:  GET /api/v1/incidents/I-$HIKESHI_YEAR-NNNNNN, NNNNNN random in 1..$INCIDENTS.
-- At the end it prints one line the script parses: RESULT p50_ms=.. p99_ms=.. rps=.. errors=.. non2xx=..

local token = os.getenv("HIKESHI_TOKEN")
local mode = os.getenv("WRK_MODE") or "list"
local year = os.getenv("HIKESHI_YEAR") or "2026"
local count = tonumber(os.getenv("INCIDENTS") or "10000")

local next_seed = 1
function setup(thread)
  thread:set("seed", next_seed)
  next_seed = next_seed + 1
end

function init(args)
  math.randomseed(seed or 1)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  if mode == "get" then
    return wrk.format("GET", string.format("/api/v1/incidents/I-%s-%06d", year, math.random(1, count)))
  end
  return wrk.format("GET", "/api/v1/incidents?limit=50")
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT p50_ms=%.3f p99_ms=%.3f rps=%.1f errors=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), errors, summary.errors.status))
end
