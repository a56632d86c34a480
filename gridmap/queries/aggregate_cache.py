"""The planner's aggregates (coverage per grid and per area, heat cells) from a revision-checked cache.

Why: the planner's first view needs the coverage of every grid in scope, the area sums and the heat cells;
each is a pass over all households of the scope (tens of milliseconds at the demo size, seconds at a million
households). They change only when a row that feeds them changes, and the page-revision triggers (migrations
0006 and 0016) move a counter for every such change: per grid (its households, central households, links,
help pairs, the grid itself) and globally (stations, communities, streets, staffing, profiles). One indexed
statement reads the global counter and the newest counter and the number of the scope's grids; the key holds
all three, so a cached answer is served only while nothing it was computed from has changed (a grid joining
or leaving the scope changes the count or, having been bumped, the newest counter).

What is cached: aggregates only (counts per grid, area or cell) before small-count suppression, which each
request applies for its own role. Per worker (settings.CACHES["aggregates"]); the first request after a
change computes, the others read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.db import connection
from django.db.models import QuerySet

from gridmap.queries.grid_households import named_ids
from gridmap.queries.grid_page_cache import scope_variant

T = TypeVar("T")
TIMEOUT_SECONDS = 3600

_SCOPE_REVISION = """
SELECT (SELECT revision FROM gridmap_pagerevision WHERE grid_id = 0), max(r.revision), count(*)
  FROM gridmap_grid g LEFT JOIN gridmap_pagerevision r ON r.grid_id = g.id
 WHERE g.id IN ({grids})
"""


def scope_revision(grids: QuerySet) -> str:
    """The counters that change whenever anything an aggregate of ``grids`` is built from changes."""
    ids, params = named_ids(grids, "g")
    with connection.cursor() as cursor:
        cursor.execute(_SCOPE_REVISION.format(grids=ids), params)
        everything, newest, count = cursor.fetchone()
    return f"{everything}:{newest}:{count}"


def cached_aggregate(kind: str, user, grids: QuerySet, compute: Callable[[], T]) -> T:
    """``compute()`` for ``user``'s ``grids``, from the cache while nothing it depends on has changed.
    ``kind`` names the aggregate and its arguments (e.g. "areas:street")."""
    key = f"aggregate:{kind}:{scope_variant(user)}:{scope_revision(grids)}"
    store = caches["aggregates"]
    value = store.get(key)
    if value is None:
        value = compute()
        store.set(key, value, TIMEOUT_SECONDS)
    return value
