"""Trust finding 7: the app's own database role rewrote the audit trail (it owned the table: it disabled the
trigger, updated and deleted rows, dropped the trigger and inserted a back-dated event). With the table handed
to gridmap_audit (.ci/audit-owner.sh, run by setup), the app's role may only read and append, and the database
sets the event time."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REWRITES = [
    "UPDATE gridmap_auditevent SET reason = 'rewritten'",
    "DELETE FROM gridmap_auditevent",
    "TRUNCATE gridmap_auditevent",
    "ALTER TABLE gridmap_auditevent DISABLE TRIGGER ALL",
    "DROP TRIGGER gridmap_auditevent_append_only ON gridmap_auditevent",
    "DROP TRIGGER gridmap_auditevent_time ON gridmap_auditevent",
    "ALTER TABLE gridmap_auditevent OWNER TO CURRENT_USER",
]
BACKDATED = """
INSERT INTO gridmap_auditevent (username, at, action, object_type, object_id, fields, reason, result)
VALUES ('intruder', '2001-01-01 00:00+00', 'login', 'user', '', '', '', 'ok') RETURNING at
"""


def _owner(*args: str) -> None:
    db = connection.settings_dict
    env = {**os.environ, "DBPORT": str(db["PORT"] or 5432)}
    subprocess.run(["bash", str(ROOT / ".ci" / "audit-owner.sh"), *args, db["NAME"], db["USER"]], env=env, check=True)


@pytest.fixture
def app_session(django_db_setup, django_db_blocker):
    """A session of the app's own role on the test database, with the audit table handed over as setup does."""
    db = connection.settings_dict
    with django_db_blocker.unblock():
        _owner()
        session = psycopg2.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
        )
        try:
            yield session
        finally:
            session.close()
            _owner("--return")


@pytest.mark.parametrize("statement", REWRITES)
def test_the_apps_role_cannot_rewrite_the_audit_trail(app_session, statement):
    app_session.autocommit = True
    with app_session.cursor() as cursor, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cursor.execute(statement)


def test_the_apps_role_appends_with_the_databases_time_only(app_session):
    with app_session.cursor() as cursor:
        cursor.execute(BACKDATED)
        (at,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM gridmap_auditevent")  # and reads the trail
        assert cursor.fetchone()[0] >= 1
    app_session.rollback()  # nothing of the probe stays
    assert abs(at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)  # not 2001: the database's clock
