#!/usr/bin/env bash
# Fire-prevention targeting and the demand report over a county (issue
# 15's bars: 1,000,000 residents in under 30 s and 2 GiB; demand in under
# 10 s): a synthetic county's partners' extracts and events ingested into
# a fresh store and linked, then `wherry insight fire-targets --top 500`
# (as a fire prevention officer, every resident listed audited) and
# `wherry insight demand` (as an analyst) timed for wall time and peak
# resident memory, on SQLite and on PostgreSQL. The forecasts'
# back-test against the statistical peer is bench/demand.sh.
# Usage: bench/insight.sh [POSTGRES_ADMIN_URL [RESIDENTS]]
#   WHERRY_BACKENDS="sqlite" (or "postgres") runs one backend only.
#   WHERRY_KEEP=1 keeps the SQLite store (bench/out/insight.db, with the
#   users bench-fire and bench-analyst) for repeated runs, e.g. under
#   bench/rss.sh.
# The county is kept under bench/out/ between runs; stores are made afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${1:-postgres://postgres@127.0.0.1:5432/test}"
residents="${2:-1000000}"
pg="${admin%/*}/wherry_bench_insight"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
W="$PWD/target/release/wherry"
out=bench/out
county="$out/county-insight-$residents"
mkdir -p "$out"
echo "bench/insight.sh on $(date -u +%F), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); a county of $residents residents"
[ -f "$county/summary.json" ] || "$W" synth --residents "$residents" --seed 7 --out "$county" >/dev/null

run() { # name url
  local name="$1" url="$2"
  case "$url" in
    sqlite://*) rm -rf "${url#sqlite://}" "${url#sqlite://}-wal" "${url#sqlite://}-shm" "${url#sqlite://}.audit" ;;
    *) psql -q "$admin" -c "DROP DATABASE IF EXISTS wherry_bench_insight WITH (FORCE)" -c "CREATE DATABASE wherry_bench_insight" 2>&1 | grep -v NOTICE || true ;;
  esac
  "$W" init --database "$url" >/dev/null
  for m in examples/sources/*.toml; do
    local s; s="$(basename "$m" .toml)"
    local f="$county/extracts/$s.csv"; [ -f "$f" ] || f="$county/extracts/$s.jsonl"
    if [ -f "$f" ]; then
      "$W" ingest --source "$m" "$f" --events "$county/extracts/${s}_events.csv" --database "$url" >/dev/null
    else
      "$W" source register "$m" --database "$url" >/dev/null
    fi
  done
  "$W" link run --database "$url" >/dev/null
  "$W" user add bench-fire --role fire_prevention --database "$url" >/dev/null
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$W" insight fire-targets --top 500 \
    --purpose fire_prevention --operator bench-fire --on 2026-11-22 --database "$url" \
    > "$out/fire-targets-$name.csv" 2> "$out/fire-targets-$name.txt"
  read -r secs kib < "$out/time.txt"
  printf '%s: fire-targets --top 500: %.1f s, peak RSS %d MiB; %s\n' "$name" "$secs" "$((kib / 1024))" \
    "$(grep 'homes listed' "$out/fire-targets-$name.txt" | cut -d';' -f1)"
  # The demand report (issue 15's bar: under 10 s), as an analyst.
  "$W" user add bench-analyst --role analyst --database "$url" >/dev/null
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$W" insight demand --purpose planning \
    --operator bench-analyst --on 2026-11-22 --database "$url" \
    > "$out/demand-$name.csv" 2> "$out/demand-$name.txt"
  read -r secs kib < "$out/time.txt"
  printf '%s: demand: %.1f s, peak RSS %d MiB; %s\n' "$name" "$secs" "$((kib / 1024))" \
    "$(head -1 "$out/demand-$name.txt")"
}

backends="${WHERRY_BACKENDS:-sqlite postgres}"
[[ " $backends " != *" sqlite "* ]] || run sqlite "sqlite://$out/insight.db"
if [[ " $backends " == *" postgres "* ]]; then
  export WHERRY_AUDIT_DIR="$out/audit-insight"  # not the user's own, and new for a new store
  rm -rf "$WHERRY_AUDIT_DIR"
  run postgres "$pg"
  psql -q "$admin" -c "DROP DATABASE IF EXISTS wherry_bench_insight WITH (FORCE)" 2>&1 | grep -v NOTICE || true
fi
[ -n "${WHERRY_KEEP:-}" ] || rm -rf "$out"/insight.db "$out"/insight.db-wal "$out"/insight.db-shm "$out"/insight.db.audit
