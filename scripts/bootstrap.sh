# Sourced by ./voltrent and ./run-tests: makes .venv with the project installed
# (editable, with the extras in $VOLTRENT_EXTRAS) and reinstalls when pyproject.toml changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
extras="${VOLTRENT_EXTRAS:-edge,sim}"

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "voltrent needs Python 3.11 or newer on PATH (or PYTHON=/path/to/python3.11)" >&2
    return 1
}

if [ ! -x "$venv/bin/python" ]; then
    python="$(find_python)"
    echo "bootstrap: creating $venv with $python" >&2
    "$python" -m venv "$venv"
fi
digest="$(sha1sum "$root/pyproject.toml" | cut -c1-12)"
stamp="$venv/.installed-$digest-${extras//,/_}"
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing voltrent[$extras] into $venv" >&2
    log="$venv/install.log"
    if ! { "$venv/bin/python" -m pip install --upgrade pip &&
        "$venv/bin/python" -m pip install -e "$root[$extras]"; } >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "bootstrap: installing failed; the whole log is in $log" >&2
        exit 1
    fi
    find "$venv" -maxdepth 1 -name '.installed-*' ! -name ".installed-$digest-*" -delete
    touch "$stamp"
fi

# The console's browser libraries (Leaflet, uPlot, ...), pinned in cloud/console/package-lock.json
# and served by the API from cloud/console/node_modules: reinstalled when the lock changes.
console_dir="$root/cloud/console"
lock_digest="$(sha1sum "$console_dir/package-lock.json" | cut -c1-12)"
if [ ! -f "$console_dir/node_modules/.installed-$lock_digest" ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "bootstrap: installing the console's libraries (npm ci in cloud/console)" >&2
        npm_log="$venv/npm.log"
        if ! (cd "$console_dir" && npm ci --ignore-scripts --no-audit --no-fund) >"$npm_log" 2>&1; then
            tail -n 20 "$npm_log" >&2
            echo "bootstrap: npm ci failed; the whole log is in $npm_log" >&2
            exit 1
        fi
        touch "$console_dir/node_modules/.installed-$lock_digest"
    else
        echo "bootstrap: npm is missing, so the console's pages lack their libraries" \
            "(install Node.js and npm, e.g. apt-get install npm)" >&2
    fi
fi
