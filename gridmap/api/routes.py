"""URL patterns of the open interfaces (issue #8), included once from gridmap/urls.py:
the REST API (/api/v1/), its OpenAPI schema and Swagger UI (served locally, sidecar assets),
OGC API – Features (/ogc/) and vector tiles (/api/tiles/)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from gridmap.api import ogc, open311, rest, tiles

router = SimpleRouter()
router.register("api/v1/streets", rest.StreetViewSet, basename="rest-street")
router.register("api/v1/communities", rest.CommunityViewSet, basename="rest-community")
router.register("api/v1/grids", rest.GridViewSet, basename="rest-grid")
router.register("api/v1/stations", rest.StationViewSet, basename="rest-station")
router.register("api/v1/households", rest.HouseholdViewSet, basename="rest-household")
router.register("api/v1/members", rest.MemberViewSet, basename="rest-member")
router.register("api/v1/assignments", rest.AssignmentViewSet, basename="rest-assignment")


class ApiRoot(APIView):
    """/api/v1/: the collections of the REST API, the OpenAPI schema and its documentation, the OGC landing
    page and the vector-tile URL template, as links (what a client or a newcomer starts from)."""

    permission_classes = [rest.HasRole]
    schema = None  # links only: not an operation of the OpenAPI document

    def get(self, request):
        collections = {prefix.rsplit("/", 1)[1]: reverse(f"{basename}-list", request=request)
                       for prefix, _viewset, basename in router.registry}  # fmt: skip
        tile = reverse("tile", kwargs={"layer": "grids", "z": "0", "x": "0", "y": "0"}, request=request)
        return Response({
            "collections": collections,
            "schema": reverse("api-schema", request=request),
            "docs": reverse("api-docs", request=request),
            "ogc": reverse("ogc-landing", request=request),
            "tiles": tile.replace("/grids/0/0/0.mvt", "/{layer}/{z}/{x}/{y}.mvt"),
        })  # fmt: skip


urlpatterns = [
    path("api/v1/", ApiRoot.as_view(), name="api-root"),
    *router.urls,
    # The schema and its UI are behind login like the data (security.md (b) 50).
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[rest.HasRole]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[rest.HasRole]),
        name="api-docs",
    ),
    path("api/tiles/<str:layer>/<str:z>/<str:x>/<str:y>.mvt", tiles.TileView.as_view(), name="tile"),
    # Open311 GeoReport v2 (issue #17): residents' concerns for 311 clients, JSON or XML by suffix.
    path("open311/v2/services.<str:fmt>", open311.Services.as_view(), name="open311-services"),
    path("open311/v2/services/<slug:code>.<str:fmt>", open311.ServiceDefinition.as_view(), name="open311-service"),
    path("open311/v2/requests.<str:fmt>", open311.Requests.as_view(), name="open311-requests"),
    path("open311/v2/requests/<int:pk>.<str:fmt>", open311.OneRequest.as_view(), name="open311-request"),
    path("ogc/", ogc.Landing.as_view(), name="ogc-landing"),
    path("ogc/conformance", ogc.Conformance.as_view(), name="ogc-conformance"),
    path("ogc/api", ogc.ApiDocument.as_view(), name="ogc-api"),
    path("ogc/collections", ogc.Collections.as_view(), name="ogc-collections"),
    path("ogc/collections/<str:collection>", ogc.Collection.as_view(), name="ogc-collection"),
    path("ogc/collections/<str:collection>/items", ogc.Items.as_view(), name="ogc-items"),
    path("ogc/collections/<str:collection>/items/<int:fid>", ogc.Item.as_view(), name="ogc-item"),
]
