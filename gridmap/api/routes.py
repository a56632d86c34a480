"""URL patterns of the open interfaces (issue #8), included once from gridmap/urls.py:
the REST API (/api/v1/), its OpenAPI schema and Swagger UI (served locally, sidecar assets),
OGC API – Features (/ogc/) and vector tiles (/api/tiles/)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from gridmap.api import ogc, rest, tiles

router = SimpleRouter()
router.register("api/v1/streets", rest.StreetViewSet, basename="rest-street")
router.register("api/v1/communities", rest.CommunityViewSet, basename="rest-community")
router.register("api/v1/grids", rest.GridViewSet, basename="rest-grid")
router.register("api/v1/stations", rest.StationViewSet, basename="rest-station")
router.register("api/v1/households", rest.HouseholdViewSet, basename="rest-household")
router.register("api/v1/members", rest.MemberViewSet, basename="rest-member")
router.register("api/v1/assignments", rest.AssignmentViewSet, basename="rest-assignment")

urlpatterns = [
    *router.urls,
    # The schema and its UI are behind login like the data (security.md (b) 50).
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[rest.HasRole]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[rest.HasRole]),
        name="api-docs",
    ),
    path("api/tiles/<str:layer>/<str:z>/<str:x>/<str:y>.mvt", tiles.TileView.as_view(), name="tile"),
    path("ogc/", ogc.Landing.as_view(), name="ogc-landing"),
    path("ogc/conformance", ogc.Conformance.as_view(), name="ogc-conformance"),
    path("ogc/api", ogc.ApiDocument.as_view(), name="ogc-api"),
    path("ogc/collections", ogc.Collections.as_view(), name="ogc-collections"),
    path("ogc/collections/<str:collection>", ogc.Collection.as_view(), name="ogc-collection"),
    path("ogc/collections/<str:collection>/items", ogc.Items.as_view(), name="ogc-items"),
    path("ogc/collections/<str:collection>/items/<int:fid>", ogc.Item.as_view(), name="ogc-item"),
]
