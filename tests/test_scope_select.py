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
