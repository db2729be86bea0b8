#!/usr/bin/env bash
# A first `wherry link run` on SQLite straight after a fresh ingest, for
# each build named (before/after comparisons, back to back): the county of
# 540,000 residents `bench/hub.sh` makes (bench/out/county54), every
# partner ingested into a fresh store, then one timed run with its stages.
# Usage: bench/link_first.sh WHERRY_BIN [WHERRY_BIN …]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/out/county54/summary.json ] || { echo "run bench/hub.sh … link first (it makes the county)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
for W in "$@"; do
  db="bench/out/link_first.db"; rm -rf "$db" "$db-wal" "$db-shm" "$db.audit"
  "$W" init --database "sqlite://$db" >/dev/null
  for s in social_care:social_care.csv gp_registrations:gp_registrations.jsonl fire_rescue:fire_rescue.csv \
           district_council:district_council.csv police_vulnerable:police_vulnerable.csv libraries:libraries.csv; do
    "$W" ingest --source "examples/sources/${s%%:*}.toml" "bench/out/county54/extracts/${s##*:}" --database "sqlite://$db" >/dev/null
  done
  echo "$W"
  /usr/bin/time -f "  wall %e s, peak %M KiB" "$W" link run --database "sqlite://$db" 2>&1 | grep -E "Seconds|wall"
  rm -rf "$db" "$db-wal" "$db-shm" "$db.audit"
done
