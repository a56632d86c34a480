"""Trust finding 6: a 1.9 MB XLSX whose shared strings inflate 92x ran in the request until gunicorn killed the
worker; a 9.3 MB station XLSX took 27.5 s and ~1 GB in the request. Now what a table inflates to decides: a
layer table past MAX_INFLATED is refused before openpyxl reads it, and a household file that inflates past the
inline limit is parsed by a worker process with memory and CPU limits, never in the request."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import time
import zipfile

import pytest
from django.conf import settings

from geodata import sheets, tables
from geodata.validation import GeometryRejected
from gridmap.models import ImportJob, ImportStatus
from gridmap.services.households import import_jobs
from gridmap.services.imports import jobs
from tests.exchange_support import upload as layer_upload
from tests.test_household_import_web import upload


def _inflating_xlsx(inflated: int) -> bytes:
    """A workbook whose shared strings inflate to ``inflated`` bytes at a ratio far under the bomb check."""
    draw = random.Random(6)  # 16 characters drawn at random: ~6x compression, like a real sheet's text
    alphabet = [chr(0x4E00 + 97 * i) for i in range(16)]
    text = "".join(draw.choices(alphabet, k=inflated // 3)).encode()
    body = b"<sst>" + b"".join(b"<si><t>" + text[i : i + 3000] + b"</t></si>" for i in range(0, len(text), 3000))
    body += b"</sst>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", body)
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


def test_the_inflated_size_is_read_from_the_zip_directory_not_by_inflating():
    data = _inflating_xlsx(40_000_000)
    assert len(data) < 15_000_000 and sheets.inflated_size(data) > 40_000_000
    assert sheets.inflated_size(b"a,b\n1,2\n") == 8


def test_a_layer_table_inflating_past_the_limit_is_refused_before_parsing(client_for):
    data = _inflating_xlsx(tables.MAX_INFLATED + 5_000_000)
    started = time.perf_counter()
    with pytest.raises(GeometryRejected) as refused:
        tables.read_table(data, source_crs="WGS84")
    assert refused.value.code == "too_large" and time.perf_counter() - started < 2
    answer = layer_upload(client_for("street_admin"), "stations", data, "s.xlsx", source_crs="WGS84")
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"


def test_a_household_file_that_inflates_past_the_inline_limit_goes_to_a_worker(client_for, monkeypatch):
    data = _inflating_xlsx(settings.HOUSEHOLD_IMPORT_INLINE_BYTES * 3)
    assert len(data) <= settings.HOUSEHOLD_IMPORT_INLINE_BYTES  # small as uploaded: it used to run inline
    started = []
    monkeypatch.setattr(jobs, "spawn_worker", lambda pk: started.append(pk))
    monkeypatch.setattr(import_jobs, "run", lambda *a, **k: pytest.fail("parsed in the request"))
    answer = upload(client_for("street_admin"), data, "h.xlsx")
    assert answer.status_code in (200, 202)
    job = ImportJob.objects.get(pk=answer.json()["id"])
    assert job.status == ImportStatus.QUEUED


def test_the_worker_runs_under_memory_and_cpu_limits(settings):
    settings.HOUSEHOLD_IMPORT_WORKER_MEMORY, settings.HOUSEHOLD_IMPORT_WORKER_SECONDS = 3 * 1024**3, 600
    show = (
        "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU)[0])"
    )
    out = subprocess.run([sys.executable, "-c", show], preexec_fn=jobs.worker_limits, capture_output=True, text=True)
    assert out.stdout.split() == [str(3 * 1024**3), "600"]
    eat = "bytearray(4 * 1024**3)"  # more than the limit: the worker fails, alone
    assert (
        subprocess.run([sys.executable, "-c", eat], preexec_fn=jobs.worker_limits, capture_output=True).returncode != 0
    )
