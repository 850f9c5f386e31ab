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

check "version file written" test -f /usr/local/share/node-tool/version
check "lts resolves to an even major" bash -c '[ $(( $(cat /usr/local/share/node-tool/version) % 2 )) -eq 0 ]'
check "cache directory exists" test -d /usr/local/share/node-cache
check "NPM_CONFIG_CACHE points at the mount" test "${NPM_CONFIG_CACHE:-}" = "/usr/local/share/node-cache"
check "profile snippet installed" test -f /usr/local/share/node-tool/env.sh

if [ "${failures}" -ne 0 ]; then
    echo "${failures} check(s) failed." >&2
    exit 1
fi
echo "All node-tool checks passed."
