#!/usr/bin/env bash
# Inserts a sample row into the local CRM outbox (local run only: the CRM stand-in on :8091).
#   scripts/insert-crm-outbox-row.sh [event_type] [payload.json]
# event_type defaults to order.confirmed; the payload to the matching sample in src/test/resources/samples/crm.
# The payload is stamped with the current time ("placedAt" and "updatedAt" become now, an order's "promisedBy"
# four days from now, "startsAt" two days
# from now; for appointment.rescheduled "previousStartsAt" two days and "startsAt" three days from now, so it moves
# the reminders of the appointment.scheduled sample); the row itself is dated by the outbox table (now), which is
# when Herald counts the event from.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
type="${1:-order.confirmed}"
payload="${2:-$here/src/test/resources/samples/crm/$type.json}"
crm="${LOCAL_CRM_URL:-http://localhost:8091}"
if [ ! -r "$payload" ]; then
  # Checked before anything is sent: the row used to be inserted with no payload after sed's "can't read".
  samples="$(cd "$here/src/test/resources/samples/crm" && ls *.json | sed 's/\.json$//' | paste -sd, - | sed 's/,/, /g')"
  if [ $# -ge 2 ]; then
    echo "no payload file $payload: nothing inserted" >&2
  else
    echo "no sample payload for $type ($payload): nothing inserted. Samples: $samples; or give a payload file as the second argument" >&2
  fi
  exit 2
fi
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$1" +%Y-%m-%dT%H:%M:%SZ; }
now="$(date -u +%s)"
stamp_now="$(iso "$now")"
stamp_later="$(iso $((now + 2 * 24 * 3600)))"
stamp_moved="$stamp_later"
if [ "$type" = appointment.rescheduled ]; then stamp_moved="$(iso $((now + 3 * 24 * 3600)))"; fi
promised="$(date -u -d "@$((now + 4 * 24 * 3600))" +%Y-%m-%d 2>/dev/null || date -u -r $((now + 4 * 24 * 3600)) +%Y-%m-%d)"
sed -E -e "s/(\"(placedAt|updatedAt)\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/\1\"$stamp_now\"/g" \
       -e "s/(\"promisedBy\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/\1\"$promised\"/g" \
       -e "s/(\"previousStartsAt\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/\1\"$stamp_later\"/g" \
       -e "s/(\"startsAt\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/\1\"$stamp_moved\"/g" "$payload" \
  | curl -sS -X POST "$crm/outbox/$type" -H 'Content-Type: application/json' --data-binary @-
