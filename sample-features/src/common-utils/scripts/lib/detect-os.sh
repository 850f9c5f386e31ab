#!/usr/bin/env bash
# Helper sourced by install.sh: works out which distribution family we are on
# and which package manager to drive. Exposes OS_ID, OS_FAMILY and PKG_MGR.

detect_os() {
    OS_ID="unknown"
    OS_FAMILY="unknown"
    if [ -r /etc/os-release ]; then
        # shellcheck disable=SC1091
        . /etc/os-release
        OS_ID="${ID:-unknown}"
        case " ${ID:-} ${ID_LIKE:-} " in
            *" debian "*|*" ubuntu "*) OS_FAMILY="debian" ;;
            *" alpine "*) OS_FAMILY="alpine" ;;
        esac
    fi
    export OS_ID OS_FAMILY
}

resolve_package_manager() {
    local requested="${1:-auto}"
    case "${requested}" in
        apt|apk)
            PKG_MGR="${requested}"
            ;;
        auto)
            case "${OS_FAMILY}" in
                debian) PKG_MGR="apt" ;;
                alpine) PKG_MGR="apk" ;;
                *)
                    if command -v apt-get >/dev/null 2>&1; then
                        PKG_MGR="apt"
                    elif command -v apk >/dev/null 2>&1; then
                        PKG_MGR="apk"
                    else
                        echo "(!) Could not detect a supported package manager." >&2
                        return 1
                    fi
                    ;;
            esac
            ;;
        *)
            echo "(!) Unsupported packageManager '${requested}'." >&2
            return 1
            ;;
    esac
    export PKG_MGR
}

pkg_install() {
    [ "$#" -gt 0 ] || return 0
    case "${PKG_MGR}" in
        apt)
            export DEBIAN_FRONTEND=noninteractive
            if [ ! -d /var/lib/apt/lists ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null)" ]; then
                apt-get update -y
            fi
            apt-get install -y --no-install-recommends "$@"
            ;;
        apk)
            apk add --no-cache "$@"
            ;;
    esac
}

pkg_cleanup() {
    case "${PKG_MGR}" in
        apt) rm -rf /var/lib/apt/lists/* ;;
        apk) rm -rf /var/cache/apk/* ;;
    esac
}
