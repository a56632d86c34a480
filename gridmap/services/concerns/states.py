"""The concern's states in one place: the declared transition table, who may take each transition, the stage
each state is in and its deadline. services/concerns/workflow.py applies it; nothing else changes a state.

Levels (policy.concern_level): "field" (the grid's leader and workers), "manager" (community staff, street
admins, the system admin). A stage's deadline is the category's hours (or the street's own, calendar or working
days) from the moment the concern entered it (urgent: half), stored on the concern at each transition, so "overdue" is ``due_at < now()`` with no
background process; the sweep (manage.py concern_sweep) only flags and escalates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridmap.models.concerns import FINAL_STATES, OPEN_STATES, ConcernCategory, ConcernState, StreetDeadline, Urgency

S = ConcernState
OPEN, FINAL = OPEN_STATES, FINAL_STATES


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    levels: tuple[str, ...]  # who may take it
    label: str
    needs_note: bool = False
    announced: bool = True  # told to the outside platform (12345) by the outgoing webhook


FIELD, MANAGER = "field", "manager"
BOTH = (FIELD, MANAGER)
TRANSITIONS: dict[str, Transition] = {
    "accept": Transition((S.REPORTED,), S.ACCEPTED, (MANAGER,), _("立案")),
    "reject": Transition((S.REPORTED,), S.REJECTED, (MANAGER,), _("不予立案"), needs_note=True),
    "dispatch": Transition((S.ACCEPTED, S.RETURNED, S.REOPENED), S.DISPATCHED, (MANAGER,), _("派遣")),
    "claim": Transition((S.REPORTED, S.ACCEPTED), S.DISPATCHED, BOTH, _("认领")),  # wishes and projects only
    "start": Transition((S.DISPATCHED,), S.IN_PROGRESS, BOTH, _("开始处置"), announced=False),
    "extend": Transition((S.DISPATCHED, S.IN_PROGRESS), S.EXTENDED, (MANAGER,), _("批准延期"), needs_note=True),
    "return": Transition((S.DISPATCHED, S.IN_PROGRESS), S.RETURNED, BOTH, _("回退"), needs_note=True, announced=False),
    "handle": Transition((S.DISPATCHED, S.IN_PROGRESS, S.EXTENDED), S.HANDLED, BOTH, _("处置完成"), needs_note=True),
    "verify_pass": Transition((S.HANDLED,), S.VERIFIED, BOTH, _("核查通过")),
    "verify_fail": Transition((S.HANDLED,), S.DISPATCHED, BOTH, _("核查不通过（返工）"), needs_note=True),
    "feedback": Transition((S.VERIFIED,), S.CLOSED, BOTH, _("回访并结案")),
    "park": Transition((S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS), S.PARKED, (MANAGER,), _("挂账"), needs_note=True),
    "unpark": Transition((S.PARKED,), S.ACCEPTED, (MANAGER,), _("解除挂账")),
    "void": Transition(OPEN, S.VOID, (MANAGER,), _("作废"), needs_note=True),
}
# Merging a duplicate (合并重复, services/concerns/merge.py): the merged concern ends void like a voided one, linked
# to the one kept (Concern.merged_into); the kept one's history gets a MERGED_IN row, its state unchanged. Not in
# TRANSITIONS: it names a second concern (``into``), picked on the detail, so the board never offers it as a button.
MERGE = Transition(OPEN, S.VOID, (MANAGER,), _("合并到"))
MERGED_IN = "merged_in"
UNKEEPABLE = (S.VOID, S.REJECTED)  # never kept by a merge (nor a concern merged itself: it is void)
# The events a 12345 platform hears through the outgoing webhook (services/concerns/outbox.py): the report, every
# transition but the two between the dispatcher and the handler (start, return: the case stays with the level
# that dispatched it), a merge (the merged one's void, naming the one kept) and the sweep's escalation (督办). The
# event type sent is the state entered, "escalated" for the sweep.
ANNOUNCED = ("report", *(name for name, t in TRANSITIONS.items() if t.announced), "merge", "escalate")
REOPEN_LIMIT = 1  # an unsatisfied resident reopens a closed case once
ESCALATE_REWORK = 3  # rework this often escalates to the street (提级督办)
ESCALATE_HANDOFFS = 3  # dispatched to this many units in turn (流转) escalates to the street too
# Why a concern is flagged, as the board shows it: the sweep's 督办 of an overdue stage (one level up), or 提级督办
# when rework or the units it passed through reached the limits above (the street takes it over).
ESCALATION_LABELS = {"overdue": _("已督办"), "street": _("提级督办")}

# The stage a state is in, for its deadline: which hours of the category apply.
STAGE = {
    S.REPORTED: "accept",
    S.ACCEPTED: "dispatch",
    S.RETURNED: "dispatch",
    S.REOPENED: "dispatch",
    S.DISPATCHED: "handle",
    S.IN_PROGRESS: "handle",
    S.EXTENDED: "handle",
    S.HANDLED: "verify",
    S.VERIFIED: "verify",
}


def allowed(state: str, level: str | None, *, wish: bool = False) -> list[str]:
    """The actions a user of ``level`` may take on a concern in ``state``, in the table's order; "claim" only for
    small wishes and service projects (``wish``)."""
    return [name for name, t in TRANSITIONS.items()
            if state in t.sources and level in t.levels and (wish or name != "claim")]  # fmt: skip


def escalation(escalated: bool, rework: int, handoffs: int) -> str | None:
    """The key of ESCALATION_LABELS a flagged concern shows; None when it is not flagged. ``handoffs``: the
    dispatches in its history (workflow.transition flags the third)."""
    if not escalated:
        return None
    return "street" if rework >= ESCALATE_REWORK or handoffs >= ESCALATE_HANDOFFS else "overdue"


def keeps(state: str, merged_into_id: int | None) -> bool:
    """A concern in ``state`` may keep a duplicate merged into it: not void or rejected, not merged itself."""
    return state not in UNKEEPABLE and merged_into_id is None


# The history's action codes as people read them: the transitions' labels, and the rows no transition writes.
EVENT_LABELS = {"report": _("上报"), "escalate": _("督办"), "merge": MERGE.label, MERGED_IN: _("合并重复诉求")}


def action_label(action: str) -> str:
    """A history row's action in the UI's language (an unknown code as it is)."""
    step = TRANSITIONS.get(action)
    return str(step.label if step else EVENT_LABELS.get(action, action))


def due(category: ConcernCategory, urgency: str, state: str, since: dt.datetime, *, street_id: int | None = None):
    """The deadline of the stage ``state`` is in, entered at ``since``; None for parked and final states. The
    street's own hours for the category apply when its street admin set them (StreetDeadline), counted on
    working days only when he chose so; else the category's calendar hours."""
    stage = STAGE.get(state)
    if stage is None:
        return None
    rule = StreetDeadline.objects.filter(street_id=street_id, category=category).first() if street_id else None
    hours = getattr(rule or category, f"{stage}_hours")
    if state == S.EXTENDED:
        hours *= 2  # an approved extension doubles the handling time, counted from the approval
    if urgency == Urgency.URGENT:
        hours = max(1, hours // 2)
    if rule is not None and rule.working_days:
        return working_hours_later(since, hours)
    return since + dt.timedelta(hours=hours)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, except the public holidays of settings.CONCERN_HOLIDAYS; the make-up working days
    (调休) of settings.CONCERN_MAKEUP_WORKDAYS count although they fall on a weekend."""
    iso = day.isoformat()
    if iso in settings.CONCERN_MAKEUP_WORKDAYS:
        return True
    return day.weekday() < 5 and iso not in settings.CONCERN_HOLIDAYS


def working_hours_later(since: dt.datetime, hours: int) -> dt.datetime:
    """``since`` plus ``hours`` counted on working days only, in the installation's time zone (a day at a time:
    at most a few dozen steps for the hours a stage may have)."""
    left, moment = dt.timedelta(hours=hours), timezone.localtime(since)
    while True:
        midnight = timezone.make_aware(dt.datetime.combine(moment.date() + dt.timedelta(days=1), dt.time()))
        if is_working_day(moment.date()):
            if moment + left <= midnight:
                return moment + left
            left -= midnight - moment
        moment = midnight
