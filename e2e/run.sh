#!/usr/bin/env bash
# Wherry's web UI end to end in headless Chromium: builds a small hub (a
# synthetic county of 4,000 residents, every source ingested and linked, a
# user per role), starts `wherry serve`, and runs ui.test.mjs (Playwright
# driving Debian's chromium, axe-core checking WCAG 2.2 A and AA on every
# page), on SQLite and then on PostgreSQL ($WHERRY_TEST_DATABASE_URL, else
# the local server; a database of its own is made and dropped). The runs'
# screenshots go to target/e2e/screenshots/{sqlite,postgres} (never into
# tracked files: e2e/screenshots.sh copies the SQLite ones to docs/ui/ when
# the documentation's pictures should change). Then schemathesis checks the API
# against its OpenAPI document (e2e/schemathesis.sh).
# Usage: e2e/run.sh [PATH_TO_WHERRY]   (default: target/debug/wherry, brought up to date)
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"
. ./lib.sh
W="$(wherry_bin "${1:-}")"
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "e2e: Debian's chromium is needed (apt-get install chromium)" >&2; exit 1
  fi
fi
[ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ] && [ -d node_modules/oidc-provider ] \
  || npm ci --no-audit --no-fund --silent
work="$(mktemp -d)"
server=""
idp=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  [ -n "$idp" ] && kill "$idp" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The whole run on one store: ingest, link, users, serve, the browser.
run_on() {
  local db="$1" shots="$2"
  "$W" init --database "$db" >/dev/null
  for m in "$root"/examples/sources/*.toml; do
    s="$(basename "$m" .toml)"
    f="$work/county/extracts/$s.csv"; [ -f "$f" ] || f="$work/county/extracts/$s.jsonl"
    if [ -f "$f" ]; then
      "$W" ingest --source "$m" "$f" --events "$work/county/extracts/${s}_events.csv" --database "$db" >/dev/null
    else
      # A service with no extract (the sensor service): its agreement only.
      "$W" source register "$m" --database "$db" >/dev/null
    fi
  done
  "$W" link run --database "$db" >/dev/null
  token() { "$W" user add "$1" --role "$2" --database "$db" | tail -1; }
  roles="advisor caseworker fire_prevention steward analyst tec_team admin"
  by_role=""
  for r in $roles; do by_role="$by_role $r=$(token "e2e-$r" "$r")"; done
  # The county's home sensors: devices registered, the month replayed.
  "$W" device replay "$work/county" --operator e2e-tec_team --purpose direct_care --database "$db" >/dev/null
  # shellcheck disable=SC2086
  python3 - "$root/examples/sources" "$work/county/extracts/social_care.csv" "$work/fixture.json" \
    "$(token ann advisor)" "$(token fred fire_prevention)" "$(token sam steward)" "$(token dpo admin)" $by_role <<'PY'
import csv, json, pathlib, sys, tomllib
sources, extract, out, *rest = sys.argv[1:]
tokens = rest[:4]
tokens_by_role = dict(kv.split("=", 1) for kv in rest[4:])
grants = {}
for m in pathlib.Path(sources).glob("*.toml"):
    t = tomllib.loads(m.read_text())
    g = t["agreement"]["purposes"].get("fire_prevention", {})
    grants[t["source"]["id"]] = g.get("fields", []) + g.get("attributes", [])
# A client of social care with a family name long enough to misspell.
row = next(r for r in csv.DictReader(open(extract, encoding="utf-8"))
           if len(r["surname"]) >= 6 and r["surname"].isalpha() and r["date_of_birth"] and r["forename"].isalpha())
s = row["surname"]
# The tour's resident, planted in every county.
margaret = next(r for r in csv.DictReader(open(pathlib.Path(extract).parent.parent / "truth/residents.csv", encoding="utf-8"))
                if r["entity_id"] == "E0000001")
json.dump({
    "margaret": {"name": f'{margaret["given_name"]} {margaret["family_name"]}', "postcode": margaret["postcode"], "dob": margaret["dob"]},
    "tokens": dict(zip(["advisor", "fire", "steward", "admin"], tokens)),
    "tokens_by_role": tokens_by_role,
    "fire_grants": grants,
    "resident": {"given": row["forename"], "family": s, "misspelt": s[0] + s[2] + s[1] + s[3:], "dob": row["date_of_birth"]},
}, open(out, "w"))
PY
  # The council's identity provider (node-oidc-provider) on a port of its
  # own, with Wherry registered as its client at Wherry's address.
  read -r wport iport < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
  node oidc-provider.mjs "$iport" "http://127.0.0.1:$wport/oidc/callback" "$work/jwks.json" > "$work/idp.txt" 2>&1 &
  idp=$!
  wait_for_line "$work/idp.txt" "OIDC provider on" "$idp" "the OpenID provider"
  cat > "$work/wherry.toml" <<TOML
[oidc]
issuer = "http://127.0.0.1:$iport"
audience = "wherry"
jwks_file = "$work/jwks.json"
redirect_uri = "http://127.0.0.1:$wport/oidc/callback"
scopes = "profile roles"
TOML
  "$W" serve --listen "127.0.0.1:$wport" --config "$work/wherry.toml" --database "$db" > "$work/serve.txt" &
  server=$!
  wait_for_line "$work/serve.txt" "Serving the Wherry API" "$server" "wherry serve"
  url="$(served_url "$work/serve.txt")"
  mkdir -p "$shots"
  node ui.test.mjs "$url" "$work/fixture.json" "$shots"
  kill "$server" "$idp"; wait "$server" "$idp" 2>/dev/null || true; server=""; idp=""
}

"$W" synth --residents 4000 --seed 3 --out "$work/county" >/dev/null

echo "e2e: SQLite"
shots_dir="$root/target/e2e/screenshots"
rm -rf "$shots_dir"
run_on "sqlite://$work/hub.db" "$shots_dir/sqlite"

# PostgreSQL too: a database of its own, dropped afterwards.
pg="${WHERRY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
pgdb="wherry_e2e_$$"
psql "$pg" -qc "CREATE DATABASE $pgdb" >/dev/null || {
  echo "e2e: PostgreSQL at $pg did not take a new database; start it, or set WHERRY_TEST_DATABASE_URL" >&2
  exit 1
}
dropdb() { psql "$pg" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true; }
trap 'cleanup; dropdb' EXIT
echo "e2e: PostgreSQL"
# Its audit trail (key and checkpoints) in the run's own directory.
export WHERRY_AUDIT_DIR="$work/pg-audit"
run_on "${pg%/*}/$pgdb" "$shots_dir/postgres"

echo "e2e: the API against its OpenAPI document"
"$root/e2e/schemathesis.sh" "$W"
