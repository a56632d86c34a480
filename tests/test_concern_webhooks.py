"""The concern webhook for a 12345 platform (issue #17 item 7): an outbox row per announced event in the event's
own transaction (none after a rollback, none while off, every writer of history announces), a payload without
personal data, signed; a real HTTP receiver in a thread: 500 then 200 is retried on the schedule and delivered
once, after the last attempt the row is failed and shown on the page, where a retry is audited; two senders at
once send each row once; the page and the retry are scoped (another street's delivery is 404)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from gridmap import policy
from gridmap.models import AuditEvent, ConcernDelivery, Household
from gridmap.models.concerns import Concern, ConcernCategory, ConcernEvent
from gridmap.services.concerns import outbox, states, webhook, workflow

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


class Receiver:
    """A local HTTP server standing in for the 12345 platform: answers the scripted codes in turn (then 200)."""

    def __init__(self, delay: float = 0.0):
        self.requests: list[dict] = []
        self.codes: list[int] = []
        self.always: int | None = None
        self.headers: dict[str, str] = {}
        self.delay, self.lock = delay, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                    code = receiver.always or (receiver.codes.pop(0) if receiver.codes else 200)
                self.send_response(code)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "10")
                self.end_headers()
                self.wfile.write(b"oops\x00boom" if code >= 300 else b"ok........")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/12345"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hook(settings, receiver):
    settings.CONCERN_WEBHOOK_URL = receiver.url
    settings.CONCERN_WEBHOOK_SECRET = secrets.token_hex(32)
    settings.CONCERN_WEBHOOK_TIMEOUT = 3
    return receiver


def _post(client, url, data, etag=None):
    headers = {"If-Match": etag} if etag else {}
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def _spot(user):
    return policy.grids_for(user).published().order_by("code").first().boundary.point_on_surface


def _report(client, user, **extra):
    point = _spot(user)
    body = {"category": "sanitation", "description": "张大爷家门口堆放杂物", "address": "团结路 3 号",
            "location": {"type": "Point", "coordinates": [point.x, point.y]}, **extra}  # fmt: skip
    response = _post(client, "/api/v1/concerns", body)
    assert response.status_code == 201, response.content
    return response.json()


def _announced_events(concern_ids) -> list[int]:
    return list(ConcernEvent.objects.filter(concern_id__in=concern_ids, action__in=states.ANNOUNCED)
                .order_by("id").values_list("id", flat=True))  # fmt: skip


def _delivered_events(concern_ids) -> list[int]:
    return list(ConcernDelivery.objects.filter(concern_id__in=concern_ids).order_by("event_id")
                .values_list("event_id", flat=True))  # fmt: skip


def _make_due(**filters):
    """The clock moved past the rows' next attempt: their time moves back instead (the test's transaction keeps
    the database's now() at its start, so back by a day, before any now() of the test)."""
    ConcernDelivery.objects.filter(**filters).update(next_attempt_at=timezone.now() - dt.timedelta(days=1))


# -- the outbox: one row per announced event, in the event's transaction --------------------------------------


def _by_api_report(client, user_for):
    client.force_login(user_for("grid_worker"))
    return [_report(client, user_for("grid_worker"))["id"]]


def _by_open311(client, user_for):
    worker = user_for("grid_worker")
    spot = _spot(worker)
    key = Token.objects.get_or_create(user=worker)[0].key
    posted = client.post("/open311/v2/requests.json", {"api_key": key, "service_code": "sanitation", "lat": spot.y,
                         "long": spot.x, "description": "垃圾桶满溢"})  # fmt: skip
    assert posted.status_code == 201, posted.content
    return [int(posted.json()[0]["service_request_id"])]


def _by_transitions(client, user_for):
    """The pages, the REST endpoint and the board's bulk steps all take this one endpoint, step by step."""
    made = _by_api_report(client, user_for)[0]
    client.force_login(user_for("street_admin"))
    etag = f'"{Concern.objects.get(pk=made).version}"'
    for action, extra in (("accept", {}), ("dispatch", {"handler_level": "grid"})):
        response = _post(client, f"/api/v1/concerns/{made}/transitions", {"action": action, **extra}, etag)
        assert response.status_code == 200, response.content
        etag = response.json()["etag"]
    client.force_login(user_for("grid_worker"))
    for action, extra in (("start", {}), ("handle", {"note": "已清理"}), ("verify_pass", {}),
                          ("feedback", {"feedback": "satisfied"})):  # fmt: skip
        response = _post(client, f"/api/v1/concerns/{made}/transitions", {"action": action, **extra}, etag)
        assert response.status_code == 200, response.content
        etag = response.json()["etag"]
    return [made]


def _by_sweep(client, user_for):
    made = _by_api_report(client, user_for)
    Concern.objects.filter(pk__in=made).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    call_command("concern_sweep", stdout=open(os.devnull, "w"))
    assert ConcernEvent.objects.filter(concern_id__in=made, action="escalate").count() == 1
    return made


def _by_service(client, user_for):
    """A direct service call (the admin, a shell, a future bulk endpoint): the same services, the same outbox."""
    worker, manager = user_for("grid_worker"), user_for("street_admin")
    concern, _created = workflow.report(worker, {"category": "safety", "description": "路灯不亮"}, _spot(worker))
    workflow.transition(manager, concern.pk, "reject", {"note": "重复上报"})
    return [concern.pk]


def _by_merge(client, user_for):
    """A duplicate merged into another (合并重复): the merged one's void is heard, the kept one's row stays inside."""
    worker = user_for("grid_worker")
    kept, merged = (workflow.report(worker, {"category": "safety", "description": "路灯不亮"}, _spot(worker))[0]
                    for _ in range(2))  # fmt: skip
    client.force_login(user_for("street_admin"))
    response = _post(client, f"/api/v1/concerns/{merged.pk}/transitions", {"action": "merge", "into": kept.pk},
                     f'"{merged.version}"')  # fmt: skip
    assert response.status_code == 200, response.content
    return [kept.pk, merged.pk]


PATHS = {"api-report": _by_api_report, "open311-post": _by_open311, "transitions": _by_transitions,
         "sweep": _by_sweep, "service": _by_service, "merge": _by_merge}  # fmt: skip


@pytest.mark.parametrize("path", list(PATHS))
def test_every_way_a_concern_changes_writes_one_delivery_per_announced_event(path, client, user_for, hook):
    made = PATHS[path](client, user_for)
    announced = _announced_events(made)
    assert announced and _delivered_events(made) == announced
    internal = ConcernEvent.objects.filter(concern_id__in=made).exclude(action__in=states.ANNOUNCED)
    assert not ConcernDelivery.objects.filter(event__in=internal).exists()  # start stays inside
    if path == "transitions":
        events = [d.payload["event"] for d in ConcernDelivery.objects.filter(concern_id__in=made).order_by("id")]
        assert events == ["reported", "accepted", "dispatched", "handled", "verified", "closed"]
    if path == "merge":
        (merge,) = ConcernDelivery.objects.filter(event__action="merge")
        assert (merge.payload["event"], merge.payload["merged_into"]) == ("void", made[0])


def test_every_writer_of_concern_history_announces_it():
    """The class rule behind the cases above: a module that writes ConcernEvent rows calls outbox.announce in the
    same module (the demo loader's past year is the one exception, documented in outbox.py)."""
    writes = re.compile(r"ConcernEvent\.objects\.(create|bulk_create)|INSERT INTO gridmap_concernevent")
    writers = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
               for p in (ROOT / "gridmap").rglob("*.py") if "migrations" not in p.parts}  # fmt: skip
    writers = {path: text for path, text in writers.items() if writes.search(text)}
    assert {"gridmap/services/concerns/workflow.py", "gridmap/services/concerns/sweep.py",
            "gridmap/services/concerns/merge.py"} <= set(writers)  # fmt: skip
    silent = sorted(path for path, text in writers.items() if "outbox.announce(" not in text)
    assert silent == ["gridmap/services/concerns/demo.py"]


def test_a_rolled_back_transition_leaves_no_delivery_and_an_unset_webhook_none(settings, user_for, hook):
    worker = user_for("grid_worker")
    with pytest.raises(RuntimeError), transaction.atomic():
        concern, _ = workflow.report(worker, {"category": "safety", "description": "路灯不亮"}, _spot(worker))
        assert ConcernDelivery.objects.filter(concern=concern).count() == 1  # written with the event
        raise RuntimeError("the request fails after the write")
    assert not ConcernDelivery.objects.exists()
    settings.CONCERN_WEBHOOK_URL = ""
    concern, _ = workflow.report(worker, {"category": "safety", "description": "路灯不亮"}, _spot(worker))
    assert ConcernEvent.objects.filter(concern=concern).count() == 1 and not ConcernDelivery.objects.exists()
    assert outbox.announce(list(ConcernEvent.objects.values_list("id", flat=True))) == 0


# -- the payload and its signature ---------------------------------------------------------------------------


def test_the_request_is_signed_and_verifies_only_with_the_secret(client, user_for, hook, settings):
    made = _by_api_report(client, user_for)
    assert webhook.send_due() == {"delivered": 1, "failed": 0, "skipped": 0}
    (got,) = hook.requests
    headers, body = got["headers"], got["body"]
    stamp, signature = headers["X-GridMap-Timestamp"], headers["X-GridMap-Signature"]
    assert abs(int(stamp) - time.time()) < 60 and signature.startswith("sha256=")

    def verifies(secret: str) -> bool:  # what a receiver does (docs/operations.md)
        expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest("sha256=" + expected, signature)

    assert verifies(settings.CONCERN_WEBHOOK_SECRET)
    assert not verifies(secrets.token_hex(32))
    assert not verifies(settings.CONCERN_WEBHOOK_SECRET + "x")
    payload = json.loads(body)
    assert headers["X-GridMap-Event-Id"] == str(payload["event_id"]) and headers["Content-Type"] == "application/json"
    assert payload["concern_id"] == made[0] and payload["event"] == "reported" and payload["state_from"] is None
    delivery = ConcernDelivery.objects.get(concern_id=made[0])
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert webhook.send_due()["delivered"] == 0 and len(hook.requests) == 1  # delivered once


def test_no_personal_data_in_any_payload(client, user_for, hook):
    worker, manager = user_for("grid_worker"), user_for("street_admin")
    household = policy.households_for(worker).order_by("id").first()
    Household.objects.filter(pk=household.pk).update(head_name="王秀英")
    household.refresh_from_db()
    client.force_login(worker)
    description, address = "王秀英家漏水，电话 13912345678", "幸福里 7 栋 302"
    made = _report(client, worker, household=household.pk, description=description, address=address)
    workflow.transition(manager, made["id"], "accept", {"note": "联系王秀英 13912345678"})
    webhook.send_due()
    assert len(hook.requests) == 2
    bodies = b"".join(r["body"] for r in hook.requests).decode()
    forbidden = [description, address, "王秀英", "13912345678", household.head_name, household.address,
                 worker.username, worker.get_full_name() or worker.username, manager.username]  # fmt: skip
    forbidden += [v for v in (household.phone_masked, household.id_number_masked, household.external_id) if v]
    forbidden += [v for v in (household.phone, household.id_number) if v]
    assert [v for v in forbidden if v in bodies] == []
    for request in hook.requests:
        payload = json.loads(request["body"])
        assert set(payload) == {
            "schema", "event_id", "event", "action", "concern_id", "concern_uid", "state_from", "state_to",
            "category", "urgency", "source", "handler_level", "escalated", "rework", "merged_into", "occurred_at", "reported_at",
            "due_at", "street", "community", "grid", "location",
        }  # fmt: skip
        assert dt.datetime.fromisoformat(payload["occurred_at"]).utcoffset() is not None  # ISO 8601 with zone
        assert payload["location"]["type"] == "Point" and len(payload["location"]["coordinates"]) == 2
        assert payload["grid"] and payload["community"] and payload["street"] and payload["category"] == "sanitation"


# -- retries, backoff, failure --------------------------------------------------------------------------------


def test_500_then_200_is_retried_on_schedule_and_delivered_once(client, user_for, hook):
    hook.codes = [500, 200]
    made = _by_api_report(client, user_for)
    assert webhook.send_due() == {"delivered": 0, "failed": 1, "skipped": 0}
    d = ConcernDelivery.objects.get(concern_id=made[0])
    assert (d.status, d.attempts, d.last_status) == ("pending", 1, 500)
    assert "HTTP 500: oops boom" in d.last_error  # the receiver's answer, control characters removed
    assert d.next_attempt_at - d.last_attempt_at == dt.timedelta(seconds=webhook.BACKOFF[0])  # 1 min
    assert webhook.send_due()["failed"] == 0 and len(hook.requests) == 1  # not due yet: nothing sent
    _make_due(pk=d.pk)  # a minute later
    assert webhook.send_due() == {"delivered": 1, "failed": 0, "skipped": 0}
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_status, d.last_error) == ("delivered", 2, 200, "")
    first, second = hook.requests
    assert first["body"] == second["body"] and first["headers"]["X-GridMap-Event-Id"] == str(d.event_id)
    _make_due(pk=d.pk)
    assert webhook.send_due()["delivered"] == 0 and len(hook.requests) == 2  # once delivered, never again


def test_after_the_last_attempt_it_fails_shows_on_the_page_and_a_retry_is_audited(client, user_for, hook):
    hook.always = 503
    made = _by_api_report(client, user_for)
    d = ConcernDelivery.objects.get(concern_id=made[0])
    waits = []
    for _attempt in range(webhook.ATTEMPTS):
        assert webhook.send_due()["failed"] == 1
        d.refresh_from_db()
        if d.status == "pending":
            waits.append((d.next_attempt_at - d.last_attempt_at).total_seconds())
        _make_due(pk=d.pk, status="pending")
    assert waits == [60, 300, 1800, 7200, 43200]  # 1 min, 5 min, 30 min, 2 h, 12 h
    assert (d.status, d.attempts, d.last_status) == ("failed", 6, 503) and len(hook.requests) == 6
    assert webhook.send_due()["failed"] == 0  # failed rows wait for a person

    admin = user_for("street_admin")
    client.force_login(admin)
    page = client.get("/concerns/webhook/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-delivery="{d.pk}" data-status="failed"' in html and "HTTP 503" in html and "立即重发" in html
    assert client.get("/concerns/").content.decode().count("/concerns/webhook/") == 1  # found from the concerns page

    url = f"/api/v1/concern-deliveries/{d.pk}/retry"
    assert client.post(url).status_code == 428
    assert _post(client, url, {}, '"stale"').status_code == 412
    retried = _post(client, url, {}, f'"{d.pk}-failed-6"')
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "pending"
    audit = AuditEvent.objects.filter(object_type="concern_delivery", object_id=str(d.pk)).get()
    assert audit.user == admin and audit.reason == "webhook retry"
    hook.always = None
    assert webhook.send_due() == {"delivered": 1, "failed": 0, "skipped": 0}
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 7)
    assert _post(client, url, {}, f'"{d.pk}-delivered-7"').status_code == 409  # nothing left to retry


def test_a_redirect_is_not_followed(client, user_for, hook):
    hook.codes, hook.headers = [302], {"Location": "http://elsewhere.invalid/steal"}
    made = _by_api_report(client, user_for)
    webhook.send_due()
    d = ConcernDelivery.objects.get(concern_id=made[0])
    assert (d.status, d.last_status) == ("pending", 302) and "not followed" in d.last_error
    assert len(hook.requests) == 1


def test_settings_check_refuses_a_url_that_is_not_http_and_a_weak_secret(settings):
    from gridmap.apps import concern_webhook_check

    settings.CONCERN_WEBHOOK_URL, settings.CONCERN_WEBHOOK_SECRET = "", ""
    assert concern_webhook_check() == []  # off
    settings.CONCERN_WEBHOOK_SECRET = secrets.token_hex(32)
    for url in ("file:///etc/passwd", "ftp://12345.example/in", "gopher://x", "https:///nohost"):
        settings.CONCERN_WEBHOOK_URL = url
        assert [e.id for e in concern_webhook_check()] == ["gridmap.E104"], url
    settings.CONCERN_WEBHOOK_URL = "https://12345.example.gov.cn/hook"
    assert concern_webhook_check() == []
    settings.CONCERN_WEBHOOK_SECRET = "short"
    assert [e.id for e in concern_webhook_check()] == ["gridmap.E104"]
    assert webhook.send_due()["skipped"] == 1  # the sender refuses the same settings


# -- two senders at once --------------------------------------------------------------------------------------


def _in_thread(fn):
    """Run ``fn`` on its own (autocommitting) database connection, as another process would."""
    out, errors = [], []

    def run():
        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 (handed to the test)
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out, errors


def test_two_senders_in_parallel_send_each_row_once(settings, user_for):
    server = Receiver(delay=0.02)
    settings.CONCERN_WEBHOOK_URL, settings.CONCERN_WEBHOOK_SECRET = server.url, secrets.token_hex(32)
    worker = user_for("grid_worker")
    point = _spot(worker)

    def report_many():  # committed, so the senders' connections see them
        return [workflow.report(worker, {"category": "safety", "description": "路灯不亮", "uid": str(uuid.uuid4())},
                                point)[0].pk for _ in range(24)]  # fmt: skip

    thread, made, errors = _in_thread(report_many)
    thread.join()
    assert not errors, errors
    made = made[0]
    try:
        barrier = threading.Barrier(2)

        def sender():
            barrier.wait()
            return webhook.send_due(batch=3)

        runs = [_in_thread(sender) for _ in range(2)]
        for thread, _out, _errors in runs:
            thread.join()
        assert not any(e for _t, _o, e in runs)
        sent = Counter(r["headers"]["X-GridMap-Event-Id"] for r in server.requests)
        assert len(sent) == 24 and set(sent.values()) == {1}, sent
        assert sum(out[0]["delivered"] for _t, out, _e in runs) == 24
        assert all(out[0]["delivered"] > 0 for _t, out, _e in runs)  # both took part
    finally:
        server.close()

        def clean():
            ConcernDelivery.objects.filter(concern_id__in=made).delete()
            ConcernEvent.objects.filter(concern_id__in=made).delete()
            Concern.objects.filter(pk__in=made).delete()

        thread, _out, errors = _in_thread(clean)
        thread.join()
        assert not errors, errors


# -- scope ----------------------------------------------------------------------------------------------------


def test_the_page_and_the_retry_are_scoped(client, user_for, hook, small_street):
    grid = next(iter(small_street["grids"].values()))  # another street's
    other = Concern.objects.create(category=ConcernCategory.objects.get(code="sanitation"),
                                   location=grid.boundary.point_on_surface, description="x", grid=grid,
                                   community=grid.community)  # fmt: skip
    event = ConcernEvent.objects.create(concern=other, actor="x", action="report", to_state="reported")
    outbox.announce([event.pk])
    own = _by_api_report(client, user_for)[0]
    theirs = ConcernDelivery.objects.get(concern=other)
    mine = ConcernDelivery.objects.get(concern_id=own)
    ConcernDelivery.objects.update(status="failed", attempts=6)

    client.force_login(user_for("street_admin"))
    html = client.get("/concerns/webhook/").content.decode()
    assert f'data-delivery="{mine.pk}"' in html and f'data-delivery="{theirs.pk}"' not in html
    assert _post(client, f"/api/v1/concern-deliveries/{theirs.pk}/retry", {}, f'"{theirs.pk}-failed-6"'
                 ).status_code == 404  # fmt: skip
    client.force_login(user_for("system_admin"))
    html = client.get("/concerns/webhook/").content.decode()
    assert f'data-delivery="{mine.pk}"' in html and f'data-delivery="{theirs.pk}"' in html
    for role in ("community_staff", "grid_leader", "grid_worker", "planner"):
        client.force_login(user_for(role))
        assert client.get("/concerns/webhook/").status_code == 403, role
        response = _post(client, f"/api/v1/concern-deliveries/{mine.pk}/retry", {}, f'"{mine.pk}-failed-6"')
        assert response.status_code == 403, role
        assert "/concerns/webhook/" not in client.get("/concerns/").content.decode()
    assert ConcernDelivery.objects.filter(status="failed").count() == 2  # nobody's refusal changed a row
