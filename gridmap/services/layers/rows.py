"""Reading an uploaded layer file into checked rows: the part every layer import shares.

The file is read by :mod:`geodata.io` (GeoJSON, GeoPackage, zipped Shapefile, KML) or :mod:`geodata.tables`
(CSV, XLSX); file-level problems (format, zip, encoding, CRS, no features, mixed geometry types) raise
``Refused`` with a 4xx. Cell values are checked here (NUL and other control characters, bidirectional
overrides, length), and row errors are collected as ``{"row", "field", "code", "detail"}``.
"""

from __future__ import annotations

import math

import geopandas as gpd
from django.utils.translation import gettext as _

from geodata.io import read_features
from geodata.tables import is_table, read_table
from geodata.validation import GeometryRejected
from gridmap.rules.fields import hidden_refusal
from gridmap.services.reasons import reason
from gridmap.services.refused import Refused

MAX_ERRORS = 1000
FAMILIES = {
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
}


def message(code: str, detail: str = "") -> str:
    return reason(code, note=detail)


def refused(status: int, code: str, field: str = "", detail: str = "") -> Refused:
    return Refused(status, code, field=field, detail=message(code, detail))


def read_layer(
    data: bytes, family: str, *, source_crs: str | None, encoding: str | None, tables: bool
) -> gpd.GeoDataFrame:
    """The upload as a GeoDataFrame in EPSG:4326 with a ``_row`` column, all of one geometry family."""
    try:
        if tables and is_table(data):
            frame = read_table(data, source_crs=source_crs)
        else:
            frame = read_features(data, source_crs=source_crs, encoding=encoding)
            frame["_row"] = range(1, len(frame) + 1)  # as a GIS attribute table numbers features
    except GeometryRejected as exc:
        raise refused(413 if exc.too_large else 400, exc.code, exc.field, exc.detail) from None
    if frame.empty:
        raise refused(400, "no_features", "file")
    kinds = {FAMILIES.get(t, str(t)) for t in frame.geometry.geom_type.dropna().unique()}
    if len(kinds) > 1:
        raise refused(400, "mixed_geometry_types", "file", ", ".join(sorted(kinds)))
    if kinds and kinds != {family}:
        raise refused(400, "geometry_type", "file", kinds.pop())
    return frame


class Rows:
    """Row errors of one import, capped at MAX_ERRORS."""

    def __init__(self):
        self.errors: list[dict] = []
        self.count = 0

    def error(self, row: int, field: str, code: str, detail: str = "") -> None:
        self.count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": field, "code": code, "detail": message(code, detail)})

    def geometry_error(self, row: int, exc: GeometryRejected, rename: dict | None = None, rows_of=None) -> None:
        """A refused shape: where, and for an overlap each partner — an earlier row of the file (``rows_of``:
        code → row) or a stored area by its code — with the overlap's area and a point inside it."""
        code = (rename or {}).get(exc.code, exc.code)
        where = f"{exc.location[0]:.6f} {exc.location[1]:.6f}" if exc.location else ""
        overlaps = (exc.extra or {}).get("overlaps") or []
        if overlaps:
            parts = []
            for o in overlaps[:5]:
                at = o["geometry"].representative_point()
                row_of = (rows_of or {}).get(o["id"])
                partner = _("第 %(row)s 行（%(code)s）") % {"row": row_of, "code": o["id"]} if row_of else str(o["id"])
                parts.append(f"{partner} {o['area_m2']} m² @ {at.x:.6f} {at.y:.6f}")
            where, detail = "", "; ".join(parts)
        else:
            detail = exc.detail
        self.error(row, "geometry", code, " ".join(x for x in (where, detail) if x))


def column(frame: gpd.GeoDataFrame, *names: str) -> str | None:
    """The first of ``names`` the file has (headers compared without case)."""
    lookup = {str(c).strip().lower(): c for c in frame.columns}
    return next((lookup[n.lower()] for n in names if n.lower() in lookup), None)


def text(value, rows: Rows, row: int, field: str, *, max_length: int, required: bool = False) -> str | None:
    """A cell as clean text, or None after recording why it is refused. Formula-looking text is kept."""
    if value is None or isinstance(value, float) and math.isnan(value):
        value = ""
    value = str(value)
    refusal = hidden_refusal(value)
    if refusal:
        rows.error(row, field, refusal)
        return None
    value = value.strip(" \r\n\u3000")
    if len(value) > max_length:
        rows.error(row, field, "too_long", f"{len(value)} > {max_length}")
        return None
    if required and not value:
        rows.error(row, field, "required")
        return None
    return value


def number_text(value) -> str:
    """A code cell as text: 110105001 read as 110105001.0 from a spreadsheet becomes '110105001'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def boolean(value, rows: Rows, row: int, field: str, default: bool) -> bool | None:
    key = str(value).strip().lower() if value is not None and value == value else ""
    if key == "":
        return default
    if key in ("是", "true", "1", "yes", "y", "t"):
        return True
    if key in ("否", "false", "0", "no", "n", "f"):
        return False
    rows.error(row, field, "bad_boolean", str(value)[:20])
    return None


def unknown_layer() -> Refused:
    return refused(404, "unknown_layer", "layer")


def forbidden() -> Refused:
    return refused(403, "forbidden", "layer", _("只有系统管理员和街道管理员可以导入"))
