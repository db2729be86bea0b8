-- wrk script for bench/sensors.sh: ChirpStack `up` events as its HTTP
-- integration posts them, each a new frame (device and frame counter
-- unique per request across threads), authenticated by the integration's
-- secret. A WS301 contact's payload; the event's time is now.
local devices = tonumber(os.getenv("WHERRY_DEVICES") or "10000")
local secret = os.getenv("WHERRY_SECRET")
local threads = 0
-- `id` is set in each thread by setup() (a global: a local here would hide it).
id = 0
local n = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Wherry-Integration-Secret"] = secret
end

function request()
  n = n + 1
  local i = n * 16 + id
  local dev = i % devices
  local fcnt = math.floor(i / devices)
  local body = string.format(
    '{"time":"%s","deviceInfo":{"devEui":"70b3d57e%08x"},"fCnt":%d,"fPort":85,"data":"AXVcAwAB","rxInfo":[{"gatewayId":"0016c001ff10a235","rssi":-97,"snr":7.2}]}',
    os.date("!%Y-%m-%dT%H:%M:%SZ"), dev, fcnt)
  return wrk.format(nil, "/integrations/chirpstack?event=up", nil, body)
end
