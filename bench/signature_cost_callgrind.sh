#!/usr/bin/env bash
# Instructions per GetKnowledgeBase without and with --verify-signatures (callgrind, through
# bench/request_cost_callgrind.sh): bench/api_throughput.py --verify-signatures gives wall-clock figures.
#
#   bench/signature_cost_callgrind.sh        (needs valgrind, wrk, curl; run from the repository root)
set -euo pipefail
credentials=$(mktemp /tmp/qcl-sigcost-XXXXXX)
trap 'rm -f "$credentials"' EXIT
echo "testing testing" > "$credentials"
"$(dirname "$0")/request_cost_callgrind.sh" off -- on --verify-signatures --credentials-file "$credentials"
