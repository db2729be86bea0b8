#!/usr/bin/env bash
# The demand forecasts' back-test, side by side on the same series in one
# run (issue 15: Wherry beats seasonal naive and is within 5% of a
# well-known statistical peer or better): a synthetic county ingested and
# linked into a fresh SQLite store, `wherry insight demand` (which
# back-tests its own model and seasonal naive by rolling origin, and
# prints their MASE), then statsforecast's AutoETS on the report's series
# with exactly the same origins, steps and scale (bench/demand_peer.py,
# which also recomputes seasonal naive so the protocols can be seen to
# agree). statsforecast is installed from PyPI into a venv here.
# Usage: bench/demand.sh [RESIDENTS]   (default 50,000; seed 3)
set -euo pipefail
cd "$(dirname "$0")/.."
residents="${1:-50000}"
out=bench/out
mkdir -p "$out"
cargo build --release --quiet
W="$PWD/target/release/wherry"
venv="$out/venv-forecast"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q statsforecast pandas
work="$out/demand-$residents"
rm -rf "$work" && mkdir -p "$work"
echo "bench/demand.sh on $(date -u +%F), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); a county of $residents residents (seed 3)"
"$W" synth --residents "$residents" --seed 3 --out "$work/county" >/dev/null
db="sqlite://$work/hub.db"
"$W" init --database "$db" >/dev/null
for m in examples/sources/*.toml; do
  s="$(basename "$m" .toml)"
  f="$work/county/extracts/$s.csv"; [ -f "$f" ] || f="$work/county/extracts/$s.jsonl"
  if [ -f "$f" ]; then
    "$W" ingest --source "$m" "$f" --events "$work/county/extracts/${s}_events.csv" --database "$db" >/dev/null
  else
    "$W" source register "$m" --database "$db" >/dev/null
  fi
done
"$W" link run --database "$db" >/dev/null
"$W" user add bench-analyst --role analyst --database "$db" >/dev/null
"$W" insight demand --purpose planning --operator bench-analyst --on 2026-11-22 \
  --charts "$work/charts" --database "$db" > "$work/demand.csv" 2> "$work/demand.txt"
wherry=$(grep -o 'back-test MASE [0-9.]* (seasonal naive [0-9.]*) over [0-9]* forecasts' "$work/demand.txt")
echo "wherry: $(head -1 "$work/demand.txt")"
"$venv/bin/python" bench/demand_peer.py "$work/demand.csv" > "$work/peer.txt"
read -r _ ets n < <(grep '^autoets' "$work/peer.txt")
read -r _ naive _ < <(grep '^seasonal_naive' "$work/peer.txt")
w=$(sed -E 's/back-test MASE ([0-9.]*).*/\1/' <<< "$wherry")
printf 'MASE over %s forecasts: wherry %s, AutoETS %s, seasonal naive %s (recomputed by the peer script; wherry says %s)\n' \
  "$n" "$w" "$ets" "$naive" "$(sed -E 's/.*seasonal naive ([0-9.]*).*/\1/' <<< "$wherry")"
python3 -c "w=$w; e=$ets; print(f'wherry / AutoETS = {w/e:.3f} (the bar: at most 1.05)')"
