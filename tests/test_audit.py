"""The audit trail: sign-ins, failures, lockouts and sign-outs are recorded; nothing can rewrite it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from gridmap.models import AuditEvent
from tests.conftest import DEMO_PASSWORD


def sign_in(client, username, password, address="10.1.2.3"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_ins_failures_lockouts_and_sign_outs_are_recorded_with_the_address(client, db):
    sign_in(client, "jiedao", "wrong-password")
    sign_in(client, "jiedao", DEMO_PASSWORD)
    client.post("/accounts/logout/", REMOTE_ADDR="10.1.2.3")
    events = list(AuditEvent.objects.filter(username="jiedao").order_by("id").values_list("action", "result", "ip"))
    assert events == [
        ("login_failed", "refused", "10.1.2.3"),
        ("login", "ok", "10.1.2.3"),
        ("logout", "ok", "10.1.2.3"),
    ]


def test_a_lockout_is_recorded(client, db):
    for _ in range(6):
        sign_in(client, "guihua", "wrong-password", address="10.9.9.9")
    actions = list(AuditEvent.objects.filter(username="guihua").values_list("action", flat=True))
    assert actions.count("login_failed") == 5 and actions.count("lockout") == 1


@pytest.mark.parametrize(
    "statement",
    ["UPDATE gridmap_auditevent SET reason = 'x'", "DELETE FROM gridmap_auditevent", "TRUNCATE gridmap_auditevent"],
)
def test_no_sql_can_rewrite_the_trail(client, db, statement):
    sign_in(client, "shequ", "wrong-password")
    before = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the deferred FK checks, so TRUNCATE may start
        cursor.execute(statement)
    assert AuditEvent.objects.count() == before > 0


def test_only_the_audit_administrator_searches_it_in_the_admin(client_for, client, db):
    sign_in(client, "shequ", "wrong-password")
    admin = client_for("system_admin")
    page = admin.get("/admin/gridmap/auditevent/", {"q": "shequ"})
    assert page.status_code == 200 and "shequ" in page.content.decode()
    event = AuditEvent.objects.filter(username="shequ").first()
    assert admin.post(f"/admin/gridmap/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client_for("street_admin").get("/admin/gridmap/auditevent/").status_code == 403
