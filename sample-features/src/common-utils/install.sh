#!/usr/bin/env bash
set -euo pipefail

# Options (upper-cased option ids, as passed by the dev container CLI).
INSTALLZSH="${INSTALLZSH:-true}"
PACKAGEMANAGER="${PACKAGEMANAGER:-auto}"
USERNAME="${USERNAME:-automatic}"
EXTRAPACKAGES="${EXTRAPACKAGES:-}"

FEATURE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/detect-os.sh
. "${FEATURE_DIR}/scripts/lib/detect-os.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "(!) common-utils must be installed as root." >&2
    exit 1
fi

detect_os
resolve_package_manager "${PACKAGEMANAGER}"
echo "common-utils: os=${OS_ID} family=${OS_FAMILY} package manager=${PKG_MGR}"

packages=(ca-certificates curl git less procps sudo unzip)
if [ "${PKG_MGR}" = "apt" ]; then
    packages+=(locales)
fi
if [ "${INSTALLZSH}" = "true" ]; then
    packages+=(zsh)
fi
if [ -n "${EXTRAPACKAGES}" ]; then
    # shellcheck disable=SC2206
    packages+=(${EXTRAPACKAGES})
fi

pkg_install "${packages[@]}"

# Resolve the non-root user.
if [ "${USERNAME}" = "automatic" ]; then
    USERNAME=""
    for candidate in vscode node codespace "$(getent passwd 1000 | cut -d: -f1)"; do
        if [ -n "${candidate}" ] && id -u "${candidate}" >/dev/null 2>&1; then
            USERNAME="${candidate}"
            break
        fi
    done
    USERNAME="${USERNAME:-vscode}"
fi

if [ "${USERNAME}" != "none" ] && [ "${USERNAME}" != "root" ]; then
    if ! id -u "${USERNAME}" >/dev/null 2>&1; then
        if command -v useradd >/dev/null 2>&1; then
            useradd --create-home --shell /bin/bash --uid 1000 "${USERNAME}" 2>/dev/null \
                || useradd --create-home --shell /bin/bash "${USERNAME}"
        else
            adduser -D -s /bin/sh "${USERNAME}"
        fi
    fi
    mkdir -p /etc/sudoers.d
    echo "${USERNAME} ALL=(root) NOPASSWD:ALL" > "/etc/sudoers.d/${USERNAME}"
    chmod 0440 "/etc/sudoers.d/${USERNAME}"
    if [ "${INSTALLZSH}" = "true" ] && command -v zsh >/dev/null 2>&1; then
        chsh -s "$(command -v zsh)" "${USERNAME}" 2>/dev/null || true
    fi
fi

# Marker file other features (and tests) can look at.
COMMON_UTILS_HOME="/usr/local/share/common-utils"
mkdir -p "${COMMON_UTILS_HOME}"
cat > "${COMMON_UTILS_HOME}/info" <<INFO
os=${OS_ID}
packageManager=${PKG_MGR}
username=${USERNAME}
installZsh=${INSTALLZSH}
INFO

pkg_cleanup
echo "common-utils: done."
