"""Loaded as a pytest plugin (``-p tests.environment`` in pyproject.toml) before pytest-django reads the settings:
the suite is self-contained, with demo mode, a secret of its own and the data key derived from it (what
tests/test_sealed_fields.py checks). The install's keys (.ci/secrets.sh) never reach a test."""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("DEMO_MODE", "true")
os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
for name in ("GRIDMAP_DATA_KEY", "GRIDMAP_INDEX_KEY", "GRIDMAP_DATA_OLD_KEYS"):
    os.environ.pop(name, None)
# Uploaded files (concern photos) go to a directory of this run, never into the checkout; the live servers of
# the browser and load tests inherit it.
if "MEDIA_ROOT" not in os.environ:
    import tempfile

    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="gridmap-media-")
