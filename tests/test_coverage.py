"""Coverage per grid: the SQL report and its vectorised twin agree, and each figure means what docs/domain.md says."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from django.contrib.gis.geos import Point
from pyproj import Geod

from geodata import coverage as vectorised
from gridmap.models import (
    AssignmentRole,
    CentralHousehold,
    CentralLink,
    Grid,
    GridAssignment,
    HelpPair,
    Household,
    Member,
)
from gridmap.policy import grids_for
from gridmap.queries.coverage import coverage_arrays, grid_coverage
from gridmap.services.grids.rehoming import rehome_households

GEOD = Geod(ellps="WGS84")


def frame_of(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=vectorised.COLUMNS)


def assert_same(sql: pd.DataFrame, arrays: pd.DataFrame) -> None:
    assert list(sql.columns) == list(arrays.columns)
    for column in sql.columns:
        left = sql[column].astype(float) if column.endswith(("pct", "load", "per_fulltime")) else sql[column]
        pd.testing.assert_series_equal(
            left.reset_index(drop=True),
            arrays[column].reset_index(drop=True),
            check_dtype=False,
            check_exact=True,
            obj=column,
        )


def vectorised_report(grids) -> pd.DataFrame:
    frames = coverage_arrays(grids)
    from django.conf import settings

    return vectorised.grid_coverage(
        frames["grids"],
        frames["households"],
        frames["stations"],
        size_band=(settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX),
        load_band=(settings.CENTRAL_LINKS_MIN, settings.CENTRAL_LINKS_MAX),
    )


def test_the_sql_report_and_the_vectorised_one_agree_exactly_on_the_demo_street(db):
    grids = Grid.objects.filter(code__startswith="152922")
    sql = frame_of(grid_coverage(grids))
    assert len(sql) == 44 and sql["households"].sum() == 15_000
    assert 0 < sql["covered"].sum() < 15_000  # some households are out of every station's reach
    assert sql["linked"].sum() > 0 and sql["central"].sum() > 0 and sql["vulnerable"].sum() > 0
    assert_same(sql, vectorised_report(grids))


def test_the_report_follows_the_queryset_it_is_given(user_for):
    staff = user_for("community_staff")
    rows = grid_coverage(grids_for(staff))
    assert rows and {r["grid_id"] for r in rows} == set(grids_for(staff).values_list("id", flat=True))
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)


def _at(origin: Point, azimuth: float, metres: float) -> Point:
    lon, lat, _ = GEOD.fwd(origin.x, origin.y, azimuth, metres)
    return Point(lon, lat, srid=4326)


def _household(key: str, location: Point, **tags) -> Household:
    return Household.objects.create(location=location, address=key, head_name="测试", **tags)


def test_a_household_exactly_at_a_stations_radius_is_decided_geodesically_and_the_same_way(small_street):
    station = small_street["station"]  # 500 m at (116.402, 39.904), in grid ...001
    radius = station.radius_m
    inside = _household("inside", _at(station.location, 90, radius - 0.05))
    exact = _household("exact", _at(station.location, 60, radius))
    outside = _household("outside", _at(station.location, 120, radius + 0.05))
    # In plain degrees the eastward 499.95 m look like 0.00585 deg, "further" than the 0.0045 deg a
    # northward 500 m would be: a planar check in degrees would get these wrong.
    rehome_households(household_ids=[h.pk for h in (inside, exact, outside, *small_street["households"].values())])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.address, ST_DWithin(s.location::geography, h.location::geography, s.radius_m)"
            "  FROM gridmap_household h, gridmap_servicestation s WHERE s.id = %s AND h.id = ANY(%s)",
            [station.pk, [inside.pk, exact.pk, outside.pk]],
        )
        postgis = dict(cursor.fetchall())
    assert postgis["inside"] and not postgis["outside"]
    frames = coverage_arrays(Grid.objects.filter(pk__in=[g.pk for g in small_street["grids"].values()]))
    hh = frames["households"]
    ours = vectorised.stations_cover(
        hh["lon"], hh["lat"], frames["stations"]["lon"], frames["stations"]["lat"], frames["stations"]["radius_m"]
    )
    by_point = dict(zip(zip(hh["lon"], hh["lat"]), ours))
    for household in (inside, exact, outside):
        assert by_point[(household.location.x, household.location.y)] == postgis[household.address]
    grids = Grid.objects.filter(pk__in=[g.pk for g in small_street["grids"].values()])
    east = next(r for r in grid_coverage(grids) if r["code"] == "110105001001002")
    assert east["households"] == 4  # "east" from the fixture plus the three above
    assert east["covered"] == 2 + int(postgis["exact"])  # "east" (427 m away) and "inside"
    assert_same(frame_of(grid_coverage(grids)), vectorised_report(grids))


def test_each_figure_means_what_domain_md_says(small_street, settings):
    settings.GRID_HOUSEHOLDS_MIN, settings.GRID_HOUSEHOLDS_MAX = 2, 3
    grids = small_street["grids"]
    west_grid = grids["110105001001001"]
    homes = small_street["households"]
    rehome_households(household_ids=[h.pk for h in homes.values()])
    central = CentralHousehold.objects.create(household=homes["west"])
    CentralLink.objects.create(central=central, household=homes["edge"])
    lonely = _household("独居", Point(116.4035, 39.9075, srid=4326), elderly_alone=True)  # 415 m from the station
    helped = _household("帮扶", Point(116.4010, 39.9010, srid=4326), disabled=True)
    far = _household("远", Point(116.4160, 39.9070, srid=4326), low_income=True)  # grid ...002001, 1.2 km
    rehome_households(household_ids=[lonely.pk, helped.pk, far.pk])
    leader, worker = Member.objects.create(name="甲"), Member.objects.create(name="乙")
    start = datetime.date(2024, 1, 1)
    GridAssignment.objects.create(member=leader, grid=west_grid, role=AssignmentRole.LEADER, start_date=start)
    GridAssignment.objects.create(member=worker, grid=west_grid, role=AssignmentRole.FULLTIME, start_date=start)
    GridAssignment.objects.create(
        member=worker, grid=grids["110105001001002"], role=AssignmentRole.FULLTIME, start_date=start, end_date=start
    )  # ended: does not count
    HelpPair.objects.create(household=helped, unit="街道办", start_date=start)
    rows = {r["code"]: r for r in grid_coverage(Grid.objects.filter(pk__in=[g.pk for g in grids.values()]))}
    west, east, other = rows["110105001001001"], rows["110105001001002"], rows["110105001002001"]
    assert (west["households"], west["covered"], west["linked"]) == (4, 4, 2)  # west, edge, 独居, 帮扶
    assert west["linked_pct"] == 50.0 and west["central"] == 1 and west["central_links"] == 1
    assert west["central_load"] == 1.0 and west["central_off_band"] == 1  # 1 link, band 5..15
    assert (west["leaders"], west["fulltime"], west["staffed"], west["per_fulltime"]) == (1, 1, True, 4.0)
    assert west["size_status"] == "over" and west["vulnerable"] == 2 and west["vulnerable_uncovered"] == 0
    assert (east["households"], east["staffed"], east["per_fulltime"], east["size_status"]) == (1, False, None, "under")
    assert (other["households"], other["covered"], other["vulnerable_uncovered"]) == (2, 0, 1)  # "far"
    assert other["covered_pct"] == 0.0 and other["central_load"] is None


def test_a_grid_without_households_has_no_percentages(small_street):
    row = grid_coverage(Grid.objects.filter(pk=small_street["grids"]["110105001001002"].pk))[0]
    assert row["households"] == 0 and row["covered_pct"] is None and row["linked_pct"] is None
    assert row["size_status"] == "under"


@pytest.mark.parametrize("seed", [1, 2])
def test_the_vectorised_station_test_matches_a_geodesic_brute_force(seed):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(101.0, 103.0, 20_000), rng.uniform(38.0, 40.5, 20_000)  # ~170 x 280 km
    st_lon, st_lat = rng.uniform(101.0, 103.0, 300), rng.uniform(38.0, 40.5, 300)
    radius = rng.choice([300.0, 500.0, 800.0, 5_000.0, 20_000.0], 300)
    fast = vectorised.stations_cover(lon, lat, st_lon, st_lat, radius)
    hh, st = np.repeat(np.arange(len(lon)), len(st_lon)), np.tile(np.arange(len(st_lon)), len(lon))
    distance = vectorised._postgis_geodesic(st_lon[st], st_lat[st], lon[hh], lat[hh]).reshape(len(lon), -1)
    assert np.array_equal(fast, (distance <= radius).any(axis=1))
    assert 0 < fast.sum() < len(fast)
