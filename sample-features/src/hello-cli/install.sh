#!/usr/bin/env bash
set -euo pipefail

GREETING="${GREETING:-hello}"

FEATURE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

echo "hello-cli: installing with greeting '${GREETING}'"

install -d /usr/local/bin /usr/local/etc/hello-cli
install -m 0755 "${FEATURE_DIR}/bin/hello" /usr/local/bin/hello
printf '%s\n' "${GREETING}" > /usr/local/etc/hello-cli/greeting
chmod 0644 /usr/local/etc/hello-cli/greeting

# Keep the old command name working for people upgrading from the 'hello' feature.
if [ ! -e /usr/local/bin/hello-world ]; then
    ln -s /usr/local/bin/hello /usr/local/bin/hello-world
fi

echo "hello-cli: done."
