"""Trust finding 3: a household import's dry run kept the raw upload (phones, ID numbers) in the import-job
table for a day. Now the waiting file is sealed with the data key and dropped when the preview ends (commit,
a new upload) or expires (minutes). After every import path the whole database, read as text the way a dump
would show it, holds neither a phone nor an ID number of the file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from gridmap.models import ImportJob, ImportStatus
from gridmap.services.imports import jobs as import_jobs
from tests.household_files_support import csv_bytes
from tests.test_household_import_web import commit, good_rows, status_url, upload

PHONE, ID_NUMBER = "13987654321", "11010519491231002X"


def _rows(user) -> list[list]:
    rows = good_rows(user, 2, prefix="P")
    rows[0][4], rows[0][5] = PHONE, ID_NUMBER
    return rows


def _plaintext_anywhere() -> list[str]:
    """Every table of the database that holds the phone or the ID number as text or as bytes."""
    needles = [PHONE, ID_NUMBER]
    hexes = [n.encode().hex() for n in needles]  # a bytea column prints as \\x + hex
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*) FROM {table} t WHERE t::text LIKE ANY(%s)",
                [[f"%{n}%" for n in needles + hexes]],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_the_waiting_file_is_sealed_and_no_path_leaves_plaintext(client_for, user_for):
    client, user = client_for("street_admin"), user_for("street_admin")
    assert _plaintext_anywhere() == []
    preview = upload(client, csv_bytes(_rows(user))).json()  # 1. a preview waiting for its commit
    job = ImportJob.objects.get(pk=preview["id"])
    assert job.status == ImportStatus.PREVIEWED and job.data is not None
    assert PHONE.encode() not in bytes(job.data) and _plaintext_anywhere() == []
    assert commit(client, job.pk).status_code == 201  # 2. committed: the households hold sealed values only
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.data is None and _plaintext_anywhere() == []
    bad = _rows(user) + [[0, 0, "", "", "12", "x", 0, "P-9"]]  # 3. refused rows
    refused = upload(client, csv_bytes(bad)).json()
    assert refused["status"] == "refused" and _plaintext_anywhere() == []
    assert ImportJob.objects.get(pk=refused["id"]).data is None


def test_a_preview_ends_with_the_next_upload_or_after_minutes(client_for, user_for):
    client, user = client_for("street_admin"), user_for("street_admin")
    first = upload(client, csv_bytes(_rows(user))).json()["id"]
    second = upload(client, csv_bytes(good_rows(user, 1, prefix="Q"))).json()["id"]
    assert ImportJob.objects.get(pk=first).data is None  # superseded: nothing left to commit
    assert commit(client, first).status_code == 409
    ImportJob.objects.filter(pk=second).update(
        finished_at=timezone.now() - import_jobs.PREVIEW_KEEP - dt.timedelta(seconds=1)
    )
    assert client.get(status_url(second)).status_code == 200  # any poll purges expired previews
    assert ImportJob.objects.get(pk=second).data is None
    assert import_jobs.PREVIEW_KEEP <= dt.timedelta(minutes=30)


@pytest.mark.parametrize("tamper", [lambda b: b[:-1] + bytes([b[-1] ^ 1]), lambda b: b[:20]])
def test_a_tampered_sealed_upload_does_not_open(tamper):
    from gridmap.storage import sealed_fields

    token = sealed_fields.seal_upload(b"phone,13987654321\n")
    assert sealed_fields.unseal_upload(token) == b"phone,13987654321\n"
    with pytest.raises(sealed_fields.SealError):
        sealed_fields.unseal_upload(tamper(token))
