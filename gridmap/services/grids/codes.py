"""Grid codes: community code + 3-digit sequence, numbered west→east, north→south, never reused."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from django.db.models.functions import Substr

from gridmap.models import Community, Grid

# Rows of this height (in degrees of latitude, about 220 m) are numbered north to south; inside a row,
# west to east. A narrow band keeps neighbours in one row without splitting compounds.
ROW_HEIGHT_DEG = 0.002


def reading_order(points: list[tuple[float, float]]) -> list[int]:
    """Indexes of (lon, lat) points in reading order: north→south by row, west→east within a row."""
    return sorted(range(len(points)), key=lambda i: (-int(points[i][1] // ROW_HEIGHT_DEG), points[i][0]))


def next_grid_codes(community: Community, boundaries: list[GEOSGeometry]) -> list[str]:
    """Codes for new grids of ``community``, in the order of ``boundaries``.

    Numbers continue after the highest sequence ever used in the community, retired grids included, so
    a retired code is never handed out again; the new grids among themselves follow reading order.
    """
    used = (
        Grid.objects.filter(community=community)
        .annotate(seq=Substr("code", 13, 3))
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    start = int(used or 0) + 1
    if start + len(boundaries) - 1 > 999:
        raise ValueError("community has no free grid sequence numbers left (001-999)")
    anchors = [b.point_on_surface.coords for b in boundaries]
    codes = [""] * len(boundaries)
    for rank, index in enumerate(reading_order(anchors)):
        codes[index] = f"{community.code}{start + rank:03d}"
    return codes
