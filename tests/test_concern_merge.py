"""Merging duplicate concerns (issue #17: "staff merge duplicates both ways"), on PostGIS: from either concern's
detail, "merge this into that" and "merge that into this" through the one transition endpoint (action "merge",
``into``); the merged one ends void linked to the one kept, both get a history row, one audit event, the webhook
hears it like a void; the rules (manager level, scope, the merged one open, the kept one not void, rejected or
merged, never itself) each with its status and field; a stale If-Match is 412; two staff merging a pair in
opposite directions at once: exactly one wins, the other a clear 4xx, never a deadlock or a 500. The timeline's
actions and the public's name in both languages."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid

import psycopg2
import pytest
import requests
from django.conf import settings
from django.contrib.gis.geos import Point

from bench.reliability.load import clone, sign_in
from gridmap import policy
from gridmap.models import AuditEvent, ConcernDelivery
from gridmap.models.concerns import Concern, ConcernEvent
from gridmap.services.concerns import merge, states, workflow
from tests.browser_support import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _post(client, url, data, etag=None):
    headers = {"If-Match": etag} if etag else {}
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def _spot(user, east_m: float = 0.0) -> Point:
    """A point inside the user's first published grid, ``east_m`` metres east of it (roughly: 1e-5° ≈ 0.9 m here)."""
    point = policy.grids_for(user).published().order_by("code").first().boundary.point_on_surface
    return Point(point.x + east_m / 90_000, point.y, srid=4326)


def _report(client, user, text="3 号楼前垃圾堆放", category="sanitation", east_m=0.0) -> dict:
    point = _spot(user, east_m)
    response = _post(client, "/api/v1/concerns", {"category": category, "description": text,
                     "location": {"type": "Point", "coordinates": [point.x, point.y]}})  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def _merge(client, concern: dict, into: int, etag=None, **extra):
    return _post(client, f"/api/v1/concerns/{concern['id']}/transitions", {"action": "merge", "into": into, **extra},
                 etag or concern["etag"])  # fmt: skip


def _pair(client, user_for, reporter="grid_worker"):
    """Two reports of the same problem, 40 m apart, by a grid worker: the duplicates to merge."""
    worker = user_for(reporter)
    client.force_login(worker)
    first = _report(client, worker)
    second = _report(client, worker, "3 号楼门口一堆垃圾没人清", east_m=40)
    return first, second


def test_merge_this_into_that_from_the_merged_ones_detail(client, user_for):
    first, second = _pair(client, user_for)
    manager = user_for("street_admin")
    client.force_login(manager)
    offered = client.get(f"/api/v1/concerns/{second['id']}/duplicates").json()
    assert [c["id"] for c in offered["concerns"]] == [first["id"]] and 20 < offered["concerns"][0]["distance_m"] < 60
    detail = client.get(f"/api/v1/concerns/{second['id']}").json()
    assert (detail["may_merge"], detail["may_keep"], detail["merged_into"], detail["merged"]) == (True, True, None, [])
    assert "merge" not in [a["action"] for a in detail["actions"]]  # never a button of the board's list
    answer = _merge(client, detail, first["id"], note="同一处垃圾")
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "void" and answer.json()["merged_into"]["id"] == first["id"]
    merged, kept = Concern.objects.get(pk=second["id"]), Concern.objects.get(pk=first["id"])
    assert (merged.state, merged.merged_into_id, merged.due_at, merged.version) == ("void", kept.pk, None, 2)
    assert (kept.state, kept.merged_into_id, kept.version) == ("reported", None, 2)  # its history grew
    assert merged.hours_accept is not None and kept.hours_accept is None  # the merged one left its stage, as a void
    (gone,) = ConcernEvent.objects.filter(concern=merged, action="merge")
    assert (gone.from_state, gone.to_state, gone.user, gone.note) == (
        "reported",
        "void",
        manager,
        f"#{kept.pk} 同一处垃圾",
    )
    (came,) = ConcernEvent.objects.filter(concern=kept, action=states.MERGED_IN)
    assert (came.from_state, came.to_state, came.note) == ("reported", "reported", f"#{merged.pk} 同一处垃圾")
    audits = AuditEvent.objects.filter(object_type="concern", object_id__in=[str(merged.pk), str(kept.pk)])
    assert list(audits.exclude(reason="report").values_list("object_id", "reason", "username")) == [
        (str(merged.pk), f"merge into {kept.pk}", "jiedao")]  # fmt: skip
    shown_kept = client.get(f"/api/v1/concerns/{kept.pk}").json()
    assert [m["id"] for m in shown_kept["merged"]] == [merged.pk] and shown_kept["merged"][0]["category"]
    shown_merged = client.get(f"/api/v1/concerns/{merged.pk}").json()
    assert shown_merged["merged_into"]["id"] == kept.pk and shown_merged["merged_into"]["state_label"] == "已上报"
    assert (shown_merged["may_merge"], shown_merged["may_keep"]) == (False, False)  # void: done with
    assert client.get(f"/api/v1/concerns/{kept.pk}/duplicates").json()["concerns"] == []  # the void one is no candidate


def test_merge_that_into_this_from_the_kept_ones_detail_by_community_staff(client, user_for):
    first, second = _pair(client, user_for)
    client.force_login(user_for("community_staff"))
    kept = client.get(f"/api/v1/concerns/{first['id']}").json()
    candidate = client.get(f"/api/v1/concerns/{first['id']}/duplicates").json()["concerns"][0]
    assert candidate["id"] == second["id"]
    answer = _merge(client, candidate, kept["id"])  # the candidate is the one merged: its own ETag
    assert answer.status_code == 200, answer.content
    assert answer.json()["merged_into"]["id"] == first["id"]
    assert (
        Concern.objects.get(pk=second["id"]).state == "void" and Concern.objects.get(pk=first["id"]).state == "reported"
    )
    assert [m["id"] for m in client.get(f"/api/v1/concerns/{first['id']}").json()["merged"]] == [second["id"]]
    assert ConcernEvent.objects.filter(concern_id=second["id"], action="merge").get().note == f"#{first['id']}"


def test_a_closed_concern_keeps_a_late_duplicate_and_a_concern_of_another_category_is_merged_by_number(
    client, user_for
):
    first, second = _pair(client, user_for)
    other_kind = _report(client, user_for("grid_worker"), "路灯不亮", category="safety")
    Concern.objects.filter(pk=first["id"]).update(state="closed", due_at=None)
    client.force_login(user_for("street_admin"))
    closed = client.get(f"/api/v1/concerns/{first['id']}").json()
    assert (closed["may_merge"], closed["may_keep"]) == (False, True)  # kept only
    offered = client.get(f"/api/v1/concerns/{first['id']}/duplicates").json()["concerns"]
    assert [c["id"] for c in offered] == [second["id"]]  # the same category only
    assert _merge(client, second, first["id"]).status_code == 200
    assert _merge(client, other_kind, first["id"]).status_code == 200  # a typed number: no distance or category rule
    assert sorted(Concern.objects.filter(merged_into_id=first["id"]).values_list("pk", flat=True)) == sorted(
        [second["id"], other_kind["id"]])  # fmt: skip


def test_grid_staff_and_planners_may_not_merge(client, user_for):
    first, second = _pair(client, user_for)
    for role in ("grid_worker", "grid_leader"):
        client.force_login(user_for(role))
        refused = _merge(client, second, first["id"])
        assert (refused.status_code, refused.json()["field"]) == (403, "action"), role
        assert client.get(f"/api/v1/concerns/{first['id']}/duplicates").status_code == 403
        shown = client.get(f"/api/v1/concerns/{first['id']}").json()
        assert (shown["may_merge"], shown["may_keep"]) == (False, False)
    client.force_login(user_for("planner"))
    assert _merge(client, second, first["id"]).status_code == 403
    with pytest.raises(Exception) as refused:
        merge.merge(user_for("grid_worker"), second["id"], first["id"], {})
    assert refused.value.status == 403
    assert Concern.objects.filter(state="void").count() == 0


def test_both_concerns_must_be_in_the_users_scope(client, user_for, small_street):
    first, second = _pair(client, user_for)
    client.force_login(user_for("street_admin"))
    elsewhere = next(iter(small_street["grids"].values()))
    foreign = workflow.report(user_for("system_admin"), {"category": "sanitation", "description": "别处的垃圾"},
                              elsewhere.boundary.point_on_surface)[0]  # fmt: skip
    refused = _merge(client, second, foreign.pk)
    assert (refused.status_code, refused.json()["field"]) == (404, "into")
    refused = _post(
        client, f"/api/v1/concerns/{foreign.pk}/transitions", {"action": "merge", "into": first["id"]}, '"1"'
    )
    assert (refused.status_code, refused.json()["field"]) == (404, "concern")
    assert client.get(f"/api/v1/concerns/{foreign.pk}/duplicates").status_code == 404
    client.force_login(user_for("community_staff"))  # the pair's community: the other street is out of reach too
    assert _merge(client, second, foreign.pk).json()["field"] == "into"
    assert Concern.objects.get(pk=foreign.pk).state == "reported" and Concern.objects.filter(state="void").count() == 0


def test_the_merge_rules_each_with_its_field(client, user_for):
    first, second = _pair(client, user_for)
    third = _report(client, user_for("grid_worker"), "又一处垃圾", east_m=80)
    client.force_login(user_for("street_admin"))
    for body, field in (({}, "into"), ({"into": "12"}, "into"), ({"into": True}, "into")):
        refused = _post(client, f"/api/v1/concerns/{second['id']}/transitions", {"action": "merge", **body},
                        second["etag"])  # fmt: skip
        assert (refused.status_code, refused.json()["field"]) == (400, field), body
    refused = _merge(client, second, second["id"])
    assert (refused.status_code, refused.json()["field"]) == (400, "into")  # never into itself
    Concern.objects.filter(pk=first["id"]).update(state="rejected")
    refused = _merge(client, second, first["id"])
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (400, "not_keepable", "into")
    Concern.objects.filter(pk=first["id"]).update(state="void")
    assert _merge(client, second, first["id"]).json()["field"] == "into"
    Concern.objects.filter(pk=first["id"]).update(state="reported")
    assert _merge(client, second, first["id"]).status_code == 200  # second → first
    refused = _merge(client, third, second["id"])  # into one merged itself: it names where to go instead
    assert (refused.status_code, refused.json()["field"]) == (400, "into") and f"#{first['id']}" in refused.json()[
        "detail"
    ]
    Concern.objects.filter(pk=third["id"]).update(state="closed")
    refused = _merge(client, third, first["id"])  # the merged one must be open
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (409, "wrong_state", "action")
    assert Concern.objects.get(pk=third["id"]).merged_into_id is None


def test_the_concurrency_rule_holds_the_merged_one_to_its_version(client, user_for):
    first, second = _pair(client, user_for)
    client.force_login(user_for("street_admin"))
    missing = _post(client, f"/api/v1/concerns/{second['id']}/transitions", {"action": "merge", "into": first["id"]})
    assert missing.status_code == 428
    accepted = _post(client, f"/api/v1/concerns/{second['id']}/transitions", {"action": "accept"}, second["etag"])
    assert accepted.status_code == 200
    stale = _merge(client, second, first["id"])  # the ETag read before the accept
    assert stale.status_code == 412 and stale.json()["current"]["state"] == "accepted"
    assert stale.json()["etag"] == accepted.json()["etag"]
    assert Concern.objects.get(pk=second["id"]).state == "accepted" and not ConcernEvent.objects.filter(action="merge")
    assert _merge(client, second, first["id"], etag=accepted.json()["etag"]).status_code == 200
    with pytest.raises(Exception) as refused:  # a direct service call at an old version
        merge.merge(user_for("street_admin"), first["id"], second["id"], {}, version=1)
    assert refused.value.status == 412


def test_the_webhook_hears_a_merge_like_a_void_naming_the_one_kept(client, user_for, settings):
    settings.CONCERN_WEBHOOK_URL = "http://127.0.0.1:9/hooks/12345"
    settings.CONCERN_WEBHOOK_SECRET = secrets.token_hex(32)
    first, second = _pair(client, user_for)
    client.force_login(user_for("street_admin"))
    assert _merge(client, second, first["id"]).status_code == 200
    sent = ConcernDelivery.objects.filter(event__action__in=("merge", states.MERGED_IN))
    (delivery,) = sent  # the merged one's; the kept one's row stays inside (its state did not change)
    assert delivery.concern_id == second["id"]
    payload = delivery.payload
    assert (payload["event"], payload["action"], payload["state_from"], payload["state_to"]) == (
        "void", "merge", "reported", "void")  # fmt: skip
    assert payload["merged_into"] == first["id"]
    reported = ConcernDelivery.objects.filter(concern_id=first["id"]).get()
    assert reported.payload["merged_into"] is None


def test_kpis_do_not_count_a_merged_duplicate_as_due(client, user_for):
    first, second = _pair(client, user_for)
    client.force_login(user_for("street_admin"))

    def due() -> int:
        return sum(r["due"] for r in client.get("/api/v1/concern-kpis?by=grid").json()["rows"])

    before = due()
    assert _merge(client, second, first["id"]).status_code == 200
    assert due() == before - 1


def test_the_merge_reads_in_the_users_language_in_both_timelines(client, user_for):
    first, second = _pair(client, user_for)
    manager = user_for("street_admin")
    client.force_login(manager)
    assert _merge(client, second, first["id"]).status_code == 200

    def last(pk: int) -> tuple[str, str, str]:
        event = client.get(f"/api/v1/concerns/{pk}").json()["events"][-1]
        return event["action"], event["action_label"], event["note"]

    assert last(first["id"]) == ("merged_in", "合并重复诉求", f"#{second['id']}")
    assert last(second["id"]) == ("merge", "合并到", f"#{first['id']}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert last(first["id"])[1] == "Merge in duplicate" and last(second["id"])[1] == "Merge into"
    shown = client.get(f"/api/v1/concerns/{second['id']}").json()
    assert shown["merged_into"]["state_label"] == "Reported" and shown["state_label"] == "Void"


# -- two staff merge a pair in opposite directions at once (committed through gunicorn) ------------------------


def _database():
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                            port=db["PORT"])  # fmt: skip
    return conn


def test_two_staff_merging_a_pair_in_opposite_directions_at_once_one_wins(app, user_for):
    """The community staff merges B into A while the street admin merges A into B (A the lower id). The test holds
    B's row, so both requests meet at the locks, then lets them go together: each locks both rows in id order, so
    neither deadlocks; exactly one merge happens and the other request gets a clear 4xx, never a 500. (Locking the
    merged one first would deadlock here every time: B into A would hold B's lock while A into B holds A's.)"""
    staff = {name: sign_in(app.base, name, DEMO_PASSWORD) for name in ("jiedao", "shequ")}
    spot = _spot(user_for("community_staff"))
    made = []
    for text in ("并发合并测试：井盖松动", "并发合并测试：井盖松了"):
        created = staff["jiedao"].post(f"{app.base}/api/v1/concerns", json={"uid": str(uuid.uuid4()),
            "category": "facilities", "description": text, "location": {"type": "Point", "coordinates": [spot.x, spot.y]}},
            timeout=30)  # fmt: skip
        assert created.status_code == 201, created.content
        made.append(created.json())
    low, high = sorted(made, key=lambda c: c["id"])
    plans = [("shequ", high, low), ("jiedao", low, high)]  # (who, the one merged, the one kept), in this order
    holder, statuses, answers = _database(), [0, 0], [None, None]
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM gridmap_concern WHERE id = %s FOR UPDATE", [high["id"]])

        def send(i: int) -> None:
            who, merged, kept = plans[i]
            try:
                answer = clone(staff[who]).post(f"{app.base}/api/v1/concerns/{merged['id']}/transitions",
                                                json={"action": "merge", "into": kept["id"]},
                                                headers={"If-Match": merged["etag"]}, timeout=60)  # fmt: skip
                statuses[i], answers[i] = answer.status_code, answer.json()
            except requests.RequestException:
                statuses[i] = 0

        def waiting(cur, n: int) -> int:
            """Until ``n`` requests wait on a concern row's lock (10 s at most); how many do."""
            for _ in range(200):
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND query LIKE 'SELECT \"gridmap_concern\".%%'")  # fmt: skip
                queued = cur.fetchone()[0]
                if queued >= n:
                    break
                time.sleep(0.05)
            return queued

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        watcher = _database()
        watcher.autocommit = True
        with watcher.cursor() as cur:
            for i, thread in enumerate(threads):  # B into A first, then A into B: each waits at a lock
                thread.start()
                queued = waiting(cur, i + 1)
        watcher.close()
        holder.commit()  # let them go together
        for t in threads:
            t.join()
        conn = _database()
        conn.autocommit = True
        with conn.cursor() as cur:
            ids = [low["id"], high["id"]]
            cur.execute("SELECT id, state, merged_into_id FROM gridmap_concern WHERE id = ANY(%s) ORDER BY id", [ids])
            stored = cur.fetchall()
            cur.execute("SELECT action, count(*) FROM gridmap_concernevent WHERE concern_id = ANY(%s) "
                        "GROUP BY action ORDER BY action", [ids])  # fmt: skip
            events = dict(cur.fetchall())
        conn.close()
    finally:
        holder.close()
        cleanup = _database()
        cleanup.autocommit = True
        with cleanup.cursor() as cur:
            ids = [c["id"] for c in made]
            cur.execute("DELETE FROM gridmap_concernevent WHERE concern_id = ANY(%s)", [ids])
            cur.execute("DELETE FROM gridmap_concern WHERE id = ANY(%s)", [ids])  # the audit trail is append-only
        cleanup.close()
    assert queued == 2  # they did meet at the lock
    assert sorted(statuses) == [200, 412], (statuses, answers)
    loser = answers[statuses.index(412)]
    assert loser["code"] == "precondition_failed" and loser["field"] == "If-Match"
    states_ = {state for _id, state, _into in stored}
    assert sorted(state for _id, state, _into in stored) == ["reported", "void"] and states_ != {"void"}
    (merged,) = [row for row in stored if row[1] == "void"]
    assert merged[2] in (low["id"], high["id"]) and merged[2] != merged[0]
    assert events == {"merge": 1, "merged_in": 1, "report": 2}
