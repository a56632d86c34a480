"""Layer and grid file imports as jobs (#16 item 3), in this process: a small file is answered in the request as
before (plus its job), a large one answers 202 with its status URL and runs elsewhere (here: ``jobs.run`` after the
upload, as the worker would); the status gives the step and progress, then the inline body; a clean preview is
committed from its stored file; rights at start and commit; another user's job is 404; a dead worker fails its job.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gridmap.models import AuditEvent, Community, Grid, ImportJob, ImportStatus
from gridmap.services.imports import jobs
from tests.exchange_support import small_people, upload, zipped  # noqa: F401  (fixture)
from tests.test_grid_import import FREE_NORTH, FREE_SOUTH, east, frame  # noqa: F401  (fixture)
from tests.test_grid_import import upload as grid_upload
from tests.test_layer_import import EAST_HALF, WEST_HALF, geojson, new_street  # noqa: F401  (fixture)

COMMUNITIES = (
    ({"code": "110105002001", "name": "甲社区"}, WEST_HALF),
    ({"code": "110105002201", "name": "乙村"}, EAST_HALF),
)


def status(client, pk: int):
    return client.get(reverse("import-job-status", kwargs={"pk": pk}))


def commit(client, pk: int):
    etag = status(client, pk)["ETag"]
    return client.post(reverse("import-job-commit", kwargs={"pk": pk}), headers={"If-Match": etag})


@pytest.fixture
def in_worker(settings, monkeypatch):
    """Every file goes to a worker; the worker is this process, run by the test after the answer."""
    settings.LAYER_IMPORT_INLINE_BYTES = 10
    started = []
    monkeypatch.setattr(jobs, "spawn_worker", started.append)
    monkeypatch.setattr(jobs.transaction, "on_commit", lambda start: start())
    return started


def test_a_small_file_is_answered_inline_and_its_preview_committed_from_the_stored_file(small_people, new_street):
    client = small_people["system_admin"]
    preview = upload(client, "communities", geojson(*COMMUNITIES), "c.geojson")
    assert preview.status_code == 200 and preview.json()["dry_run"] is True
    job = preview.json()["job"]
    assert job["status"] == "previewed" and job["url"] == f"/api/v1/import-jobs/{job['id']}"
    assert ImportJob.objects.get(pk=job["id"]).data is not None  # kept (sealed) for the commit
    assert not Community.objects.filter(code__in=["110105002001", "110105002201"]).exists()
    done = commit(client, job["id"])
    assert done.status_code == 201 and done.json()["created"] == 2 and done.json()["job"]["status"] == "done"
    assert Community.objects.filter(code__in=["110105002001", "110105002201"]).count() == 2
    assert ImportJob.objects.get(pk=job["id"]).data is None  # the bytes are not kept after the import
    assert AuditEvent.objects.filter(action="import", object_type="communities", object_id="+2 ~0").exists()
    again = commit(client, job["id"])
    assert again.status_code == 409 and again.json()["code"] == "not_previewed"


def test_a_large_file_answers_202_then_the_status_gives_progress_and_the_inline_body(east, in_worker):
    c, community = east
    data = frame(FREE_NORTH, FREE_SOUTH).to_json().encode()
    answer = grid_upload(c, community, data, "grids.geojson")
    assert answer.status_code == 202 and answer.json()["status"] == "queued" and answer.json()["result"] is None
    pk = answer.json()["id"]
    assert answer["Location"] == f"/api/v1/import-jobs/{pk}" and in_worker == [pk]
    jobs.run(pk, reporter=lambda stage, fraction: ImportJob.objects.filter(pk=pk).update(stage=stage))
    preview = status(c, pk).json()
    assert preview["status"] == "previewed" and preview["progress"] == 100 and preview["http_status"] == 200
    assert [r["name"] for r in preview["result"]["rows"]] == ["北片", "南片"] and preview["result"]["dry_run"]
    assert not Grid.objects.filter(name__in=["北片", "南片"]).exists()
    queued = commit(c, pk)
    assert queued.status_code == 202 and in_worker == [pk, pk]
    jobs.run(pk)
    done = status(c, pk).json()
    assert done["status"] == "done" and done["http_status"] == 201 and len(done["result"]["created"]) == 2
    assert set(Grid.objects.filter(community=community, status="draft").values_list("name", flat=True)) >= {
        "北片",
        "南片",
    }


def test_a_refused_file_in_a_worker_ends_with_the_refusal_the_request_would_give(east, in_worker):
    c, community = east
    answer = grid_upload(c, community, b"not a geo file at all" * 10, "grids.geojson")
    assert answer.status_code == 202
    jobs.run(answer.json()["id"])
    refused = status(c, answer.json()["id"]).json()
    assert refused["status"] == "refused" and 400 <= refused["http_status"] < 500
    assert refused["result"]["code"] and refused["result"]["field"] == "file"
    assert ImportJob.objects.get(pk=answer.json()["id"]).data is None
    assert commit(c, answer.json()["id"]).status_code == 409


def test_another_user_gets_404_on_the_job_and_its_commit(small_people, new_street):
    owner, other = small_people["system_admin"], small_people["street_admin"]
    job = upload(owner, "communities", geojson(*COMMUNITIES), "c.geojson").json()["job"]
    assert status(other, job["id"]).status_code == 404
    sent = other.post(reverse("import-job-commit", kwargs={"pk": job["id"]}), headers={"If-Match": job["etag"]})
    assert sent.status_code == 404
    assert ImportJob.objects.get(pk=job["id"]).status == ImportStatus.PREVIEWED  # untouched


def test_the_rights_are_checked_when_the_job_starts_and_when_it_is_committed(small_people, new_street):
    planner, admin = small_people["planner"], small_people["system_admin"]
    assert upload(planner, "communities", geojson(*COMMUNITIES), "c.geojson").status_code == 403
    assert upload(small_people["street_admin"], "streets", b"{}", "s.geojson").status_code == 403
    assert upload(admin, "parks", b"{}", "p.geojson").status_code == 404
    assert not ImportJob.objects.filter(kind__in=["communities", "streets"], user__username="ss_planner").exists()
    job = upload(admin, "communities", geojson(*COMMUNITIES), "c.geojson").json()["job"]
    ImportJob.objects.filter(pk=job["id"]).update(kind="streets", user=small_people["users"]["street_admin"])
    street_admin = small_people["street_admin"]  # now his job, of a layer he may not import: 403 before If-Match
    assert street_admin.post(reverse("import-job-commit", kwargs={"pk": job["id"]})).status_code == 403


def test_a_job_whose_worker_died_is_failed_and_its_file_dropped(small_people, new_street, in_worker):
    client = small_people["system_admin"]
    answer = upload(client, "communities", geojson(*COMMUNITIES), "c.geojson")
    pk = answer.json()["id"]
    ImportJob.objects.filter(pk=pk).update(
        status=ImportStatus.RUNNING, worker_pid=2**22 + 1, heartbeat=timezone.now() - dt.timedelta(minutes=5)
    )
    failed = status(client, pk).json()
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == "failed" and failed["result"] is None
    assert ImportJob.objects.get(pk=pk).data is None


def test_a_large_zip_whose_directory_refuses_it_is_refused_in_the_request(east, in_worker):
    c, community = east
    bomb = zipped({"g.shp": b"\x00" * 50_000_000, "g.shx": b"", "g.dbf": b""})
    answer = grid_upload(c, community, bomb, "g.zip")
    assert 400 <= answer.status_code < 500 and answer.json()["field"] == "file" and in_worker == []


def test_the_household_status_url_does_not_show_a_layer_job(small_people, new_street):
    client = small_people["system_admin"]
    job = upload(client, "communities", geojson(*COMMUNITIES), "c.geojson").json()["job"]
    assert client.get(reverse("household-import-status", kwargs={"pk": job["id"]})).status_code == 404
    assert status(client, job["id"]).json()["kind"] == "communities"


def test_the_former_worker_command_name_runs_any_kind_of_job(east, in_worker):
    from django.core.management import call_command

    c, community = east
    answer = grid_upload(c, community, frame(FREE_NORTH).to_json().encode(), "grids.geojson")
    assert answer.status_code == 202
    call_command("household_import_job", answer.json()["id"])  # as `manage.py household_import_job <id>` did
    preview = status(c, answer.json()["id"]).json()
    assert preview["status"] == "previewed" and [r["name"] for r in preview["result"]["rows"]] == ["北片"]


def test_an_import_that_reports_its_rows_moves_the_jobs_progress(east, in_worker, monkeypatch):
    from gridmap.services.imports import layer_jobs

    c, community = east
    answer = grid_upload(c, community, frame(FREE_NORTH).to_json().encode(), "grids.geojson")
    real = layer_jobs.import_grids

    def reporting(*args, progress=None, **kwargs):  # as the import calls it while it checks its rows
        for done in range(0, 301, 30):
            progress(done, 300)
        return real(*args, **kwargs)

    monkeypatch.setattr(layer_jobs, "import_grids", reporting)
    seen = []
    jobs.run(answer.json()["id"], reporter=lambda stage, fraction: seen.append((stage, round(fraction * 100))))
    checks = [p for stage, p in seen if stage == "check"]
    assert checks == sorted(checks) and checks[0] == 5 and checks[-1] == 90 and len(checks) == 11
    assert [stage for stage, _ in seen] == ["read", *["check"] * 11, "write"]
    assert status(c, answer.json()["id"]).json()["status"] == "previewed"


def test_a_commit_whose_worker_died_says_503_not_the_previews_200(east, in_worker):
    c, community = east
    pk = grid_upload(c, community, frame(FREE_NORTH).to_json().encode(), "grids.geojson").json()["id"]
    jobs.run(pk)
    assert commit(c, pk).status_code == 202
    ImportJob.objects.filter(pk=pk).update(status=ImportStatus.RUNNING, worker_pid=2**22 + 1)
    failed = status(c, pk).json()
    assert (failed["status"], failed["http_status"], failed["result"]) == ("failed", 503, None)
    assert not Grid.objects.filter(community=community, name="北片").exists()
