"""The concerns bell (issue #17 item 7): every page of those who work on residents' concerns shows how many of
their open concerns want someone — new, due soon, overdue, escalated — from one scoped counting statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gridmap import policy
from gridmap.models import ConcernCategory
from gridmap.models.concerns import Concern, ConcernState

pytestmark = pytest.mark.django_db


def _made(grid, **fields):
    return Concern.objects.create(category=ConcernCategory.objects.get(code="sanitation"), description="测试",
                                  location=grid.boundary.point_on_surface, grid=grid, community=grid.community,
                                  **fields)  # fmt: skip


def test_the_bell_counts_what_wants_someone_in_the_users_scope_only(client, user_for):
    worker = user_for("grid_worker")
    grids = policy.grids_for(worker).published().order_by("code")
    mine = grids.first()
    elsewhere = policy.grids_for(user_for("street_admin")).published().exclude(pk__in=grids.values("pk")).first()
    now = timezone.now()
    _made(mine)  # new, due later
    _made(mine, state=ConcernState.ACCEPTED, due_at=now + dt.timedelta(hours=3))  # due soon
    _made(mine, state=ConcernState.ACCEPTED, due_at=now - dt.timedelta(hours=1), escalated=True)  # overdue, escalated
    _made(mine, state=ConcernState.ACCEPTED, due_at=now + dt.timedelta(days=5))  # waits on nobody yet
    _made(mine, state=ConcernState.CLOSED, due_at=None)  # closed: never counted
    _made(elsewhere, due_at=now - dt.timedelta(hours=1))  # another grid's: not hers
    client.force_login(worker)
    response = client.get("/api/v1/concern-counts")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response.json() == {"open": 4, "new": 1, "due_soon": 1, "overdue": 1, "escalated": 1, "attention": 3}
    client.force_login(user_for("street_admin"))  # the manager sees the other grid's overdue concern too
    counts = client.get("/api/v1/concern-counts").json()
    assert counts["overdue"] == 2 and counts["new"] == 2


def test_the_bell_is_on_the_pages_of_concern_workers_and_not_of_planners(client, user_for):
    client.force_login(user_for("grid_leader"))
    page = client.get("/my-grid/").content.decode()
    assert 'class="bell"' in page and 'data-counts="/api/v1/concern-counts"' in page
    client.force_login(user_for("planner"))
    assert 'class="bell"' not in client.get("/planner/").content.decode()
    assert client.get("/api/v1/concern-counts").status_code == 403
    client.logout()
    assert client.get("/api/v1/concern-counts").status_code == 401
