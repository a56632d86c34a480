"""REST writes for grids and service stations (issue #8), through the same services as the pages.

Grids: ``POST /api/v1/grids/`` draws a draft grid, ``PATCH /api/v1/grids/{id}/`` reshapes it (a pending
edit of a published grid), ``DELETE`` retires it (a draft at once, a published grid when its community is
next published; codes are never reused). The body is read by the grid editor's parser (size and depth
caps) and validated by api/bodies.py, the serializers the pages use too; every shape goes through ``services.grids.shapes.check_grid_shape``, the one validator.
Concurrency, the one rule (api/jsonapi.py): ``If-Match: "<version>"`` (the ETag of GET), missing → 428,
stale → 412 with the current grid, as in the editor.

Stations: ``POST``/``PATCH``/``DELETE /api/v1/stations/…`` through ``services.stations`` (street admins in
their street); ``If-Match`` with the ETag of GET, missing → 428, stale → 412.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from gridmap.api.bodies import GridBoundary, GridCreate, StationBody, validated
from gridmap.api.grids import grid_if_match
from gridmap.api.jsonapi import BodyParser, check_etag, if_match
from gridmap.api.jsonapi import body as editor_body
from gridmap.api.schema import IF_MATCH, PRECONDITION
from gridmap.models import Grid
from gridmap.services.grids import editing as grid_editing
from gridmap.services.stations import editing as station_service


class GridWrites:
    """Mixed into the grid viewset."""

    parser_classes = [BodyParser]

    def _reply(self, result: dict, status: int = 200) -> Response:
        grid = Grid.objects.get(pk=result["id"])
        response = Response(self.get_serializer(grid).data, status=status)
        response["ETag"] = f'"{grid.version}"'
        return response

    @extend_schema(request=GridCreate, responses={201: OpenApiResponse(description="The new draft grid (Feature)")})
    def create(self, request, *args, **kwargs):
        data = validated(GridCreate, editor_body(request._request))
        result = grid_editing.create_draft_grid(
            request.user, data["community"], data["geometry"], name=data.get("name"), clip=data["clip"]
        )
        return self._reply(result, 201)

    @extend_schema(
        request=GridBoundary,
        parameters=[IF_MATCH],
        responses={200: OpenApiResponse(description="The grid"), **PRECONDITION},
    )
    def partial_update(self, request, pk=None, *args, **kwargs):
        grid_id, version = grid_if_match(request, pk)
        data = validated(GridBoundary, editor_body(request._request))
        result = grid_editing.save_grid_boundary(request.user, grid_id, data["geometry"], version, clip=data["clip"])
        return self._reply(result)

    @extend_schema(
        request=None,
        parameters=[IF_MATCH],
        responses={
            200: OpenApiResponse(description="The retired grid, or the grid marked for retirement"),
            **PRECONDITION,
        },
    )
    def destroy(self, request, pk=None, *args, **kwargs):
        grid_id, version = grid_if_match(request, pk)
        result = grid_editing.retire_grid(request.user, grid_id, version)
        return self._reply(result)


class StationWrites:
    """Mixed into the station viewset: retrieve with an ETag, create, PATCH and DELETE with If-Match."""

    parser_classes = [BodyParser]

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = station_service.etag_of(self.get_object())
        return response

    def _reply(self, station, status: int = 200) -> Response:
        body = self.get_serializer(station).data
        body["properties"]["warnings"] = station_service.warnings(station)
        response = Response(body, status=status)
        response["ETag"] = station_service.etag_of(station)
        return response

    def _held(self, request, pk):
        """The station, row-locked after scope and rights (404/403), then the one concurrency rule."""
        station = station_service.station_to_edit(request.user, pk)
        check_etag(
            if_match(request)[0],
            station_service.etag_of(station),
            detail=_("该服务站已被他人修改，请重新读取后再保存"),
        )
        return station

    @extend_schema(request=StationBody, responses={201: OpenApiResponse(description="The new station (Feature)")})
    def create(self, request, *args, **kwargs):
        data = editor_body(request._request)  # a malformed body first, then the rights, then the fields
        station_service.may_edit(request.user)
        station = station_service.create_station(request.user, validated(StationBody, data))
        return self._reply(station, 201)

    @extend_schema(
        request=StationBody(partial=True),
        parameters=[IF_MATCH],
        responses={200: OpenApiResponse(description="The station"), **PRECONDITION},
    )
    @transaction.atomic
    def partial_update(self, request, pk=None, *args, **kwargs):
        data = editor_body(request._request)  # a malformed body first, then rights, scope and If-Match
        station = self._held(request, pk)
        station = station_service.update_station(request.user, station, validated(StationBody, data, partial=True))
        return self._reply(station)

    @extend_schema(
        request=None, parameters=[IF_MATCH], responses={204: OpenApiResponse(description="Removed"), **PRECONDITION}
    )
    @transaction.atomic
    def destroy(self, request, pk=None, *args, **kwargs):
        station_service.delete_station(self._held(request, pk))
        return Response(status=204)
