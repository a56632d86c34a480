"""OGC API – Features, Part 1 (Core, GeoJSON, OpenAPI 3.0) for GIS clients: QGIS, GDAL's ``OAPIF:``.

Collections: streets, communities, grids (published, with their coverage metrics as properties) and
service stations — nothing personal. Behind authentication like every other endpoint: a session, or
``Authorization: Token <key>`` (GDAL: ``GDAL_HTTP_HEADERS="Authorization: Token <key>"``; QGIS: an
authentication configuration of type "API Header"). Scope comes from ``gridmap.policy``; an item out of
scope is 404. Thin views: parse and check parameters (400 with a reason), call queries/ogc.py, answer.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from gridmap import policy
from gridmap.api.layers import parse_bbox
from gridmap.planner.metrics import SENSITIVE_FIELDS, suppress
from gridmap.queries import ogc as queries
from gridmap.queries.coverage_store import stored_coverage

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
LIMIT_DEFAULT, LIMIT_MAX = 10, 10000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
COLLECTIONS = {
    "streets": (gettext_lazy("街道"), policy.streets_for),
    "communities": (gettext_lazy("社区"), policy.communities_for),
    "grids": (gettext_lazy("网格（已发布，含覆盖指标）"), lambda user: policy.grids_for(user).published()),
    "stations": (gettext_lazy("服务站"), policy.stations_for),
}
# Coverage metrics a grid feature carries (queries/coverage.py defines them; no personal data).
GRID_METRICS = (
    "households",
    "covered",
    "covered_pct",
    "linked",
    "linked_pct",
    "central",
    "central_load",
    "leaders",
    "fulltime",
    "staffed",
    "per_fulltime",
    "size_status",
    "vulnerable",
    "vulnerable_uncovered",
)


class AnyAccept(BaseContentNegotiation):
    """OGC clients send Accept: application/geo+json (and more); every answer here is JSON anyway."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class HasRole(IsAuthenticated):
    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if policy.role_of(request.user) is None:
            raise PermissionDenied(_("账号没有角色"))
        return True


def _answer(data: dict, content_type: str = JSON) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _link(request, name: str, rel: str, content_type: str, title: str = "", query: str = "", **kwargs) -> dict:
    href = request.build_absolute_uri(reverse(name, kwargs=kwargs or None)) + (f"?{query}" if query else "")
    link = {"href": href, "rel": rel, "type": content_type}
    if title:
        link["title"] = title
    return link


def _int(request, key: str, default: int, low: int, high: int, *, clamp: bool = False) -> int:
    raw = request.GET.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParseError({"field": key, "detail": _("应为整数")}) from None
    if value > high and clamp:  # OGC API Features: a larger limit is served with the maximum
        return high
    if not low <= value <= high:
        raise ParseError({"field": key, "detail": _("应在 %(low)s 到 %(high)s 之间") % {"low": low, "high": high}})
    return value


def _bbox(request):
    crs = request.GET.get("bbox-crs")
    if crs not in (None, CRS84):
        raise ParseError({"field": "bbox-crs", "detail": _("只支持 CRS84（经度,纬度）")})
    try:
        return parse_bbox(request.GET.get("bbox"))
    except ValueError as exc:
        raise ParseError({"field": "bbox", "detail": str(exc) or _("bbox 无效")}) from None


def _collection(name: str, user):
    if name not in COLLECTIONS:
        raise NotFound(_("没有这个集合"))
    title, scope = COLLECTIONS[name]
    return title, scope(user)


def _with_metrics(features: list[dict], grids, user) -> list[dict]:
    """The grids' metrics; for planners the sensitive counts as the dashboard shows them ("<5")."""
    if not features:
        return features
    planner = policy.small_counts_suppressed(user)
    metrics = {row["grid_id"]: row for row in stored_coverage(grids.filter(pk__in=[f["id"] for f in features]))}
    for feature in features:
        row = metrics.get(feature["id"], {})
        feature["properties"].update({key: row.get(key) for key in GRID_METRICS})
        for key in SENSITIVE_FIELDS:
            feature["properties"][key] = suppress(feature["properties"][key], planner)
    return features


@extend_schema(exclude=True)  # described by its own OpenAPI document, /ogc/api
class OgcView(APIView):
    permission_classes = [HasRole]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAccept


class Landing(OgcView):
    def get(self, request):
        return _answer(
            {
                "title": "GridMap OGC API – Features",
                "description": _("街道、社区、网格（含覆盖指标）和服务站；不含任何住户个人信息。"),
                "links": [
                    _link(request, "ogc-landing", "self", JSON, _("本页")),
                    _link(request, "ogc-api", "service-desc", OPENAPI, "OpenAPI 3.0"),
                    _link(request, "ogc-conformance", "conformance", JSON, _("符合的标准类")),
                    _link(request, "ogc-collections", "data", JSON, _("集合")),
                ],
            }
        )


class Conformance(OgcView):
    def get(self, request):
        return _answer({"conformsTo": CONFORMANCE})


class ApiDocument(OgcView):
    def get(self, request):
        from gridmap.api.ogc_openapi import document

        base = request.build_absolute_uri(reverse("ogc-landing")).rstrip("/")
        return _answer(document(base, list(COLLECTIONS), LIMIT_DEFAULT, LIMIT_MAX), OPENAPI)


def _describe(request, name: str, title: str, scope) -> dict:
    bbox = queries.extent(name, scope)
    return {
        "id": name,
        "title": str(title),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bbox] if bbox else [], "crs": CRS84}},
        "links": [
            _link(request, "ogc-collection", "self", JSON, str(title), collection=name),
            _link(request, "ogc-items", "items", GEOJSON, str(title), collection=name),
        ],
    }


class Collections(OgcView):
    def get(self, request):
        described = [_describe(request, name, *_collection(name, request.user)) for name in COLLECTIONS]
        return _answer({"links": [_link(request, "ogc-collections", "self", JSON)], "collections": described})


class Collection(OgcView):
    def get(self, request, collection: str):
        return _answer(_describe(request, collection, *_collection(collection, request.user)))


class Items(OgcView):
    def get(self, request, collection: str):
        _title, scope = _collection(collection, request.user)
        limit = _int(request, "limit", LIMIT_DEFAULT, 1, LIMIT_MAX, clamp=True)
        offset = _int(request, "offset", 0, 0, 10**9)
        bbox = _bbox(request)
        features, matched = queries.items(collection, scope, bbox=bbox, limit=limit, offset=offset)
        if collection == "grids":
            features = _with_metrics(features, scope, request.user)
        keep = urlencode({"bbox": request.GET["bbox"]}) if bbox is not None else ""

        def page(rel: str, at: int) -> dict:
            query = "&".join(p for p in (f"limit={limit}", f"offset={at}", keep) if p)
            return _link(request, "ogc-items", rel, GEOJSON, query=query, collection=collection)

        links = [page("self", offset), _link(request, "ogc-collection", "collection", JSON, collection=collection)]
        if offset + len(features) < matched:
            links.append(page("next", offset + limit))
        if offset > 0:
            links.append(page("prev", max(offset - limit, 0)))
        return _answer(
            {
                "type": "FeatureCollection",
                "features": features,
                "numberMatched": matched,
                "numberReturned": len(features),
                "links": links,
            },
            GEOJSON,
        )


class Item(OgcView):
    def get(self, request, collection: str, fid: int):
        _title, scope = _collection(collection, request.user)
        features = queries.items(collection, scope, limit=1, fid=fid)[0] if fid < 2**63 else []
        if not features:
            raise NotFound(_("没有这个要素"))
        if collection == "grids":
            features = _with_metrics(features, scope, request.user)
        feature = features[0]
        feature["links"] = [
            _link(request, "ogc-item", "self", GEOJSON, collection=collection, fid=fid),
            _link(request, "ogc-collection", "collection", JSON, collection=collection),
        ]
        return _answer(feature, GEOJSON)
