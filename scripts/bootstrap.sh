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
