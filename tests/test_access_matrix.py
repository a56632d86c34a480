"""Every URL pattern × every role, from the one table in tests/access_matrix.py.

Each case checks the status code, that the body holds no marker of an out-of-scope object (the
"other" household and grid of the role are renamed to markers first; a planner's own-street household
too, since planners see no resident rows), and that no unmasked ID number or phone appears unless the
cell is a reveal. The meta-test fails when a URL pattern has no row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from functools import cached_property

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from gridmap import policy
from gridmap.api import etags
from gridmap.models import (
    AssignmentRole,
    CentralHousehold,
    CentralLink,
    Community,
    Grid,
    GridAssignment,
    HelpPair,
    Household,
    Member,
)
from gridmap.models.accounts import Role
from gridmap.services.grids.rehoming import rehome_households
from tests.access_matrix import ROLES, RULES, Rule

UNMASKED = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")
HOUSEHOLD_MARK, GRID_MARK, PLANNER_MARK = "越界住户标记", "越界网格标记", "规划不可见标记"
KIND = {  # which object a URL's <pk> names
    **dict.fromkeys(
        [
            "grid-boundary",
            "grid-split",
            "grid-retire",
            "grid-discard",
            "grid-history",
            "grid-diff",
            "grid-restore",
            "grid-staff",
            "grid-households",
        ],
        "grid",
    ),
    **dict.fromkeys(
        ["editor-grids", "community-publish", "community-topology", "community-fix-sliver", "community-grid-import"],
        "community",
    ),
    "street-topology": "street",
    "assignment-end": "assignment",
    "help-pair-end": "help_pair",
    **dict.fromkeys(
        [
            "household",
            "household-move",
            "household-reveal",
            "household-visits",
            "household-help-pairs",
            "my-grid-household",
        ],
        "household",
    ),
    **dict.fromkeys(["central-household", "central-suggestions", "central-links"], "central"),
    # REST API and OGC API - Features (issue #8)
    "rest-street-detail": "street",
    "rest-community-detail": "community",
    "rest-grid-detail": "grid",
    "rest-station-detail": "station",
    "rest-household-detail": "household",
    "rest-member-detail": "member",
    "rest-assignment-detail": "assignment",
    "ogc-item": "grid",
    **dict.fromkeys(
        ["household-import-status", "household-import-commit", "import-job-status", "import-job-commit"], "import_job"
    ),
    "planner-proposal": "proposal",
    **dict.fromkeys(["concern-transition", "concern-photos", "concern-duplicates"], "concern"),
    **dict.fromkeys(["concern", "concern-contact-reveal"], "concern_contact"),  # a concern with a resident's phone
    "concern-photo": "concern_photo",
    "concern-delivery-retry": "concern_delivery",
    "open311-request": "concern",
    **dict.fromkeys(["concern-intake-qr", "concern-intake-poster"], "community"),
}
EXTRA_KWARGS = {
    "intake-public": {"token": "matrix-token-never-issued-000000000"},  # no such token: 404 for everyone
    **dict.fromkeys(["open311-services", "open311-requests", "open311-request"], {"fmt": "json"}),
    "open311-service": {"code": "sanitation", "fmt": "json"},
    "ogc-collection": {"collection": "grids"},
    "ogc-items": {"collection": "grids"},
    "ogc-item": {"collection": "grids"},
    "tile": {"layer": "grids", "z": 14, "x": 13010, "y": 6210},
    "export": {"layer": "households", "fmt": "csv"},
    "layer-import": {"layer": "communities"},
    "basemap-tile": {"z": 14, "x": 13010, "y": 6210, "ext": "png"},
}
FIELD = (Role.GRID_LEADER, Role.GRID_WORKER)


class World:
    """The objects each role's cases point at, built lazily inside the test's transaction."""

    def __init__(self, user_for, small_street):
        self.user_for, self.small = user_for, small_street
        rehome_households(household_ids=[h.pk for h in small_street["households"].values()])
        self._cache = {}

    def user(self, role):
        return None if role == "anon" else self.user_for(role)

    def _viewer(self, role):
        # Anonymous and planner cases point at objects a street admin of the same street would see.
        return self.user_for("grid_leader" if role == "anon" else "street_admin" if role == "planner" else role)

    @cached_property
    def free_member(self) -> Member:
        return Member.objects.create(
            name="矩阵测试人员", community=policy.communities_for(self.user_for("community_staff")).first()
        )

    def obj(self, kind: str, role: str, target: str):
        key = (kind, role, target)
        if key not in self._cache:
            self._cache[key] = getattr(self, "_" + kind)(self._viewer(role), target, role)
        return self._cache[key]

    def _grid(self, user, target, role):
        if target == "own":
            return policy.grids_for(user).published().order_by("code").first()
        if policy.role_of(user) in FIELD:
            return (
                Grid.objects.published()
                .filter(community__in=policy.communities_for(user))
                .exclude(pk__in=policy.grids_for(user))
                .order_by("code")
                .first()
            )
        if policy.role_of(user) == Role.COMMUNITY_STAFF:
            return (
                Grid.objects.published()
                .filter(community__street__in=policy.streets_for(user))
                .exclude(community__in=policy.communities_for(user))
                .order_by("code")
                .first()
            )
        return next(iter(self.small["grids"].values()))

    def _household(self, user, target, role):
        grid = self._grid(user, target, role)
        return Household.objects.filter(grid=grid).order_by("id").first()

    def _community(self, user, target, role):
        if target == "own":
            return self._grid(user, target, role).community
        if policy.role_of(user) in (*FIELD, Role.COMMUNITY_STAFF):  # another community of the same street
            return (
                Community.objects.filter(street__in=policy.streets_for(user))
                .exclude(pk__in=policy.communities_for(user))
                .order_by("code")
                .first()
            )
        return next(iter(self.small["communities"].values()))

    def _street(self, user, target, role):
        return policy.streets_for(user).first() if target == "own" else self.small["street"]

    def _station(self, user, target, role):
        from gridmap.models import ServiceStation

        if target == "own":
            return policy.stations_for(user).order_by("id").first()
        return (
            ServiceStation.objects.exclude(pk__in=policy.stations_for(user)).order_by("id").first()
            or self.small["station"]
        )

    def _member(self, user, target, role):
        return Member.objects.create(name="成员", community=self._community(user, target, role))

    def _central(self, user, target, role):
        household = self._household(user, target, role)
        Household.objects.filter(pk=household.pk).update(is_party_member=True)
        CentralLink.objects.filter(household=household).delete()
        CentralHousehold.objects.update_or_create(household=household, defaults={"active": True})
        return household

    def linkable(self, role, target) -> Household:
        central = self.obj("central", role, target)
        return (
            Household.objects.filter(grid=central.grid, central_link__isnull=True, central__isnull=True)
            .exclude(pk=central.pk)
            .order_by("id")
            .first()
        )

    def _assignment(self, user, target, role):
        grid = self._grid(user, target, role)
        member = Member.objects.create(name="志愿者", community=grid.community)
        return GridAssignment.objects.create(
            member=member, grid=grid, role=AssignmentRole.VOLUNTEER, start_date=dt.date(2026, 1, 1)
        )

    def _concern(self, user, target, role):
        from gridmap.models import ConcernCategory
        from gridmap.models.concerns import Concern

        grid = self._grid(user, target, role)
        return Concern.objects.create(
            category=ConcernCategory.objects.get(code="sanitation"), location=grid.boundary.point_on_surface,
            description="楼道堆物", grid=grid, community=grid.community,
        )  # fmt: skip

    def _concern_contact(self, user, target, role):
        from gridmap.models.intake import ConcernContact

        concern = self._concern(user, target, role)
        contact = ConcernContact(concern=concern)
        contact.phone = "13912345678"
        contact.save()
        return concern

    def _concern_delivery(self, user, target, role):
        from gridmap.models import ConcernDelivery
        from gridmap.models.concerns import ConcernEvent

        concern = self._concern(user, target, role)
        event = ConcernEvent.objects.create(concern=concern, actor="矩阵", action="report", to_state="reported")
        return ConcernDelivery.objects.create(event=event, concern=concern, payload={}, status="failed", attempts=6)

    def _concern_photo(self, user, target, role):
        from pathlib import Path

        from django.conf import settings

        from gridmap.models.concerns import ConcernPhoto

        concern = self._concern(user, target, role)
        folder = Path(settings.MEDIA_ROOT) / "concerns" / str(concern.pk)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "matrix.jpg").write_bytes(b"\xff\xd8\xff\xe0 matrix")
        return ConcernPhoto.objects.create(concern=concern, path=f"concerns/{concern.pk}/matrix.jpg",
                                           thumb_path=f"concerns/{concern.pk}/matrix.jpg", width=1, height=1,
                                           sha256="0" * 64)  # fmt: skip

    def _proposal(self, user, target, role):
        from gridmap.models import StationProposal

        return StationProposal.objects.create(
            name="矩阵方案", street=self._street(user, target, role), author=self.user_for("system_admin")
        )

    def _help_pair(self, user, target, role):
        return HelpPair.objects.create(
            household=self._household(user, target, role), unit="社区卫生站", start_date=dt.date(2026, 1, 1)
        )

    def _import_job(self, user, target, role):
        from gridmap.models import ImportJob

        other = "street_admin" if user.username == "admin" else "system_admin"
        owner = user if target == "own" else self.user_for(other)
        return ImportJob.objects.create(
            user=owner, filename="matrix.csv", sha256="0" * 64, source_crs="WGS84", status="previewed"
        )

    def mark(self, role) -> list[str]:
        """Rename the role's out-of-scope household and grid to markers; return the markers to look for."""
        if role == "system_admin":
            return []
        marks = []
        other_household = self.obj("household", role, "other")
        Household.objects.filter(pk=other_household.pk).update(address=HOUSEHOLD_MARK)
        Grid.objects.filter(pk=self.obj("grid", role, "other").pk).update(name=GRID_MARK)
        marks += [HOUSEHOLD_MARK, GRID_MARK]
        if role == "planner":
            Household.objects.filter(pk=self.obj("household", role, "own").pk).update(address=PLANNER_MARK)
            marks.append(PLANNER_MARK)
        return marks


def _url(rule: Rule, world: World, role: str) -> str:
    if rule.name == "admin:*":
        return "/admin/"
    kind = KIND.get(rule.name)
    if kind is None:
        return reverse(rule.name, kwargs=EXTRA_KWARGS.get(rule.name))
    obj = world.obj(kind, role, rule.target)
    key = {
        "my-grid-household": "household",
        "ogc-item": "fid",
        "concern-intake-qr": "community_id",
        "concern-intake-poster": "community_id",
    }.get(rule.name, "pk")
    kwargs = {key: obj.pk, **EXTRA_KWARGS.get(rule.name, {})}
    if rule.name in ("grid-diff", "grid-restore"):
        kwargs["number"] = 1
    return reverse(rule.name, kwargs=kwargs)


def _case_id(rule: Rule, role: str) -> str:
    return f"{rule.name}-{rule.method}-{rule.target}-{role}"


CASES = [(rule, role) for rule in RULES for role in ROLES]


def _etag(rule: Rule, world: World, role: str) -> str | None:
    """The If-Match a page sends for ``rule``: the target object's current ETag when the view holds the
    method to the concurrency rule (jsonapi.endpoint ``guards``), else None. The DRF writes' rows test the
    missing header on purpose (428)."""
    view = resolve(_url(rule, world, role)).func
    if rule.method.upper() not in getattr(view, "guards", ()) or rule.name not in KIND:
        return None  # not guarded, or no object in the URL (a merge names its grids in the body)
    kind = KIND[rule.name]
    obj = world.obj(kind, role, rule.target)
    if kind == "community":
        return etags.community(obj.pk)
    if kind == "central":  # the central household's own ETag (its state and links)
        return etags.central(obj.pk)
    return getattr(etags, kind)(obj)


def _call(rule: Rule, world: World, role: str, *, if_match: bool = True):
    url = _url(rule, world, role)
    body = rule.body(world, role, rule.target) if rule.body else None
    markers = world.mark(role)
    client = Client()
    if role != "anon":
        client.force_login(world.user(role))
    etag = _etag(rule, world, role) if role != "anon" else None
    headers = {"HTTP_IF_MATCH": etag} if etag and if_match else {}
    if rule.name == "set_language":
        response = client.post(url, {"language": "zh-hans", "next": "/map/"})
    elif rule.multipart or rule.method == "post" and body is None:
        response = getattr(client, rule.method)(url, **headers)
    elif body is not None:
        response = getattr(client, rule.method)(url, data=json.dumps(body), content_type="application/json", **headers)
    else:
        response = getattr(client, rule.method)(url, **headers)
    return url, markers, response, etag


@pytest.mark.parametrize(("rule", "role"), CASES, ids=[_case_id(r, role) for r, role in CASES])
def test_role_endpoint_matrix(rule: Rule, role: str, user_for, small_street):
    world = World(user_for, small_street)
    url, markers, response, _etag_sent = _call(rule, world, role)
    if os.environ.get("MATRIX_OBSERVE"):  # print the observed row instead of checking (to write new rows)
        print(f"OBSERVED {rule.name} {rule.method} {rule.target} {role} {response.status_code}")
        return
    raw = b"".join(response.streaming_content) if response.streaming else response.content  # file exports stream
    assert response.status_code == rule.expected(role), (url, raw[:300])
    text = raw.decode("utf-8", "replace")
    for marker in markers:
        assert marker not in text, (url, marker)
    if not rule.reveals:
        assert not UNMASKED.search(text), (url, UNMASKED.search(text).group(0))


GUARDED = [
    (rule, role)
    for rule, role in CASES
    if role != "anon" and rule.method != "get" and rule.name in KIND and not rule.name.startswith("rest-")
]


@pytest.mark.parametrize(("rule", "role"), GUARDED, ids=[_case_id(r, role) for r, role in GUARDED])
def test_the_concurrency_rule_comes_after_rights_and_scope(rule: Rule, role: str, user_for, small_street):
    """The same cases without If-Match: a refusal for rights (403) or scope (404 on another's object) is
    the same as with it, so it never depends on the header; what would succeed is 428 (the class rule of
    every guarded write; tests/access_matrix.py has the REST writes' 428 rows)."""
    world = World(user_for, small_street)
    url, _markers, response, etag = _call(rule, world, role, if_match=False)
    if etag is None:  # not guarded: creates and computations need no If-Match
        assert response.status_code == rule.expected(role), url
        return
    expected = rule.expected(role)
    out_of_scope = expected == 404 and rule.target == "other" and role != "system_admin"  # his "other" is in scope
    if expected == 403 or out_of_scope:
        assert response.status_code == expected, (url, response.content[:200])
    elif 200 <= expected < 300:
        assert response.status_code == 428, (url, response.content[:200])
        assert response.json()["field"] == "If-Match"


def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                yield route, "admin:*"
            else:
                yield from _patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name


def test_every_url_pattern_has_a_row_in_the_matrix():
    covered = {rule.name for rule in RULES}
    missing = sorted(
        {f"{name or '(unnamed)'} ({route})" for route, name in _patterns(get_resolver()) if name not in covered}
    )
    assert not missing, "add rows to tests/access_matrix.py for: " + ", ".join(missing)


def test_every_row_names_a_real_pattern():
    names = {name for _, name in _patterns(get_resolver())}
    assert {rule.name for rule in RULES} <= names
