"""The Django side of the one geometry validator: a grid shape checked against its street, community and
siblings, and every refusal turned into a ``Refused`` with a status, a field and a readable reason.

The editor, the JSON API, the admin form and the grid import all call :func:`check_grid_shape`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import shapely
from django.contrib.gis.geos import GEOSGeometry

from geodata.grid_fit import Fit, fit_grid
from geodata.validation import GeometryRejected, check_near, validate_geojson, validate_shape
from gridmap.models import Community, Grid, GridStatus
from gridmap.services.refused import Refused


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
    try:
        check_near(shape, community.street.boundary.extent, field=field)
        community_shape = shapely.from_wkb(bytes(community.boundary.wkb))
        fit = fit_grid(shape, community_shape, working_siblings(community, exclude), clip=clip)
    except GeometryRejected as exc:
        if exc.code == "overlaps_siblings":
            codes = dict(Grid.objects.filter(pk__in=[o["id"] for o in exc.extra["overlaps"]]).values_list("pk", "code"))
            for overlap in exc.extra["overlaps"]:
                overlap["code"] = codes.get(overlap["id"])
        raise Refused.from_geometry(exc, field) from None
    return to_geos(fit.geometry), fit


def to_geos(geom: shapely.Geometry) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)
