"""The grid page's freshness-checked cache: served from the cache while nothing changed, fresh after any
write to a table that feeds it (through any path: ORM, raw SQL), scope checked on every request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridmap.models import AssignmentRole, CentralHousehold, CentralLink, GridAssignment, Household, ServiceStation
from gridmap.queries.grid_page_cache import page_key
from tests.people_support import household_in, leader_grid


@pytest.fixture
def leader(user_for):
    return user_for("grid_leader")


@pytest.fixture
def grid(leader):
    return leader_grid(leader)


def _page(client, grid, **headers):
    return client.get(f"/api/grids/{grid.pk}/households.json", headers=headers)


def _page_statements(queries) -> int:
    return sum("json_build_object" in q["sql"] for q in queries)


def test_a_repeated_page_is_served_from_the_cache_without_the_page_statement(client_for, grid):
    client = client_for("grid_leader")
    first = _page(client, grid)
    with CaptureQueriesContext(connection) as queries:
        second = _page(client, grid)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert _page_statements(queries) == 0
    assert sum("gridmap_pagerevision" in q["sql"] for q in queries) == 1


def test_a_raw_sql_change_of_a_household_shows_on_the_next_request(client_for, grid):
    client = client_for("grid_leader")
    own = household_in(grid)
    before = _page(client, grid)
    with connection.cursor() as cursor:  # no ORM, no service: only the trigger can tell the cache
        cursor.execute("UPDATE gridmap_household SET address = '新地址 8 号' WHERE id = %s", [own.pk])
    after = _page(client, grid)
    assert after["ETag"] != before["ETag"]
    assert {h["id"]: h["address"] for h in after.json()["households"]}[own.pk] == "新地址 8 号"


def test_a_household_moved_out_of_the_grid_leaves_its_page(client_for, grid):
    client = client_for("grid_leader")
    own = household_in(grid)
    assert own.pk in {h["id"] for h in _page(client, grid).json()["households"]}
    Household.objects.filter(pk=own.pk).update(grid=None)  # as a re-homing into a gap would
    assert own.pk not in {h["id"] for h in _page(client, grid).json()["households"]}


def test_new_links_show_on_the_next_request(client_for, grid):
    client = client_for("grid_leader")
    ids = list(
        Household.objects.filter(grid=grid)
        .exclude(central__isnull=False)
        .exclude(central_link__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)[:2]
    )
    assert len(ids) == 2
    _page(client, grid)
    central = CentralHousehold.objects.create(household_id=ids[0])
    page = _page(client, grid).json()
    assert {h["id"]: h["central"] for h in page["households"]}[ids[0]] is True
    CentralLink.objects.create(central=central, household_id=ids[1])
    page = _page(client, grid).json()
    assert any(link[:2] == [ids[0], ids[1]] for link in page["links"])
    assert {h["id"]: h["linked_to"] for h in page["households"]}[ids[1]] == ids[0]


def test_a_station_change_shows_on_every_cached_page(client_for, grid):
    client = client_for("grid_leader")
    station = _page(client, grid).json()["station"]
    assert station is not None
    ServiceStation.objects.filter(pk=station["id"]).update(name="改名后的服务站")
    assert _page(client, grid).json()["station"]["name"] == "改名后的服务站"


def test_an_ended_assignment_is_404_at_once_although_the_page_is_cached(client_for, leader, grid):
    client = client_for("grid_leader")
    assert _page(client, grid).status_code == 200
    GridAssignment.objects.active().filter(member__user=leader, grid=grid).update(end_date=dt.date.today())
    assert _page(client, grid).status_code == 404


def test_an_unchanged_page_answers_304_to_its_etag_and_200_after_a_change(client_for, grid):
    client = client_for("grid_leader")
    first = _page(client, grid)
    assert first["Cache-Control"] == "private, no-store"
    again = _page(client, grid, If_None_Match=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    Household.objects.filter(pk=household_in(grid).pk).update(residents=7)
    changed = _page(client, grid, If_None_Match=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_field_staff_never_share_a_cached_variant_and_managers_share_by_scope(user_for, grid):
    leader, worker = user_for("grid_leader"), user_for("grid_worker")
    GridAssignment.objects.get_or_create(
        member=worker.member,
        grid=grid,
        role=AssignmentRole.PARTTIME,
        end_date=None,
        defaults={"start_date": dt.date(2026, 1, 1)},
    )
    leader_key, worker_key = page_key(leader, grid.pk), page_key(worker, grid.pk)
    assert leader_key and worker_key and leader_key != worker_key
    admin_key = page_key(user_for("street_admin"), grid.pk)
    assert admin_key.endswith(f"street_admin.{user_for('street_admin').profile.street_id}.None")


def test_a_bulk_rehoming_moves_the_revision_of_every_grid_it_touches(grid):
    other = Household.objects.exclude(grid=grid).exclude(grid=None).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grid_id, revision FROM gridmap_pagerevision WHERE grid_id IN (%s, %s)", [grid.pk, other.grid_id]
        )
        before = dict(cursor.fetchall())
        cursor.execute("UPDATE gridmap_household SET grid_id = %s WHERE id = %s", [grid.pk, other.pk])
        cursor.execute(
            "SELECT grid_id, revision FROM gridmap_pagerevision WHERE grid_id IN (%s, %s)", [grid.pk, other.grid_id]
        )
        after = dict(cursor.fetchall())
    assert after[grid.pk] > before.get(grid.pk, 0) and after[other.grid_id] > before.get(other.grid_id, 0)


def _layer(client, grid):
    x0, y0, x1, y1 = grid.boundary.extent
    return client.get("/api/layers/households.geojson", {"bbox": f"{x0},{y0},{x1},{y1}"})


def test_the_household_layer_of_a_box_is_cached_and_fresh_after_a_raw_sql_change(client_for, grid):
    client = client_for("street_admin")
    own = household_in(grid)
    first = _layer(client, grid)
    with CaptureQueriesContext(connection) as queries:
        second = _layer(client, grid)
    assert first.status_code == second.status_code == 200 and second.content == first.content
    assert _page_statements(queries) == 0
    with connection.cursor() as cursor:
        cursor.execute("UPDATE gridmap_household SET address = '新地址 9 号' WHERE id = %s", [own.pk])
    features = {f["id"]: f["properties"] for f in _layer(client, grid).json()["features"]}
    assert features[own.pk]["address"] == "新地址 9 号"


def test_a_household_in_no_grid_changes_the_cached_layer_too(client_for, grid):
    client = client_for("street_admin")
    own = household_in(grid)
    Household.objects.filter(pk=own.pk).update(grid=None)  # now in a gap, still inside the box
    _layer(client, grid)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE gridmap_household SET residents = 9 WHERE id = %s", [own.pk])
    features = {f["id"]: f["properties"] for f in _layer(client, grid).json()["features"]}
    assert features[own.pk]["residents"] == 9


def test_a_page_larger_than_the_cap_is_served_but_not_kept(client_for, grid, settings):
    settings.PAGE_CACHE_MAX_BYTES = 10
    caches["pages"].clear()  # an earlier test may have kept this grid's page at the same revisions
    client = client_for("grid_leader")
    assert _page(client, grid).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert _page(client, grid).status_code == 200
    assert _page_statements(queries) == 1  # built again: nothing was kept
