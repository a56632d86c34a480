"""Loaded as a pytest plugin (``-p tests.environment`` in pyproject.toml) before pytest-django reads the settings:
the suite is self-contained, with demo mode, a secret of its own and the data key derived from it (what
tests/test_sealed_fields.py checks). The install's keys (.ci/secrets.sh) never reach a test."""

from __future__ import annotations

import os
import secrets
import tempfile

os.environ.setdefault("DEMO_MODE", "true")
os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
for name in ("GRIDMAP_DATA_KEY", "GRIDMAP_INDEX_KEY", "GRIDMAP_DATA_OLD_KEYS"):
    os.environ.pop(name, None)
# Uploaded files (concern photos) go to a directory of this run, never into the checkout; the live servers of
# the browser and load tests inherit it. Run in parallel (pytest-xdist, `make test`), each worker has its own
# database (pytest-django adds the worker's name), its own uploads and its own temporary directory: two workers'
# concerns share ids, and tests count the temporary files an export leaves.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER:
    os.environ["TMPDIR"] = tempfile.mkdtemp(prefix=f"gridmap-{_WORKER}-")
    tempfile.tempdir = os.environ["TMPDIR"]
if "MEDIA_ROOT" not in os.environ or _WORKER:
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="gridmap-media-")
