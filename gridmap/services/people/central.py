"""Party-member central households (党员中心户) and their linked households (联系户).

Rules (docs/domain.md): a central household is a party-member household; it links about
CENTRAL_LINKS_TARGET households (band CENTRAL_LINKS_MIN–MAX), normally of the same grid; a household is
linked to at most one central household. Overload, underload, another grid and links longer than
LINK_DISTANCE_MAX_M are warnings, never refusals.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from gridmap import policy
from gridmap.models import CentralHousehold, CentralLink, Household
from gridmap.queries.grid_households import named_ids
from gridmap.services.refused import Refused, not_found

# Why SQL: one statement ranks every unlinked household of the central household's grid by geodesic
# distance (spheroid, geography cast) and keeps the nearest up to the free capacity. A grid holds a few
# hundred households, so computing every distance is cheaper than a KNN index walk on geometry, which
# would order by planar degrees. ``scope`` keeps the suggestion inside what the user may see.
_SUGGEST = """
SELECT h.id, round(ST_Distance(h.location::geography, c.location::geography)::numeric, 1)::float AS distance_m
  FROM gridmap_household c
  JOIN gridmap_household h ON h.grid_id = c.grid_id AND h.id <> c.id
 WHERE c.id = %(central)s
   AND h.id IN ({scope})
   AND NOT EXISTS (SELECT 1 FROM gridmap_centrallink l WHERE l.household_id = h.id)
   AND NOT EXISTS (SELECT 1 FROM gridmap_centralhousehold ch WHERE ch.household_id = h.id AND ch.active)
 ORDER BY ST_Distance(h.location::geography, c.location::geography), h.id
 LIMIT greatest(%(target)s - (SELECT count(*) FROM gridmap_centrallink l
                                JOIN gridmap_centralhousehold ch ON ch.id = l.central_id
                               WHERE ch.household_id = %(central)s), 0)
"""

# Load and long links of one central household, for the warnings.
_STATUS = """
SELECT count(*),
       coalesce(json_agg(json_build_object('household_id', h.id, 'distance_m', d.m) ORDER BY d.m DESC)
                FILTER (WHERE d.m > %s), '[]'::json)::text,
       count(*) FILTER (WHERE h.grid_id IS DISTINCT FROM c.grid_id)
  FROM gridmap_centralhousehold ch
  JOIN gridmap_household c ON c.id = ch.household_id
  JOIN gridmap_centrallink l ON l.central_id = ch.id
  JOIN gridmap_household h ON h.id = l.household_id
 CROSS JOIN LATERAL (SELECT round(ST_Distance(h.location::geography, c.location::geography)::numeric, 1)::float
                     AS m) d
 WHERE ch.household_id = %s
"""


def _editable(user, household_id: int) -> Household:
    household = policy.central_households_editable_for(user).filter(pk=household_id).first()
    if household is None:
        if policy.households_for(user).filter(pk=household_id).exists():
            raise Refused(403, "forbidden", detail=_("无权设立党员中心户"))
        raise not_found("household")
    return household


def central_of(user, household_id: int) -> CentralHousehold:
    household = _editable(user, household_id)
    central = CentralHousehold.objects.filter(household=household, active=True).first()
    if central is None:
        raise Refused(409, "not_central", field="household", detail=_("该户不是党员中心户"))
    return central


def central_status(household_id: int) -> dict:
    """Links, warnings (overloaded, underloaded, long links, other grid) of one central household."""
    with connection.cursor() as cursor:
        cursor.execute(_STATUS, [settings.LINK_DISTANCE_MAX_M, household_id])
        count, long_links, other_grid = cursor.fetchone()
    warnings = []
    if count > settings.CENTRAL_LINKS_MAX:
        warnings.append(
            {
                "code": "overloaded",
                "detail": _("联系户 %(n)s 户，超过 %(max)s 户") % {"n": count, "max": settings.CENTRAL_LINKS_MAX},
            }
        )
    if count < settings.CENTRAL_LINKS_MIN:
        warnings.append(
            {
                "code": "underloaded",
                "detail": _("联系户 %(n)s 户，少于 %(min)s 户") % {"n": count, "min": settings.CENTRAL_LINKS_MIN},
            }
        )
    long_links = json.loads(long_links)
    if long_links:
        warnings.append(
            {
                "code": "long_links",
                "household_ids": [x["household_id"] for x in long_links],
                "detail": _("%(n)s 条联系线超过 %(m)s 米") % {"n": len(long_links), "m": settings.LINK_DISTANCE_MAX_M},
            }
        )
    if other_grid:
        warnings.append({"code": "other_grid", "detail": _("%(n)s 户不在同一网格") % {"n": other_grid}})
    return {
        "household_id": household_id,
        "links": count,
        "band": [settings.CENTRAL_LINKS_MIN, settings.CENTRAL_LINKS_MAX],
        "warnings": warnings,
    }


@transaction.atomic
def designate_central_household(user, household_id: int) -> dict:
    """Make a party-member household central. 409 when it is not a party-member household or is
    itself linked to another central household (unlink it first)."""
    household = _editable(user, household_id)
    if not household.is_party_member:
        raise Refused(409, "not_party_member", field="household", detail=_("只有党员户可以设为党员中心户"))
    if CentralLink.objects.filter(household=household).exists():
        raise Refused(409, "already_linked", field="household", detail=_("该户已是其他中心户的联系户，请先解除"))
    CentralHousehold.objects.update_or_create(household=household, defaults={"active": True})
    return central_status(household.pk)


@transaction.atomic
def retire_central_household(user, household_id: int) -> dict:
    """No longer central: its links are removed (set-based) so the households can be linked again."""
    central = central_of(user, household_id)
    removed, _ = CentralLink.objects.filter(central=central).delete()
    central.active = False
    central.save(update_fields=["active"])
    return {"household_id": household_id, "removed_links": removed}


def suggest_links(user, household_id: int) -> list[dict]:
    """The nearest unlinked households of the same grid, up to the free capacity (CENTRAL_LINKS_TARGET)."""
    central_of(user, household_id)
    scope_sql, scope_params = named_ids(policy.households_for(user), "h")
    with connection.cursor() as cursor:
        cursor.execute(
            _SUGGEST.format(scope=scope_sql),
            {"central": household_id, "target": settings.CENTRAL_LINKS_TARGET, **scope_params},
        )
        return [{"household_id": hid, "distance_m": d} for hid, d in cursor.fetchall()]


def _ids(value, field: str) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > 100
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in value)
    ):
        raise Refused(400, "bad_value", field=field, detail=_("应为 1–100 个住户编号的列表"))
    return sorted(set(value))


@transaction.atomic
def link_households(user, household_id: int, household_ids) -> dict:
    """Link households to a central household (one INSERT). 404 lists ids out of scope; 409 lists ids that
    are central or already linked. Returns the status with its warnings."""
    central = central_of(user, household_id)
    ids = _ids(household_ids, "household_ids")
    found = set(policy.central_households_editable_for(user).filter(pk__in=ids).values_list("pk", flat=True))
    if missing := [i for i in ids if i not in found]:
        raise Refused(404, "not_found", field="household_ids", ids=missing)
    taken = set(CentralLink.objects.filter(household_id__in=ids).values_list("household_id", flat=True))
    taken |= set(
        CentralHousehold.objects.filter(household_id__in=ids, active=True).values_list("household_id", flat=True)
    )
    if taken:
        raise Refused(
            409,
            "already_linked",
            field="household_ids",
            ids=sorted(taken),
            detail=_("这些住户已是中心户或已有联系的中心户"),
        )
    try:
        with transaction.atomic():
            CentralLink.objects.bulk_create([CentralLink(central=central, household_id=i) for i in ids])
    except IntegrityError:  # linked by someone else meanwhile
        raise Refused(409, "already_linked", field="household_ids") from None
    return central_status(household_id)


@transaction.atomic
def unlink_households(user, household_id: int, household_ids) -> dict:
    central = central_of(user, household_id)
    ids = _ids(household_ids, "household_ids")
    CentralLink.objects.filter(central=central, household_id__in=ids).delete()
    return central_status(household_id)
