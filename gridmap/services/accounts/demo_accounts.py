"""Demo accounts, one for every role, scoped to the loaded demo street. Only in demo mode."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from gridmap.models import (
    AssignmentRole,
    Community,
    Grid,
    GridAssignment,
    Member,
    Profile,
    Role,
    Street,
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope: str


def _leader_member(role: str) -> tuple[Member, Grid]:
    """The member holding ``role`` in the first grid (by code) that has one."""
    assignment = (
        GridAssignment.objects.active()
        .filter(role=role)
        .select_related("member", "grid")
        .order_by("grid__code", "id")
        .first()
    )
    if assignment is None:
        raise LookupError(f"the demo street has no active {role}")
    return assignment.member, assignment.grid


@transaction.atomic
def ensure_demo_accounts(password: str) -> list[DemoAccount]:
    """Create or reset the demo accounts; return them with their scope for printing."""
    User = get_user_model()
    street = Street.objects.order_by("code").first()
    community = Community.objects.filter(street=street).order_by("code").first()
    if street is None or community is None:
        raise LookupError("load the demo street first")
    leader, leader_grid = _leader_member(AssignmentRole.LEADER)
    worker, worker_grid = _leader_member(AssignmentRole.FULLTIME)
    if worker.pk == leader.pk:
        raise LookupError("demo leader and worker must be different members")
    specs = [
        ("admin", Role.SYSTEM_ADMIN, {}, None, "全部"),
        ("jiedao", Role.STREET_ADMIN, {"street": street}, None, street.name),
        ("shequ", Role.COMMUNITY_STAFF, {"community": community}, None, community.name),
        ("wanggezhang", Role.GRID_LEADER, {}, leader, leader_grid.name),
        ("wanggeyuan", Role.GRID_WORKER, {}, worker, worker_grid.name),
        ("guihua", Role.PLANNER, {"street": street}, None, street.name),
    ]
    accounts = []
    for username, role, scope, member, label in specs:
        user, _ = User.objects.get_or_create(username=username)
        user.is_active = True
        user.is_staff = role in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN)
        user.is_superuser = role == Role.SYSTEM_ADMIN
        user.first_name = member.name if member else ""
        user.set_password(password)
        user.save()
        Profile.objects.update_or_create(
            user=user, defaults={"role": role, "street": scope.get("street"), "community": scope.get("community")}
        )
        if member is not None:
            Member.objects.filter(user=user).exclude(pk=member.pk).update(user=None)
            member.user = user
            member.save(update_fields=["user"])
        accounts.append(DemoAccount(username, Role(role).label, label))
    return accounts
