"""A policy scope embedded in a statement (queries/grid_households.scope_select, named_ids): an empty scope,
``.none()`` or ``filter(pk__in=[])``, on which Django's compiler raises EmptyResultSet, compiles to a select
with the same columns and no rows; the layer and the coverage store read it as nothing."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from gridmap.models import Grid, Household
from gridmap.queries import layers
from gridmap.queries.coverage_store import stored_coverage
from gridmap.queries.grid_households import named_ids, scope_select

pytestmark = pytest.mark.django_db

EMPTY = {"none": lambda qs: qs.none(), "no ids": lambda qs: qs.filter(pk__in=[])}


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, grid_id, location FROM ({sql}) s", params)  # the columns keep their names
        return cursor.fetchall()


@pytest.mark.parametrize("empty", EMPTY)
def test_an_empty_scope_selects_no_rows(empty):
    scope = EMPTY[empty](Household.objects.filter(grid__code__startswith="G"))
    columns = ("id", "grid_id", "location")
    assert _rows(*scope_select(scope, columns)) == []
    assert _rows(*named_ids(scope, "h", columns)) == []
    sql, params = named_ids(scope.values("id"), "h")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM gridmap_household WHERE id IN ({sql})", params)
        assert cursor.fetchone()[0] == 0


def test_a_scope_selects_its_rows_with_named_parameters():
    scope = Household.objects.filter(grid_id=Household.objects.order_by("pk").first().grid_id)
    sql, params = named_ids(scope, "h", ("id", "grid_id", "location"))
    assert params and all(k.startswith("h") for k in params)
    assert {r[0] for r in _rows(sql, params)} == set(scope.values_list("id", flat=True))


@pytest.mark.parametrize("empty", EMPTY)
def test_the_layer_and_the_store_read_an_empty_scope_as_nothing(empty):
    grids = EMPTY[empty](Grid.objects.published())
    assert json.loads(layers.grids_layer(grids))["features"] == []
    assert json.loads(layers.households_layer(EMPTY[empty](Household.objects.all())))["features"] == []
    assert stored_coverage(grids) == []


@pytest.mark.parametrize("empty", EMPTY)
def test_tiles_and_the_concern_map_read_an_empty_scope_as_nothing(empty):
    """The other readers of a scope sub-select: vector tiles (grids, households as points and as counts) and the
    concern map's heat cells and areas (an area with no concern is still a 0)."""
    from gridmap.models.concerns import Concern
    from gridmap.queries import tiles
    from gridmap.queries.concern_map import area_counts, concern_cells

    grid = Grid.objects.published().order_by("code").first()
    z, x, y = 14, *_tile_of(grid.boundary.point_on_surface, 14)
    assert tiles.grids_tile(Grid.objects.published(), z, x, y) != b""  # the same tile is not empty in itself
    assert tiles.grids_tile(EMPTY[empty](Grid.objects.all()), z, x, y) == b""
    assert tiles.households_tile(EMPTY[empty](Household.objects.all()), z, x, y, points=True) == b""
    assert tiles.households_tile(EMPTY[empty](Grid.objects.all()), z, x, y, points=False) == b""
    assert concern_cells(EMPTY[empty](Concern.objects.all())) == []
    areas = Grid.objects.filter(pk=grid.pk)
    assert area_counts(EMPTY[empty](Concern.objects.all()), areas, "grid")[0]["concerns"] == 0


def _tile_of(point, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    lat = math.radians(point.y)
    return int((point.x + 180) / 360 * n), int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * n)
