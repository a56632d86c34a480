"""Load and faults at a small scale, against a live gunicorn with production-like settings (DEBUG off):
20 concurrent saves of one grid, a short mixed load, the app's database connections terminated under load,
and a gunicorn HUP under load. The full-size runs (and the PostgreSQL restart, which a test suite must not
do to a server it may share) are ``python -m bench.reliability``; figures in docs/reliability.md.

Everything here goes over HTTP to a separate process and reads back committed rows, so these tests use
the session's committed demo street (no per-test transaction) and leave it as they found it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from bench.reliability import scenarios
from bench.reliability.load import Persona
from tests.browser_support import DEMO_PASSWORD

# The marker makes pytest-django create the test database; each test's own statements run in a rolled-back
# transaction, but under READ COMMITTED every statement sees what gunicorn has committed.
pytestmark = pytest.mark.django_db
FAST_THINK = (0.2, 0.6)  # shorter than the 1–3 s of the full run: more requests in a few seconds


def _children(pid: int) -> set[int]:
    return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))


@pytest.fixture(scope="module")
def personas(app, django_db_blocker) -> list[Persona]:
    """Two sessions of each demo field and manager account, on a grid of its scope with households."""
    from django.contrib.auth import get_user_model

    from gridmap import policy

    out = []
    with django_db_blocker.unblock():
        for username in ("wanggezhang", "wanggeyuan", "shequ", "jiedao"):
            user = get_user_model().objects.get(username=username)
            households = policy.households_for(user).exclude(grid=None)
            grid = policy.grids_for(user).published().filter(pk__in=households.values("grid")).order_by("code")[0]
            ids = list(households.filter(grid=grid).order_by("pk").values_list("pk", flat=True)[:30])
            # disjoint households: two sessions PATCHing one household would rightly get a 412
            out += [Persona(username, grid.pk, grid.boundary.extent, ids[half::2]) for half in (0, 1)]
    return out


def test_twenty_concurrent_saves_of_one_grid_give_one_200_nineteen_412_and_nothing_lost(app, django_db_blocker):
    from gridmap.models import Grid

    grid = Grid.objects.published().order_by("code")[0]
    before = Grid.objects.get(pk=grid.pk)
    result = scenarios.concurrent_edits(app.base, grid.pk, "jiedao", writers=20, rounds=2, password=DEMO_PASSWORD)
    for r in result["rounds_detail"]:
        assert (r["ok"], r["conflict"], r["other"]) == (1, 19, [])
        assert r["version_bumps"] == 1 and r["stored_is_winners"]
    assert result["lost_updates"] == 0
    after = Grid.objects.get(pk=grid.pk)  # each round discarded its draft: published shape untouched
    assert after.draft_boundary is None and after.boundary.equals_exact(before.boundary, 1e-9)


def test_twenty_concurrent_household_edits_lose_nothing_on_the_page_api_and_rest(app, django_db_blocker):
    """Trust finding 8: the grid leader's page API answered 20 x 200 and kept the last write; now it holds the
    one concurrency rule as REST does."""
    from django.contrib.auth import get_user_model

    from gridmap import policy
    from gridmap.models import Household

    leader = get_user_model().objects.get(username="wanggezhang")
    household = policy.households_for(leader).exclude(grid=None).order_by("pk")[0]
    before = Household.objects.get(pk=household.pk).address
    result = scenarios.concurrent_household_edits(app.base, household.pk, "wanggezhang", password=DEMO_PASSWORD)
    for way in ("page", "rest"):
        assert (result[way]["ok"], result[way]["conflict"], result[way]["other"]) == (1, 19, []), result
        assert result[way]["stored_is_winners"], result
    assert result["lost_updates"] == 0
    assert Household.objects.get(pk=household.pk).address == before


def test_twenty_parallel_wrong_passwords_check_no_more_than_the_lockout_allows(app, django_db_blocker):
    """Trust finding 11: 20 parallel wrong passwords were checked 6 times before the lock (limit 5)."""
    from django.conf import settings

    result = scenarios.parallel_wrong_passwords(app.base, "probe-lockout-race", tries=20)
    assert result["statuses"] == [200] * 20  # the form again, the same answer for all
    assert result["checked"] == settings.LOCKOUT_FAILURES and result["locked_out"] == 20 - settings.LOCKOUT_FAILURES


def test_a_short_mixed_load_has_no_server_errors_and_every_reveal_is_audited(app, personas):
    result = scenarios.mixed(app.base, personas, seconds=6, think=FAST_THINK, password=DEMO_PASSWORD)
    everything = result["summary"]["all"]
    assert everything["n"] > 40, result["summary"]
    assert (everything["5xx"], everything["no_answer"], everything["4xx"]) == (0, 0, 0), result["summary"]
    assert all(result["summary"][kind]["n"] > 0 for kind in ("read", "layer", "write"))
    assert result["audit"]["exact"], result["audit"]  # every request answered: rows = successes exactly
    assert result["audit"]["done"]["reveal_audit"] > 0 and result["patches"] + result["audit"]["done"]["visits"] > 0


def test_terminated_database_connections_under_load_give_no_500_and_the_app_recovers(app, personas):
    name = settings.DATABASES["default"]["NAME"]

    def cut_twice():
        first = scenarios.terminate_backends(name)
        time.sleep(1.5)
        return {"terminated": first + scenarios.terminate_backends(name)}

    result = scenarios.under_fault(
        app.base, personas, cut_twice, seconds=7, think=FAST_THINK, fault_after=3, password=DEMO_PASSWORD
    )
    fault = result["fault"]
    assert fault["detail"]["terminated"] >= 2  # the app had connections open, and lost them
    assert fault["http_500"] == 0 and fault["no_answer"] == 0, fault
    assert fault["recovered_after_s"] is not None and fault["recovered_after_s"] < 10, fault
    late = [s for s in result["samples"] if s.started > time.monotonic() - 2]
    assert late and all(200 <= s.status < 300 for s in late)  # serving normally again, without a restart


def test_a_gunicorn_hup_under_load_fails_no_request(app, personas):
    workers = _children(app.process.pid)
    result = scenarios.under_fault(
        app.base,
        personas,
        lambda: scenarios.hup(app),
        seconds=7,
        think=FAST_THINK,
        fault_after=3,
        password=DEMO_PASSWORD,
    )
    assert result["fault"]["failed"] == 0 and result["summary"]["all"]["4xx"] == 0, result["fault"]
    assert result["summary"]["all"]["n"] > 50
    # The workers were really replaced. Old workers finish their requests first (graceful timeout), and on a
    # loaded machine that takes a moment: poll with a deadline instead of expecting them gone at once.
    deadline = time.monotonic() + 40  # beyond graceful_timeout (30 s, gunicorn.conf.py)
    while workers & _children(app.process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not workers & _children(app.process.pid)
