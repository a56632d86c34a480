"""The app's database connections carry the session settings the benchmarks are measured with (issue #16):
set by the app itself, so bench/ has none of its own and an external PostGIS gets them too."""

from __future__ import annotations

import pathlib

from django.db import connection

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_connection_runs_without_jit_and_with_the_measured_work_mem(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        assert cursor.fetchone() == ("off", "64MB")


def test_the_bench_sets_no_session_setting_of_its_own():
    for path in (ROOT / "bench").rglob("*.py"):
        text = path.read_text().lower()
        for statement in ("alter database", "set jit", "set work_mem", "set max_parallel", "set local"):
            assert statement not in text, f"{path.relative_to(ROOT)} sets {statement!r}"
