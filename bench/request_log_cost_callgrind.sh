#!/usr/bin/env bash
# Instructions per GetKnowledgeBase with the request log off, quiet (the ring only) and on (the
# ring and a line per call): bench/api_throughput.py --compare-request-log gives wall-clock figures.
#
#   bench/request_log_cost_callgrind.sh [--log-format json]   (run from the repository root)
set -euo pipefail
exec "$(dirname "$0")/request_cost_callgrind.sh" \
    off --request-log off -- quiet --request-log quiet -- on --request-log on "$@"
