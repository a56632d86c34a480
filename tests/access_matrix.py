"""The role × endpoint authorization matrix: ONE table, read by tests/test_access_matrix.py.

ADDING A URL? Add a row here in the same commit. tests/test_access_matrix.py walks every URL pattern
(django.urls.get_resolver()) and fails for any pattern name missing from RULES (admin/ is covered by one
wildcard row). A row is (url name, method, target, expected status per role, JSON body builder):

- target: "-" no object in the URL; "own" an object inside the role's scope; "other" an object outside it
  (another grid of the same community for grid staff, another community for community staff, another
  street for street admins and planners; for the system admin "other" is still in scope).
- statuses, in the order of ROLES: anonymous, system admin, street admin, community staff, grid leader,
  grid worker, planner.
- body: a function (world, role, target) -> dict sent as JSON (writes are rolled back after each case).
- reveals: the cell is "R" (full ID/phone allowed, audited); every other response must hold none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ROLES = ("anon", "system_admin", "street_admin", "community_staff", "grid_leader", "grid_worker", "planner")


@dataclass(frozen=True)
class Rule:
    name: str
    method: str
    target: str
    statuses: tuple[int, ...]
    body: Callable | None = None
    reveals: bool = False
    multipart: bool = False

    def expected(self, role: str) -> int:
        return self.statuses[ROLES.index(role)]


def R(name, method, target, statuses, body=None, **kw) -> Rule:  # noqa: N802 (reads like a table row)
    assert len(statuses) == len(ROLES), name
    return Rule(name, method, target, tuple(statuses), body, **kw)


# Bodies: each builder gets the prepared world (tests/test_access_matrix.World), the role and the target.
def _version(w, role, target):
    return {"version": w.obj("grid", role, target).version}


def _assign(w, role, target):
    return {"member": w.free_member.pk, "role": "volunteer", "start_date": "2026-03-01"}


def _move(w, role, target):
    h = w.obj("household", role, target)
    return {"lon": h.location.x, "lat": h.location.y}


def _link(w, role, target):
    return {"household_ids": [w.linkable(role, target).pk]}


_END = lambda w, r, t: {"end_date": "2030-01-01"}  # noqa: E731
_REASON = lambda w, r, t: {"reason": "核实住户信息"}  # noqa: E731
_VISIT = lambda w, r, t: {"visited_on": "2026-01-05", "note": "走访正常"}  # noqa: E731
_PAIR = lambda w, r, t: {"unit": "区人民医院", "start_date": "2026-01-01"}  # noqa: E731
_PATCH = lambda w, r, t: {"residents": 2}  # noqa: E731
_MEMBER = lambda w, r, t: {"name": "测试人员", "community": w.obj("community", "community_staff", "own").pk}  # noqa
_EMPTY = lambda w, r, t: {}  # noqa: E731


_ACCEPT = lambda w, r, t: {"action": "accept"}  # noqa: E731


def _concern_report(w, role, target):
    spot = w.obj("grid", role, "own").boundary.point_on_surface
    return {"category": "sanitation", "description": "楼道堆物", "location": {"type": "Point",
            "coordinates": [spot.x, spot.y]}}  # fmt: skip


def _selection(w, role, target):
    return {"grids": [w.obj("grid", role, "own").pk]}


def _what_if(w, role, target):
    spot = w.obj("grid", role, "own").boundary.point_on_surface
    return {
        "name": "矩阵方案",
        "street": w.obj("street", role, "own").code,
        "stations": [{"station": None, "lon": spot.x, "lat": spot.y, "radius_m": 500}],
    }


#                                                            anon sys  street comm lead work plan
RULES: list[Rule] = [
    # Pages and site plumbing
    R("home", "get", "-", (302, 302, 302, 302, 302, 302, 302)),
    R("work-list", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    R("concerns-page", "get", "-", (302, 200, 200, 200, 200, 200, 200)),  # planners: figures and map only
    R("concern-deadlines", "get", "-", (302, 403, 200, 403, 403, 403, 403)),
    R("concern-webhook", "get", "-", (302, 200, 200, 403, 403, 403, 403)),
    # Public intake by QR code (item 6): the switch page for street and system admins; a POST without a community
    # or action is 400. QR code and poster only for a switched-on community in scope (off by default: 404; on in
    # tests/test_concern_intake.py). The public page: no account, and a token never issued is 404 for everyone.
    R("concern-intake", "get", "-", (302, 200, 200, 403, 403, 403, 403)),
    R("concern-intake", "post", "-", (302, 400, 400, 403, 403, 403, 403)),
    R("concern-intake-qr", "get", "own", (302, 404, 404, 403, 403, 403, 403)),
    R("concern-intake-qr", "get", "other", (302, 404, 404, 403, 403, 403, 403)),
    R("concern-intake-poster", "get", "own", (302, 404, 404, 403, 403, 403, 403)),
    R("concern-intake-poster", "get", "other", (302, 404, 404, 403, 403, 403, 403)),
    R("intake-public", "get", "-", (404, 404, 404, 404, 404, 404, 404)),
    R("intake-public", "post", "-", (404, 404, 404, 404, 404, 404, 404)),
    R("street-map", "get", "-", (302, 200, 200, 200, 200, 200, 200)),
    R("grid-editor", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    R("staffing-map", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    R("my-grid", "get", "-", (302, 200, 200, 200, 200, 200, 403)),
    R("my-grid-household", "get", "own", (302, 200, 200, 200, 200, 200, 403)),
    R("my-grid-household", "get", "other", (302, 200, 404, 404, 404, 404, 403)),
    R("planner-dashboard", "get", "-", (302, 200, 200, 200, 403, 403, 200)),
    R("planner-report", "get", "-", (302, 200, 200, 200, 403, 403, 200)),
    R("planner-metrics", "get", "-", (401, 200, 200, 200, 403, 403, 200)),
    R("planner-heat", "get", "-", (401, 200, 200, 200, 403, 403, 200)),
    R("planner-areas", "get", "-", (401, 200, 200, 200, 403, 403, 200)),
    R("planner-selection", "post", "-", (401, 200, 200, 200, 403, 403, 200), _selection),
    R("planner-what-if", "post", "-", (401, 200, 200, 200, 403, 403, 200), _what_if),
    R("planner-proposals", "get", "-", (401, 200, 200, 200, 403, 403, 200)),
    R("planner-proposals", "post", "-", (401, 201, 201, 201, 403, 403, 201), _what_if),
    R("planner-proposal", "get", "own", (401, 200, 200, 200, 403, 403, 200)),
    R("planner-proposal", "get", "other", (401, 200, 404, 404, 403, 403, 404)),
    R("planner-ledger", "get", "-", (302, 200, 200, 200, 403, 403, 200)),
    R("planner-geojson", "get", "-", (302, 200, 200, 200, 403, 403, 200)),
    R("planner-gpkg", "get", "-", (302, 200, 200, 200, 403, 403, 200)),
    R("planner-print", "get", "-", (302, 200, 200, 200, 403, 403, 200)),
    R("login", "get", "-", (200, 302, 302, 302, 302, 302, 302)),
    R("logout", "post", "-", (302, 302, 302, 302, 302, 302, 302)),
    R("set_language", "post", "-", (302, 302, 302, 302, 302, 302, 302)),
    R("javascript-catalog", "get", "-", (200, 200, 200, 200, 200, 200, 200)),
    R("healthz", "get", "-", (200, 200, 200, 200, 200, 200, 200)),
    R("admin:*", "get", "-", (302, 200, 200, 302, 302, 302, 302)),
    # Map layers (lists: only ever rows of the user's scope)
    R("layer-grids", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("layer-communities", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("layer-households", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("layer-links", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("layer-stations", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("layer-staffing", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("layer-reference", "get", "-", (401, 400, 400, 400, 400, 400, 400)),  # the box is required
    R("basemap-tile", "get", "-", (302, 404, 404, 404, 404, 404, 404)),  # no base map configured in the tests
    R("reference-import", "post", "-", (401, 400, 400, 403, 403, 403, 403), multipart=True),
    # Grid editor (issue #4)
    R("grid-create", "post", "-", (401, 400, 400, 400, 400, 400, 400), _EMPTY),
    R("grid-check", "post", "-", (401, 400, 400, 400, 400, 400, 400), _EMPTY),
    R("grid-merge", "post", "-", (401, 400, 400, 400, 400, 400, 400), _EMPTY),
    R("grid-boundary", "post", "own", (401, 400, 400, 400, 403, 403, 403), _version),
    R("grid-boundary", "post", "other", (401, 400, 404, 404, 404, 404, 404), _version),
    R("grid-split", "post", "own", (401, 400, 400, 400, 403, 403, 403), _version),
    R("grid-split", "post", "other", (401, 400, 404, 404, 404, 404, 404), _version),
    R("grid-retire", "post", "own", (401, 200, 200, 200, 403, 403, 403), _version),
    R("grid-retire", "post", "other", (401, 200, 404, 404, 404, 404, 404), _version),
    R("grid-discard", "post", "own", (401, 200, 200, 200, 403, 403, 403), _version),
    R("grid-discard", "post", "other", (401, 200, 404, 404, 404, 404, 404), _version),
    R("grid-history", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("grid-history", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("grid-diff", "get", "own", (401, 404, 200, 200, 200, 200, 200)),
    R("grid-diff", "get", "other", (401, 404, 404, 404, 404, 404, 404)),
    R("grid-restore", "post", "own", (401, 404, 200, 200, 403, 403, 403), _version),
    R("grid-restore", "post", "other", (401, 404, 404, 404, 404, 404, 404), _version),
    R("editor-grids", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("editor-grids", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("community-publish", "post", "own", (401, 400, 400, 403, 403, 403, 403), _EMPTY),
    R("community-publish", "post", "other", (401, 400, 404, 404, 404, 404, 404), _EMPTY),
    R("community-grid-import", "post", "own", (401, 400, 400, 400, 403, 403, 403), multipart=True),
    R("community-grid-import", "post", "other", (401, 400, 404, 404, 404, 404, 404), multipart=True),
    R("community-topology", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("community-topology", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("community-fix-sliver", "post", "own", (401, 400, 400, 400, 403, 403, 403), _EMPTY),
    R("street-topology", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("street-topology", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    # Staff of grids and the member registry (issue #5)
    R("grid-staff", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("grid-staff", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("grid-staff", "post", "own", (401, 201, 201, 201, 403, 403, 403), _assign),
    R("grid-staff", "post", "other", (401, 201, 404, 404, 403, 403, 403), _assign),
    R("assignment-end", "post", "own", (401, 200, 200, 200, 404, 404, 404), _END),
    R("assignment-end", "post", "other", (401, 200, 404, 404, 404, 404, 404), _END),
    R("members", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("members", "post", "-", (401, 201, 201, 201, 403, 403, 403), _MEMBER),
    R("members-import", "post", "-", (401, 400, 400, 400, 403, 403, 403), multipart=True),
    R("members-page", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    R("members-template", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    # A grid's households and one household (the grid leader's view)
    R("grid-households", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("grid-households", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("household", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("household", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("household", "patch", "own", (401, 200, 200, 200, 200, 200, 403), _PATCH),
    R("household", "patch", "other", (401, 200, 404, 404, 404, 404, 403), _PATCH),
    R("household-move", "post", "own", (401, 200, 200, 200, 200, 200, 403), _move),
    R("household-move", "post", "other", (401, 200, 404, 404, 404, 404, 403), _move),
    R("household-reveal", "post", "own", (401, 200, 200, 200, 200, 200, 403), _REASON, reveals=True),
    R("household-reveal", "post", "other", (401, 200, 404, 404, 404, 404, 403), _REASON, reveals=True),
    R("household-visits", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("household-visits", "post", "other", (401, 201, 404, 404, 404, 404, 403), _VISIT),
    R("household-visits", "post", "own", (401, 201, 201, 201, 201, 201, 403), _VISIT),
    R("household-help-pairs", "post", "own", (401, 201, 201, 201, 201, 403, 403), _PAIR),
    R("household-help-pairs", "post", "other", (401, 201, 404, 404, 404, 403, 403), _PAIR),
    R("help-pair-end", "post", "own", (401, 200, 200, 200, 200, 403, 403), _END),  # ending needs the right to pair
    R("help-pair-end", "post", "other", (401, 200, 404, 404, 404, 404, 403), _END),
    # Central households and their links
    R("central-household", "get", "own", (401, 200, 200, 200, 403, 403, 403)),
    R("central-household", "post", "own", (401, 201, 201, 201, 403, 403, 403)),
    R("central-household", "post", "other", (401, 201, 404, 404, 404, 404, 403)),
    R("central-household", "delete", "own", (401, 200, 200, 200, 403, 403, 403)),
    R("central-suggestions", "get", "own", (401, 200, 200, 200, 403, 403, 403)),
    R("central-suggestions", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("central-links", "post", "own", (401, 201, 201, 201, 403, 403, 403), _link),
    R("central-links", "post", "other", (401, 201, 404, 404, 404, 404, 403), _link),
    R("central-links", "delete", "own", (401, 200, 200, 200, 403, 403, 403), _link),
    # Household import (issue #7): jobs are the uploader's own; another user's job is 404
    R("household-import-page", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    R("household-import-template", "get", "-", (302, 200, 200, 200, 403, 403, 403)),
    R("household-import-upload", "post", "-", (401, 400, 400, 400, 403, 403, 403), multipart=True),
    R("household-import-status", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("household-import-status", "get", "other", (401, 404, 404, 404, 404, 404, 403)),
    R("household-import-commit", "post", "own", (401, 409, 409, 409, 403, 403, 403)),
    R("household-import-commit", "post", "other", (401, 404, 404, 404, 403, 403, 403)),
    # Import jobs of every kind (the world's job is a household preview; a planner's "own" is a street admin's):
    # status of one's own; the layer and grid commit refuses another kind of job as not found.
    R("import-job-status", "get", "own", (401, 200, 200, 200, 200, 200, 404)),
    R("import-job-status", "get", "other", (401, 404, 404, 404, 404, 404, 404)),
    R("import-job-commit", "post", "own", (401, 404, 404, 404, 404, 404, 404)),
    R("import-job-commit", "post", "other", (401, 404, 404, 404, 404, 404, 404)),
    # REST API, OpenAPI, OGC API - Features, vector tiles (issue #8)
    # Residents' concerns (issue #17): grid staff their grids', managers their communities'; planners none.
    R("concerns", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("concerns", "post", "-", (401, 201, 201, 201, 201, 201, 403), _concern_report),
    R("concern", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("concern", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("concern-transition", "post", "own", (401, 200, 200, 200, 403, 403, 403), _ACCEPT),
    R("concern-transition", "post", "other", (401, 200, 404, 404, 404, 404, 403), _ACCEPT),
    # Merging duplicates (合并重复): the candidates near a concern, for the level that merges (grid staff 403).
    R("concern-duplicates", "get", "own", (401, 200, 200, 200, 403, 403, 403)),
    R("concern-duplicates", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    # A public concern's contact phone (the concern's detail shows it masked): the reveal, as a household's.
    R("concern-contact-reveal", "post", "own", (401, 200, 200, 200, 200, 200, 403), _REASON, reveals=True),
    R("concern-contact-reveal", "post", "other", (401, 200, 404, 404, 404, 404, 403), _REASON, reveals=True),
    R("concern-photos", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("concern-photos", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("concern-photos", "post", "own", (401, 400, 400, 400, 400, 400, 403), multipart=True),  # no file: 400
    R("concern-photos", "post", "other", (401, 400, 404, 404, 404, 404, 403), multipart=True),
    R("concern-photo", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("concern-photo", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    # The concern webhook's deliveries (item 7): the system admin all, a street admin his street's, nobody else.
    R("concern-delivery-retry", "post", "own", (401, 200, 200, 403, 403, 403, 403), _EMPTY),
    R("concern-delivery-retry", "post", "other", (401, 200, 404, 403, 403, 403, 403), _EMPTY),
    # Open311 GeoReport v2: an API key or a session; residents' concerns, so planners get 403.
    R("open311-services", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("open311-service", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("open311-requests", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("open311-requests", "post", "-", (401, 400, 400, 400, 400, 400, 403)),  # no lat/long: 400
    R("open311-request", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("open311-request", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("concerns-nearby", "get", "-", (401, 400, 400, 400, 400, 400, 403)),  # lon/lat required
    R("concern-kpis", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    # The concern map (heat cells, areas): aggregates of each role's scope; planners too, small counts suppressed.
    R("concern-heat", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("concern-areas", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    # The KPI panel's weekly trend: the KPIs' scope, planners with small counts suppressed; the ledger (台账, XLSX)
    # lists concerns one by one: staff of their scope (grid staff their grids), planners 403 (aggregates only).
    R("concern-trend", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("concern-ledger", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("concern-counts", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("concern-categories", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("api-root", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("api-schema", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("api-docs", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("tile", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-landing", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-conformance", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-api", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-collections", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-collection", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-items", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-item", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("ogc-item", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-street-detail", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-street-detail", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-community-detail", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-community-detail", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-grid-detail", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-grid-detail", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-station-detail", "get", "own", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-station-detail", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-household-detail", "get", "own", (401, 200, 200, 200, 200, 200, 403)),
    R("rest-household-detail", "get", "other", (401, 200, 404, 404, 404, 404, 403)),
    R("rest-member-detail", "get", "own", (401, 200, 200, 200, 200, 200, 404)),
    R("rest-member-detail", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-assignment-detail", "get", "own", (401, 200, 200, 200, 200, 200, 404)),
    R("rest-assignment-detail", "get", "other", (401, 200, 404, 404, 404, 404, 404)),
    R("rest-street-list", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-community-list", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-grid-list", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-station-list", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-household-list", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("rest-member-list", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    R("rest-assignment-list", "get", "-", (401, 200, 200, 200, 200, 200, 200)),
    # Geodata in and out (issue #7): the export URL is tried as households.csv, the import as communities
    R("data-exchange", "get", "-", (302, 200, 200, 200, 200, 200, 200)),
    R("export", "get", "-", (401, 200, 200, 200, 200, 200, 403)),
    R("layer-import", "post", "-", (401, 400, 400, 403, 403, 403, 403), multipart=True),
    # REST writes for grids and stations (no If-Match here: in scope and allowed → 428)
    R("rest-grid-list", "post", "-", (401, 400, 400, 400, 400, 400, 400), _EMPTY),
    R("rest-grid-detail", "patch", "own", (401, 428, 428, 428, 403, 403, 403), _EMPTY),
    R("rest-grid-detail", "patch", "other", (401, 428, 404, 404, 404, 404, 404), _EMPTY),
    R("rest-grid-detail", "delete", "own", (401, 428, 428, 428, 403, 403, 403)),
    R("rest-grid-detail", "delete", "other", (401, 428, 404, 404, 404, 404, 404)),
    R("rest-station-list", "post", "-", (401, 400, 400, 403, 403, 403, 403), _EMPTY),
    R("rest-station-detail", "patch", "own", (401, 428, 428, 403, 403, 403, 403), _EMPTY),
    R("rest-station-detail", "patch", "other", (401, 428, 404, 404, 404, 404, 404), _EMPTY),
    R("rest-station-detail", "delete", "own", (401, 428, 428, 403, 403, 403, 403)),
    R("rest-station-detail", "delete", "other", (401, 428, 404, 404, 404, 404, 404)),
]
