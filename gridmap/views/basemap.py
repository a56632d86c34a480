"""The base map served by the app itself, for an intranet without a tile server: set
``TILE_URL=/basemap/{z}/{x}/{y}.png`` and either ``BASEMAP_DIR`` (a ``z/x/y.png`` tree, as tile downloaders
write it) or ``BASEMAP_MBTILES`` (one MBTiles file, read-only; its rows are TMS, y counted from the south).
Map imagery, no data of ours: any signed-in user; browsers may keep a tile a day."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
MAX_ZOOM = 22


def _from_mbtiles(path: str, z: int, x: int, y: int) -> bytes | None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y),
        ).fetchone()
    return row[0] if row else None


def _from_directory(root: str, z: int, x: int, y: int, ext: str) -> bytes | None:
    path = Path(root) / str(z) / str(x) / f"{y}.{ext}"  # integers and a fixed extension: no way out of root
    return path.read_bytes() if path.is_file() else None


@require_GET
@login_required
def tile(request: HttpRequest, z: int, x: int, y: int, ext: str) -> HttpResponse:
    if ext not in TYPES or z > MAX_ZOOM or x >= 1 << z or y >= 1 << z:
        raise Http404
    if settings.BASEMAP_MBTILES:
        data = _from_mbtiles(settings.BASEMAP_MBTILES, z, x, y)
    elif settings.BASEMAP_DIR:
        data = _from_directory(settings.BASEMAP_DIR, z, x, y, ext)
    else:
        data = None
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type=TYPES[ext])
    response["Cache-Control"] = "private, max-age=86400"
    return response
