#!/usr/bin/env bash
set -euo pipefail

echo "(!) WARNING: the 'deprecated-tool' feature is deprecated and will not receive updates." >&2
echo "(!) Please switch to ghcr.io/featurepub/samples/node-tool." >&2

TOOL_HOME="/usr/local/share/deprecated-tool"
install -d "${TOOL_HOME}" /usr/local/bin

cat > /usr/local/bin/deprecated-tool <<'TOOL'
#!/usr/bin/env bash
echo "deprecated-tool 1.1.0 (deprecated: use node-tool instead)"
TOOL
chmod 0755 /usr/local/bin/deprecated-tool

printf 'deprecated=true\nreplacement=node-tool\n' > "${TOOL_HOME}/info"
echo "deprecated-tool: done."
