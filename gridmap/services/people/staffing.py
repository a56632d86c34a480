"""Giving members roles in grids and ending them; history is kept (an ended assignment stays).

The one-leader rule is a partial unique index in the database; this service checks it first so the
user gets a clear 409 naming the current leader, and the index still catches a concurrent assignment.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import AssignmentRole, AuditAction, Grid, GridAssignment, Member
from gridmap.services import audit
from gridmap.services.periods import end_period
from gridmap.services.refused import Refused, not_found


def _audit(user, action: str, assignment: GridAssignment, detail: str) -> None:
    audit.record(user, action, "gridassignment", assignment.pk, fields=detail)


@transaction.atomic
def assign_member(
    grid_id: int, member_id: int, role: str, start: dt.date, user, *, replace_leader: bool = False
) -> GridAssignment:
    """Give ``member`` the ``role`` in ``grid`` from ``start``.

    Refuses with 403 when the user may not give that role, 404 when grid or member is out of scope,
    409 when the grid already has an active leader (unless ``replace_leader``: the current leader's
    assignment then ends on ``start``) or the member already holds that role there.
    """
    if role not in AssignmentRole.values:
        raise Refused(400, "bad_role", field="role", detail=_("未知的分工角色"))
    if role not in policy.assignable_roles(user):
        raise Refused(403, "role_not_assignable", field="role", detail=_("无权分配此角色"))
    # Row lock on the grid: two admins assigning a leader at once queue here instead of racing.
    grid = policy.staff_grids_for(user).select_for_update().filter(pk=grid_id).first()
    if grid is None:
        raise not_found("grid")
    member = policy.members_for(user).filter(pk=member_id).first()
    if member is None:
        raise not_found("member")
    active = GridAssignment.objects.active().filter(grid=grid)
    if active.filter(member=member, role=role).exists():
        raise Refused(409, "already_assigned", field="member", detail=_("此人已担任该角色"))
    if role == AssignmentRole.LEADER:
        current = active.filter(role=AssignmentRole.LEADER).select_related("member").first()
        if current is not None:
            if not replace_leader:
                raise Refused(
                    409,
                    "leader_exists",
                    field="role",
                    detail=_("该网格已有网格长 %(name)s，请先结束其任职或选择替换") % {"name": current.member.name},
                    current_assignment=current.pk,
                )
            if start < current.start_date:
                raise Refused(400, "bad_date", field="start_date", detail=_("开始日期早于现任网格长的任职日期"))
            end_assignment(current.pk, start, user)
    try:
        with transaction.atomic():
            assignment = GridAssignment.objects.create(grid=grid, member=member, role=role, start_date=start)
    except IntegrityError:
        raise Refused(409, "leader_exists", field="role", detail=_("该网格已有网格长")) from None
    _audit(user, AuditAction.ASSIGN, assignment, f"assign {role} grid={grid.code} member={member.pk}")
    return assignment


def assignment_to_end(user, assignment_id: int) -> GridAssignment:
    """The assignment ``user`` may end, row-locked (inside a transaction): 404 out of scope, 403 for a role
    he may not assign. The API checks this before the concurrency rule."""
    assignment = (
        policy.assignments_for(user)
        .filter(grid__in=policy.staff_grids_for(user))
        .select_for_update()
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise not_found("assignment")
    if assignment.role not in policy.assignable_roles(user):
        raise Refused(403, "role_not_assignable", field="role", detail=_("无权结束此角色"))
    return assignment


@transaction.atomic
def end_assignment(assignment_id: int, end: dt.date, user) -> GridAssignment:
    """End an active assignment on ``end`` (kept as history). 404 out of scope, 409 already ended."""
    assignment = assignment_to_end(user, assignment_id)
    end_period(assignment, end, _("该任职已结束"))
    _audit(user, AuditAction.ASSIGN, assignment, f"end {assignment.role} on {end.isoformat()}")
    return assignment


def grid_staff(grid: Grid) -> dict:
    """Active staff and history of one grid, names and roles only (phones masked)."""
    rows = (
        GridAssignment.objects.filter(grid=grid)
        .select_related("member")
        .order_by("end_date", "role", "member__name", "-start_date")
    )
    out = {"active": [], "history": []}
    for a in rows:  # one query; the grid has tens of rows, not thousands
        item = {
            "id": a.pk,
            "role": a.role,
            "role_label": str(AssignmentRole(a.role).label),
            "member": {
                "id": a.member_id,
                "name": a.member.name,
                "phone": a.member.phone_masked,
                "is_party_member": a.member.is_party_member,
            },
            "start_date": a.start_date.isoformat(),
            "end_date": a.end_date.isoformat() if a.end_date else None,
        }
        out["active" if a.end_date is None else "history"].append(item)
    return out


def unassigned_members(members) -> list[Member]:
    """Members of ``members`` (a scoped queryset) with no active assignment anywhere."""
    return members.exclude(pk__in=GridAssignment.objects.active().values("member_id"))
