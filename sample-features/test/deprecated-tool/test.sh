#!/usr/bin/env bash
set -euo pipefail

failures=0
check() {
    local label="$1"
    shift
    echo "Testing: ${label}"
    if "$@"; then
        echo "  ok"
    else
        echo "  FAILED: ${label}" >&2
        failures=$((failures + 1))
    fi
}

check "deprecated-tool is on PATH" command -v deprecated-tool
check "deprecated-tool points users at node-tool" bash -c 'deprecated-tool | grep -q node-tool'
check "info file written" grep -q '^replacement=node-tool$' /usr/local/share/deprecated-tool/info

if [ "${failures}" -ne 0 ]; then
    echo "${failures} check(s) failed." >&2
    exit 1
fi
echo "All deprecated-tool checks passed."
