#!/usr/bin/env bash
# Posts a correctly signed sample ticket event to a running Herald (local profile by default).
#   scripts/post-sample-webhook.sh [sample.json] [base-url]
# The event is stamped with the current time ("time" and "detail.updated_at" become now) and a new event id, so it is a new
# event each run and well within its send window: a sample dated days ago would be sent late, counted in
# herald_window_missed_total and alerted on the ops webhook as a failure.
# The signature is base64(HMAC-SHA256(secret, timestamp + raw body)), as Zendesk-style helpdesks send it.
# HERALD_SUPPORT_WEBHOOK_SECRET defaults to the local profile's DEMO secret
# (the compose stack's sandbox secret is compose-sandbox-support-secret).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sample="${1:-$here/src/test/resources/samples/support/ticket.status_changed.json}"
base="${2:-http://localhost:8080}"
secret="${HERALD_SUPPORT_WEBHOOK_SECRET:-local-demo-webhook-secret}"
timestamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
eventid="01LOCAL$(date -u +%s%N)"   # a new event each run, as the helpdesk would send it (the first "id" is the event's)
sed -E -e "0,/(\"id\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/s//\1\"$eventid\"/" \
       -e "s/(\"time\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/\1\"$timestamp\"/" \
       -e "s/(\"updated_at\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"/\1\"$timestamp\"/" "$sample" > "$body"
signature="$( { printf '%s' "$timestamp"; cat "$body"; } | openssl dgst -sha256 -hmac "$secret" -binary | base64 | tr -d '\n')"

echo "POST $base/webhooks/support  ($(basename "$sample"), stamped and signed at $timestamp)"
curl -sS -w '\nHTTP %{http_code}\n' -X POST "$base/webhooks/support" \
  -H 'Content-Type: application/json' \
  -H "X-Zendesk-Webhook-Signature-Timestamp: $timestamp" \
  -H "X-Zendesk-Webhook-Signature: $signature" \
  --data-binary @"$body"
