"""Layer imports (streets, communities, stations: services/layers/importing.import_layer), grid file imports
(services/grids/file_import.import_grids) and reference layer imports (services/layers/reference.import_reference)
as jobs on the one job mechanism (services/imports/jobs.py).

The rights are the inline path's own, checked when the job starts, when its preview is committed, and again by
the import itself when it runs. A file up to ``LAYER_IMPORT_INLINE_BYTES`` (as uploaded) runs in the request
and is answered as before; a larger one runs in a worker process and the page polls its status. Either way
the job's ``result`` is the body the inline answer has, and its ``counts["http_status"]`` that answer's status.
A preview keeps the file (sealed) for its commit, which imports the same bytes. A reference layer has no
preview: its job imports at once (``target_id`` its street, none for the whole city; ``options["layer"]`` its kind).
"""

from __future__ import annotations

import inspect
import io
import zipfile

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from geodata.io import check_zip
from geodata.tables import MAX_INFLATED
from geodata.validation import GeometryRejected
from gridmap.models import ImportJob, ImportStatus
from gridmap.models.imports import ImportKind
from gridmap.services.grids import editing as grid_editing
from gridmap.services.grids.file_import import import_grids
from gridmap.services.imports import jobs
from gridmap.services.layers import importing as layer_import
from gridmap.services.layers import reference
from gridmap.services.refused import Refused
from gridmap.storage import sealed_fields

LAYER_KINDS = (ImportKind.STREETS, ImportKind.COMMUNITIES, ImportKind.STATIONS)
KINDS = (*LAYER_KINDS, ImportKind.GRIDS)  # those with a preview to commit
CHECKING = (0.05, 0.9)  # the share of the bar the row checks fill: reading before, writing after


def start_layer(user, layer: str, data: bytes, *, filename: str, dry_run: bool, source_crs, encoding, ip=None):
    """Check the rights (as the inline path: 404 unknown layer, 403), store the job, run it here or in a worker."""
    layer_import.check_rights(user, layer)
    return _start(user, layer, data, filename, dry_run, source_crs, encoding, ip, target_id=None)


def start_grids(user, community_id: int, data: bytes, *, filename: str, dry_run: bool, source_crs, encoding):
    """Check the rights on the community (404 out of scope, 403), store the job, run it here or in a worker."""
    grid_editing.check_rights(user, community_id)
    return _start(user, ImportKind.GRIDS, data, filename, dry_run, source_crs, encoding, None, target_id=community_id)


def start_reference(user, layer: str, data: bytes, *, street_id, filename: str, source_crs, encoding, ip=None):
    """Check the kind (400), the rights (403) and the street (404 out of scope), store the job, run it here or in
    a worker. No preview: the job replaces the street's layer of that kind."""
    street = reference.check_rights(user, layer, street_id)
    target = street.pk if street else None
    return _start(
        user, ImportKind.REFERENCE, data, filename, False, source_crs, encoding, ip, target_id=target, layer=layer
    )


def _start(user, kind, data, filename, dry_run, source_crs, encoding, ip, *, target_id, **extra) -> ImportJob:
    inline = len(data) <= settings.LAYER_IMPORT_INLINE_BYTES
    if not inline:
        _refuse_by_the_zip_directory(data)
    options = {"source_crs": source_crs, "encoding": encoding, "ip": ip, "language": translation.get_language()}
    options.update(extra)
    job = jobs.store(
        user,
        kind,
        data,
        filename=filename,
        dry_run=dry_run,
        source_crs=(source_crs or "")[:20],
        target_id=target_id,
        options=options,
    )
    jobs.dispatch(job, inline=inline)
    return job


def _refuse_by_the_zip_directory(data: bytes) -> None:
    """What the import would refuse from a zip's directory alone (a bomb, a table past its size) is refused
    at once, in the request, as the import refuses it: nothing is inflated for that."""
    if not data.startswith(b"PK\x03\x04"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" in archive.namelist():  # a table: its own limit on the XML it inflates to
                if sum(entry.file_size for entry in archive.infolist()) > MAX_INFLATED:
                    raise GeometryRejected("too_large", field="file", too_large=True)
            else:
                check_zip(archive)
    except zipfile.BadZipFile:
        return  # the import names what is wrong with it
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc) from None


def commit(user, pk: int) -> ImportJob:
    """Import for real the file of a clean preview (the same bytes, every row checked again)."""
    check_rights(user, jobs.find(user, pk, kinds=KINDS))
    job = jobs.reopen(user, pk, kinds=KINDS)
    size = len(sealed_fields.unseal_upload(job.data))
    jobs.dispatch(job, inline=size <= settings.LAYER_IMPORT_INLINE_BYTES)
    return job


def check_rights(user, job: ImportJob) -> None:
    if job.kind == ImportKind.GRIDS:
        grid_editing.check_rights(user, job.target_id)
    elif job.kind == ImportKind.REFERENCE:
        reference.check_rights(user, job.options.get("layer"), job.target_id)
    else:
        layer_import.check_rights(user, job.kind)


def status(user, pk: int) -> dict:
    """The job as the page polls it (404 for another user's job); a job whose worker died is failed here."""
    return describe(jobs.find(user, pk, kinds=(*KINDS, ImportKind.REFERENCE)))


def describe(job: ImportJob) -> dict:
    """Step and progress while the job runs; once it ended, the body and status its inline answer has."""
    finished = job.status not in jobs.ACTIVE
    failed = job.status == ImportStatus.FAILED  # the worker or the database, not the file: nothing was saved
    return {
        "id": job.pk,
        "kind": job.kind,
        "target": job.target_id,
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "dry_run": job.dry_run,
        "filename": job.filename,
        "errors": job.errors if failed else [],
        "http_status": 503 if failed else job.counts.get("http_status", 200) if finished else 202,
        "result": job.result if finished and not failed else None,
    }


def run(pk: int, *, reporter=None) -> ImportJob:
    """Run job ``pk`` in this process: the import in one transaction with its outcome on the row."""
    job = ImportJob.objects.get(pk=pk)
    tell = reporter or (lambda stage, fraction: None)
    tell("read", CHECKING[0] / 2)
    with translation.override(job.options.get("language") or settings.LANGUAGE_CODE):
        try:
            with transaction.atomic():
                result, status = _import(job, _RowProgress(tell))
                tell("write", CHECKING[1])
                _finish(job, result, status)
        except Refused as exc:  # the file itself (format, coordinate system, rights): nothing was saved
            _finish(job, exc.as_json(), exc.status)
    return job


def _import(job: ImportJob, progress) -> tuple[dict, int]:
    if job.user is None:
        raise Refused(403, "forbidden")
    data = sealed_fields.unseal_upload(job.data)
    options = {
        "dry_run": job.dry_run,
        "source_crs": job.options.get("source_crs"),
        "encoding": job.options.get("encoding"),
    }
    if job.kind == ImportKind.REFERENCE:
        result = reference.import_reference(
            job.user,
            job.options.get("layer") or "",
            data,
            street_id=job.target_id,
            source_crs=options["source_crs"],
            encoding=options["encoding"],
            filename=job.filename,
            request=_Origin(job.options.get("ip")),
            **_progress(reference.import_reference, progress),
        )
        return result, 201
    if job.kind == ImportKind.GRIDS:
        result = import_grids(job.user, job.target_id, data, **options, **_progress(import_grids, progress))
        failed = bool(result["errors"])
    else:
        result = layer_import.import_layer(
            job.user,
            job.kind,
            data,
            **options,
            request=_Origin(job.options.get("ip")),
            filename=job.filename,
            **_progress(layer_import.import_layer, progress),
        )
        failed = bool(result["error_count"])
    return result, 400 if failed else (200 if result["dry_run"] else 201)


def _progress(function, progress) -> dict:
    """``progress=`` for an import that reports its rows (``progress(done, total)``), nothing for one that does not."""
    return {"progress": progress} if "progress" in inspect.signature(function).parameters else {}


def _finish(job: ImportJob, result: dict, status: int) -> None:
    if status >= 400:
        job.status = ImportStatus.REFUSED
    else:
        job.status = ImportStatus.PREVIEWED if job.dry_run else ImportStatus.DONE
    job.result = result
    job.counts = {"http_status": status, "features": result.get("features", 0)}
    job.errors = result.get("errors") or ([result] if status >= 400 else [])
    job.error_count = result.get("error_count", len(job.errors))
    job.progress, job.stage, job.finished_at = 100, "done", timezone.now()
    if job.status != ImportStatus.PREVIEWED:
        job.data = None  # the bytes are kept only while a preview waits for its commit
    job.save()


class _RowProgress:
    """``progress(done, total)`` of the row checks as the job's percentage, written when the percentage moves."""

    def __init__(self, tell):
        self.tell, self.last = tell, -1

    def __call__(self, done: int, total: int) -> None:
        fraction = CHECKING[0] + (CHECKING[1] - CHECKING[0]) * min(1.0, done / max(total, 1))
        if round(fraction * 100) != self.last:
            self.last = round(fraction * 100)
            self.tell("check", fraction)


class _Origin:
    """What the audit reads of a request (the client's address) for an import run outside the request."""

    def __init__(self, ip: str | None):
        self.META = {"REMOTE_ADDR": ip} if ip else {}  # noqa: N815 (HttpRequest's name)
