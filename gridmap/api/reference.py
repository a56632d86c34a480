"""Reference layers: ``GET /api/layers/reference.geojson?bbox=`` (every signed-in role; the box is required)
and ``POST /api/v1/reference-layers`` (multipart ``file``, ``kind``, ``street``, ``source_crs``,
``encoding``: replaces that kind's layer of the street, or of the whole city for the system admin).
The import runs as a job (services/imports/layer_jobs.py): a small file in the request, answered 201 with its
result (or the refusal naming every refused row) and its ``job``; a large one in a worker, answered 202 with the
job's status URL (``Location``; api/import_jobs.py).
Thin: parse, scope through the policy, one query or one service, answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from geodata.io import MAX_BYTES
from gridmap import policy
from gridmap.api import import_jobs
from gridmap.api.exchange import ENCODINGS
from gridmap.api.jsonapi import endpoint, upload
from gridmap.api.layers import GEOJSON, parse_bbox
from gridmap.queries.reference import layers_version, reference_layer
from gridmap.services.audit import client_address
from gridmap.services.imports import layer_jobs
from gridmap.services.refused import Refused


@endpoint()
def layer(request: HttpRequest) -> HttpResponse:
    try:
        bbox = parse_bbox(request.GET.get("bbox"))
    except ValueError as exc:
        raise Refused(400, "bad_value", field="bbox", detail=str(exc)) from None
    if bbox is None:
        raise Refused(400, "required", field="bbox", detail=_("需要 bbox：最小经度,最小纬度,最大经度,最大纬度"))
    features = policy.reference_features_for(request.user)
    etag = layers_version(features)
    if etag in request.headers.get("If-None-Match", ""):  # no resident data; changes only by an import
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(reference_layer(features, bbox), content_type=GEOJSON)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"  # kept, but asked again: an import shows on the next map
    return response


@endpoint(creates=("POST",), get=False)
def import_layer(request: HttpRequest) -> HttpResponse:
    """Replace a reference layer (roads, water, compounds, buildings) of a street, or of the whole city, from a
    file: 201 with the features imported when the file was small enough to import in the request; 202 with
    the import job's status URL (``Location``, ``/api/v1/import-jobs/{id}``) when it runs in the background; 400
    naming the field, or every refused row with its reason, and nothing saved."""
    if not policy.reference_streets_for(request.user).exists():  # who may, before anything of the upload is read
        raise Refused(403, "forbidden", detail=_("无权导入参考图层"))
    found = upload(request, MAX_BYTES)
    encoding = (request.POST.get("encoding") or "").strip().upper() or None
    if encoding and encoding not in ENCODINGS:
        raise Refused(400, "unknown_encoding", field="encoding")
    job = layer_jobs.start_reference(
        request.user,
        (request.POST.get("kind") or "").strip(),
        found.read(),
        street_id=(request.POST.get("street") or "").strip() or None,
        source_crs=(request.POST.get("source_crs") or "").strip() or None,
        encoding=encoding,
        filename=found.name or "",
        ip=client_address(request),
    )
    return import_jobs.answer(job)  # done here: 201 and the result; a large file: 202 and the job's status URL
