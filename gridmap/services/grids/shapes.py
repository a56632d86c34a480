"""The Django side of the one geometry validator: a grid shape checked against its street, community and
siblings, and every refusal turned into an ``EditRejected`` with a status, a field and a readable reason.

The editor, the JSON API, the admin form and the grid import all call :func:`check_grid_shape`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.grid_fit import Fit, fit_grid
from geodata.validation import GeometryRejected, check_near, validate_geojson, validate_shape
from gridmap.models import Community, Grid, GridStatus

REASONS = {
    "too_large": gettext_lazy("数据过大"),
    "too_deep": gettext_lazy("JSON 嵌套过深"),
    "malformed_json": gettext_lazy("不是有效的 JSON"),
    "not_an_object": gettext_lazy("应为 GeoJSON 对象"),
    "geometry_type": gettext_lazy("只接受 Polygon 或 MultiPolygon 面"),
    "bad_coordinates": gettext_lazy("坐标结构不正确"),
    "bad_position": gettext_lazy("坐标点应为 [经度, 纬度]"),
    "not_a_number": gettext_lazy("坐标含有非数字或非有限数值"),
    "too_many_vertices": gettext_lazy("顶点过多"),
    "empty": gettext_lazy("几何为空"),
    "ring_too_few_positions": gettext_lazy("环至少需要 4 个坐标点"),
    "ring_not_closed": gettext_lazy("环未闭合（首尾坐标不同）"),
    "out_of_range": gettext_lazy("经纬度超出范围"),
    "looks_projected": gettext_lazy("坐标像是投影坐标（米），请转换为 WGS84 经纬度"),
    "crs_not_wgs84": gettext_lazy("只接受 WGS84 经纬度（RFC 7946，不带 crs）"),
    "zero_area": gettext_lazy("面积为零"),
    "self_intersection": gettext_lazy("自相交"),
    "ring_self_intersection": gettext_lazy("环自相交"),
    "hole_lies_outside_shell": gettext_lazy("内环（洞）在外环之外"),
    "nested_holes": gettext_lazy("内环嵌套"),
    "nested_shells": gettext_lazy("外环嵌套"),
    "interior_is_disconnected": gettext_lazy("内部不连通"),
    "duplicate_rings": gettext_lazy("重复的环"),
    "too_few_points_in_geometry_component": gettext_lazy("坐标点过少"),
    "far_from_street": gettext_lazy("位置远离本街道（超出街道范围 1 公里）"),
    "outside_community": gettext_lazy("超出所属社区边界"),
    "overlaps_siblings": gettext_lazy("与相邻网格重叠"),
    "bad_line": gettext_lazy("分割线应为至少两个点的 LineString"),
    "line_does_not_split": gettext_lazy("分割线没有把网格分成两部分"),
    "not_adjacent": gettext_lazy("两个网格不相邻"),
    "stale_version": gettext_lazy("该网格已被他人修改"),
    "retired": gettext_lazy("网格已撤销"),
    "topology_not_clean": gettext_lazy("社区网格存在缝隙或重叠"),
    "reason_required": gettext_lazy("强制发布需要填写原因"),
    "nothing_to_publish": gettext_lazy("没有待发布的修改"),
    "forbidden": gettext_lazy("无权执行此操作"),
    "too_many_features": gettext_lazy("文件中的要素过多"),
    "unreadable_file": gettext_lazy("文件无法读取"),
    "driver_mismatch": gettext_lazy("文件内容与其格式不符（例如 Esri JSON 冒充 GeoJSON）"),
    "not_a_point": gettext_lazy("位置应为 GeoJSON Point"),
    "no_features": gettext_lazy("文件中没有要素"),
    "unsupported_format": gettext_lazy("只接受 GeoJSON、GeoPackage、Shapefile（zip）或 KML 文件"),
    "xml_entities": gettext_lazy("KML 文件不得包含 DOCTYPE 或实体声明"),
    "zip_too_many_entries": gettext_lazy("压缩包中的文件过多"),
    "zip_bomb": gettext_lazy("压缩包解压后过大"),
    "zip_unsafe_entry": gettext_lazy("压缩包中有不安全的路径"),
    "zip_several_shapefiles": gettext_lazy("压缩包中只能有一个 Shapefile"),
    "shapefile_part_missing": gettext_lazy("Shapefile 缺少组成文件"),
    "unknown_crs": gettext_lazy("无法识别的坐标系"),
    "crs_required": gettext_lazy("文件没有坐标系信息，请指定坐标系"),
    "not_found": gettext_lazy("不存在或不在您的管辖范围内"),
}


class EditRejected(Exception):
    """A refused edit: HTTP ``status``, a stable ``code``, the ``field`` concerned and a readable reason.

    ``extra`` carries JSON-ready details (overlap polygons as GeoJSON, the current version, …).
    """

    def __init__(
        self,
        status: int,
        code: str,
        *,
        field: str | None = None,
        detail: str = "",
        location: tuple[float, float] | None = None,
        extra: dict | None = None,
    ):
        self.status, self.code, self.field, self.location = status, code, field, location
        self.extra, self.detail = extra or {}, detail
        super().__init__(code)

    @property
    def message(self) -> str:
        if self.code in REASONS:
            text = str(REASONS[self.code])
        else:  # a reason this table does not know (a newer GEOS): translated, with GEOS's own words
            text = _("几何无效（%(reason)s）") % {"reason": self.extra.get("geos", self.code)}
        if self.location:
            text += _("，位置 %(lon).6f %(lat).6f") % {"lon": self.location[0], "lat": self.location[1]}
        if self.detail:
            text += f"（{self.detail}）"
        return text

    def as_json(self) -> dict:
        body = {"code": self.code, "field": self.field, "detail": self.message, **self.extra}
        if self.location:
            body["location"] = list(self.location)
        return body

    @classmethod
    def from_geometry(cls, exc: GeometryRejected, field: str | None = None) -> EditRejected:
        status = 413 if exc.too_large else 409 if exc.code == "overlaps_siblings" else 400
        extra = {k: (_geojson(v) if hasattr(v, "geom_type") else v) for k, v in exc.extra.items() if k != "overlaps"}
        if "overlaps" in exc.extra:
            extra["overlaps"] = [{**o, "geometry": _geojson(o["geometry"])} for o in exc.extra["overlaps"]]
        return cls(status, exc.code, field=field or exc.field, detail=exc.detail, location=exc.location, extra=extra)


def parse_shape(raw: object, field: str = "geometry") -> shapely.MultiPolygon:
    """Pure validation of GeoJSON (parsed or text) or a shapely geometry; refusals become EditRejected."""
    try:
        if isinstance(raw, shapely.Geometry):
            return validate_shape(raw, field=field)
        return validate_geojson(raw if isinstance(raw, Mapping | str | bytes) else {}, field=field)
    except GeometryRejected as exc:
        raise EditRejected.from_geometry(exc, field) from None


def working_siblings(community: Community, exclude: Iterable[int] = ()) -> dict[int, shapely.Geometry]:
    """The other grids of ``community`` as they will be after publishing (drafts included, retirements not)."""
    rows = (
        Grid.objects.filter(community=community)
        .exclude(status=GridStatus.RETIRED)
        .exclude(retire_on_publish=True)
        .exclude(pk__in=list(exclude))
        .values_list("pk", "boundary", "draft_boundary")
    )
    return {pk: shapely.from_wkb(bytes((draft or live).wkb)) for pk, live, draft in rows}


def check_grid_shape(
    raw: object, community: Community, *, exclude: Iterable[int] = (), clip: bool = False, field: str = "geometry"
) -> tuple[GEOSGeometry, Fit]:
    """Validate ``raw`` as a grid of ``community``: the whole validator, pure checks first.

    Returns the shape to store (2-D MultiPolygon, CCW shells, snapped to the neighbours) and the fit
    details; raises EditRejected (400/409/413) naming the field and the reason.
    """
    shape = parse_shape(raw, field)
    try:
        check_near(shape, community.street.boundary.extent, field=field)
        community_shape = shapely.from_wkb(bytes(community.boundary.wkb))
        fit = fit_grid(shape, community_shape, working_siblings(community, exclude), clip=clip)
    except GeometryRejected as exc:
        if exc.code == "overlaps_siblings":
            codes = dict(Grid.objects.filter(pk__in=[o["id"] for o in exc.extra["overlaps"]]).values_list("pk", "code"))
            for overlap in exc.extra["overlaps"]:
                overlap["code"] = codes.get(overlap["id"])
        raise EditRejected.from_geometry(exc, field) from None
    return to_geos(fit.geometry), fit


def to_geos(geom: shapely.Geometry) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)


def _geojson(geom: shapely.Geometry) -> dict:
    return None if geom.is_empty else json.loads(shapely.to_geojson(geom))
