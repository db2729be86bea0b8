#!/usr/bin/env bash
# Server time of each web UI page with 100,000 residents loaded (issue 6's
# bar: p95 ≤ 50 ms). Uses the SQLite store bench/api.sh builds
# (bench/out/api/api.db: a county of 100,000 residents, every source
# ingested and linked); run that first. Starts `wherry serve` (release),
# signs in as an advisor, a steward and an admin, and requests each page
# in turn from one client on loopback, timing each response in full.
# Usage: bench/ui.sh [REQUESTS_PER_PAGE]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300}"
out=bench/out/api
[ -f "$out/api.db" ] || { echo "run bench/api.sh first (it builds $out/api.db)" >&2; exit 1; }
cargo build --release --quiet
W="$PWD/target/release/wherry"
url="sqlite://$out/api.db"
export WHERRY_AUDIT_DIR="$out/audit-sqlite"   # api.sh's trail for this store
echo "bench/ui.sh on $(date -u +%F), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); $n requests a page"
tokens=()
for role in advisor steward admin; do
  tokens+=("$("$W" user add "ui-$role-$RANDOM$RANDOM" --role "$role" --database "$url" | tail -1)")
done
"$W" serve --listen 127.0.0.1:0 --config "$out/wherry.toml" --database "$url" > "$out/ui-serve.txt" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
until grep -q "Serving the Wherry API" "$out/ui-serve.txt"; do sleep 0.1; done
base="$(sed -n 's|.*\(http://[^/]*\)/.*|\1|p' "$out/ui-serve.txt")"
python3 - "$base" "$n" "$out/terms.txt" "${tokens[@]}" <<'PY'
import http.cookiejar, random, re, sys, time, urllib.parse, urllib.request
base, n, terms, advisor, steward, admin = sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:]
random.seed(1)
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
def browser(token):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    html = op.open(base + "/sign-in").read().decode()
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
    try: op.open(base + "/sign-in", urllib.parse.urlencode({"csrf": csrf, "token": token}).encode())
    except urllib.error.HTTPError as e: assert e.code == 303, e.code
    return op
def csrf_of(op, path):
    return re.search(r'name="csrf" value="([0-9a-f]+)"', op.open(base + path).read().decode()).group(1)
def timed(label, op, make):
    times = []
    for _ in range(n):
        path, data = make()
        t = time.perf_counter()
        with op.open(base + path, data) as r:
            r.read()
            assert r.status == 200, (label, r.status)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"{label:<34} p50 {times[len(times)//2]:6.1f} ms   p95 {times[int(len(times)*0.95)]:6.1f} ms   max {times[-1]:6.1f} ms")
adv, stw, adm = browser(advisor), browser(steward), browser(admin)
for op in (stw,):
    op.open(base + "/purpose")
persons = 99096
lines = open(terms).read().split("\n")[:-1]
searches = []
for l in lines:
    q = urllib.parse.parse_qs(l)
    searches.append({"name": q["family_name"][0], "dob": q["dob"][0]})
csrf = csrf_of(adv, "/search")
timed("GET /sign-in", urllib.request.build_opener(), lambda: ("/sign-in", None))
timed("GET /search (form)", adv, lambda: ("/search", None))
timed("POST /search (name, date of birth)", adv, lambda: ("/search", urllib.parse.urlencode({"csrf": csrf, **random.choice(searches)}).encode()))
timed("GET /residents/{id}", adv, lambda: (f"/residents/P{random.randint(1, persons):09d}", None))
timed("GET /review", stw, lambda: ("/review", None))
items = re.findall(r'href="/review/(\d+)"', stw.open(base + "/review").read().decode())
timed("GET /review/{id}", stw, lambda: (f"/review/{random.choice(items)}", None))
timed("GET /audit (newest 500)", adm, lambda: ("/audit", None))
timed("GET /audit?resident=", adm, lambda: (f"/audit?resident=P{random.randint(1, persons):09d}", None))
PY
