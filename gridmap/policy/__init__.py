"""Who may see and change what. Every queryset of every view, layer, export and admin comes from here.

Deny by default: a user without a profile, or with a role this module does not know, sees nothing.
Out-of-scope objects are simply absent from the querysets, so detail views answer 404.

One policy, in parts by domain; callers use ``policy.<name>`` or ``from gridmap.policy import <name>`` and never
a part directly:

- ``scopes``: roles and the scopes (streets, communities, grids, households, stations, reference features, members)
- ``people``: staffing, central households, reveals and help pairs, visits, accounts, the audit trail, masking
- ``planning``: the planner dashboard, small counts, station proposals and station placement
- ``exchange``: geodata in and out (export layers and scopes, import scopes, import jobs)
- ``concerns``: residents' concerns, their contacts, deliveries, deadlines, levels and the public intake
- ``navigation``: the start page and the menu
"""

from gridmap.policy.concerns import (
    concern_aggregates_for,
    concern_contacts_for,
    concern_deliveries_for,
    concern_level,
    concerns_for,
    concerns_page_level,
    deadline_street_of,
    intake_communities_for,
    public_reference_features,
    sees_concern_deliveries,
)
from gridmap.policy.exchange import (
    EXPORT_LAYERS,
    RESIDENT_LAYERS,
    area_import_streets_for,
    export_scope,
    exportable_layers,
    household_import_communities_for,
    import_jobs_for,
    may_import_streets,
)
from gridmap.policy.navigation import (
    navigation,
    sees_work_list,
    start_page,
)
from gridmap.policy.people import (
    accounts_for,
    assignable_roles,
    assignments_for,
    audit_events_for,
    central_households_editable_for,
    central_households_for,
    central_links_for,
    grid_versions_for,
    help_pairs_for,
    household_move_grids_for,
    mask_name,
    may_pair_help,
    may_reveal,
    member_communities_for,
    profiles_for,
    staff_grids_for,
    visits_for,
)
from gridmap.policy.planning import (
    DASHBOARD_ROLES,
    proposals_for,
    sees_dashboard,
    small_counts_suppressed,
    station_edit_communities_for,
)
from gridmap.policy.scopes import (
    FIELD_ROLES,
    MANAGER_ROLES,
    RESIDENT_ROLES,
    communities_for,
    grid_edit_communities_for,
    grid_publish_communities_for,
    grids_for,
    households_for,
    members_for,
    profile_of,
    reference_features_for,
    reference_streets_for,
    role_of,
    sees_residents,
    stations_for,
    streets_for,
)

__all__ = [
    "FIELD_ROLES",
    "RESIDENT_ROLES",
    "profile_of",
    "role_of",
    "sees_residents",
    "streets_for",
    "communities_for",
    "grids_for",
    "grid_edit_communities_for",
    "grid_publish_communities_for",
    "households_for",
    "stations_for",
    "reference_features_for",
    "reference_streets_for",
    "members_for",
    "MANAGER_ROLES",
    "assignable_roles",
    "staff_grids_for",
    "assignments_for",
    "member_communities_for",
    "central_households_editable_for",
    "household_move_grids_for",
    "may_reveal",
    "may_pair_help",
    "visits_for",
    "help_pairs_for",
    "grid_versions_for",
    "central_households_for",
    "central_links_for",
    "profiles_for",
    "accounts_for",
    "audit_events_for",
    "mask_name",
    "DASHBOARD_ROLES",
    "sees_dashboard",
    "small_counts_suppressed",
    "EXPORT_LAYERS",
    "RESIDENT_LAYERS",
    "may_import_streets",
    "area_import_streets_for",
    "exportable_layers",
    "export_scope",
    "household_import_communities_for",
    "import_jobs_for",
    "proposals_for",
    "station_edit_communities_for",
    "concerns_for",
    "concern_contacts_for",
    "concern_aggregates_for",
    "sees_concern_deliveries",
    "concern_deliveries_for",
    "deadline_street_of",
    "concern_level",
    "concerns_page_level",
    "sees_work_list",
    "start_page",
    "navigation",
    "intake_communities_for",
    "public_reference_features",
]
