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

check "hello is on PATH" command -v hello
check "hello prints the default greeting" bash -c 'hello devcontainer | grep -q "^hello, devcontainer!$"'
check "hello reports its version" bash -c 'hello --version | grep -q "2.0.1"'
check "legacy hello-world alias exists" test -L /usr/local/bin/hello-world
check "dependency common-utils was installed first" test -f /usr/local/share/common-utils/info

if [ "${failures}" -ne 0 ]; then
    echo "${failures} check(s) failed." >&2
    exit 1
fi
echo "All hello-cli checks passed."
