"""Writes of the REST API, through the same services as the pages, with optimistic concurrency.

Households: ``PATCH /api/v1/households/{id}/`` with ``If-Match: <ETag of the last GET>``. The body may
carry the editable details (api/bodies.HouseholdPatch, the page's serializer plus ``location``; anything
else is refused, no mass assignment) and/or ``location`` as a GeoJSON Point; a location change goes through
``household_care.move_household`` (grid checks on both ends, then ``rehome_households``). The row is
locked while the ETag is compared, so of two writers holding the same ETag exactly one wins; the other
gets 412 (and 428 without If-Match). The ETag is the household's ``updated_at`` in microseconds, which
every write moves (api/etags.py). The one concurrency rule of api/jsonapi.py; refusals reach DRF's
exception handler, which answers the one error shape.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from gridmap import policy
from gridmap.api import etags
from gridmap.api.bodies import HouseholdPatch, validated
from gridmap.api.jsonapi import BodyParser, check_etag, if_match
from gridmap.api.schema import IF_MATCH, PRECONDITION
from gridmap.rules.fields import plain_number
from gridmap.services.households import care as care
from gridmap.services.refused import Refused

etag_of = etags.household


class HouseholdWrites:
    """Mixed into the household viewset: retrieve with an ETag, PATCH with If-Match."""

    parser_classes = [BodyParser]

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag_of(self.get_object())
        return response

    @extend_schema(
        request=HouseholdPatch,
        parameters=[IF_MATCH],
        responses={200: OpenApiResponse(description="The household"), **PRECONDITION},
    )
    def partial_update(self, request, pk=None):
        household = self._write(request.user, pk, request.data, if_match(request)[0])
        response = Response(self.get_serializer(household).data)
        response["ETag"] = etag_of(household)
        return response

    @transaction.atomic
    def _write(self, user, pk, data: dict, expected: str):
        if not plain_number(pk) or int(pk) >= 2**63:
            raise Refused(404, "not_found", field="household")
        household = policy.households_for(user).select_for_update().filter(pk=int(pk)).first()
        if household is None:
            raise Refused(404, "not_found", field="household")
        check_etag(expected, etag_of(household), detail=_("该住户已被他人修改，请重新读取后再保存"))
        changes = validated(HouseholdPatch, data, partial=True)
        location = changes.pop("location", None)
        if changes:
            household = care.update_household(user, household.pk, changes)
        if location is not None:
            household = care.move_household(user, household.pk, location)
        return household
