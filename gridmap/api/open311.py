"""Open311 GeoReport v2 (/open311/v2/…), so 311 clients and tooling can read and submit residents' concerns:
services (the categories), a service definition, requests (GET with the spec's 90-day / 1,000 default window and
the paging extension ``page``/``page_size``; POST to submit) and one request by id, in JSON or XML by the path's
suffix. The ``api_key`` (query or form) is an account's API token: it answers only what that account may see
(policy.concerns_for) and submits as that account, through the same service as the page
(services/concerns/workflow.report)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from django.contrib.gis.geos import Point
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from gridmap import policy
from gridmap.api.rest import SeesResidents
from gridmap.api.token_auth import ExpiringTokenAuthentication
from gridmap.models.concerns import FINAL_STATES, Concern, ConcernCategory
from gridmap.services.concerns import workflow
from gridmap.services.refused import Refused

WINDOW_DAYS, MAX_RESULTS = 90, 1000
PLURAL = {"services": "service", "service_requests": "request", "service_definition": "service_definition"}


class ApiKeyAuthentication(ExpiringTokenAuthentication):
    """Open311's ``api_key`` parameter carries the account's API token (the header form works too)."""

    def authenticate(self, request):
        key = request.query_params.get("api_key") or request._request.POST.get("api_key")
        return self.authenticate_credentials(key) if key else super().authenticate(request)


def _answer(rows: list[dict], fmt: str, root: str, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return JsonResponse(rows, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    top = ET.Element(root)
    for row in rows:
        item = ET.SubElement(top, PLURAL.get(root, "error"))
        for key, value in row.items():
            ET.SubElement(item, key).text = (
                "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            )
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _fmt(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise exceptions.NotFound()
    return fmt


def _service(c: ConcernCategory) -> dict:
    return {"service_code": c.code, "service_name": c.label, "description": c.label, "metadata": False,
            "type": "realtime", "keywords": "", "group": c.parent.label if c.parent_id else ""}  # fmt: skip


def _request(c: Concern) -> dict:
    return {
        "service_request_id": str(c.pk), "status": "closed" if c.state in FINAL_STATES else "open",
        "status_notes": c.get_state_display(), "service_name": c.category.label, "service_code": c.category.code,
        "description": c.description, "agency_responsible": c.handler_name or c.community.name, "service_notice": "",
        "requested_datetime": c.created_at.isoformat(), "updated_datetime": c.stage_started_at.isoformat(),
        "expected_datetime": c.due_at.isoformat() if c.due_at else None, "address": c.address, "address_id": "",
        "zipcode": "", "lat": round(c.location.y, 6), "long": round(c.location.x, 6), "media_url": "",
    }  # fmt: skip


class Open311View(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]  # a signed-in page may read too
    permission_classes = [SeesResidents]
    schema = None  # its own specification (GeoReport v2), not part of /api/schema/

    def handle_exception(self, exc):
        if isinstance(exc, Refused):  # GeoReport's error shape: [{"code", "description"}]
            return _answer([{"code": exc.status, "description": f"{exc.field}: {exc.detail}"}],
                           self.kwargs.get("fmt", "json"), "errors", exc.status)  # fmt: skip
        return super().handle_exception(exc)


class Services(Open311View):
    def get(self, request, fmt):
        rows = [_service(c) for c in ConcernCategory.objects.filter(active=True).select_related("parent")]
        return _answer(rows, _fmt(fmt), "services")


class ServiceDefinition(Open311View):
    def get(self, request, code, fmt):
        category = ConcernCategory.objects.filter(code=code, active=True).first()
        if category is None:
            raise exceptions.NotFound()
        return _answer([{"service_code": category.code, "attributes": ""}], _fmt(fmt), "service_definition")


def _when(value: str | None, field: str) -> dt.datetime | None:
    if not value:
        return None
    found = parse_datetime(value)
    if found is None or found.tzinfo is None:
        raise Refused(400, "bad_value", field=field, detail="ISO 8601 with a time zone, e.g. 2026-12-01T00:00:00+08:00")
    return found


def _positive(value: str | None, field: str, default: int, top: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= top:
        raise Refused(400, "bad_value", field=field, detail=f"1..{top}")
    return int(value)


class Requests(Open311View):
    def get(self, request, fmt):
        q = request.query_params
        found = policy.concerns_for(request.user).select_related("category", "community")
        if q.get("service_request_id"):
            ids = [i for i in q["service_request_id"].split(",") if i.isascii() and i.isdigit()]
            return _answer([_request(c) for c in found.filter(pk__in=ids[:MAX_RESULTS])], _fmt(fmt), "service_requests")
        end = _when(q.get("end_date"), "end_date") or timezone.now()
        start = _when(q.get("start_date"), "start_date") or end - dt.timedelta(days=WINDOW_DAYS)
        found = found.filter(created_at__gte=start, created_at__lte=end)
        if q.get("service_code"):
            found = found.filter(category__code__in=q["service_code"].split(","))
        if q.get("status") in ("open", "closed"):
            found = (
                found.filter(state__in=FINAL_STATES)
                if q["status"] == "closed"
                else found.exclude(state__in=FINAL_STATES)
            )
        size = _positive(q.get("page_size"), "page_size", MAX_RESULTS, MAX_RESULTS)
        page = _positive(q.get("page"), "page", 1, 10**6)
        rows = found.order_by("-created_at", "-id")[(page - 1) * size : page * size]
        return _answer([_request(c) for c in rows], _fmt(fmt), "service_requests")

    def post(self, request, fmt):
        data = request._request.POST
        try:
            point = Point(float(data.get("long", "")), float(data.get("lat", "")), srid=4326)
        except ValueError:
            raise Refused(400, "required", field="lat", detail="lat and long (WGS84) are required") from None
        if not (-180 <= point.x <= 180 and -90 <= point.y <= 90):
            raise Refused(400, "bad_value", field="lat", detail="lat/long out of range")
        body = {"category": data.get("service_code"), "description": data.get("description"),
                "address": data.get("address_string", ""), "source": "hotline_12345"}  # fmt: skip
        concern, _created = workflow.report(request.user, body, point)
        return _answer([{"service_request_id": str(concern.pk), "service_notice": "", "account_id": None}],
                       _fmt(fmt), "service_requests", 201)  # fmt: skip


class OneRequest(Open311View):
    def get(self, request, pk, fmt):
        found = policy.concerns_for(request.user).select_related("category", "community").filter(pk=pk).first()
        if found is None:
            raise exceptions.NotFound()
        return _answer([_request(found)], _fmt(fmt), "service_requests")
