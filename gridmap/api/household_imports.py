"""Household import over the web: upload (dry-run preview), poll a job, commit a clean preview.

Thin: parse the multipart form, call services/household_import_jobs, answer JSON. A refused file
answers 400 (or 409 when every error is a clash with the database) with its errors by row, column
and reason; a job still running answers 202 and the page polls its status.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gridmap.api.jsonapi import endpoint, reply
from gridmap.models import ImportStatus
from gridmap.services.households import import_jobs as jobs
from gridmap.services.refused import Refused


def _answer(user, job) -> HttpResponse:
    data = jobs.status(user, job.pk)
    if data["status"] in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return reply(data, 202)
    if data["status"] == ImportStatus.REFUSED:
        return reply(data, data["counts"].get("http_status", 400))
    if data["status"] == ImportStatus.FAILED:
        return reply(data, 503)  # the worker or the database failed, not the file; nothing was saved
    return reply(data, 200 if data["dry_run"] else 201)


@require_POST
@endpoint(residents=True)
def upload(request: HttpRequest) -> HttpResponse:
    """multipart: ``file`` (CSV or XLSX), ``source_crs`` (or a 坐标系 column), ``commit=1`` to skip the preview."""
    jobs.ensure_may_import(request.user)
    upload = request.FILES.get("file")
    if upload is None:
        raise Refused(400, "required", field="file", detail=_("请选择 CSV 或 XLSX 文件"))
    from django.conf import settings

    if upload.size > settings.HOUSEHOLD_IMPORT_MAX_BYTES:
        raise Refused(413, "too_large", field="file", detail=_("文件超过大小上限"))
    job = jobs.start(
        request.user,
        upload.read(),
        filename=upload.name or "",
        source_crs=request.POST.get("source_crs", "").strip(),
        dry_run=request.POST.get("commit") != "1",
    )
    return _answer(request.user, job)


@require_GET
@endpoint(residents=True)
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    data = jobs.status(request.user, pk)
    return reply(data)


@require_POST
@endpoint(residents=True)
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = jobs.commit(request.user, pk)
    return _answer(request.user, job)
