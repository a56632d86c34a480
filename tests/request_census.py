"""A census of every request the suite sends, by test module and status class: how many probes, how many
server errors. Loaded on demand: ``make test PYTEST_ARGS="-p tests.request_census tests/test_access_matrix.py
tests/test_hostile_input.py tests/test_input_gate.py"`` runs the trust suites with it; the figures go into
docs/security.md.

It counts at Django's handler (``BaseHandler.get_response``), so the test client, schemathesis' in-process
WSGI calls and the live server of the browser tests are all seen. A 5xx answer is also listed with its
path, so a census that finds one says where.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from django.core.handlers.base import BaseHandler

_counts: dict[str, Counter] = defaultdict(Counter)
_errors: list[tuple[str, str, str, int]] = []
_current = {"module": "(outside tests)"}
_original = BaseHandler.get_response


def _counted(self, request):
    response = _original(self, request)
    module = _current["module"]
    _counts[module][f"{response.status_code // 100}xx"] += 1
    if response.status_code >= 500:
        _errors.append((module, request.method, request.path, response.status_code))
    return response


BaseHandler.get_response = _counted


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _current["module"] = item.nodeid.split("::", 1)[0]


def pytest_terminal_summary(terminalreporter):
    write = terminalreporter.write_line
    total = Counter()
    write("request census: module, requests, 2xx/3xx/4xx/5xx")
    for module, counts in sorted(_counts.items()):
        total.update(counts)
        line = " ".join(f"{counts[k]}" for k in ("2xx", "3xx", "4xx", "5xx"))
        write(f"  {module}: {sum(counts.values())} ({line})")
    write(
        f"  all: {sum(total.values())} requests; 2xx {total['2xx']}, 3xx {total['3xx']}, "
        f"4xx {total['4xx']}, 5xx {total['5xx']}"
    )
    for module, method, path, status in _errors[:50]:
        write(f"  5xx: {status} {method} {path} ({module})")
