#!/usr/bin/env bash
# Wherry and Splink 5.0 (DuckDB backend) side by side, on the same files, on
# this machine: FEBRL3 (dedupe), FEBRL4 (link-only), both reduced to names and
# date of birth (issue 16), and synthetic counties
# of about 100,000 and 1,000,000 records from `wherry synth --canonical`.
# Both tools' outputs are scored by the same evaluator (`wherry link evaluate`).
#
#   bench/vs_splink.sh            # all four datasets
#   bench/vs_splink.sh small      # FEBRL and 100k only
#
# Installs Splink into bench/.venv; writes bench/out/vs_splink.md.
set -euo pipefail
cd "$(dirname "$0")/.."
which_sets="${1:-all}"
febrl="${FEBRL_DIR:-../shared/data/febrl}"
out=bench/out/vs_splink
threshold=0.9
mkdir -p "$out"

if [ ! -x bench/.venv/bin/python ] || ! bench/.venv/bin/python -c 'import splink; assert splink.__version__ == "5.0.0"' 2>/dev/null; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q splink==5.0.0
fi
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
W=./target/release/wherry

truth_febrl() { # FILE... -> truth CSV on stdout (source,record_id,entity_id)
  echo "source,record_id,entity_id"
  for f in "$@"; do
    s=$(basename "$f" .csv)
    bench/.venv/bin/python -c "
import csv, sys
for r in csv.DictReader(open('$f')):
    print('$s,' + r['rec_id'].strip() + ',' + r['entity_id'].strip())"
  done
}

# name | settings args for wherry | splink dataset | truth | files...
run() {
  local name=$1 wargs=$2 sdata=$3 truth=$4; shift 4
  local inputs=() ; for f in "$@"; do inputs+=(--input "$f"); done
  rm -rf "$out/$name"; mkdir -p "$out/$name"
  /usr/bin/time -f "%e %M" -o "$out/$name/wherry.time" $W link $wargs --threshold $threshold "${inputs[@]}" --out "$out/$name/wherry" >/dev/null
  /usr/bin/time -f "%e %M" -o "$out/$name/splink.time" bench/.venv/bin/python bench/splink_run.py "$sdata" "$out/$name/splink" $threshold "$@" >"$out/$name/splink.log" 2>&1
  for tool in wherry splink; do
    $W link evaluate --clusters "$out/$name/$tool/clusters.csv" --truth "$truth" --pairs "$out/$name/$tool/pairs.csv" > "$out/$name/$tool.eval"
    read -r secs kib < "$out/$name/$tool.time"
    pair=$(grep "pairs with probability" "$out/$name/$tool.eval" | awk '{print $NF}')
    clus=$(grep "cluster F1" "$out/$name/$tool.eval" | awk '{print $NF}')
    printf '| %s | %s | %s | %s | %.1f | %.0f |\n' "$name" "$tool" "$pair" "$clus" "$secs" "$(awk "BEGIN{print $kib/1024}")" | tee -a "$out/table.md"
  done
}

echo "| data | tool | pairwise F1 at p ≥ 0.5 | cluster F1 (threshold $threshold) | wall s | peak MiB |" > "$out/table.md"
echo "| --- | --- | --- | --- | --- | --- |" >> "$out/table.md"
truth_febrl "$febrl/febrl3.csv" > "$out/febrl3_truth.csv"
truth_febrl "$febrl/febrl4a.csv" "$febrl/febrl4b.csv" > "$out/febrl4_truth.csv"
run febrl3 "--settings bench/febrl3.toml" febrl3 "$out/febrl3_truth.csv" "$febrl/febrl3.csv"
run febrl4 "--settings bench/febrl4.toml" febrl4 "$out/febrl4_truth.csv" "$febrl/febrl4a.csv" "$febrl/febrl4b.csv"
# Sparse FEBRL (issue 16): given name, surname and date of birth only, as a
# library's or a voluntary group's extract holds; Wherry with no settings.
sparse() { # FILE... -> FILE_sparse.csv under $out, names and date of birth only
  for f in "$@"; do
    bench/.venv/bin/python -c "
import csv, sys
w = csv.writer(open('$out/' + '$(basename "$f" .csv)' + '_sparse.csv', 'w', newline=''))
w.writerow(['record_id', 'given_name', 'family_name', 'dob'])
for r in csv.DictReader(open('$f')):
    w.writerow([r['rec_id'].strip(), r['given_name'].strip(), r['surname'].strip(), r['date_of_birth'].strip()])"
  done
}
sparse "$febrl/febrl3.csv" "$febrl/febrl4a.csv" "$febrl/febrl4b.csv"
sed 's/^febrl3,/febrl3_sparse,/' "$out/febrl3_truth.csv" > "$out/febrl3_sparse_truth.csv"
sed 's/^febrl4a,/febrl4a_sparse,/; s/^febrl4b,/febrl4b_sparse,/' "$out/febrl4_truth.csv" > "$out/febrl4_sparse_truth.csv"
run febrl3-sparse "" sparse-dedupe "$out/febrl3_sparse_truth.csv" "$out/febrl3_sparse.csv"
run febrl4-sparse "--mode link-only" sparse-link "$out/febrl4_sparse_truth.csv" "$out/febrl4a_sparse.csv" "$out/febrl4b_sparse.csv"
for size in 54000 540000; do
  [ "$which_sets" = small ] && [ $size = 540000 ] && continue
  county="$out/county-$size"
  # Made afresh each run: a county kept from an earlier build would hold
  # whatever the synthetic county's tables were then.
  $W synth --residents $size --seed 11 --canonical --out "$county" --force >/dev/null
  records=$(($(wc -l < "$county/linkage/records.csv") - 1))
  run "synthetic-$records" "" synthetic "$county/truth/truth.csv" "$county/linkage/records.csv"
done
# A sparse county (issue 16): names and date of birth only.
county="$out/county-sparse-54000"
$W synth --residents 54000 --seed 11 --columns given_name,family_name,dob --out "$county" --force >/dev/null
records=$(($(wc -l < "$county/linkage/records.csv") - 1))
run "synthetic-sparse-$records" "" sparse-synthetic "$county/truth/truth.csv" "$county/linkage/records.csv"
{
  echo "Wherry vs Splink 5.0, $(date -u +%Y-%m-%d), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem/{print $2}') GiB"
  echo
  cat "$out/table.md"
} > bench/out/vs_splink.md
cat bench/out/vs_splink.md
