"""Residents' concerns (民情诉求): whose concerns a user handles and counts, the contact phones left with them,
the webhook deliveries, street deadlines, the concern levels, and the public intake (QR code) pages."""

from __future__ import annotations

from django.db.models import QuerySet

from gridmap.models import Community, Concern, ConcernContact, ConcernDelivery, ReferenceFeature, Role, Street
from gridmap.policy.people import may_reveal
from gridmap.policy.planning import sees_dashboard
from gridmap.policy.scopes import (
    FIELD_ROLES,
    MANAGER_ROLES,
    RESIDENT_ROLES,
    assigned_grid_ids,
    communities_for,
    profile_of,
    role_of,
    streets_for,
)


def concerns_for(user) -> QuerySet[Concern]:
    """Residents' concerns: field staff those of their grids, managers those of their communities; planners none
    (aggregates only)."""
    profile = profile_of(user)
    if profile is None or profile.role not in RESIDENT_ROLES:
        return Concern.objects.none()
    if profile.role in FIELD_ROLES:
        return Concern.objects.filter(grid__in=assigned_grid_ids(profile))
    return Concern.objects.filter(community__in=communities_for(user))


def concern_contacts_for(user) -> QuerySet[ConcernContact]:
    """The phone a resident left with a public concern (masked; in full only by the audited reveal): may_reveal."""
    found = ConcernContact.objects.filter(concern__in=concerns_for(user))
    return found if may_reveal(user) else found.none()


def concern_aggregates_for(user) -> QuerySet[Concern]:
    """The concerns a user's figures count: his own concerns, or for dashboard roles (planners too, who get
    counts only) those of his communities."""
    if sees_dashboard(user):
        return Concern.objects.filter(community__in=communities_for(user))
    return concerns_for(user)


def sees_concern_deliveries(user) -> bool:
    """The concern webhook's deliveries (/concerns/webhook/ and its retry): the system admin and street admins."""
    return role_of(user) in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN)


def concern_deliveries_for(user) -> QuerySet[ConcernDelivery]:
    """The webhook deliveries a user sees and may retry: all for the system admin, his street's concerns' for a
    street admin, none for anyone else (a delivery out of scope is 404)."""
    if not sees_concern_deliveries(user):
        return ConcernDelivery.objects.none()
    if role_of(user) == Role.SYSTEM_ADMIN:
        return ConcernDelivery.objects.all()
    return ConcernDelivery.objects.filter(concern__community__street__in=streets_for(user))


def deadline_street_of(user) -> Street | None:
    """The street whose concern deadlines ``user`` sets: a street admin's own; nobody else sets them."""
    profile = profile_of(user)
    if profile is None or profile.role != Role.STREET_ADMIN:
        return None
    return profile.street


def concern_level(user) -> str | None:
    """ "field" or "manager" for the concern transitions (services/concerns/states.py), None for others."""
    role = role_of(user)
    return "field" if role in FIELD_ROLES else "manager" if role in MANAGER_ROLES else None


def concerns_page_level(user) -> str | None:
    """What /concerns/ shows: the board for "field" and "manager", the figures and the concern map only for a
    "planner" (aggregates, small counts withheld), nothing for others."""
    return concern_level(user) or ("planner" if role_of(user) == Role.PLANNER else None)


def intake_communities_for(user) -> QuerySet[Community]:
    """The communities whose public intake (QR code) ``user`` switches on and off: a street admin's street's, all
    for the system admin; nobody else."""
    if role_of(user) not in (Role.SYSTEM_ADMIN, Role.STREET_ADMIN):
        return Community.objects.none()
    return Community.objects.filter(street__in=streets_for(user))


def public_reference_features() -> QuerySet[ReferenceFeature]:
    """The reference layers a public intake page (no account) draws for orientation: roads, water, compounds and
    buildings are not resident data (reference_features_for), so all of them, inside the community's box."""
    return ReferenceFeature.objects.all()
