# Shared by the e2e scripts (sourced).

# wait_for_line FILE TEXT PID WHAT: waits until FILE holds TEXT (a line a
# process prints once it is ready); fails, naming WHAT, if PID exits first.
wait_for_line() {
  until grep -q "$2" "$1"; do
    kill -0 "$3" 2>/dev/null || { cat "$1" >&2; echo "e2e: $4 exited" >&2; exit 1; }
    sleep 0.2
  done
}

# served_url FILE: the http://HOST:PORT `wherry serve` printed to FILE.
served_url() { sed -n 's|.*\(http://[^/]*\)/.*|\1|p' "$1"; }

# wherry_bin [PATH]: PATH, or the workspace's debug build, (re)built now so
# the run never tests a stale binary.
wherry_bin() {
  if [ -n "${1:-}" ]; then echo "$1"; return; fi
  (cd "$root" && cargo build --quiet --bin wherry) >&2
  echo "$root/target/debug/wherry"
}
