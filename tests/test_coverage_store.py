"""The per-grid coverage store (queries/coverage_store.py): after every kind of change the planner's figures
depend on, the stored answer equals a fresh computation, and only the grids the change can reach are
recomputed (a household: its grids; a station: the grids within its old and new reach; an assignment:
none, staff are read live). Also the page-revision trigger it relies on: switching a central household
off moves the grid of every household it links, not only its own; and the hot path: a read with nothing
stale takes no lock, a stale one takes it and reads the fresh answer."""

from __future__ import annotations

import datetime as dt
import json

import psycopg2
import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Count

from gridmap.models import (
    AssignmentRole,
    CentralHousehold,
    CentralLink,
    Grid,
    GridAssignment,
    HelpPair,
    Household,
    Member,
    ServiceStation,
)
from gridmap.queries import coverage_store, layers
from gridmap.queries.coverage import grid_coverage
from gridmap.queries.coverage_store import refresh, stored_coverage

pytestmark = pytest.mark.django_db


def _recomputed(grids) -> int:
    return refresh(grids)  # under the store's lock: the number of grids recomputed


def _revision(grid_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(revision), 0) FROM gridmap_pagerevision WHERE grid_id = %s", [grid_id])
        return cursor.fetchone()[0]


@pytest.fixture
def grids():
    published = Grid.objects.published()
    assert published.count() > 10
    assert stored_coverage(published) == grid_coverage(published)  # fills the store
    assert _recomputed(published) == 0
    return published


def _same(grids) -> None:
    assert stored_coverage(grids) == grid_coverage(grids)


def test_a_moved_household_recomputes_its_two_grids_only(grids):
    household = Household.objects.filter(grid__in=grids).order_by("pk").first()
    other = grids.filter(community_id=household.community_id).exclude(pk=household.grid_id).order_by("pk").first()
    Household.objects.filter(pk=household.pk).update(grid=other)
    assert _recomputed(grids) == 2
    _same(grids)


def test_a_station_change_recomputes_the_grids_within_reach_only(grids):
    station = ServiceStation.objects.filter(active=True).order_by("radius_m", "pk").first()
    ServiceStation.objects.filter(pk=station.pk).update(radius_m=station.radius_m + 1)
    recomputed = _recomputed(grids)
    reached = Household.objects.within_radius_of(ServiceStation.objects.filter(pk=station.pk)).filter(grid__in=grids)
    assert 0 < reached.values("grid").distinct().count() <= recomputed < grids.count()
    _same(grids)
    ServiceStation.objects.filter(pk=station.pk).update(active=False)
    _same(grids)
    far = ServiceStation.objects.filter(active=True).exclude(pk=station.pk).order_by("-pk").first()
    ServiceStation.objects.filter(pk=far.pk).delete()
    _same(grids)
    moved = ServiceStation.objects.filter(active=True).order_by("pk").first()
    ServiceStation.objects.filter(pk=moved.pk).update(location=station.location)
    _same(grids)
    before = stored_coverage(grids)
    ServiceStation.objects.create(name="新站", location=station.location, radius_m=3000)
    after = stored_coverage(grids)
    assert after == grid_coverage(grids)
    assert sum(r["covered"] for r in after) > sum(r["covered"] for r in before)


def test_central_households_links_and_help_pairs_are_seen(grids):
    central = CentralHousehold.objects.filter(active=True, household__grid__in=grids).order_by("pk").first()
    stranger = Household.objects.filter(grid__in=grids).exclude(grid_id=central.household.grid_id)
    stranger = stranger.exclude(pk__in=CentralLink.objects.values("household_id"))
    stranger = stranger.exclude(pk__in=CentralHousehold.objects.values("household_id")).order_by("pk").first()
    CentralLink.objects.create(central=central, household=stranger)
    _same(grids)
    revision = _revision(stranger.grid_id)
    CentralHousehold.objects.filter(pk=central.pk).update(active=False)  # the linked household is no longer linked
    assert _revision(stranger.grid_id) > revision  # the trigger of migration 0023
    _same(grids)
    needy = Household.objects.filter(grid__in=grids, vulnerable=True).order_by("pk")
    HelpPair.objects.create(household=needy.first(), unit="社工站", start_date=dt.date(2026, 1, 1))
    _same(grids)
    HelpPair.objects.filter(household=needy.first()).update(end_date=dt.date(2026, 6, 1))
    _same(grids)


def test_staff_are_read_live_without_recomputing(grids):
    grid = grids.annotate(n=Count("assignments")).order_by("n", "pk").first()
    member = Member.objects.order_by("pk").first()
    GridAssignment.objects.filter(grid=grid, end_date__isnull=True).update(end_date=dt.date(2026, 1, 1))
    GridAssignment.objects.create(member=member, grid=grid, role=AssignmentRole.LEADER, start_date=dt.date(2026, 2, 1))
    assert _recomputed(grids) == 0
    row = next(r for r in stored_coverage(grids) if r["grid_id"] == grid.pk)
    assert row["leaders"] == 1
    _same(grids)


def test_a_changed_band_setting_recomputes_every_grid(grids, settings):
    settings.CENTRAL_LINKS_MAX = 3
    assert _recomputed(grids) == grids.count()
    _same(grids)


def test_the_grid_layer_counts_from_the_store_after_a_change(grids):
    household = Household.objects.filter(grid__in=grids).order_by("pk").first()
    target = grids.filter(community_id=household.community_id).exclude(pk=household.grid_id).order_by("pk").first()
    before = {f["id"]: f["properties"]["households"] for f in _features(grids)}
    Household.objects.filter(pk=household.pk).update(grid=target)
    after = {f["id"]: f["properties"]["households"] for f in _features(grids)}
    assert after[target.pk] == before[target.pk] + 1
    assert after[household.grid_id] == before[household.grid_id] - 1
    counted = dict(Household.objects.filter(grid__in=grids).values_list("grid").annotate(n=Count("pk")))
    assert after == {pk: counted.get(pk, 0) for pk in after}


def _features(grids) -> list[dict]:
    return json.loads(layers.grids_layer(grids))["features"]


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def committed_store(django_db_setup, django_db_blocker):
    """The store filled and committed before the test, as a running install has it (the ``grids`` fixture
    fills it inside the test's transaction, whose lock then lasts as long as the test); emptied afterwards."""
    with django_db_blocker.unblock():
        published = Grid.objects.published()
        stored_coverage(published)
        yield published
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE gridmap_gridcoverage, gridmap_coveragestation")


@pytest.fixture
def lock_held_elsewhere(committed_store):
    """The store's lock held by a second connection (a refresh in another worker) until the test calls the
    fixture's value; meanwhile this connection waits for a lock at most 1 s (fails instead of hanging)."""
    other = psycopg2.connect(**connection.get_connection_params())
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")
        cursor.execute("SELECT pg_advisory_lock(%s)", [coverage_store._LOCK])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '1s'")
    yield other.close  # the session ends, its lock with it
    other.close()


def test_a_read_with_nothing_stale_takes_no_lock(committed_store, lock_held_elsewhere):
    grids = committed_store
    expected = grid_coverage(grids)
    assert stored_coverage(grids) == expected  # returns although another connection holds the lock
    assert {f["id"] for f in _features(grids)} == {r["grid_id"] for r in expected}
    assert _advisory_locks() == 0  # a lock taken would be held to the end of the test's transaction


def test_a_stale_read_takes_the_lock_and_reads_the_fresh_answer(committed_store, lock_held_elsewhere):
    grids = committed_store
    household = Household.objects.filter(grid__in=grids).order_by("pk").first()
    other = grids.filter(community_id=household.community_id).exclude(pk=household.grid_id).order_by("pk").first()
    Household.objects.filter(pk=household.pk).update(grid=other)
    with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
        stored_coverage(grids)  # waits for the other refresh
    lock_held_elsewhere()  # that refresh ends
    assert stored_coverage(grids) == grid_coverage(grids)
    assert _advisory_locks() == 1


def test_a_stale_read_after_a_change_reads_the_fresh_answer(grids):
    household = Household.objects.filter(grid__in=grids).order_by("pk").first()
    other = grids.filter(community_id=household.community_id).exclude(pk=household.grid_id).order_by("pk").first()
    Household.objects.filter(pk=household.pk).update(grid=other)
    assert stored_coverage(grids) == grid_coverage(grids)
    assert _advisory_locks() == 1  # the refresh's lock, held to the end of the test's transaction
    assert _recomputed(grids) == 0


def test_a_station_change_marks_figures_stale_and_never_drops_them(grids):
    station = ServiceStation.objects.filter(active=True).order_by("radius_m", "pk").first()
    ServiceStation.objects.filter(pk=station.pk).update(radius_m=station.radius_m + 500)
    assert refresh(Grid.objects.none()) == 0  # settles the stations only: the reached grids are marked
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE grid_revision = -1) FROM gridmap_gridcoverage")
        rows, marked = cursor.fetchone()
    assert rows == grids.count() and 0 < marked < rows  # a read beside this refresh still finds every grid
    assert stored_coverage(grids) == grid_coverage(grids)
    assert _recomputed(grids) == 0
