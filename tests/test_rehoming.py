"""A household's grid and community follow from its location, set-based."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry

from gridmap.models import GridStatus, Household
from gridmap.services.grids.rehoming import rehome_households


def grid_codes(small_street) -> dict[str, str | None]:
    return {
        key: (h.grid.code if h.grid else None)
        for key, h in (
            (k, Household.objects.select_related("grid").get(pk=v.pk)) for k, v in small_street["households"].items()
        )
    }


def test_it_puts_each_household_in_the_grid_that_covers_it(small_street):
    rehome_households(household_ids=[h.pk for h in small_street["households"].values()])
    codes = grid_codes(small_street)
    assert codes["west"] == "110105001001001"
    assert codes["east"] == "110105001001002"
    assert codes["other"] == "110105001002001"
    assert codes["outside"] is None


def test_a_point_on_a_shared_edge_belongs_to_the_lowest_code(small_street):
    rehome_households(household_ids=[small_street["households"]["edge"].pk])
    assert grid_codes(small_street)["edge"] == "110105001001001"
    edge = Household.objects.get(pk=small_street["households"]["edge"].pk)
    assert edge.community.code == "110105001001"


def test_draft_and_retired_grids_own_no_households(small_street):
    west = small_street["grids"]["110105001001001"]
    west.status = GridStatus.RETIRED
    west.save()
    rehome_households(household_ids=[h.pk for h in small_street["households"].values()])
    codes = grid_codes(small_street)
    assert codes["west"] is None  # now in a gap of the community
    assert codes["edge"] == "110105001001002"  # the remaining neighbour covers the edge


def test_an_edit_rehomes_only_households_in_the_changed_area(small_street):
    ids = [h.pk for h in small_street["households"].values()]
    rehome_households(household_ids=ids)
    east = small_street["households"]["east"]
    Household.objects.filter(pk=east.pk).update(grid=None)
    # A changed area around "west" only: "east" (off the area) keeps its stale value.
    area = GEOSGeometry(
        "POLYGON((116.401 39.903, 116.403 39.903, 116.403 39.905, 116.401 39.905, 116.401 39.903))", srid=4326
    )
    assert rehome_households(area=area) == 0
    assert Household.objects.get(pk=east.pk).grid is None
    assert rehome_households(household_ids=[east.pk]) == 1
    assert Household.objects.get(pk=east.pk).grid.code == "110105001001002"


def test_moving_a_household_and_rehoming_changes_its_grid(small_street):
    west = small_street["households"]["west"]
    rehome_households(household_ids=[west.pk])
    Household.objects.filter(pk=west.pk).update(location=GEOSGeometry("POINT(116.408 39.902)", srid=4326))
    assert rehome_households(household_ids=[west.pk]) == 1
    assert Household.objects.get(pk=west.pk).grid.code == "110105001001002"


def test_rehoming_everything_follows_the_same_rule_as_rehoming_a_few(small_street):
    rehome_households()  # the whole table: the plan driven from the polygons
    codes = grid_codes(small_street)
    assert codes == {
        "west": "110105001001001",
        "east": "110105001001002",
        "edge": "110105001001001",
        "other": "110105001002001",
        "outside": None,
    }
    assert Household.objects.get(pk=small_street["households"]["edge"].pk).community.code == "110105001001"
    assert rehome_households() == 0  # nothing left to change


def test_rehoming_most_of_the_table_sets_indexes_aside_and_gives_the_same_answer(small_street, monkeypatch):
    from django.db import connection

    from gridmap.storage import bulk

    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "BULK_MAX_EXISTING", 10**9)  # whatever the table holds: bulk mode
    indexes = "SELECT count(*) FROM pg_index WHERE indrelid = 'gridmap_household'::regclass"
    with connection.cursor() as cursor:
        cursor.execute(indexes)
        before = cursor.fetchone()[0]
    assert rehome_households() >= 4
    assert grid_codes(small_street) == {
        "west": "110105001001001",
        "east": "110105001001002",
        "edge": "110105001001001",
        "other": "110105001002001",
        "outside": None,
    }
    with connection.cursor() as cursor:
        cursor.execute(indexes)
        assert cursor.fetchone()[0] == before
