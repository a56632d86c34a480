"""Reference layers (water, roads, compounds, buildings) as GeoJSON for the box a map shows.

Why SQL: as for the other layers (queries/layers.py), PostGIS builds the FeatureCollection in one statement.
Why simplified and capped: a city has tens of thousands of buildings. A box wider than BUILDINGS_MAX_SPAN
degrees (about 2 km: the zoom where a building is a few pixels) leaves buildings out; every geometry is
clipped to the box (with a margin) and simplified to about a pixel of a 1,500-pixel-wide map; at most
MAX_FEATURES features, water and roads first, so the answer stays small whatever the data.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet

from gridmap.models import ReferenceKind
from gridmap.queries.grid_households import named_ids
from gridmap.queries.layers import Bbox

BUILDINGS_MAX_SPAN = 0.02
MAX_FEATURES = 4000
_ORDER = [ReferenceKind.WATER, ReferenceKind.ROAD, ReferenceKind.COMPOUND, ReferenceKind.BUILDING]

_SQL = """
WITH box AS (SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) AS b,
                    ST_Expand(ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326), %(margin)s) AS wide),
picked AS (
    SELECT r.id, r.kind, r.name,
           ST_SimplifyPreserveTopology(ST_Intersection(r.geometry, box.wide), %(tolerance)s) AS g
      FROM gridmap_referencefeature r, box
     WHERE r.id IN ({ids}) AND ST_Intersects(r.geometry, box.b) AND r.kind = ANY(%(kinds)s)
     ORDER BY array_position(%(order)s, r.kind::text), r.id
     LIMIT %(cap)s)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'truncated', (SELECT count(*) FROM picked) >= %(cap)s,
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(g, 6)::json,
        'properties', json_build_object('kind', kind, 'name', name))), '[]'::json))::text
  FROM picked WHERE NOT ST_IsEmpty(g)
"""


def reference_layer(features: QuerySet, bbox: Bbox) -> str:
    """The reference features of ``features`` (a policy queryset) inside ``bbox``, as GeoJSON text."""
    x0, y0, x1, y1 = bbox
    span = max(x1 - x0, y1 - y0)
    kinds = [k.value for k in _ORDER if k != ReferenceKind.BUILDING or span <= BUILDINGS_MAX_SPAN]
    ids, params = named_ids(features, "r")
    with connection.cursor() as cursor:
        cursor.execute(
            _SQL.format(ids=ids),
            {
                **params,
                "x0": x0,
                "y0": y0,
                "x1": x1,
                "y1": y1,
                "margin": span * 0.05,
                "tolerance": span / 1500,
                "kinds": kinds,
                "order": [k.value for k in _ORDER],
                "cap": MAX_FEATURES,
            },
        )
        return cursor.fetchone()[0]


def layers_version(features: QuerySet) -> str:
    """A tag that changes whenever ``features`` change: an import adds rows with new ids (and removes the layer it
    replaces, which changes the count). Its ETag lets a browser keep the box it read yet see an import at once."""
    found = features.aggregate(last=Max("id"), count=Count("id"))
    return f'"ref-{found["last"] or 0}-{found["count"]}"'


def layer_summary(features: QuerySet, streets: QuerySet) -> list[dict]:
    """Each reference layer of ``features`` (a policy queryset) for ``streets`` and the whole city: kind, street
    (None: the city), its feature count and when it was last imported. One grouped statement;
    the city's layers first, then by street code and the drawing order of the kinds."""
    rows = (
        features.filter(Q(street__in=streets) | Q(street__isnull=True))
        .values("kind", "street_id", "street__name", "street__code")
        .annotate(features=Count("id"), imported_at=Max("imported_at"))
        .order_by()
    )
    order = {k.value: i for i, k in enumerate(_ORDER)}
    return sorted(
        (
            {
                "kind": r["kind"],
                "kind_label": ReferenceKind(r["kind"]).label,
                "street": r["street_id"],
                "street_name": r["street__name"],
                "street_code": r["street__code"] or "",
                "features": r["features"],
                "imported_at": r["imported_at"],
            }
            for r in rows
        ),
        key=lambda r: (r["street"] is not None, r["street_code"], order.get(r["kind"], 9)),
    )
