"""Export and import endpoints for geodata (issue #7). Thin: parse, call one service, answer.

``GET /api/exports/<layer>.<fmt>`` streams a masked export; ``POST`` to the same URL with a ``reason``
exports full personal data (resident roles only, audited; it changes no object). ``POST
/api/v1/imports/<layer>`` takes a multipart ``file`` (+ ``dry_run``=1 by default, ``source_crs``,
``encoding``) for streets, communities or stations: rows are created or updated by code, so no If-Match.
The import runs as a job (services/imports/layer_jobs.py): a small file in the request, answered as ever,
a large one in a worker, answered 202 with the job's status URL (api/import_jobs.py).
Every refusal is the one JSON error body (api/jsonapi.py).
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse

from geodata.io import MAX_BYTES
from gridmap.api import import_jobs
from gridmap.api.jsonapi import endpoint, upload
from gridmap.services.audit import client_address
from gridmap.services.imports import layer_jobs
from gridmap.services.layers import exports
from gridmap.services.layers import importing as layer_import
from gridmap.services.layers.rows import refused

ENCODINGS = ("UTF-8", "GBK", "GB18030", "BIG5")


@endpoint(reads=("POST",))
def export(request: HttpRequest, layer: str, fmt: str) -> HttpResponse:
    full = request.method == "POST"  # full values only by POST: the reason never sits in a URL or a log line
    result = exports.export_layer(
        request.user, layer, fmt, full=full, reason=request.POST.get("reason", "") if full else "", request=request
    )
    response = FileResponse(result.file, as_attachment=True, filename=result.filename, content_type=result.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Export-Rows"] = str(result.rows)
    return response


@endpoint(creates=("POST",), get=False)
def import_layer(request: HttpRequest, layer: str) -> HttpResponse:
    layer_import.check_rights(request.user, layer)  # who may, before anything of the upload is read
    found = upload(request, MAX_BYTES)
    encoding = (request.POST.get("encoding") or "").strip().upper() or None
    if encoding and encoding not in ENCODINGS:
        raise refused(400, "unknown_encoding", "encoding", encoding[:20])
    job = layer_jobs.start_layer(
        request.user,
        layer,
        found.read(),
        dry_run=request.POST.get("dry_run", "1") not in ("0", "false"),
        source_crs=(request.POST.get("source_crs") or "").strip() or None,
        encoding=encoding,
        ip=client_address(request),
        filename=found.name or "",
    )
    return import_jobs.answer(job)  # done here: the result as always; a large file: 202 and the job's status URL
