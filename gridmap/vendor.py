"""Copy the front-end packages installed by npm into ``gridmap/static/vendor/``.

Run as ``python -m gridmap.vendor`` after ``npm ci``. The vendor folder is git-ignored and served
by whitenoise like our own static files, so no page loads a script, style or image from outside.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "gridmap" / "static" / "vendor"

# target folder -> (npm package, files or folders inside it)
FILES = {
    "leaflet": ("leaflet", ["dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE"]),
    "markercluster": (
        "leaflet.markercluster",
        [
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
            "MIT-LICENCE.txt",
        ],
    ),
    "leaflet-heat": ("leaflet.heat", ["dist/leaflet-heat.js", "LICENSE"]),
    "geoman": ("@geoman-io/leaflet-geoman-free", ["dist/leaflet-geoman.min.js", "dist/leaflet-geoman.css", "LICENSE"]),
}


def copy_vendor() -> list[Path]:
    """Copy every listed file; return the paths written. Missing optional licence files are skipped."""
    written = []
    for target, (package, parts) in FILES.items():
        for part in parts:
            src = NODE / package / part
            if not src.exists():
                if "LICEN" in part:
                    continue
                raise SystemExit(f"missing {src}: run `npm ci` first")
            dst = VENDOR / target / Path(part).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
            written.append(dst)
    return written


if __name__ == "__main__":
    paths = copy_vendor()
    print(f"[setup] copied {len(paths)} front-end files into {VENDOR.relative_to(ROOT)}", file=sys.stderr)
