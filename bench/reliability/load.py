"""A small threaded load generator: virtual users, each a ``requests.Session`` signed in through the login
form, drawing operations from a weighted mix with think time between them, every request timed.

Why not locust or wrk: wrk cannot sign in, keep a CSRF token or follow an ETag, and locust is a large
dependency for what is a loop of HTTP calls; the app under test is the bottleneck on these 2 cores, not
the generator (it spends its time waiting on sockets). Failures are recorded, never raised: status 0
means the request got no HTTP answer at all (connection refused or reset, timeout).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

TIMEOUT_SECONDS = 30


@dataclass
class Sample:
    kind: str  # read | layer | write
    name: str  # e.g. "household detail"
    started: float  # time.monotonic() at send
    seconds: float
    status: int  # HTTP status; 0 = no answer


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def timed(self, kind: str, name: str, call: Callable[[], requests.Response]) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = call()
        except requests.RequestException:
            self.add(Sample(kind, name, started, time.monotonic() - started, 0))
            return None
        self.add(Sample(kind, name, started, time.monotonic() - started, response.status_code))
        return response


def sign_in(base: str, username: str, password: str) -> requests.Session:
    """A session signed in through the login form (CSRF cookie, then POST), ready for JSON writes."""
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=TIMEOUT_SECONDS)
    response = session.post(
        f"{base}/accounts/login/",
        timeout=TIMEOUT_SECONDS,
        allow_redirects=False,
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status_code}")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]  # rotated at sign-in
    return session


def clone(session: requests.Session) -> requests.Session:
    """Another connection pool with the same signed-in cookies and CSRF header (one sign-in, many clients:
    password hashing is deliberately slow and would otherwise dominate a short run)."""
    other = requests.Session()
    other.cookies.update(session.cookies)
    other.headers.update(session.headers)
    return other


@dataclass
class Persona:
    """What one virtual user works on: a grid (its id and bbox) and some of its household ids."""

    username: str
    grid: int
    bbox: tuple[float, float, float, float]
    households: list[int]


class VirtualUser:
    """The mix of issue #9 / security.md T3: 80 % reads, 15 % map layers, 5 % writes."""

    MIX = [  # (weight, kind, name, method)
        (30, "read", "household list", "household_list"),
        (30, "read", "household detail", "household_detail"),
        (15, "read", "grid card", "grid_card"),
        (5, "read", "reveal (audited)", "reveal"),
        (10, "layer", "households layer", "households_layer"),
        (5, "layer", "grids layer", "grids_layer"),
        (3, "write", "household PATCH (If-Match)", "household_patch"),
        (2, "write", "visit log entry", "visit"),
    ]

    def __init__(self, base: str, session: requests.Session, persona: Persona, recorder: Recorder, rng: random.Random):
        self.base, self.http, self.persona, self.rec, self.rng = base, session, persona, recorder, rng
        self.reveals = self.visits = self.patches = 0  # successful audited/persisted operations
        self._ops = [(w, kind, name, getattr(self, method)) for w, kind, name, method in self.MIX]

    def step(self) -> None:
        _, kind, name, op = self.rng.choices(self._ops, weights=[o[0] for o in self._ops])[0]
        op(kind, name)

    def _get(self, kind: str, name: str, path: str) -> requests.Response | None:
        return self.rec.timed(kind, name, lambda: self.http.get(self.base + path, timeout=TIMEOUT_SECONDS))

    def _household(self) -> int:
        return self.rng.choice(self.persona.households)

    def household_list(self, kind, name):
        page = self.rng.randint(1, 3)
        self._get(kind, name, f"/api/v1/households/?grid={self.persona.grid}&page_size=50&page={page}")

    def household_detail(self, kind, name):
        self._get(kind, name, f"/api/v1/households/{self._household()}/card")

    def grid_card(self, kind, name):
        self._get(kind, name, f"/api/v1/grids/{self.persona.grid}/")

    def reveal(self, kind, name):
        pk = self._household()
        response = self.rec.timed(
            kind,
            name,
            lambda: self.http.post(
                f"{self.base}/api/v1/households/{pk}/reveal",
                json={"reason": "压测：核对联系方式"},
                timeout=TIMEOUT_SECONDS,
            ),
        )
        if response is not None and response.status_code == 200:
            self.reveals += 1

    def households_layer(self, kind, name):
        self._get(kind, name, "/api/layers/households.geojson?bbox=" + ",".join(map(str, self.persona.bbox)))

    def grids_layer(self, kind, name):
        self._get(kind, name, "/api/layers/grids.geojson?bbox=" + ",".join(map(str, self.persona.bbox)))

    def household_patch(self, kind, name):
        pk = self._household()
        url = f"{self.base}/api/v1/households/{pk}/"
        current = self.rec.timed(
            "read", "household detail (REST, for the ETag)", lambda: self.http.get(url, timeout=TIMEOUT_SECONDS)
        )
        if current is None or current.status_code != 200:
            return
        etag = current.headers["ETag"]
        response = self.rec.timed(
            kind,
            name,
            lambda: self.http.patch(
                url, json={"residents": self.rng.randint(1, 6)}, headers={"If-Match": etag}, timeout=TIMEOUT_SECONDS
            ),
        )
        if response is not None and response.status_code == 200:
            self.patches += 1

    def visit(self, kind, name):
        pk = self._household()
        response = self.rec.timed(
            kind,
            name,
            lambda: self.http.post(
                f"{self.base}/api/v1/households/{pk}/visits",
                timeout=TIMEOUT_SECONDS,
                json={"visited_on": dt.date.today().isoformat(), "note": "压测走访"},
            ),
        )
        if response is not None and response.status_code == 201:
            self.visits += 1


def run_load(
    base: str,
    personas: list[Persona],
    password: str,
    *,
    seconds: float,
    think: tuple[float, float],
    seed: int = 1,
    during: Callable[[], None] | None = None,
) -> tuple[Recorder, list[VirtualUser], float]:
    """Sign in one virtual user per persona, run them for ``seconds`` (``during`` is called from the main
    thread once the load is running: the fault to inject). Returns the samples, the users and the wall time."""
    recorder, signed_in = Recorder(), {}
    for p in personas:  # one sign-in per account; personas sharing an account share its session cookie
        if p.username not in signed_in:
            signed_in[p.username] = sign_in(base, p.username, password)
    users = [
        VirtualUser(base, clone(signed_in[p.username]), p, recorder, random.Random(seed + i))
        for i, p in enumerate(personas)
    ]
    stop = threading.Event()

    def loop(user: VirtualUser) -> None:
        time.sleep(user.rng.uniform(0, think[1]))  # ramp up: do not start all users in the same instant
        while not stop.is_set():
            user.step()
            stop.wait(user.rng.uniform(*think))

    threads = [threading.Thread(target=loop, args=(u,), daemon=True) for u in users]
    started = time.monotonic()
    for t in threads:
        t.start()
    if during is not None:
        during()
    stop.wait(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for t in threads:
        t.join(TIMEOUT_SECONDS + 5)
    return recorder, users, time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(p * len(ordered)) // 100) - 1)] if ordered else float("nan")


def summarise(samples: list[Sample], wall: float) -> dict:
    """Per kind and overall: count, p50/p95/p99 (ms), 4xx, 5xx, no-answer, throughput (req/s)."""
    out = {}
    for kind in ("read", "layer", "write", "all"):
        rows = [s for s in samples if kind == "all" or s.kind == kind]
        ms = [s.seconds * 1000 for s in rows]
        out[kind] = {
            "n": len(rows),
            "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(percentile(ms, 95), 1) if ms else None,
            "p99_ms": round(percentile(ms, 99), 1) if ms else None,
            "4xx": sum(400 <= s.status < 500 for s in rows),
            "5xx": sum(s.status >= 500 for s in rows),
            "no_answer": sum(s.status == 0 for s in rows),
            "rps": round(len(rows) / wall, 1),
        }
    return out
