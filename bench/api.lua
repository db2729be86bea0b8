-- wrk script for bench/api.sh: every request authenticated (a bearer token
-- and a purpose) and audited by the server.
--   WHERRY_MODE=view    GET /api/v1/residents/{id}, ids spread over 1..PERSONS
--   WHERRY_MODE=search  GET /api/v1/residents?family_name=&dob=, from terms.txt
--   WHERRY_MODE=push    POST /api/v1/sources/libraries/records: a new library
--                       member each time (placed in real time), as a partner system
local mode = os.getenv("WHERRY_MODE") or "view"
local persons = tonumber(os.getenv("WHERRY_PERSONS") or "1")
local token = os.getenv("WHERRY_TOKEN")
local purpose = os.getenv("WHERRY_PURPOSE_HEADER") or "contact_centre"
local terms = {}
if mode == "search" then
  for line in io.lines(os.getenv("WHERRY_TERMS")) do terms[#terms + 1] = line end
end
local n = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or 1)
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Wherry-Purpose"] = purpose
  if mode == "push" then wrk.headers["Content-Type"] = "application/json" end
end

local given = {"Margaret", "John", "Susan", "David", "Ann", "Peter", "Joan", "Brian"}
local family = {"Thrower", "Smith", "Howlett", "Larter", "Gotts", "Seago", "Bunn", "Dye"}

function request()
  n = n + 1
  if mode == "push" then
    local body = string.format(
      '{"borrower_id":"LB-%d-%d","first_name":"%s","last_name":"%s","date_of_birth":"%02d/%02d/%d","postcode":"NR%d %dAB"}',
      seed or 1, n, given[math.random(#given)], family[math.random(#family)],
      math.random(1, 28), math.random(1, 12), math.random(1930, 2005), math.random(1, 30), math.random(1, 9))
    return wrk.format("POST", "/api/v1/sources/libraries/records", nil, body)
  end
  if mode == "search" then
    return wrk.format("GET", "/api/v1/residents?" .. terms[math.random(#terms)])
  end
  return wrk.format("GET", string.format("/api/v1/residents/P%09d", math.random(persons)))
end

local bad = 0
function response(status, headers, body)
  if status ~= 200 and status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local p = function(q) return latency:percentile(q) / 1000 end
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d non200=%d\n",
    summary.requests / (summary.duration / 1e6), p(50), p(99), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
