"""Residents' concerns (/api/v1/concerns…): list and report, one concern with its history, a transition (or a
merge of duplicates), the candidates to merge with, the categories. Thin: bodies validated here by the one body
validator, then one service of services/concerns/. A transition names the concern's ETag (``"<version>"``) in
If-Match; planners get 403 (aggregates only); a concern out of the user's scope is 404."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.api import etags
from gridmap.api.bodies import Body, Choice, Location, RuleField, Text, WholeNumber, validated
from gridmap.api.concern_map import MAX_DAYS, asked_period, day_bounds
from gridmap.api.jsonapi import body, client_ip, endpoint, locked, precondition, reply
from gridmap.models.concerns import (
    Concern,
    ConcernCategory,
    ConcernEvent,
    ConcernSource,
    Feedback,
    HandlerLevel,
    Urgency,
)
from gridmap.planner.metrics import suppress
from gridmap.queries import concern_kpis
from gridmap.queries.worklist import concern_counts
from gridmap.rules.fields import plain_number
from gridmap.services.concerns import contact as contact_service
from gridmap.services.concerns import merge as merge_service
from gridmap.services.concerns import photos as photo_service
from gridmap.services.concerns import states, workflow
from gridmap.services.refused import Refused, not_found

LIST_LIMIT = 500


class ConcernReport(Body):
    uid = Text(36, required=False)
    category = Text(40)
    urgency = Choice(Urgency.values, required=False)
    location = Location()
    address = Text(200, blank=True, required=False)
    description = Text(2000)
    source = Choice(ConcernSource.values, required=False)
    household = WholeNumber(lambda v: 0 < v < 2**31, "应为住户编号", required=False)


class RuleNumber(RuleField):
    """A number (not a bool, not a string) for the service's own range check."""

    def to_internal_value(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            self.refuse("bad_value", _("应为数字"))
        return value


class ConcernStep(Body):
    action = Choice([*states.TRANSITIONS, "merge"])
    into = WholeNumber(lambda v: 0 < v < 2**31, lambda: _("应为诉求编号"), required=False)  # merge: the one kept
    note = Text(2000, blank=True, required=False)
    handler_level = Choice(HandlerLevel.values, required=False)
    handler_name = Text(100, blank=True, required=False)
    feedback = Choice(Feedback.values, required=False)
    member = WholeNumber(lambda v: 0 < v < 2**31, "应为人员编号", required=False)
    service_hours = RuleNumber(required=False)
    beneficiaries = WholeNumber(lambda v: 0 < v <= 100_000, "应为 1 到 100000 的整数", required=False)


def with_handoffs(found):
    """``found`` with ``handoffs``, the dispatches in each concern's history (states.escalation), counted in the
    same statement for the rows it returns."""
    dispatches = (
        ConcernEvent.objects.filter(concern=OuterRef("pk"), action="dispatch")
        .order_by()
        .values("concern")
        .annotate(n=Count("id"))
        .values("n")
    )
    return found.annotate(handoffs=Coalesce(Subquery(dispatches), 0))


def _escalation(c: Concern) -> str | None:
    handoffs = getattr(c, "handoffs", None)
    if handoffs is None and c.escalated and c.rework < states.ESCALATE_REWORK:  # one concern, not annotated
        handoffs = c.events.filter(action="dispatch").count()
    return states.escalation(c.escalated, c.rework, handoffs or 0)


def _facts(c: Concern) -> list[dict]:
    """What a claim gave (认领人, service hours, beneficiaries) and the resident's rating (回访), each with its field's
    name in the UI's language; only those recorded."""
    values = {"claimed_by": c.claimed_by.name if c.claimed_by_id else None,
              "service_hours": f"{c.service_hours:g}" if c.service_hours is not None else None,
              "beneficiaries": c.beneficiaries, "feedback": c.get_feedback_display() if c.feedback else None}  # fmt: skip
    return [{"label": str(Concern._meta.get_field(name).verbose_name), "value": str(value)}
            for name, value in values.items() if value is not None]  # fmt: skip


def row(user, c: Concern, now) -> dict:
    """A concern as the pages list it: what, where, its stage's deadline and what this user may do next;
    ``escalation`` says why it is flagged (states.ESCALATION_LABELS), null when it is not."""
    escalation = _escalation(c)
    return {
        "id": c.pk,
        "uid": str(c.uid),
        "category": c.category.label,
        "category_code": c.category.code,
        "urgency": c.urgency,
        "state": c.state,
        "state_label": c.get_state_display(),
        "source": c.source,
        "source_label": c.get_source_display(),
        "address": c.address,
        "description": c.description,
        "lon": round(c.location.x, 6),
        "lat": round(c.location.y, 6),
        "grid": c.grid.code if c.grid_id else None,
        "grid_name": c.grid.name if c.grid_id else None,
        "due_at": c.due_at.isoformat() if c.due_at else None,
        "overdue": bool(c.due_at and c.due_at < now),
        "escalated": c.escalated,
        "escalation": escalation,
        "escalation_label": str(states.ESCALATION_LABELS[escalation]) if escalation else None,
        "is_wish": c.category.is_wish,
        "claimed_by": c.claimed_by.name if c.claimed_by_id else None,
        "service_hours": float(c.service_hours) if c.service_hours is not None else None,
        "beneficiaries": c.beneficiaries,
        "feedback": c.feedback or None,
        "facts": _facts(c),
        "rework": c.rework,
        "created_at": c.created_at.isoformat(),
        "actions": [
            {"action": a, "label": str(states.TRANSITIONS[a].label), "note": states.TRANSITIONS[a].needs_note}
            for a in states.allowed(c.state, policy.concern_level(user), wish=c.category.is_wish)
        ],  # fmt: skip
        "etag": etags.concern(c),
    }


@endpoint(residents=True, creates=("POST",))
def concerns(request: HttpRequest) -> HttpResponse:
    """GET: the user's concerns, overdue first then due soonest (``?state=open|overdue|closed|<state>``).
    POST: report one; a ``uid`` sent again by its reporter answers the first concern (200), never a second."""
    user = request.user
    if request.method == "POST":
        data = validated(ConcernReport, body(request))
        concern, created = workflow.report(user, data, data.pop("location"))
        return reply(row(user, concern, timezone.now()), 201 if created else 200, etag=etags.concern(concern))
    now, wanted = timezone.now(), request.GET.get("state", "open")
    found = with_handoffs(policy.concerns_for(user).select_related("category", "grid", "claimed_by"))
    if wanted == "open":
        found = found.filter(state__in=states.OPEN)
    elif wanted == "overdue":
        found = found.filter(state__in=states.OPEN, due_at__lt=now)
    elif wanted == "closed":
        found = found.filter(state__in=states.FINAL)
    elif wanted in states.S.values:
        found = found.filter(state=wanted)
    else:
        raise Refused(400, "bad_value", field="state", detail="open, overdue, closed, " + ", ".join(states.S.values))
    found = found.order_by(F("due_at").asc(nulls_last=True), "-id")[:LIST_LIMIT]  # the overdue are due earliest
    counts = concern_counts(policy.concerns_for(user))  # the page's tabs: what waits, what is late
    return reply({"concerns": [row(user, c, now) for c in found], "limit": LIST_LIMIT, "counts": counts})


DUPLICATE_RADIUS_M = 250


def _near(user, here: Point, category: str, *, leave_out: int | None = None) -> list[dict]:
    """The user's open concerns of ``category`` within 250 m of ``here``, nearest first (ten at most)."""
    found = (
        with_handoffs(policy.concerns_for(user))
        .filter(state__in=states.OPEN, category__code=category,
                location__dwithin=(here, DUPLICATE_RADIUS_M / (111_320 * max(math.cos(math.radians(here.y)), 0.1))),
                location__distance_lte=(here, D(m=DUPLICATE_RADIUS_M)))  # the box by index, then the metres
        .exclude(pk=leave_out)
        .annotate(distance=Distance("location", here))
        .select_related("category", "grid", "claimed_by")
        .order_by("distance")[:10]
    )  # fmt: skip
    now = timezone.now()
    return [{**row(user, c, now), "distance_m": round(c.distance.m)} for c in found]


@endpoint(residents=True)
def nearby(request: HttpRequest) -> HttpResponse:
    """?lon&lat&category: open concerns of the same category within 250 m of a point being reported, nearest
    first ("same problem?"), from the user's scope only."""
    try:
        lon, lat = float(request.GET.get("lon", "")), float(request.GET.get("lat", ""))
    except ValueError:
        raise Refused(400, "required", field="lon", detail=_("需要 lon 和 lat")) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise Refused(400, "bad_value", field="lon", detail=_("经纬度超出范围"))
    found = _near(request.user, Point(lon, lat, srid=4326), request.GET.get("category", ""))
    return reply({"radius_m": DUPLICATE_RADIUS_M, "concerns": found})


@endpoint(residents=True)
def duplicates(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidates to merge a concern with (duplicates): the open concerns of its category within 250 m of it,
    nearest first, from the user's scope, itself left out; for staff who merge (community staff, street admins,
    the system admin; grid staff 403). A concern further away or of another category is merged by its number."""
    found = policy.concerns_for(request.user).select_related("category").filter(pk=pk).first()
    if found is None:
        raise not_found("concern")
    if policy.concern_level(request.user) not in states.MERGE.levels:
        raise Refused(403, "forbidden", detail=_("您的角色不能合并诉求"))
    near = _near(request.user, found.location, found.category.code, leave_out=found.pk)
    return reply({"radius_m": DUPLICATE_RADIUS_M, "concerns": near})


# The names a history row carries for no person, shown in the UI's language: the public's report (workflow), the
# sweep's default (manage.py concern_sweep) and the demo's year (services/concerns/demo.py).
NO_PERSON = {"居民扫码": lambda: _("居民扫码"), "system": lambda: _("系统"), "演示": lambda: _("演示")}
# The note such a row carries, in the UI's language too: the sweep's (services/concerns/sweep.py).
NO_PERSON_NOTES = {"超期督办": lambda: _("超期督办")}


def _link(c: Concern | None, pk: int) -> dict:
    """Another concern a merge names: its number, and what it is when it is in the user's scope."""
    return {"id": pk, **({"category": c.category.label, "state_label": c.get_state_display(),
                          "description": c.description[:80]} if c else {})}  # fmt: skip


@endpoint(residents=True)
def concern(request: HttpRequest, pk: int) -> HttpResponse:
    """One concern with its history (who, when, what as ``action_label``, from, to, note), the merges it is in
    (``merged_into``: the concern kept when this one was merged, ``merged``: those merged into this one;
    ``may_merge``, ``may_keep``: what this user may do) and, for a public submission, the resident's contact
    phone masked (``contact_phone``, null without one; in full only by the audited reveal)."""
    user = request.user
    seen = policy.concerns_for(user).select_related("category", "grid", "claimed_by")
    found = seen.filter(pk=pk).first()
    if found is None:
        raise not_found("concern")
    events = [{"at": e.at.isoformat(), "actor": NO_PERSON[e.actor]() if e.user_id is None and e.actor in NO_PERSON
               else e.actor, "action": e.action, "action_label": states.action_label(e.action), "from": e.from_state,
               "to": e.to_state, "note": NO_PERSON_NOTES[e.note]() if e.user_id is None and e.note in NO_PERSON_NOTES
               else e.note} for e in found.events.all()]  # fmt: skip
    kept = found.merged_into_id and _link(seen.filter(pk=found.merged_into_id).first(), found.merged_into_id)
    manager = policy.concern_level(user) in states.MERGE.levels
    merges = {"merged_into": kept or None, "merged": [_link(c, c.pk) for c in seen.filter(merged_into=found).order_by("id")],
              "may_merge": manager and found.state in states.MERGE.sources,
              "may_keep": manager and states.keeps(found.state, found.merged_into_id)}  # fmt: skip
    phone = contact_service.masked_phone(user, found.pk)
    return reply({**row(user, found, timezone.now()), **merges, "events": events, "contact_phone": phone},
                 etag=etags.concern(found))  # fmt: skip


@endpoint(residents=True, creates=("POST",), get=False)
def reveal_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """The full contact phone of a public concern for a typed ``reason``; every reveal writes an audit row (a
    create: the concern itself is not changed, so no If-Match)."""
    data = body(request)
    return reply(contact_service.reveal_phone(request.user, pk, data.get("reason"), client_ip(request)))


@endpoint(residents=True, guards=("POST",), get=False)
@transaction.atomic
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    """{action, note, handler_level, handler_name, feedback, member, service_hours, beneficiaries}: one step of the
    table in services/concerns/states.py; or {action: "merge", into, note}: merge this concern, a duplicate, into
    the concern ``into`` (a duplicate: this one ends void, linked to that one; If-Match names this one). Scope (404),
    then rights (403), then the concurrency rule (428/412), so a refusal never depends on the header.

    A merge is for community staff, street admins and the system admin; this concern must be open, ``into`` in the
    user's scope (404 naming it), not this one, not void, rejected or merged itself (400 naming it)."""
    user = request.user
    data = validated(ConcernStep, body(request))
    action = data.pop("action")
    if not policy.concerns_for(user).filter(pk=pk).exists():
        raise not_found("concern")
    if policy.concern_level(user) not in (states.MERGE if action == "merge" else states.TRANSITIONS[action]).levels:
        raise Refused(403, "forbidden", field="action", detail=_("您的角色不能执行此操作"))
    state = lambda c: {"current": row(user, c, timezone.now())}  # noqa: E731 (a stale write's answer)
    if action == "merge":  # both rows locked in id order first: two merges of a pair never deadlock
        merged = merge_service.locked_pair(user, pk, data.get("into"))[pk]
        precondition(request, etags.concern(merged), state(merged))
        concern, kept = merge_service.merge(user, pk, data.pop("into"), data)
        return reply({**row(user, concern, timezone.now()), "merged_into": _link(kept, kept.pk)},
                     etag=etags.concern(concern))  # fmt: skip
    locked(request, policy.concerns_for(user), pk, field="concern", etag=etags.concern, state=state)
    concern = workflow.transition(user, pk, action, data)
    return reply(row(user, concern, timezone.now()), etag=etags.concern(concern))


@endpoint(residents=True)
def counts(request: HttpRequest) -> HttpResponse:
    """The bell of every page (base.js polls it): the user's open concerns that are new, due soon, overdue or
    escalated, and ``attention``, the open ones in any of these."""
    response = reply(concern_counts(policy.concerns_for(request.user)))
    response["Cache-Control"] = "private, no-store"
    return response


@endpoint()
def kpis(request: HttpRequest) -> HttpResponse:
    """?by=grid|community|street&from&to (whole days; ``days=N``: the N days up to today): the KPIs of
    queries/concern_kpis.py per area of the user's scope and their total; for planners the counts of 1–4 read "<5"
    and a rate or mean over fewer than 5 concerns is withheld."""
    by = request.GET.get("by", "grid")
    if by not in concern_kpis.LEVELS:
        raise Refused(400, "bad_value", field="by", detail=", ".join(concern_kpis.LEVELS))
    days = request.GET.get("days")
    if days is not None and not {"from", "to"} & set(request.GET):
        if not plain_number(days) or not 1 <= int(days) <= MAX_DAYS:
            raise Refused(400, "bad_value", field="days", detail=_("应为 1 到 3660 的整数"))
        until = timezone.localdate()
        since = until - dt.timedelta(days=int(days) - 1)
    else:
        since, until = asked_period(request)
    rows, total = concern_kpis.concern_kpis(policy.concern_aggregates_for(request.user), by=by,
                                           **dict(zip(("since", "until"), day_bounds(since, until))))  # fmt: skip
    planner = policy.small_counts_suppressed(request.user)
    for row_ in (*rows, total):
        _suppressed(row_, planner)
    return reply({"by": by, "from": since.isoformat(), "to": until.isoformat(), "rows": rows, "total": total})


RATE_BASES = {"closure_rate": "due", "on_time_rate": "due", "rework_rate": "handled", "satisfaction_rate": "rated"}


def _suppressed(row_: dict, planner: bool) -> None:
    """For planners: a rate or mean over fewer than SMALL_COUNT_MIN concerns withheld, counts of 1–4 as "<5"."""
    if not planner:
        return
    small = settings.SMALL_COUNT_MIN
    for rate, base in RATE_BASES.items():
        if row_[base] < small:
            row_[rate] = None
    if row_["closed"] < small:
        row_["mean_hours_to_close"] = None
    if row_["claimed"] < small:  # the hours of one or two claims name who gave them
        row_["service_hours"] = None
    for stage in row_["stages"].values():
        if stage["left"] < small:
            stage["mean_hours"] = stage["on_time_rate"] = None
        stage["left"], stage["on_time"] = suppress(stage["left"], True), suppress(stage["on_time"], True)
    for key in concern_kpis.COUNTS:
        row_[key] = suppress(row_[key], True)


@endpoint(residents=True)
def categories(request: HttpRequest) -> HttpResponse:
    """The active categories with the hours of each stage."""
    rows = ConcernCategory.objects.filter(active=True).values(
        "code", "name", "accept_hours", "dispatch_hours", "handle_hours", "verify_hours", "is_wish"
    )
    return reply({"categories": list(rows)})


@endpoint(residents=True, creates=("POST",))
def photos(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the concern's photos. POST (multipart, up to CONCERN_PHOTOS_MAX files named ``photo``, ``stage``):
    add photos; each is checked and re-encoded without metadata (services/concerns/photos.py)."""
    if request.method == "POST":
        if not request.content_type.startswith("multipart/form-data"):
            raise Refused(415, "unsupported_media_type", field="body", detail=_("请以 multipart/form-data 上传文件"))
        stage = request.POST.get("stage", "report")
        if stage not in ("report", *states.TRANSITIONS):
            raise Refused(400, "bad_value", field="stage", detail=_("未知环节"))
        photo_service.add_photos(request.user, pk, request.FILES.getlist("photo"), stage)
    concern = policy.concerns_for(request.user).filter(pk=pk).first()
    if concern is None:
        raise not_found("concern")
    rows = [{"id": p.id, "stage": p.stage, "width": p.width, "height": p.height,
             "url": reverse("concern-photo", args=[p.id]), "thumb": reverse("concern-photo", args=[p.id]) + "?thumb=1"}
            for p in concern.photos.all()]  # fmt: skip
    return reply({"photos": rows}, 201 if request.method == "POST" else 200)


@endpoint(residents=True)
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """One photo (``?thumb=1``: its thumbnail), only within the concern's scope; never cached by the browser."""
    path = photo_service.photo_file(request.user, pk, thumb=request.GET.get("thumb") == "1")
    if not path.is_file():
        raise not_found("photo")
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
