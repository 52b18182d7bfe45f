#!/usr/bin/env bash
# Inserts a sample row into the local CRM outbox (local run only: the CRM stand-in on :8091).
#   scripts/insert-crm-outbox-row.sh [event_type] [payload.json]
# event_type defaults to order.confirmed; the payload to the matching sample in src/test/resources/samples/crm.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
type="${1:-order.confirmed}"
payload="${2:-$here/src/test/resources/samples/crm/$type.json}"
crm="${HERALD_LOCAL_CRM:-http://localhost:8091}"
curl -sS -X POST "$crm/outbox/$type" -H 'Content-Type: application/json' --data-binary @"$payload"
