"""Residents' concerns: report one (idempotent on the client's id, routed to its grid by the one home rule)
and take a transition of the table in states.py. Each write is one transaction: the concern row (its version
moves on), one history row, its webhook delivery when the webhook is on (outbox.announce) and one audit event;
a stale version is 412 with the current state."""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gridmap import policy
from gridmap.models import AuditAction, Community, Grid
from gridmap.models.concerns import (
    STAGE_BITS,
    Concern,
    ConcernCategory,
    ConcernEvent,
    ConcernSource,
    Feedback,
    HandlerLevel,
    Urgency,
)
from gridmap.services import audit
from gridmap.services.concerns import outbox, states
from gridmap.services.grids.rehoming import homes_sql
from gridmap.services.refused import Refused, checked_text, not_found


def _home(point) -> tuple[int | None, int | None]:
    """(grid id, community id) of a point by the rule households follow (lowest code on a shared edge)."""
    points = "(SELECT 0 AS id, ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS location)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT grid_id, community_id FROM ({homes_sql(points)}) h", [point.x, point.y])
        return cursor.fetchone()


def _choice(value, choices, field: str, default: str) -> str:
    if value in (None, ""):
        return default
    if value not in choices.values:
        raise Refused(
            400, "invalid_choice", field=field, detail=_("可选值：%(values)s") % {"values": ", ".join(choices.values)}
        )
    return value


def actor_name(user) -> str:
    member = getattr(user, "member", None)
    return (member.name if member else (user.get_full_name() or user.get_username()))[:150]


@transaction.atomic
def report(user, data: dict, point) -> tuple[Concern, bool]:
    """A new concern (``created`` True), or the one this client id already made (a retry or an offline replay)."""
    if policy.concern_level(user) is None:
        raise Refused(403, "forbidden", detail=_("无权上报诉求"))
    uid = data.get("uid") or uuid.uuid4()
    try:
        uid = uuid.UUID(str(uid))
    except ValueError as exc:
        raise Refused(400, "bad_value", field="uid", detail=_("应为 UUID")) from exc
    existing = Concern.objects.filter(uid=uid).first()
    if existing is not None:
        if existing.reporter_id != user.pk:  # someone else's id: say nothing about it
            raise Refused(409, "uid_taken", field="uid", detail=_("此客户端编号已被使用，请换一个"))
        return existing, False
    category = ConcernCategory.objects.filter(code=data.get("category"), active=True).first()
    if category is None:
        raise Refused(400, "invalid_choice", field="category", detail=_("请选择诉求类别"))
    grid_id, community_id = _home(point)
    scope = policy.communities_for(user)
    if community_id is None or not scope.filter(pk=community_id).exists():
        raise Refused(400, "outside_scope", field="location", detail=_("该位置不在您负责的范围内"))
    if policy.concern_level(user) == states.FIELD and not policy.grids_for(user).filter(pk=grid_id).exists():
        raise Refused(400, "outside_scope", field="location", detail=_("该位置不在您负责的网格内"))
    household = None
    if data.get("household") is not None:
        household = policy.households_for(user).filter(pk=data["household"]).first() if isinstance(
            data["household"], int) and not isinstance(data["household"], bool) else None  # fmt: skip
        if household is None:
            raise not_found("household")
    urgency = _choice(data.get("urgency"), Urgency, "urgency", Urgency.NORMAL)
    source = _choice(data.get("source"), ConcernSource, "source", ConcernSource.PATROL)
    return _create(user, uid, category, urgency, source, data, point, grid_id, community_id, household), True


def _create(user, uid, category, urgency, source, data, point, grid_id, community_id, household=None) -> Concern:
    """The concern row, its history row, its webhook delivery and its audit event (``user`` None: the public)."""
    # Without their boundaries: the row needs the community's street (deadlines) and the grid's code and name.
    now, community = timezone.now(), Community.objects.only("id", "street_id").get(pk=community_id)
    concern = Concern.objects.create(
        uid=uid,
        category=category,
        urgency=urgency,
        location=point,
        address=checked_text(data.get("address") or "", "address", 200, blank=True),
        description=checked_text(data.get("description"), "description", 2000),
        source=source,
        household=household,
        reporter=user,
        grid=Grid.objects.only("id", "code", "name", "community_id").filter(pk=grid_id).first(),
        community=community,
        stage_started_at=now,
        due_at=states.due(category, urgency, states.S.REPORTED, now, street_id=community.street_id),
    )
    actor = actor_name(user) if user is not None else gettext_noop("居民扫码")
    event = ConcernEvent.objects.create(concern=concern, user=user, actor=actor, action="report",
                                        to_state=concern.state, note="")  # fmt: skip
    outbox.announce([event.pk])  # in this transaction: no delivery without the event, none lost with it
    audit.record(user, AuditAction.CONCERN, "concern", concern.pk, reason="report" if user else "public_report",
                 username="" if user else "public")  # fmt: skip
    return concern


@transaction.atomic
def report_public(community_id: int, data: dict, point) -> Concern:
    """A resident's concern from a community's public intake (services/concerns/intake.py checked the token, the
    limits and the sizes): no account, source QR form, state reported for staff to accept. The point must lie in
    that community (by the one home rule); the category must be one the public may choose."""
    category = ConcernCategory.objects.filter(code=data.get("category"), active=True, is_wish=False).first()
    if category is None:
        raise Refused(400, "invalid_choice", field="category", detail=_("请选择诉求类别"))
    grid_id, home = _home(point)
    if home != community_id:
        raise Refused(
            400, "outside_community", field="location", detail=_("该位置不在本社区范围内，请在地图上本社区内选点")
        )
    return _create(None, uuid.uuid4(), category, Urgency.NORMAL, ConcernSource.QR_FORM, data, point, grid_id, home)


def stage_left(concern: Concern, now) -> dict:
    """The column changes for leaving the concern's current stage now: its hours added to the stage's time, and
    the stage's late bit when its deadline has passed. Parked and final states are in no stage."""
    stage = states.STAGE.get(concern.state)
    if stage is None:
        return {}
    spent = max((now - concern.stage_started_at).total_seconds(), 0) / 3600
    changes = {f"hours_{stage}": Coalesce(F(f"hours_{stage}"), Value(0.0)) + Value(spent)}
    if concern.due_at is not None and concern.due_at < now:
        changes["late_stages"] = F("late_stages").bitor(STAGE_BITS[stage])
    return changes


@transaction.atomic
def transition(user, concern_id: int, action: str, data: dict, *, version: int | None = None) -> Concern:
    """Take ``action`` (states.TRANSITIONS) on a concern of the user's scope; with ``version``, only at the
    version the user read (the API holds its callers to If-Match before calling)."""
    concern = (  # its category and community come with it (the deadline needs both); only the concern is locked
        policy.concerns_for(user)
        .select_related("category", "community")
        .select_for_update(of=("self",))
        .filter(pk=concern_id)
        .first()
    )
    if concern is None:
        raise not_found("concern")
    if version is not None and concern.version != version:
        raise Refused(
            412,
            "precondition_failed",
            field="If-Match",
            detail=_("该诉求已被他人更新，请刷新后重试"),
            current=concern.version,
        )
    step = states.TRANSITIONS.get(action)
    if step is None:
        raise Refused(400, "invalid_choice", field="action", detail=_("未知操作"))
    level = policy.concern_level(user)
    if level not in step.levels:
        raise Refused(403, "forbidden", field="action", detail=_("您的角色不能执行此操作"))
    if concern.state not in step.sources:
        raise Refused(409, "wrong_state", field="action",
                      detail=_("当前状态“%(state)s”不能“%(action)s”") % {"state": concern.get_state_display(),
                                                                     "action": step.label})  # fmt: skip
    note = checked_text(data.get("note") or "", "note", 2000, blank=not step.needs_note)
    target, changes = step.target, {}
    if action == "dispatch":
        changes["handler_level"] = _choice(data.get("handler_level"), HandlerLevel, "handler_level", HandlerLevel.GRID)
        changes["handler_name"] = checked_text(data.get("handler_name") or "", "handler_name", 100, blank=True)
        # Passed on to a third unit (流转, after returns or a failed check): the street takes it over (提级督办).
        handed = ConcernEvent.objects.filter(concern=concern, action="dispatch").count() + 1
        changes["escalated"] = handed >= states.ESCALATE_HANDOFFS or concern.escalated
    elif action == "claim":
        if not concern.category.is_wish:
            raise Refused(409, "not_claimable", field="action", detail=_("只有微心愿和服务项目可以认领"))
        member = policy.members_for(user).filter(pk=data.get("member")).first() if isinstance(
            data.get("member"), int) else None  # fmt: skip
        if member is None:
            raise Refused(400, "required", field="member", detail=_("请选择认领的党员或志愿者"))
        changes.update(claimed_by=member, handler_level=HandlerLevel.GRID, handler_name=member.name[:100])
    elif action == "handle" and concern.category.is_wish:
        hours, people = data.get("service_hours"), data.get("beneficiaries")
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 1000:
            raise Refused(400, "required", field="service_hours", detail=_("请填写服务时长（小时）"))
        if isinstance(people, bool) or not isinstance(people, int) or not 0 < people <= 100_000:
            raise Refused(400, "required", field="beneficiaries", detail=_("请填写受益人数"))
        changes.update(service_hours=round(hours, 1), beneficiaries=people)
    elif action == "verify_fail":
        changes["rework"] = F("rework") + 1
        changes["escalated"] = concern.rework + 1 >= states.ESCALATE_REWORK or concern.escalated
    elif action == "feedback":
        feedback = _choice(data.get("feedback"), Feedback, "feedback", "")
        if not feedback:
            raise Refused(400, "required", field="feedback", detail=_("请选择回访评价"))
        changes["feedback"] = feedback
        if feedback == Feedback.UNSATISFIED and concern.reopened < states.REOPEN_LIMIT:
            target, changes["reopened"] = states.S.REOPENED, F("reopened") + 1
    now = timezone.now()
    if concern.due_at is not None and concern.due_at < now:
        changes["late_steps"] = F("late_steps") + 1  # this stage ends late: the case is not closed on time
    changes.update(stage_left(concern, now))
    Concern.objects.filter(pk=concern.pk).update(
        state=target, version=F("version") + 1, stage_started_at=now,
        due_at=states.due(concern.category, concern.urgency, target, now, street_id=concern.community.street_id),
        **changes,
    )  # fmt: skip
    event = ConcernEvent.objects.create(concern=concern, user=user, actor=actor_name(user), action=action,
                                        from_state=concern.state, to_state=target, note=note)  # fmt: skip
    outbox.announce([event.pk])
    audit.record(user, AuditAction.CONCERN, "concern", concern.pk, reason=action)
    concern.refresh_from_db()
    return concern
