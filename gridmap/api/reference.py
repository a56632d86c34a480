"""Reference layers: ``GET /api/layers/reference.geojson?bbox=`` (every signed-in role; the box is required)
and ``POST /api/v1/reference-layers`` (multipart ``file``, ``kind``, ``street``, ``source_crs``,
``encoding``: replaces that kind's layer of the street, or of the whole city for the system admin).
Thin: parse, scope through the policy, one query or one service, answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from geodata.io import MAX_BYTES
from gridmap import policy
from gridmap.api.exchange import ENCODINGS
from gridmap.api.jsonapi import endpoint, reply, upload
from gridmap.api.layers import GEOJSON, parse_bbox
from gridmap.queries.reference import reference_layer
from gridmap.services.layers.reference import import_reference
from gridmap.services.refused import Refused


@endpoint()
def layer(request: HttpRequest) -> HttpResponse:
    try:
        bbox = parse_bbox(request.GET.get("bbox"))
    except ValueError as exc:
        raise Refused(400, "bad_value", field="bbox", detail=str(exc)) from None
    if bbox is None:
        raise Refused(400, "required", field="bbox", detail=_("需要 bbox：最小经度,最小纬度,最大经度,最大纬度"))
    response = HttpResponse(reference_layer(policy.reference_features_for(request.user), bbox), content_type=GEOJSON)
    response["Cache-Control"] = "private, max-age=300"  # no resident data; changes only by an import
    return response


@endpoint(creates=("POST",), get=False)
def import_layer(request: HttpRequest) -> HttpResponse:
    if not policy.reference_streets_for(request.user).exists():  # who may, before anything of the upload is read
        raise Refused(403, "forbidden", detail=_("无权导入参考图层"))
    found = upload(request, MAX_BYTES)
    encoding = (request.POST.get("encoding") or "").strip().upper() or None
    if encoding and encoding not in ENCODINGS:
        raise Refused(400, "unknown_encoding", field="encoding")
    result = import_reference(
        request.user,
        (request.POST.get("kind") or "").strip(),
        found.read(),
        street_id=(request.POST.get("street") or "").strip() or None,
        source_crs=(request.POST.get("source_crs") or "").strip() or None,
        encoding=encoding,
        filename=found.name or "",
        request=request,
    )
    return reply(result, 201)
