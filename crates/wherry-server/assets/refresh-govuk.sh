#!/usr/bin/env bash
# Refreshes the vendored GOV.UK Frontend (the Design System's built CSS and
# JavaScript) from the npm registry. Usage: refresh-govuk.sh [VERSION]
#
# Left out on purpose: the GDS Transport font and the crown crest and
# favicons, which may be used only on GOV.UK itself; the CSS's @font-face
# rules are removed, so text falls back to the Design System's own
# fallback (Arial).
set -euo pipefail
version="${1:-6.6.0}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "govuk-frontend@$version" >/dev/null && tar xzf govuk-frontend-*.tgz)
dist="$work/package/dist/govuk"
python3 - "$dist/govuk-frontend.min.css" "$here/govuk/govuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*\}", "", css)
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
assert "/assets/fonts" not in css and "@font-face" not in css
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed 's|//# sourceMappingURL=.*||' "$dist/govuk-frontend.min.js" > "$here/govuk/govuk-frontend.min.js"
echo "$version" > "$here/govuk/VERSION"
echo "GOV.UK Frontend $version vendored into $here/govuk"
