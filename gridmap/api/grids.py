"""JSON endpoints of the grid editor (/api/v1/grids/…, /api/v1/communities/…). Thin: parse the body with
the one parser, check the one concurrency rule, call one service, answer.

Writes to an existing grid name its ETag ``"<version>"`` in ``If-Match`` (a merge names both grids, in
the order of ``grids``); publishing and fixing a sliver name the community's ETag (the ``etag`` of the
editor's grid layer). Missing → 428, stale → 412 with the current grid. Every refusal is the one JSON
error body (api/jsonapi.py); never a 500 for anything the client sent.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api import etags
from gridmap.api.bodies import GridBoundary, GridCreate, validated
from gridmap.api.jsonapi import body, endpoint, grid_version, if_match, int_field, precondition, reply, upload
from gridmap.models import Community
from gridmap.queries import grid_topology
from gridmap.services.grids import editing as grid_editing
from gridmap.services.grids import publishing as grid_publishing
from gridmap.services.grids.shapes import check_grid_shape
from gridmap.services.refused import Refused

GEOJSON = "application/geo+json"
GRID_FILE_ENCODINGS = ("UTF-8", "GBK", "GB18030")


def grid_if_match(request: HttpRequest, pk) -> tuple[int, int]:
    """The grid id and the version its ``If-Match`` names, after the rights (404/403, so no refusal depends
    on the header); 428 without it. The service compares the version under the community lock (412)."""
    grid_id = grid_editing.check_grid_rights(request.user, pk)
    return grid_id, grid_version(if_match(request)[0])


def _version(request: HttpRequest, pk: int) -> int:
    return grid_if_match(request, pk)[1]


@endpoint(creates=("POST",), get=False)
def create(request: HttpRequest) -> HttpResponse:
    data = validated(GridCreate, body(request))
    grid = grid_editing.create_draft_grid(
        request.user, data["community"], data["geometry"], name=data.get("name"), clip=data["clip"]
    )
    return reply(grid, 201)


@endpoint(reads=("POST",), get=False)
def check(request: HttpRequest) -> HttpResponse:
    """Dry run of the validator for a drawn shape: the stored shape and its household count, or the refusal."""
    data = body(request)
    community_id, grid_id = int_field(data, "community"), data.get("grid")
    community = policy.grid_edit_communities_for(request.user).select_related("street").filter(pk=community_id).first()
    if community is None:
        raise Refused(404, "not_found", field="community")
    exclude = [grid_id] if isinstance(grid_id, int) and not isinstance(grid_id, bool) else []
    shape, fit = check_grid_shape(data.get("geometry"), community, exclude=exclude, clip=data.get("clip") is True)
    return reply(
        {
            "ok": True,
            "households": grid_editing.households_in(shape),
            "clipped_m2": round(fit.clipped_m2, 1),
            "geometry": json.loads(shape.geojson),
        }
    )


@endpoint(guards=("POST",), get=False)
def boundary(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    data = validated(GridBoundary, body(request))
    return reply(grid_editing.save_grid_boundary(request.user, pk, data["geometry"], version, clip=data["clip"]))


@endpoint(guards=("POST",), get=False)
def split(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    return reply(grid_editing.split_grid(request.user, pk, body(request).get("line"), version))


@endpoint(guards=("POST",), get=False)
def merge(request: HttpRequest) -> HttpResponse:
    """{grids: [a, b]} with ``If-Match: "<version of a>", "<version of b>"``."""
    grids = body(request).get("grids")
    if (
        not isinstance(grids, list)
        or len(grids) != 2
        or not all(isinstance(g, int) and not isinstance(g, bool) for g in grids)
    ):
        raise Refused(400, "bad_value", field="grids")
    for grid in grids:
        grid_editing.check_grid_rights(request.user, grid)
    tags = if_match(request)
    if len(tags) != 2:
        raise Refused(
            428,
            "precondition_required",
            field="If-Match",
            detail=_("合并需要两个网格的 ETag，按 grids 的顺序，以逗号分隔"),
        )
    versions = {grid: grid_version(tag) for grid, tag in zip(grids, tags, strict=True)}
    return reply(grid_editing.merge_grids(request.user, grids, versions))


@endpoint(guards=("POST",), get=False)
def retire(request: HttpRequest, pk: int) -> HttpResponse:
    """``{"preview": true}`` counts the households the retirement would leave outside every grid, and
    retires nothing; without it the answer carries the same count (``gap_households``)."""
    version = _version(request, pk)
    data = body(request) if request.content_type == "application/json" and request.body else {}
    preview = isinstance(data, dict) and data.get("preview") is True
    return reply(grid_editing.retire_grid(request.user, pk, version, preview=preview))


@endpoint(guards=("POST",), get=False)
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    return reply(grid_editing.discard_draft(request.user, pk, _version(request, pk)))


@endpoint()
def history(request: HttpRequest, pk: int) -> HttpResponse:
    return reply({"versions": grid_publishing.history(request.user, pk)})


@endpoint()
def diff(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return reply(grid_publishing.diff(request.user, pk, number))


@endpoint(guards=("POST",), get=False)
def restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return reply(grid_editing.restore_version(request.user, pk, number, _version(request, pk)))


def _community_precondition(request: HttpRequest, pk: int, *, publish: bool = False) -> None:
    """Rights first (403/404), then the community locked and its ETag compared: 412 when its grids changed."""
    grid_editing.check_rights(request.user, pk, publish=publish)
    Community.objects.select_for_update().filter(pk=pk).first()
    precondition(request, etags.community(pk))


@endpoint(guards=("POST",), get=False)
@transaction.atomic
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    _community_precondition(request, pk, publish=True)
    data = body(request)
    override, reason, preview = data.get("override_reason"), data.get("reason", ""), data.get("preview", False)
    if (override is not None and not isinstance(override, str)) or not isinstance(reason, str):
        raise Refused(400, "bad_value", field="override_reason")
    if not isinstance(preview, bool):
        raise Refused(400, "bad_value", field="preview")
    # preview: the same refusals, nothing written, and the grids the publish would leave outside the band.
    result = grid_publishing.publish_community(
        request.user, pk, override_reason=override, reason=reason, preview=preview
    )
    return reply(result, etag=etags.community(pk))


@endpoint()
def community_topology(request: HttpRequest, pk: int) -> HttpResponse:
    community = policy.communities_for(request.user).filter(pk=pk).first()
    if community is None:
        raise Refused(404, "not_found")
    report = grid_topology.community_report(community, households=policy.sees_residents(request.user))
    return reply(report)


@endpoint(guards=("POST",), get=False)
@transaction.atomic
def fix_sliver(request: HttpRequest, pk: int) -> HttpResponse:
    _community_precondition(request, pk)
    point = body(request).get("point")
    if (
        not isinstance(point, list)
        or len(point) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    ):
        raise Refused(400, "bad_value", field="point")
    result = grid_publishing.fix_sliver(request.user, pk, (float(point[0]), float(point[1])))
    return reply(result, etag=etags.community(pk))


@endpoint()
def street_topology(request: HttpRequest, pk: int) -> HttpResponse:
    street = policy.streets_for(request.user).filter(pk=pk).first()
    if street is None:
        raise Refused(404, "not_found")
    report = grid_topology.street_report(street, policy.communities_for(request.user))
    if not policy.sees_residents(request.user):
        report["gap_households"] = {"count": report["gap_households"]["count"], "rows": []}
    return reply(report)


@endpoint()
def editor_grids(request: HttpRequest, pk: int) -> HttpResponse:
    """The community's working grids, each with ``properties.etag``; the collection's ``etag`` is the
    community's (for publishing and fixing slivers)."""
    if not policy.communities_for(request.user).filter(pk=pk).exists():
        raise Refused(404, "not_found")
    layer = grid_topology.editor_grids_layer(policy.grids_for(request.user).filter(community_id=pk))
    etag = etags.community(pk)
    # The layer is JSON text built by PostGIS; the collection's own ETag goes in front of its members.
    response = HttpResponse('{"etag": ' + json.dumps(etag) + ", " + layer.lstrip()[1:], content_type=GEOJSON)
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = etag
    return response


def community_choices(user) -> list[dict]:
    """Communities offered in the editor's picker, with whether the user may publish there."""
    publish = set(policy.grid_publish_communities_for(user).values_list("pk", flat=True))
    return [
        {"id": c.pk, "code": c.code, "name": c.name, "publish": c.pk in publish}
        for c in policy.grid_edit_communities_for(user).order_by("code")
    ]


@endpoint(creates=("POST",), get=False)
def grid_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Multipart ``file`` (+ ``dry_run``=1 by default, ``source_crs``, ``encoding``): preview or create drafts, as a
    job (run here for a small file, else in a worker: 202 with its status URL)."""
    from geodata.io import MAX_BYTES
    from gridmap.api import import_jobs
    from gridmap.services.imports import layer_jobs

    grid_editing.check_rights(request.user, pk)  # who may, before anything of the upload is read
    found = upload(request, MAX_BYTES)
    dry_run = request.POST.get("dry_run", "1") not in ("0", "false")
    encoding = request.POST.get("encoding") or None
    if encoding and encoding.upper() not in GRID_FILE_ENCODINGS:
        raise Refused(400, "bad_value", field="encoding")
    job = layer_jobs.start_grids(
        request.user,
        pk,
        found.read(),
        filename=found.name or "",
        dry_run=dry_run,
        source_crs=request.POST.get("source_crs") or None,
        encoding=encoding,
    )
    return import_jobs.answer(job)  # done here: the result as always; a large file: 202 and the job's status URL
