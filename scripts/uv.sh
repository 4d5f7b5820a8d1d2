#!/usr/bin/env bash
# Run uv, installing it with pip first when it is missing.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then exec uv "$@"; fi
if [ -x "$HOME/.local/bin/uv" ]; then exec "$HOME/.local/bin/uv" "$@"; fi
if ! python3 -c "import uv" 2>/dev/null; then
    echo "uv not found: installing it with pip" >&2
    python3 -m pip install --quiet uv 2>/dev/null \
        || python3 -m pip install --quiet --user --break-system-packages uv
fi
exec python3 -m uv "$@"
