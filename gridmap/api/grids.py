"""JSON endpoints of the grid editor. Thin: parse the body safely, call one service, answer.

Every refusal is a 4xx JSON body ``{"code", "field", "detail", …}`` (401 anonymous, 400 bad input,
403 no right, 404 out of scope, 409 overlap / stale version / unclean topology, 413 too large,
415 not JSON, 428 no version); never a 500 for anything the client sent.
"""

from __future__ import annotations

import json
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from geodata.validation import GeometryRejected, load_json
from gridmap import policy
from gridmap.api.jsonapi import reply as _reply
from gridmap.queries import grid_topology
from gridmap.services.grids import editing as grid_editing
from gridmap.services.grids import publishing as grid_publishing
from gridmap.services.grids.shapes import EditRejected, check_grid_shape

GEOJSON = "application/geo+json"


def editor_body(request: HttpRequest) -> dict:
    if request.content_type != "application/json":
        raise EditRejected(415, "malformed_json", field="body", detail="Content-Type: application/json")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise EditRejected(413, "too_large", field="body") from None
    try:
        data = load_json(raw, field="body")
    except GeometryRejected as exc:
        raise EditRejected.from_geometry(exc, "body") from None
    if not isinstance(data, dict):
        raise EditRejected(400, "not_an_object", field="body")
    return data


def editor_int(data: dict, key: str, *, required_status: int = 400) -> int:
    value = data.get(key)
    if value is None:
        raise EditRejected(
            required_status,
            "version_required" if key == "version" else "bad_value",
            field=key,
            detail=_("缺少 %(field)s") % {"field": key},
        )
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise EditRejected(400, "bad_value", field=key, detail=_("应为整数"))
    return value


def _version(data: dict) -> int:
    return editor_int(data, "version", required_status=428)


def endpoint(view):
    """Login required (401 JSON, not a redirect) and EditRejected → its JSON answer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _reply({"code": "login_required", "detail": _("需要登录")}, 401)
        if policy.role_of(request.user) is None:
            return _reply({"code": "forbidden", "detail": _("账号没有角色")}, 403)
        try:
            return view(request, *args, **kwargs)
        except EditRejected as exc:
            return _reply(exc.as_json(), exc.status)

    return wrapped


@require_POST
@endpoint
def create(request: HttpRequest) -> HttpResponse:
    data = editor_body(request)
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name.strip()) <= 100 or "\x00" in name):
        raise EditRejected(400, "bad_value", field="name")
    grid = grid_editing.create_draft_grid(
        request.user,
        editor_int(data, "community"),
        data.get("geometry"),
        name=name.strip() if name else None,
        clip=data.get("clip") is True,
    )
    return _reply(grid, 201)


@require_POST
@endpoint
def check(request: HttpRequest) -> HttpResponse:
    """Dry run of the validator for a drawn shape: the stored shape and its household count, or the refusal."""
    data = editor_body(request)
    community_id, grid_id = editor_int(data, "community"), data.get("grid")
    community = policy.grid_edit_communities_for(request.user).select_related("street").filter(pk=community_id).first()
    if community is None:
        raise EditRejected(404, "not_found", field="community")
    exclude = [grid_id] if isinstance(grid_id, int) and not isinstance(grid_id, bool) else []
    shape, fit = check_grid_shape(data.get("geometry"), community, exclude=exclude, clip=data.get("clip") is True)
    return _reply(
        {
            "ok": True,
            "households": grid_editing.households_in(shape),
            "clipped_m2": round(fit.clipped_m2, 1),
            "geometry": json.loads(shape.geojson),
        }
    )


@require_POST
@endpoint
def boundary(request: HttpRequest, pk: int) -> HttpResponse:
    data = editor_body(request)
    return _reply(
        grid_editing.save_grid_boundary(
            request.user, pk, data.get("geometry"), _version(data), clip=data.get("clip") is True
        )
    )


@require_POST
@endpoint
def split(request: HttpRequest, pk: int) -> HttpResponse:
    data = editor_body(request)
    return _reply(grid_editing.split_grid(request.user, pk, data.get("line"), _version(data)))


@require_POST
@endpoint
def merge(request: HttpRequest) -> HttpResponse:
    data = editor_body(request)
    grids, versions = data.get("grids"), data.get("versions")
    if (
        not isinstance(grids, list)
        or len(grids) != 2
        or not all(isinstance(g, int) for g in grids)
        or not isinstance(versions, dict)
    ):
        raise EditRejected(400, "bad_value", field="grids")
    try:
        parsed = {int(k): int(v) for k, v in versions.items()}
    except (TypeError, ValueError):
        raise EditRejected(400, "bad_value", field="versions") from None
    return _reply(grid_editing.merge_grids(request.user, grids, parsed))


@require_POST
@endpoint
def retire(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply(grid_editing.retire_grid(request.user, pk, _version(editor_body(request))))


@require_POST
@endpoint
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply(grid_editing.discard_draft(request.user, pk, _version(editor_body(request))))


@require_GET
@endpoint
def history(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply({"versions": grid_publishing.history(request.user, pk)})


@require_GET
@endpoint
def diff(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _reply(grid_publishing.diff(request.user, pk, number))


@require_POST
@endpoint
def restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _reply(grid_editing.restore_version(request.user, pk, number, _version(editor_body(request))))


@require_POST
@endpoint
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    data = editor_body(request)
    override, reason = data.get("override_reason"), data.get("reason", "")
    if (override is not None and not isinstance(override, str)) or not isinstance(reason, str):
        raise EditRejected(400, "bad_value", field="override_reason")
    return _reply(grid_publishing.publish_community(request.user, pk, override_reason=override, reason=reason))


@require_GET
@endpoint
def community_topology(request: HttpRequest, pk: int) -> HttpResponse:
    community = policy.communities_for(request.user).filter(pk=pk).first()
    if community is None:
        raise EditRejected(404, "not_found")
    report = grid_topology.community_report(community, households=policy.sees_residents(request.user))
    return _reply(report)


@require_POST
@endpoint
def fix_sliver(request: HttpRequest, pk: int) -> HttpResponse:
    point = editor_body(request).get("point")
    if (
        not isinstance(point, list)
        or len(point) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    ):
        raise EditRejected(400, "bad_value", field="point")
    return _reply(grid_publishing.fix_sliver(request.user, pk, (float(point[0]), float(point[1]))))


@require_GET
@endpoint
def street_topology(request: HttpRequest, pk: int) -> HttpResponse:
    street = policy.streets_for(request.user).filter(pk=pk).first()
    if street is None:
        raise EditRejected(404, "not_found")
    report = grid_topology.street_report(street, policy.communities_for(request.user))
    if not policy.sees_residents(request.user):
        report["gap_households"] = {"count": report["gap_households"]["count"], "rows": []}
    return _reply(report)


@require_GET
@endpoint
def editor_grids(request: HttpRequest, pk: int) -> HttpResponse:
    if not policy.communities_for(request.user).filter(pk=pk).exists():
        raise EditRejected(404, "not_found")
    layer = grid_topology.editor_grids_layer(policy.grids_for(request.user).filter(community_id=pk))
    response = HttpResponse(layer, content_type=GEOJSON)
    response["Cache-Control"] = "private, no-store"
    return response


def community_choices(user) -> list[dict]:
    """Communities offered in the editor's picker, with whether the user may publish there."""
    publish = set(policy.grid_publish_communities_for(user).values_list("pk", flat=True))
    return [
        {"id": c.pk, "code": c.code, "name": c.name, "publish": c.pk in publish}
        for c in policy.grid_edit_communities_for(user).order_by("code")
    ]


@require_POST
@endpoint
def grid_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Multipart ``file`` (+ ``dry_run``=1 by default, ``source_crs``, ``encoding``): preview or create drafts."""
    from geodata.io import MAX_BYTES
    from gridmap.services.grids.file_import import import_grids

    grid_editing.check_rights(request.user, pk)  # who may, before anything of the upload is read
    if not request.content_type.startswith("multipart/form-data"):
        raise EditRejected(415, "malformed_json", field="body", detail="multipart/form-data")
    try:
        upload = request.FILES.get("file")
    except RequestDataTooBig:
        raise EditRejected(413, "too_large", field="file") from None
    if upload is None:
        raise EditRejected(400, "no_features", field="file")
    if upload.size > MAX_BYTES:
        raise EditRejected(413, "too_large", field="file")
    dry_run = request.POST.get("dry_run", "1") not in ("0", "false")
    encoding = request.POST.get("encoding") or None
    if encoding and encoding.upper() not in ("UTF-8", "GBK", "GB18030"):
        raise EditRejected(400, "bad_value", field="encoding")
    result = import_grids(
        request.user,
        pk,
        upload.read(),
        dry_run=dry_run,
        source_crs=request.POST.get("source_crs") or None,
        encoding=encoding,
    )
    status = 400 if result["errors"] else (200 if result["dry_run"] else 201)
    return _reply(result, status)
