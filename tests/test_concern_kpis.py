"""The concern KPIs read "handled at least once" and the closing time from the concern row (a look-up in the
history per concern was most of the city's dashboard at a million concerns). These tests check that the row says
what the history says: on the demo year, and on cases walked through the real transitions, a voided one too."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from gridmap import policy
from gridmap.models.concerns import Concern
from gridmap.queries.concern_kpis import concern_kpis
from gridmap.services.concerns import workflow
from gridmap.services.concerns.demo import load_demo_concerns

pytestmark = pytest.mark.django_db

# The definitions straight from the history: a "handle" step, and the time of the last step of a closed case.
FROM_HISTORY = """
SELECT k.grid_id,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM gridmap_concernevent e WHERE e.concern_id = k.id AND e.action = 'handle')),
       round((avg(extract(epoch FROM (SELECT max(e.at) FROM gridmap_concernevent e WHERE e.concern_id = k.id)
                                     - k.created_at) / 3600) FILTER (WHERE k.state = 'closed'))::numeric, 1)
  FROM gridmap_concern k WHERE k.created_at >= now() - interval '365 days' GROUP BY 1
"""


def _walk(user, point, actions):
    concern, _ = workflow.report(user, {"category": "sanitation", "description": "核对测试"}, point)
    notes = {"handle", "verify_fail", "void", "reject", "extend", "return", "park"}
    for action in actions:
        body = {"note": "说明"} if action in notes else {}
        if action == "feedback":
            body["feedback"] = "unsatisfied"
        concern = workflow.transition(user, concern.pk, action, body, version=concern.version)
    return concern


def test_the_row_says_what_the_history_says(user_for):
    load_demo_concerns()
    admin = user_for("street_admin")
    point = policy.grids_for(admin).published().order_by("code").first().boundary.point_on_surface
    walks = [
        ["accept", "dispatch", "handle", "void"],  # voided after handling: the one case read from history
        ["accept", "dispatch", "handle", "verify_fail"],  # back in dispatch, reworked
        ["accept", "dispatch", "handle", "verify_pass", "feedback"],  # unsatisfied: reopened
        ["accept", "dispatch", "void"],
    ]  # voided before handling
    for actions in walks:
        _walk(admin, point, actions)
    rows = {r["id"]: r for r in concern_kpis(Concern.objects.all(), by="grid")}
    with connection.cursor() as cursor:
        cursor.execute(FROM_HISTORY)
        history = {grid: (handled, hours) for grid, handled, hours in cursor.fetchall()}
    assert len(rows) > 10 and set(rows) == set(history)
    for grid, (handled, hours) in history.items():
        assert rows[grid]["handled"] == handled, grid
        assert rows[grid]["mean_hours_to_close"] == (float(hours) if hours is not None else None), grid
    assert json.dumps(rows)  # plain values
