"""A long grid import through the shipped server (#16 item 3): 300 grids of ~670 vertices each (~200k in all)
uploaded to gunicorn with its own worker timeout. The upload answers 202 at once, the page polls the job's
progress, the preview ends with every row, and its commit writes every grid; no answer is a 5xx. A worker
killed mid-job leaves nothing saved and its job failed; another user gets 404 on the job.

The server is another process: the test's street, community and jobs are committed (autocommit, not the test
transaction) and removed afterwards."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from django.contrib.gis.geos import MultiPolygon, Polygon

from bench.reliability.load import sign_in
from gridmap.models import Community, Grid, ImportJob, ImportStatus, Street
from gridmap.services.imports import jobs, layer_jobs
from gridmap.storage.sealed_fields import seal_upload
from tests.browser_support import DEMO_PASSWORD

STREET, COMMUNITY = "990000001", "990000001001"
WEST, SOUTH = 100.0, 30.0  # far from the demo street
COLUMNS, ROWS, PER_EDGE = 15, 20, 167  # 300 rectangles, 4 × 167 + 1 = 669 positions each: 200,700 in all
FILENAME = "jobs-300-grids.geojson"


def grid_file() -> bytes:
    """300 rectangles with gaps between them inside the test community, each edge densified to 167 points."""
    features = []
    steps = np.linspace(0.0, 1.0, PER_EDGE, endpoint=False)
    for col in range(COLUMNS):
        for row in range(ROWS):
            x0, y0 = WEST + 0.002 + col * 0.01, SOUTH + 0.002 + row * 0.0075
            x1, y1 = x0 + 0.009, y0 + 0.0065
            corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            ring = []
            for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1]):
                ring += [[round(ax + (bx - ax) * t, 7), round(ay + (by - ay) * t, 7)] for t in steps]
            ring.append(ring[0])
            geometry = {"type": "Polygon", "coordinates": [ring]}
            features.append({"type": "Feature", "properties": {"name": f"J{col:02d}-{row:02d}"}, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture(scope="module")
def big_file() -> bytes:
    data = grid_file()
    positions = data.count(b"], [") + 300  # a ring of n positions has n - 1 separators
    assert 195_000 <= positions <= 205_000
    return data


@pytest.fixture
def community(django_db_setup, django_db_blocker):
    """The test's own street and community, committed; removed with their grids and jobs afterwards."""
    with django_db_blocker.unblock():
        box = (WEST - 0.01, SOUTH - 0.01, WEST + 0.16, SOUTH + 0.16)
        street = Street.objects.create(code=STREET, name="任务测试街道", boundary=MultiPolygon(Polygon.from_bbox(box)))
        area = Community.objects.create(
            code=COMMUNITY, name="任务测试社区", kind="urban", street=street, boundary=street.boundary
        )
        try:
            yield area
        finally:
            for pid in ImportJob.objects.filter(filename=FILENAME, status__in=jobs.ACTIVE).values_list(
                "worker_pid", flat=True
            ):  # a worker this test's server started, still running after a failure
                try:
                    if b"import_job" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        os.kill(pid, signal.SIGKILL)
                except (OSError, TypeError):
                    pass
            Grid.objects.filter(community=area).delete()
            ImportJob.objects.filter(filename=FILENAME).delete()
            area.delete()
            street.delete()


def test_workers_are_started_on_the_test_database(db):
    # (also makes pytest-django create the test database when this module runs alone)
    from django.db import connection

    assert jobs.database_url().endswith("/" + connection.settings_dict["NAME"])
    assert connection.settings_dict["NAME"].startswith("test_")


def _follow(session: requests.Session, url: str, seen: list, timeout: float = 900) -> dict:
    """Poll the job's status as the page does; every answer is recorded (status code, progress)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = session.get(url, timeout=30)
        seen.append((answer.status_code, answer.json().get("progress")))
        assert answer.status_code == 200, answer.text[:300]
        data = answer.json()
        if data["status"] not in ("queued", "running"):
            return data
        time.sleep(0.25)
    raise AssertionError("the job did not end")


def test_300_grids_of_200k_vertices_through_gunicorn(app, community, big_file):
    admin = sign_in(app.base, "admin", DEMO_PASSWORD)
    started = time.monotonic()
    answer = admin.post(
        f"{app.base}/api/v1/communities/{community.pk}/grid-import",
        files={"file": (FILENAME, big_file, "application/geo+json")},
        data={"dry_run": "1"},
        timeout=30,
    )
    first = time.monotonic() - started
    assert answer.status_code == 202, answer.text[:300]
    assert first < 3.0, first  # the request only stores the job; the work is the worker's
    status_url = app.base + answer.json()["job"]["url"]
    assert answer.headers["Location"] == answer.json()["job"]["url"]

    other = sign_in(app.base, "jiedao", DEMO_PASSWORD)
    assert other.get(status_url, timeout=30).status_code == 404
    assert (
        other.post(status_url + "/commit", headers={"If-Match": answer.json()["etag"]}, timeout=30).status_code == 404
    )

    seen: list = []
    preview = _follow(admin, status_url, seen)
    checked = time.monotonic() - started
    assert preview["status"] == "previewed", preview
    assert preview["result"]["features"] == 300 and preview["result"]["errors"] == []
    assert len(preview["result"]["rows"]) == 300 and Grid.objects.filter(community=community).count() == 0
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(0 < p < 100 for p in progress), progress  # observed while the job ran
    assert all(code < 500 for code, _ in seen)

    started = time.monotonic()
    queued = admin.post(status_url + "/commit", headers={"If-Match": preview["etag"]}, timeout=30)
    assert queued.status_code == 202 and time.monotonic() - started < 3.0, queued.text[:300]
    done = _follow(admin, status_url, seen)
    committed = time.monotonic() - started
    assert done["status"] == "done" and done["http_status"] == 201 and len(done["result"]["created"]) == 300
    assert Grid.objects.filter(community=community, status="draft").count() == 300
    assert ImportJob.objects.get(pk=done["id"]).data is None
    print(f"\nfirst answer {first:.2f} s, preview done after {checked:.1f} s, commit done after {committed:.1f} s")


def test_a_worker_killed_mid_job_saves_nothing_and_fails_its_job(community, big_file, django_db_blocker):
    with django_db_blocker.unblock():
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(username="admin")
        job = ImportJob.objects.create(
            user=admin,
            kind="grids",
            target_id=community.pk,
            filename=FILENAME,
            sha256="j" * 64,
            dry_run=False,  # the real import: killed before its commit, it leaves no grid behind
            data=seal_upload(big_file),
            options={"source_crs": None, "encoding": None},
        )
        process = jobs.spawn_worker(job.pk)
        deadline = time.monotonic() + 120
        while ImportJob.objects.get(pk=job.pk).stage not in ("read", "check"):  # the import has begun
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # inside it: reading the file or checking its rows, the transaction open
        assert process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert Grid.objects.filter(community=community).count() == 0
        status = layer_jobs.status(admin, job.pk)
        assert status["status"] == ImportStatus.FAILED and status["errors"][0]["code"] == "failed"
        assert status["result"] is None and ImportJob.objects.get(pk=job.pk).data is None
