#!/usr/bin/env bash
# End-to-end benchmark of the hub over a store (issue 4's throughput bars):
#   1. `wherry ingest` of a million-row CSV extract (district council, from a
#      county of 1.8 million residents) and a million-line FHIR Patient
#      extract (GP, from a county of 1 million), on SQLite and PostgreSQL;
#   2. `wherry link run` over a store of 1,008,143 records (a county of
#      540,000, every partner ingested): a first run and two later runs, on
#      SQLite and PostgreSQL, beside `wherry link` in memory on the same
#      records, run in the same session.
# Usage: bench/hub.sh [POSTGRES_ADMIN_URL [all|ingest|link]]
#   (default postgres://postgres@127.0.0.1:5432/test, all)
# Counties are kept under bench/out/ between runs; stores are made afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${1:-postgres://postgres@127.0.0.1:5432/test}"
what="${2:-all}"
pg="${admin%/*}/wherry_bench_hub"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
# WHERRY_BIN=path runs another build of wherry (for before/after figures).
if [ -n "${WHERRY_BIN:-}" ]; then W="$WHERRY_BIN"; else cargo build --release --quiet; W="$PWD/target/release/wherry"; fi
out=bench/out
mkdir -p "$out"
echo "bench/hub.sh on $(date -u +%F), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"

county() { # residents dir [--canonical]
  [ -f "$out/$2/summary.json" ] || "$W" synth --residents "$1" --seed "${4:-7}" --out "$out/$2" ${3:-} >/dev/null
}
fresh() { # url
  case "$1" in
    sqlite://*) rm -f "${1#sqlite://}" "${1#sqlite://}-wal" "${1#sqlite://}-shm" ;;
    *) psql -q "$admin" -c "DROP DATABASE IF EXISTS wherry_bench_hub" -c "CREATE DATABASE wherry_bench_hub" 2>&1 | grep -v NOTICE || true ;;
  esac
  "$W" init --database "$1" >/dev/null
}
timed() { # label command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/stdout.txt"
  read -r secs kib < "$out/time.txt"
  printf '%-44s %7.1f s %7.0f MiB  %s\n' "$label" "$secs" "$(awk "BEGIN{print $kib/1024}")" "$(grep -a 'Seconds by stage' "$out/stdout.txt" || true)"
  echo "$secs" > "$out/last.txt"
}

if [ "$what" != link ]; then
  county 1800000 county18
  county 1000000 county10
fi
county 540000 county54 --canonical 5

[ "$what" = link ] || { echo "== ingest: 1,021,306 CSV rows and 999,359 FHIR Patient lines =="
for url in "sqlite://$out/ingest.db" "$pg"; do
  for job in "district_council county18/extracts/district_council.csv 1021306" \
             "gp_registrations county10/extracts/gp_registrations.jsonl 999359"; do
    set -- $job
    fresh "$url"
    timed "ingest $1 (${url%%:*})" "$W" ingest --source "examples/sources/$1.toml" "$out/$2" --database "$url"
    printf '%44s %7.0f rows/s\n' "" "$(awk "BEGIN{print $3/$(cat "$out/last.txt")}")"
  done
done; }

[ "$what" = ingest ] || { echo "== link run over 1,008,143 records, and in memory =="
timed "link in memory" "$W" link --input "$out/county54/linkage/records.csv" --out "$out/linked"
for url in "sqlite://$out/link.db" "$pg"; do
  fresh "$url"
  for s in social_care:social_care.csv gp_registrations:gp_registrations.jsonl fire_rescue:fire_rescue.csv \
           district_council:district_council.csv police_vulnerable:police_vulnerable.csv libraries:libraries.csv; do
    "$W" ingest --source "examples/sources/${s%%:*}.toml" "$out/county54/extracts/${s##*:}" --database "$url" >/dev/null
  done
  timed "link run, first (${url%%:*})" "$W" link run --database "$url"
  timed "link run, later (${url%%:*})" "$W" link run --database "$url"
  timed "link run, later (${url%%:*})" "$W" link run --database "$url"
done
timed "link in memory" "$W" link --input "$out/county54/linkage/records.csv" --out "$out/linked"; }
psql -q "$admin" -c "DROP DATABASE IF EXISTS wherry_bench_hub" 2>&1 | grep -v NOTICE || true
rm -f "$out"/*.db "$out"/*.db-wal "$out"/*.db-shm
