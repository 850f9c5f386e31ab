#!/usr/bin/env bash
set -euo pipefail

VERSION="${VERSION:-lts}"
INSTALLYARN="${INSTALLYARN:-false}"

NODE_ROOT="/usr/local/share/node-tool"
CACHE_DIR="/usr/local/share/node-cache"

# Map the requested version onto a concrete release line.
case "${VERSION}" in
    lts)  NODE_MAJOR="22" ;;
    latest|current) NODE_MAJOR="23" ;;
    [0-9]*) NODE_MAJOR="${VERSION%%.*}" ;;
    *)
        echo "(!) Unrecognised Node.js version '${VERSION}'." >&2
        exit 1
        ;;
esac

echo "node-tool: requested '${VERSION}', using Node.js ${NODE_MAJOR}.x"

mkdir -p "${NODE_ROOT}/bin" "${CACHE_DIR}"
chmod 1777 "${CACHE_DIR}"

cat > "${NODE_ROOT}/env.sh" <<ENVSH
export NODE_TOOL_MAJOR="${NODE_MAJOR}"
export NPM_CONFIG_CACHE="${CACHE_DIR}"
case ":\${PATH}:" in
    *":${NODE_ROOT}/bin:"*) ;;
    *) export PATH="${NODE_ROOT}/bin:\${PATH}" ;;
esac
ENVSH

if [ -d /etc/profile.d ]; then
    ln -sf "${NODE_ROOT}/env.sh" /etc/profile.d/node-tool.sh
fi

if [ "${INSTALLYARN}" = "true" ]; then
    if command -v npm >/dev/null 2>&1; then
        npm install --global --cache "${CACHE_DIR}" yarn
    else
        echo "node-tool: npm not present yet, Yarn will be enabled through corepack on first use."
        printf 'yarn\n' > "${NODE_ROOT}/corepack-enable"
    fi
fi

printf '%s\n' "${NODE_MAJOR}" > "${NODE_ROOT}/version"
echo "node-tool: done."
