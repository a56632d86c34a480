"""Residents' concerns (issue #17): report → accept → dispatch → handle → verify (fail = rework) → feedback
(unsatisfied reopens once) → closed, each step one history row and one audit event; the client's id makes a
replay one concern; the one concurrency rule (428/412); wrong state 409; a note where the step needs one;
routing by the one home rule; scope (404) and planners (403); deadlines and overdue without a background
process; 20 concurrent transitions of one concern through gunicorn → exactly one wins."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid

import psycopg2
import pytest
import requests
from django.conf import settings
from django.utils import timezone

from bench.reliability.load import clone, sign_in
from gridmap import policy
from gridmap.models import AuditEvent
from gridmap.models.concerns import Concern, ConcernEvent
from gridmap.services.grids.rehoming import homes_sql
from tests.browser_support import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _post(client, url, data, etag=None):
    headers = {"If-Match": etag} if etag else {}
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def _spot(user):
    grid = policy.grids_for(user).published().order_by("code").first()
    return grid, grid.boundary.point_on_surface


def _report(client, point, **extra):
    body = {"category": "sanitation", "description": "3 号楼楼道堆放杂物", "address": "团结路 3 号",
            "location": {"type": "Point", "coordinates": [point.x, point.y]}, **extra}  # fmt: skip
    return _post(client, "/api/v1/concerns", body)


def _step(client, concern: dict, action: str, **body):
    response = _post(client, f"/api/v1/concerns/{concern['id']}/transitions", {"action": action, **body},
                     concern["etag"])  # fmt: skip
    assert response.status_code == 200, response.content
    return response.json()


def test_the_whole_loop_with_rework_and_one_reopening(client, user_for):
    worker, manager = user_for("grid_worker"), user_for("street_admin")
    grid, point = _spot(worker)
    client.force_login(worker)
    first = _report(client, point, uid=str(uuid.uuid4()))
    assert first.status_code == 201
    c = first.json()
    assert c["state"] == "reported" and c["grid"] == grid.code and c["due_at"]
    assert [a["action"] for a in c["actions"]] == []  # a grid worker does not accept her own report
    client.force_login(manager)
    c = _step(client, c, "accept")
    c = _step(client, c, "dispatch", handler_level="grid")
    client.force_login(worker)
    c = _step(client, c, "start")
    c = _step(client, c, "handle", note="已清理")
    c = _step(client, c, "verify_fail", note="仍有杂物")
    assert (c["state"], c["rework"]) == ("dispatched", 1)
    c = _step(client, c, "handle", note="再次清理")
    c = _step(client, c, "verify_pass")
    c = _step(client, c, "feedback", feedback="unsatisfied")
    assert c["state"] == "reopened"  # the first unsatisfied rating reopens the case
    client.force_login(manager)
    c = _step(client, c, "dispatch", handler_level="community")
    client.force_login(worker)
    c = _step(client, c, "handle", note="第三次清理")
    c = _step(client, c, "verify_pass")
    c = _step(client, c, "feedback", feedback="unsatisfied")
    assert c["state"] == "closed" and c["due_at"] is None and c["actions"] == []  # reopened once only
    stored = Concern.objects.get(pk=c["id"])
    assert (stored.rework, stored.reopened, stored.feedback) == (1, 1, "unsatisfied")
    events = list(ConcernEvent.objects.filter(concern=stored).values_list("action", flat=True))
    assert events[0] == "report" and len(events) == 13
    assert AuditEvent.objects.filter(object_type="concern", object_id=str(stored.pk)).count() == 13
    detail = client.get(f"/api/v1/concerns/{c['id']}").json()
    assert [e["action"] for e in detail["events"]] == events


def test_a_replayed_report_is_one_concern_and_another_users_id_says_nothing(client, user_for):
    worker = user_for("grid_worker")
    _grid, point = _spot(worker)
    client.force_login(worker)
    uid = str(uuid.uuid4())
    first, again = _report(client, point, uid=uid), _report(client, point, uid=uid)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert Concern.objects.filter(uid=uid).count() == 1
    client.force_login(user_for("grid_leader"))
    taken = _report(client, _spot(user_for("grid_leader"))[1], uid=uid)
    assert taken.status_code == 409 and taken.json()["field"] == "uid" and "杂物" not in taken.content.decode()


def test_the_concern_goes_to_the_grid_the_home_rule_gives_its_point(client, user_for):
    manager = user_for("street_admin")
    client.force_login(manager)
    _grid, point = _spot(manager)
    c = _report(client, point).json()
    from django.db import connection

    points = "(SELECT 0 AS id, ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS location)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT grid_id FROM ({homes_sql(points)}) h", [point.x, point.y])
        assert Concern.objects.get(pk=c["id"]).grid_id == cursor.fetchone()[0]


def test_the_concurrency_rule_wrong_states_notes_and_rights(client, user_for):
    manager, worker = user_for("street_admin"), user_for("grid_worker")
    client.force_login(worker)
    c = _report(client, _spot(worker)[1]).json()
    url = f"/api/v1/concerns/{c['id']}/transitions"
    assert _post(client, url, {"action": "accept"}, c["etag"]).status_code == 403  # field staff do not accept
    client.force_login(manager)
    assert _post(client, url, {"action": "accept"}).status_code == 428
    assert _post(client, url, {"action": "start"}, c["etag"]).status_code == 409  # not dispatched yet
    refused = _post(client, url, {"action": "reject"}, c["etag"])
    assert refused.status_code == 400 and refused.json()["field"] == "note"
    accepted = _step(client, c, "accept")
    stale = _post(client, url, {"action": "park", "note": "等待预算"}, c["etag"])  # the ETag before the accept
    assert stale.status_code == 412 and stale.json()["current"]["state"] == "accepted"
    assert _post(client, url, {"action": "teleport"}, accepted["etag"]).status_code == 400


def test_scope_and_planners(client, user_for, small_street):
    worker = user_for("grid_worker")
    client.force_login(user_for("street_admin"))
    other = next(iter(small_street["grids"].values())).boundary.point_on_surface
    refused = _report(client, other)
    assert refused.status_code == 400 and refused.json()["field"] == "location"  # another street's ground
    mine = _report(client, _spot(user_for("street_admin"))[1]).json()
    outside_worker = policy.grids_for(worker).filter(pk=Concern.objects.get(pk=mine["id"]).grid_id).exists()
    client.force_login(worker)
    assert client.get(f"/api/v1/concerns/{mine['id']}").status_code == (200 if outside_worker else 404)
    client.force_login(user_for("planner"))
    assert client.get("/api/v1/concerns").status_code == 403


def test_overdue_comes_from_the_deadline_with_no_background_process(client, user_for):
    worker = user_for("grid_worker")
    client.force_login(worker)
    late = _report(client, _spot(worker)[1]).json()
    fresh = _report(client, _spot(worker)[1]).json()
    Concern.objects.filter(pk=late["id"]).update(due_at=timezone.now() - dt.timedelta(hours=1))
    listed = client.get("/api/v1/concerns?state=overdue").json()["concerns"]
    assert [c["id"] for c in listed] == [late["id"]] and listed[0]["overdue"]
    open_list = [c["id"] for c in client.get("/api/v1/concerns").json()["concerns"]]
    assert open_list.index(late["id"]) < open_list.index(fresh["id"])  # overdue first
    urgent = _report(client, _spot(worker)[1], urgency="urgent").json()
    stored = {c.pk: c for c in Concern.objects.filter(pk__in=[fresh["id"], urgent["id"]])}
    hours = lambda c: (c.due_at - c.stage_started_at).total_seconds() / 3600  # noqa: E731
    assert hours(stored[fresh["id"]]) == 24 and hours(stored[urgent["id"]]) == 12  # sanitation: accept in 24 h


def test_twenty_concurrent_transitions_of_one_concern_one_wins(app, user_for):
    """Committed through gunicorn (so each worker sees it), removed afterwards by an autocommit connection."""
    manager = sign_in(app.base, "jiedao", DEMO_PASSWORD)
    _grid, point = _spot(user_for("street_admin"))
    created = manager.post(f"{app.base}/api/v1/concerns", json={
        "category": "safety", "description": "路灯不亮", "location": {"type": "Point", "coordinates": [point.x, point.y]},
    }, timeout=30).json()  # fmt: skip
    sessions, statuses = [clone(manager) for _ in range(20)], [0] * 20
    barrier = threading.Barrier(20)

    def send(i: int) -> None:
        barrier.wait()
        try:
            statuses[i] = sessions[i].post(f"{app.base}/api/v1/concerns/{created['id']}/transitions",
                                           json={"action": "accept"}, headers={"If-Match": created["etag"]},
                                           timeout=60).status_code  # fmt: skip
        except requests.RequestException:
            statuses[i] = 0

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                            port=db["PORT"])  # fmt: skip
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version, state FROM gridmap_concern WHERE id = %s", [created["id"]])
            stored = cur.fetchone()
            cur.execute("SELECT count(*) FROM gridmap_concernevent WHERE concern_id = %s", [created["id"]])
            events = cur.fetchone()[0]
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM gridmap_concernevent WHERE concern_id = %s", [created["id"]])
            cur.execute("DELETE FROM gridmap_concern WHERE id = %s", [created["id"]])
        conn.close()
    assert sorted(statuses) == [200] + [412] * 19, statuses
    assert stored == (2, "accepted") and events == 2


def test_the_sweep_escalates_each_overdue_concern_once_and_leaves_the_rest(client, user_for):
    from django.core.management import call_command

    worker = user_for("grid_worker")
    client.force_login(worker)
    late, fresh = (_report(client, _spot(worker)[1]).json() for _ in range(2))
    Concern.objects.filter(pk=late["id"]).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    call_command("concern_sweep", stdout=open(os.devnull, "w"))
    again = Concern.objects.get(pk=late["id"])
    assert again.escalated and again.version == 2 and not Concern.objects.get(pk=fresh["id"]).escalated
    assert ConcernEvent.objects.filter(concern_id=late["id"], action="escalate").count() == 1
    call_command("concern_sweep", stdout=open(os.devnull, "w"))  # a second run flags nothing again
    assert ConcernEvent.objects.filter(concern_id=late["id"], action="escalate").count() == 1
    assert client.get(f"/api/v1/concerns/{late['id']}").json()["escalated"]


def _made(grid, **fields):
    from gridmap.models import ConcernCategory

    return Concern.objects.create(category=ConcernCategory.objects.get(code="sanitation"), description="测试",
                                  location=grid.boundary.point_on_surface, grid=grid, community=grid.community,
                                  **fields)  # fmt: skip


def test_kpis_follow_the_chinese_definitions_and_planners_get_counts_only(client, user_for):
    grid, _point = _spot(user_for("grid_worker"))
    handled = dict(state="closed", feedback="satisfied")
    rows = [
        _made(grid, **handled),  # closed on time, satisfied
        _made(grid, state="closed", feedback="unsatisfied", late_steps=1, rework=1),  # closed late, reworked
        _made(grid, state="dispatched", due_at=timezone.now() - dt.timedelta(hours=2)),  # open, overdue
        _made(grid, state="rejected"),  # not due
    ]
    for c in rows[:2]:
        ConcernEvent.objects.create(concern=c, actor="测试", action="handle", to_state="handled")
    client.force_login(user_for("street_admin"))
    mine = {r["code"]: r for r in client.get("/api/v1/concern-kpis?by=grid").json()["rows"]}[grid.code]
    assert (mine["due"], mine["closed"], mine["closed_on_time"], mine["open"], mine["overdue"]) == (3, 2, 1, 1, 1)
    assert mine["closure_rate"] == 66.7 and mine["on_time_rate"] == 33.3
    assert mine["rework_rate"] == 50.0 and mine["satisfaction_rate"] == 50.0
    client.force_login(user_for("planner"))
    seen = {r["code"]: r for r in client.get("/api/v1/concern-kpis?by=grid").json()["rows"]}[grid.code]
    assert seen["due"] == "<5" and seen["closure_rate"] is None  # a rate over fewer than 5 concerns is withheld
    assert client.get("/api/v1/concern-kpis?by=nation").json()["field"] == "by"


def test_open_concerns_of_the_same_category_within_250_m_are_offered_as_duplicates(client, user_for):
    worker = user_for("grid_worker")
    grid, point = _spot(worker)
    client.force_login(worker)
    first = _report(client, point).json()
    from django.contrib.gis.geos import Point

    near = Point(point.x + 0.001, point.y, srid=4326)  # ~90 m east at this latitude
    far = Point(point.x + 0.01, point.y, srid=4326)  # ~900 m
    offered = client.get("/api/v1/concerns/nearby", {"lon": near.x, "lat": near.y, "category": "sanitation"}).json()
    assert [c["id"] for c in offered["concerns"]] == [first["id"]] and 50 < offered["concerns"][0]["distance_m"] < 150
    assert (
        client.get("/api/v1/concerns/nearby", {"lon": far.x, "lat": far.y, "category": "sanitation"}).json()["concerns"]
        == []
    )
    other_kind = client.get("/api/v1/concerns/nearby", {"lon": near.x, "lat": near.y, "category": "safety"}).json()
    assert other_kind["concerns"] == []


def test_a_small_wish_is_claimed_by_a_member_and_fulfilled_with_hours_and_beneficiaries(client, user_for):
    worker = user_for("grid_worker")
    grid, point = _spot(worker)
    client.force_login(worker)
    wish = _report(client, point, category="wish", description="独居老人想要一台收音机").json()
    assert "claim" in [a["action"] for a in wish["actions"]]
    plain = _report(client, point).json()
    assert "claim" not in [a["action"] for a in plain["actions"]]
    refused = _post(client, f"/api/v1/concerns/{plain['id']}/transitions", {"action": "claim"}, plain["etag"])
    assert refused.status_code == 409 and refused.json()["code"] == "not_claimable"  # not offered, and refused
    member = policy.members_for(worker).order_by("pk").first()
    c = _step(client, wish, "claim", member=member.pk)
    assert c["state"] == "dispatched" and c["claimed_by"] == member.name
    missing = _post(
        client, f"/api/v1/concerns/{c['id']}/transitions", {"action": "handle", "note": "已送达"}, c["etag"]
    )
    assert missing.status_code == 400 and missing.json()["field"] == "service_hours"
    c = _step(client, c, "handle", note="已送达", service_hours=2.5, beneficiaries=1)
    c = _step(client, c, "verify_pass")
    c = _step(client, c, "feedback", feedback="satisfied")
    client.force_login(user_for("street_admin"))
    row = {r["code"]: r for r in client.get("/api/v1/concern-kpis").json()["rows"]}[grid.code]
    assert (row["claimed"], row["service_hours"], row["beneficiaries"]) == (1, 2.5, 1)


def test_the_demo_year_of_concerns(client, user_for):
    from django.db.models import Count

    from gridmap.services.concerns.demo import load_demo_concerns

    made = load_demo_concerns()
    assert 2_900 <= made <= 3_100 and load_demo_concerns() == 0  # once only
    states = dict(Concern.objects.values_list("state").annotate(n=Count("id")))
    assert states["closed"] > made / 2 and all(states.get(s, 0) > 0 for s in ("reported", "dispatched", "reopened"))
    assert Concern.objects.filter(rework__gt=0).exists() and Concern.objects.filter(escalated=True).exists()
    assert Concern.objects.exclude(claimed_by=None).filter(category__is_wish=True).exists()
    assert not Concern.objects.filter(grid=None).exists()  # each at a household of a grid
    assert not Concern.objects.exclude(state__in=("reported", "rejected")).filter(hours_accept=None).exists()
    every = Concern.objects.annotate(n=Count("events")).filter(n=0)
    assert not every.exists() and ConcernEvent.objects.filter(action="report").count() == made
    open_due = Concern.objects.filter(state__in=("reported", "dispatched")).exclude(due_at=None).count()
    assert open_due == Concern.objects.filter(state__in=("reported", "dispatched")).count()
    client.force_login(user_for("street_admin"))
    rows = client.get("/api/v1/concern-kpis").json()["rows"]
    assert sum(r["due"] for r in rows) == made - states.get("rejected", 0) - states.get("void", 0)


def test_the_list_carries_the_counts_of_the_tabs(client, user_for):
    worker = user_for("grid_worker")
    client.force_login(worker)
    late = _report(client, _spot(worker)[1]).json()
    _report(client, _spot(worker)[1])
    Concern.objects.filter(pk=late["id"]).update(due_at=timezone.now() - dt.timedelta(hours=1))
    counts = client.get("/api/v1/concerns").json()["counts"]
    assert (counts["open"], counts["overdue"], counts["new"]) == (2, 1, 2)
