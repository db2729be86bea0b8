#!/usr/bin/env bash
# The layers' boundaries, checked at grep level (issue 11):
# - the server and the CLI hold no SQL: the store's modules do;
# - neither calls a store method that returns a person's fields: such reads
#   (and their audit entries) are wherry-access's.
# Prints every offending line and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

dirs=(crates/wherry-server/src crates/wherry/src)
failed=0

# SQL: statements as string literals, or sqlx itself.
sql='"[[:space:]]*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|COPY)[[:space:]]|sqlx::'
if grep -rnE "$sql" "${dirs[@]}"; then
  echo "boundaries: SQL above belongs in wherry-store" >&2
  failed=1
fi

# Store reads that return personal data (record fields, versions, events,
# audit entries about a person), and the raw read of a person's links.
reads='\.(linked_current|linked_events|event_counts|linked_records|person_versions|person_events|current_record|current_records|versions|audit_about|audit_search|review_item|review_items|audit_log)\('
if grep -rnE "$reads" "${dirs[@]}"; then
  echo "boundaries: reads of personal data above must go through wherry-access" >&2
  failed=1
fi

if [ "$failed" = 0 ]; then
  echo "boundaries: the server and the CLI hold no SQL and read no personal data from the store"
fi
exit "$failed"
