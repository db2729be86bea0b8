#!/usr/bin/env bash
# The API against its OpenAPI document: schemathesis (from PyPI, in a venv
# made once under target/) runs every check it has against a real
# `wherry serve` on a small demo hub, once for each role on the operations
# that role is for. Fails on any server error or non-conformance.
# Usage: e2e/schemathesis.sh [PATH_TO_WHERRY]
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"
. ./lib.sh
W="$(wherry_bin "${1:-}")"
venv="$root/target/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$W" demo --residents 300 --seed 5 --dir "$work/demo" --no-serve > "$work/demo.txt"
token() { awk -v u="$1" '$2 == u {print $3}' "$work/demo.txt"; }
# No per-caller or failed-authentication limits: the run is one fast client.
printf 'secure_cookies = false\n[limits]\nburst = 0\n[auth_failures]\nburst = 0\n[matcher]\nreload_seconds = 0\n' > "$work/wherry.toml"
"$W" serve --listen 127.0.0.1:0 --config "$work/wherry.toml" --database "sqlite://$work/demo/hub.db" > "$work/serve.txt" &
server=$!
wait_for_line "$work/serve.txt" "Serving the Wherry API" "$server" "wherry serve"
url="$(served_url "$work/serve.txt")"

failed=0
# role user, purpose, the operations (a path regex) the role is for.
while read -r user purpose paths; do
  echo "schemathesis: $user ($purpose) on $paths"
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$root/e2e/schemathesis.toml" run "$url/openapi.json" \
      --checks all --max-examples 100 --seed 1 --no-color \
      --include-path-regex "$paths" \
      -H "Authorization: Bearer $(token "$user")" -H "Wherry-Purpose: $purpose") > "$work/run.txt" 2>&1 || {
    failed=1
    cat "$work/run.txt"
  }
  sed -n 's/^ *\([0-9]* generated.*\)/  \1/p' "$work/run.txt"
  tail -1 "$work/run.txt"
done <<'ROLES'
demo-advisor contact_centre ^/(api/v1/residents|fhir/|healthz|metrics|openapi)
demo-steward data_quality ^/api/v1/(review|links|unlinks|changes)
demo-partner direct_care ^/api/v1/(sources|changes)
demo-caseworker direct_care ^/api/v1/caseload
demo-tec direct_care ^/api/v1/(sensors|open-data)
demo-admin subject_rights ^/api/v1/residents/\{id\}/
ROLES
exit "$failed"
