"""Export one layer in one format: scoped, masked by default, written to a temporary file, audited.

The one export path behind ``/api/exports/<layer>.<fmt>`` and the export page. Rows come from
``queries.exports`` within ``policy.export_scope``; planners get no resident-level layer (403). Personal
data is masked with the project's masking rules (``policy.mask_*``) unless a resident role asks for full
values with a typed reason. The file is written by ``geodata.writers`` into a private temporary directory
and handed back as an open file whose directory entry is already gone, so the response streams it from
disk and nothing is left behind. Every export, full or masked, is an audit event (who, layer, format, row
count, reason).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import shapely
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.writers import FORMATS, SPATIAL_FORMATS, Table, WriteRefused, write_table
from gridmap import policy
from gridmap.models import AssignmentRole, Community, GridStatus, ResidentType, StationKind
from gridmap.queries.exports import layer_rows
from gridmap.services import audit
from gridmap.services.refused import Refused
from gridmap.storage import sealed_fields

CONTENT_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
EXTENSIONS = {"geojson": "geojson", "gpkg": "gpkg", "shp": "shp.zip", "xlsx": "xlsx", "csv": "csv"}
FULL_LAYERS = ("households", "members")  # the layers with masked fields

# layer -> [(ASCII key ≤ 10 bytes for .dbf, Chinese label)]; the importers accept either.
COLUMNS = {
    "streets": [("code", "代码"), ("name", "名称")],
    "communities": [("code", "代码"), ("name", "名称"), ("street", "街道代码"), ("kind", "类型")],
    "grids": [("code", "代码"), ("name", "名称"), ("comm_code", "社区代码"), ("status", "状态")],
    "stations": [
        ("name", "名称"),
        ("kind", "类型"),
        ("radius_m", "服务半径(米)"),
        ("hours", "开放时间"),
        ("services", "服务项目"),
        ("comm_code", "社区代码"),
        ("active", "运行中"),
    ],
    "households": [
        ("id", "编号"),
        ("ext_id", "外部编号"),
        ("address", "地址"),
        ("head_name", "户主"),
        ("phone", "电话"),
        ("id_number", "身份证号"),
        ("residents", "人数"),
        ("res_type", "居住类型"),
        ("party", "党员户"),
        ("elderly", "独居老人"),
        ("disabled", "残疾"),
        ("low_income", "低保"),
        ("hardship", "特困"),
        ("military", "军属优抚"),
        ("other_diff", "其他困难"),
        ("grid_code", "网格代码"),
        ("comm_code", "社区代码"),
        ("src_crs", "来源坐标系"),
    ],
    "links": [
        ("central", "中心户编号"),
        ("cent_addr", "中心户地址"),
        ("household", "联系户编号"),
        ("hh_addr", "联系户地址"),
        ("grid_code", "网格代码"),
        ("length_m", "距离(米)"),
    ],
    "members": [
        ("name", "姓名"),
        ("phone", "电话"),
        ("party", "党员"),
        ("employer", "工作单位"),
        ("comm_code", "居住社区代码"),
        ("grids", "网格分工"),
    ],
}
_LABELS = {
    **{k: str(v) for k, v in Community.Kind.choices},
    **{k: str(v) for k, v in StationKind.choices},
    **{k: str(v) for k, v in GridStatus.choices},
    **{k: str(v) for k, v in ResidentType.choices},
}
_ROLES = {k: str(v) for k, v in AssignmentRole.choices}


@dataclass
class Export:
    file: BinaryIO
    filename: str
    content_type: str
    rows: int


def export_layer(user, layer: str, fmt: str, *, full: bool = False, reason: str = "", request=None) -> Export:
    """Write ``layer`` as ``fmt`` for ``user``; Refused 400/403/404 for what may not be exported."""
    if layer not in policy.EXPORT_LAYERS:
        raise Refused(404, "not_found", field="layer", detail=_("没有这个图层"))
    if layer not in policy.exportable_layers(user):
        raise Refused(403, "forbidden", field="layer", detail=_("此角色不能导出住户或人员数据"))
    if fmt not in FORMATS:
        raise Refused(400, "bad_format", field="format", detail=", ".join(FORMATS))
    if layer == "members" and fmt in SPATIAL_FORMATS:
        raise Refused(400, "format_needs_geometry", field="format", detail=_("人员没有位置，请导出 XLSX 或 CSV"))
    reason = (reason or "").strip()
    if full:
        if layer not in FULL_LAYERS or not policy.may_reveal(user):
            raise Refused(403, "forbidden", field="full", detail=_("无权导出完整个人信息"))
        if not reason or len(reason) > 500 or "\x00" in reason:
            raise Refused(400, "reason_required", field="reason", detail=_("导出完整个人信息需要填写原因"))
    rows = layer_rows(layer, policy.export_scope(user, layer))
    try:
        table = _table(layer, rows, full)
    except sealed_fields.SealError as exc:  # a key problem of the server: say so, never a 500
        raise Refused(503, "data_key_error", field="key", detail=str(exc)) from None
    folder = Path(tempfile.mkdtemp(prefix="gridexport-"))
    try:
        path = write_table(table, fmt, folder)
        handle = path.open("rb")
    except WriteRefused as exc:
        raise Refused(400, exc.code, field="format", detail=exc.detail) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the open handle keeps the file's data until it is closed
    audit.record(
        user,
        "export",
        layer,
        fmt,
        request=request,
        reason=reason,
        fields=f"rows={len(rows)}" + (",full" if full else ",masked"),
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return Export(handle, f"{layer}-{stamp}.{EXTENSIONS[fmt]}", CONTENT_TYPES[fmt], len(rows))


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _table(layer: str, rows: list[tuple], full: bool) -> Table:
    keys = [k for k, _ in COLUMNS[layer]]
    labels = [label for _, label in COLUMNS[layer]]
    if layer == "members":
        return Table(layer, keys, labels, [_member(r, full) for r in rows], None)
    geometries = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else []
    shape = {
        "streets": _plain,
        "communities": _community,
        "grids": _grid,
        "stations": _station,
        "households": _household,
        "links": _plain,
    }[layer]
    return Table(layer, keys, labels, [shape(r[:-1], full) for r in rows], list(geometries))


def _plain(row, full):
    return tuple(row)


def _community(row, full):
    code, name, street, kind = row
    return code, name, street, _LABELS.get(kind, kind)


def _grid(row, full):
    code, name, community, status = row
    return code, name, community, _LABELS.get(status, status)


def _station(row, full):
    name, kind, radius, hours, services, community, active = row
    return name, _LABELS.get(kind, kind), radius, hours, services, community or "", _yes(active)


def _household(row, full):
    (
        pk,
        external,
        address,
        head,
        phone,
        phone_sealed,
        id_number,
        id_sealed,
        residents,
        resident_type,
        *tags,
        grid,
        community,
        crs,
    ) = row
    if full:
        phone, id_number = sealed_fields.unseal("phone", phone_sealed), sealed_fields.unseal("id_number", id_sealed)
    else:
        head = policy.mask_name(head)
    return (
        pk,
        external,
        address,
        head,
        phone,
        id_number,
        residents,
        _LABELS.get(resident_type, resident_type),
        *[_yes(t) for t in tags],
        grid,
        community,
        crs,
    )


def _member(row, full):
    name, phone, phone_sealed, party, employer, community, grids = row
    roles = (
        " ".join(f"{code}:{_ROLES.get(role, role)}" for code, role in (item.split(":", 1) for item in grids.split()))
        if grids
        else ""
    )
    return name, sealed_fields.unseal("phone", phone_sealed) if full else phone, _yes(party), employer, community, roles
