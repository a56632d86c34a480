"""Who may see and change what. Every queryset of every view, layer, export and admin comes from here.

Deny by default: a user without a profile, or with a role this module does not know, sees nothing.
Out-of-scope objects are simply absent from the querysets, so detail views answer 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridmap.models import (
    AssignmentRole,
    AuditEvent,
    CentralHousehold,
    CentralLink,
    Community,
    Concern,
    ConcernContact,
    ConcernDelivery,
    Grid,
    GridAssignment,
    GridVersion,
    HelpPair,
    Household,
    Member,
    Profile,
    ReferenceFeature,
    Role,
    ServiceStation,
    StationProposal,
    Street,
    Visit,
)

FIELD_ROLES = (Role.GRID_LEADER, Role.GRID_WORKER)
RESIDENT_ROLES = (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_WORKER)


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


def _assigned_grid_ids(profile: Profile) -> QuerySet:
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
        return Street.objects.filter(communities__grids__in=_assigned_grid_ids(profile)).distinct()
    return Street.objects.none()


def communities_for(user) -> QuerySet[Community]:
    profile = profile_of(user)
    if profile is None:
        return Community.objects.none()
    if profile.role == Role.COMMUNITY_STAFF:
        return Community.objects.filter(pk=profile.community_id)
    if profile.role in FIELD_ROLES:
        return Community.objects.filter(grids__in=_assigned_grid_ids(profile)).distinct()
    return Community.objects.filter(street__in=streets_for(user))


def grids_for(user) -> QuerySet[Grid]:
    profile = profile_of(user)
    if profile is None:
        return Grid.objects.none()
    if profile.role in FIELD_ROLES:
        return Grid.objects.filter(pk__in=_assigned_grid_ids(profile))
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
        return Household.objects.filter(grid__in=_assigned_grid_ids(profile))
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


# -- People, central households, the grid leader's own work (issue #5) ---------------------------------

MANAGER_ROLES = (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF)

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


# -- Planner dashboard (issue #6) ------------------------------------------------------------------------

DASHBOARD_ROLES = (Role.SYSTEM_ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.PLANNER)


def sees_dashboard(user) -> bool:
    """Coverage dashboard and heat layer (aggregates of ``grids_for``): not for grid leaders and workers."""
    return role_of(user) in DASHBOARD_ROLES


def small_counts_suppressed(user) -> bool:
    """Planners see sensitive counts below SMALL_COUNT_MIN as "<5" and no heat cell of fewer households."""
    return role_of(user) == Role.PLANNER


# -- Geodata in and out (issue #7) ------------------------------------------------------------------------

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


# -- Navigation ---------------------------------------------------------------------------------------------


def concerns_for(user) -> QuerySet[Concern]:
    """Residents' concerns: field staff those of their grids, managers those of their communities; planners none
    (aggregates only)."""
    profile = profile_of(user)
    if profile is None or profile.role not in RESIDENT_ROLES:
        return Concern.objects.none()
    if profile.role in FIELD_ROLES:
        return Concern.objects.filter(grid__in=_assigned_grid_ids(profile))
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


def sees_work_list(user) -> bool:
    """The work list (views/worklist.py): the managers of grids, who fix what it lists."""
    return role_of(user) in MANAGER_ROLES


def start_page(user) -> str:
    """The URL name each role starts at after signing in (and at /): its job, not one map for all."""
    role = role_of(user)
    if role in FIELD_ROLES:
        return "my-grid"
    if role == Role.PLANNER:
        return "planner-dashboard"
    if sees_work_list(user):
        return "work-list"
    return "street-map"


def navigation(user) -> list[tuple[str, str]]:
    """The menu: (URL name, label) of every page this user may open, by the same rules as the pages' own
    checks. base.html renders it (gridmap/views/navigation.py); no role list lives in a template."""
    role = role_of(user)
    if role is None:
        return []
    field = role in FIELD_ROLES
    items = [
        ("work-list", _("待办"), sees_work_list(user)),
        ("street-map", _("一张图"), not field),
        ("grid-editor", _("网格编辑"), grid_edit_communities_for(user).exists()),
        ("staffing-map", pgettext_lazy("menu", "人员与中心户"), bool(assignable_roles(user))),
        ("members-page", _("人员库"), member_communities_for(user).exists()),
        ("concerns-page", pgettext_lazy("menu", "民情诉求"), concerns_page_level(user) is not None),
        ("planner-dashboard", pgettext_lazy("menu", "规划看板"), sees_dashboard(user)),
        ("my-grid", _("我的网格"), field),
        ("data-exchange", pgettext_lazy("menu", "数据导入导出"), bool(exportable_layers(user))),
    ]
    return [(name, label) for name, label, shown in items if shown]


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
