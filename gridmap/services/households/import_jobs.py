"""Household import jobs: upload → dry-run preview → commit, on the one job mechanism (services/imports/jobs.py).

What is the households' own is here: who may import (``policy.household_import_communities_for``), the size that
decides between the request and a worker (the bytes the table is parsed from, ``HOUSEHOLD_IMPORT_INLINE_BYTES``),
the run of the one import core (services/households/importing.py) in one transaction with the job's outcome, and
the body of the job's status (counts, errors by row and column, preview points). All or nothing holds whatever
happens to the worker: a SIGKILL or a terminated backend rolls the import back, and the job is marked failed
(by the worker when it can, else by the next status read, which finds the worker process gone or its heartbeat
stale).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.crs import normalise_crs
from geodata.sheets import UnreadableTable, check_workbook, inflated_size, is_workbook
from gridmap import policy
from gridmap.models import AuditAction, ImportJob, ImportStatus
from gridmap.models.imports import ImportKind
from gridmap.services import audit
from gridmap.services.households.importing import ImportResult, import_households
from gridmap.services.imports import jobs
from gridmap.services.refused import Refused
from gridmap.storage import sealed_fields

KINDS = (ImportKind.HOUSEHOLDS,)


def ensure_may_import(user) -> None:
    communities = policy.household_import_communities_for(user)
    if communities is not None and not communities.exists():
        raise Refused(403, "forbidden", detail=_("无权导入住户"))


def start(user, data: bytes, *, filename: str, source_crs: str, dry_run: bool = True) -> ImportJob:
    """Check who and what, store the job, run it (here when small, else in a worker process)."""
    ensure_may_import(user)
    try:  # none declared here: the file's 坐标系 column must say it (else the core refuses the file)
        crs = normalise_crs(source_crs) if source_crs else ""
    except ValueError:
        raise Refused(
            400, "bad_value", field="source_crs", detail=_("坐标系应为 WGS84、CGCS2000、GCJ02 或 BD09")
        ) from None
    if len(data) > settings.HOUSEHOLD_IMPORT_MAX_BYTES:
        raise Refused(413, "too_large", field="file", detail=_("文件超过大小上限"))
    job = jobs.store(user, ImportKind.HOUSEHOLDS, data, filename=filename, dry_run=dry_run, source_crs=crs)
    jobs.dispatch(job, inline=_parse_size(data) <= settings.HOUSEHOLD_IMPORT_INLINE_BYTES)
    return job


def _parse_size(data: bytes) -> int:
    """What decides between the request and a worker: the bytes the file is parsed from (a small XLSX may inflate
    to much XML), or 0 for a workbook the zip limits refuse, which is refused at once without inflating."""
    if is_workbook(data):
        try:
            check_workbook(data)
        except UnreadableTable:
            return 0
    return inflated_size(data)


def commit(user, pk: int) -> ImportJob:
    """Import for real the file of a clean preview (the same bytes, checked again inside the transaction)."""
    ensure_may_import(user)
    job = jobs.reopen(user, pk, kinds=KINDS)
    size = _parse_size(sealed_fields.unseal_upload(job.data))
    jobs.dispatch(job, inline=size <= settings.HOUSEHOLD_IMPORT_INLINE_BYTES)
    return job


def status(user, pk: int) -> dict:
    """The job as the page shows it; a job whose worker died is marked failed here."""
    return describe(jobs.find(user, pk, kinds=KINDS))


def describe(job: ImportJob) -> dict:
    same = (
        ImportJob.objects.filter(kind=job.kind, sha256=job.sha256, status=ImportStatus.DONE, dry_run=False)
        .exclude(pk=job.pk)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "dry_run": job.dry_run,
        "filename": job.filename,
        "source_crs": job.source_crs,
        "counts": job.counts,
        "errors": job.errors,
        "error_count": job.error_count,
        "points": job.points if job.dry_run else [],
        "imported_before": same.isoformat() if same else None,
    }


def run(pk: int, *, reporter=None) -> ImportJob:
    """Run job ``pk`` in this process: the import core in one transaction, the outcome on the row."""
    job = ImportJob.objects.get(pk=pk)
    user = job.user
    communities = policy.household_import_communities_for(user) if user else None
    scope = None if communities is None else list(communities.values_list("pk", flat=True))
    tell = reporter or (lambda stage, fraction: None)
    with transaction.atomic():
        result = import_households(
            sealed_fields.unseal_upload(job.data),
            source_crs=job.source_crs or None,
            filename=job.filename,
            communities=scope,
            dry_run=job.dry_run,
            progress=tell,
        )
        if not job.dry_run:
            audit.record(
                user,
                AuditAction.IMPORT,
                "household",
                job.pk,
                fields=job.filename,
                result="ok" if result.ok else "refused",
            )
        _finish(job, result)
    return job


def _finish(job: ImportJob, result: ImportResult) -> None:
    if not result.ok:
        job.status = ImportStatus.REFUSED
    else:
        job.status = ImportStatus.PREVIEWED if job.dry_run else ImportStatus.DONE
    job.counts = {
        "rows": result.rows,
        "new": result.imported,
        "updated": result.updated,
        "in_grid": result.in_grid,
        "without_grid": result.without_grid,
        "http_status": result.status,
    }
    job.errors = [{"row": e.row, "column": e.column, "reason": e.reason, "code": e.code} for e in result.errors]
    job.error_count, job.points = result.error_count, result.points
    job.progress, job.stage, job.finished_at = 100, "done", timezone.now()
    if job.status != ImportStatus.PREVIEWED:
        job.data = None  # the bytes are kept only while a preview waits for its commit
    job.save()
