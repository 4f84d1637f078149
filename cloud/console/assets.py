"""The browser libraries the console serves, from the npm packages in ``node_modules``.

Only the ``dist`` folder of a package named here is served, so nothing else npm put on the
disk (sources, scripts, other packages) is reachable. Their versions are pinned in
``package.json`` and ``package-lock.json``; their licences are listed in
``docs/guides/console.md``.
"""

from __future__ import annotations

from pathlib import Path

NODE_MODULES = Path(__file__).parent / "node_modules"
# package -> why the console needs it
PACKAGES = {
    "leaflet": "the map",
    "supercluster": "clustering thousands of markers",
    "uplot": "time-series charts",
    "jsqr": "reading a pack's QR code from the camera",
    "qrcode-generator": "drawing QR codes (a second factor's secret, a pack's label)",
}


def dist_folder(package: str) -> Path | None:
    """Where the files of ``package`` are served from; None for a package not listed."""
    if package not in PACKAGES:
        return None
    return NODE_MODULES / package / "dist"


def missing() -> list[str]:
    """The listed packages not installed (``npm ci`` in cloud/console has not run)."""
    return [name for name in PACKAGES if not (NODE_MODULES / name / "dist").is_dir()]
