"""Database constraints: what can be a constraint is one, so no code path can store bad rows."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import DataError, IntegrityError, transaction

from gridmap.models import AssignmentRole, Grid, GridAssignment, Household, Member, ServiceStation

SQUARE = "POLYGON((116.400 39.900, 116.401 39.900, 116.401 39.901, 116.400 39.901, 116.400 39.900))"
BOWTIE = "POLYGON((116.400 39.900, 116.401 39.901, 116.401 39.900, 116.400 39.901, 116.400 39.900))"


def multi(wkt: str) -> MultiPolygon:
    return MultiPolygon(GEOSGeometry(wkt, srid=4326), srid=4326)


def refuses(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except (IntegrityError, DataError):
        return True
    return False


def test_it_refuses_grid_codes_that_are_not_15_digits(small_street):
    community = small_street["communities"]["110105001001"]
    for code in ("11010500100100", "1101050010010011", "11010500100100A"):
        assert refuses(
            lambda code=code: Grid.objects.create(code=code, name="x", community=community, boundary=multi(SQUARE))
        )
    Grid.objects.create(code="110105001001009", name="ok", community=community, boundary=multi(SQUARE))


def test_it_refuses_an_invalid_boundary_even_past_the_validator(small_street):
    community = small_street["communities"]["110105001001"]
    assert refuses(
        lambda: Grid.objects.create(code="110105001001008", name="bow-tie", community=community, boundary=multi(BOWTIE))
    )
    assert not Grid.objects.filter(code="110105001001008").exists()


def test_it_allows_one_active_leader_per_grid_and_keeps_history(small_street):
    grid = small_street["grids"]["110105001001001"]
    first, second = Member.objects.create(name="甲"), Member.objects.create(name="乙")
    start = datetime.date(2026, 1, 1)
    leader = GridAssignment.objects.create(member=first, grid=grid, role=AssignmentRole.LEADER, start_date=start)
    assert refuses(
        lambda: GridAssignment.objects.create(member=second, grid=grid, role=AssignmentRole.LEADER, start_date=start)
    )
    leader.end_date = datetime.date(2026, 6, 30)
    leader.save()
    GridAssignment.objects.create(member=second, grid=grid, role=AssignmentRole.LEADER, start_date=leader.end_date)
    assert GridAssignment.objects.filter(grid=grid, role=AssignmentRole.LEADER).count() == 2
    assert GridAssignment.objects.active().get(grid=grid, role=AssignmentRole.LEADER).member == second


def test_it_refuses_an_assignment_that_ends_before_it_starts(small_street):
    grid = small_street["grids"]["110105001001001"]
    member = Member.objects.create(name="丙")
    assert refuses(
        lambda: GridAssignment.objects.create(
            member=member,
            grid=grid,
            role=AssignmentRole.FULLTIME,
            start_date=datetime.date(2026, 5, 1),
            end_date=datetime.date(2026, 4, 1),
        )
    )


def test_it_refuses_a_station_without_a_positive_radius(small_street):
    point = GEOSGeometry("POINT(116.402 39.904)", srid=4326)
    assert refuses(lambda: ServiceStation.objects.create(name="零半径", location=point, radius_m=0))
    assert refuses(lambda: ServiceStation.objects.create(name="太远", location=point, radius_m=50_000))


@pytest.mark.parametrize("id_number", ["1101051949123100", "11010519491231002x", "1.10105E+17"])
def test_it_refuses_malformed_id_numbers(db, id_number):
    point = GEOSGeometry("POINT(116.402 39.904)", srid=4326)
    assert refuses(lambda: Household.objects.create(location=point, address="a", head_name="b", id_number=id_number))


def test_it_measures_station_radius_in_geodesic_metres(small_street):
    """500 m must mean 500 m: a point 495 m north of the station is covered, one 505 m north is not."""
    from pyproj import Geod

    station = small_street["station"]
    geod = Geod(ellps="WGS84")
    inside_lon, inside_lat, _ = geod.fwd(station.location.x, station.location.y, 0, 495)
    outside_lon, outside_lat, _ = geod.fwd(station.location.x, station.location.y, 0, 505)
    inside = Household.objects.create(
        location=GEOSGeometry(f"POINT({inside_lon} {inside_lat})", srid=4326), address="495 m", head_name="近"
    )
    outside = Household.objects.create(
        location=GEOSGeometry(f"POINT({outside_lon} {outside_lat})", srid=4326), address="505 m", head_name="远"
    )
    covered = set(
        Household.objects.filter(pk__in=[inside.pk, outside.pk])
        .within_radius_of(ServiceStation.objects.filter(pk=station.pk))
        .values_list("pk", flat=True)
    )
    assert covered == {inside.pk}
