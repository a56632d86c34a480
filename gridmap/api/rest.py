"""The REST API (/api/v1/): GeoJSON FeatureCollections for the spatial models, JSON for people.

Configuration, not code: every viewset takes its queryset from ``gridmap.policy`` (out of scope = 404,
planners never get resident rows), paginates with a capped page size, filters by ``in_bbox`` (validated
here: drf-gis's InBBoxFilter answers 500 to ``in_bbox=NaN,…``), orders by an allow-list only, and never
offers a lookup by ID number or phone. Personal data is masked in every representation; full values
only through the audited reveal endpoint of the pages. Writes go through the same services as the pages
(see api/rest_writes.py). Authentication: the page session, or ``Authorization: Token <key>``.
"""

from __future__ import annotations

from django.contrib.gis.geos import Polygon
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridmap import policy
from gridmap.api import etags
from gridmap.api.layers import parse_bbox
from gridmap.api.rest_map_writes import GridWrites, StationWrites
from gridmap.api.rest_writes import HouseholdWrites
from gridmap.models import (
    Community,
    Grid,
    GridAssignment,
    Household,
    Member,
    ServiceStation,
    Street,
)
from gridmap.models.households import TAG_FIELDS
from gridmap.services.stations.editing import etag_of as station_etag

PAGE_SIZE, PAGE_SIZE_MAX = 100, 1000


class Page(GeoJsonPagination):
    page_size = PAGE_SIZE
    max_page_size = PAGE_SIZE_MAX  # page_size=1000000 is served as 1000

    def get_paginated_response_schema(self, schema):
        # drf-gis 1.3 documents a "results" key it never sends: the page is the FeatureCollection
        # (``schema``) plus count/next/previous.
        extra = super(GeoJsonPagination, self).get_paginated_response_schema(schema)["properties"]
        return {
            "allOf": [
                schema,
                {
                    "type": "object",
                    "required": ["count"],
                    "properties": {key: extra[key] for key in ("count", "next", "previous")},
                },
            ]
        }


class HasRole(IsAuthenticated):
    """Authenticated and with a role: an account without a profile sees nothing (403)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and policy.role_of(request.user) is not None


class SeesResidents(HasRole):
    """Resident rows: planners get 403 (aggregates only), as the role × endpoint matrix says."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and policy.sees_residents(request.user)


class BboxFilter(BaseFilterBackend):
    """``in_bbox=minlon,minlat,maxlon,maxlat``: features intersecting the box; 400 with a reason for
    anything that is not four finite, ordered lon/lat numbers."""

    def filter_queryset(self, request, queryset, view):
        try:
            bbox = parse_bbox(request.query_params.get("in_bbox"))
        except ValueError as exc:
            raise ValidationError({"in_bbox": [str(exc) or _("bbox 无效")]}) from None
        if bbox is None:
            return queryset
        return queryset.filter(**{f"{view.bbox_field}__intersects": Polygon.from_bbox(bbox)})

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "in_bbox",
                "required": False,
                "in": "query",
                "description": "minlon,minlat,maxlon,maxlat (WGS84)",
                "schema": {"type": "string"},
            }
        ]


class ApiSchema(AutoSchema):
    """Every operation documents its refusals too (schemathesis checks that each status is documented)."""

    ERRORS = {
        "400": "Bad parameter or body",
        "401": "Not authenticated",
        "403": "No role, or planner",
        "404": "Not found, out of scope, or no such page",
    }
    WRITE_ERRORS = {
        "412": "Stale If-Match",
        "415": "Not JSON",
        "428": "If-Match required",
        "409": "Conflict: stale grid version, overlap, retired grid",
        "413": "Body too large",
    }

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}
        errors = self.ERRORS if self.method == "GET" else {**self.ERRORS, **self.WRITE_ERRORS}
        for status, text in errors.items():
            responses.setdefault(status, {"description": text, "content": error})
        return responses


def by_id(*fields: str, **choices) -> type[filters.FilterSet]:
    """A FilterSet of plain integer filters on foreign keys (an unknown id matches nothing rather than
    answering 400) and choice filters; django-filter's defaults would make ``grid=0`` a 400."""
    attrs = {field: filters.NumberFilter(field_name=field) for field in fields}
    attrs.update({field: filters.CharFilter(field_name=field) for field in choices})
    return type("Filters", (filters.FilterSet,), attrs)


class Masked(serializers.CharField):
    """A personal value shown masked (``138****5678``, ``110105********002X``): the stored masked column
    (the full value is sealed, see gridmap.storage.sealed_fields); never writable here."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


class GeoViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasRole]
    pagination_class = Page
    filter_backends = [BboxFilter, DjangoFilterBackend, OrderingFilter]
    schema = ApiSchema()
    lookup_value_regex = "[^/]+"  # DRF answers a non-integer id with a JSON 404, not Django's HTML page
    scope = None  # a policy function
    bbox_field = "boundary"

    def get_queryset(self):
        return type(self).scope(self.request.user)


# -- serializers: explicit field lists; everything but the documented writable fields is read-only ----


@extend_schema_field(OpenApiTypes.STR)
class ETag(serializers.ReadOnlyField):
    """``etag``: the exact ``If-Match`` string of the next write to this object (api/etags.py)."""

    def __init__(self, etag_of, **kwargs):
        self.etag_of = etag_of
        super().__init__(source="*", **kwargs)

    def to_representation(self, value):
        return self.etag_of(value)


class StreetSerializer(GeoFeatureModelSerializer):
    boundary = GeometryField(precision=6, read_only=True)  # ~10 cm, RFC 7946's advice

    class Meta:
        model = Street
        geo_field = "boundary"
        fields = ["id", "code", "name"]


class CommunitySerializer(GeoFeatureModelSerializer):
    boundary = GeometryField(precision=6, read_only=True)

    class Meta:
        model = Community
        geo_field = "boundary"
        fields = ["id", "code", "name", "kind", "street"]


class GridSerializer(GeoFeatureModelSerializer):
    boundary = GeometryField(precision=6, read_only=True)
    etag = ETag(etags.grid)

    class Meta:
        model = Grid
        geo_field = "boundary"
        fields = ["id", "code", "name", "status", "version", "community", "updated_at", "etag"]
        read_only_fields = fields


class StationSerializer(GeoFeatureModelSerializer):
    location = GeometryField(precision=6, read_only=True)
    etag = ETag(station_etag)

    class Meta:
        model = ServiceStation
        geo_field = "location"
        fields = ["id", "name", "kind", "radius_m", "community", "opening_hours", "services", "active", "etag"]


class HouseholdSerializer(GeoFeatureModelSerializer):
    location = GeometryField(precision=6, read_only=True)
    phone = Masked(source="phone_masked")
    id_number = Masked(source="id_number_masked")
    # Masked like the map layers and exports (policy.mask_name = SQL gridmap_masked_name); the full name only
    # through the page's audited reveal, never in a list of up to a thousand rows.
    head_name = serializers.SerializerMethodField()

    etag = ETag(etags.household)

    def get_head_name(self, household) -> str:
        return policy.mask_name(household.head_name)

    class Meta:
        model = Household
        geo_field = "location"
        fields = [
            "id",
            "address",
            "head_name",
            "phone",
            "id_number",
            "residents",
            "resident_type",
            *TAG_FIELDS,
            "grid",
            "community",
            "updated_at",
            "etag",
        ]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    phone = Masked(source="phone_masked")

    etag = ETag(etags.member)

    class Meta:
        model = Member
        fields = ["id", "name", "phone", "is_party_member", "employer", "community", "etag"]
        read_only_fields = fields


class AssignmentSerializer(serializers.ModelSerializer):
    etag = ETag(etags.assignment)

    class Meta:
        model = GridAssignment
        fields = ["id", "member", "grid", "role", "start_date", "end_date", "etag"]
        read_only_fields = fields


class JsonPage(PageNumberPagination):
    """Plain JSON pages for the non-spatial models (count/next/previous/results), same caps."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX


# -- viewsets ----------------------------------------------------------------------------------------


class StreetViewSet(GeoViewSet):
    """Streets within the caller's scope."""

    scope = policy.streets_for
    serializer_class = StreetSerializer
    ordering_fields = ["code", "name"]
    ordering = ["code"]


class CommunityViewSet(GeoViewSet):
    """Communities within the caller's scope."""

    scope = policy.communities_for
    serializer_class = CommunitySerializer
    filterset_class = by_id("street", kind=True)
    ordering_fields = ["code", "name"]
    ordering = ["code"]


class GridViewSet(GridWrites, GeoViewSet):
    """Grids (all statuses) within the caller's scope; ``version`` is the optimistic-concurrency token
    (ETag, If-Match). Create, reshape and retire drafts here, as the grid editor does; publishing stays in
    the editor."""

    scope = policy.grids_for
    serializer_class = GridSerializer
    filterset_class = by_id("community", status=True)
    ordering_fields = ["code", "name", "updated_at"]
    ordering = ["code"]

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = response.data["properties"]["etag"]
        return response


class StationViewSet(StationWrites, GeoViewSet):
    """Service stations of the caller's streets; street admins place, change and remove those of their street."""

    scope = policy.stations_for
    serializer_class = StationSerializer
    bbox_field = "location"
    filterset_class = by_id("community", kind=True)
    ordering_fields = ["name", "radius_m"]
    ordering = ["name", "id"]


class NoStore:
    """Residents' data: ``Cache-Control: no-store`` on every answer, as the page APIs send (ASVS V14.3.2)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response


class HouseholdViewSet(NoStore, HouseholdWrites, GeoViewSet):
    """Households of the caller's scope, phone and ID number masked. Planners: 403. PATCH with If-Match."""

    permission_classes = [SeesResidents]
    scope = policy.households_for
    serializer_class = HouseholdSerializer
    bbox_field = "location"
    filterset_class = by_id("grid", "community", resident_type=True)  # never id_number or phone
    ordering_fields = ["id", "address", "updated_at"]
    ordering = ["id"]


class MemberViewSet(NoStore, GeoViewSet):
    """Members of the caller's scope (phone masked). Planners see none."""

    scope = policy.members_for
    serializer_class = MemberSerializer
    pagination_class = JsonPage
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = by_id("community")
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]


class AssignmentViewSet(GeoViewSet):
    """Grid assignments (with history) of the grids the caller sees."""

    scope = policy.assignments_for
    serializer_class = AssignmentSerializer
    pagination_class = JsonPage
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = by_id("grid", "member", role=True)
    ordering_fields = ["start_date", "id"]
    ordering = ["id"]
