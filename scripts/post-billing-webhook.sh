#!/usr/bin/env bash
# Posts a Stripe-signed sample billing event to a running Herald (local profile by default).
#   scripts/post-billing-webhook.sh [sample.json] [base-url]
# Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.rawBody")>.
# HERALD_BILLING_WEBHOOK_SECRET defaults to the local profile's DEMO secret.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sample="${1:-$here/src/test/resources/samples/billing/invoice.payment_failed.json}"
base="${2:-http://localhost:8080}"
secret="${HERALD_BILLING_WEBHOOK_SECRET:-local-demo-billing-secret}"
t="$(date -u +%s)"
v1="$( { printf '%s.' "$t"; cat "$sample"; } | openssl dgst -sha256 -hmac "$secret" | sed 's/^.*= //')"

echo "POST $base/webhooks/billing  ($(basename "$sample"), t=$t)"
curl -sS -w '\nHTTP %{http_code}\n' -X POST "$base/webhooks/billing" \
  -H 'Content-Type: application/json' \
  -H "Stripe-Signature: t=$t,v1=$v1" \
  --data-binary @"$sample"
