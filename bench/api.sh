#!/usr/bin/env bash
# Load benchmark of the resident view API (issue 5's bars): a county of
# 100,000 residents, every partner's extract ingested and linked, served by
# `wherry serve` (release build) on SQLite and on PostgreSQL; wrk, a second
# process on loopback, sends authenticated requests (each audited by the
# server): resident views at random person ids (by a partner system
# registered for every source, so each view passes a legitimate-relationship
# check: the person is linked to one of its sources), then searches by family name
# and date of birth drawn from the social care extract; then a partner
# system pushing new library members (each validated, stored, matched in
# real time, placed and audited) from PUSHERS connections.
# Usage: bench/api.sh [POSTGRES_ADMIN_URL [SECONDS [CONNECTIONS [PUSHERS]]]]
#   WHERRY_BIN=path runs another build of wherry (for before/after figures).
#   WHERRY_BACKENDS="sqlite" (or "postgres") runs one backend only.
#   (default postgres://postgres@127.0.0.1:5432/test, 30 s, 12 connections)
# The server and wrk share this machine's cores. Rate limits are off for the
# run (one token carries the whole load; the limit is per caller).
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${1:-postgres://postgres@127.0.0.1:5432/test}"
secs="${2:-30}"
conns="${3:-12}"
pushers="${4:-2}"
pg="${admin%/*}/wherry_bench_api"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -n "${WHERRY_BIN:-}" ]; then W="$WHERRY_BIN"; else cargo build --release --quiet; W="$PWD/target/release/wherry"; fi
out=bench/out/api
mkdir -p "$out"
echo "bench/api.sh on $(date -u +%F), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); ${secs} s per run, ${conns} connections"

[ -f "$out/county/summary.json" ] || "$W" synth --residents 100000 --seed 11 --out "$out/county" >/dev/null
# Search terms: family name and date of birth of 2,000 social care clients.
python3 - "$out/county/extracts/social_care.csv" "$out/terms.txt" <<'PY'
import csv, sys, urllib.parse
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w") as f:
    for r in rows[:2000]:
        if r["surname"] and r["date_of_birth"]:
            f.write(urllib.parse.urlencode({"family_name": r["surname"], "dob": r["date_of_birth"]}) + "\n")
PY
printf '[limits]\nburst = 0\n[matcher]\nreload_seconds = 0\n' > "$out/wherry.toml"

for url in "sqlite://$out/api.db" "$pg"; do
  backend="${url%%:*}"
  case " ${WHERRY_BACKENDS:-sqlite postgres} " in *" $backend "*) ;; *) continue ;; esac
  # Each store's audit trail (key and checkpoints) starts afresh with it.
  export WHERRY_AUDIT_DIR="$out/audit-$backend"
  rm -rf "$WHERRY_AUDIT_DIR"
  case "$url" in
    sqlite://*) rm -f "$out/api.db" "$out/api.db-wal" "$out/api.db-shm" ;;
    *) psql -q "$admin" -c "DROP DATABASE IF EXISTS wherry_bench_api" -c "CREATE DATABASE wherry_bench_api" 2>&1 | grep -v NOTICE || true ;;
  esac
  "$W" init --database "$url" >/dev/null
  for m in examples/sources/*.toml; do
    s="$(basename "$m" .toml)"
    f="$out/county/extracts/$s.csv"; [ -f "$f" ] || f="$out/county/extracts/$s.jsonl"
    "$W" ingest --source "$m" "$f" --events "$out/county/extracts/${s}_events.csv" --database "$url" >/dev/null
  done
  persons="$("$W" link run --database "$url" | sed -n 's/.* into \([0-9]*\) persons.*/\1/p')"
  token="$("$W" user add "bench-advisor" --role advisor --database "$url" | tail -1)"
  every=""; for m in examples/sources/*.toml; do every="$every --source $(basename "$m" .toml)"; done
  # shellcheck disable=SC2086
  viewer="$("$W" user add "bench-viewer" --role partner_system $every --database "$url" | tail -1)"
  partner="$("$W" user add "bench-partner" --role partner_system --source libraries --database "$url" | tail -1)"
  "$W" serve --listen 127.0.0.1:0 --config "$out/wherry.toml" --database "$url" > "$out/serve.txt" &
  server=$!
  until grep -q "Serving the Wherry API" "$out/serve.txt"; do
    kill -0 "$server" || { echo "wherry serve exited" >&2; exit 1; }
    sleep 0.1
  done
  addr="$(sed -n 's|.*http://\([^/]*\)/.*|\1|p' "$out/serve.txt")"
  before="$("$W" audit verify --database "$url" | sed -n 's/.*holds \([0-9]*\) entr.*/\1/p')"
  for mode in view search push; do
    t="$token"; c="$conns"; p=contact_centre
    [ "$mode" = view ] && { t="$viewer"; p=direct_care; }
    [ "$mode" = push ] && { t="$partner"; c="$pushers"; p=direct_care; }
    r="$(WHERRY_MODE=$mode WHERRY_PERSONS=$persons WHERRY_TOKEN=$t WHERRY_TERMS=$out/terms.txt WHERRY_PURPOSE_HEADER=$p \
      wrk -t1 -c"$c" -d"${secs}s" -s bench/api.lua "http://$addr" | grep RESULT)"
    printf '%-8s %-7s %s\n' "$backend" "$mode" "${r#RESULT }"
  done
  kill -TERM "$server"; wait "$server" || true
  after="$("$W" audit verify --database "$url" | sed -n 's/.*holds \([0-9]*\) entr.*/\1/p')"
  echo "$backend: $persons persons; audit entries written during the runs: $((after - before)); chain verified"
done
