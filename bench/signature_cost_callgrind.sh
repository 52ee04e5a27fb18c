#!/usr/bin/env bash
# Instructions per GetKnowledgeBase the server executes, without and with --verify-signatures,
# counted by callgrind: a figure the load of other processes on the machine does not disturb
# (bench/api_throughput.py --verify-signatures gives wall-clock throughput).
#
#   bench/signature_cost_callgrind.sh        (needs valgrind, wrk, curl; run from the repository root)
set -euo pipefail
PY=${PY:-.venv/bin/python}
work=$(mktemp -d /tmp/qcl-sigcost-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "testing testing" > "$work/credentials"

measure() {  # $1 = off|on; prints instructions per request
    local mode=$1 port dir extra=() pid target auth date
    port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dir="$work/$mode"; mkdir -p "$dir"
    [ "$mode" = on ] && extra=(--verify-signatures --credentials-file "$work/credentials")
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$mode" \
        $PY -m qconnect_local serve --port "$port" --data-dir "$dir" "${extra[@]}" >"$work/$mode.log" 2>&1 &
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
    wrk -t1 -c16 -d3s -H "Authorization: $auth" -H "X-Amz-Date: $date" "$target" >/dev/null  # warm-up
    callgrind_control -z "$pid" >/dev/null
    wrk -t1 -c16 -d15s -H "Authorization: $auth" -H "X-Amz-Date: $date" "$target" >"$work/$mode.wrk"
    callgrind_control -d "$pid" >/dev/null
    kill -INT "$pid"; wait "$pid" || true
    if grep -q "Non-2xx" "$work/$mode.wrk"; then echo "$mode: some requests failed" >&2; exit 1; fi
    local n ir
    n=$(grep -oE "[0-9]+ requests in" "$work/$mode.wrk" | cut -d' ' -f1)
    ir=$(callgrind_annotate "$work/cg.$mode.1" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}')
    echo $((ir / n))
}

off=$(measure off)
on=$(measure on)
echo "instructions per GetKnowledgeBase: signatures off $off, on $on"
$PY -c "print(f'--verify-signatures: throughput at equal CPU {$off / $on:.1%} (cost {1 - $off / $on:.1%})')"
