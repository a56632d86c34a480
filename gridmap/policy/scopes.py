"""Roles and scopes: who a user is (profile, role) and which streets, communities, grids, households, stations,
reference features and members he sees. Every other part of the policy narrows these scopes."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gridmap.models import (
    Community,
    Grid,
    GridAssignment,
    Household,
    Member,
    Profile,
    ReferenceFeature,
    Role,
    ServiceStation,
    Street,
)

FIELD_ROLES = (Role.GRID_LEADER, Role.GRID_WORKER)
RESIDENT_ROLES = (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_WORKER)
MANAGER_ROLES = (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF)


def profile_of(user) -> Profile | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def role_of(user) -> str | None:
    profile = profile_of(user)
    return profile.role if profile else None


def sees_residents(user) -> bool:
    """Planners get aggregates only; everyone else with a role sees households of their scope."""
    return role_of(user) in RESIDENT_ROLES


def assigned_grid_ids(profile: Profile) -> QuerySet:
    """The grids a field member is assigned to now (a sub-select of grid ids)."""
    return GridAssignment.objects.active().filter(member__user=profile.user_id).values("grid_id")


def streets_for(user) -> QuerySet[Street]:
    profile = profile_of(user)
    if profile is None:
        return Street.objects.none()
    if profile.role == Role.SYSTEM_ADMIN:
        return Street.objects.all()
    if profile.role == Role.STREET_ADMIN:
        return Street.objects.filter(pk=profile.street_id)
    if profile.role == Role.PLANNER:
        return Street.objects.filter(Q(planners=profile) | Q(pk=profile.street_id)).distinct()
    if profile.role == Role.COMMUNITY_STAFF:
        return Street.objects.filter(communities=profile.community_id)
    if profile.role in FIELD_ROLES:
        return Street.objects.filter(communities__grids__in=assigned_grid_ids(profile)).distinct()
    return Street.objects.none()


def communities_for(user) -> QuerySet[Community]:
    profile = profile_of(user)
    if profile is None:
        return Community.objects.none()
    if profile.role == Role.COMMUNITY_STAFF:
        return Community.objects.filter(pk=profile.community_id)
    if profile.role in FIELD_ROLES:
        return Community.objects.filter(grids__in=assigned_grid_ids(profile)).distinct()
    return Community.objects.filter(street__in=streets_for(user))


def grids_for(user) -> QuerySet[Grid]:
    profile = profile_of(user)
    if profile is None:
        return Grid.objects.none()
    if profile.role in FIELD_ROLES:
        return Grid.objects.filter(pk__in=assigned_grid_ids(profile))
    return Grid.objects.filter(community__in=communities_for(user))


def grid_edit_communities_for(user) -> QuerySet[Community]:
    """Communities whose grids the user may draw, reshape, split, merge and retire (as drafts)."""
    if role_of(user) not in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF):
        return Community.objects.none()
    return communities_for(user)


def grid_publish_communities_for(user) -> QuerySet[Community]:
    """Communities whose draft grids the user may publish: street admins only, never community staff."""
    if role_of(user) not in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN):
        return Community.objects.none()
    return communities_for(user)


def households_for(user) -> QuerySet[Household]:
    """Resident-level rows: never for planners. Field staff see only their own grids' households."""
    profile = profile_of(user)
    if profile is None or profile.role not in RESIDENT_ROLES:
        return Household.objects.none()
    if profile.role == Role.SYSTEM_ADMIN:
        return Household.objects.all()
    if profile.role in FIELD_ROLES:
        return Household.objects.filter(grid__in=assigned_grid_ids(profile))
    return Household.objects.filter(community__in=communities_for(user))


def stations_for(user) -> QuerySet[ServiceStation]:
    profile = profile_of(user)
    if profile is None:
        return ServiceStation.objects.none()
    if profile.role == Role.SYSTEM_ADMIN:
        return ServiceStation.objects.all()
    # Stations are public facilities: everyone sees those of the streets they work in.
    return ServiceStation.objects.filter(community__street__in=streets_for(user))


def reference_features_for(user) -> QuerySet[ReferenceFeature]:
    """Roads, water, compounds and buildings: not resident data, every signed-in role sees all of them."""
    if profile_of(user) is None:
        return ReferenceFeature.objects.none()
    return ReferenceFeature.objects.all()


def reference_streets_for(user) -> QuerySet[Street]:
    """Streets whose reference layers ``user`` may replace by an import: the system admin's (all, and the
    city-wide layers), a street admin's own."""
    if role_of(user) in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN):
        return streets_for(user)
    return Street.objects.none()


def members_for(user) -> QuerySet[Member]:
    profile = profile_of(user)
    if profile is None or profile.role == Role.PLANNER:
        return Member.objects.none()
    if profile.role == Role.SYSTEM_ADMIN:
        return Member.objects.all()
    return Member.objects.filter(
        Q(community__in=communities_for(user)) | Q(assignments__grid__in=grids_for(user))
    ).distinct()
