"""Vector tiles (MVT) of grids and households for map pages where GeoJSON gets too heavy.

``/api/tiles/grids/{z}/{x}/{y}.mvt`` and ``/api/tiles/households/{z}/{x}/{y}.mvt``: scoped by the policy
module; planners get household counts per cell only (small cells without a count), never points.
Authentication: session or token. ``Cache-Control: private, max-age=300``: a tile is the caller's own
view of the data and may be reused by that browser for a few minutes, never by a shared cache.
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from gridmap import policy
from gridmap.api.ogc import AnyAccept
from gridmap.api.rest import ApiSchema, HasRole
from gridmap.queries import tiles

MVT = "application/vnd.mapbox-vector-tile"
COORDINATE = re.compile(r"[0-9]{1,8}")  # ASCII digits only: str.isdigit() also accepts "²"
MAX_ZOOM = 22
CACHE_SECONDS = 300


def _tile(request, layer: str, z: int, x: int, y: int) -> bytes:
    user = request.user
    if layer == "grids":
        return tiles.grids_tile(policy.grids_for(user), z, x, y)
    if policy.sees_residents(user):
        return tiles.households_tile(policy.households_for(user), z, x, y, points=True)
    return tiles.households_tile(policy.grids_for(user), z, x, y, points=False)


class TileView(APIView):
    permission_classes = [HasRole]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAccept
    schema = ApiSchema()

    @extend_schema(
        operation_id="tile",
        summary="Vector tile (MVT, EPSG:3857)",
        parameters=[
            OpenApiParameter("layer", str, OpenApiParameter.PATH, enum=["grids", "households"]),
            OpenApiParameter("z", OpenApiTypes.INT, OpenApiParameter.PATH, description="0-22"),
            OpenApiParameter("x", OpenApiTypes.INT, OpenApiParameter.PATH, description="0 .. 2^z - 1"),
            OpenApiParameter("y", OpenApiTypes.INT, OpenApiParameter.PATH, description="0 .. 2^z - 1"),
        ],
        responses={(200, MVT): OpenApiResponse(OpenApiTypes.BINARY, description="Mapbox vector tile")},
    )
    def get(self, request, layer: str, z: str, x: str, y: str):
        # str in the route, so that a malformed coordinate gets this JSON 404 and not Django's HTML page
        if not all(COORDINATE.fullmatch(v) for v in (z, x, y)):
            raise NotFound(_("没有这个瓦片"))
        z, x, y = int(z), int(x), int(y)
        if layer not in ("grids", "households") or not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            raise NotFound(_("没有这个瓦片"))
        response = HttpResponse(_tile(request, layer, z, x, y), content_type=MVT)
        response["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
        response["Vary"] = "Cookie, Authorization"
        return response
