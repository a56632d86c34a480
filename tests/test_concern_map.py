"""The concern map (issue #17): heat cells and areas of /api/v1/concern-heat and /api/v1/concern-areas add up to the
concerns that match, a category includes its sub-categories, the period and state filters hold, planners get
small counts suppressed, each role sees its scope only, and a bad parameter is a 400 naming it. Real PostGIS,
the demo street's year of concerns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from gridmap import policy
from gridmap.models.concerns import OPEN_STATES, Concern, ConcernCategory
from gridmap.queries.concern_map import area_counts, concern_cells
from gridmap.services.concerns.demo import load_demo_concerns

pytestmark = pytest.mark.django_db
WIDE = {"from": "2020-01-01"}  # every demo concern (the default period is the last 365 days)


@pytest.fixture
def concerns(db):
    load_demo_concerns()
    return Concern.objects.all()


def _get(client, path, **params):
    response = client.get(path, {**WIDE, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _heat(client, **params):
    return _get(client, "/api/v1/concern-heat", **params)


def _areas(client, **params):
    return _get(client, "/api/v1/concern-areas", **params)


def test_the_cells_add_up_to_the_matching_concerns_and_no_point_leaves(concerns, client_for, user_for):
    admin = client_for("street_admin")
    scope = policy.concern_aggregates_for(user_for("street_admin"))
    data = _heat(admin)
    assert data["total"] == sum(p[2] for p in data["points"]) == scope.count() > 1000
    assert data["suppressed_cells"] == 0 and data["cell_m"] == 250
    points = {(round(c.location.y, 6), round(c.location.x, 6)) for c in scope}
    assert not points & {(p[0], p[1]) for p in data["points"]}  # cell centres, never a concern's point
    assert len(data["points"]) < scope.count() / 5
    areas = _areas(admin)
    in_grids = scope.filter(grid__in=policy.grids_for(user_for("street_admin")).published()).count()
    assert sum(a["concerns"] for a in areas["areas"]) == in_grids
    assert {e["class"] for e in areas["legend"]} >= {a["class"] for a in areas["areas"]} - {None}
    communities = _areas(admin, level="community", measure="per_1000")
    assert sum(a["concerns"] for a in communities["areas"]) == scope.count()
    for a in communities["areas"]:
        assert a["per_1000"] == round(1000 * a["concerns"] / a["households"], 1) and a["value"] == a["per_1000"]


def test_a_category_includes_its_children(concerns, client_for):
    parent = ConcernCategory.objects.get(code="sanitation")
    child = ConcernCategory.objects.create(code="sanitation-litter", name="乱扔垃圾", parent=parent)
    grandchild = ConcernCategory.objects.create(code="sanitation-litter-bins", name="垃圾桶", parent=child)
    other = Concern.objects.exclude(category=parent).order_by("id")
    Concern.objects.filter(pk__in=other.values("pk")[:40]).update(category=child)
    Concern.objects.filter(pk__in=other.exclude(category=child).values("pk")[:7]).update(category=grandchild)
    admin = client_for("system_admin")
    everything = Concern.objects.filter(category__in=[parent, child, grandchild]).count()
    assert _heat(admin, category="sanitation")["total"] == everything
    assert _heat(admin, category="sanitation-litter")["total"] == 47
    assert _heat(admin, category="sanitation-litter-bins")["total"] == 7
    by_grid = _areas(admin, category="sanitation-litter")
    assert (
        sum(a["concerns"] for a in by_grid["areas"])
        == Concern.objects.filter(category__in=[child, grandchild], grid__isnull=False).count()
    )


def test_period_and_state_filters(concerns, client_for):
    admin = client_for("system_admin")
    day = dt.date(2024, 3, 5)
    picked = list(Concern.objects.order_by("id").values_list("pk", flat=True)[:25])
    zone = timezone.get_current_timezone()
    # 00:00 and 23:59 of that day in the site's time zone belong to it; the next midnight does not.
    Concern.objects.filter(pk__in=picked[:10]).update(created_at=dt.datetime(2024, 3, 5, 0, 0, tzinfo=zone))
    Concern.objects.filter(pk__in=picked[10:20]).update(created_at=dt.datetime(2024, 3, 5, 23, 59, tzinfo=zone))
    Concern.objects.filter(pk__in=picked[20:]).update(created_at=dt.datetime(2024, 3, 6, 0, 0, tzinfo=zone))
    assert _heat(admin, **{"from": day.isoformat(), "to": day.isoformat()})["total"] == 20
    assert _heat(admin, **{"from": "2024-03-06", "to": "2024-03-06"})["total"] == 5
    assert _heat(admin, **{"from": "2024-01-01", "to": "2024-03-04"})["total"] == 0
    now = timezone.now()
    assert _heat(admin, state="open")["total"] == Concern.objects.filter(state__in=OPEN_STATES).count() > 0
    overdue = Concern.objects.filter(state__in=OPEN_STATES, due_at__lt=now).count()
    assert _heat(admin, state="overdue")["total"] == overdue > 0
    assert _heat(admin, state="all")["total"] == Concern.objects.count()
    default = _heat(admin)  # no period given: the last 365 days, as the KPI table
    assert default["to"] == timezone.localdate().isoformat()
    assert default["total"] == _heat(admin, **{"from": default["from"], "to": default["to"]})["total"]


def test_planners_get_small_counts_suppressed(concerns, client_for, user_for):
    planner = client_for("planner")
    floor = settings.SMALL_COUNT_MIN
    data = _heat(planner, state="overdue")
    assert data["suppressed_below"] == floor and data["suppressed_cells"] > 0
    assert all(p[2] >= floor for p in data["points"])
    full = _heat(client_for("street_admin"), state="overdue")
    small = [p for p in full["points"] if p[2] < floor]
    assert data["suppressed_cells"] == len(small) and data["total"] == full["total"] - sum(p[2] for p in small)
    rare = ConcernCategory.objects.create(code="rare", name="少见类别")
    grid = policy.grids_for(user_for("planner")).published().order_by("code").first()
    Concern.objects.filter(pk__in=Concern.objects.filter(grid=grid).values("pk")[:3]).update(category=rare)
    planner = client_for("planner")  # one test client: log the planner in again
    areas = _areas(planner, category="rare", measure="per_1000")
    assert [a["id"] for a in areas["areas"] if a["concerns"] != 0] == [grid.pk]
    hidden = [a for a in areas["areas"] if a["concerns"] == f"<{floor}"]
    assert hidden and all(a["per_1000"] is None and a["class"] == "suppressed" for a in hidden)
    assert areas["legend"][-1]["class"] == "suppressed"
    assert all(isinstance(a["concerns"], int) and (a["concerns"] == 0 or a["concerns"] >= floor)
               for a in areas["areas"] if a not in hidden)  # fmt: skip


def test_each_role_sees_its_scope_only(concerns, client_for, user_for):
    worker = user_for("grid_worker")
    mine = policy.grids_for(worker)
    assert mine.count() >= 1
    client = client_for("grid_worker")
    data = _heat(client)
    assert data["total"] == Concern.objects.filter(grid__in=mine).count() > 0
    areas = _areas(client)
    assert {a["id"] for a in areas["areas"]} == set(mine.published().values_list("id", flat=True))
    assert client.get("/api/v1/concern-areas", {"level": "community"}).status_code == 403
    other = policy.grids_for(user_for("system_admin")).exclude(pk__in=mine).order_by("code").first()
    assert client.get("/api/v1/concern-heat", {"grid": other.pk}).status_code == 404
    own = mine.first()
    assert _heat(client, grid=own.pk)["total"] == Concern.objects.filter(grid=own).count()

    staff = user_for("community_staff")
    client = client_for("community_staff")
    assert _heat(client)["total"] == Concern.objects.filter(community__in=policy.communities_for(staff)).count()
    foreign = policy.communities_for(user_for("system_admin")).exclude(pk__in=policy.communities_for(staff)).first()
    assert client.get("/api/v1/concern-heat", {"community": foreign.pk}).status_code == 404
    assert client.get("/api/v1/concern-heat", {"grid": other.pk}).status_code in (200, 404)
    outside = policy.grids_for(user_for("system_admin")).exclude(community__in=policy.communities_for(staff)).first()
    assert client.get("/api/v1/concern-heat", {"grid": outside.pk}).status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/concern-heat", {"category": "nope"}, "category"),
        ("/api/v1/concern-heat", {"from": "2026-02-30"}, "from"),
        ("/api/v1/concern-heat", {"to": "yesterday"}, "to"),
        ("/api/v1/concern-heat", {"from": "２０２６-01-01"}, "from"),
        ("/api/v1/concern-heat", {"from": "2026-05-01", "to": "2026-04-01"}, "from"),
        ("/api/v1/concern-heat", {"from": "1990-01-01", "to": "2026-01-01"}, "from"),
        ("/api/v1/concern-heat", {"state": "late"}, "state"),
        ("/api/v1/concern-heat", {"grid": "x"}, "grid"),
        ("/api/v1/concern-heat", {"grid": "99999999999"}, "grid"),
        ("/api/v1/concern-heat", {"community": "-1"}, "community"),
        ("/api/v1/concern-areas", {"level": "street"}, "level"),
        ("/api/v1/concern-areas", {"measure": "share"}, "measure"),
        ("/api/v1/concern-areas", {"category": "nope"}, "category"),
        ("/api/v1/concern-areas", {"to": "2026-1-1"}, "to"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client_for, path, params, field):
    response = client_for("street_admin").get(path, params)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field


def test_no_concern_at_all_is_an_empty_map(client_for):
    data = _heat(client_for("street_admin"))
    assert data["points"] == [] and data["total"] == 0 and data["max"] == 0
    areas = _areas(client_for("street_admin"))
    assert areas["areas"] and all(a["concerns"] == 0 for a in areas["areas"])
    assert [e["label"] for e in areas["legend"]] == ["0 件"]


def test_an_empty_scope_counts_nothing(concerns, user_for):
    grids = policy.grids_for(user_for("street_admin")).published()
    assert concern_cells(Concern.objects.none()) == []
    rows = area_counts(Concern.objects.none(), grids, "grid")
    assert len(rows) == grids.count() and all(r["concerns"] == 0 for r in rows)


def test_cells_are_250_metres_on_the_ground_and_hold_the_points_they_count(concerns):
    """Neighbouring cell centres lie 250 m apart (geodesic, within 1%) both ways, and every concern lies in the
    cell whose centre counted it: within half a cell's side of that centre in each direction."""
    from django.db import connection

    cells = concern_cells(Concern.objects.all())
    by_centre = {(round(c["lat"], 9), round(c["lon"], 9)): c for c in cells}
    lats, lons = sorted({c["lat"] for c in cells}), sorted({c["lon"] for c in cells})
    dy, dx = min(b - a for a, b in zip(lats, lats[1:])), min(b - a for a, b in zip(lons, lons[1:]))
    lat, lon = cells[0]["lat"], cells[0]["lon"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_MakePoint(%s, %s)::geography, ST_MakePoint(%s, %s)::geography),"
            "       ST_Distance(ST_MakePoint(%s, %s)::geography, ST_MakePoint(%s, %s)::geography)",
            [lon, lat, lon + dx, lat, lon, lat, lon, lat + dy],
        )
        east, north = cursor.fetchone()
    assert abs(east - 250) < 2.5 and abs(north - 250) < 2.5, (east, north)
    counted = {}
    for point in Concern.objects.values_list("location", flat=True):
        centre = min(cells, key=lambda c: (abs(c["lat"] - point.y) / dy) ** 2 + (abs(c["lon"] - point.x) / dx) ** 2)
        assert abs(centre["lat"] - point.y) <= dy / 2 + 1e-9 and abs(centre["lon"] - point.x) <= dx / 2 + 1e-9
        key = (round(centre["lat"], 9), round(centre["lon"], 9))
        counted[key] = counted.get(key, 0) + 1
    assert counted == {k: c["count"] for k, c in by_centre.items()}
