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

check "git is installed" git --version
check "curl is installed" curl --version
check "zsh is installed (installZsh defaults to true)" zsh --version
check "marker file written" test -f /usr/local/share/common-utils/info
check "containerEnv COMMON_UTILS_HOME set" test "${COMMON_UTILS_HOME:-}" = "/usr/local/share/common-utils"
check "sudoers entry for non-root user" bash -c 'ls /etc/sudoers.d | grep -qv README'

if [ "${failures}" -ne 0 ]; then
    echo "${failures} check(s) failed." >&2
    exit 1
fi
echo "All common-utils checks passed."
