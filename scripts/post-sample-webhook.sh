#!/usr/bin/env bash
# Posts a correctly signed sample ticket event to a running Herald (local profile by default).
#   scripts/post-sample-webhook.sh [sample.json] [base-url]
# The signature is base64(HMAC-SHA256(secret, timestamp + raw body)), as Zendesk-style helpdesks send it.
# HERALD_SUPPORT_WEBHOOK_SECRET defaults to the local profile's DEMO secret.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sample="${1:-$here/src/test/resources/samples/support/ticket.status_changed.json}"
base="${2:-http://localhost:8080}"
secret="${HERALD_SUPPORT_WEBHOOK_SECRET:-local-demo-webhook-secret}"
timestamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
signature="$( { printf '%s' "$timestamp"; cat "$sample"; } | openssl dgst -sha256 -hmac "$secret" -binary | base64 -w0)"

echo "POST $base/webhooks/support  ($(basename "$sample"), signed at $timestamp)"
curl -sS -w '\nHTTP %{http_code}\n' -X POST "$base/webhooks/support" \
  -H 'Content-Type: application/json' \
  -H "X-Zendesk-Webhook-Signature-Timestamp: $timestamp" \
  -H "X-Zendesk-Webhook-Signature: $signature" \
  --data-binary @"$sample"
