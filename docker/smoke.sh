#!/usr/bin/env bash
# Smoke test of a running stack through nginx: `make smoke` (SMOKE_URL=http://localhost:8080).
#   1. GET  /nginx-health     nginx itself
#   2. GET  /health           the API and its dependencies (200 = ok or degraded)
#   3. POST /technical        a real engine answer for BTC-USD (retried while market data loads)
#   4. POST /chat             one chat turn (offline mode without LLM_MODEL)
#   5. GET  /ui/              the web chat page
# Each step retries (SMOKE_ATTEMPTS x SMOKE_DELAY seconds) before it counts as failed.
set -euo pipefail

BASE_URL="${1:-${SMOKE_URL:-http://localhost:8080}}"
ATTEMPTS="${SMOKE_ATTEMPTS:-30}"
DELAY="${SMOKE_DELAY:-2}"
REQUEST_ID="smoke-$(date +%s)-$$"
BODY="$(mktemp)"
trap 'rm -f "$BODY"' EXIT

passed=0
failed=0

# check NAME STATUS NEEDLE METHOD PATH [JSON]: passes when the answer has STATUS and NEEDLE
check() {
  local name="$1" expected="$2" needle="$3" method="$4" path="$5" data="${6:-}"
  local status attempt
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    if [[ -n "$data" ]]; then
      status="$(curl -sS -o "$BODY" -w '%{http_code}' --max-time 90 -X "$method" \
        -H 'Content-Type: application/json' -H "X-Request-ID: $REQUEST_ID" \
        --data "$data" "$BASE_URL$path" 2>/dev/null || true)"
    else
      status="$(curl -sS -o "$BODY" -w '%{http_code}' --max-time 30 -X "$method" \
        -H "X-Request-ID: $REQUEST_ID" "$BASE_URL$path" 2>/dev/null || true)"
    fi
    if [[ "$status" == "$expected" ]] && grep -q -- "$needle" "$BODY"; then
      echo "ok   $name ($method $path -> $status, attempt $attempt)"
      passed=$((passed + 1))
      return 0
    fi
    sleep "$DELAY"
  done
  echo "FAIL $name ($method $path -> ${status:-no answer}, wanted $expected with '$needle')"
  head -c 600 "$BODY" 2>/dev/null || true
  echo
  failed=$((failed + 1))
  return 0
}

echo "smoke test of $BASE_URL (request id $REQUEST_ID)"
check "nginx is up" 200 "ok" GET /nginx-health
check "API health" 200 '"status"' GET /health
check "technical analysis" 200 '"signals"' POST /technical '{"symbol": "BTC-USD"}'
check "chat turn" 200 '"answer"' POST /chat '{"message": "What is the RSI of BTC?"}'
check "web chat page" 200 "<html" GET /ui/

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
