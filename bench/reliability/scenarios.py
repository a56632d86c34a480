"""The load and fault scenarios (security.md (d) T3, T7, T9, T10), each a function of a running gunicorn
and personas, returning a dict of figures. Used by ``python -m bench.reliability`` (full runs on the bench
database) and, at a small scale, by tests/test_reliability.py (the test database's demo street).

Django must be set up in the calling process (for the accounts and the before/after row counts); the
requests themselves go over HTTP to gunicorn, never through Django's test client.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import threading
import time

import requests
import shapely
import shapely.affinity
import shapely.geometry

from bench.reliability.load import Persona, clone, run_load, sign_in, summarise

PASSWORD = "Reliability-bench-2026"


# -- accounts -----------------------------------------------------------------------------------------


def personas_for(n: int, *, households_per_grid: int = 50) -> list[Persona]:
    """``n`` grid workers (full-time), each assigned to one of the ``n`` most populated published grids."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from gridmap.models import AssignmentRole, Grid, GridAssignment, Household, Member, Profile, Role

    grids = list(Grid.objects.published().annotate(n=Count("households")).filter(n__gt=0).order_by("-n", "pk")[:n])
    users, out = get_user_model().objects, []
    for i, grid in enumerate(grids):
        user, _ = users.get_or_create(username=f"rel_worker_{i:03d}")
        user.set_password(PASSWORD)
        user.is_active = True
        user.save()
        Profile.objects.update_or_create(
            user=user, defaults={"role": Role.GRID_WORKER, "street": None, "community": None}
        )
        member, _ = Member.objects.get_or_create(
            user=user, defaults={"name": f"压测网格员{i}", "community": grid.community}
        )
        GridAssignment.objects.active().filter(member=member).exclude(grid=grid).update(end_date=dt.date.today())
        GridAssignment.objects.get_or_create(
            member=member,
            grid=grid,
            role=AssignmentRole.FULLTIME,
            end_date=None,
            defaults={"start_date": dt.date.today() - dt.timedelta(days=1)},
        )
        ids = list(
            Household.objects.filter(grid=grid).order_by("pk").values_list("pk", flat=True)[:households_per_grid]
        )
        out.append(Persona(user.username, grid.pk, grid.boundary.extent, ids))
    return out


def street_admin_for(grid_id: int) -> str:
    """A street admin of the grid's street (created if need be); returns the username."""
    from django.contrib.auth import get_user_model

    from gridmap.models import Grid, Profile, Role

    street = Grid.objects.select_related("community").get(pk=grid_id).community.street_id
    user, _ = get_user_model().objects.get_or_create(username=f"rel_street_admin_{street}")
    user.set_password(PASSWORD)
    user.save()
    Profile.objects.update_or_create(
        user=user, defaults={"role": Role.STREET_ADMIN, "street_id": street, "community": None}
    )
    return user.username


# -- T3 + T10: mixed load, audit completeness --------------------------------------------------------


def _counts() -> dict:
    from gridmap.models import AuditAction, AuditEvent, Visit

    return {
        "reveal_audit": AuditEvent.objects.filter(action=AuditAction.REVEAL).count(),
        "login_audit": AuditEvent.objects.filter(action=AuditAction.LOGIN).count(),
        "visits": Visit.objects.count(),
    }


def mixed(
    base: str,
    personas: list[Persona],
    *,
    seconds: float,
    think=(1.0, 3.0),
    password: str = PASSWORD,
    during=None,
    cpu=None,
) -> dict:
    """T3 (+ T10): one virtual user per persona for ``seconds``; percentiles per class; then the audit and
    visit rows added must equal the reveals, sign-ins and visits the users were told succeeded."""
    before = _counts()
    cpu_before = cpu() if cpu else None
    recorder, users, wall = run_load(base, personas, password, seconds=seconds, think=think, during=during)
    cpu_used = cpu() - cpu_before if cpu else None
    after = _counts()
    done = {
        "reveal_audit": sum(u.reveals for u in users),
        "login_audit": len({p.username for p in personas}),
        "visits": sum(u.visits for u in users),
    }
    added = {k: after[k] - before[k] for k in before}
    # A request the client never got an answer to (timeout, reset) may still have been carried out and
    # audited: rows may exceed what the clients saw succeed by at most that many, never fall short.
    unanswered = sum(s.status == 0 for s in recorder.samples)
    complete = all(done[k] <= added[k] <= done[k] + unanswered for k in done)
    return {
        "users": len(personas),
        "seconds": round(wall, 1),
        "think_s": list(think),
        "summary": summarise(recorder.samples, wall),
        "patches": sum(u.patches for u in users),
        "audit": {"done": done, "added": added, "unanswered": unanswered, "complete": complete, "exact": done == added},
        "cpu_ms_per_request": round(cpu_used * 1000 / len(recorder.samples), 1) if cpu else None,
        "samples": recorder.samples,
    }


# -- T7: concurrent edits of one grid ---------------------------------------------------------------


def _shape_of(grid) -> shapely.Geometry:
    return shapely.from_wkb(bytes((grid.draft_boundary or grid.boundary).wkb))


def _largest_part(shape: shapely.Geometry) -> shapely.Geometry:
    return max(shape.geoms, key=lambda g: g.area) if hasattr(shape, "geoms") else shape


def _at_once(sessions: list, send) -> list[int]:
    """``send(i, session)`` from every session at the same instant (a barrier); the HTTP statuses, 0 for none."""
    barrier, statuses = threading.Barrier(len(sessions)), [0] * len(sessions)

    def one(i: int) -> None:
        barrier.wait()
        try:
            statuses[i] = send(i, sessions[i]).status_code
        except requests.RequestException:
            statuses[i] = 0

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def parallel_wrong_passwords(base: str, username: str, *, tries: int = 20) -> dict:
    """``tries`` sessions send a wrong password for one account at the same instant. The lockout (at most
    LOCKOUT_FAILURES failures per account and address) must hold under the race: how many reached the check."""
    from gridmap.models import AuditEvent

    sessions = []
    for _ in range(tries):
        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=30)
        sessions.append(session)
    statuses = _at_once(
        sessions,
        lambda i, session: session.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": f"wrong-{i}", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=60,
        ),
    )
    events = AuditEvent.objects.filter(username=username)
    return {
        "statuses": statuses,
        "checked": events.filter(action="login_failed").count(),
        "locked_out": events.filter(action="lockout").count(),
    }


def concurrent_household_edits(
    base: str, household_id: int, username: str, *, writers: int = 20, password: str = PASSWORD
) -> dict:
    """``writers`` sessions PATCH one household's address at the same instant (a barrier) through each way in
    (the grid leader's page API and REST), all naming the ETag read before. Per way: exactly one 200, the rest
    412, and the stored address is the winner's (no update silently overwritten). The address is restored."""
    from gridmap.api import etags
    from gridmap.models import Household

    signed_in = sign_in(base, username, password)
    sessions = [clone(signed_in) for _ in range(writers)]
    original = Household.objects.get(pk=household_id).address
    out = {}
    for way, method, url in (
        ("page", "patch", f"{base}/api/v1/households/{household_id}/card"),
        ("rest", "patch", f"{base}/api/v1/households/{household_id}/"),
    ):
        tag = etags.household(Household.objects.get(pk=household_id))
        statuses = _at_once(
            sessions,
            lambda i, session, url=url, method=method, tag=tag: getattr(session, method)(
                url, json={"address": f"并发路 {i} 号"}, headers={"If-Match": tag}, timeout=60
            ),
        )
        winners = [i for i, s in enumerate(statuses) if s == 200]
        stored = Household.objects.get(pk=household_id).address
        out[way] = {
            "ok": len(winners),
            "conflict": statuses.count(412),
            "other": [s for s in statuses if s not in (200, 412)],
            "stored_is_winners": len(winners) == 1 and stored == f"并发路 {winners[0]} 号",
        }
    Household.objects.filter(pk=household_id).update(address=original)
    out["lost_updates"] = sum(max(r["ok"] - 1, 0) + (not r["stored_is_winners"]) for r in out.values())
    return out


def concurrent_edits(
    base: str, grid_id: int, username: str, *, writers: int = 20, rounds: int = 1, password: str = PASSWORD
) -> dict:
    """``writers`` sessions save a different shape of one grid with the same version at the same instant
    (a barrier), ``rounds`` times. Per round: exactly one 200, the rest 412, version + 1, and the stored
    draft is the winner's shape (told apart by area: each writer shrinks the grid by its own factor).
    Each round ends by discarding the draft, so the grid is left as it was."""
    from gridmap.models import Grid

    signed_in = sign_in(base, username, password)
    sessions = [clone(signed_in) for _ in range(writers)]
    rounds_out = []
    for _ in range(rounds):
        grid = Grid.objects.get(pk=grid_id)
        version, original = grid.version, _largest_part(_shape_of(grid))
        shapes = [
            shapely.affinity.scale(original, 0.97 - 0.01 * i, 0.97 - 0.01 * i, origin="centroid")
            for i in range(writers)
        ]
        url, tag = f"{base}/api/v1/grids/{grid_id}/boundary", {"If-Match": f'"{version}"'}
        statuses = _at_once(
            sessions,
            lambda i, session, shapes=shapes, tag=tag: session.post(
                url, json={"geometry": shapely.geometry.mapping(shapes[i])}, headers=tag, timeout=60
            ),
        )
        grid.refresh_from_db()
        winners = [i for i, s in enumerate(statuses) if s == 200]
        stored_area = _largest_part(_shape_of(grid)).area
        matches = [i for i in range(writers) if abs(shapes[i].area - stored_area) / shapes[i].area < 0.005]
        rounds_out.append(
            {
                "ok": len(winners),
                "conflict": statuses.count(412),
                "other": [s for s in statuses if s not in (200, 412)],
                "version_bumps": grid.version - version,
                "stored_is_winners": winners == matches and len(winners) == 1,
            }
        )
        discard = sessions[0].post(
            f"{base}/api/v1/grids/{grid_id}/discard", json={}, headers={"If-Match": f'"{grid.version}"'}, timeout=30
        )
        if discard.status_code != 200:
            raise RuntimeError(f"could not discard the draft: {discard.status_code} {discard.text[:200]}")
    lost = sum(r["ok"] - r["version_bumps"] for r in rounds_out) + sum(r["ok"] != 1 for r in rounds_out)
    return {
        "writers": writers,
        "rounds": len(rounds_out),
        "rounds_detail": rounds_out,
        "all_rounds_1_ok": all(r["ok"] == 1 and r["conflict"] == writers - 1 for r in rounds_out),
        "all_winners_stored": all(r["stored_is_winners"] for r in rounds_out),
        "lost_updates": lost,
    }


# -- T9: faults under load --------------------------------------------------------------------------


def recovery(samples, fault_at: float) -> dict:
    """From the moment of the fault: the last request that failed (no answer or 5xx) and the first success
    after it; 500s are counted apart from 503s (a 500 is a bug, a 503 an announced outage)."""
    after = sorted((s for s in samples if s.started + s.seconds >= fault_at), key=lambda s: s.started + s.seconds)
    bad = [s for s in after if s.status == 0 or s.status >= 500]
    last_bad_end = max((s.started + s.seconds for s in bad), default=None)
    first_ok = next(
        (
            s.started + s.seconds
            for s in after
            if 200 <= s.status < 500 and (last_bad_end is None or s.started >= last_bad_end)
        ),
        None,
    )
    return {
        "failed": len(bad),
        "http_500": sum(s.status == 500 for s in samples),
        "http_503": sum(s.status == 503 for s in samples),
        "no_answer": sum(s.status == 0 for s in samples),
        "4xx": sorted(f"{s.status} {s.name}" for s in samples if 400 <= s.status < 500),
        "recovered_after_s": round(first_ok - fault_at, 2) if bad and first_ok else 0.0 if not bad else None,
    }


def under_fault(
    base: str,
    personas: list[Persona],
    fault,
    *,
    seconds: float,
    think=(1.0, 3.0),
    fault_after: float = 5.0,
    password: str = PASSWORD,
) -> dict:
    """The mixed load with ``fault()`` called ``fault_after`` seconds in; returns the load figures and
    the recovery figures measured from the instant the fault began."""
    moment = {}

    def during():
        time.sleep(fault_after)
        moment["at"] = time.monotonic()
        moment["detail"] = fault()

    result = mixed(base, personas, seconds=seconds, think=think, password=password, during=during)
    result["fault"] = {
        "after_s": fault_after,
        "detail": moment.get("detail"),
        **recovery(result["samples"], moment["at"]),
    }
    return result


def terminate_backends(database_url_name: str) -> int:
    """``pg_terminate_backend`` on every connection to the app's database but ours (the app is not told)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [database_url_name],
        )
        return cursor.fetchone()[0]


def restart_postgresql(cluster: str) -> dict:
    """``pg_ctlcluster <version> <name> restart`` (fast shutdown: open connections are cut)."""
    version, name = cluster.split()
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True, capture_output=True)
    from django.db import connection

    connection.close()  # this process's own connection died too; the next query reconnects
    return {"cluster": cluster, "restart_command_s": round(time.monotonic() - started, 2)}


def hup(server) -> dict:
    server.signal(signal.SIGHUP)
    return {"signal": "HUP"}


def term_and_restart(server) -> dict:
    """SIGTERM the master, wait for it to exit, start a new one on the same port."""
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    server.process.wait(60)
    stopped = time.monotonic()
    server.start()
    return {
        "signal": "TERM",
        "stopped_after_s": round(stopped - started, 2),
        "serving_again_after_s": round(time.monotonic() - started, 2),
    }
