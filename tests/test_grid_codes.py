"""Grid codes: community code + sequence, reading order west→east, north→south, never reused."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon

from gridmap.models import Grid, GridStatus
from gridmap.services.grids.codes import next_grid_codes


def box(x0, y0, x1, y1) -> MultiPolygon:
    return MultiPolygon(
        GEOSGeometry(f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))", srid=4326), srid=4326
    )


def test_new_grids_are_numbered_west_to_east_then_north_to_south(small_street):
    community = small_street["communities"]["110105001001"]
    south_west = box(116.400, 39.900, 116.402, 39.902)
    north_east = box(116.408, 39.906, 116.410, 39.908)
    north_west = box(116.400, 39.906, 116.402, 39.908)
    codes = next_grid_codes(community, [south_west, north_east, north_west])
    # 001 and 002 exist: new ones start at 003, north row first (west, then east), then the south row.
    assert codes == ["110105001001005", "110105001001004", "110105001001003"]


def test_a_retired_code_is_never_handed_out_again(small_street):
    community = small_street["communities"]["110105001001"]
    Grid.objects.create(
        code="110105001001007",
        name="撤销的网格",
        community=community,
        boundary=box(116.400, 39.900, 116.401, 39.901),
        status=GridStatus.RETIRED,
    )
    assert next_grid_codes(community, [box(116.400, 39.900, 116.401, 39.901)]) == ["110105001001008"]
