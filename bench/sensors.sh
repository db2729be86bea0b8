#!/usr/bin/env bash
# End-to-end throughput of the sensors' intake (issue 14's bars): `wherry
# serve` (release build) with 10,000 registered home devices (2,000 homes), on SQLite and
# on PostgreSQL. For SECONDS each: ChirpStack uplinks posted to the HTTP
# integration by wrk (CONNECTIONS at once; each answered only once stored),
# then the same rate offered over MQTT (mosquitto_pub, QoS 1, through a
# private Mosquitto on a free port) and counted as stored from /metrics.
# The server's resident memory (VmHWM, its peak) is read after each run.
# Alert latency under that load (bench/sensors_alerts.py): through both runs
# a probe posts a low-battery uplink every 100 ms (each raises
# `battery_low`), and 100 homes with a learnt kettle routine reach their
# `kettle_not_used` deadline; a stand-in care system records when each
# alert arrives, less its uplink's time or its deadline.
# Usage: bench/sensors.sh [POSTGRES_ADMIN_URL [SECONDS [CONNECTIONS]]]
#   WHERRY_BACKENDS="sqlite" (or "postgres") runs one backend only.
# The server, wrk, the broker and the publisher share this machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${1:-postgres://postgres@127.0.0.1:5432/test}"
secs="${2:-60}"
conns="${3:-64}"
devices=10000
pg="${admin%/*}/wherry_bench_sensors"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v mosquitto >/dev/null || { apt-get update -qq && apt-get install -y -qq mosquitto mosquitto-clients >/dev/null; }
cargo build --release --quiet
W="$PWD/target/release/wherry"
out=bench/out/sensors
rm -rf "$out"; mkdir -p "$out"
echo "bench/sensors.sh on $(date -u +%F), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); ${secs} s a run, ${conns} connections, ${devices} devices"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stored() { curl -s "http://$1/metrics" | sed -n 's/^wherry_sensor_events_total{outcome="stored"} //p' | head -1; }

# The registry: 10,000 home devices, five in each of 2,000 residents' homes,
# written straight into the store (registering each through `wherry
# device add` would take the bench's whole run).
# Also 2,000 probe contacts (400 homes) and 100 kettle plugs (a home each)
# for the alert latencies.
probes=2000
kettles=100
registry_sql() {
  python3 - "$devices" "$probes" "$kettles" <<'PY'
import sys
n, probes, kettles = map(int, sys.argv[1:])
devices = [(f"70b3d57e{i:08x}", "milesight_ws301", "front_door", i // 5 + 1) for i in range(n)]
devices += [(f"70b3d57c{i:08x}", "milesight_ws301", "front_door", 100_001 + i // 5) for i in range(probes)]
devices += [(f"70b3d57d{i:08x}", "milesight_ws52x", "kettle", 200_001 + i) for i in range(kettles)]
people = sorted({d[3] for d in devices})
for start in range(0, len(people), 1000):
    rows = ",".join(f"('P{p:09d}', '2026-12-01T00:00:00Z')" for p in people[start:start + 1000])
    print(f"INSERT INTO persons (id, created_at) VALUES {rows};")
for start in range(0, len(devices), 1000):
    rows = ",".join(
        f"('{eui}','{model}','{use}','P{p:09d}','bench',NULL,NULL,NULL,NULL,0,'bench')"
        for eui, model, use, p in devices[start:start + 1000])
    print("INSERT INTO sensor_devices (dev_eui, model, use_kind, person_id, consent_ref, consent_withdrawn_ms, place, lat, lon, added_ms, added_by) VALUES " + rows + ";")
# The kettle homes' alert margin: 5 minutes after the usual first use.
rows = ",".join(f"""('P{200_001 + i:09d}', '{{"kettle_margin_min": 5}}', 'bench', 0)""" for i in range(kettles))
print(f"INSERT INTO sensor_thresholds (person_id, thresholds, set_by, set_ms) VALUES {rows};")
PY
}

run_backend() {
  local name="$1" db="$2"
  local port mport rport; port="$(free_port)"; mport="$(free_port)"; rport="$(free_port)"
  : > "$out/alerts-$name.txt"
  python3 bench/sensors_alerts.py receive "$rport" "$out/alerts-$name.txt" &
  local receiver=$!
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 1000\nmax_queued_messages 2000000\n' "$mport" > "$out/mosquitto.conf"
  mosquitto -c "$out/mosquitto.conf" > "$out/mosquitto.log" 2>&1 &
  local broker=$!
  printf '[limits]\nburst = 0\n[auth_failures]\nburst = 0\n[integrations]\nchirpstack = "bench-secret-0123456789"\n[mqtt]\nhost = "127.0.0.1"\nport = %s\nclient_id = "wherry-bench"\n[care_webhook]\nurl = "http://127.0.0.1:%s/alerts"\n' "$mport" "$rport" > "$out/wherry.toml"
  "$W" serve --listen "127.0.0.1:$port" --config "$out/wherry.toml" --database "$db" > "$out/serve-$name.txt" 2>&1 &
  local server=$!
  for _ in $(seq 100); do grep -q "Serving the Wherry API" "$out/serve-$name.txt" 2>/dev/null && break; sleep 0.2; done
  sleep 1  # the subscriber's connection (checked below by the stored count)
  local url="http://127.0.0.1:$port" last_deadline
  last_deadline="$(python3 bench/sensors_alerts.py setup "$url" bench-secret-0123456789 "$kettles" 0 "$secs")"
  python3 bench/sensors_alerts.py probe "$url" bench-secret-0123456789 $((secs * 4)) 0 "$probes" > "$out/probes-$name.txt" &
  local prober=$!

  WHERRY_SECRET=bench-secret-0123456789 WHERRY_DEVICES=$devices \
    wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/sensors.lua "http://127.0.0.1:$port" > "$out/wrk-$name.txt"
  local stored_http; stored_http="$(stored "127.0.0.1:$port")"
  local http_rate non2xx
  http_rate="$(sed -n 's/^Requests\/sec: *//p' "$out/wrk-$name.txt")"
  non2xx="$(sed -n 's/.*Non-2xx or 3xx responses: *//p' "$out/wrk-$name.txt")"
  local p99; p99="$(awk '$1 == "99%" {print $2}' "$out/wrk-$name.txt")"
  local rss_http; rss_http="$(awk '/VmHWM/ {print int($2/1024)}' /proc/$server/status)"
  echo "$name webhook: ${http_rate} requests/s over ${secs} s (${conns} connections, p99 ${p99}, non-2xx ${non2xx:-0}), $((stored_http / secs)) uplinks/s stored ($stored_http); server peak RSS ${rss_http} MiB"

  # MQTT: the rate the webhook reached is not the question; offer
  # 10,000/s worth (SECONDS × 10,000 messages, pre-written) as fast as the
  # publisher sends, and time until the hub has stored them all.
  local n=$((secs * 10000)) before after t0 t1
  python3 - "$n" "$devices" > "$out/mqtt.txt" <<'PY'
import sys, time
n, devices = int(sys.argv[1]), int(sys.argv[2])
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
for i in range(n):
    k = 10_000_000 + i
    print(f'{{"time":"{now}","deviceInfo":{{"devEui":"70b3d57e{k % devices:08x}"}},"fCnt":{k // devices},"fPort":85,"data":"AXVcAwAB"}}')
PY
  before="$(stored "127.0.0.1:$port")"
  t0="$(date +%s.%N)"
  # mosquitto_pub -l, in parts of 10,000 lines (one process given all 600,000
  # at once is cut off by the broker, "out of memory").
  rm -f "$out"/mqtt-part-*
  split -l 10000 "$out/mqtt.txt" "$out/mqtt-part-"
  for part in "$out"/mqtt-part-*; do
    mosquitto_pub -h 127.0.0.1 -p "$mport" -q 1 -t "application/bench/device/any/event/up" -l < "$part" \
      || echo "$name mqtt: a publisher failed" >&2
  done
  local deadline=$((SECONDS + 300))
  while :; do
    after="$(stored "127.0.0.1:$port")"
    [ $((after - before)) -ge "$n" ] && break
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.2
  done
  t1="$(date +%s.%N)"
  local rss; rss="$(awk '/VmHWM/ {print int($2/1024)}' /proc/$server/status)"
  python3 -c "print(f'$name mqtt: {($after - $before)} of $n stored in {($t1 - $t0):.1f} s = {($after - $before) / ($t1 - $t0):.0f} uplinks/s; server peak RSS $rss MiB')"
  kill "$prober" 2>/dev/null || true; wait "$prober" 2>/dev/null || true
  while [ "$(date +%s)" -lt $((last_deadline + 5)) ]; do sleep 1; done
  local sent; sent="$(wc -l < "$out/alerts-$name.txt")"
  echo "$name alerts: $(wc -l < "$out/probes-$name.txt") low-battery probes sent, $kettles kettle deadlines set, $sent alerts received:"
  python3 bench/sensors_alerts.py report "$out/alerts-$name.txt" | sed 's/^/  /'
  kill "$server" "$broker" "$receiver"; wait "$server" "$broker" "$receiver" 2>/dev/null || true
}

backends="${WHERRY_BACKENDS:-sqlite postgres}"
if [[ " $backends " == *" sqlite "* ]]; then
  db="$out/hub.db"
  "$W" init --database "sqlite://$db" > /dev/null
  registry_sql | sqlite3 "$db"
  run_backend sqlite "sqlite://$db"
fi
if [[ " $backends " == *" postgres "* ]]; then
  export WHERRY_AUDIT_DIR="$out/audit-postgres"  # not the user's own
  psql "$admin" -qc "DROP DATABASE IF EXISTS wherry_bench_sensors WITH (FORCE)" >/dev/null
  psql "$admin" -qc "CREATE DATABASE wherry_bench_sensors" >/dev/null
  "$W" init --database "$pg" > /dev/null
  registry_sql | psql "$pg" -q >/dev/null
  run_backend postgres "$pg"
  # WHERRY_BENCH_KEEP=1 keeps the database to look into afterwards.
  [ -n "${WHERRY_BENCH_KEEP:-}" ] || psql "$admin" -qc "DROP DATABASE IF EXISTS wherry_bench_sensors WITH (FORCE)" >/dev/null
fi
