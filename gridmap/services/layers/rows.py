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
from django.utils.translation import gettext_lazy

from geodata.io import read_features
from geodata.tables import is_table, read_table
from geodata.validation import GeometryRejected
from gridmap.rules.fields import hidden_refusal
from gridmap.services.grids.shapes import REASONS as SHAPE_REASONS
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

REASONS = {
    "nul_byte": gettext_lazy("含有 NUL 字符"),
    "control_character": gettext_lazy("含有控制字符"),
    "bidi_control": gettext_lazy("含有零宽或双向控制字符"),
    "too_long": gettext_lazy("内容过长"),
    "required": gettext_lazy("必填"),
    "code_format": gettext_lazy("代码格式不正确"),
    "code_village_part": gettext_lazy("社区代码的村级部分应为 001–399"),
    "street_not_in_scope": gettext_lazy("所属街道不存在或不在您的管辖范围内"),
    "community_not_in_scope": gettext_lazy("社区不存在或不在您的管辖范围内"),
    "outside_scope": gettext_lazy("位置不在您管辖的任何社区内"),
    "outside_street": gettext_lazy("超出所属街道边界"),
    "duplicate_code": gettext_lazy("文件中代码重复"),
    "duplicate_name": gettext_lazy("文件中同一社区的名称重复"),
    "children_outside": gettext_lazy("修改后的边界不再包含其下属区域"),
    "bad_kind": gettext_lazy("类型无法识别"),
    "bad_number": gettext_lazy("应为 1 到 20000 之间的整数"),
    "bad_boolean": gettext_lazy("应为 是/否"),
    "mixed_geometry_types": gettext_lazy("文件中混有不同类型的几何"),
    "encoding_required": gettext_lazy("Shapefile 没有 .cpg 且不是 UTF-8 编码（可能是 GBK），请指定编码"),
    "unknown_encoding": gettext_lazy("无法识别的编码"),
    "encoding_mismatch": gettext_lazy("文件内容与所指定的编码不符"),
    "column_missing": gettext_lazy("缺少必需的列"),
    "unknown_layer": gettext_lazy("不支持的图层"),
    "forbidden": gettext_lazy("无权执行此操作"),
    "unsupported_media_type": gettext_lazy("请以 multipart/form-data 上传文件"),
}


def message(code: str, detail: str = "") -> str:
    text = str(REASONS.get(code) or SHAPE_REASONS.get(code) or code)
    return f"{text}（{detail}）" if detail else text


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

    def geometry_error(self, row: int, exc: GeometryRejected, rename: dict | None = None) -> None:
        code = (rename or {}).get(exc.code, exc.code)
        where = f"{exc.location[0]:.6f} {exc.location[1]:.6f}" if exc.location else ""
        self.error(row, "geometry", code, " ".join(x for x in (where, exc.detail) if x))


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
