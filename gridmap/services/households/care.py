"""What the grid leader does to his households: edit details, move the point inside his own grid, reveal
masked personal data with a reason (audited), log visits, and pair vulnerable households with helpers."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import (
    AuditAction,
    HelpPair,
    Household,
    Role,
    Visit,
)
from gridmap.services import audit
from gridmap.services.grids.rehoming import rehome_households
from gridmap.services.periods import end_period
from gridmap.services.refused import Refused, checked_text, not_found
from gridmap.storage import sealed_fields


def in_scope(user, household_id: int) -> Household:
    household = policy.households_for(user).filter(pk=household_id).first()
    if household is None:
        raise not_found("household")
    return household


@transaction.atomic
def update_household(user, household_id: int, changes: dict) -> Household:
    """Apply ``changes`` (validated by api/bodies.HouseholdChanges); phone and ID number are sealed into
    their three columns each."""
    household = in_scope(user, household_id)
    for kind in ("phone", "id_number"):
        if kind in changes:
            changes.update(sealed_fields.columns(kind, changes.pop(kind)))
    Household.objects.filter(pk=household.pk).update(**changes, updated_at=timezone.now())
    household.refresh_from_db()
    return household


@transaction.atomic
def move_household(user, household_id: int, point: Point) -> Household:
    """Move a household's point. Checked server-side on both ends: the household must now be in a grid
    the user may move within, and the new point must be covered by the same grid for a grid leader or
    worker (by any grid of his scope for managers). The household is then re-homed set-based."""
    household = in_scope(user, household_id)
    allowed = policy.household_move_grids_for(user)
    if (
        household.grid_id is None
        or not allowed.filter(pk=household.grid_id, boundary__covers=household.location).exists()
    ):
        raise Refused(403, "outside_own_grid", field="location", detail=_("该住户当前不在您负责的网格内"))
    field_role = policy.role_of(user) in (Role.GRID_LEADER, Role.GRID_WORKER)
    target = allowed.filter(pk=household.grid_id) if field_role else allowed
    if not target.filter(boundary__covers=point).exists():
        raise Refused(403, "outside_own_grid", field="location", detail=_("新位置不在您负责的网格内"))
    old_grid = household.grid_id
    Household.objects.filter(pk=household.pk).update(location=point, updated_at=timezone.now())
    rehome_households(household_ids=[household.pk])
    household.refresh_from_db()
    # A point on a shared edge belongs to the lowest code: a leader may not hand a household away so.
    if field_role and household.grid_id != old_grid:
        transaction.set_rollback(True)
        raise Refused(403, "outside_own_grid", field="location", detail=_("新位置属于相邻网格"))
    return household


def reveal_personal_data(user, household_id: int, reason, ip: str | None) -> dict:
    """Full phone and ID number, with a typed reason; one audit row per reveal (who, when, what, why)."""
    if not policy.may_reveal(user):
        raise Refused(403, "forbidden")
    household = in_scope(user, household_id)
    reason = checked_text(reason if reason is not None else "", "reason", 500)
    if len(reason) < 2:
        raise Refused(400, "reason_too_short", field="reason", detail=_("请填写查看原因"))
    try:
        phone, id_number = household.phone, household.id_number
    except sealed_fields.SealError as exc:  # a key problem of the server: say so, never a 500
        audit.record(
            user,
            AuditAction.REVEAL,
            "household",
            household.pk,
            fields="phone,id_number",
            reason=reason,
            ip=ip,
            result="failed",
        )
        raise Refused(503, "data_key_error", field="key", detail=str(exc)) from None
    audit.record(user, AuditAction.REVEAL, "household", household.pk, fields="phone,id_number", reason=reason, ip=ip)
    return {"id": household.pk, "phone": phone, "id_number": id_number}


def record_visit(user, household_id: int, visited_on: dt.date, note) -> Visit:
    household = in_scope(user, household_id)
    today = timezone.localdate()
    if visited_on > today or visited_on < today - dt.timedelta(days=3660):
        raise Refused(400, "bad_date", field="visited_on", detail=_("走访日期不能晚于今天"))
    note = checked_text(note if note is not None else "", "note", 2000)
    member = getattr(user, "member", None)
    visitor = member.name if member else (user.get_full_name() or user.get_username())
    return Visit.objects.create(household=household, visited_on=visited_on, user=user, visitor=visitor[:50], note=note)


@transaction.atomic
def create_help_pair(user, household_id: int, data: dict, start: dt.date) -> HelpPair:
    """Pair a household with a member (in the user's scope) or a unit that helps it."""
    if not policy.may_pair_help(user):
        raise Refused(403, "forbidden", detail=_("无权建立帮扶对子"))
    household = in_scope(user, household_id)
    member_id, unit = data.get("member"), data.get("unit") or ""
    unit = checked_text(unit, "unit", 100, blank=True)
    member = None
    if member_id is not None:
        if isinstance(member_id, bool) or not isinstance(member_id, int):
            raise Refused(400, "bad_value", field="member", detail=_("应为人员编号"))
        member = policy.members_for(user).filter(pk=member_id).first()
        if member is None:
            raise not_found("member")
    if member is None and not unit:
        raise Refused(400, "required", field="member", detail=_("请选择帮扶人或填写帮扶单位"))
    return HelpPair.objects.create(household=household, member=member, unit=unit, start_date=start)


@transaction.atomic
def end_help_pair(user, pair_id: int, end: dt.date) -> HelpPair:
    pair = policy.help_pairs_for(user).select_for_update().filter(pk=pair_id).first()
    if pair is None:
        raise not_found("help_pair")
    if not policy.may_pair_help(user):  # the same right as making one
        raise Refused(403, "forbidden", detail=_("无权结束帮扶对子"))
    return end_period(pair, end, _("该帮扶对子已结束"))
