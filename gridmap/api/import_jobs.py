"""Import jobs over the web (/api/v1/import-jobs/…): the status of any import job of the user (households,
streets, communities, stations, grids, reference layers), and the commit of a layer's or a grid file's clean preview.

Thin: call services/imports. The layer, grid and reference layer import endpoints (api/exchange.py, api/grids.py,
api/reference.py) start a job and answer with :func:`answer`: a job done in the request answers its result as the
import always did (plus ``job``: its id, state, ETag and status URL); one still running answers 202 with its
status URL (also in ``Location``), which the page polls until ``result`` is there. Another user's job is 404.
Committing names the job's ETag (``etag`` of its status) in ``If-Match``: the commit is of the preview shown.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from gridmap import policy
from gridmap.api import etags
from gridmap.api.jsonapi import endpoint, locked, reply
from gridmap.models import ImportJob
from gridmap.services.imports import jobs, layer_jobs


def answer(job: ImportJob) -> HttpResponse:
    """The answer of an upload or a commit that started ``job`` (a layer, grid or reference layer import)."""
    data = layer_jobs.describe(job)
    url = reverse("import-job-status", kwargs={"pk": job.pk})
    etag = etags.job_state(job.pk, job.status)
    ref = {"id": job.pk, "status": job.status, "etag": etag, "url": url}
    if data["result"] is None:  # running (202) or failed (503: the worker or the database, not the file)
        response = reply({**data, "etag": etag, "job": ref}, 202 if job.status in jobs.ACTIVE else 503)
        response["Location"] = url
        return response
    return reply({**data["result"], "job": ref}, data["http_status"])


@endpoint()
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    job = jobs.find(request.user, pk)
    data = jobs.kind_module(job.kind).describe(job)
    etag = etags.job_state(job.pk, job.status)
    return reply({**data, "etag": etag}, etag=etag)


@endpoint(guards=("POST",), get=False)
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real the stored file of a clean layer or grid preview."""
    layer_jobs.check_rights(request.user, jobs.find(request.user, pk, kinds=layer_jobs.KINDS))  # 404, 403 first
    # Checked in its own transaction: the commit may dispatch a worker that must see the job committed.
    with transaction.atomic():
        jobs_in_scope = policy.import_jobs_for(request.user).filter(kind__in=layer_jobs.KINDS).only("id", "status")
        locked(request, jobs_in_scope, pk, field="job", etag=etags.import_job)
    return answer(layer_jobs.commit(request.user, pk))
