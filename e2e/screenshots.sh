#!/usr/bin/env bash
# Refreshes the documentation's pictures (docs/ui/*.png) from the last
# browser run's SQLite screenshots (target/e2e/screenshots/sqlite, written
# by e2e/run.sh). The test run itself never writes tracked files; run this
# when a page's look has changed and commit the pictures with the change.
# Usage: e2e/run.sh && e2e/screenshots.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
from="$root/target/e2e/screenshots/sqlite"
if ! compgen -G "$from/*.png" >/dev/null; then
  echo "e2e/screenshots.sh: no screenshots in $from; run e2e/run.sh first" >&2
  exit 1
fi
cp "$from"/*.png "$root/docs/ui/"
echo "copied $(ls "$from"/*.png | wc -l) screenshots to docs/ui/"
