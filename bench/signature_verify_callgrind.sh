#!/usr/bin/env bash
# Instructions per in-process signature check (SignatureVerifier.verify), counted by callgrind as
# the difference of 4000 and 2000 calls, so interpreter start-up cancels; independent of load.
#
#   bench/signature_verify_callgrind.sh        (needs valgrind; run from the repository root)
set -euo pipefail
PY=${PY:-.venv/bin/python}
work=$(mktemp -d /tmp/qcl-verifycost-XXXXXX)
trap 'rm -rf "$work"' EXIT
total() {
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1" $PY bench/signature_verify_cost.py "$1" >/dev/null 2>&1
    callgrind_annotate "$work/cg.$1" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}'
}
small=$(total 2000)
large=$(total 4000)
echo "instructions per signature check: $(((large - small) / 2000))"
