"""People, central households, the grid leader's own work (issue #5): who assigns whom, who reveals and pairs,
visits and help pairs, accounts and the audit trail, and the masked name."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gridmap.models import (
    AssignmentRole,
    AuditEvent,
    CentralHousehold,
    CentralLink,
    Community,
    Grid,
    GridAssignment,
    GridVersion,
    HelpPair,
    Household,
    Profile,
    Role,
    Visit,
)
from gridmap.policy.scopes import (
    MANAGER_ROLES,
    communities_for,
    grids_for,
    households_for,
    role_of,
    sees_residents,
    streets_for,
)

# docs/domain.md: the street admin assigns grid leaders and workers; community staff assign volunteers.
_ASSIGNABLE = {
    Role.SYSTEM_ADMIN: tuple(AssignmentRole.values),
    Role.STREET_ADMIN: tuple(AssignmentRole.values),
    Role.COMMUNITY_STAFF: (AssignmentRole.PARTTIME, AssignmentRole.BUILDING, AssignmentRole.VOLUNTEER),
}


def assignable_roles(user) -> tuple[str, ...]:
    """Assignment roles (网格长, 专职网格员, …) this user may give or end in the grids of his scope."""
    return tuple(str(r) for r in _ASSIGNABLE.get(role_of(user), ()))


def staff_grids_for(user) -> QuerySet[Grid]:
    """Grids whose staff the user may change (for the roles in ``assignable_roles``)."""
    return grids_for(user) if assignable_roles(user) else Grid.objects.none()


def assignments_for(user) -> QuerySet[GridAssignment]:
    """Assignments (with history) of the grids the user sees; names and roles only, never residents."""
    if role_of(user) == Role.PLANNER:
        return GridAssignment.objects.none()
    return GridAssignment.objects.filter(grid__in=grids_for(user))


def member_communities_for(user) -> QuerySet[Community]:
    """Communities in which the user may register members (by hand or by XLSX import)."""
    if role_of(user) not in MANAGER_ROLES:
        return Community.objects.none()
    return communities_for(user)


def central_households_editable_for(user) -> QuerySet[Household]:
    """Households the user may designate as central or link: community staff and above, in scope."""
    if role_of(user) not in MANAGER_ROLES:
        return Household.objects.none()
    return households_for(user)


def household_move_grids_for(user) -> QuerySet[Grid]:
    """Published grids a household of the user's scope may be moved within: a leader's own grids only."""
    if not sees_residents(user):
        return Grid.objects.none()
    return grids_for(user).published()


def may_reveal(user) -> bool:
    """Full ID number and phone, with a typed reason and an audit row: resident roles only."""
    return sees_residents(user)


def may_pair_help(user) -> bool:
    """Pair a household with a helper (帮扶对子): managers and the grid leader, not grid workers."""
    return role_of(user) in MANAGER_ROLES + (Role.GRID_LEADER,)


def visits_for(user) -> QuerySet[Visit]:
    return Visit.objects.filter(household__in=households_for(user))


def help_pairs_for(user) -> QuerySet[HelpPair]:
    return HelpPair.objects.filter(household__in=households_for(user))


def grid_versions_for(user) -> QuerySet[GridVersion]:
    return GridVersion.objects.filter(grid__in=grids_for(user))


def central_households_for(user) -> QuerySet[CentralHousehold]:
    return CentralHousehold.objects.filter(household__in=households_for(user))


def central_links_for(user) -> QuerySet[CentralLink]:
    return CentralLink.objects.filter(central__household__in=households_for(user))


def profiles_for(user) -> QuerySet[Profile]:
    """Accounts and roles are the system admin's."""
    if role_of(user) != Role.SYSTEM_ADMIN:
        return Profile.objects.none()
    return Profile.objects.all()


def accounts_for(user) -> QuerySet:
    """Login accounts a form may offer (e.g. linking a member to a login): the system admin all of them, a
    street admin those whose profile lies in his street (street, community or assigned grid), nobody else."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.all()
    role = role_of(user)
    if role == Role.SYSTEM_ADMIN:
        return users
    if role != Role.STREET_ADMIN:
        return users.none()
    streets = streets_for(user)
    return users.filter(Q(profile__street__in=streets) | Q(profile__community__street__in=streets)).distinct()


def audit_events_for(user) -> QuerySet[AuditEvent]:
    """The audit trail is for the system admin (an audit administrator in issue 9)."""
    if role_of(user) != Role.SYSTEM_ADMIN:
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


def mask_name(value: str) -> str:
    """王建国 -> 王** (first character; as the household map layer masks the head of household)."""
    if not value:
        return ""
    return value[:1] + "*" * max(len(value) - 1, 1)
