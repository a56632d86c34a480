"""Shared fixtures. The database is real PostGIS (DATABASE_URL); the demo street is loaded once per
session into the test database and every test runs in a transaction that is rolled back."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("DEMO_MODE", "true")  # tests/environment.py, loaded before the settings, sets the rest

import pytest  # noqa: E402
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon  # noqa: E402
from django.core.management import call_command  # noqa: E402

from tests.browser_support import DEMO_PASSWORD, browser, live_app  # noqa: E402,F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
ROLE_USERS = {
    "system_admin": "admin",
    "street_admin": "jiedao",
    "community_staff": "shequ",
    "grid_leader": "wanggezhang",
    "grid_worker": "wanggeyuan",
    "planner": "guihua",
}


# With pytest-xdist (`make test` runs two workers, `--dist loadgroup`), these run one after another on one worker
# while the other worker takes everything else: browser tests, and tests that time a server under load or kill
# its connections, measure what they see and would only measure each other side by side.
SERIAL_MODULES = {"test_reliability", "test_household_import_kill", "test_import_jobs_server", "test_bounded_work"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        module = getattr(getattr(item, "module", None), "__name__", "")  # doctests have none
        if item.get_closest_marker("browser") or module.rsplit(".", 1)[-1] in SERIAL_MODULES:
            item.add_marker(pytest.mark.xdist_group("serial"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the demo street once, committed, so a live server process sees it too."""
    from django.db import connection

    from gridmap.services.accounts.demo_accounts import ensure_demo_accounts

    with django_db_blocker.unblock():
        # Without the demo year of concerns: tests make the concerns they count (test_concerns.py loads the year).
        call_command("load_demo", "--no-accounts", "--no-concerns", verbosity=0)
        ensure_demo_accounts(DEMO_PASSWORD)
    yield
    # Servers started by browser tests may leave a backend behind; end it so the database can be dropped.
    # The fault tests terminate backends of this database (threads' connections included), so this one
    # may be gone: start from a fresh connection. Only our own sessions: an autovacuum worker belongs to
    # the superuser, and terminating it is refused.
    connection.close()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename = current_user"
        )


@pytest.fixture
def user_for(db):
    from django.contrib.auth import get_user_model

    def get(role: str):
        return get_user_model().objects.get(username=ROLE_USERS[role])

    return get


@pytest.fixture
def client_for(client, user_for):
    """``client_for("grid_leader")`` → a test client logged in as that demo persona."""

    def login(role: str):
        client.force_login(user_for(role))
        return client

    return login


def _multi(geometry: dict) -> MultiPolygon:
    geom = GEOSGeometry(json.dumps(geometry), srid=4326)
    return geom if geom.geom_type == "MultiPolygon" else MultiPolygon(geom, srid=4326)


@pytest.fixture
def small_street(db):
    """The hand-made street of fixtures/small_street.geojson: 2 communities, 3 published grids sharing edges,
    5 households (one exactly on a shared grid edge, one outside the street) and a 500 m station."""
    from gridmap.models import Community, Grid, GridStatus, Household, ServiceStation, Street

    features = json.loads((ROOT / "fixtures" / "small_street.geojson").read_text())["features"]
    out = {"grids": {}, "households": {}, "communities": {}}
    for f in features:
        p, geometry = f["properties"], f["geometry"]
        if p["layer"] == "street":
            out["street"] = Street.objects.create(code=p["code"], name=p["name"], boundary=_multi(geometry))
        elif p["layer"] == "community":
            out["communities"][p["code"]] = Community.objects.create(
                code=p["code"], name=p["name"], street=out["street"], boundary=_multi(geometry)
            )
        elif p["layer"] == "grid":
            out["grids"][p["code"]] = Grid.objects.create(
                code=p["code"],
                name=p["name"],
                community=out["communities"][p["community"]],
                boundary=_multi(geometry),
                status=GridStatus.PUBLISHED,
            )
        elif p["layer"] == "household":
            out["households"][p["key"]] = Household.objects.create(
                location=GEOSGeometry(json.dumps(geometry), srid=4326),
                address=p["address"],
                head_name=p["head_name"],
                phone=p["phone"],
                id_number=p["id_number"],
            )
        elif p["layer"] == "station":
            out["station"] = ServiceStation.objects.create(
                name=p["name"],
                location=GEOSGeometry(json.dumps(geometry), srid=4326),
                radius_m=p["radius_m"],
                community=out["communities"][p["community"]],
            )
    return out


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker):
    """gunicorn with production-like settings serving the test database (bench/reliability/server.py), for
    tests that go over HTTP to a separate process and read back what it committed."""
    from django.conf import settings

    from bench.reliability.server import Gunicorn

    db = settings.DATABASES["default"]
    url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with Gunicorn(url, workers=2) as server, django_db_blocker.unblock():
        yield server
