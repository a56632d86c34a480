"""Upload → dry-run preview → commit, as jobs: a row per upload, run in the request or in a worker process.

A file up to ``HOUSEHOLD_IMPORT_INLINE_BYTES`` runs inside the request; a larger one is handed to
``manage.py household_import_job <id>``, a separate process started here (no queue server): it reads
the file from the job row, runs the one import core (services/households/importing.py) in one transaction,
and reports its step and progress through a second database connection, so the page can poll while the
import transaction is still open. All or nothing holds whatever happens to the worker: a SIGKILL or a
terminated backend rolls the import back, and the job is marked failed (by the worker when it can, else
by the next status read, which finds the worker process gone or its heartbeat stale).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.crs import normalise_crs
from geodata.sheets import UnreadableTable, check_workbook, inflated_size, is_workbook
from gridmap import policy
from gridmap.models import AuditAction, ImportJob, ImportStatus
from gridmap.services import audit
from gridmap.services.households.importing import ImportResult, import_households
from gridmap.services.refused import Refused, not_found
from gridmap.storage import sealed_fields

# A preview's file (sealed, storage/sealed_fields.seal_upload) waits this long for its commit, then is purged.
PREVIEW_KEEP = dt.timedelta(minutes=15)
HEARTBEAT_SECONDS = 10  # a worker touches its job this often
HEARTBEAT_STALE_SECONDS = 120  # a running job whose worker has not reported for this long has died
_ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)


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
    purge_previews()
    # A new upload ends the user's earlier previews: their files are dropped, not kept for a commit.
    ImportJob.objects.filter(user=user, status=ImportStatus.PREVIEWED, data__isnull=False).update(data=None)
    digest = hashlib.sha256(data).hexdigest()
    job = ImportJob.objects.create(
        user=user,
        filename=Path(filename or "").name[:200],
        sha256=digest,
        source_crs=crs,
        dry_run=dry_run,
        data=sealed_fields.seal_upload(data),  # phones and ID numbers: never plaintext at rest
    )
    _dispatch(job, _parse_size(data))
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


def purge_previews() -> int:
    """Drop the files of previews nobody committed within PREVIEW_KEEP (each upload, poll and commit calls it)."""
    return ImportJob.objects.filter(
        status=ImportStatus.PREVIEWED, finished_at__lt=timezone.now() - PREVIEW_KEEP, data__isnull=False
    ).update(data=None)


def commit(user, pk: int) -> ImportJob:
    """Import for real the file of a clean preview (the same bytes, checked again inside the transaction)."""
    ensure_may_import(user)
    purge_previews()  # an expired preview has no file left to commit
    with transaction.atomic():
        job = policy.import_jobs_for(user).select_for_update().filter(pk=pk).first()
        if job is None:
            raise not_found("job")
        if job.status != ImportStatus.PREVIEWED or not job.dry_run or job.data is None:
            raise Refused(409, "not_previewed", field="job", detail=_("只有无错误的预检结果才能导入"))
        job.dry_run, job.status, job.progress, job.stage = False, ImportStatus.QUEUED, 0, ""
        job.save(update_fields=["dry_run", "status", "progress", "stage"])
    _dispatch(job, _parse_size(sealed_fields.unseal_upload(job.data)))
    return job


def status(user, pk: int) -> dict:
    """The job as the page shows it; a job whose worker died is marked failed here."""
    purge_previews()
    job = policy.import_jobs_for(user).filter(pk=pk).first()
    if job is None:
        raise not_found("job")
    if job.status in _ACTIVE and _worker_gone(job):
        ImportJob.objects.filter(pk=job.pk, status__in=_ACTIVE).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            data=None,
            errors=[{"row": 0, "column": "", "reason": _("导入进程意外终止，数据库未作任何改动"), "code": "failed"}],
        )
        job.refresh_from_db()
    same = (
        ImportJob.objects.filter(sha256=job.sha256, status=ImportStatus.DONE, dry_run=False)
        .exclude(pk=job.pk)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {
        "id": job.pk,
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


def _dispatch(job: ImportJob, size: int) -> None:
    if size <= settings.HOUSEHOLD_IMPORT_INLINE_BYTES:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.RUNNING, worker_pid=os.getpid(), heartbeat=timezone.now()
        )
        try:
            run(job.pk)
        except DatabaseError as exc:  # the database failed, not the file: the job says so, nothing was saved
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.FAILED,
                finished_at=timezone.now(),
                data=None,
                errors=[{"row": 0, "column": "", "reason": str(exc).splitlines()[0][:300], "code": "failed"}],
            )
        job.refresh_from_db()
        return
    # The worker must see the job row: it is committed before the process starts.
    transaction.on_commit(lambda: spawn_worker(job.pk))


def worker_limits() -> None:
    """Run in the worker before it starts (``preexec_fn``): past HOUSEHOLD_IMPORT_WORKER_MEMORY bytes of address
    space or HOUSEHOLD_IMPORT_WORKER_SECONDS of CPU the job fails alone; the server and its other requests live."""
    memory = settings.HOUSEHOLD_IMPORT_WORKER_MEMORY
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (settings.HOUSEHOLD_IMPORT_WORKER_SECONDS,) * 2)


def spawn_worker(pk: int) -> subprocess.Popen:
    """Start ``manage.py household_import_job pk`` in its own session, on the database this process uses."""
    env = {**os.environ, "DATABASE_URL": _database_url()}
    process = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "household_import_job", str(pk)],
        env=env,
        start_new_session=True,
        preexec_fn=worker_limits,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )  # stderr: the server's log
    ImportJob.objects.filter(pk=pk, status=ImportStatus.QUEUED).update(worker_pid=process.pid, heartbeat=timezone.now())
    return process


def _database_url() -> str:
    # The connection's own settings (under pytest the test database, not the configured one).
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    return f"postgis://{user}:{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _worker_gone(job: ImportJob) -> bool:
    if job.heartbeat and (timezone.now() - job.heartbeat).total_seconds() > HEARTBEAT_STALE_SECONDS:
        return True
    if not job.worker_pid:
        return False
    try:
        with open(f"/proc/{job.worker_pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in (b"Z", b"X")  # a killed child not yet reaped is a zombie: gone all the same


class ProgressReporter:
    """Step and progress of a running job through its own autocommit connection (the import's
    transaction is open and invisible to the page until it commits)."""

    def __init__(self, pk: int):
        self.pk = pk
        self.side = connections.create_connection("default")
        self.stop = threading.Event()
        self.beat = threading.Thread(target=self._heartbeat, name="household-import-heartbeat", daemon=True)

    def started(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        self._update(
            "status = %s, stage = 'start', progress = 1, worker_pid = %s, backend_pid = %s",
            [ImportStatus.RUNNING, os.getpid(), backend],
        )
        self.beat.start()

    def __call__(self, stage: str, fraction: float) -> None:
        self._update("stage = %s, progress = %s", [stage[:40], max(1, min(99, round(fraction * 100)))])

    def failed(self, reason: str) -> None:
        import json

        self._update(
            "status = %s, finished_at = now(), data = NULL, errors = %s::jsonb",
            [
                ImportStatus.FAILED,
                json.dumps([{"row": 0, "column": "", "reason": reason[:300], "code": "failed"}], ensure_ascii=False),
            ],
        )

    def close(self) -> None:
        self.stop.set()
        if self.beat.is_alive():
            self.beat.join()
        self.side.close()

    def _heartbeat(self) -> None:
        """Every HEARTBEAT_SECONDS while the import runs (one long statement reports no step for minutes):
        its own connection, as a Django connection belongs to the thread that opened it."""
        beat = connections.create_connection("default")
        try:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                with beat.cursor() as cursor:
                    cursor.execute("UPDATE gridmap_importjob SET heartbeat = now() WHERE id = %s", [self.pk])
        finally:
            beat.close()

    def _update(self, assignments: str, params: list) -> None:
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE gridmap_importjob SET {assignments}, heartbeat = now() WHERE id = %s", [*params, self.pk]
            )
