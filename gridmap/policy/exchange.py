"""Geodata in and out (issue #7): which layers a user exports and which rows of them, and which streets,
communities and import jobs his imports reach."""

from __future__ import annotations

from django.db.models import QuerySet

from gridmap.models import Community, Role, Street
from gridmap.policy.scopes import (
    communities_for,
    grids_for,
    households_for,
    members_for,
    role_of,
    stations_for,
    streets_for,
)

EXPORT_LAYERS = ("streets", "communities", "grids", "stations", "households", "links", "members")
RESIDENT_LAYERS = ("households", "links", "members")  # rows about people: never for planners


def may_import_streets(user) -> bool:
    """Street boundaries come from the county: only the system admin imports them."""
    return role_of(user) == Role.SYSTEM_ADMIN


def area_import_streets_for(user) -> QuerySet[Street]:
    """Streets in which the user may import communities and service stations: system and street admins."""
    if role_of(user) not in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN):
        return Street.objects.none()
    return streets_for(user)


def exportable_layers(user) -> tuple[str, ...]:
    """Layers the user may export; planners get no household-, link- or member-level file."""
    role = role_of(user)
    if role is None:
        return ()
    if role == Role.PLANNER:
        return tuple(layer for layer in EXPORT_LAYERS if layer not in RESIDENT_LAYERS)
    return EXPORT_LAYERS


def export_scope(user, layer: str) -> QuerySet:
    """The rows of ``layer`` the user may export (the same scopes as the map and the lists)."""
    return {
        "streets": streets_for,
        "communities": communities_for,
        "grids": grids_for,
        "stations": stations_for,
        "households": households_for,
        "links": households_for,
        "members": members_for,
    }[layer](user)


def household_import_communities_for(user) -> QuerySet[Community] | None:
    """Communities whose households the user may import (create and update by external id): street
    admins their street's, community staff their own; None for the system admin, who is not limited
    (households outside every community included). Grid staff and planners: none."""
    role = role_of(user)
    if role == Role.SYSTEM_ADMIN:
        return None
    if role in (Role.STREET_ADMIN, Role.COMMUNITY_STAFF):
        return communities_for(user)
    return Community.objects.none()


def import_jobs_for(user) -> QuerySet:
    """Household import jobs: each user sees their own, never another user's (error reports hold rows)."""
    from gridmap.models import ImportJob

    if role_of(user) is None:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(user=user)
