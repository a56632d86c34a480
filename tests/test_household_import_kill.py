"""Kill tests (issue #7, security.md T8): a household import in a worker process, killed mid-way by SIGKILL
or by pg_terminate_backend of its database session, leaves the database exactly as before (row count,
a checksum of the household table, its indexes); the job is marked failed; the retry gives exactly N.

These run outside the test transaction (the worker is another process and must see the committed job),
so each cleans up its own rows afterwards."""

from __future__ import annotations

import io
import os
import random
import signal
import time

import pytest
from django.db import connection

from gridmap.models import Household, ImportJob, ImportStatus
from gridmap.services.households import import_jobs as jobs
from gridmap.services.imports import jobs as job_runs
from gridmap.storage.sealed_fields import seal_upload
from tests.household_files_support import csv_bytes

N = 100_000  # large enough that each step of the worker lasts long enough to be hit (0.1-1 s)
PREFIX = "KILL-"


def snapshot() -> tuple:
    """Households (count and an md5 of every row) and the definitions of the table's indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(h::text, '|' ORDER BY h.id), '')) FROM gridmap_household h"
        )
        rows = cursor.fetchone()
        cursor.execute(
            "SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'gridmap_household'"
        )
        return (*rows, cursor.fetchone()[0])


@pytest.fixture
def committed(django_db_blocker, django_db_setup):
    """Autocommit access to the test database; removes this test's households and jobs afterwards."""
    with django_db_blocker.unblock():
        yield
        with connection.cursor() as cursor:  # one statement (the ORM would collect 30k rows for cascades)
            cursor.execute("DELETE FROM gridmap_household WHERE external_id LIKE %s", [PREFIX + "%"])
        ImportJob.objects.filter(filename__startswith="kill-").delete()


@pytest.fixture(scope="module")
def big_file() -> bytes:
    rng = random.Random(7)
    rows = [
        [
            round(116.40 + rng.random() * 0.02, 6),
            round(39.90 + rng.random() * 0.01, 6),
            f"测试路{i}号",
            "孙八",
            "",
            "",
            1,
            f"{PREFIX}{i}",
        ]
        for i in range(N)
    ]
    return csv_bytes(rows)


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def _start_worker(data: bytes):
    job = ImportJob.objects.create(
        user=_admin(),
        filename="kill-households.csv",
        sha256="k" * 64,
        source_crs="WGS84",
        dry_run=False,
        data=seal_upload(data),
    )
    return job, job_runs.spawn_worker(job.pk)


def _wait_for_stage(job: ImportJob, process, stages: tuple[str, ...], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stage = ImportJob.objects.filter(pk=job.pk).values_list("stage", flat=True).get()
        if stage in stages:
            return stage
        assert process.poll() is None, f"the worker ended before reaching {stages} (at {stage!r})"
        time.sleep(0.02)
    raise AssertionError(f"no stage {stages} within {timeout} s")


def _retry_gives_exactly_n(data: bytes, before: tuple) -> None:
    retry = ImportJob.objects.create(
        user=_admin(),
        filename="kill-retry.csv",
        sha256="k" * 64,
        source_crs="WGS84",
        dry_run=False,
        data=seal_upload(data),  # as import_jobs.start stores it
        status=ImportStatus.RUNNING,
    )
    jobs.run(retry.pk)
    assert ImportJob.objects.get(pk=retry.pk).status == ImportStatus.DONE
    assert Household.objects.filter(external_id__startswith=PREFIX).count() == N
    assert Household.objects.count() == before[0] + N


def test_the_worker_is_started_on_the_database_this_process_uses(db):
    # (also makes pytest-django create the test database when this module runs alone)
    assert job_runs.database_url().endswith("/" + connection.settings_dict["NAME"])
    assert connection.settings_dict["NAME"].startswith("test_")


@pytest.mark.parametrize("stage", ["read", "validate", "check", "write"])
def test_sigkill_of_the_worker_leaves_the_database_as_before(committed, big_file, stage):
    before = snapshot()
    job, process = _start_worker(big_file)
    _wait_for_stage(job, process, (stage,))
    time.sleep(random.uniform(0, 0.05))  # somewhere inside that step
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert snapshot() == before
    assert jobs.status(_admin(), job.pk)["status"] == ImportStatus.FAILED
    _retry_gives_exactly_n(big_file, before)


def test_terminating_the_workers_database_session_leaves_the_database_as_before(committed, big_file):
    before = snapshot()
    job, process = _start_worker(big_file)
    _wait_for_stage(job, process, ("write",))
    backend = ImportJob.objects.filter(pk=job.pk).values_list("backend_pid", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        assert cursor.fetchone()[0] is True
    assert process.wait(timeout=60) != 0
    assert snapshot() == before
    status = jobs.status(_admin(), job.pk)
    assert status["status"] == ImportStatus.FAILED and status["errors"][0]["code"] == "failed"
    _retry_gives_exactly_n(big_file, before)


def test_a_large_upload_runs_in_the_background_and_reports_its_progress(committed, big_file, settings):
    from django.test import Client

    settings.HOUSEHOLD_IMPORT_INLINE_BYTES = 1_000  # every file of this test goes to a worker process
    client = Client()
    client.force_login(_admin())
    file = io.BytesIO(big_file)
    file.name = "kill-background.csv"
    response = client.post("/api/v1/household-imports/", {"file": file, "source_crs": "WGS84"})
    assert response.status_code == 202 and response.json()["status"] in ("queued", "running")
    job = response.json()["id"]

    def follow() -> tuple[dict, list[int]]:
        seen, deadline = [], time.monotonic() + 180
        while time.monotonic() < deadline:
            data = client.get(f"/api/v1/household-imports/{job}").json()
            seen.append(data["progress"])
            if data["status"] not in ("queued", "running"):
                return data, seen
            time.sleep(0.1)
        raise AssertionError("the background job did not finish")

    preview, seen = follow()
    assert preview["status"] == "previewed" and preview["counts"]["new"] == N and len(preview["points"]) == 5_000
    assert seen == sorted(seen) and any(0 < p < 100 for p in seen)  # progress only moves forward
    before = Household.objects.count()
    committed = client.post(f"/api/v1/household-imports/{job}/commit", headers={"If-Match": preview["etag"]})
    assert committed.status_code == 202
    done, _ = follow()
    assert done["status"] == "done" and Household.objects.count() == before + N
