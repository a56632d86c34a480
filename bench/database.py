"""The benchmark database: ``<dbname>_bench`` beside the configured one, dropped and recreated every run.

Django is configured only after :func:`prepare` has pointed ``DATABASE_URL`` at the bench database, so
nothing a benchmark does can touch the development or demo data.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from urllib.parse import urlparse, urlunparse

import psycopg2
from psycopg2 import sql

DEFAULT_URL = "postgis://gridmap:gridmap@127.0.0.1:5432/gridmap"

# No session settings of its own: every connection of the bench is the app's (gridmap/settings.py
# DB_SESSION_OPTIONS), so the figures are those of the product as shipped.


def _dsn(url: str, dbname: str | None = None) -> str:
    parts = urlparse(url)
    scheme = "postgresql"
    path = "/" + (dbname if dbname is not None else parts.path.lstrip("/"))
    return urlunparse((scheme, parts.netloc, path, "", "", ""))


def bench_url(url: str) -> str:
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "gridmap"
    return urlunparse((parts.scheme, parts.netloc, f"/{name}_bench", "", parts.query, ""))


def recreate(url: str) -> str:
    """Drop and create the bench database next to ``url``'s; return the bench URL."""
    target = bench_url(url)
    name = urlparse(target).path.lstrip("/")
    conn = psycopg2.connect(_dsn(url))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    return target


def prepare() -> str:
    """Recreate the bench database, point Django at it, set Django up and migrate. Returns the URL."""
    base = os.environ.get("DATABASE_URL", DEFAULT_URL)
    target = recreate(base)
    os.environ["DATABASE_URL"] = target
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    os.environ.setdefault("DEMO_MODE", "true")
    os.environ["DB_CONN_MAX_AGE"] = "0"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return target


def prepare_city(households: int, *, grids: int | None = None, stations: int = 20, seed: int = 20261122) -> str:
    """:func:`prepare`, then a synthetic city of ``households`` loaded as the app loads one, with fresh
    statistics (the set-up of the stand-alone runs of one bench module). Returns the URL."""
    url = prepare()
    from django.db import connection

    from geodata.synth import build_city
    from gridmap.services.layers.city_loader import load_city

    load_city(build_city(households, n_grids=grids or max(households // 500, 5), n_stations=stations, seed=seed))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return url


def _meminfo_gb() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def describe_machine() -> dict:
    """Cores, RAM, CPU, OS, Python, PostgreSQL/PostGIS versions and the server settings that matter."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT version(), postgis_full_version()")
        pg, postgis = cur.fetchone()
        settings = {}
        for name in (
            "shared_buffers",
            "work_mem",
            "maintenance_work_mem",
            "jit",
            "max_parallel_workers_per_gather",
            "effective_cache_size",
            "random_page_cost",
            "synchronous_commit",
            "max_wal_size",
        ):
            cur.execute(sql.SQL("SHOW {}").format(sql.Identifier(name)).as_string(cur.cursor))
            settings[name] = cur.fetchone()[0]
    import numpy
    import pandas
    import shapely

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "ram_gb": _meminfo_gb(),
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": pg.split(" on ")[0],
        "postgis": postgis.split(" ")[0].split("=")[1].strip('"'),
        "postgis_full": postgis,
        "server_settings": settings,
        "libraries": {"numpy": numpy.__version__, "pandas": pandas.__version__, "shapely": shapely.__version__},
    }
