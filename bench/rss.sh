#!/usr/bin/env bash
# Peak memory of a command, split into anonymous and file-backed (memory
# mapped) resident memory, sampled from /proc/PID/status every 0.2 s; the
# peak resident set (VmHWM) and the wall time as well. The command's own
# output goes to /dev/null and its errors to bench/out/rss.err.
# Usage: bench/rss.sh COMMAND [ARGS...]
# e.g.   bench/rss.sh target/release/wherry insight fire-targets --top 500 \
#          --purpose fire_prevention --operator bench-fire --on 2026-11-22 \
#          --database sqlite://bench/out/keep.db
set -uo pipefail
mkdir -p "$(dirname "$0")/out"
start=$(date +%s.%N)
"$@" >/dev/null 2>"$(dirname "$0")/out/rss.err" &
pid=$!
anon=0 file=0 hwm=0
while kill -0 "$pid" 2>/dev/null; do
  read -r a f h < <(awk '/^RssAnon/{a=$2} /^RssFile/{f=$2} /^VmHWM/{h=$2} END{print a+0, f+0, h+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0 0")
  (( a > anon )) && anon=$a
  (( f > file )) && file=$f
  (( h > 0 )) && hwm=$h
  sleep 0.2
done
wait "$pid"; rc=$?
printf 'exit %d; %.1f s; peak RSS %d MiB (anonymous %d MiB, file-backed %d MiB)\n' \
  "$rc" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')" $((hwm / 1024)) $((anon / 1024)) $((file / 1024))
exit "$rc"
