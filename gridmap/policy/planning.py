"""The planner dashboard (issue #6) and the stations planned on it: who sees the coverage figures and heat, whose
small counts are withheld, whose what-if proposals are whose, and who places service stations."""

from __future__ import annotations

from django.db.models import QuerySet

from gridmap.models import Community, Role, StationProposal
from gridmap.policy.scopes import communities_for, role_of, streets_for

DASHBOARD_ROLES = (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.PLANNER)


def sees_dashboard(user) -> bool:
    """Coverage dashboard and heat layer (aggregates of ``grids_for``): not for grid leaders and workers."""
    return role_of(user) in DASHBOARD_ROLES


def small_counts_suppressed(user) -> bool:
    """Planners see sensitive counts below SMALL_COUNT_MIN as "<5" and no heat cell of fewer households."""
    return role_of(user) == Role.PLANNER


def proposals_for(user) -> QuerySet[StationProposal]:
    """What-if station proposals: those of the user's streets, for the dashboard roles; out of scope is 404."""
    if not sees_dashboard(user):
        return StationProposal.objects.none()
    return StationProposal.objects.filter(street__in=streets_for(user))


def station_edit_communities_for(user) -> QuerySet[Community]:
    """Communities where the user may place, change and remove service stations (docs/domain.md: the street
    admin places stations in his street; the system admin anywhere; nobody else)."""
    if role_of(user) not in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN):
        return Community.objects.none()
    return communities_for(user)
