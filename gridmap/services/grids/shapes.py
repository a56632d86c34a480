"""The Django side of the one geometry validator: a grid shape checked against its street, community and
siblings, and every refusal turned into a ``Refused`` with a status, a field and a readable reason.

The editor, the JSON API, the admin form and the grid import all call :func:`check_grid_shape`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _

from geodata.grid_fit import Fit, fit_grid
from geodata.topology import geodesic_area_m2
from geodata.validation import GeometryRejected, check_near, validate_geojson, validate_shape
from gridmap.models import Community, Grid, GridStatus, Household
from gridmap.services.reasons import reason
from gridmap.services.refused import Refused

# A grid clipped below this area is a sliver (a street corner is ~1,000 m²; the smallest demo grid is
# tens of thousands): the editor refuses it rather than saving a grid nobody can live in.
MIN_CLIPPED_GRID_M2 = 1000.0


def parse_shape(raw: object, field: str = "geometry") -> shapely.MultiPolygon:
    """Pure validation of GeoJSON (parsed or text) or a shapely geometry; refusals become Refused."""
    try:
        if isinstance(raw, shapely.Geometry):
            return validate_shape(raw, field=field)
        return validate_geojson(raw if isinstance(raw, Mapping | str | bytes) else {}, field=field)
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc, field) from None


def working_siblings(community: Community, exclude: Iterable[int] = ()) -> dict[int, shapely.Geometry]:
    """The other grids of ``community`` as they will be after publishing (drafts included, retirements not)."""
    rows = (
        Grid.objects.filter(community=community)
        .exclude(status=GridStatus.RETIRED)
        .exclude(retire_on_publish=True)
        .exclude(pk__in=list(exclude))
        .values_list("pk", "boundary", "draft_boundary")
    )
    return {pk: shapely.from_wkb(bytes((draft or live).wkb)) for pk, live, draft in rows}


def check_grid_shape(
    raw: object, community: Community, *, exclude: Iterable[int] = (), clip: bool = False, field: str = "geometry"
) -> tuple[GEOSGeometry, Fit]:
    """Validate ``raw`` as a grid of ``community``: the whole validator, pure checks first.

    Returns the shape to store (2-D MultiPolygon, CCW shells, snapped to the neighbours) and the fit
    details; raises Refused (400/409/413) naming the field and the reason.
    """
    shape = parse_shape(raw, field)
    drawn = shape
    try:
        check_near(shape, community.street.boundary.extent, field=field)
        community_shape = shapely.from_wkb(bytes(community.boundary.wkb))
        fit = fit_grid(shape, community_shape, working_siblings(community, exclude), clip=clip)
    except GeometryRejected as exc:
        if exc.code == "overlaps_siblings":
            codes = dict(Grid.objects.filter(pk__in=[o["id"] for o in exc.extra["overlaps"]]).values_list("pk", "code"))
            for overlap in exc.extra["overlaps"]:
                overlap["code"] = codes.get(overlap["id"])
        if clip and exc.code == "empty":
            raise _clip_refused(0.0, field) from None
        raise Refused.from_geometry(exc, field) from None
    if clip and fit.clipped_m2 > 0:
        _check_clipped(drawn, fit.geometry, field)
    return to_geos(fit.geometry), fit


def _check_clipped(drawn: shapely.Geometry, clipped: shapely.Geometry, field: str) -> None:
    """Refuse a clip that leaves a sliver: under MIN_CLIPPED_GRID_M2, or no household where the drawn
    shape held some."""
    area = geodesic_area_m2(clipped)
    if clipped.is_empty or area < MIN_CLIPPED_GRID_M2:
        raise _clip_refused(area, field)
    if Household.objects.filter(location__intersects=to_geos(clipped)).exists():
        return
    held = Household.objects.filter(location__intersects=to_geos(drawn)).count()
    if held:
        raise Refused(
            400,
            "clip_leaves_no_households",
            field=field,
            detail=reason("clip_leaves_no_households", note=_("画的形状有 %(n)s 户，裁剪后 0 户") % {"n": held})
            + _("：请改画形状，或不勾选裁剪以查看重叠处"),
            area_m2=round(area, 1),
            households_drawn=held,
        )


def _clip_refused(area: float, field: str) -> Refused:
    code = "clip_leaves_nothing" if area <= 0 else "clip_leaves_sliver"
    note = _("裁剪后只剩 %(area)s m²") % {"area": f"{area:,.0f}"} if area > 0 else ""
    return Refused(
        400,
        code,
        field=field,
        detail=reason(code, note=note) + _("：请改画形状，或不勾选裁剪以查看重叠处"),
        area_m2=round(area, 1),
        min_area_m2=MIN_CLIPPED_GRID_M2,
    )


def to_geos(geom: shapely.Geometry) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)
