"""The write API's rules, over every URL pattern (django.urls.get_resolver()):

- every write lives in /api/v1/: a JSON endpoint (gridmap/api/jsonapi.endpoint) declares its write methods
  (``creates``, ``guards``) and its POSTs that change nothing (``reads``); a DRF view its actions; the only
  other POSTs are Django's own forms (sign in and out, language);
- a method a JSON endpoint does not declare is 405 with ``Allow`` naming exactly what it declares, before
  anything else is looked at (the same answer for anyone);
- every guarded write and every REST write to an object is in the OpenAPI schema with a required
  ``If-Match`` and its 412/428 answers.

tests/test_access_matrix.py holds each guarded write to the order of the checks (rights and scope first,
then If-Match: 428 missing, 412 stale).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from gridmap.api.schema import json_endpoints, routes

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
FORM_POSTS = {"login", "logout", "set_language"}  # Django's own forms, not the data API


def _writes(view) -> set[str]:
    if hasattr(view, "allowed"):  # a JSON endpoint
        return set(view.creates | view.guards)
    if getattr(view, "actions", None):  # a DRF viewset
        return {method.upper() for method in view.actions} & WRITES
    return set()


JSON_ENDPOINTS = json_endpoints()


def test_every_write_lives_in_api_v1():
    outside = sorted(route for route, p in routes() if _writes(p.callback) and not route.startswith("api/v1/"))
    assert outside == []
    assert len([1 for _, p in routes() if _writes(p.callback)]) >= 25  # the walk found the writes


def test_no_other_view_takes_a_post(db):
    """A view that is neither a JSON endpoint nor DRF takes no POST, except Django's own forms."""
    client = Client()
    for route, pattern in routes():
        view = pattern.callback
        if hasattr(view, "allowed") or hasattr(view, "cls") or pattern.name in FORM_POSTS:
            continue
        url = "/" + re.sub(r"<int:\w+>", "1", re.sub(r"<(str|slug):\w+>", "x", route))
        assert client.post(url).status_code in (302, 401, 403, 404, 405), url


def _url(pattern) -> str:
    kwargs = {name: (1 if conv.__class__.__name__ == "IntConverter" else "x")
              for name, conv in pattern.pattern.converters.items()}  # fmt: skip
    return reverse(pattern.name, kwargs=kwargs)


@pytest.mark.parametrize(("route", "pattern"), JSON_ENDPOINTS, ids=[p.name for _, p in JSON_ENDPOINTS])
def test_an_undeclared_method_is_405_naming_the_declared_ones(route, pattern):
    view = pattern.callback
    assert view.guards <= WRITES and view.creates <= WRITES and not (view.guards & view.creates)
    response = Client().put(_url(pattern), "{}", content_type="application/json")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == ", ".join(sorted(view.allowed))


def test_every_guarded_write_is_in_the_schema_with_if_match_428_and_412(client_for):
    schema = client_for("street_admin").get("/api/schema/?format=json").json()
    documented = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}
            documented[(path, method.upper())] = (headers, set(operation.get("responses", {})))
    guarded = []
    for route, pattern in JSON_ENDPOINTS:
        path = "/" + re.sub(r"<\w+:(\w+)>", r"{\1}", route)
        for method in pattern.callback.guards:
            guarded.append((path, method))
    rest = [(p, m) for (p, m) in documented if m in ("PATCH", "DELETE") and p.startswith("/api/v1/")]
    assert len(guarded) >= 12 and len(rest) >= 4
    for key in guarded + rest:
        assert key in documented, key
        headers, statuses = documented[key]
        assert "If-Match" in headers and {"412", "428"} <= statuses, key
