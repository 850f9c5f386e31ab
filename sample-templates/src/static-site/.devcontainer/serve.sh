#!/bin/sh
# Serves site/ on port 8080; LIVE_RELOAD comes from the template's liveReload option.
set -e
if [ "$LIVE_RELOAD" = "true" ]; then
    exec live-server site --port=8080 --no-browser
fi
exec live-server site --port=8080 --no-browser --no-css-inject --wait=86400000
