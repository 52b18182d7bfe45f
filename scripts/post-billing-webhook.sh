#!/usr/bin/env bash
# Posts a Stripe-signed sample billing event to a running Herald (local profile by default).
#   scripts/post-billing-webhook.sh [sample.json] [base-url]
# The event is stamped with the current time ("created" and "paid_at" become now, "next_payment_attempt",
# "trial_end" and "period_end" three days from now), so it is well within its send window: a sample dated days ago would be
# sent late, counted in herald_window_missed_total and alerted on the ops webhook as a failure.
# Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.rawBody")>.
# HERALD_BILLING_WEBHOOK_SECRET defaults to the local profile's DEMO secret
# (the compose stack's sandbox secret is whsec_compose_sandbox).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sample="${1:-$here/src/test/resources/samples/billing/invoice.payment_failed.json}"
base="${2:-http://localhost:8080}"
secret="${HERALD_BILLING_WEBHOOK_SECRET:-local-demo-billing-secret}"
t="$(date -u +%s)"
later=$((t + 3 * 24 * 3600))
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
sed -E -e "s/(\"(created|paid_at)\"[[:space:]]*:[[:space:]]*)[0-9]+/\1$t/g" \
       -e "s/(\"(next_payment_attempt|trial_end|period_end)\"[[:space:]]*:[[:space:]]*)[0-9]+/\1$later/g" "$sample" > "$body"
v1="$( { printf '%s.' "$t"; cat "$body"; } | openssl dgst -sha256 -hmac "$secret" | sed 's/^.*= //')"

echo "POST $base/webhooks/billing  ($(basename "$sample"), stamped and signed at t=$t)"
curl -sS -w '\nHTTP %{http_code}\n' -X POST "$base/webhooks/billing" \
  -H 'Content-Type: application/json' \
  -H "Stripe-Signature: t=$t,v1=$v1" \
  --data-binary @"$body"
