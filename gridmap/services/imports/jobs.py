"""The one job mechanism of every import (households, streets, communities, stations, grids, reference layers): a row
per upload, run in the request when small, else in a worker process started here (no queue server).

A kind's module (``KIND_MODULES``) holds what is specific: its rights, its size rule, ``run(pk, reporter=)``
(the import core in one transaction, the outcome written on the row inside it), ``describe(job)`` (the body its
status answers) and ``commit(user, pk)``. Everything else is here: storing the upload sealed
(storage/sealed_fields.seal_upload), the choice between request and worker, the worker process
``manage.py import_job <id>`` under memory and CPU limits, its heartbeat and progress through a second
database connection (the import's transaction is invisible to the page until it commits), the detection of a
dead worker (process gone or heartbeat stale → the job is failed; its transaction rolled back, so nothing is
half-saved), and the purge of the files of previews nobody committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
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

from gridmap import policy
from gridmap.models import ImportJob, ImportStatus
from gridmap.services.refused import Refused, not_found
from gridmap.storage import sealed_fields

# A preview's file (sealed) waits this long for its commit, then is purged.
PREVIEW_KEEP = dt.timedelta(minutes=15)
HEARTBEAT_SECONDS = 10  # a worker touches its job this often
HEARTBEAT_STALE_SECONDS = 120  # a running job whose worker has not reported for this long has died
ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)
KIND_MODULES = {
    "households": "gridmap.services.households.import_jobs",
    **dict.fromkeys(
        ("streets", "communities", "stations", "grids", "reference"), "gridmap.services.imports.layer_jobs"
    ),
}
WORKER_COMMAND = "import_job"


def kind_module(kind: str):
    """The module of one kind of import (imported when first used: the kinds' modules import this one)."""
    return importlib.import_module(KIND_MODULES[kind])


def store(user, kind: str, data: bytes, *, filename: str, dry_run: bool, **fields) -> ImportJob:
    """A new job row holding the upload sealed; the user's earlier previews of this kind lose their files."""
    purge_previews()
    ImportJob.objects.filter(user=user, kind=kind, status=ImportStatus.PREVIEWED, data__isnull=False).update(data=None)
    return ImportJob.objects.create(
        user=user,
        kind=kind,
        filename=Path(filename or "").name[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        dry_run=dry_run,
        data=sealed_fields.seal_upload(data),  # phones and ID numbers: never plaintext at rest
        **fields,
    )


def purge_previews() -> int:
    """Drop the files of previews nobody committed within PREVIEW_KEEP (each upload, poll and commit calls it)."""
    return ImportJob.objects.filter(
        status=ImportStatus.PREVIEWED, finished_at__lt=timezone.now() - PREVIEW_KEEP, data__isnull=False
    ).update(data=None)


def find(user, pk: int, *, kinds: tuple[str, ...] | None = None) -> ImportJob:
    """The user's job ``pk`` (404 for another user's, or one of another kind); a job whose worker died is
    marked failed here."""
    purge_previews()
    jobs = policy.import_jobs_for(user).defer("data")  # the file (megabytes) is the worker's to read
    if kinds is not None:
        jobs = jobs.filter(kind__in=kinds)
    job = jobs.filter(pk=pk).first()
    if job is None:
        raise not_found("job")
    if job.status in ACTIVE and worker_gone(job):
        fail(job.pk, _("导入进程意外终止，数据库未作任何改动"))
        job.refresh_from_db()
    return job


def reopen(user, pk: int, *, kinds: tuple[str, ...]) -> ImportJob:
    """The clean preview ``pk`` queued again as the real import of the same stored bytes."""
    purge_previews()  # an expired preview has no file left to commit
    with transaction.atomic():
        jobs = policy.import_jobs_for(user).filter(kind__in=kinds).defer("result", "points")
        job = jobs.select_for_update().filter(pk=pk).first()
        if job is None:
            raise not_found("job")
        if job.status != ImportStatus.PREVIEWED or not job.dry_run or job.data is None:
            raise Refused(409, "not_previewed", field="job", detail=_("只有无错误的预检结果才能导入"))
        job.dry_run, job.status, job.progress, job.stage = False, ImportStatus.QUEUED, 0, ""
        job.result = {}  # the preview's answer (every row's shape) gives way to the import's
        job.save(update_fields=["dry_run", "status", "progress", "stage", "result"])
    return job


def dispatch(job: ImportJob, *, inline: bool) -> None:
    """Run the job here (``inline``: a small file) or hand it to a worker process once the row is committed."""
    if not inline:
        # The worker must see the job row: it is committed before the process starts.
        transaction.on_commit(lambda: spawn_worker(job.pk))
        return
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, worker_pid=os.getpid(), heartbeat=timezone.now()
    )
    try:
        kind_module(job.kind).run(job.pk)
    except DatabaseError as exc:  # the database failed, not the file: the job says so, nothing was saved
        fail(job.pk, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except BaseException:  # a fault of ours: the job must not stay "running" in a process that lives on
        fail(job.pk, _("导入进程意外终止，数据库未作任何改动"))
        raise
    job.refresh_from_db()


def run(pk: int, *, reporter=None) -> ImportJob:
    """Run job ``pk`` in this process by its kind (the worker command's entry)."""
    kind = ImportJob.objects.filter(pk=pk).values_list("kind", flat=True).get()
    return kind_module(kind).run(pk, reporter=reporter)


def fail(pk: int, reason: str) -> None:
    """Job ``pk`` failed (nothing of it was saved): its file is dropped, the reason is its one error."""
    ImportJob.objects.filter(pk=pk, status__in=ACTIVE).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(), data=None, errors=failure(reason)
    )


def failure(reason: str) -> list[dict]:
    return [{"row": 0, "column": "", "reason": reason[:300], "code": "failed"}]


def worker_limits() -> None:
    """Run in the worker before it starts (``preexec_fn``): past HOUSEHOLD_IMPORT_WORKER_MEMORY bytes of address
    space or HOUSEHOLD_IMPORT_WORKER_SECONDS of CPU the job fails alone; the server and its other requests live."""
    memory = settings.HOUSEHOLD_IMPORT_WORKER_MEMORY
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (settings.HOUSEHOLD_IMPORT_WORKER_SECONDS,) * 2)


def spawn_worker(pk: int) -> subprocess.Popen:
    """Start ``manage.py import_job pk`` in its own session, on the database this process uses."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    process = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), WORKER_COMMAND, str(pk)],
        env=env,
        start_new_session=True,
        preexec_fn=worker_limits,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )  # stderr: the server's log
    ImportJob.objects.filter(pk=pk, status=ImportStatus.QUEUED).update(worker_pid=process.pid, heartbeat=timezone.now())
    return process


def database_url() -> str:
    """The connection's own settings (under pytest the test database, not the configured one)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    return f"postgis://{user}:{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_gone(job: ImportJob) -> bool:
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
    transaction is open and invisible to the page until it commits). Called as ``reporter(stage, fraction)``."""

    def __init__(self, pk: int):
        self.pk = pk
        self.side = connections.create_connection("default")
        self.stop = threading.Event()
        self.beat = threading.Thread(target=self._heartbeat, name="import-job-heartbeat", daemon=True)

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
        self._update(
            "status = %s, finished_at = now(), data = NULL, errors = %s::jsonb",
            [ImportStatus.FAILED, json.dumps(failure(reason), ensure_ascii=False)],
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
