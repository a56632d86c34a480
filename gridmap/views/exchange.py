"""The data exchange page (数据导入导出): download every layer the role may export, in every format, and
(system and street admins) import streets, communities and service stations with a preview first, and replace
the reference layers (roads, water, compounds, buildings) of their streets, listed with their feature counts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from geodata.writers import FORMATS, SPATIAL_FORMATS
from gridmap import policy
from gridmap.models import ReferenceKind, Role
from gridmap.queries.reference import layer_summary
from gridmap.services.layers.exports import FULL_LAYERS

LAYER_NAMES = {
    "streets": _("街道"),
    "communities": _("社区"),
    "grids": _("网格"),
    "stations": _("服务站"),
    "households": _("住户"),
    "links": _("中心户联系"),
    "members": _("人员"),
}
FORMAT_NAMES = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shp": "Shapefile (zip)",
    "xlsx": "Excel (XLSX)",
    "csv": "CSV",
}
CRS_CHOICES = (
    ("", _("文件自带（GeoJSON 为 WGS84）")),
    ("WGS84", "WGS84"),
    ("CGCS2000", "CGCS2000"),
    ("GCJ02", _("GCJ-02（高德、腾讯）")),
    ("BD09", _("BD-09（百度）")),
    ("GK3", _("CGCS2000 高斯-克吕格 3° 带（带号在 x 前）")),
    ("EPSG:3857", _("Web 墨卡托 EPSG:3857")),
)


@login_required
def data_exchange(request: HttpRequest) -> HttpResponse:
    user = request.user
    layers = [
        {
            "key": key,
            "name": LAYER_NAMES[key],
            "full": key in FULL_LAYERS and policy.may_reveal(user),
            "formats": [
                {"key": f, "name": FORMAT_NAMES[f]} for f in FORMATS if not (key == "members" and f in SPATIAL_FORMATS)
            ],
        }
        for key in policy.exportable_layers(user)
    ]
    imports = []
    if policy.area_import_streets_for(user).exists():
        imports = [("communities", LAYER_NAMES["communities"]), ("stations", LAYER_NAMES["stations"])]
        if policy.may_import_streets(user):
            imports.insert(0, ("streets", LAYER_NAMES["streets"]))
    households = policy.household_import_communities_for(user)  # None: the system admin, not limited
    context = {
        "reference": _reference(user),
        "profile": policy.profile_of(user),
        "layers": layers,
        "imports": imports,
        "crs_choices": CRS_CHOICES,
        "household_import": households is None or households.exists(),
    }
    return render(request, "gridmap/data_exchange.html", context, status=200 if layers else 403)


def _reference(user) -> dict | None:
    """The reference layer form (kinds, the streets in scope, the whole city for the system admin) and the
    layers there are; None for a user who may not import them."""
    streets = policy.reference_streets_for(user)
    if not streets.exists():
        return None
    return {
        "kinds": ReferenceKind.choices,
        "streets": list(streets.order_by("code").values("id", "name")),
        "city": policy.role_of(user) == Role.SYSTEM_ADMIN,
        "layers": layer_summary(policy.reference_features_for(user), streets),
    }
