#!/usr/bin/env bash
# End-to-end benchmark of `wherry synth`: wall time and peak memory (RSS)
# for a county of N residents (default 1,000,000). Usage:
#   bench/synth.sh [RESIDENTS] [RUNS]
# Writes the county under bench/out/ and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
residents="${1:-1000000}"
runs="${2:-3}"

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
mkdir -p bench/out
echo "wherry synth --residents $residents, $runs runs, $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
for i in $(seq "$runs"); do
  rm -rf bench/out/county
  /usr/bin/time -f "%e %M" -o bench/out/time.txt \
    ./target/release/wherry synth --residents "$residents" --seed 7 --out bench/out/county >/dev/null
  read -r secs kib < bench/out/time.txt
  size=$(du -sh bench/out/county | cut -f1)
  printf 'run %d: %6.1f s wall, %6.1f MiB peak RSS, %s written\n' "$i" "$secs" "$(awk "BEGIN{print $kib/1024}")" "$size"
done
rm -rf bench/out/county
