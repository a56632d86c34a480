"""Draw, reshape, split, merge and retire grids as drafts. Publishing is services.grid_publishing.

Every function is one transaction that first locks the community row: edits of one community are
serialised, so two people cannot both pass the sibling-overlap check with overlapping shapes, nor take
the same new grid code. A grid's ``version`` is the optimistic lock across page loads: a write is
``UPDATE … WHERE id = %s AND version = %s`` and a stale version gets a 412 that names who saved first,
with the current shape, while the caller's shape stays in the editor (nothing is lost).

A draft grid keeps its shape in ``boundary``; an edit of a published grid goes to ``draft_boundary`` and
households keep following the published shape until a street admin publishes.
"""

from __future__ import annotations

import json

import shapely
import shapely.ops
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from geodata.validation import GeometryRejected, validate_line, validate_shape
from gridmap import policy
from gridmap.models import Community, Grid, GridStatus, GridVersion, Household
from gridmap.services.grids.codes import next_grid_codes
from gridmap.services.grids.shapes import check_grid_shape, to_geos, working_siblings
from gridmap.services.reasons import reason
from gridmap.services.refused import Refused


def check_rights(user, community_id: int, *, publish: bool = False) -> None:
    """403 unless ``user`` may edit (or publish) the grids of the community; 404 if he cannot see it."""
    allowed = policy.grid_publish_communities_for(user) if publish else policy.grid_edit_communities_for(user)
    if not allowed.filter(pk=community_id).exists():
        if policy.communities_for(user).filter(pk=community_id).exists():
            raise Refused(403, "forbidden")
        raise Refused(404, "not_found")


def check_grid_rights(user, grid_id) -> int:
    """The grid's id when ``user`` may edit it: 404 out of scope (or not an id), 403 without the right.
    The API checks this before the concurrency rule, so a refusal never depends on If-Match."""
    if not str(grid_id).isascii() or not str(grid_id).isdigit() or int(grid_id) >= 2**63:
        raise Refused(404, "not_found")
    community_id = policy.grids_for(user).filter(pk=int(grid_id)).values_list("community_id", flat=True).first()
    if community_id is None:
        raise Refused(404, "not_found")
    check_rights(user, community_id)
    return int(grid_id)


def lock_community(user, community_id: int, *, publish: bool = False) -> Community:
    """The community, row-locked, after :func:`check_rights`."""
    check_rights(user, community_id, publish=publish)
    # An edit reads and writes a few hundred rows. Measured on the bench city (100k households): the
    # planner picks parallel plans for them, and starting a worker costs ~35 ms against 0.7 ms of work.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    return Community.objects.select_for_update().select_related("street").get(pk=community_id)


def editable_grid(user, grid_id: int) -> tuple[Grid, Community]:
    """The grid (read after its community is locked) and the locked community; 404/403/409 otherwise."""
    community_id = policy.grids_for(user).filter(pk=grid_id).values_list("community_id", flat=True).first()
    if community_id is None:
        raise Refused(404, "not_found")
    community = lock_community(user, community_id)
    grid = Grid.objects.get(pk=grid_id)
    if grid.status == GridStatus.RETIRED:
        raise Refused(409, "retired")
    return grid, community


def working_shape(grid: Grid) -> shapely.Geometry:
    return shapely.from_wkb(bytes((grid.draft_boundary or grid.boundary).wkb))


def households_in(geom: GEOSGeometry) -> int:
    return Household.objects.filter(location__intersects=geom).count()


def summary(grid: Grid) -> dict:
    shape = grid.draft_boundary or grid.boundary
    return {
        "id": grid.pk,
        "code": grid.code,
        "name": grid.name,
        "status": grid.status,
        "version": grid.version,
        "etag": f'"{grid.version}"',  # the If-Match of the next write (api/etags.py)
        "retire_on_publish": grid.retire_on_publish,
        "households": households_in(shape),
        "geometry": json.loads(shape.geojson),
    }


def with_band(result: dict) -> dict:
    """``result`` (a summary) with ``band_warning``: the reason when its households leave the grid band
    (settings.GRID_HOUSEHOLDS_MIN–MAX), else None; ``band_side`` says which way ("under", "over" or None).
    The one band rule of the editor: split, merge, reshape and the publish check all answer with it."""
    n, lo, hi = result["households"], settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX
    warning, side = None, "under" if n < lo else "over" if n > hi else None
    if side:
        warning = _("%(name)s 将有 %(n)s 户，超出目标范围 %(min)s–%(max)s 户") % {
            "name": result["name"],
            "n": n,
            "min": lo,
            "max": hi,
        }
    return {**result, "band": {"min": lo, "max": hi}, "band_warning": warning, "band_side": side}


def gap_households(grid: Grid) -> int:
    """Households in ``grid`` that no other working grid of its community holds: those its retirement
    would leave in a gap."""
    others = [to_geos(shape) for shape in working_siblings(grid.community, exclude=[grid.pk]).values()]
    inside = Household.objects.filter(location__intersects=grid.draft_boundary or grid.boundary)
    for other in others:
        inside = inside.exclude(location__intersects=other)
    return inside.count()


def stale(grid_id: int, expected: int) -> Refused:
    grid = Grid.objects.select_related("updated_by").get(pk=grid_id)
    who = (grid.updated_by.get_full_name() or grid.updated_by.username) if grid.updated_by else _("其他用户")
    detail = _(
        "您编辑的是第 %(mine)s 版，%(who)s 已于 %(when)s 保存了第 %(now)s 版。"
        "您的图形没有丢失，仍在编辑器中：请查看对方的修改后再保存。"
    ) % {
        "mine": expected,
        "who": who,
        "now": grid.version,
        "when": date_format(timezone.localtime(grid.updated_at), "DATETIME_FORMAT"),
    }
    # The one concurrency rule (api/jsonapi.py): a stale If-Match is 412, with the grid as it is now.
    return Refused(
        412,
        "precondition_failed",
        field="If-Match",
        detail=reason("stale_version", note=detail),
        etag=f'"{grid.version}"',
        current=summary(grid),
    )


def _write(grid: Grid, expected_version: int, user, shape: GEOSGeometry | None = None, **fields) -> Grid:
    """The optimistic write: one UPDATE guarded by the version the editor loaded."""
    if shape is not None:
        fields["boundary" if grid.status == GridStatus.DRAFT else "draft_boundary"] = shape
    updated = Grid.objects.filter(pk=grid.pk, version=expected_version).update(
        version=F("version") + 1, updated_by=user, updated_at=timezone.now(), **fields
    )
    if not updated:
        raise stale(grid.pk, expected_version)
    grid.refresh_from_db()
    return grid


def new_drafts(community: Community, shapes: list[GEOSGeometry], user, names: list[str | None]) -> list[Grid]:
    codes = next_grid_codes(community, shapes)
    grids = [
        Grid(
            code=code,
            name=name or _("%(community)s第%(n)s网格") % {"community": community.name, "n": int(code[-3:])},
            community=community,
            boundary=shape,
            status=GridStatus.DRAFT,
            updated_by=user,
        )
        for code, shape, name in zip(codes, shapes, names)
    ]
    return Grid.objects.bulk_create(grids)


@transaction.atomic
def create_draft_grid(
    user, community_id: int, geometry: object, *, name: str | None = None, clip: bool = False
) -> dict:
    """A new draft grid drawn in ``community_id``; with ``clip`` its overlaps with siblings are cut off."""
    community = lock_community(user, community_id)
    shape, fit = check_grid_shape(geometry, community, clip=clip)
    grid = new_drafts(community, [shape], user, [name])[0]
    return {**summary(grid), "clipped_m2": round(fit.clipped_m2, 1)}


@transaction.atomic
def save_grid_boundary(user, grid_id: int, geometry: object, expected_version: int, *, clip: bool = False) -> dict:
    """Reshape a grid (a draft edit for a published grid)."""
    grid, community = editable_grid(user, grid_id)
    if grid.version != expected_version:
        raise stale(grid.pk, expected_version)
    shape, fit = check_grid_shape(geometry, community, exclude=[grid.pk], clip=clip)
    saved = summary(_write(grid, expected_version, user, shape))
    return {**with_band(saved), "clipped_m2": round(fit.clipped_m2, 1)}


@transaction.atomic
def split_grid(user, grid_id: int, line: object, expected_version: int) -> list[dict]:
    """Split a grid along a drawn line into two: the larger part keeps the grid, the other is a new draft."""
    grid, community = editable_grid(user, grid_id)
    if grid.version != expected_version:
        raise stale(grid.pk, expected_version)
    try:
        cut = validate_line(line)
        pieces = list(shapely.ops.split(working_shape(grid), cut).geoms)
        if len(pieces) != 2:
            raise GeometryRejected("line_does_not_split", field="line", detail=str(len(pieces)))
        pieces.sort(key=lambda p: -p.area)
        keep, other = (to_geos(validate_shape(p, field="line")) for p in pieces)
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc, "line") from None
    grid = _write(grid, expected_version, user, keep)
    new = new_drafts(community, [other], user, [None])[0]
    return [with_band(summary(grid)), with_band(summary(new))]


@transaction.atomic
def merge_grids(user, grid_ids: list[int], versions: dict[int, int]) -> dict:
    """Merge two adjacent grids of one community: the lower code keeps the union, the other is retired
    (at once if it is a draft, on publishing if it is published)."""
    if len(set(grid_ids)) != 2:
        raise Refused(400, "not_adjacent", field="grids")
    first, community = editable_grid(user, min(grid_ids))
    second = policy.grids_for(user).filter(pk=max(grid_ids), community=community).first()
    if second is None or second.status == GridStatus.RETIRED:
        raise Refused(404, "not_found", field="grids")
    keep, drop = sorted([first, second], key=lambda g: g.code)
    for grid in (keep, drop):
        if grid.version != versions.get(grid.pk):
            raise stale(grid.pk, versions.get(grid.pk) or 0)
    a, b = working_shape(keep), working_shape(drop)
    if a.boundary.intersection(b.boundary).length == 0:
        raise Refused(400, "not_adjacent", field="grids")
    try:
        union = to_geos(validate_shape(shapely.union_all([a, b]), field="grids"))
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc, "grids") from None
    if drop.status == GridStatus.DRAFT:
        _write(drop, versions[drop.pk], user, status=GridStatus.RETIRED)
    else:
        _write(drop, versions[drop.pk], user, retire_on_publish=True)
    return with_band(summary(_write(keep, versions[keep.pk], user, union)))


@transaction.atomic
def retire_grid(user, grid_id: int, expected_version: int, *, preview: bool = False) -> dict:
    """Retire a grid: a draft at once; a published grid when the community is next published. The answer
    carries ``gap_households``, the households no other grid would hold; ``preview`` only counts them."""
    grid, _community = editable_grid(user, grid_id)
    gap = gap_households(grid)
    if preview:
        if grid.version != expected_version:
            raise stale(grid.pk, expected_version)
        return {**summary(grid), "gap_households": gap, "retired": False}
    if grid.status == GridStatus.DRAFT:
        retired = _write(grid, expected_version, user, status=GridStatus.RETIRED)
    else:
        retired = _write(grid, expected_version, user, retire_on_publish=True)
    return {**summary(retired), "gap_households": gap, "retired": True}


@transaction.atomic
def discard_draft(user, grid_id: int, expected_version: int) -> dict:
    """Drop the pending edit of a published grid (its published shape stays)."""
    grid, _community = editable_grid(user, grid_id)
    if grid.status == GridStatus.DRAFT:
        raise Refused(400, "nothing_to_publish")
    return summary(_write(grid, expected_version, user, draft_boundary=None, retire_on_publish=False))


@transaction.atomic
def restore_version(user, grid_id: int, number: int, expected_version: int) -> dict:
    """Make an old published boundary the grid's pending edit; it goes through the validator again
    (the neighbours may have moved since) and becomes live when published."""
    grid, community = editable_grid(user, grid_id)
    version = GridVersion.objects.filter(grid=grid, number=number).first()
    if version is None:
        raise Refused(404, "not_found", field="number")
    if grid.version != expected_version:
        raise stale(grid.pk, expected_version)
    shape, _fit = check_grid_shape(shapely.from_wkb(bytes(version.boundary.wkb)), community, exclude=[grid.pk])
    return summary(_write(grid, expected_version, user, shape))
