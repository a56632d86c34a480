"""The data of one grid's page (the grid leader's view and the staff panel) and one household's card.

Why SQL for the page: a grid has up to ~500 households; PostgreSQL builds the whole JSON document in one
statement (docs/performance.md: a per-row serializer is ~10x slower). The names are masked in SQL
and phone and ID number are never selected, so nothing unmasked leaves the database here.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import QuerySet

from gridmap import policy
from gridmap.models import CentralHousehold, CentralLink, HelpPair, Household, Visit
from gridmap.models.households import TAG_FIELDS

_MASKED_NAME = "gridmap_masked_name({t}.head_name)"
_TAGS = "array_remove(ARRAY[" + ", ".join(f"CASE WHEN h.{t} THEN '{t}' END" for t in TAG_FIELDS) + "], NULL)"

PAGE_SQL = f"""
WITH g AS (SELECT id, code, name, boundary, ST_PointOnSurface(boundary) AS centre
             FROM gridmap_grid WHERE id = %(grid)s AND id IN ({{grids}})),
     hh AS (SELECT h.* FROM gridmap_household h, g WHERE h.grid_id = g.id AND h.id IN ({{households}}))
SELECT CASE WHEN EXISTS (SELECT 1 FROM g) THEN json_build_object(
  'grid', (SELECT json_build_object('id', g.id, 'code', g.code, 'name', g.name,
                                    'geometry', ST_AsGeoJSON(g.boundary, 6)::json) FROM g),
  'households', (SELECT coalesce(json_agg(json_build_object(
        'id', h.id, 'lon', round(ST_X(h.location)::numeric, 6), 'lat', round(ST_Y(h.location)::numeric, 6),
        'address', h.address, 'head_name', {_MASKED_NAME.format(t="h")}, 'residents', h.residents,
        'resident_type', h.resident_type, 'tags', {_TAGS},
        'central', ch.id IS NOT NULL, 'linked_to', lc.household_id,
        'etag', '"' || (extract(epoch FROM h.updated_at) * 1000000)::bigint || '"',  -- api/etags.household
        'vulnerable', h.vulnerable)
        ORDER BY h.address, h.id), '[]'::json)
      FROM hh h
      LEFT JOIN gridmap_centralhousehold ch ON ch.household_id = h.id AND ch.active
      LEFT JOIN gridmap_centrallink l ON l.household_id = h.id
      LEFT JOIN gridmap_centralhousehold lc ON lc.id = l.central_id AND lc.active),
  'links', (SELECT coalesce(json_agg(json_build_array(c.id, h.id,
                   round(ST_Distance(c.location::geography, h.location::geography)::numeric, 1))), '[]'::json)
      FROM hh h
      JOIN gridmap_centrallink l ON l.household_id = h.id
      JOIN gridmap_centralhousehold ch ON ch.id = l.central_id AND ch.active
      JOIN hh c ON c.id = ch.household_id),
  'station', (SELECT json_build_object('id', s.id, 'name', s.name, 'radius_m', s.radius_m,
                     'lon', round(ST_X(s.location)::numeric, 6), 'lat', round(ST_Y(s.location)::numeric, 6),
                     'distance_m', round(s.d::numeric))
      FROM (SELECT s.*, ST_Distance(s.location::geography, g.centre::geography) AS d
              FROM g, LATERAL (SELECT * FROM gridmap_servicestation s
                                WHERE s.active AND s.id IN ({{stations}})
                                ORDER BY s.location <-> g.centre LIMIT 5) s
             ORDER BY d LIMIT 1) s)
)::text END
"""


def scope_select(queryset: QuerySet, columns: tuple[str, ...] = ("id",)) -> tuple[str, tuple]:
    """The queryset's id sub-select (or of ``columns``) with its positional parameters, to embed a policy
    scope in a statement. An empty scope (``.none()``, ``filter(pk__in=[])``) compiles too: Django's own
    false predicate (``WHERE 0 = 1``) under the same select list, so the columns keep their names and types
    and no caller catches EmptyResultSet."""
    query = queryset.order_by().values(*columns).query
    return query.get_compiler(DEFAULT_DB_ALIAS, elide_empty=False).as_sql()


def named_ids(queryset: QuerySet, prefix: str, columns: tuple[str, ...] = ("id",)) -> tuple[str, dict]:
    """``scope_select`` (a scope to select rows from, not only to match ids against) with its positional
    parameters renamed, so one statement can embed several scopes with named parameters."""
    sql, params = scope_select(queryset, columns)
    names = {f"{prefix}{i}": v for i, v in enumerate(params)}
    return sql % tuple(f"%({k})s" for k in names), names


def grid_page(user, grid_id: int) -> str | None:
    """JSON text of grid ``grid_id``'s page for ``user``, or None when the grid is out of scope.

    The nearest station: the five nearest by planar index distance, then the nearest of those by
    geodesic distance from a point inside the grid (nearest in degrees and on the spheroid can differ).
    """
    grids, p1 = named_ids(policy.grids_for(user), "g")
    households, p2 = named_ids(policy.households_for(user), "h")
    stations, p3 = named_ids(policy.stations_for(user), "s")
    sql = PAGE_SQL.format(grids=grids, households=households, stations=stations)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"grid": grid_id, **p1, **p2, **p3})
        text = cursor.fetchone()[0]
    return text  # NULL (None) when the grid is out of scope


_NEAREST_STATION = """
SELECT s.id, s.name, s.radius_m, round(ST_Distance(s.location::geography, h.location::geography)::numeric)
  FROM gridmap_household h,
       LATERAL (SELECT * FROM gridmap_servicestation s WHERE s.active AND s.id IN ({stations})
                 ORDER BY s.location <-> h.location LIMIT 5) s
 WHERE h.id = %(household)s
 ORDER BY ST_Distance(s.location::geography, h.location::geography) LIMIT 1
"""


def household_card(user, household: Household) -> dict:
    """One household for its card: phone and ID number masked; tags, links, help pairs, recent visits."""
    grid = household.grid
    central = CentralHousehold.objects.filter(household=household, active=True).first()
    link = (
        CentralLink.objects.filter(household=household, central__active=True)
        .select_related("central__household")
        .first()
    )
    stations_sql, stations_params = named_ids(policy.stations_for(user), "s")
    with connection.cursor() as cursor:
        cursor.execute(_NEAREST_STATION.format(stations=stations_sql), {**stations_params, "household": household.pk})
        station = cursor.fetchone()
    pairs = HelpPair.objects.filter(household=household, end_date__isnull=True).select_related("member")
    visits = Visit.objects.filter(household=household)[:20]
    return {
        "id": household.pk,
        "address": household.address,
        "head_name": household.head_name,
        "phone": household.phone_masked,
        "id_number": household.id_number_masked,
        "residents": household.residents,
        "resident_type": household.resident_type,
        "tags": {t: getattr(household, t) for t in TAG_FIELDS},
        "lon": round(household.location.x, 6),
        "lat": round(household.location.y, 6),
        "grid": {"id": grid.pk, "code": grid.code, "name": grid.name} if grid else None,
        "central": central is not None,
        "linked_to": (
            {"household_id": link.central.household_id, "address": link.central.household.address} if link else None
        ),
        "station": (
            {
                "id": station[0],
                "name": station[1],
                "radius_m": station[2],
                "distance_m": float(station[3]),
                "within_radius": float(station[3]) <= station[2],
            }
            if station
            else None
        ),
        "help_pairs": [
            {
                "id": p.pk,
                "member": p.member.name if p.member else None,
                "unit": p.unit,
                "start_date": p.start_date.isoformat(),
            }
            for p in pairs
        ],
        "visits": [
            {"id": v.pk, "visited_on": v.visited_on.isoformat(), "visitor": v.visitor, "note": v.note} for v in visits
        ],
    }
