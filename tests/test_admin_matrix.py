"""The role × endpoint matrix (tests/access_matrix.py) extended to the admin (issue #15 "Trust"): for every model
registered in the admin and every role, the changelist, add (GET and a POST of the form's own data), change,
delete (confirm page and POST), history and the "delete_selected" action, on an object inside the street admin's
scope ("own") and one outside it ("other"). The statuses expected are read off gridmap/admin (RIGHTS below: the
model admins' has_*_permission methods) and the policy scopes (SCOPES), not recorded; a POST that does not end in
the redirect of a write the role is allowed leaves every registered model's rows as they were."""

from __future__ import annotations

import datetime
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from gridmap import models as m
from gridmap.admin import SCOPES
from gridmap.services import audit
from tests.access_matrix import ROLES

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
# What a street admin may do per model, read off gridmap/admin: ReadOnlyScopedMixin → view; ScopedMixin (ProfileAdmin)
# → view, add, change, never delete; AuditEventAdmin and _superusers_only (groups, tokens) → nothing; the User admin
# asks Django's model permissions, and no role is given any. A model missing here is refused to him.
STREET_ADMIN_RIGHTS = {
    **dict.fromkeys(
        [m.Street, m.Community, m.Grid, m.Household, m.ServiceStation, m.Member, m.GridVersion, m.GridAssignment,
         m.HelpPair, m.CentralHousehold, m.CentralLink],
        {VIEW},
    ),
    m.Profile: {VIEW, ADD, CHANGE},
}  # fmt: skip
SUPERUSER_RIGHTS = {m.AuditEvent: {VIEW}}  # the audit trail is changed by nobody; every other model: all four
LOGIN, INDEX = "302 to the admin's login", "302 to the admin's index (no such object for him)"

CASES = [("changelist", "get", "-"), ("add", "get", "-"), ("add", "post", "-")] + [
    (view, method, target)
    for target in ("own", "other")
    for view, method in [("change", "get"), ("change", "post"), ("delete", "get"), ("delete", "post"),
                         ("history", "get"), ("action", "post")]
]  # fmt: skip


def expected(role, model, view, method, visible) -> set:
    """The outcomes Django's admin gives for the rights above (options.py: changeform, delete, history and
    changelist views check the right first, then look the object up in the scoped queryset; history the reverse)."""
    if role not in ("system_admin", "street_admin"):
        return {LOGIN}  # not staff: AdminSite.has_permission sends them to the login page, whatever the URL
    if role == "system_admin":
        rights = SUPERUSER_RIGHTS.get(model, {VIEW, ADD, CHANGE, DELETE})
    else:
        rights = STREET_ADMIN_RIGHTS.get(model, set())
    reads = bool(rights & {VIEW, CHANGE})
    done = {200, 302} if method == "post" else {200}  # a write allowed: saved (302) or the form/confirm page again
    if view == "changelist":
        return {200} if reads else {403}
    if view == "add":
        return done if ADD in rights else {403}
    if view == "change":
        if not (CHANGE in rights if method == "post" else reads):
            return {403}
        return done if visible else {INDEX}
    if view == "delete":
        return {403} if DELETE not in rights else done if visible else {INDEX}
    if view == "history":
        return {INDEX} if not visible else {200} if reads else {403}
    # action: without the right to delete no action is offered and the POST shows the changelist again
    return {403} if not reads else done if DELETE in rights else {200}


def visible(role, user, model, obj) -> bool:
    if role == "system_admin":
        return True
    return model in SCOPES and SCOPES[model](user).filter(pk=obj.pk).exists()


def outcome(response):
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    return (
        LOGIN if location.startswith(reverse("admin:login")) else INDEX if location == reverse("admin:index") else 302
    )


def url(model, view, obj=None) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[obj.pk] if obj else [])


class FormFields(HTMLParser):
    """What a browser submits from the admin form with id ``form_id`` as rendered (disabled and unchecked fields
    left out, a select without a selected option sends its first one)."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.select, self.textarea = form_id, False, None, None
        self.data = defaultdict(list)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "option" and self.select is not None:
            self.select[2].append((a.get("value", ""), "selected" in a))
        elif "disabled" in a or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" in a:
                self.data[a["name"]].append(a.get("value", "on"))
            elif kind not in ("checkbox", "radio", "submit", "button", "image", "reset", "file"):
                self.data[a["name"]].append(a.get("value", ""))
        elif tag == "select":
            self.select = (a["name"], "multiple" in a, [])
        elif tag == "textarea":
            self.textarea = [a["name"], ""]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            name, multiple, options = self.select
            chosen = [value for value, selected in options if selected]
            self.data[name] += chosen or ([] if multiple else [value for value, _ in options[:1]])
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.data[name].append(text.removeprefix("\n"))  # as a browser reads it: the first newline is markup
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data


def form_data(model, view, obj) -> dict:
    """The add or change form's own data, as the superuser is shown it ({} where even he has no such form)."""
    superuser = Client()
    superuser.force_login(get_user_model().objects.get(username="admin"))
    page = superuser.get(url(model, view, obj))
    if page.status_code != 200:
        return {}
    parser = FormFields(f"{model._meta.model_name}_form")
    parser.feed(page.content.decode())
    return dict(parser.data)


def digest() -> dict:
    """Row count and md5 of the rows of every registered model and its many-to-many tables, computed in PostgreSQL
    (a row's text holds every value values_list would give, without moving 25,000 rows into Python ~800 times)."""
    tables = sorted(
        {
            table
            for model in admin.site._registry
            for table in [
                model._meta.db_table,
                *(f.remote_field.through._meta.db_table for f in model._meta.many_to_many),
            ]
        }
    )
    sql = (
        "SELECT ARRAY["
        + ", ".join(  # one array in the tables' order (a UNION ALL's rows come in no set order)
            f"(SELECT count(*) || ':' || coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')"
            f" FROM {connection.ops.quote_name(table)} t)"
            for table in tables
        )
        + "]"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone()[0], strict=True))


@pytest.fixture
def targets(small_street, user_for) -> dict:
    """(own, other) for every registered model: own in the street admin's scope where he has one, other outside it:
    the hand-made street of small_street with its member, staffing, help pair, central household and link, version,
    an account and profile there, a token and an audit row of each account, two groups."""
    street_admin, day = user_for("street_admin"), datetime.date(2026, 1, 1)
    grid, households = small_street["grids"]["110105001001001"], small_street["households"]
    stranger = get_user_model().objects.create(username="stranger-street-admin", is_staff=True)
    m.Profile.objects.create(user=stranger, role=m.Role.STREET_ADMIN, street=small_street["street"])
    member = m.Member.objects.create(name="外街成员", community=grid.community)
    m.GridAssignment.objects.create(member=member, grid=grid, role=m.AssignmentRole.FULLTIME, start_date=day)
    m.HelpPair.objects.create(household=households["west"], member=member, unit="外街单位", start_date=day)
    central = m.CentralHousehold.objects.create(household=households["west"])
    m.CentralLink.objects.create(central=central, household=households["east"])
    m.GridVersion.objects.create(grid=grid, number=1, boundary=grid.boundary, status=grid.status)
    for user in (street_admin, stranger):
        audit.record(user, m.AuditAction.LOGIN, "user", user.pk)
        Token.objects.create(user=user)
    Group.objects.bulk_create([Group(name="甲组"), Group(name="乙组")])

    def pick(model):
        scope = SCOPES[model](street_admin).values("pk") if model in SCOPES else model.objects.none().values("pk")
        rows = model.objects.order_by("pk")
        return rows.filter(pk__in=scope).first() or rows.first(), rows.exclude(pk__in=scope).last()

    return {model: pick(model) for model in admin.site._registry}


def request_for(model, view, method, obj) -> tuple[str, str, dict]:
    """(method, address, data) of one admin request as a browser makes it: the changelist's action form, or the page
    with its own form data (read first: reading it logs the superuser in, which writes his last_login)."""
    if view == "action":
        return (
            "post",
            url(model, "changelist"),
            {"action": "delete_selected", ACTION_CHECKBOX_NAME: [obj.pk], "post": "yes"},
        )
    return method, url(model, view, obj), form_data(model, view, obj) if method == "post" else {}


STAFF = ("system_admin", "street_admin")
MODELS = list(admin.site._registry)


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label_lower)
def test_the_admin_answers_each_staff_role_by_its_rights_and_scope(client_for, user_for, targets, model, role):
    """Every case of CASES for one model and role; each runs in a savepoint rolled back after it, so a delete
    allowed in one case leaves the object there for the next, and every mismatch is reported at once."""
    client, wrong = client_for(role), []
    for view, method, target in CASES:
        obj = None if target == "-" else targets[model][target == "other"]
        assert target == "-" or obj is not None, f"no {target} {model.__name__} to try"
        with transaction.atomic():
            verb, address, data = request_for(model, view, method, obj)
            before = digest() if method == "post" else None
            response = getattr(client, verb)(address, data)
            got = outcome(response)
            seen = obj is not None and visible(role, user_for(role), model, obj)
            if got not in expected(role, model, view, method, seen):
                wrong.append((view, method, target, got, response.content[:300]))
            elif method == "post" and got != 302 and digest() != before:  # refused or shown again: nothing written
                wrong.append((view, method, target, got, "changed the database"))
            transaction.set_rollback(True)
    assert not wrong, wrong


@pytest.mark.parametrize("role", [role for role in ROLES if role not in STAFF])
def test_the_admin_sends_every_other_role_to_its_login_page_and_writes_nothing(client, client_for, targets, role):
    """AdminSite.has_permission is the one gate for accounts that are not staff: every model's list, a change, an
    add and the delete action on an object of the street admin's own street all end at the login page."""
    client = client if role == "anon" else client_for(role)
    requests = [
        request_for(model, view, method, obj)
        for model in MODELS
        for view, method, obj in [("changelist", "get", None), ("add", "post", None),
                                  ("change", "post", targets[model][0]), ("action", "post", targets[model][0])]
    ]  # fmt: skip
    before, wrong = digest(), []
    for verb, address, data in requests:
        got = outcome(getattr(client, verb)(address, data))
        if got != LOGIN:
            wrong.append((address, verb, got))
    assert not wrong, wrong
    assert digest() == before


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label_lower)
def test_no_admin_form_lists_every_household(client_for, model):
    """A foreign key to a household (or member) is a raw id with a scoped lookup, not a select of the 15,000
    demo households (a 1 MB page that took 5 s to render, and would not render at all at a million)."""
    page = client_for("system_admin").get(url(model, "add"))
    assert page.status_code in (200, 403)
    assert len(page.content) < 200_000, (model.__name__, len(page.content))
