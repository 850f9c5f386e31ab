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

check "prompt script generated" test -f /usr/local/share/shell-prompt/prompt.bash
check "default theme is plain" grep -qx plain /usr/local/share/shell-prompt/theme
check "git status helper present (showGitStatus defaults to true)" grep -q __shell_prompt_git /usr/local/share/shell-prompt/prompt.bash
check "logo asset copied" test -s /usr/local/share/shell-prompt/logo.png
check "logo asset is a PNG" bash -c 'head -c 8 /usr/local/share/shell-prompt/logo.png | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a"'

if [ "${failures}" -ne 0 ]; then
    echo "${failures} check(s) failed." >&2
    exit 1
fi
echo "All shell-prompt checks passed."
