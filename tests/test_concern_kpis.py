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
    rows = {r["id"]: r for r in concern_kpis(Concern.objects.all(), by="grid")[0]}
    with connection.cursor() as cursor:
        cursor.execute(FROM_HISTORY)
        history = {grid: (handled, hours) for grid, handled, hours in cursor.fetchall()}
    assert len(rows) > 10 and set(rows) == set(history)
    for grid, (handled, hours) in history.items():
        assert rows[grid]["handled"] == handled, grid
        assert rows[grid]["mean_hours_to_close"] == (float(hours) if hours is not None else None), grid
    assert json.dumps(rows)  # plain values


def _rows(client, **params):
    response = client.get("/api/v1/concern-kpis", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_time_per_stage_kept_by_the_transitions_is_what_the_history_says(user_for):
    """The hours each transition adds to the stage it leaves equal the backfill's reading of the same history."""
    from gridmap.services.concerns.stage_times import fill_stage_times

    admin = user_for("street_admin")
    point = policy.grids_for(admin).published().order_by("code").first().boundary.point_on_surface
    for actions in (["accept", "dispatch", "handle", "verify_fail", "handle", "verify_pass", "feedback"],
                    ["accept", "dispatch", "return", "dispatch", "handle"], ["reject"]):  # fmt: skip
        _walk(admin, point, actions)
    columns = ("id", "hours_accept", "hours_dispatch", "hours_handle", "hours_verify", "late_stages")
    live = {r[0]: r[1:] for r in Concern.objects.values_list(*columns)}
    assert all(v[0] is not None for v in live.values())  # every walk left "accept"
    assert sum(v[2] is not None for v in live.values()) == 2 and sum(v[3] is not None for v in live.values()) == 1
    fill_stage_times()
    for pk, again in ((r[0], r[1:]) for r in Concern.objects.values_list(*columns)):
        for kept, read in zip(live[pk][:4], again[:4], strict=True):
            assert (kept is None) == (read is None) and (kept is None or abs(kept - read) < 0.01), (pk, live[pk], again)
        assert live[pk][4] == again[4] == 0  # nothing late


def test_a_stage_left_after_its_deadline_is_late_in_that_stage_only(client, user_for):
    import datetime as dt

    from django.utils import timezone

    admin = user_for("street_admin")
    point = policy.grids_for(admin).published().order_by("code").first().boundary.point_on_surface
    concern, _ = workflow.report(admin, {"category": "sanitation", "description": "超期测试"}, point)
    now = timezone.now()
    Concern.objects.filter(pk=concern.pk).update(stage_started_at=now - dt.timedelta(hours=3),
                                                 due_at=now - dt.timedelta(hours=1))  # fmt: skip
    concern = workflow.transition(admin, concern.pk, "accept", {}, version=concern.version)
    concern = workflow.transition(admin, concern.pk, "dispatch", {}, version=concern.version)
    assert abs(concern.hours_accept - 3.0) < 0.01 and concern.hours_dispatch < 0.01
    assert concern.late_stages == 1  # accept's bit only
    client.force_login(admin)
    stages = _rows(client)["total"]["stages"]
    assert stages["accept"] == {"left": 1, "on_time": 0, "mean_hours": 3.0, "on_time_rate": 0.0}
    assert stages["dispatch"] == {"left": 1, "on_time": 1, "mean_hours": 0.0, "on_time_rate": 100.0}
    assert stages["handle"] == {"left": 0, "on_time": 0, "mean_hours": None, "on_time_rate": None}


def test_a_concern_passed_to_a_third_unit_is_escalated_to_the_street(user_for):
    admin = user_for("street_admin")
    point = policy.grids_for(admin).published().order_by("code").first().boundary.point_on_surface
    concern = _walk(admin, point, ["accept", "dispatch", "return", "dispatch", "return"])
    assert not concern.escalated  # two units so far
    concern = workflow.transition(admin, concern.pk, "dispatch", {"handler_level": "outside", "handler_name": "供电所"},
                                  version=concern.version)  # fmt: skip
    assert concern.escalated and concern.handler_name == "供电所"


def test_streets_communities_grids_and_the_total_add_up(client, user_for):
    load_demo_concerns()
    client.force_login(user_for("system_admin"))
    by = {level: _rows(client, by=level) for level in ("grid", "community", "street")}
    due = Concern.objects.exclude(state__in=("rejected", "void")).count()
    for level, data in by.items():
        assert data["total"]["due"] == due == sum(r["due"] for r in data["rows"]), level
        assert data["total"]["stages"] == by["grid"]["total"]["stages"], level
    [street] = by["street"]["rows"]  # the demo city has one street
    assert {k: v for k, v in street.items() if k not in ("id", "code", "name")} == {
        k: v for k, v in by["street"]["total"].items() if k not in ("id", "code", "name")}  # fmt: skip
    planner = client.get("/api/v1/concern-kpis", {"by": "street"})
    assert planner.status_code == 200


def test_the_period_is_whole_days_and_a_bad_one_names_its_field(client, user_for):
    import datetime as dt

    from django.utils import timezone

    admin = user_for("street_admin")
    point = policy.grids_for(admin).published().order_by("code").first().boundary.point_on_surface
    old, _ = workflow.report(admin, {"category": "sanitation", "description": "四十天前"}, point)
    Concern.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    workflow.report(admin, {"category": "sanitation", "description": "今天"}, point)
    client.force_login(admin)
    today = timezone.localdate()
    wide = _rows(client, **{"from": (today - dt.timedelta(days=59)).isoformat(), "to": today.isoformat()})
    narrow = _rows(client, **{"from": (today - dt.timedelta(days=29)).isoformat()})
    assert (wide["total"]["due"], narrow["total"]["due"], _rows(client, days=30)["total"]["due"]) == (2, 1, 1)
    assert narrow["from"] == (today - dt.timedelta(days=29)).isoformat() and narrow["to"] == today.isoformat()
    for params, field in (({"from": "2026-13-01"}, "from"), ({"to": "x"}, "to"), ({"days": "٣"}, "days"),
                          ({"from": today.isoformat(), "to": (today - dt.timedelta(days=1)).isoformat()}, "from")):  # fmt: skip
        response = client.get("/api/v1/concern-kpis", params)
        assert response.status_code == 400 and response.json()["field"] == field, params


def test_flagging_concerns_is_an_in_place_update(user_for):
    """The table keeps room on each page (migration 0031: fillfactor 90) so the sweep's flag, which no index holds,
    is written in place (HOT: no new entry in the table's indexes) for the few concerns that fall overdue at a time
    (4 % here, as at a million). Counted by PostgreSQL for this transaction; at fillfactor 100 it was 0 of 100."""
    from gridmap.models.concerns import ConcernCategory

    grid = policy.grids_for(user_for("street_admin")).published().order_by("code").first()
    category = ConcernCategory.objects.get(code="sanitation")
    Concern.objects.bulk_create(
        Concern(category=category, description="页内更新", location=grid.boundary.point_on_surface, grid=grid,
                community_id=grid.community_id)
        for _ in range(2_500)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'gridmap_concern'")
        assert "fillfactor=90" in cursor.fetchone()[0]
        counts = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'gridmap_concern'"
        cursor.execute(counts)
        before = cursor.fetchone()
        cursor.execute("UPDATE gridmap_concern SET escalated = TRUE, version = version + 1 WHERE id % 25 = 0")
        flagged = cursor.rowcount
        cursor.execute(counts)
        after = cursor.fetchone()
    updated, in_place = after[0] - before[0], after[1] - before[1]
    assert updated == flagged == 100 and in_place >= 0.9 * updated, (updated, in_place)


def test_claimed_wishes_add_up_and_planners_see_small_ones_withheld(client, user_for):
    """What party members and volunteers gave (认领: claims, service hours, beneficiaries) per area and in 合计;
    for a planner, fewer than 5 claims are "<5" and their hours withheld (one claim's hours name its giver)."""
    from gridmap.models import Member
    from gridmap.models.concerns import ConcernCategory

    admin = user_for("street_admin")
    grid = policy.grids_for(admin).published().order_by("code").first()
    member = Member.objects.filter(community=grid.community).order_by("pk").first()
    wish = ConcernCategory.objects.get(code="wish")
    for hours, people in ((2.5, 3), (1.0, 1)):
        Concern.objects.create(category=wish, description="微心愿", location=grid.boundary.point_on_surface,
                               grid=grid, community=grid.community, state="closed", claimed_by=member,
                               service_hours=hours, beneficiaries=people)  # fmt: skip
    client.force_login(admin)
    data = _rows(client, by="grid")
    mine = {r["id"]: r for r in data["rows"]}[grid.pk]
    assert (mine["claimed"], mine["service_hours"], mine["beneficiaries"]) == (2, 3.5, 4)
    assert (data["total"]["claimed"], data["total"]["service_hours"], data["total"]["beneficiaries"]) == (2, 3.5, 4)
    client.force_login(user_for("planner"))
    seen = {r["id"]: r for r in _rows(client, by="grid")["rows"]}[grid.pk]
    assert (seen["claimed"], seen["service_hours"], seen["beneficiaries"]) == ("<5", None, "<5")
