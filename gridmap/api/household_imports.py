"""Household import over the web (/api/v1/household-imports/…): upload (dry-run preview), poll a job,
commit a clean preview.

Thin: parse the multipart form, call services/households/import_jobs.py, answer JSON. A refused file
answers 400 (or 409 when every error is a clash with the database) with its errors by row, column
and reason; a job still running answers 202 and the page polls its status. Committing names the job's
ETag (``etag`` of its status: its id and state) in ``If-Match``: the commit is of the preview shown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from gridmap import policy
from gridmap.api import etags
from gridmap.api.jsonapi import endpoint, locked, reply
from gridmap.api.jsonapi import upload as uploaded_file
from gridmap.models import ImportStatus
from gridmap.services.households import import_jobs as jobs


def _status(user, pk: int) -> dict:
    data = jobs.status(user, pk)
    return {**data, "etag": etags.job_state(data["id"], data["status"])}


def _answer(user, job) -> HttpResponse:
    data = _status(user, job.pk)
    if data["status"] in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return reply(data, 202)
    if data["status"] == ImportStatus.REFUSED:
        return reply(data, data["counts"].get("http_status", 400))
    if data["status"] == ImportStatus.FAILED:
        return reply(data, 503)  # the worker or the database failed, not the file; nothing was saved
    return reply(data, 200 if data["dry_run"] else 201)


@endpoint(residents=True, creates=("POST",), get=False)
def upload(request: HttpRequest) -> HttpResponse:
    """multipart: ``file`` (CSV or XLSX), ``source_crs`` (or the file's coordinate-system column), ``commit=1`` to
    skip the preview."""
    jobs.ensure_may_import(request.user)
    found = uploaded_file(request, settings.HOUSEHOLD_IMPORT_MAX_BYTES)
    job = jobs.start(
        request.user,
        found.read(),
        filename=found.name or "",
        source_crs=request.POST.get("source_crs", "").strip(),
        dry_run=request.POST.get("commit") != "1",
    )
    return _answer(request.user, job)


@endpoint(residents=True)
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    data = _status(request.user, pk)
    return reply(data, etag=data["etag"])


@endpoint(residents=True, guards=("POST",), get=False)
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    jobs.ensure_may_import(request.user)
    # Checked in its own transaction: the commit dispatches a worker that must see the job committed.
    with transaction.atomic():
        locked(request, policy.import_jobs_for(request.user), pk, field="job", etag=etags.import_job)
    job = jobs.commit(request.user, pk)
    return _answer(request.user, job)
