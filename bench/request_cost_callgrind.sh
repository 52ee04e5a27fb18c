#!/usr/bin/env bash
# Instructions per GetKnowledgeBase the server executes (all its threads), for each set of `serve`
# options given, counted by callgrind: a figure the load of other processes on the machine does not
# disturb (bench/api_throughput.py gives wall-clock throughput). Each set is `LABEL` followed by
# its options up to the next `--`; the first set is the baseline the others are compared with.
#
#   bench/request_cost_callgrind.sh off --request-log off -- on --request-log on
#   CONNECTIONS=1 SECONDS_MEASURED=10 bench/request_cost_callgrind.sh ...   (defaults: 16, 15)
#
# Needs valgrind, wrk, curl; run from the repository root. Under callgrind the server runs ~50x
# slower, so work done per second rather than per request (timers, polling threads) would weigh
# ~50x more than at full speed: what the idle server executes in IDLE_SECONDS (default 5) is
# measured first and that rate is taken off the loaded figure.
set -euo pipefail
PY=${PY:-.venv/bin/python}
CONNECTIONS=${CONNECTIONS:-16}
SECONDS_MEASURED=${SECONDS_MEASURED:-15}
IDLE_SECONDS=${IDLE_SECONDS:-5}
work=$(mktemp -d /tmp/qcl-cost-XXXXXX)
trap 'rm -rf "$work"' EXIT

total_ir() {  # $1 = callgrind output file
    callgrind_annotate "$1" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}'
}

measure() {  # $1 = label, the rest: serve options; prints instructions per request, requests
    local label=$1 port dir pid target auth date n ir idle t0 t1
    shift
    port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dir="$work/$label"; mkdir -p "$dir"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$label" \
        $PY -m qconnect_local serve --port "$port" --data-dir "$dir" "$@" >"$work/$label.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 180); do curl -sf -o /dev/null "http://127.0.0.1:$port/_qconnect/health" && break; sleep 1; done
    # One knowledge base, and one signed request that wrk replays (fresh: inside the 5-minute skew).
    mapfile -t req < <($PY - "$port" <<'PY'
import sys
import boto3
sys.path.insert(0, "bench")
from api_throughput import signed_headers
url = f"http://127.0.0.1:{sys.argv[1]}"
c = boto3.client("qconnect", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
kb = c.create_knowledge_base(name="b", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
target = f"{url}/knowledgeBases/{kb}"
h = signed_headers(target, "wisdom")
print(target); print(h["Authorization"]); print(h["X-Amz-Date"])
PY
)
    target=${req[0]} auth=${req[1]} date=${req[2]}
    wrk -t1 -c"$CONNECTIONS" -d3s -H "Authorization: $auth" -H "X-Amz-Date: $date" "$target" >/dev/null  # warm-up
    callgrind_control -z "$pid" >/dev/null 2>&1
    t0=$(date +%s.%N); sleep "$IDLE_SECONDS"; t1=$(date +%s.%N)
    callgrind_control -d "$pid" >/dev/null 2>&1
    idle=$($PY -c "print($(total_ir "$work/cg.$label.1") / ($t1 - $t0))")
    callgrind_control -z "$pid" >/dev/null 2>&1
    t0=$(date +%s.%N)
    wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_MEASURED}s" -H "Authorization: $auth" -H "X-Amz-Date: $date" "$target" \
        >"$work/$label.wrk"
    callgrind_control -d "$pid" >/dev/null 2>&1
    t1=$(date +%s.%N)
    kill -INT "$pid"; wait "$pid" || true
    if grep -q "Non-2xx" "$work/$label.wrk"; then echo "$label: some requests failed" >&2; exit 1; fi
    n=$(grep -oE "[0-9]+ requests in" "$work/$label.wrk" | cut -d' ' -f1)
    ir=$(total_ir "$work/cg.$label.2")
    if [ -n "${KEEP_PROFILES:-}" ]; then cp "$work/cg.$label.2" "$KEEP_PROFILES/cg.$label"; fi
    echo "$($PY -c "print(round(($ir - $idle * ($t1 - $t0)) / $n))") $n $((ir / n))"
}

labels=() counts=()
while [ $# -gt 0 ]; do
    label=$1; shift; opts=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    read -r ir n raw < <(measure "$label" "${opts[@]}")
    labels+=("$label"); counts+=("$ir")
    echo "$label: $ir instructions per GetKnowledgeBase ($n requests, c=$CONNECTIONS; $raw before the idle rate is taken off)"
done
for i in "${!labels[@]}"; do
    [ "$i" -eq 0 ] && continue
    $PY -c "b, x = ${counts[0]}, ${counts[$i]}; print(f'${labels[$i]} vs ${labels[0]}: {x / b:.3f}x the instructions (throughput at equal CPU {b / x:.1%}, cost {1 - b / x:.1%})')"
done
