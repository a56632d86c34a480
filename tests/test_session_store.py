"""Session renewals through gridmap.storage.session_store: still written on every request (idle timeout)."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.utils import timezone

from gridmap.storage.session_store import SessionStore


def test_every_request_still_renews_the_idle_window(client_for, settings):
    assert settings.SESSION_ENGINE == "gridmap.storage.session_store"
    client = client_for("street_admin")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + dt.timedelta(minutes=1))
    assert client.get("/map/").status_code == 200
    renewed = Session.objects.get(pk=key).expire_date
    assert renewed > timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_a_renewal_keeps_the_data_and_a_new_session_is_created(db):
    store = SessionStore()
    store["k"] = "v"
    store.save()  # no key yet: created (synchronously, as Django's own store does)
    store["k"] = "w"
    store.save()  # an existing session: the asynchronous-commit path
    assert SessionStore(store.session_key).load()["k"] == "w"


def test_a_save_inside_another_transaction_leaves_its_commit_synchronous(db):
    from django.db import connection, transaction

    store = SessionStore()
    store.save()
    with transaction.atomic():
        store["k"] = "inside"
        store.save()
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert SessionStore(store.session_key).load()["k"] == "inside"
